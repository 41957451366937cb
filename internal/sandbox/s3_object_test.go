package sandbox_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct/internal/sandbox"
)

// multipartETag is AWS's ETag of an object uploaded in these parts.
func multipartETag(parts ...[]byte) string {
	var sums []byte
	for _, p := range parts {
		s := md5.Sum(p)
		sums = append(sums, s[:]...)
	}
	s := md5.Sum(sums)
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(s[:]), len(parts))
}

func plainETag(b []byte) string {
	s := md5.Sum(b)
	return `"` + hex.EncodeToString(s[:]) + `"`
}

// uploadParts uploads an object in the given parts and returns the
// CompleteMultipartUpload ETag.
func uploadParts(t *testing.T, c *s3.Client, bucket, key string, parts ...[]byte) string {
	t.Helper()
	ctx := t.Context()
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	require.NoError(t, err)
	var done []types.CompletedPart
	for i, p := range parts {
		n := aws.Int32(int32(i + 1))
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: mp.UploadId, PartNumber: n, Body: bytes.NewReader(p)})
		require.NoError(t, err)
		done = append(done, types.CompletedPart{PartNumber: n, ETag: out.ETag})
	}
	out, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	require.NoError(t, err)
	return aws.ToString(out.ETag)
}

// S3 refuses to complete an upload whose parts other than the last are
// under 5 MiB; the last may be smaller.
func TestCompleteRefusesSmallParts(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "mpb"))
	big := bytes.Repeat([]byte("a"), 5<<20)
	assert.Equal(t, multipartETag(big, []byte("tail")), uploadParts(t, c, "mpb", "ok", big, []byte("tail")))

	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpb"), Key: aws.String("small")})
	require.NoError(t, err)
	var done []types.CompletedPart
	for i, p := range [][]byte{[]byte("head"), big} {
		n := aws.Int32(int32(i + 1))
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpb"), Key: aws.String("small"), UploadId: mp.UploadId, PartNumber: n, Body: bytes.NewReader(p)})
		require.NoError(t, err)
		done = append(done, types.CompletedPart{PartNumber: n, ETag: out.ETag})
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpb"), Key: aws.String("small"), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	requireCode(t, err, "EntityTooSmall")
	requireStatus(t, err, 400)
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("mpb"), Key: aws.String("small")})
	require.Error(t, err, "nothing written")
}

func TestMultipartETagEverywhere(t *testing.T) {
	sb := start(t)
	sb.AllowSmallParts() // parts of a few bytes keep the expectations readable
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "mpb"))
	_, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("mpb"), VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	require.NoError(t, err)
	p1, p2, p3 := bytes.Repeat([]byte("a"), 7), bytes.Repeat([]byte("b"), 7), []byte("cc")
	want := multipartETag(p1, p2, p3)

	assert.Equal(t, want, uploadParts(t, c, "mpb", "obj", p1, p2, p3))
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("mpb"), Key: aws.String("obj")})
	require.NoError(t, err)
	assert.Equal(t, want, aws.ToString(head.ETag))
	assert.Equal(t, int64(16), aws.ToInt64(head.ContentLength))
	getOut, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("mpb"), Key: aws.String("obj")})
	require.NoError(t, err)
	body, err := io.ReadAll(getOut.Body)
	require.NoError(t, err)
	getOut.Body.Close()
	assert.Equal(t, want, aws.ToString(getOut.ETag))
	assert.Equal(t, "aaaaaaabbbbbbbcc", string(body))
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("mpb")})
	require.NoError(t, err)
	require.Len(t, list.Contents, 1)
	assert.Equal(t, want, aws.ToString(list.Contents[0].ETag))
	assert.Equal(t, types.ObjectStorageClassStandard, list.Contents[0].StorageClass)

	// A plain overwrite is a plain MD5 again; the old version keeps its
	// multipart ETag.
	require.NoError(t, put(ctx, c, "mpb", "obj", "plain"))
	head, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("mpb"), Key: aws.String("obj")})
	require.NoError(t, err)
	assert.Equal(t, plainETag([]byte("plain")), aws.ToString(head.ETag))
	list, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("mpb")})
	require.NoError(t, err)
	assert.Equal(t, plainETag([]byte("plain")), aws.ToString(list.Contents[0].ETag))
	versions, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("mpb")})
	require.NoError(t, err)
	var etags []string
	for _, v := range versions.Versions {
		etags = append(etags, aws.ToString(v.ETag))
	}
	assert.ElementsMatch(t, []string{want, plainETag([]byte("plain"))}, etags)
}

