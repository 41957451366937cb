package xacct_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// transitCorrupter is an HTTP transport that flips one byte of the body
// of every PutObject (not UploadPart) of a key containing key, after the
// SDK signed the request, as a faulty proxy would.
type transitCorrupter struct {
	next http.RoundTripper
	key  string
}

func (c *transitCorrupter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && strings.Contains(r.URL.Path, c.key) && !r.URL.Query().Has("partNumber") && r.Body != nil {
		r.Body = &flipReader{ReadCloser: r.Body, at: 1000}
	}
	return c.next.RoundTrip(r)
}

// flipReader inverts the byte at offset at of what it passes.
type flipReader struct {
	io.ReadCloser
	at, off int64
}

func (f *flipReader) Read(p []byte) (int, error) {
	n, err := f.ReadCloser.Read(p)
	if f.at >= f.off && f.at < f.off+int64(n) {
		p[f.at-f.off] ^= 0xff
	}
	f.off += int64(n)
	return n, err
}

// bigPartsSize is the size of the sources of putMultipartSource: a first
// part of 41 MiB, above the 40 MiB (8 × the 5 MiB part size) a streamed
// copy repeats, and 1 MiB, so that the copy takes the path of an object
// of that size instead of repeating the source's parts.
const bigPartsSize = 42 * miB

// putMultipartSource writes key as a two-part multipart upload (all but
// the last MiB, and the last MiB) with a composite CRC32, so the source
// has no full-object checksum a copy could be checked against (S3 gives
// one to an upload that asks for none).
func putMultipartSource(t *testing.T, c *s3.Client, bucket, key string, body []byte) {
	t.Helper()
	uploadInParts(t, c, bucket, key, body, types.ChecksumAlgorithmCrc32, len(body)-miB, miB)
	h, err := c.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
	require.NoError(t, err)
	require.NotEqual(t, types.ChecksumTypeFullObject, h.ChecksumType, "the source must have no full-object checksum")
}

