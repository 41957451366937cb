package xacct_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// throughCutoff puts a 12 MiB object between twoIdentities' 5 MiB
// multipart threshold and the stream upload cutoff.
const throughCutoff = 20 * miB

// throughCopier copies between twoIdentities with 5 MiB parts and
// threshold and a stream upload cutoff of throughCutoff, without the
// preflight, so the sandbox's request counts are the transfer's alone.
// The writer's HTTP client waits for 100 Continue, as the SDK's default
// client does, so an error answer arrives before the body is sent.
func (x *twoIdentities) throughCopier(t *testing.T, src xacct.SourceAPI, opts ...xacct.CopierOption) *xacct.Copier {
	t.Helper()
	if src == nil {
		src = x.sb.S3(x.reader)
	}
	cfg := x.sb.Config(x.writer)
	tr := cfg.HTTPClient.(*http.Client).Transport.(*http.Transport).Clone()
	tr.ExpectContinueTimeout = time.Second
	cfg.HTTPClient = &http.Client{Transport: tr}
	dst := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	base := []xacct.CopierOption{
		xacct.WithDestinationClient(dst), xacct.WithTransferMode(xacct.ModeStream), xacct.WithPreflight(false),
		xacct.WithPartSize(5 * miB), xacct.WithMultipartThreshold(5 * miB), xacct.WithStreamUploadCutoff(throughCutoff),
		xacct.WithSourceAccount(sandbox.AccountA), xacct.WithDestinationAccount(sandbox.AccountB),
	}
	c, err := xacct.NewCopier(src, append(base, opts...)...)
	require.NoError(t, err)
	return c
}

// requestDelta returns how many requests of each operation the sandbox
// received since before.
func requestDelta(before, after map[string]int) map[string]int {
	d := map[string]int{}
	for op, n := range after {
		if n != before[op] {
			d[op] = n - before[op]
		}
	}
	return d
}

func TestStreamThroughOnePutObject(t *testing.T) {
	x := newTwoIdentities(t)
	body := putRichObject(t, x.ownerA, x.src.Bucket, "rich.bin", 12*miB)
	before := x.sb.Requests()
	rep, err := x.throughCopier(t, nil, xacct.WithCopyProps(xacct.CopyPropsAll)).Sync(t.Context(), x.src, x.dst)
	require.NoError(t, err)
	require.Equal(t, xacct.ModeStream, rep.Mode)
	require.EqualValues(t, 1, rep.Copied)
	assert.Zero(t, rep.Warned)
	reqs := requestDelta(before, x.sb.Requests())
	assert.Equal(t, 1, reqs["PutObject"], "%v", reqs)
	assert.Zero(t, reqs["UploadPart"], "%v", reqs)
	assert.Zero(t, reqs["CreateMultipartUpload"], "%v", reqs)

	assert.True(t, bytes.Equal(body, getStored(t, x.ownerB, x.dst.Bucket, "copy/rich.bin").body), "bytes differ")
	src, dst := x.head(t, x.ownerA, x.src.Bucket, "rich.bin"), x.head(t, x.ownerB, x.dst.Bucket, "copy/rich.bin")
	assert.Equal(t, src.Metadata, dst.Metadata)
	assert.Equal(t, aws.ToString(src.ContentType), aws.ToString(dst.ContentType))
	assert.Equal(t, aws.ToString(src.ContentDisposition), aws.ToString(dst.ContentDisposition))
	assert.Equal(t, aws.ToString(src.CacheControl), aws.ToString(dst.CacheControl))
	assert.Equal(t, aws.ToString(src.WebsiteRedirectLocation), aws.ToString(dst.WebsiteRedirectLocation))
	assert.Equal(t, src.StorageClass, dst.StorageClass)
	assert.Equal(t, aws.ToString(src.ChecksumCRC32C), aws.ToString(dst.ChecksumCRC32C), "the source's checksum was sent and kept")
	assert.Equal(t, tagsOf(t, x.ownerA, x.src.Bucket, "rich.bin"), tagsOf(t, x.ownerB, x.dst.Bucket, "copy/rich.bin"))
}