func TestPartNumberReads(t *testing.T) {
	sb := start(t)
	sb.AllowSmallParts() // parts of a few bytes keep the expectations readable
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "bkt"))
	uploadParts(t, c, "bkt", "mp", []byte("0123456789"), []byte("abcdefghij"), []byte("XYZ"))
	require.NoError(t, put(ctx, c, "bkt", "single", "whole"))

	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("mp"), PartNumber: aws.Int32(2)})
	require.NoError(t, err)
	assert.Equal(t, int64(10), aws.ToInt64(head.ContentLength))
	assert.Equal(t, int32(3), aws.ToInt32(head.PartsCount))
	assert.Equal(t, "bytes 10-19/23", aws.ToString(head.ContentRange))
	assert.Equal(t, multipartETag([]byte("0123456789"), []byte("abcdefghij"), []byte("XYZ")), aws.ToString(head.ETag))

	for n, want := range map[int32]string{1: "0123456789", 2: "abcdefghij", 3: "XYZ"} {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("mp"), PartNumber: aws.Int32(n)})
		require.NoError(t, err)
		body, err := io.ReadAll(out.Body)
		out.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, want, string(body), "part %d", n)
		assert.Equal(t, int32(3), aws.ToInt32(out.PartsCount))
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("mp"), PartNumber: aws.Int32(4)})
	requireCode(t, err, "InvalidPartNumber")

	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("single"), PartNumber: aws.Int32(1)})
	require.NoError(t, err)
	body, _ := io.ReadAll(out.Body)
	out.Body.Close()
	assert.Equal(t, "whole", string(body))
	assert.Nil(t, out.PartsCount)
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("single"), PartNumber: aws.Int32(2)})
	requireStatus(t, err, 416)
}

func TestUploadPartCopy(t *testing.T) {
	sb := start(t)
	sb.AllowSmallParts() // parts of a few bytes keep the expectations readable
	ctx := t.Context()
	rootA, rootB := sb.Root(sandbox.AccountA), sb.Root(sandbox.AccountB)
	a := sb.S3(rootA)
	require.NoError(t, sb.CreateBucket(ctx, rootA, "src"))
	require.NoError(t, sb.CreateBucket(ctx, rootB, "dst"))
	src := make([]byte, 1000)
	for i := range src {
		src[i] = byte(i * 7)
	}
	srcETag := uploadParts(t, a, "src", "obj", src[:400], src[400:800], src[800:])
	record(sb, nil)

	mp, err := a.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("dst"), Key: aws.String("copy")})
	require.NoError(t, err)
	var parts []types.CompletedPart
	for i, rng := range []string{"bytes=0-399", "bytes=400-799", "bytes=800-999"} {
		n := aws.Int32(int32(i + 1))
		out, err := a.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("dst"), Key: aws.String("copy"), UploadId: mp.UploadId, PartNumber: n,
			CopySource: aws.String("src/obj"), CopySourceRange: aws.String(rng), CopySourceIfMatch: aws.String(srcETag)})
		require.NoError(t, err)
		require.NotNil(t, out.CopyPartResult)
		assert.NotNil(t, out.CopyPartResult.LastModified)
		parts = append(parts, types.CompletedPart{PartNumber: n, ETag: out.CopyPartResult.ETag})
	}
	assert.Equal(t, plainETag(src[400:800]), aws.ToString(parts[1].ETag))
	_, err = a.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("dst"), Key: aws.String("copy"), UploadId: mp.UploadId, PartNumber: aws.Int32(9),
		CopySource: aws.String("src/obj"), CopySourceIfMatch: aws.String(`"0123"`)})
	requireCode(t, err, "PreconditionFailed")
	requireStatus(t, err, 412)
	_, err = a.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("dst"), Key: aws.String("copy"), UploadId: mp.UploadId, PartNumber: aws.Int32(9),
		CopySource: aws.String("src/obj"), CopySourceRange: aws.String("bytes=900-1000")})
	requireCode(t, err, "InvalidArgument")
	done, err := a.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("dst"), Key: aws.String("copy"), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	require.NoError(t, err)
	assert.Equal(t, srcETag, aws.ToString(done.ETag), "same part sizes, same ETag")

	body, err := get(t, sb.S3(rootB), "dst", "copy")
	require.NoError(t, err)
	assert.True(t, bytes.Equal(src, []byte(body)))
	head, err := a.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy")})
	require.NoError(t, err)
	assert.Equal(t, srcETag, aws.ToString(head.ETag))

	// Without a range the whole object is the part.
	mp, err = a.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("dst"), Key: aws.String("whole")})
	require.NoError(t, err)
	out, err := a.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("dst"), Key: aws.String("whole"), UploadId: mp.UploadId, PartNumber: aws.Int32(1), CopySource: aws.String("src/obj")})
	require.NoError(t, err)
	assert.Equal(t, plainETag(src), aws.ToString(out.CopyPartResult.ETag))
	assert.Equal(t, 6, sb.Requests()["UploadPartCopy"])
}

