package xacct_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// Some S3-compatible servers do not serve ?tagging. A tag-read check that
// gets an answer other than a refusal is left undecided and does not stop
// the sync; a server-side copy does not need to read tags itself.
func TestPreflightTagCheckUndecidedDoesNotStopSync(t *testing.T) {
	e := newEnv(t)
	e.put(t, e.src, map[string]string{"a.txt": "a", "b.txt": "b"})
	e.sb.InjectFault(sandbox.FaultSpec{Op: "GetObjectTagging", Status: 501, Code: "NotImplemented"})

	c := e.copier(t)
	pre, err := c.Preflight(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.NoError(t, err)
	assert.Empty(t, pre.Findings)
	assert.Empty(t, pre.Warnings)
	var skipped []string
	for _, ch := range pre.Checks {
		if ch.Result == xacct.CheckSkipped {
			skipped = append(skipped, ch.Action+": "+ch.Note)
		}
	}
	require.Len(t, skipped, 1)
	assert.Contains(t, skipped[0], "s3:GetObjectTagging: could not be checked: ")
	assert.Contains(t, skipped[0], "NotImplemented")

	rep, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.NoError(t, err)
	assert.EqualValues(t, 2, rep.Copied)
}
