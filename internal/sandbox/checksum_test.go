package sandbox_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"hash/crc64"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct/internal/sandbox"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func crc32Raw(b []byte) []byte { return binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(b)) }

func crc64NVME(b []byte) string {
	return b64(binary.BigEndian.AppendUint64(nil, crc64.Checksum(b, crc64.MakeTable(0x9a6c9329ac4bc9b5))))
}

// uploadWith uploads parts with an additional checksum algorithm and
// returns the completion's output; full is the whole-object value to
// claim at completion, "" for none.
func uploadWith(t *testing.T, c *s3.Client, bucket, key string, alg types.ChecksumAlgorithm, full string, parts ...[]byte) (*s3.CompleteMultipartUploadOutput, error) {
	t.Helper()
	ctx := t.Context()
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumAlgorithm: alg,
		ContentLanguage: aws.String("de-CH"), CacheControl: aws.String("no-cache"), Expires: aws.Time(time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC))})
	require.NoError(t, err)
	assert.Equal(t, alg, mp.ChecksumAlgorithm)
	var done []types.CompletedPart
	for i, p := range parts {
		n := aws.Int32(int32(i + 1))
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: mp.UploadId, PartNumber: n,
			Body: bytes.NewReader(p), ChecksumAlgorithm: alg})
		require.NoError(t, err)
		done = append(done, types.CompletedPart{PartNumber: n, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32, ChecksumCRC64NVME: out.ChecksumCRC64NVME})
	}
	in := &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}}
	if full != "" {
		in.ChecksumType, in.ChecksumCRC64NVME = types.ChecksumTypeFullObject, aws.String(full)
	}
	return c.CompleteMultipartUpload(ctx, in)
}

func TestMultipartChecksums(t *testing.T) {
	sb := start(t)
	sb.AllowSmallParts() // parts of a few bytes keep the expectations readable
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "sums"))
	p1, p2 := bytes.Repeat([]byte("a"), 7), bytes.Repeat([]byte("b"), 5)
	whole := append(bytes.Clone(p1), p2...)
	head := func(key string) *s3.HeadObjectOutput {
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		require.NoError(t, err)
		return h
	}

	// CRC32: a composite checksum of the parts' checksums.
	out, err := uploadWith(t, c, "sums", "composite", types.ChecksumAlgorithmCrc32, "", p1, p2)
	require.NoError(t, err)
	want := b64(crc32Raw(append(crc32Raw(p1), crc32Raw(p2)...))) + "-2"
	assert.Equal(t, want, aws.ToString(out.ChecksumCRC32))
	assert.Equal(t, types.ChecksumTypeComposite, out.ChecksumType)
	h := head("composite")
	assert.Equal(t, want, aws.ToString(h.ChecksumCRC32))
	assert.Equal(t, types.ChecksumTypeComposite, h.ChecksumType)
	assert.Equal(t, "de-CH", aws.ToString(h.ContentLanguage))
	assert.Equal(t, "no-cache", aws.ToString(h.CacheControl))
	assert.Equal(t, "Thu, 02 Jan 2031 03:04:05 GMT", aws.ToString(h.ExpiresString))
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sums"), Key: aws.String("composite"), ChecksumMode: types.ChecksumModeEnabled})
	require.NoError(t, err)
	got.Body.Close()
	assert.Equal(t, want, aws.ToString(got.ChecksumCRC32))
	assert.Equal(t, "de-CH", aws.ToString(got.ContentLanguage))

	// CRC64NVME: a full-object checksum, checked when the client claims one.
	out, err = uploadWith(t, c, "sums", "full", types.ChecksumAlgorithmCrc64nvme, crc64NVME(whole), p1, p2)
	require.NoError(t, err)
	assert.Equal(t, crc64NVME(whole), aws.ToString(out.ChecksumCRC64NVME))
	assert.Equal(t, types.ChecksumTypeFullObject, head("full").ChecksumType)
	_, err = uploadWith(t, c, "sums", "bad", types.ChecksumAlgorithmCrc64nvme, crc64NVME(p1), p1, p2)
	requireCode(t, err, "BadDigest")
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String("bad")})
	require.Error(t, err, "a refused completion writes nothing")

	// A plain PUT without a checksum gets S3's default CRC64NVME.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("plain"), Body: bytes.NewReader(whole)})
	require.NoError(t, err)
	assert.Equal(t, crc64NVME(whole), aws.ToString(head("plain").ChecksumCRC64NVME))

	// CopyObject of a multipart object gets a whole-object checksum.
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("sums"), Key: aws.String("copied"), CopySource: aws.String("sums/composite")})
	require.NoError(t, err)
	h = head("copied")
	assert.Equal(t, b64(crc32Raw(whole)), aws.ToString(h.ChecksumCRC32))
	assert.Equal(t, "de-CH", aws.ToString(h.ContentLanguage), "COPY keeps the content headers")
}