// The streamed body cannot be rewound, so a retryable failure of the
// PutObject is retried once from a new GetObject.
func TestStreamThroughRetriesOnce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault sandbox.FaultSpec
	}{
		{"500", sandbox.FaultSpec{Op: "PutObject", Times: 1, Status: http.StatusInternalServerError}},
		{"SlowDown", sandbox.FaultSpec{Op: "PutObject", Times: 1, Status: http.StatusServiceUnavailable}},
		{"reset", sandbox.FaultSpec{Op: "PutObject", Times: 1, Kind: sandbox.FaultReset}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newTwoIdentities(t)
			body := seededBytes(12*miB, 11)
			_, err := x.ownerA.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(x.src.Bucket), Key: aws.String("o.bin"), Body: bytes.NewReader(body)})
			require.NoError(t, err)
			c := x.throughCopier(t, nil)
			before := x.sb.Requests()
			x.sb.InjectFault(tc.fault)
			rep, err := c.Sync(t.Context(), x.src, x.dst)
			require.NoError(t, err)
			assert.EqualValues(t, 1, rep.Copied)
			reqs := requestDelta(before, x.sb.Requests())
			assert.Equal(t, 2, reqs["PutObject"], "%v", reqs)
			assert.Equal(t, 2, reqs["GetObject"], "%v", reqs)
			assert.Zero(t, reqs["UploadPart"], "%v", reqs)
			assert.True(t, bytes.Equal(body, getStored(t, x.ownerB, x.dst.Bucket, "copy/o.bin").body), "bytes differ")
		})
	}
}

// A refusal is not retried, and a second failure is final.
func TestStreamThroughFailsWithoutPartialState(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault sandbox.FaultSpec
		puts  int
		code  string
	}{
		{"refused", sandbox.FaultSpec{Op: "PutObject", Times: 1, Status: http.StatusForbidden, Code: "AccessDenied"}, 1, "AccessDenied"},
		{"twice", sandbox.FaultSpec{Op: "PutObject", Times: 2, Status: http.StatusInternalServerError}, 2, "InternalError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newTwoIdentities(t)
			_, err := x.ownerA.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(x.src.Bucket), Key: aws.String("o.bin"), Body: bytes.NewReader(seededBytes(12*miB, 12))})
			require.NoError(t, err)
			c := x.throughCopier(t, nil, xacct.WithCopyProps(xacct.CopyPropsMetadataDirective))
			before := x.sb.Requests()
			x.sb.InjectFault(tc.fault)
			rep, err := c.Sync(t.Context(), x.src, x.dst)
			require.Error(t, err)
			assert.EqualValues(t, 1, rep.Failed)
			var apiErr smithy.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.code, apiErr.ErrorCode())
			reqs := requestDelta(before, x.sb.Requests())
			assert.Equal(t, tc.puts, reqs["PutObject"], "%v", reqs)
			_, err = x.ownerB.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(x.dst.Bucket), Key: aws.String("copy/o.bin")})
			require.Error(t, err, "nothing written")
			assert.Empty(t, listUploads(t, x.ownerB, x.dst.Bucket))
		})
	}
}

// changingSource rewrites the object, same size, other bytes, just
// before the copier's first GetObject: after the listing, before the copy.
type changingSource struct {
	*s3.Client
	owner *s3.Client
	once  sync.Once
	err   error
}

func (c *changingSource) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	c.once.Do(func() {
		_, c.err = c.owner.PutObject(ctx, &s3.PutObjectInput{Bucket: in.Bucket, Key: in.Key, Body: bytes.NewReader(seededBytes(12*miB, 14))})
	})
	if c.err != nil {
		return nil, c.err
	}
	return c.Client.GetObject(ctx, in, o...)
}

