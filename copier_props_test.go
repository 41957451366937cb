package xacct_test

import (
	"bytes"
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

// copyPaths are the two server-side paths: objects of 1 KiB take one
// CopyObject, objects of 6 MiB are copied in parts above a 5 MiB
// threshold.
var copyPaths = []struct {
	name string
	size int
}{
	{"CopyObject", 1 << 10},
	{"multipart", 6 * mib},
}

func propsCopier(t *testing.T, e *env, opts ...xacct.CopierOption) *xacct.Copier {
	t.Helper()
	return e.copier(t, append([]xacct.CopierOption{xacct.WithMultipartThreshold(5 * mib), xacct.WithPartSize(5 * mib)}, opts...)...)
}

// putRich writes an object with every property a copy can carry.
func (e *env) putRich(t *testing.T, key string, size int) []byte {
	t.Helper()
	return putRichObject(t, e.client, e.src, key, size)
}

// putRichObject writes, with c, an object of size bytes carrying every
// property a copy can carry, and returns its bytes.
func putRichObject(t *testing.T, c *s3.Client, bucket, key string, size int) []byte {
	t.Helper()
	body := pseudoRandom(uint64(size), size)
	_, err := c.PutObject(t.Context(), &s3.PutObjectInput{
		Bucket:                  aws.String(bucket),
		Key:                     aws.String(key),
		Body:                    bytes.NewReader(body),
		Metadata:                map[string]string{"owner": "team-a", "batch": "42"},
		ContentType:             aws.String("application/x-test"),
		ContentEncoding:         aws.String("identity"),
		ContentDisposition:      aws.String(`attachment; filename="x.bin"`),
		ContentLanguage:         aws.String("fr-CH"),
		CacheControl:            aws.String("max-age=3600"),
		Expires:                 aws.Time(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)),
		Tagging:                 aws.String("project=apollo&cost%20centre=a%2Fb"),
		StorageClass:            types.StorageClassStandardIa,
		WebsiteRedirectLocation: aws.String("/elsewhere.html"),
		ChecksumAlgorithm:       types.ChecksumAlgorithmCrc32c,
	})
	require.NoError(t, err)
	return body
}