func TestObjectLockHeaders(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "plain"))
	require.NoError(t, sb.CreateBucket(ctx, root, "locked"))
	until := time.Date(2032, 3, 4, 5, 6, 7, 0, time.UTC)
	put := func(bucket string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"), Body: bytes.NewReader([]byte("x")),
			ObjectLockMode: types.ObjectLockModeCompliance, ObjectLockRetainUntilDate: aws.Time(until), ObjectLockLegalHoldStatus: types.ObjectLockLegalHoldStatusOn})
		return err
	}
	requireCode(t, put("plain"), "InvalidRequest")

	_, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("locked"), VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	require.NoError(t, err)
	_, err = c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: aws.String("locked"),
		ObjectLockConfiguration: &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled}})
	require.NoError(t, err)
	require.NoError(t, put("locked"))
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("locked"), Key: aws.String("k")})
	require.NoError(t, err)
	assert.Equal(t, types.ObjectLockModeCompliance, h.ObjectLockMode)
	require.NotNil(t, h.ObjectLockRetainUntilDate)
	assert.True(t, until.Equal(*h.ObjectLockRetainUntilDate))
	assert.Equal(t, types.ObjectLockLegalHoldStatusOn, h.ObjectLockLegalHoldStatus)

	// A copy takes its lock from its request, never from its source.
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("locked"), Key: aws.String("copy"), CopySource: aws.String("locked/k")})
	require.NoError(t, err)
	h, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("locked"), Key: aws.String("copy")})
	require.NoError(t, err)
	assert.Empty(t, h.ObjectLockMode)
}

// CopyObject with the default tagging directive reads the source's tags,
// and is refused without s3:GetObjectTagging on a tagged source.
func TestCopyObjectChecksTagRead(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "tag-bucket"))
	for key, tagging := range map[string]string{"tagged": "a=1", "untagged": ""} {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tag-bucket"), Key: aws.String(key), Body: bytes.NewReader([]byte("x")), Tagging: aws.String(tagging)})
		require.NoError(t, err)
	}
	rec := record(sb, func(ar *sandbox.AccessRequest) string {
		if ar.Action == "s3:GetObjectTagging" {
			return "no tag reading"
		}
		return ""
	})
	copyOf := func(src string, directive types.TaggingDirective) error {
		_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("tag-bucket"), Key: aws.String(src + "-copy"), CopySource: aws.String("tag-bucket/" + src), TaggingDirective: directive})
		return err
	}
	requireCode(t, copyOf("tagged", ""), "AccessDenied")
	var actions []string
	for _, ar := range rec.take() {
		actions = append(actions, ar.Action+" "+ar.Resource)
	}
	assert.Equal(t, []string{"s3:PutObject arn:aws:s3:::tag-bucket/tagged-copy", "s3:GetObject arn:aws:s3:::tag-bucket/tagged", "s3:GetObjectTagging arn:aws:s3:::tag-bucket/tagged"}, actions)
	require.NoError(t, copyOf("tagged", types.TaggingDirectiveReplace))
	require.NoError(t, copyOf("untagged", ""), "nothing to read on an untagged source")
}
