package xacct_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	controltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// backfillEnv is a replication setup with backfill on, versioning on the
// source from the start, and a configurator that records every state
// WaitBackfill sees.
func backfillEnv(t *testing.T) (*replEnv, *[]xacct.BackfillJob) {
	t.Helper()
	spec := baseReplicationSpec()
	spec.Backfill = true
	e := newReplEnv(t, spec)
	_, err := e.srcS3.PutBucketVersioning(t.Context(), &s3.PutBucketVersioningInput{Bucket: aws.String(spec.Source.Bucket), VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	require.NoError(t, err)
	var seen []xacct.BackfillJob
	e.c, err = xacct.NewReplicationConfigurator(spec,
		xacct.WithBackfillPollInterval(time.Millisecond, 5*time.Millisecond),
		xacct.WithBackfillProgress(func(j xacct.BackfillJob) { seen = append(seen, j) }))
	require.NoError(t, err)
	return e, &seen
}

func statuses(jobs []xacct.BackfillJob) []controltypes.JobStatus {
	out := make([]controltypes.JobStatus, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, j.Status)
	}
	return out
}

// A backfill replicates every version written before the configuration,
// oldest first, so the destination's current version is the source's.
// CreateJob does no work; WaitBackfill follows the job through the states
// before Complete.
func TestBackfillReplicatesEveryVersionAfterPreparing(t *testing.T) {
	e, seen := backfillEnv(t)
	ctx := t.Context()
	v1 := e.put(t, "doc.txt", "first", nil)
	v2 := e.put(t, "doc.txt", "second", nil)
	e.put(t, "other.txt", "other", nil)
	e.applyAll(t)

	control := e.sb.S3Control(e.sb.Root(sandbox.AccountA))
	id, err := e.c.Backfill(ctx, control, "versions-1")
	require.NoError(t, err)
	list, err := e.dstS3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(e.spec.Destination.Bucket)})
	require.NoError(t, err)
	assert.Empty(t, list.Versions, "CreateJob replicates nothing")
	assert.Equal(t, "", e.sb.ReplicationStatus(e.spec.Source.Bucket, "doc.txt", v1))

	job, err := e.c.WaitBackfill(ctx, control, id, 10*time.Second)
	require.NoError(t, err)
	assert.Equal(t, []controltypes.JobStatus{controltypes.JobStatusPreparing, controltypes.JobStatusActive, controltypes.JobStatusComplete}, statuses(*seen))
	assert.Equal(t, 3, e.sb.Requests()["DescribeJob"], "one DescribeJob per state")
	assert.EqualValues(t, 3, job.Total, "both versions of doc.txt and other.txt")
	assert.EqualValues(t, 3, job.Succeeded)
	assert.Zero(t, job.Failed)
	for _, v := range []string{v1, v2} {
		assert.Equal(t, sandbox.ReplicationCompleted, e.sb.ReplicationStatus(e.spec.Source.Bucket, "doc.txt", v), v)
	}

	list, err = e.dstS3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(e.spec.Destination.Bucket), Prefix: aws.String("doc.txt")})
	require.NoError(t, err)
	require.Len(t, list.Versions, 2, "both versions replicated")
	// The replicas belong to account A (no owner override): tell them
	// apart by size, "first" 5 bytes and "second" 6.
	sizes := map[bool]int64{}
	for _, v := range list.Versions {
		sizes[aws.ToBool(v.IsLatest)] = aws.ToInt64(v.Size)
	}
	assert.Equal(t, map[bool]int64{true: int64(len("second")), false: int64(len("first"))}, sizes, "the destination's current version is the source's current one")

	// The same token, after the job ended, still names the same job.
	again, err := e.c.Backfill(ctx, control, "versions-1")
	require.NoError(t, err)
	assert.Equal(t, id, again)
	st, err := e.c.DescribeBackfill(ctx, control, again)
	require.NoError(t, err)
	assert.Equal(t, controltypes.JobStatusComplete, st.Status)
}

// The same ClientRequestToken returns the job while it is still running,
// and the job runs once.
func TestBackfillTokenReturnsRunningJob(t *testing.T) {
	e, _ := backfillEnv(t)
	ctx := t.Context()
	e.put(t, "a.txt", "a", nil)
	e.applyAll(t)
	control := e.sb.S3Control(e.sb.Root(sandbox.AccountA))
	id, err := e.c.Backfill(ctx, control, "")
	require.NoError(t, err)
	st, err := e.c.DescribeBackfill(ctx, control, id)
	require.NoError(t, err)
	assert.Equal(t, controltypes.JobStatusPreparing, st.Status)
	again, err := e.c.Backfill(ctx, control, "")
	require.NoError(t, err)
	assert.Equal(t, id, again)
	job, err := e.c.WaitBackfill(ctx, control, again, 10*time.Second)
	require.NoError(t, err)
	assert.EqualValues(t, 1, job.Succeeded)
}

