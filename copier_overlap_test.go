package xacct_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// heldProbe is how long the overlap tests hold the preflight's write probe
// (its CreateMultipartUpload, which the small copies never send): ample
// time for the listings of a few keys.
const heldProbe = 400 * time.Millisecond

// probeWatch records, for every progress event, whether the preflight's
// write probe had been answered and how many writes the server had seen.
type probeWatch struct {
	sb *sandbox.Sandbox
	mu sync.Mutex
	// aborts and writes are the request counts before the sync.
	aborts, writes int
	events         []watchedEvent
}

type watchedEvent struct {
	action     xacct.Action
	key        string
	probeDone  bool
	writesSeen int
}

func newProbeWatch(sb *sandbox.Sandbox) *probeWatch {
	w := &probeWatch{sb: sb}
	w.aborts, w.writes = w.counts()
	return w
}

func (w *probeWatch) counts() (aborts, writes int) {
	r := w.sb.Requests()
	return r["AbortMultipartUpload"], r["PutObject"] + r["CopyObject"] + r["UploadPart"] + r["CompleteMultipartUpload"] + r["DeleteObjects"]
}

func (w *probeWatch) ObjectDone(e xacct.ObjectEvent) {
	aborts, writes := w.counts()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, watchedEvent{action: e.Action, key: e.Source.Prefix, probeDone: aborts > w.aborts, writesSeen: writes - w.writes})
}

func seedOverlap(t *testing.T, x *twoIdentities, prefix string, n int) {
	t.Helper()
	objs := make(map[string]string, n)
	for i := range n {
		objs[fmt.Sprintf("%s%02d", prefix, i)] = prefix
	}
	putObjects(t, x.ownerA, x.src.Bucket, objs)
}

// The merge-join runs while the preflight does: with the write probe
// held, an up-to-date destination's skips are all reported before the
// probe is answered, and no write happens.
func TestSyncListsWhilePreflightRuns(t *testing.T) {
	x := newTwoIdentities(t)
	seedOverlap(t, x, "z", 10)
	c := x.copier(t)
	_, err := c.Sync(t.Context(), x.src, x.dst)
	require.NoError(t, err)

	defer x.sb.InjectFault(sandbox.FaultSpec{Op: "CreateMultipartUpload", Kind: sandbox.FaultLatency, Latency: heldProbe})()
	w := newProbeWatch(x.sb)
	rep, err := c.Sync(t.Context(), x.src, x.dst, xacct.WithProgress(w))
	require.NoError(t, err)
	assert.EqualValues(t, 10, rep.Skipped)
	assert.EqualValues(t, 10, rep.Listed)
	require.Len(t, w.events, 10)
	for _, e := range w.events {
		assert.Equal(t, xacct.ActionSkip, e.action)
		assert.False(t, e.probeDone, "%s was skipped while the preflight ran", e.key)
		assert.Zero(t, e.writesSeen)
	}
	require.NotNil(t, rep.Preflight)
	assert.Equal(t, xacct.ModeStream, rep.Mode)
}

// Copies wait for the preflight in a bounded queue that holds the merge
// back: with one worker (a queue of two), the keys after the third copy
// are not even compared before the probe is answered, so their skips, like
// every copy, come after it.
func TestSyncCopiesWaitForPreflight(t *testing.T) {
	x := newTwoIdentities(t)
	seedOverlap(t, x, "z", 5)
	c := x.copier(t, xacct.WithConcurrency(1))
	_, err := c.Sync(t.Context(), x.src, x.dst)
	require.NoError(t, err)
	seedOverlap(t, x, "a", 10) // before the z keys: copies, then skips

	defer x.sb.InjectFault(sandbox.FaultSpec{Op: "CreateMultipartUpload", Kind: sandbox.FaultLatency, Latency: heldProbe})()
	w := newProbeWatch(x.sb)
	rep, err := c.Sync(t.Context(), x.src, x.dst, xacct.WithProgress(w))
	require.NoError(t, err)
	assert.EqualValues(t, 10, rep.Copied)
	assert.EqualValues(t, 5, rep.Skipped)
	require.Len(t, w.events, 15)
	skips := 0
	for _, e := range w.events {
		// Had the merge not been held back, the skips would have come
		// while the probe was held, as in TestSyncListsWhilePreflightRuns.
		assert.True(t, e.probeDone, "%s %s before the preflight passed", e.action, e.key)
		if e.action == xacct.ActionSkip {
			skips++
		}
	}
	assert.Equal(t, 5, skips)
}

