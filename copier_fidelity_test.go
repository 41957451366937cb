package xacct_test

import (
	"bytes"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
)

// redirectClient makes every copy of a.bin read b.bin instead, as a
// buggy or hostile server might: same size, other bytes.
func redirectClient(e *env, redirected *atomic.Int32) *hookClient {
	return &hookClient{
		Client: e.client,
		editCopy: func(in *s3.CopyObjectInput) error {
			if strings.HasSuffix(aws.ToString(in.Key), "a.bin") {
				redirected.Add(1)
				in.CopySource, in.CopySourceIfMatch = aws.String(e.src+"/b.bin"), nil
			}
			return nil
		},
		editPart: func(in *s3.UploadPartCopyInput) {
			if strings.HasSuffix(aws.ToString(in.Key), "a.bin") {
				redirected.Add(1)
				in.CopySource, in.CopySourceIfMatch = aws.String(e.src+"/b.bin"), nil
			}
		},
	}
}

// With default options, a copy that does not hold its source's bytes is
// never reported as a plain success. The sources were uploaded in parts
// with CRC32 checksums, so they have only a composite checksum of their
// parts and a multipart ETag; the copy repeats their parts, so its ETag
// and composite checksum prove it or catch it.
func TestCopyOfMultipartSourceIsNeverSilentlyWrong(t *testing.T) {
	crc32 := func(in *s3.CreateMultipartUploadInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32 }
	for _, tc := range []struct {
		name string
		opts []xacct.CopierOption
	}{
		// The copy has the source's parts, so its ETag and composite
		// checksum must be the source's.
		{"parts repeated", nil},
		// Under SSE-KMS no ETag is an MD5; the composite checksum of the
		// same parts still tells.
		{"parts repeated, SSE-KMS", []xacct.CopierOption{xacct.WithSSEKMSKeyID("arn:aws:kms:us-east-1:111111111111:key/k-1")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			sizes := []int{5 * mib, 3*mib + 11}
			e.putParts(t, e.src, "a.bin", pseudoRandom(21, 8*mib+11), sizes, crc32)
			e.putParts(t, e.src, "b.bin", pseudoRandom(22, 8*mib+11), sizes, crc32)
			var redirected atomic.Int32
			c, err := xacct.NewCopier(redirectClient(e, &redirected), tc.opts...)
			require.NoError(t, err)
			rep, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
			require.Positive(t, redirected.Load(), "the copy of a.bin was redirected")

			var verr *xacct.VerifyError
			require.ErrorAs(t, err, &verr)
			assert.ErrorIs(t, err, xacct.ErrMismatch)
			assert.Equal(t, "a.bin", verr.Key)
			assert.Equal(t, "checksum CRC32", verr.Field)
			assert.True(t, verr.Removed)
			assert.EqualValues(t, 1, rep.Failed)
			assert.EqualValues(t, 1, rep.Copied, "b.bin")
			assert.NotContains(t, e.contents(t, e.dst, ""), "a.bin", "the bad copy is removed")
		})
	}
}

// A layout UploadPartCopy cannot repeat (parts under 5 MiB, which S3
// itself refuses and only a lenient server holds) is copied with one
// CopyObject, and with nothing but the size to compare, the copy is a
// warning, not a plain success.
func TestCopyOfUnrepeatableLayoutWarns(t *testing.T) {
	e := newEnv(t)
	e.sb.AllowSmallParts()
	body := pseudoRandom(21, 3*mib+11)
	e.putParts(t, e.src, "a.bin", body, []int{1 * mib, 2*mib + 11}, func(in *s3.CreateMultipartUploadInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32 })
	before := e.sb.Requests()
	rep, err := e.copier(t).Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.NoError(t, err)
	after := e.sb.Requests()
	assert.EqualValues(t, 1, rep.Copied)
	assert.Equal(t, 1, after["CopyObject"]-before["CopyObject"])
	assert.Zero(t, after["UploadPartCopy"]-before["UploadPartCopy"])
	require.Len(t, rep.Warnings, 1)
	assert.Equal(t, xacct.WarningNotVerified, rep.Warnings[0].Kind)
	assert.ErrorIs(t, rep.Warnings[0], xacct.ErrNotComparable)
	assert.True(t, bytes.Equal(body, e.body(t, e.dst, "a.bin")))
}

// With default options (CompareSizeAndTime, 5 GiB copy threshold) a
// source uploaded in parts of mixed sizes is copied with the same parts,
// so the copy's ETag is the source's and a later exact sync has nothing
// to do, from the listings alone; a source written whole still takes one
// CopyObject.
func TestDefaultCopyKeepsMultipartETag(t *testing.T) {
	e := newEnv(t)
	sizes := []int{5 * mib, 7 * mib, 5*mib + 123, 2*mib + 7}
	total := 0
	for _, n := range sizes {
		total += n
	}
	body := pseudoRandom(23, total)
	etag := e.putParts(t, e.src, "mixed.bin", body, sizes, nil)
	require.True(t, strings.HasSuffix(etag, "-4"), etag)
	e.putBytes(t, e.src, "whole.bin", pseudoRandom(24, 6*mib))

	c := e.copier(t)
	before := e.sb.Requests()
	rep, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.NoError(t, err)
	assert.EqualValues(t, 2, rep.Copied)
	assert.Zero(t, rep.Warned)
	after := e.sb.Requests()
	assert.Equal(t, 4, after["UploadPartCopy"]-before["UploadPartCopy"], "one UploadPartCopy per source part")
	assert.Equal(t, 1, after["CopyObject"]-before["CopyObject"], "whole.bin")

	assert.Equal(t, `"`+etag+`"`, aws.ToString(e.head(t, e.dst, "mixed.bin").ETag), "same parts, same ETag")
	assert.Equal(t, e.head(t, e.src, "whole.bin").ETag, e.head(t, e.dst, "whole.bin").ETag)
	assert.True(t, bytes.Equal(body, e.body(t, e.dst, "mixed.bin")))
	assert.Empty(t, e.uploads(t, e.dst))

	before = e.sb.Requests()
	rep, err = c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""), xacct.WithCompare(xacct.CompareETag), xacct.WithPreflight(false))
	require.NoError(t, err)
	assert.Zero(t, rep.Copied)
	assert.EqualValues(t, 2, rep.Skipped)
	after = e.sb.Requests()
	assert.Zero(t, after["CopyObject"]-before["CopyObject"])
	assert.Zero(t, after["UploadPartCopy"]-before["UploadPartCopy"])
	assert.Zero(t, after["HeadObject"]-before["HeadObject"], "the listings settle it")
}