// transitWriter is an S3 client of a writer that may also delete (to
// remove a bad copy), sending through a transport that corrupts the body
// of PutObject requests for key.
func (x *twoIdentities) transitWriter(t *testing.T, key string) *s3.Client {
	t.Helper()
	del := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::` + x.dst.Bucket + `/*"}]}`
	writer, err := x.sb.AddUser(sandbox.AccountB, "deleting-writer", policyJSON(t, xacct.DestinationWritePolicy(x.dst)), del)
	require.NoError(t, err)
	cfg := x.sb.Config(writer)
	next := http.DefaultTransport
	if c, ok := cfg.HTTPClient.(*http.Client); ok && c.Transport != nil {
		next = c.Transport
	}
	cfg.HTTPClient = &http.Client{Transport: &transitCorrupter{next: next, key: key}}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

// Over plain HTTP a streamed PutObject of a source without a full-object
// checksum goes with an unsigned payload and no checksum header; the MD5
// of the bytes sent, compared with the ETag, still catches bytes changed
// on the way: the object fails (it is not a mere warning) and the bad
// copy is removed.
func TestStreamedPutCatchesTransitCorruptionWithoutChecksum(t *testing.T) {
	for _, noVerify := range []bool{false, true} {
		name := "verified"
		if noVerify {
			name = "without verification"
		}
		t.Run(name, func(t *testing.T) {
			x := newTwoIdentities(t)
			putMultipartSource(t, x.ownerA, x.src.Bucket, "o.bin", seededBytes(bigPartsSize, 9))
			opts := []xacct.CopierOption{xacct.WithDestinationClient(x.transitWriter(t, "copy/o.bin")),
				xacct.WithPartSize(5 * miB), xacct.WithMultipartThreshold(5 * miB), xacct.WithStreamUploadCutoff(64 * miB),
				xacct.WithTransferMode(xacct.ModeStream)}
			if noVerify {
				opts = append(opts, xacct.WithVerify(false))
			}
			c, err := xacct.NewCopier(x.sb.S3(x.reader), opts...)
			require.NoError(t, err)
			rep, err := c.Sync(t.Context(), x.src, x.dst)
			require.Error(t, err)
			assert.EqualValues(t, 1, rep.Failed)
			assert.Zero(t, rep.Copied)
			assert.Zero(t, rep.Warned, "a changed copy is a failure, not a warning")
			var verr *xacct.VerifyError
			require.ErrorAs(t, err, &verr)
			assert.ErrorIs(t, err, xacct.ErrMismatch)
			assert.Equal(t, "copy/o.bin", verr.Key)
			assert.Equal(t, "ETag", verr.Field)
			assert.True(t, verr.Removed, "the bad copy is removed, as verification does")
			_, err = x.ownerB.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(x.dst.Bucket), Key: aws.String("copy/o.bin")})
			assert.Error(t, err, "no bad copy")
		})
	}
}

// The same copy with nothing changed on the way succeeds through one
// streamed PutObject.
func TestStreamedPutWithoutChecksumPassesIntactBytes(t *testing.T) {
	x := newTwoIdentities(t)
	body := seededBytes(bigPartsSize, 9)
	putMultipartSource(t, x.ownerA, x.src.Bucket, "o.bin", body)
	c, err := xacct.NewCopier(x.sb.S3(x.reader), xacct.WithDestinationClient(x.transitWriter(t, "no-such-key")),
		xacct.WithPartSize(5*miB), xacct.WithMultipartThreshold(5*miB), xacct.WithStreamUploadCutoff(64*miB),
		xacct.WithTransferMode(xacct.ModeStream))
	require.NoError(t, err)
	rep, err := c.Sync(t.Context(), x.src, x.dst)
	require.NoError(t, err)
	assert.EqualValues(t, 1, rep.Copied)
	h, err := x.ownerB.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(x.dst.Bucket), Key: aws.String("copy/o.bin")})
	require.NoError(t, err)
	assert.NotContains(t, aws.ToString(h.ETag), "-", "one PutObject, no multipart upload")
	got, err := x.ownerB.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(x.dst.Bucket), Key: aws.String("copy/o.bin")})
	require.NoError(t, err)
	b, err := io.ReadAll(got.Body)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(body, b))
}

// With SSE-KMS requested the ETag is no MD5, so over plain HTTP an object
// below the stream upload cutoff takes a multipart upload, whose parts
// carry a CRC32 S3 checks, instead of an unchecked PutObject: the
// corrupted part is refused by S3 itself.
func TestStreamedPutWithKMSOverHTTPTakesMultipart(t *testing.T) {
	x := newTwoIdentities(t)
	putMultipartSource(t, x.ownerA, x.src.Bucket, "o.bin", seededBytes(bigPartsSize, 9))
	c, err := xacct.NewCopier(x.sb.S3(x.reader), xacct.WithDestinationClient(x.transitWriter(t, "copy/o.bin")),
		xacct.WithPartSize(5*miB), xacct.WithMultipartThreshold(5*miB), xacct.WithStreamUploadCutoff(64*miB),
		xacct.WithTransferMode(xacct.ModeStream), xacct.WithSSEKMSKeyID("arn:aws:kms:us-east-1:"+sandbox.AccountB+":key/k-1"))
	require.NoError(t, err)
	puts := x.sb.Requests()["PutObject"]
	rep, err := c.Sync(t.Context(), x.src, x.dst)
	require.NoError(t, err, "the transport corrupts only PutObject bodies, which this path does not send")
	assert.EqualValues(t, 1, rep.Copied)
	assert.Equal(t, puts, x.sb.Requests()["PutObject"], "no PutObject of the object")
	h, err := x.ownerB.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(x.dst.Bucket), Key: aws.String("copy/o.bin")})
	require.NoError(t, err)
	assert.Equal(t, types.ServerSideEncryptionAwsKms, h.ServerSideEncryption)
	assert.Contains(t, aws.ToString(h.ETag), "-9", "a multipart upload of 5 MiB parts")
}