func TestCopyObjectSemantics(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "bkt"))
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("src"), Body: strings.NewReader("data"),
		ContentType: aws.String("text/plain"), Metadata: map[string]string{"a": "1", "b": "2"}, Tagging: aws.String("team=red&env=dev")})
	require.NoError(t, err)
	metaOf := func(key string) (map[string]string, string) {
		out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key)})
		require.NoError(t, err)
		return out.Metadata, aws.ToString(out.ContentType)
	}
	tagsOf := func(key string) map[string]string {
		out, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("bkt"), Key: aws.String(key)})
		require.NoError(t, err)
		m := map[string]string{}
		for _, tg := range out.TagSet {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		return m
	}
	assert.Equal(t, map[string]string{"team": "red", "env": "dev"}, tagsOf("src"))

	t.Run("COPY keeps source metadata and tags", func(t *testing.T) {
		out, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("copy"), CopySource: aws.String("bkt/src"), Metadata: map[string]string{"ignored": "x"}})
		require.NoError(t, err)
		assert.Equal(t, plainETag([]byte("data")), aws.ToString(out.CopyObjectResult.ETag))
		meta, ct := metaOf("copy")
		assert.Equal(t, map[string]string{"a": "1", "b": "2"}, meta)
		assert.Equal(t, "text/plain", ct)
		assert.Equal(t, map[string]string{"team": "red", "env": "dev"}, tagsOf("copy"))
	})
	t.Run("REPLACE replaces metadata and tags", func(t *testing.T) {
		_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("repl"), CopySource: aws.String("bkt/src"),
			MetadataDirective: types.MetadataDirectiveReplace, Metadata: map[string]string{"c": "3"}, ContentType: aws.String("application/json"),
			TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("owner=b")})
		require.NoError(t, err)
		meta, ct := metaOf("repl")
		assert.Equal(t, map[string]string{"c": "3"}, meta)
		assert.Equal(t, "application/json", ct)
		assert.Equal(t, map[string]string{"owner": "b"}, tagsOf("repl"))
		body, err := get(t, c, "bkt", "repl")
		require.NoError(t, err)
		assert.Equal(t, "data", body)
	})
	t.Run("overwrite does not merge metadata", func(t *testing.T) {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("repl"), Body: strings.NewReader("new"), Metadata: map[string]string{"d": "4"}})
		require.NoError(t, err)
		meta, _ := metaOf("repl")
		assert.Equal(t, map[string]string{"d": "4"}, meta)
		assert.Empty(t, tagsOf("repl"), "a new object has no tags")
	})
	t.Run("copy-source-if-match", func(t *testing.T) {
		_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("c2"), CopySource: aws.String("bkt/src"), CopySourceIfMatch: aws.String(`"nope"`)})
		requireCode(t, err, "PreconditionFailed")
		requireStatus(t, err, 412)
		_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("c2"), CopySource: aws.String("bkt/src"), CopySourceIfMatch: aws.String(plainETag([]byte("data")))})
		require.NoError(t, err)
		_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("c3"), CopySource: aws.String("bkt/src"), CopySourceIfNoneMatch: aws.String(plainETag([]byte("data")))})
		requireCode(t, err, "PreconditionFailed")
	})
	t.Run("missing source", func(t *testing.T) {
		_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("c4"), CopySource: aws.String("bkt/absent")})
		requireCode(t, err, "NoSuchKey")
	})
}

