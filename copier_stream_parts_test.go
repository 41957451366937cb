package xacct_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
)

// putInParts writes key with a multipart upload of parts of the given
// sizes and returns its ETag.
func putInParts(t *testing.T, c *s3.Client, bucket, key string, body []byte, sizes ...int) string {
	t.Helper()
	return uploadInParts(t, c, bucket, key, body, "", sizes...)
}

// uploadInParts is putInParts with a checksum algorithm for the parts
// ("" for none): the object then has only a composite checksum.
func uploadInParts(t *testing.T, c *s3.Client, bucket, key string, body []byte, alg types.ChecksumAlgorithm, sizes ...int) string {
	t.Helper()
	ctx := t.Context()
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumAlgorithm: alg})
	require.NoError(t, err)
	var parts []types.CompletedPart
	off := 0
	for i, n := range sizes {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(body[off : off+n]), ChecksumAlgorithm: alg})
		require.NoError(t, err)
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1)), ChecksumCRC32: out.ChecksumCRC32,
			ChecksumCRC32C: out.ChecksumCRC32C, ChecksumSHA1: out.ChecksumSHA1, ChecksumSHA256: out.ChecksumSHA256})
		off += n
	}
	require.Equal(t, len(body), off, "part sizes must add up to the body")
	out, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	require.NoError(t, err)
	etag := strings.Trim(aws.ToString(out.ETag), `"`)
	require.True(t, strings.HasSuffix(etag, "-"+strconv.Itoa(len(sizes))), etag)
	return etag
}

func etagOf(h *s3.HeadObjectOutput) string { return strings.Trim(aws.ToString(h.ETag), `"`) }

// A source uploaded in parts of mixed sizes is streamed with the same
// parts, so its copy has the source's ETag: verified by the completion
// alone, and a later exact sync finds nothing to copy. The old path cut
// 5 MiB parts (5, 5, 2 MiB) and gave another ETag.
func TestStreamKeepsSourcePartsAndETag(t *testing.T) {
	x := newTwoIdentities(t)
	sizes := []int{5 * miB, 6 * miB, miB}
	body := seededBytes(12*miB, 3)
	etag := putInParts(t, x.ownerA, x.src.Bucket, "mixed.bin", body, sizes...)

	before := x.sb.Requests()
	rep, err := x.copier(t, xacct.WithPreflight(false)).Sync(t.Context(), x.src, x.dst)
	require.NoError(t, err)
	require.Equal(t, xacct.ModeStream, rep.Mode)
	assert.EqualValues(t, 1, rep.Copied)
	assert.Zero(t, rep.Warned)
	assert.Empty(t, rep.Warnings, "the equal ETag proves the copy")
	reqs := requestDelta(before, x.sb.Requests())
	assert.Equal(t, 3, reqs["UploadPart"], "one UploadPart per source part: %v", reqs)
	assert.Zero(t, reqs["PutObject"], "%v", reqs)

	dst := x.head(t, x.ownerB, x.dst.Bucket, "copy/mixed.bin")
	assert.Equal(t, etag, etagOf(dst), "same parts, same ETag")
	assert.True(t, bytes.Equal(body, getStored(t, x.ownerB, x.dst.Bucket, "copy/mixed.bin").body), "bytes differ")
	assert.Empty(t, listUploads(t, x.ownerB, x.dst.Bucket))
	for i, n := range sizes {
		p, err := x.ownerB.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(x.dst.Bucket), Key: aws.String("copy/mixed.bin"), PartNumber: aws.Int32(int32(i + 1))})
		require.NoError(t, err)
		assert.EqualValues(t, n, aws.ToInt64(p.ContentLength), "part %d", i+1)
	}

	before = x.sb.Requests()
	rep, err = x.copier(t, xacct.WithCompare(xacct.CompareETag), xacct.WithPreflight(false)).Sync(t.Context(), x.src, x.dst)
	require.NoError(t, err)
	assert.Zero(t, rep.Copied, "equal ETags: nothing to copy")
	assert.EqualValues(t, 1, rep.Skipped)
	reqs = requestDelta(before, x.sb.Requests())
	assert.Zero(t, reqs["UploadPart"]+reqs["PutObject"]+reqs["GetObject"], "%v", reqs)
}

// Multipart sources small enough for the buffered PutObject (below the
// multipart threshold) or the unbuffered one (below the stream upload
// cutoff) are streamed with their own parts too, so they keep their ETag.
func TestStreamSmallMultipartSourceKeepsETag(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []xacct.CopierOption
	}{
		{"below the multipart threshold", []xacct.CopierOption{xacct.WithMultipartThreshold(16 * miB), xacct.WithStreamUploadCutoff(32 * miB)}},
		{"below the stream upload cutoff", []xacct.CopierOption{xacct.WithStreamUploadCutoff(32 * miB)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newTwoIdentities(t)
			body := seededBytes(5*miB+1, 4)
			etag := putInParts(t, x.ownerA, x.src.Bucket, "small.bin", body, 5*miB, 1)
			before := x.sb.Requests()
			rep, err := x.copier(t, append(tc.opts, xacct.WithPreflight(false))...).Sync(t.Context(), x.src, x.dst)
			require.NoError(t, err)
			assert.EqualValues(t, 1, rep.Copied)
			assert.Zero(t, rep.Warned)
			reqs := requestDelta(before, x.sb.Requests())
			assert.Zero(t, reqs["PutObject"], "%v", reqs)
			assert.Equal(t, 2, reqs["UploadPart"], "%v", reqs)
			assert.Equal(t, etag, etagOf(x.head(t, x.ownerB, x.dst.Bucket, "copy/small.bin")))
			assert.True(t, bytes.Equal(body, getStored(t, x.ownerB, x.dst.Bucket, "copy/small.bin").body), "bytes differ")
		})
	}
}

// An object written with one PutObject keeps today's paths: one
// PutObject, buffered below the threshold or unbuffered below the
// cutoff.
func TestStreamSinglePartSourceTakesOnePut(t *testing.T) {
	for _, size := range []int{miB, 6 * miB} {
		x := newTwoIdentities(t)
		body := seededBytes(size, 5)
		_, err := x.ownerA.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(x.src.Bucket), Key: aws.String("one.bin"), Body: bytes.NewReader(body)})
		require.NoError(t, err)
		before := x.sb.Requests()
		rep, err := x.copier(t, xacct.WithStreamUploadCutoff(32*miB), xacct.WithPreflight(false)).Sync(t.Context(), x.src, x.dst)
		require.NoError(t, err)
		assert.EqualValues(t, 1, rep.Copied)
		assert.Zero(t, rep.Warned)
		reqs := requestDelta(before, x.sb.Requests())
		assert.Equal(t, 1, reqs["PutObject"], "size %d: %v", size, reqs)
		assert.Zero(t, reqs["CreateMultipartUpload"]+reqs["UploadPart"], "size %d: %v", size, reqs)
		assert.True(t, bytes.Equal(body, getStored(t, x.ownerB, x.dst.Bucket, "copy/one.bin").body), "size %d: bytes differ", size)
	}
}
