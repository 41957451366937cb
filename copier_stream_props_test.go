package xacct_test

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// streamPaths are the three streamed paths between two identities: 1 KiB
// takes one buffered PutObject; 6 MiB, above the 5 MiB threshold of
// twoIdentities.copier, one unbuffered PutObject below a 20 MiB stream
// upload cutoff, and a multipart upload with the cutoff at the threshold.
var streamPaths = []struct {
	name string
	size int
	opts []xacct.CopierOption
}{
	{"PutObject", 1 << 10, nil},
	{"streamed PutObject", 6 * miB, []xacct.CopierOption{xacct.WithStreamUploadCutoff(20 * miB)}},
	{"multipart", 6 * miB, []xacct.CopierOption{xacct.WithStreamUploadCutoff(5 * miB)}},
}

func (x *twoIdentities) head(t *testing.T, c *s3.Client, bucket, key string) *s3.HeadObjectOutput {
	t.Helper()
	h, err := c.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
	require.NoError(t, err, key)
	return h
}

func tagsOf(t *testing.T, c *s3.Client, bucket, key string) map[string]string {
	t.Helper()
	out, err := c.GetObjectTagging(t.Context(), &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	require.NoError(t, err)
	m := map[string]string{}
	for _, tag := range out.TagSet {
		m[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	return m
}

func TestStreamKeepsProperties(t *testing.T) {
	for _, p := range streamPaths {
		for _, tc := range []struct {
			name  string
			opts  []xacct.CopierOption
			class types.StorageClass
			sse   types.ServerSideEncryption
			key   string
		}{
			{"kept", nil, types.StorageClassStandardIa, "", ""},
			{"SSE-S3", []xacct.CopierOption{xacct.WithSSE(types.ServerSideEncryptionAes256)}, types.StorageClassStandardIa, types.ServerSideEncryptionAes256, ""},
			{"overridden", []xacct.CopierOption{xacct.WithStorageClass(types.StorageClassGlacierIr), xacct.WithSSEKMSKeyID("arn:aws:kms:us-east-1:222222222222:key/k-1")},
				types.StorageClassGlacierIr, types.ServerSideEncryptionAwsKms, "arn:aws:kms:us-east-1:222222222222:key/k-1"},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				x := newTwoIdentities(t)
				body := putRichObject(t, x.ownerA, x.src.Bucket, "rich.bin", p.size)
				opts := append(append([]xacct.CopierOption{xacct.WithCopyProps(xacct.CopyPropsAll)}, p.opts...), tc.opts...)
				rep, err := x.copier(t, opts...).Sync(t.Context(), x.src, x.dst)
				require.NoError(t, err, "verified from the write's response: the writer need not read its copy")
				require.Equal(t, xacct.ModeStream, rep.Mode)
				require.EqualValues(t, 1, rep.Copied)
				assert.Zero(t, rep.Warned)

				src, dst := x.head(t, x.ownerA, x.src.Bucket, "rich.bin"), x.head(t, x.ownerB, x.dst.Bucket, "copy/rich.bin")
				assert.Equal(t, src.Metadata, dst.Metadata)
				assert.Equal(t, "application/x-test", aws.ToString(dst.ContentType))
				assert.Equal(t, "identity", aws.ToString(dst.ContentEncoding))
				assert.Equal(t, `attachment; filename="x.bin"`, aws.ToString(dst.ContentDisposition))
				assert.Equal(t, "fr-CH", aws.ToString(dst.ContentLanguage))
				assert.Equal(t, "max-age=3600", aws.ToString(dst.CacheControl))
				assert.Equal(t, "Wed, 02 Jan 2030 03:04:05 GMT", aws.ToString(dst.ExpiresString))
				assert.Equal(t, "/elsewhere.html", aws.ToString(dst.WebsiteRedirectLocation), "CopyPropsAll keeps the redirect")
				assert.Equal(t, tc.class, dst.StorageClass)
				assert.Equal(t, tc.sse, dst.ServerSideEncryption)
				assert.Equal(t, tc.key, aws.ToString(dst.SSEKMSKeyId))
				assert.Equal(t, map[string]string{"project": "apollo", "cost centre": "a/b"}, tagsOf(t, x.ownerB, x.dst.Bucket, "copy/rich.bin"))
				require.NotEmpty(t, aws.ToString(src.ChecksumCRC32C))
				assert.Equal(t, src.ChecksumCRC32C, dst.ChecksumCRC32C, "the source's algorithm, whole-object, not a CRC32 of parts")
				assert.Equal(t, types.ChecksumTypeFullObject, dst.ChecksumType)
				assert.Equal(t, body, getStored(t, x.ownerB, x.dst.Bucket, "copy/rich.bin").body)
			})
		}
	}
}

// The reader may read objects but not their tags: the preflight warns,
// the sync copies everything without tags and says so per object.
func TestStreamTagsDeniedIsAWarning(t *testing.T) {
	x := newTwoIdentities(t)
	ctx := t.Context()
	putRichObject(t, x.ownerA, x.src.Bucket, "small.bin", 1<<10)
	putRichObject(t, x.ownerA, x.src.Bucket, "big.bin", 6*miB)
	reader, err := x.sb.AddUser(sandbox.AccountA, "untagged-reader", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::a-media"},
		{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a-media/*"}]}`)
	require.NoError(t, err)
	c, err := xacct.NewCopierFromConfigs(x.sb.Config(reader), x.sb.Config(x.writer),
		xacct.WithPartSize(5*miB), xacct.WithMultipartThreshold(5*miB))
	require.NoError(t, err)

	pre, err := c.Preflight(ctx, x.src, x.dst)
	require.NoError(t, err)
	require.NoError(t, pre.Err(), "a missing tagging permission does not block")
	assert.Empty(t, pre.Findings)
	require.Len(t, pre.Warnings, 1)
	w := pre.Warnings[0]
	assert.True(t, w.Warning)
	assert.Equal(t, xacct.SideSource, w.Side)
	assert.Equal(t, "s3:GetObjectTagging", w.Action)
	assert.Equal(t, "arn:aws:s3:::a-media/big.bin", w.Resource)
	assert.ErrorIs(t, w, xacct.ErrAccessDenied)
	require.NotEmpty(t, w.Fixes)
	assert.Equal(t, "XacctSourceRead", w.Fixes[0].Statement.Sid)
	assert.Contains(t, w.Fixes[0].Statement.Action, "s3:GetObjectTagging")

	rep, err := c.Sync(ctx, x.src, x.dst)
	require.NoError(t, err)
	assert.Equal(t, xacct.ModeStream, rep.Mode)
	assert.EqualValues(t, 2, rep.Copied)
	assert.EqualValues(t, 2, rep.Warned)
	for _, w := range rep.Warnings {
		assert.Equal(t, xacct.WarningTagsNotCopied, w.Kind)
	}
	for _, key := range []string{"small.bin", "big.bin"} {
		assert.Empty(t, tagsOf(t, x.ownerB, x.dst.Bucket, "copy/"+key))
		assert.Equal(t, "team-a", x.head(t, x.ownerB, x.dst.Bucket, "copy/"+key).Metadata["owner"], "the other properties are kept")
	}
}

// payerCheck records the S3 operations a client sends without
// x-amz-request-payer.
type payerCheck struct {
	mu      sync.Mutex
	missing map[string]bool
}

func (p *payerCheck) config(cfg aws.Config) aws.Config {
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("payerCheck", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			op := awsmiddleware.GetOperationName(ctx)
			if req, ok := in.Request.(*smithyhttp.Request); ok && awsmiddleware.GetServiceID(ctx) == "S3" &&
				op != "GetBucketOwnershipControls" && req.Header.Get("X-Amz-Request-Payer") != "requester" {
				p.mu.Lock()
				p.missing[op] = true
				p.mu.Unlock()
			}
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
	})
	return cfg
}

func TestStreamRequestPayerOnEveryRequest(t *testing.T) {
	x := newTwoIdentities(t)
	putRichObject(t, x.ownerA, x.src.Bucket, "small.bin", 1<<10)
	putRichObject(t, x.ownerA, x.src.Bucket, "big.bin", 6*miB)
	check := &payerCheck{missing: map[string]bool{}}
	c, err := xacct.NewCopierFromConfigs(check.config(x.sb.Config(x.reader)), check.config(x.sb.Config(x.writer)),
		xacct.WithPartSize(5*miB), xacct.WithMultipartThreshold(5*miB), xacct.WithRequestPayer(true), xacct.WithCopyProps(xacct.CopyPropsAll))
	require.NoError(t, err)
	rep, err := c.Sync(t.Context(), x.src, x.dst)
	require.NoError(t, err)
	assert.Equal(t, xacct.ModeStream, rep.Mode)
	assert.EqualValues(t, 2, rep.Copied)
	assert.Empty(t, check.missing, "operations sent without x-amz-request-payer, preflight probes included")
}

// corruptingWriter changes the bytes written to the destination, keeping
// their length, as a faulty proxy would.
type corruptingWriter struct {
	*s3.Client
}

func flip(r io.Reader) io.Reader {
	b, _ := io.ReadAll(r)
	b = bytes.Clone(b)
	b[len(b)/2] ^= 0xff
	return bytes.NewReader(b)
}

func (c *corruptingWriter) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	bad := *in
	bad.Body = flip(in.Body)
	bad.ChecksumCRC32, bad.ChecksumCRC32C, bad.ChecksumCRC64NVME, bad.ChecksumSHA1, bad.ChecksumSHA256 = nil, nil, nil, nil, nil
	bad.ChecksumAlgorithm = ""
	return c.Client.PutObject(ctx, &bad, o...)
}

func (c *corruptingWriter) UploadPart(ctx context.Context, in *s3.UploadPartInput, o ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	bad := *in
	if aws.ToInt32(in.PartNumber) == 1 {
		bad.Body = flip(in.Body)
	}
	return c.Client.UploadPart(ctx, &bad, o...)
}

// Bytes changed on the way are never a silent success: a single PutObject
// is caught by verification, a multipart upload by S3 itself when the
// source's whole-object checksum is given at completion.
func TestStreamCorruptionFailsTheObject(t *testing.T) {
	for _, p := range streamPaths {
		t.Run(p.name, func(t *testing.T) {
			x := newTwoIdentities(t)
			_, err := x.ownerA.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(x.src.Bucket), Key: aws.String("o.bin"), Body: bytes.NewReader(seededBytes(p.size, 3))})
			require.NoError(t, err)
			c, err := xacct.NewCopier(x.sb.S3(x.reader), append([]xacct.CopierOption{xacct.WithDestinationClient(&corruptingWriter{Client: x.sb.S3(x.writer)}),
				xacct.WithPartSize(5 * miB), xacct.WithMultipartThreshold(5 * miB), xacct.WithTransferMode(xacct.ModeStream)}, p.opts...)...)
			require.NoError(t, err)
			rep, err := c.Sync(t.Context(), x.src, x.dst)
			require.Error(t, err)
			assert.EqualValues(t, 1, rep.Failed)
			assert.Zero(t, rep.Copied)
			if p.name != "multipart" {
				var verr *xacct.VerifyError
				require.ErrorAs(t, err, &verr)
				assert.ErrorIs(t, err, xacct.ErrMismatch)
				assert.Equal(t, "copy/o.bin", verr.Key)
				return
			}
			var mp *xacct.MultipartUploadError
			require.ErrorAs(t, err, &mp)
			var apiErr smithy.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "BadDigest", apiErr.ErrorCode())
			assert.Empty(t, listUploads(t, x.ownerB, x.dst.Bucket))
			_, err = x.ownerB.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(x.dst.Bucket), Key: aws.String("copy/o.bin")})
			assert.Error(t, err, "no bad copy")
		})
	}
}

// lockBucket enables versioning and Object Lock on a bucket, as owner.
func lockBucket(t *testing.T, owner *s3.Client, bucket string) {
	t.Helper()
	_, err := owner.PutBucketVersioning(t.Context(), &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	require.NoError(t, err)
	_, err = owner.PutObjectLockConfiguration(t.Context(), &s3.PutObjectLockConfigurationInput{Bucket: aws.String(bucket),
		ObjectLockConfiguration: &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled}})
	require.NoError(t, err)
}

// putLocked writes an object under governance retention and a legal
// hold, and returns the retain-until date.
func putLocked(t *testing.T, c *s3.Client, bucket, key string, size int) time.Time {
	t.Helper()
	until := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	_, err := c.PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(seededBytes(size, 4)),
		ObjectLockMode: types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: aws.Time(until),
		ObjectLockLegalHoldStatus: types.ObjectLockLegalHoldStatusOn,
	})
	require.NoError(t, err)
	return until
}

func assertLocked(t *testing.T, h *s3.HeadObjectOutput, until time.Time) {
	t.Helper()
	assert.Equal(t, types.ObjectLockModeGovernance, h.ObjectLockMode)
	require.NotNil(t, h.ObjectLockRetainUntilDate)
	assert.True(t, until.Equal(*h.ObjectLockRetainUntilDate), "%v", h.ObjectLockRetainUntilDate)
	assert.Equal(t, types.ObjectLockLegalHoldStatusOn, h.ObjectLockLegalHoldStatus)
}

// WithObjectLock carries mode, retain-until date and legal hold on every
// path; without it the copies carry no lock.
func TestObjectLockRoundTrip(t *testing.T) {
	t.Run("server-side", func(t *testing.T) {
		for _, p := range copyPaths {
			t.Run(p.name, func(t *testing.T) {
				e := newEnv(t)
				lockBucket(t, e.client, e.src)
				lockBucket(t, e.client, e.dst)
				until := putLocked(t, e.client, e.src, "locked.bin", p.size)
				assertLocked(t, e.head(t, e.src, "locked.bin"), until)
				_, err := propsCopier(t, e, xacct.WithObjectLock(true)).Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
				require.NoError(t, err)
				assertLocked(t, e.head(t, e.dst, "locked.bin"), until)
			})
		}
	})
	t.Run("stream", func(t *testing.T) {
		for _, p := range streamPaths {
			t.Run(p.name, func(t *testing.T) {
				x := newTwoIdentities(t)
				lockBucket(t, x.ownerA, x.src.Bucket)
				lockBucket(t, x.ownerB, x.dst.Bucket)
				until := putLocked(t, x.ownerA, x.src.Bucket, "a/locked.bin", p.size)
				putLocked(t, x.ownerA, x.src.Bucket, "b/locked.bin", p.size)
				rep, err := x.copier(t, append([]xacct.CopierOption{xacct.WithObjectLock(true), xacct.WithFilters(xacct.Exclude("b/*"))}, p.opts...)...).Sync(t.Context(), x.src, x.dst)
				require.NoError(t, err)
				require.Equal(t, xacct.ModeStream, rep.Mode)
				require.EqualValues(t, 1, rep.Copied)
				assertLocked(t, x.head(t, x.ownerB, x.dst.Bucket, "copy/a/locked.bin"), until)

				rep, err = x.copier(t, p.opts...).Sync(t.Context(), x.src, x.dst, xacct.WithFilters(xacct.Exclude("a/*")))
				require.NoError(t, err)
				require.EqualValues(t, 1, rep.Copied)
				h := x.head(t, x.ownerB, x.dst.Bucket, "copy/b/locked.bin")
				assert.Empty(t, h.ObjectLockMode, "no lock without WithObjectLock")
				assert.Empty(t, h.ObjectLockLegalHoldStatus)
			})
		}
	})
}
