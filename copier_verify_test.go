package xacct_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
)

func TestVerifyFindsEveryKindOfDifference(t *testing.T) {
	e := newEnv(t)
	e.put(t, e.src, map[string]string{"same.txt": "same", "content.txt": "abcd", "size.txt": "short", "only-src.txt": "x", "skip/me.txt": "x"})
	body := pseudoRandom(11, 11*mib)
	etag := e.putParts(t, e.src, "parts.bin", body, []int{5 * mib, 6 * mib}, nil)
	e.putBytes(t, e.src, "whole.bin", pseudoRandom(12, 6*mib))
	crc32 := func(in *s3.CreateMultipartUploadInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32 }
	layout := pseudoRandom(13, 11*mib)
	e.putParts(t, e.src, "layout.bin", layout, []int{5 * mib, 6 * mib}, crc32)
	c := e.copier(t, xacct.WithMultipartThreshold(5*mib), xacct.WithPartSize(5*mib))
	_, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.NoError(t, err)
	require.Equal(t, `"`+etag+`"`, aws.ToString(e.head(t, e.dst, "parts.bin").ETag))
	e.put(t, e.dst, map[string]string{"content.txt": "abce", "size.txt": "longer", "only-dst.txt": "y"})
	// The same bytes in another part layout: composite checksums of
	// different part counts, nothing to compare but the size.
	e.putParts(t, e.dst, "layout.bin", layout, []int{5 * mib, 5 * mib, 1 * mib}, crc32)
	_, err = e.client.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(e.dst), Key: aws.String("only-src.txt")})
	require.NoError(t, err)

	rep, err := c.Verify(t.Context(), loc(e.src, ""), loc(e.dst, ""), xacct.WithFilters(xacct.Exclude("skip/*")))
	require.ErrorIs(t, err, xacct.ErrMismatch)
	assert.False(t, rep.OK())
	assert.EqualValues(t, 3, rep.Matched, "same.txt, parts.bin by ETag, whole.bin (one part against two) by its CRC64NVME")
	assert.EqualValues(t, 1, rep.SizeOnly, "layout.bin: composite checksums of different part counts")
	assert.EqualValues(t, 2, rep.Differ)
	assert.EqualValues(t, 1, rep.MissingOnDestination)
	assert.EqualValues(t, 1, rep.MissingOnSource)
	assert.EqualValues(t, 1, rep.Excluded, "skip/me.txt, on both sides, counts once")
	var got []string
	for _, d := range rep.Differences {
		got = append(got, d.Key+" "+d.Kind.String())
	}
	assert.Equal(t, []string{"content.txt content", "only-dst.txt missing-on-source", "only-src.txt missing-on-destination", "size.txt size"}, got)

	// A sync with deletes makes the two agree.
	_, err = c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""), xacct.WithDelete(true), xacct.WithCompare(xacct.CompareETag))
	require.NoError(t, err)
	rep, err = c.Verify(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.NoError(t, err)
	assert.True(t, rep.OK())
	assert.Empty(t, rep.Differences)
}

func TestVerifyRejectsBadInput(t *testing.T) {
	e := newEnv(t)
	c := e.copier(t)
	_, err := c.Verify(t.Context(), loc("NOPE", ""), loc(e.dst, ""))
	assert.ErrorIs(t, err, xacct.ErrInvalidLocation)
	_, err = c.Verify(t.Context(), loc(e.src, ""), loc(e.dst, ""), xacct.WithConcurrency(0))
	assert.ErrorIs(t, err, xacct.ErrInvalidOption)
	rep, err := c.Verify(t.Context(), loc(e.src, ""), loc("no-such-bucket", ""))
	require.Error(t, err)
	assert.NotErrorIs(t, err, xacct.ErrMismatch, "a failed listing is not a difference")
	assert.Zero(t, rep.MissingOnDestination)
}

// Multipart ETags and composite checksums of the same part count differ
// when the bytes or the part sizes do: Verify reads the part sizes to
// tell which, so equal bytes in other parts are not reported as different
// and different bytes in the same parts are.
func TestVerifyComparesPartsOnlyWithTheSameLayout(t *testing.T) {
	e := newEnv(t)
	crc32 := func(in *s3.CreateMultipartUploadInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32 }
	body := pseudoRandom(41, 8*mib)
	other := pseudoRandom(42, 8*mib)
	e.putParts(t, e.src, "changed.bin", body, []int{5 * mib, 3 * mib}, crc32)
	e.putParts(t, e.dst, "changed.bin", other, []int{5 * mib, 3 * mib}, crc32)
	e.putParts(t, e.src, "shifted.bin", body, []int{5 * mib, 3 * mib}, crc32)
	e.putParts(t, e.dst, "shifted.bin", body, []int{6 * mib, 2 * mib}, crc32)

	rep, err := e.copier(t).Verify(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.ErrorIs(t, err, xacct.ErrMismatch)
	assert.EqualValues(t, 1, rep.Differ, "changed.bin")
	assert.EqualValues(t, 1, rep.SizeOnly, "shifted.bin: the same bytes, cut elsewhere")
	assert.Zero(t, rep.Matched)
	require.Len(t, rep.Differences, 1)
	assert.Equal(t, "changed.bin", rep.Differences[0].Key)
	assert.Equal(t, xacct.ContentDiffers, rep.Differences[0].Kind)
	assert.Contains(t, rep.Differences[0].Detail, "checksum CRC32")
}
