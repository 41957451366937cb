package xacct_test

import (
	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
)

// A writer that may not read its copy back gets a warning, not a failed
// object, when the write's response cannot prove the copy equal: here the
// source's composite checksum covers a 41 MiB and a 1 MiB part, too large
// a part for the stream to repeat (more than 8 × its 5 MiB part size), so
// it writes 5 MiB parts and the two composites cannot be compared.
func TestStreamUnverifiableCopyWarns(t *testing.T) {
	x := newTwoIdentities(t)
	ctx := t.Context()
	body := seededBytes(42*miB, 7)
	up, err := x.ownerA.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(x.src.Bucket), Key: aws.String("parts.bin"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	require.NoError(t, err)
	var parts []types.CompletedPart
	for i, chunk := range [][]byte{body[:41*miB], body[41*miB:]} {
		out, err := x.ownerA.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(x.src.Bucket), Key: aws.String("parts.bin"), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(chunk), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
		require.NoError(t, err)
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
	}
	_, err = x.ownerA.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(x.src.Bucket), Key: aws.String("parts.bin"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	require.NoError(t, err)

	rep, err := x.copier(t).Sync(ctx, x.src, x.dst)
	require.NoError(t, err)
	assert.Equal(t, xacct.ModeStream, rep.Mode)
	assert.EqualValues(t, 1, rep.Copied)
	assert.Zero(t, rep.Failed)
	require.Len(t, rep.Warnings, 1)
	assert.Equal(t, xacct.WarningNotVerified, rep.Warnings[0].Kind)
	assert.Equal(t, "parts.bin", rep.Warnings[0].Key)
	assert.Equal(t, body, getStored(t, x.ownerB, x.dst.Bucket, "copy/parts.bin").body)
}