func (e *env) tags(t *testing.T, bucket, key string) map[string]string {
	t.Helper()
	out, err := e.client.GetObjectTagging(t.Context(), &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	require.NoError(t, err)
	m := map[string]string{}
	for _, tag := range out.TagSet {
		m[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	return m
}

func TestCopyKeepsProperties(t *testing.T) {
	for _, p := range copyPaths {
		t.Run(p.name, func(t *testing.T) {
			e := newEnv(t)
			body := e.putRich(t, "rich.bin", p.size)
			var created s3.CreateMultipartUploadInput
			client := &hookClient{Client: e.client, editCreate: func(in *s3.CreateMultipartUploadInput) { created = *in }}
			c, err := xacct.NewCopier(client, xacct.WithMultipartThreshold(5*mib), xacct.WithPartSize(5*mib), xacct.WithPreflight(false))
			require.NoError(t, err)
			rep, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
			require.NoError(t, err)
			require.EqualValues(t, 1, rep.Copied)
			assert.Zero(t, rep.Warned)

			src, dst := e.head(t, e.src, "rich.bin"), e.head(t, e.dst, "rich.bin")
			assert.Equal(t, src.Metadata, dst.Metadata)
			assert.Equal(t, "application/x-test", aws.ToString(dst.ContentType))
			assert.Equal(t, "identity", aws.ToString(dst.ContentEncoding))
			assert.Equal(t, `attachment; filename="x.bin"`, aws.ToString(dst.ContentDisposition))
			assert.Equal(t, "fr-CH", aws.ToString(dst.ContentLanguage))
			assert.Equal(t, "max-age=3600", aws.ToString(dst.CacheControl))
			assert.Equal(t, "Wed, 02 Jan 2030 03:04:05 GMT", aws.ToString(dst.ExpiresString))
			assert.Equal(t, types.StorageClassStandardIa, dst.StorageClass, "the storage class is kept")
			assert.Equal(t, map[string]string{"project": "apollo", "cost centre": "a/b"}, e.tags(t, e.dst, "rich.bin"))
			assert.Empty(t, aws.ToString(dst.WebsiteRedirectLocation), "S3 does not copy a website redirect by default")
			require.NotEmpty(t, aws.ToString(src.ChecksumCRC32C))
			assert.Equal(t, src.ChecksumCRC32C, dst.ChecksumCRC32C, "the checksum is kept")
			assert.Equal(t, types.ChecksumTypeFullObject, dst.ChecksumType)
			if p.name == "multipart" {
				assert.Equal(t, types.ChecksumAlgorithmCrc32c, created.ChecksumAlgorithm)
				assert.Equal(t, types.ChecksumTypeFullObject, created.ChecksumType)
			}
			assert.True(t, bytes.Equal(body, e.body(t, e.dst, "rich.bin")))
		})
	}
}

func TestCopyPropsModes(t *testing.T) {
	for _, p := range copyPaths {
		for _, tc := range []struct {
			props                  xacct.CopyProps
			metadata, tags, direct bool
		}{
			{xacct.CopyPropsMetadataDirective, true, false, false},
			{xacct.CopyPropsNone, false, false, false},
			{xacct.CopyPropsAll, true, true, true},
		} {
			t.Run(p.name+"/"+tc.props.String(), func(t *testing.T) {
				e := newEnv(t)
				e.putRich(t, "rich.bin", p.size)
				_, err := propsCopier(t, e, xacct.WithCopyProps(tc.props)).Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
				require.NoError(t, err)
				dst := e.head(t, e.dst, "rich.bin")
				if tc.metadata {
					assert.Equal(t, map[string]string{"owner": "team-a", "batch": "42"}, dst.Metadata)
					assert.Equal(t, "application/x-test", aws.ToString(dst.ContentType))
				} else {
					assert.Empty(t, dst.Metadata)
					assert.NotEqual(t, "application/x-test", aws.ToString(dst.ContentType))
				}
				if tc.tags {
					assert.Len(t, e.tags(t, e.dst, "rich.bin"), 2)
				} else {
					assert.Empty(t, e.tags(t, e.dst, "rich.bin"))
				}
				if tc.direct {
					assert.Equal(t, "/elsewhere.html", aws.ToString(dst.WebsiteRedirectLocation))
				}
			})
		}
	}
}

func TestCopySetsStorageClassAndEncryption(t *testing.T) {
	for _, p := range copyPaths {
		for _, tc := range []struct {
			name  string
			opts  []xacct.CopierOption
			sse   types.ServerSideEncryption
			keyID string
		}{
			{"SSE-S3", []xacct.CopierOption{xacct.WithSSE(types.ServerSideEncryptionAes256)}, types.ServerSideEncryptionAes256, ""},
			{"SSE-KMS", []xacct.CopierOption{xacct.WithSSEKMSKeyID("arn:aws:kms:us-east-1:222222222222:key/k-1")}, types.ServerSideEncryptionAwsKms, "arn:aws:kms:us-east-1:222222222222:key/k-1"},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t)
				e.putRich(t, "rich.bin", p.size)
				opts := append([]xacct.CopierOption{xacct.WithStorageClass(types.StorageClassGlacierIr)}, tc.opts...)
				rep, err := propsCopier(t, e, opts...).Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
				require.NoError(t, err, "an SSE-KMS copy's ETag is no MD5; verification must not take it for corruption")
				assert.EqualValues(t, 1, rep.Copied)
				dst := e.head(t, e.dst, "rich.bin")
				assert.Equal(t, types.StorageClassGlacierIr, dst.StorageClass)
				assert.Equal(t, tc.sse, dst.ServerSideEncryption)
				assert.Equal(t, tc.keyID, aws.ToString(dst.SSEKMSKeyId))
			})
		}
	}
}

func TestCopyOptionsAreValidated(t *testing.T) {
	e := newEnv(t)
	for _, opt := range []xacct.CopierOption{
		xacct.WithCopyProps(xacct.CopyProps(9)),
		xacct.WithStorageClass("COLD"),
		xacct.WithSSE("rot13"),
		xacct.WithSSE(types.ServerSideEncryptionAes256), // with a KMS key below
		xacct.WithPartConcurrency(-1),
		xacct.WithPartConcurrency(xacct.MaxPartConcurrency + 1),
	} {
		_, err := xacct.NewCopier(e.client, opt, xacct.WithSSEKMSKeyID("k"))
		assert.ErrorIs(t, err, xacct.ErrInvalidOption)
	}
}

// A part concurrency of 0 or less is refused, as WithConcurrency refuses
// it, not silently replaced by the default; the error names the value.
func TestPartConcurrencyMustBePositive(t *testing.T) {
	e := newEnv(t)
	for _, n := range []int{0, -1, xacct.MaxPartConcurrency + 1} {
		_, err := xacct.NewCopier(e.client, xacct.WithPartConcurrency(n))
		var verr *xacct.ValidationError
		require.ErrorAs(t, err, &verr, "part concurrency %d", n)
		assert.ErrorIs(t, err, xacct.ErrInvalidOption)
		assert.Equal(t, "part concurrency", verr.Field)
		assert.Equal(t, strconv.Itoa(n), verr.Value)
		// Per call too.
		_, err = e.copier(t).Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""), xacct.WithPartConcurrency(n))
		assert.ErrorAs(t, err, &verr)
	}
	for _, n := range []int{1, xacct.MaxPartConcurrency} {
		_, err := xacct.NewCopier(e.client, xacct.WithPartConcurrency(n))
		assert.NoError(t, err, n)
	}
}