// A preflight that fails after the listings have gone ahead stops the
// sync as if they had not: its error alone, nothing counted, no copy
// reported, no byte moved.
func TestSyncFailedPreflightAfterListing(t *testing.T) {
	x := newTwoIdentities(t)
	seedOverlap(t, x, "z", 5)
	_, err := x.copier(t).Sync(t.Context(), x.src, x.dst)
	require.NoError(t, err)
	seedOverlap(t, x, "a", 5)

	// The writer loses s3:PutObject; its listing still works.
	listOnly, _ := xacct.RemoveStatements(ptr(xacct.DestinationWritePolicy(x.dst)), "XacctDestinationWrite")
	viewer, err := x.sb.AddUser(sandbox.AccountB, "viewer", policyJSON(t, *listOnly))
	require.NoError(t, err)
	c, err := xacct.NewCopierFromConfigs(x.sb.Config(x.reader), x.sb.Config(viewer))
	require.NoError(t, err)

	defer x.sb.InjectFault(sandbox.FaultSpec{Op: "CreateMultipartUpload", Kind: sandbox.FaultLatency, Latency: heldProbe})()
	w := newProbeWatch(x.sb)
	rep, err := c.Sync(t.Context(), x.src, x.dst, xacct.WithProgress(w))
	require.ErrorIs(t, err, xacct.ErrAccessDenied)
	require.Len(t, rep.Errors, 1, "the preflight's error alone: %v", rep.Errors)
	assert.Contains(t, rep.Errors[0].Error(), "preflight: ")
	assert.Contains(t, rep.Errors[0].Error(), "s3:PutObject")
	assert.Zero(t, rep.Listed)
	assert.Zero(t, rep.Skipped)
	assert.Zero(t, rep.Copied)
	assert.Zero(t, rep.Failed)
	require.NotNil(t, rep.Preflight)
	for _, e := range w.events {
		assert.Equal(t, xacct.ActionSkip, e.action, "only skips may be reported before the preflight: %s %s", e.action, e.key)
	}
	_, writes := w.counts()
	assert.Equal(t, w.writes, writes, "no byte moved")
	assert.Len(t, readAll(t, x.ownerB, x.dst), 5)
}

// The two sides are probed at once, but the report reads as if they had
// been probed one after the other, whichever side answers first.
func TestPreflightReportOrderIndependentOfTiming(t *testing.T) {
	x := newTwoIdentities(t)
	seedOverlap(t, x, "a", 1)
	c := x.copier(t, xacct.WithDelete(true))
	summary := func(rep *xacct.PreflightReport) []string {
		var out []string
		for _, ch := range rep.Checks {
			out = append(out, fmt.Sprintf("%s %s %s", ch.Side, ch.Action, ch.Result))
		}
		return out
	}
	rep, err := c.Preflight(t.Context(), x.src, x.dst)
	require.NoError(t, err)
	want := summary(rep)
	// The source's probes come first, the destination's after.
	first := slices.IndexFunc(want, func(s string) bool { return strings.HasPrefix(s, "destination ") })
	require.Positive(t, first)
	assert.Equal(t, "source s3:ListBucket allowed", want[0])

	for _, slow := range []string{"GetObject", "CreateMultipartUpload", "ListObjectsV2"} {
		t.Run("slow "+slow, func(t *testing.T) {
			defer x.sb.InjectFault(sandbox.FaultSpec{Op: slow, Kind: sandbox.FaultLatency, Latency: 100 * time.Millisecond, Times: 1})()
			rep, err := c.Preflight(t.Context(), x.src, x.dst)
			require.NoError(t, err)
			assert.Equal(t, want, summary(rep))
		})
	}
}

// A hard failure on the source side ends the preflight with what a
// sequential run would have learnt: nothing from the destination's
// probes, though they ran alongside.
func TestPreflightSourceFailureHidesDestinationProbes(t *testing.T) {
	x := newTwoIdentities(t)
	seedOverlap(t, x, "a", 1)
	defer x.sb.InjectFault(sandbox.FaultSpec{Op: "GetObject", Status: 400, Code: "InvalidRequest"})()
	rep, err := x.copier(t).Preflight(t.Context(), x.src, x.dst)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "InvalidRequest")
	require.NotNil(t, rep)
	for _, ch := range rep.Checks {
		assert.Equal(t, xacct.SideSource, ch.Side, "%s %s", ch.Action, ch.Result)
	}
	assert.Empty(t, rep.ACL, "the destination's ownership is not reported")
	assert.Equal(t, "a00", rep.SampleKey)
}