// Without s3:InitiateReplication every task fails: the job completes with
// failed tasks and WaitBackfill returns a *BackfillError naming the job.
func TestBackfillWithoutInitiateReplicationFailsTasks(t *testing.T) {
	e, seen := backfillEnv(t)
	ctx := t.Context()
	e.put(t, "a.txt", "a", nil)
	e.put(t, "b.txt", "b", nil)
	e.applyAll(t)
	trimmed, changed := xacct.RemoveStatements(ptrPolicy(xacct.ReplicationRolePolicy(e.spec)), "XacctReplicationBatchInitiate")
	require.True(t, changed)
	_, err := e.iamA.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(e.spec.RoleName), PolicyName: aws.String(xacct.ReplicationRolePolicyName), PolicyDocument: aws.String(trimmed.String())})
	require.NoError(t, err)

	control := e.sb.S3Control(e.sb.Root(sandbox.AccountA))
	id, err := e.c.Backfill(ctx, control, "no-initiate")
	require.NoError(t, err)
	job, err := e.c.WaitBackfill(ctx, control, id, 10*time.Second)
	require.Error(t, err)
	assert.ErrorIs(t, err, xacct.ErrBackfillFailed)
	var be *xacct.BackfillError
	require.True(t, errors.As(err, &be))
	assert.Equal(t, id, be.Job.ID)
	assert.Equal(t, controltypes.JobStatusComplete, be.Job.Status)
	assert.EqualValues(t, 2, be.Job.Failed)
	assert.Contains(t, err.Error(), "job "+id+" Complete, 2 of 2 tasks failed")
	require.NotNil(t, job)
	assert.Zero(t, job.Succeeded)
	assert.Contains(t, statuses(*seen), controltypes.JobStatusActive)
	reasons := e.sb.BatchJobTaskFailures(sandbox.AccountA, id)
	require.Len(t, reasons, 2)
	assert.Contains(t, reasons[0], "s3:InitiateReplication")
	list, err := e.dstS3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(e.spec.Destination.Bucket)})
	require.NoError(t, err)
	assert.Empty(t, list.Contents)
}

// Without s3:PutInventoryConfiguration the manifest cannot be generated:
// the job goes from Preparing to Failed with a failure reason, and no
// task runs.
func TestBackfillWithoutManifestPermissionFailsJob(t *testing.T) {
	e, seen := backfillEnv(t)
	ctx := t.Context()
	e.put(t, "a.txt", "a", nil)
	e.applyAll(t)
	trimmed, changed := xacct.RemoveStatements(ptrPolicy(xacct.ReplicationRolePolicy(e.spec)), "XacctReplicationBatchManifest")
	require.True(t, changed)
	_, err := e.iamA.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(e.spec.RoleName), PolicyName: aws.String(xacct.ReplicationRolePolicyName), PolicyDocument: aws.String(trimmed.String())})
	require.NoError(t, err)

	control := e.sb.S3Control(e.sb.Root(sandbox.AccountA))
	id, err := e.c.Backfill(ctx, control, "no-manifest")
	require.NoError(t, err)
	_, err = e.c.WaitBackfill(ctx, control, id, 10*time.Second)
	var be *xacct.BackfillError
	require.True(t, errors.As(err, &be), "%v", err)
	assert.Equal(t, controltypes.JobStatusFailed, be.Job.Status)
	assert.Zero(t, be.Job.Total)
	require.Len(t, be.Job.FailureReasons, 1)
	assert.Contains(t, be.Job.FailureReasons[0], "AccessDenied: ")
	assert.Contains(t, be.Job.FailureReasons[0], "s3:PutInventoryConfiguration")
	assert.Contains(t, err.Error(), id)
	assert.Equal(t, []controltypes.JobStatus{controltypes.JobStatusPreparing, controltypes.JobStatusFailed}, statuses(*seen))
	assert.Equal(t, "", e.sb.ReplicationStatus(e.spec.Source.Bucket, "a.txt", ""))
}

// The statuses given select the versions: COMPLETED replicates again
// objects already replicated, and leaves the rest alone.
func TestBackfillSelectsByReplicationStatus(t *testing.T) {
	e, _ := backfillEnv(t)
	ctx := t.Context()
	e.put(t, "old.txt", "before", nil)
	e.applyAll(t)
	e.put(t, "new.txt", "after", nil)
	e.wait(t)
	control := e.sb.S3Control(e.sb.Root(sandbox.AccountA))
	id, err := e.c.Backfill(ctx, control, "again", controltypes.ReplicationStatusCompleted)
	require.NoError(t, err)
	job, err := e.c.WaitBackfill(ctx, control, id, 10*time.Second)
	require.NoError(t, err)
	assert.EqualValues(t, 1, job.Total, "only new.txt is COMPLETED")
	assert.Equal(t, "", e.sb.ReplicationStatus(e.spec.Source.Bucket, "old.txt", ""))
	list, err := e.dstS3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(e.spec.Destination.Bucket)})
	require.NoError(t, err)
	assert.Len(t, list.Versions, 2, "new.txt replicated live and again by the job")
}

// A timeout before the job ends returns the last state seen and an error
// wrapping context.DeadlineExceeded; the poll interval must be valid.
func TestBackfillPollOptions(t *testing.T) {
	spec := baseReplicationSpec()
	spec.Backfill = true
	for _, p := range [][2]time.Duration{{0, time.Second}, {time.Second, time.Millisecond}, {-time.Second, -time.Second}} {
		_, err := xacct.NewReplicationConfigurator(spec, xacct.WithBackfillPollInterval(p[0], p[1]))
		var ve *xacct.ValidationError
		require.ErrorAs(t, err, &ve, "%v", p)
		assert.Equal(t, "backfill poll interval", ve.Field)
		assert.ErrorIs(t, err, xacct.ErrInvalidOption)
	}

	e, _ := backfillEnv(t)
	ctx := t.Context()
	e.applyAll(t)
	slow, err := xacct.NewReplicationConfigurator(e.spec, xacct.WithBackfillPollInterval(time.Hour, time.Hour))
	require.NoError(t, err)
	control := e.sb.S3Control(e.sb.Root(sandbox.AccountA))
	id, err := slow.Backfill(ctx, control, "slow")
	require.NoError(t, err)
	job, err := slow.WaitBackfill(ctx, control, id, 50*time.Millisecond)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotNil(t, job)
	assert.Equal(t, controltypes.JobStatusPreparing, job.Status)
	assert.Contains(t, err.Error(), "job "+id+" still Preparing")
}

func ptrPolicy(p xacct.Policy) *xacct.Policy { return &p }