func TestStreamThroughSourceChangedAfterListing(t *testing.T) {
	x := newTwoIdentities(t)
	_, err := x.ownerA.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(x.src.Bucket), Key: aws.String("o.bin"), Body: bytes.NewReader(seededBytes(12*miB, 13))})
	require.NoError(t, err)
	src := &changingSource{Client: x.sb.S3(x.reader), owner: x.ownerA}
	c := x.throughCopier(t, src, xacct.WithCopyProps(xacct.CopyPropsMetadataDirective))
	before := x.sb.Requests()
	rep, err := c.Sync(t.Context(), x.src, x.dst)
	require.Error(t, err)
	assert.EqualValues(t, 1, rep.Failed)
	assert.Zero(t, rep.Copied)
	var respErr *smithyhttp.ResponseError
	require.ErrorAs(t, err, &respErr)
	assert.Equal(t, http.StatusPreconditionFailed, respErr.HTTPStatusCode())
	reqs := requestDelta(before, x.sb.Requests())
	assert.Equal(t, 1, reqs["GetObject"], "not retried: %v", reqs)
	assert.Equal(t, 1, reqs["PutObject"], "only the owner's rewrite: %v", reqs)
	_, err = x.ownerB.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(x.dst.Bucket), Key: aws.String("copy/o.bin")})
	require.Error(t, err, "nothing written")
}

// Objects from the cutoff on still take a multipart upload.
func TestStreamAtCutoffUsesMultipart(t *testing.T) {
	x := newTwoIdentities(t)
	body := seededBytes(10*miB, 15)
	_, err := x.ownerA.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(x.src.Bucket), Key: aws.String("o.bin"), Body: bytes.NewReader(body)})
	require.NoError(t, err)
	before := x.sb.Requests()
	rep, err := x.throughCopier(t, nil, xacct.WithStreamUploadCutoff(10*miB)).Sync(t.Context(), x.src, x.dst)
	require.NoError(t, err)
	assert.EqualValues(t, 1, rep.Copied)
	reqs := requestDelta(before, x.sb.Requests())
	assert.Equal(t, 2, reqs["UploadPart"], "%v", reqs)
	assert.Zero(t, reqs["PutObject"], "%v", reqs)
	assert.True(t, bytes.Equal(body, getStored(t, x.ownerB, x.dst.Bucket, "copy/o.bin").body), "bytes differ")
}

func TestStreamUploadCutoffValidation(t *testing.T) {
	client := s3.New(s3.Options{Region: "us-east-1"})
	for _, tc := range []struct {
		name string
		opts []xacct.CopierOption
		ok   bool
	}{
		{"default", nil, true},
		{"at the threshold", []xacct.CopierOption{xacct.WithMultipartThreshold(5 * miB), xacct.WithStreamUploadCutoff(5 * miB)}, true},
		{"at the largest PutObject", []xacct.CopierOption{xacct.WithStreamUploadCutoff(xacct.MaxPutObjectSize)}, true},
		{"unset below a large threshold", []xacct.CopierOption{xacct.WithMultipartThreshold(1 << 30)}, true},
		{"below the threshold", []xacct.CopierOption{xacct.WithStreamUploadCutoff(xacct.DefaultMultipartThreshold - 1)}, false},
		{"above the largest PutObject", []xacct.CopierOption{xacct.WithStreamUploadCutoff(xacct.MaxPutObjectSize + 1)}, false},
		{"zero", []xacct.CopierOption{xacct.WithStreamUploadCutoff(0)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := xacct.NewCopier(client, tc.opts...)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			var verr *xacct.ValidationError
			require.ErrorAs(t, err, &verr)
			assert.Equal(t, "stream upload cutoff", verr.Field)
			assert.True(t, errors.Is(err, xacct.ErrInvalidOption))
		})
	}
}
