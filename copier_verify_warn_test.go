package xacct_test

import (
	"testing"

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
	uploadInParts(t, x.ownerA, x.src.Bucket, "parts.bin", body, types.ChecksumAlgorithmCrc32, 41*miB, miB)

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
