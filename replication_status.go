package xacct

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// ErrReplicationPending is returned by WaitReplicated when objects are
// still PENDING at the timeout.
var ErrReplicationPending = errors.New("replication still pending")

// ReplicationState is an object version's replication status, normalised:
// S3 reports a completed source as COMPLETE or COMPLETED depending on the
// API, and nothing at all for objects no rule covers.
type ReplicationState string

// Replication states.
const (
	// ReplicationNone: no rule applied when the version was written (or it
	// predates the configuration; see Backfill).
	ReplicationNone = ReplicationState("NONE")
	// ReplicationPending: S3 has not replicated the source version yet.
	ReplicationPending = ReplicationState("PENDING")
	// ReplicationCompleted: the source version was replicated.
	ReplicationCompleted = ReplicationState("COMPLETED")
	// ReplicationFailed: replication of the source version failed, most
	// often for want of a permission; Batch Replication can retry it.
	ReplicationFailed = ReplicationState("FAILED")
	// ReplicationReplica: the version is itself a replica.
	ReplicationReplica = ReplicationState("REPLICA")
)

// NormalizeReplicationStatus maps the SDK's values to a ReplicationState:
// COMPLETE and COMPLETED are both ReplicationCompleted, "" is
// ReplicationNone.
func NormalizeReplicationStatus(s types.ReplicationStatus) ReplicationState {
	switch strings.ToUpper(string(s)) {
	case "":
		return ReplicationNone
	case string(types.ReplicationStatusComplete), string(types.ReplicationStatusCompleted):
		return ReplicationCompleted
	}
	return ReplicationState(strings.ToUpper(string(s)))
}

// ReplicationStatusAPI reads objects' replication status; *s3.Client
// satisfies it.
type ReplicationStatusAPI interface {
	HeadObjectAPI
	ListObjectsV2API
}

var _ ReplicationStatusAPI = (*s3.Client)(nil)

// StatusQuery selects the source objects Status looks at: the keys given,
// or else every object under Prefix ("" for the whole bucket).
type StatusQuery struct {
	Keys   []string
	Prefix string
}

// ObjectReplicationStatus is one object's current version and its state.
type ObjectReplicationStatus struct {
	Key       string
	VersionID string
	State     ReplicationState
}

// ReplicationStatusReport is the state of each object Status looked at,
// in key order, and how many are in each state.
type ReplicationStatusReport struct {
	Objects []ObjectReplicationStatus
	Counts  map[ReplicationState]int
}

// Done reports whether no object is PENDING.
func (r *ReplicationStatusReport) Done() bool { return r.Counts[ReplicationPending] == 0 }

// String formats the counts as "COMPLETED=3 FAILED=1", states in a fixed
// order, zero counts left out.
func (r *ReplicationStatusReport) String() string {
	var parts []string
	for _, s := range []ReplicationState{ReplicationCompleted, ReplicationPending, ReplicationFailed, ReplicationReplica, ReplicationNone} {
		if n := r.Counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", s, n))
		}
	}
	if len(parts) == 0 {
		return "no objects"
	}
	return strings.Join(parts, " ")
}

// Status reads the replication state of the source objects q selects,
// with one HeadObject each (ListObjectsV2 first for a prefix). client
// reads the source bucket.
func (c *ReplicationConfigurator) Status(ctx context.Context, client ReplicationStatusAPI, q StatusQuery) (*ReplicationStatusReport, error) {
	keys := q.Keys
	if len(keys) == 0 {
		for obj, err := range List(ctx, client, Location{Bucket: c.spec.Source.Bucket, Prefix: q.Prefix}) {
			if err != nil {
				return nil, err
			}
			keys = append(keys, obj.Key)
		}
	}
	rep := &ReplicationStatusReport{Counts: map[ReplicationState]int{}}
	for _, k := range keys {
		out, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(c.spec.Source.Bucket), Key: aws.String(k), ExpectedBucketOwner: owner(c.spec.Source.Account)})
		if err != nil {
			return nil, &ObjectError{Op: "HeadObject", Bucket: c.spec.Source.Bucket, Key: k, Err: err}
		}
		st := NormalizeReplicationStatus(out.ReplicationStatus)
		rep.Objects = append(rep.Objects, ObjectReplicationStatus{Key: k, VersionID: aws.ToString(out.VersionId), State: st})
		rep.Counts[st]++
	}
	return rep, nil
}

// WaitReplicated polls Status until no object is PENDING or timeout
// passes, waiting 100ms after the first poll and doubling up to 5s. At the
// timeout it returns the last report and an error wrapping
// ErrReplicationPending.
func (c *ReplicationConfigurator) WaitReplicated(ctx context.Context, client ReplicationStatusAPI, q StatusQuery, timeout time.Duration) (*ReplicationStatusReport, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := 100 * time.Millisecond
	for {
		rep, err := c.Status(ctx, client, q)
		if err != nil {
			return nil, err
		}
		if rep.Done() {
			return rep, nil
		}
		c.log.DebugContext(ctx, "replication pending", "bucket", c.spec.Source.Bucket, "counts", rep.String())
		select {
		case <-ctx.Done():
			return rep, fmt.Errorf("%w after %s: %s", ErrReplicationPending, timeout, rep)
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}