func TestCopyObjectVersion(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "ver"))
	_, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("ver"), VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	require.NoError(t, err)
	first, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("ver"), Key: aws.String("k"), Body: strings.NewReader("one"), Metadata: map[string]string{"gen": "1"}})
	require.NoError(t, err)
	require.NotEmpty(t, aws.ToString(first.VersionId))
	require.NoError(t, put(ctx, c, "ver", "k", "two"))

	out, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("ver"), Key: aws.String("old"), CopySource: aws.String("ver/k?versionId=" + aws.ToString(first.VersionId))})
	require.NoError(t, err)
	assert.Equal(t, aws.ToString(first.VersionId), aws.ToString(out.CopySourceVersionId))
	assert.NotEmpty(t, aws.ToString(out.VersionId))
	body, err := get(t, c, "ver", "old")
	require.NoError(t, err)
	assert.Equal(t, "one", body)
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("ver"), Key: aws.String("old")})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"gen": "1"}, head.Metadata)

	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("ver"), Key: aws.String("x"), CopySource: aws.String("ver/k?versionId=missing")})
	require.Error(t, err)
}

func TestEncryptionStorageClassChecksumEcho(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "bkt"))
	const key = "arn:aws:kms:us-east-1:111111111111:key/abc"
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: strings.NewReader("secret body"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(key), StorageClass: types.StorageClassStandardIa,
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	require.NoError(t, err)

	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), ChecksumMode: types.ChecksumModeEnabled})
	require.NoError(t, err)
	assert.Equal(t, types.ServerSideEncryptionAwsKms, head.ServerSideEncryption)
	assert.Equal(t, key, aws.ToString(head.SSEKMSKeyId))
	assert.Equal(t, types.StorageClassStandardIa, head.StorageClass)
	assert.NotEmpty(t, aws.ToString(head.ChecksumSHA256))
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), ChecksumMode: types.ChecksumModeEnabled})
	require.NoError(t, err)
	_, err = io.ReadAll(out.Body)
	require.NoError(t, err)
	out.Body.Close()
	assert.Equal(t, types.ServerSideEncryptionAwsKms, out.ServerSideEncryption)
	assert.Equal(t, types.StorageClassStandardIa, out.StorageClass)
	assert.Equal(t, aws.ToString(head.ChecksumSHA256), aws.ToString(out.ChecksumSHA256))

	// A ranged read carries no full-object checksum, so validation passes.
	ranged, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Range: aws.String("bytes=0-5"), ChecksumMode: types.ChecksumModeEnabled})
	require.NoError(t, err)
	part, err := io.ReadAll(ranged.Body)
	require.NoError(t, err)
	ranged.Body.Close()
	assert.Equal(t, "secret", string(part))

	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")})
	require.NoError(t, err)
	assert.Equal(t, types.ObjectStorageClassStandardIa, list.Contents[0].StorageClass)

	// A copy is stored as its own request says.
	cp, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("c"), CopySource: aws.String("bkt/k"), ServerSideEncryption: types.ServerSideEncryptionAes256})
	require.NoError(t, err)
	assert.Equal(t, types.ServerSideEncryptionAes256, cp.ServerSideEncryption)
	head, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("c")})
	require.NoError(t, err)
	assert.Equal(t, types.ServerSideEncryptionAes256, head.ServerSideEncryption)
	assert.Empty(t, head.StorageClass)
	assert.Empty(t, aws.ToString(head.SSEKMSKeyId))

	// Multipart uploads keep what CreateMultipartUpload said.
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("mp"), ServerSideEncryption: types.ServerSideEncryptionAwsKms,
		SSEKMSKeyId: aws.String(key), StorageClass: types.StorageClassGlacierIr, Tagging: aws.String("a=b")})
	require.NoError(t, err)
	p, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("mp"), UploadId: mp.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("xyz")})
	require.NoError(t, err)
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("mp"), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: p.ETag}}}})
	require.NoError(t, err)
	head, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("mp")})
	require.NoError(t, err)
	assert.Equal(t, types.ServerSideEncryptionAwsKms, head.ServerSideEncryption)
	assert.Equal(t, types.StorageClassGlacierIr, head.StorageClass)
	tags, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("bkt"), Key: aws.String("mp")})
	require.NoError(t, err)
	require.Len(t, tags.TagSet, 1)
	assert.Equal(t, "a", aws.ToString(tags.TagSet[0].Key))
}
