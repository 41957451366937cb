package xacct_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// probeWriter is newTwoIdentities with a writer whose destination grants
// lack drop, so that the write probe, which sends the
// bucket-owner-full-control ACL and a tag, is refused and retried: once
// bare, once with the ACL alone and once with the tag alone.
func probeWriter(t *testing.T, drop ...string) (*twoIdentities, *xacct.Copier) {
	t.Helper()
	x := newTwoIdentities(t)
	putObjects(t, x.ownerA, x.src.Bucket, map[string]string{"a": "a"})
	write := xacct.DestinationWritePolicy(x.dst)
	for i, s := range write.Statement {
		write.Statement[i].Action = slices.DeleteFunc(slices.Clone(s.Action), func(a string) bool { return slices.Contains(drop, a) })
	}
	writer := mustUser(t, x.sb, sandbox.AccountB, "probe-writer", write)
	c, err := xacct.NewCopierFromConfigs(x.sb.Config(x.reader), x.sb.Config(writer),
		xacct.WithSourceAccount(sandbox.AccountA), xacct.WithDestinationAccount(sandbox.AccountB))
	require.NoError(t, err)
	return x, c
}

// passThrough lets the next n requests of op through
// untouched, ahead of faults injected after it.
func passThrough(sb *sandbox.Sandbox, op string, n int) {
	sb.InjectFault(sandbox.FaultSpec{Op: op, Kind: sandbox.FaultLatency, Latency: time.Nanosecond, Times: n})
}

// A server error on the tagged probe upload is the preflight's error, not
// a tag write taken as allowed.
func TestPreflightTagProbeServerErrorIsHard(t *testing.T) {
	x, c := probeWriter(t, "s3:PutObjectAcl")
	// Uploads: with ACL and tag (refused), bare, ACL alone (refused), tag
	// alone: the fourth fails.
	passThrough(x.sb, "CreateMultipartUpload", 3)
	x.sb.InjectFault(sandbox.FaultSpec{Op: "CreateMultipartUpload", Status: 500})
	rep, err := c.Preflight(t.Context(), x.src, x.dst)
	x.sb.ClearFaults()
	require.Error(t, err)
	var apiErr smithy.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "InternalError", apiErr.ErrorCode())
	assert.NotErrorIs(t, err, xacct.ErrAccessDenied)
	assert.Contains(t, err.Error(), "s3:PutObjectTagging")
	require.NotNil(t, rep)
	for _, ch := range rep.Checks {
		assert.False(t, ch.Action == "s3:PutObjectTagging" && ch.Result == xacct.CheckAllowed, "tag write taken as allowed: %+v", ch)
	}
	assert.Empty(t, listUploads(t, x.ownerB, x.dst.Bucket), "the bare probe upload is aborted before returning")
}

// A writer without s3:AbortMultipartUpload leaves two probe uploads (the
// bare one and the tagged one): the finding names both, with the key.
func TestPreflightNamesEveryProbeUploadLeftBehind(t *testing.T) {
	x, c := probeWriter(t, "s3:PutObjectAcl", "s3:AbortMultipartUpload")
	rep, err := c.Preflight(t.Context(), x.src, x.dst)
	require.NoError(t, err)
	left := listUploads(t, x.ownerB, x.dst.Bucket)
	require.Len(t, left, 2, "the bare and the tagged probe uploads")
	found, _ := findingsFor(rep, "s3:AbortMultipartUpload")
	require.Len(t, found, 1, "%v", rep.Err())
	assertNamesUploads(t, found[0].Hint, left)
	assert.Contains(t, found[0].Hint, "AbortIncompleteMultipartUpload")
	assert.Contains(t, rep.Err().Error(), found[0].Hint)
}

// An abort refused once, for the tagged probe upload, while the bare one
// is aborted: the write check still gets a finding naming the upload
// left behind.
func TestPreflightNamesAProbeUploadWhoseAbortWasRefused(t *testing.T) {
	x, c := probeWriter(t, "s3:PutObjectAcl")
	x.sb.InjectFault(sandbox.FaultSpec{Op: "AbortMultipartUpload", Status: 403, Code: "AccessDenied", Times: 1})
	rep, err := c.Preflight(t.Context(), x.src, x.dst)
	require.NoError(t, err)
	left := listUploads(t, x.ownerB, x.dst.Bucket)
	require.Len(t, left, 1)
	found, denied := findingsFor(rep, "s3:AbortMultipartUpload")
	require.Len(t, found, 1, "%v", rep.Err())
	assert.Len(t, denied, 1)
	assertNamesUploads(t, found[0].Hint, left)
	assert.Contains(t, found[0].Hint, "AbortIncompleteMultipartUpload")
}

// Aborts that fail with a server error: the preflight's error names every
// upload left behind.
func TestPreflightAbortServerErrorNamesTheUploads(t *testing.T) {
	x, c := probeWriter(t, "s3:PutObjectAcl")
	x.sb.InjectFault(sandbox.FaultSpec{Op: "AbortMultipartUpload", Status: 500})
	_, err := c.Preflight(t.Context(), x.src, x.dst)
	x.sb.ClearFaults()
	require.Error(t, err)
	assert.NotErrorIs(t, err, xacct.ErrAccessDenied)
	left := listUploads(t, x.ownerB, x.dst.Bucket)
	require.Len(t, left, 2, "the tagged and the bare probe uploads")
	assertNamesUploads(t, err.Error(), left)
	assert.Contains(t, err.Error(), "AbortIncompleteMultipartUpload")
}

// assertNamesUploads asserts that msg names each upload of uploads
// (listUploads' "key id") by its id and key.
func assertNamesUploads(t *testing.T, msg string, uploads []string) {
	t.Helper()
	for _, u := range uploads {
		key, id, ok := strings.Cut(u, " ")
		require.True(t, ok, u)
		assert.Contains(t, msg, strconv.Quote(id))
		assert.Contains(t, msg, key)
	}
}