func TestRequestPayerOnEveryRequest(t *testing.T) {
	for _, p := range copyPaths {
		t.Run(p.name, func(t *testing.T) {
			e := newEnv(t)
			e.putRich(t, "rich.bin", p.size)
			// A destination-only object, so the sync's DeleteObjects runs.
			e.put(t, e.dst, map[string]string{"stale.txt": "x"})
			var mu sync.Mutex
			missing := map[string]bool{}
			seen := map[string]bool{}
			client := s3.NewFromConfig(e.sb.Config(e.sb.Root(sandbox.AccountA)), func(o *s3.Options) {
				o.UsePathStyle = true
				o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
					return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("payerCheck", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
						mu.Lock()
						seen[awsmiddleware.GetOperationName(ctx)] = true
						mu.Unlock()
						if req, ok := in.Request.(*smithyhttp.Request); ok && req.Header.Get("X-Amz-Request-Payer") != "requester" {
							mu.Lock()
							if op := awsmiddleware.GetOperationName(ctx); op != "GetBucketOwnershipControls" { // a bucket call: no payer
								missing[op] = true
							}
							mu.Unlock()
						}
						return next.HandleFinalize(ctx, in)
					}), middleware.After)
				})
			})
			c, err := xacct.NewCopier(client, xacct.WithRequestPayer(true), xacct.WithMultipartThreshold(5*mib), xacct.WithPartSize(5*mib), xacct.WithPreflight(false))
			require.NoError(t, err)
			rep, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""), xacct.WithDelete(true))
			require.NoError(t, err)
			assert.EqualValues(t, 1, rep.Deleted)
			assert.True(t, seen["DeleteObjects"], "the sync's delete was sent")
			_, err = c.Verify(t.Context(), loc(e.src, ""), loc(e.dst, ""))
			require.NoError(t, err)
			assert.Empty(t, missing, "operations sent without x-amz-request-payer")
		})
	}
}

// A user who may copy objects but not read their tags still copies them,
// without tags, and the report says so.
func TestTagsDeniedStillCopies(t *testing.T) {
	for _, p := range copyPaths {
		t.Run(p.name, func(t *testing.T) {
			sb, err := enforce.Start()
			require.NoError(t, err)
			t.Cleanup(sb.Close)
			root := sb.Root(sandbox.AccountA)
			e := &env{sb: sb, client: sb.S3(root), src: "src-bucket", dst: "dst-bucket"}
			require.NoError(t, sb.CreateBucket(t.Context(), root, e.src))
			require.NoError(t, sb.CreateBucket(t.Context(), root, e.dst))
			body := e.putRich(t, "rich.bin", p.size)

			policy := `{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":["s3:ListBucket","s3:GetBucketOwnershipControls"],"Resource":["arn:aws:s3:::src-bucket","arn:aws:s3:::dst-bucket"]},
				{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:PutObjectTagging","s3:AbortMultipartUpload","s3:DeleteObject"],"Resource":["arn:aws:s3:::src-bucket/*","arn:aws:s3:::dst-bucket/*"]}]}`
			user, err := sb.AddUser(sandbox.AccountA, "copier", policy)
			require.NoError(t, err)
			// CopyObject refuses to copy tags it may not read, as on AWS
			// (aws-cli #5375); a multipart copy cannot read them.
			c, err := xacct.NewCopier(sb.S3(user), xacct.WithMultipartThreshold(5*mib), xacct.WithPartSize(5*mib))
			require.NoError(t, err)
			rep, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
			require.NoError(t, err)
			assert.EqualValues(t, 1, rep.Copied)
			require.NotNil(t, rep.Preflight)
			require.Len(t, rep.Preflight.Warnings, 1, "the preflight warns, the sync goes on")
			assert.Equal(t, "s3:GetObjectTagging", rep.Preflight.Warnings[0].Action)
			assert.EqualValues(t, 1, rep.Warned)
			require.Len(t, rep.Warnings, 1)
			w := rep.Warnings[0]
			assert.Equal(t, xacct.WarningTagsNotCopied, w.Kind)
			assert.Equal(t, "rich.bin", w.Key)
			assert.Contains(t, w.Error(), "AccessDenied")
			assert.Empty(t, e.tags(t, e.dst, "rich.bin"))
			assert.Equal(t, "team-a", e.head(t, e.dst, "rich.bin").Metadata["owner"], "the rest of the properties are kept")
			assert.True(t, bytes.Equal(body, e.body(t, e.dst, "rich.bin")))
		})
	}
}
