package xacct_test

import (
	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// A dry run needs no write permission: it shows the whole plan and
// reports what the real run would miss.
func TestDryRunShowsPlanDespiteMissingPermissions(t *testing.T) {
	x := newTwoIdentities(t)
	ctx := t.Context()
	for _, k := range []string{"a.txt", "b/c.txt"} {
		_, err := x.ownerA.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(x.src.Bucket), Key: aws.String(k), Body: bytes.NewReader([]byte(k))})
		require.NoError(t, err)
	}
	listOnly, _ := xacct.RemoveStatements(ptr(xacct.DestinationWritePolicy(x.dst)), "XacctDestinationWrite")
	viewer, err := x.sb.AddUser(sandbox.AccountB, "viewer", policyJSON(t, *listOnly))
	require.NoError(t, err)
	c, err := xacct.NewCopierFromConfigs(x.sb.Config(x.reader), x.sb.Config(viewer))
	require.NoError(t, err)

	writes := func() int { r := x.sb.Requests(); return r["PutObject"] + r["CompleteMultipartUpload"] }
	before := writes()
	rep, err := c.Sync(ctx, x.src, x.dst, xacct.WithDryRun(true))
	require.ErrorIs(t, err, xacct.ErrAccessDenied)
	assert.Contains(t, err.Error(), "s3:PutObject")
	assert.EqualValues(t, 2, rep.Copied, "the plan is complete")
	assert.Equal(t, before, writes(), "a dry run writes nothing")

	rep, err = c.Sync(ctx, x.src, x.dst)
	require.ErrorIs(t, err, xacct.ErrAccessDenied)
	assert.Zero(t, rep.Copied, "a real run stops at the preflight")
}
