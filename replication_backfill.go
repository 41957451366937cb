package xacct

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	controltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"
)

// ErrBackfillFailed is wrapped by the error WaitBackfill returns for a job
// that failed or was cancelled, or that completed with failed tasks.
var ErrBackfillFailed = errors.New("batch replication job failed")

// Polling of WaitBackfill, unless WithBackfillPollInterval says otherwise.
const (
	// DefaultBackfillPollInterval is the first wait between two
	// DescribeJob calls of WaitBackfill; later waits double up to
	// DefaultBackfillMaxPollInterval.
	DefaultBackfillPollInterval = 200 * time.Millisecond
	// DefaultBackfillMaxPollInterval caps the wait between two polls.
	DefaultBackfillMaxPollInterval = 10 * time.Second
)

// WithBackfillPollInterval sets how WaitBackfill polls a job: first after
// the first DescribeJob, doubling while the job's state and progress do
// not change, up to longest; back to first after a change. first must be
// positive and longest at least first, or NewReplicationConfigurator
// returns a ValidationError. Defaults: DefaultBackfillPollInterval and
// DefaultBackfillMaxPollInterval.
func WithBackfillPollInterval(first, longest time.Duration) ReplicationOption {
	return func(o *replicationOptions) { o.pollFirst, o.pollMax = first, longest }
}

// WithBackfillProgress makes WaitBackfill call fn with the job's state
// after every DescribeJob, the final one included, on the caller's
// goroutine. Default: none.
func WithBackfillProgress(fn func(BackfillJob)) ReplicationOption {
	return func(o *replicationOptions) { o.progress = fn }
}

// BackfillError is the error WaitBackfill returns for a job that ended
// Failed or Cancelled, or Complete with failed tasks. It wraps
// ErrBackfillFailed.
type BackfillError struct {
	// Job is the job's final state: its ID, status, task counts and the
	// failure reasons S3 Control gave.
	Job BackfillJob
}

// Error names the job, its status, the failed tasks and the failure
// reasons.
func (e *BackfillError) Error() string {
	j := &e.Job
	var b strings.Builder
	fmt.Fprintf(&b, "%v: job %s %s", ErrBackfillFailed, j.ID, j.Status)
	if j.Failed > 0 {
		fmt.Fprintf(&b, ", %d of %d tasks failed (the job's completion report says why)", j.Failed, j.Total)
	}
	if len(j.FailureReasons) > 0 {
		fmt.Fprintf(&b, ": %s", strings.Join(j.FailureReasons, "; "))
	}
	return b.String()
}

// Unwrap returns ErrBackfillFailed.
func (e *BackfillError) Unwrap() error { return ErrBackfillFailed }

// BatchReplicationAPI starts and follows S3 Batch Operations jobs;
// *s3control.Client satisfies it.
type BatchReplicationAPI interface {
	CreateJob(ctx context.Context, in *s3control.CreateJobInput, optFns ...func(*s3control.Options)) (*s3control.CreateJobOutput, error)
	DescribeJob(ctx context.Context, in *s3control.DescribeJobInput, optFns ...func(*s3control.Options)) (*s3control.DescribeJobOutput, error)
}

var _ BatchReplicationAPI = (*s3control.Client)(nil)

// DefaultBackfillStatuses are the replication statuses Backfill selects:
// objects never replicated (written before the configuration) and objects
// whose replication failed.
var DefaultBackfillStatuses = []controltypes.ReplicationStatus{controltypes.ReplicationStatusNone, controltypes.ReplicationStatusFailed}

// BackfillJob is the state of a Batch Replication job.
type BackfillJob struct {
	ID     string
	Status controltypes.JobStatus
	// Total, Succeeded and Failed count the job's objects.
	Total, Succeeded, Failed int64
	// FailureReasons explain a failed job.
	FailureReasons []string
}

// Done reports whether the job reached a final state.
func (j *BackfillJob) Done() bool {
	switch j.Status {
	case controltypes.JobStatusComplete, controltypes.JobStatusFailed, controltypes.JobStatusCancelled:
		return true
	}
	return false
}

// Backfill starts an S3 Batch Replication job in the source account that
// replicates the source objects the configuration's rules select and
// whose replication status is one of statuses (DefaultBackfillStatuses
// when none are given): a CreateJob with the S3ReplicateObject operation
// and a manifest generated from the source bucket, run as the replication
// role, which must trust batchoperations.s3.amazonaws.com (set
// ReplicationSpec.Backfill). It returns the job ID; follow it with
// WaitBackfill.
//
// token is the job's ClientRequestToken, which makes CreateJob idempotent:
// S3 Control answers a repeat with the same token with the job it already
// created, not a new (billed) one. "" means BackfillToken(statuses...),
// derived from the spec, so that running the same backfill again does not
// start a duplicate job. AWS does not document how long S3 Control
// remembers a token, so that protection is only as long as it does; to
// start another job on purpose, such as a retry of objects that FAILED
// after the permissions were fixed, pass a new token.
func (c *ReplicationConfigurator) Backfill(ctx context.Context, client BatchReplicationAPI, token string, statuses ...controltypes.ReplicationStatus) (string, error) {
	s := &c.spec
	if !s.Backfill {
		return "", &ValidationError{Field: "Backfill", Value: "false", Rule: "Backfill needs the role to trust " + ServiceBatchOperations + ": set it and apply again", Err: ErrInvalidReplication}
	}
	if len(statuses) == 0 {
		statuses = DefaultBackfillStatuses
	}
	if token == "" {
		token = c.BackfillToken(statuses...)
	} else if len(token) > maxClientRequestToken {
		return "", &ValidationError{Field: "token", Value: token, Rule: fmt.Sprintf("a ClientRequestToken has at most %d characters", maxClientRequestToken), Err: ErrInvalidReplication}
	}
	out, err := client.CreateJob(ctx, &s3control.CreateJobInput{
		AccountId:            aws.String(s.Source.Account),
		ClientRequestToken:   aws.String(token),
		ConfirmationRequired: aws.Bool(false),
		Description:          aws.String("xacct backfill " + s.Source.Bucket + " to " + s.Destination.Bucket),
		Operation:            &controltypes.JobOperation{S3ReplicateObject: &controltypes.S3ReplicateObjectOperation{}},
		Priority:             aws.Int32(10),
		RoleArn:              aws.String(s.RoleARN()),
		Report:               &controltypes.JobReport{Enabled: false},
		ManifestGenerator: &controltypes.JobManifestGeneratorMemberS3JobManifestGenerator{Value: controltypes.S3JobManifestGenerator{
			SourceBucket:         aws.String(BucketARN(s.Source.Bucket)),
			ExpectedBucketOwner:  aws.String(s.Source.Account),
			EnableManifestOutput: false,
			Filter: &controltypes.JobManifestGeneratorFilter{
				EligibleForReplication:    aws.Bool(true),
				ObjectReplicationStatuses: statuses,
			},
		}},
	})
	if err != nil {
		return "", fmt.Errorf("create batch replication job: %w", err)
	}
	id := aws.ToString(out.JobId)
	c.log.InfoContext(ctx, "batch replication job created", "op", "backfill", "bucket", s.Source.Bucket, "job", id)
	return id, nil
}

// maxClientRequestToken is the longest ClientRequestToken CreateJob
// takes.
const maxClientRequestToken = 64

// BackfillToken returns the ClientRequestToken Backfill uses when given
// none: "xacct-" and a hash of the source account and bucket, the
// replication configuration the spec generates (its rules normalised as
// Diff normalises them, in ID order) and the statuses
// (DefaultBackfillStatuses when none are given). The same spec gives the
// same token; a change to the configuration or the statuses gives
// another.
func (c *ReplicationConfigurator) BackfillToken(statuses ...controltypes.ReplicationStatus) string {
	if len(statuses) == 0 {
		statuses = DefaultBackfillStatuses
	}
	cfg := c.ReplicationConfiguration()
	rules := make([]map[string]string, 0, len(cfg.Rules))
	for _, r := range cfg.Rules {
		m := normalizeRule(r)
		m["ID"] = aws.ToString(r.ID)
		rules = append(rules, m)
	}
	slices.SortFunc(rules, func(a, b map[string]string) int { return strings.Compare(a["ID"], b["ID"]) })
	sts := make([]string, 0, len(statuses))
	for _, st := range statuses {
		sts = append(sts, string(st))
	}
	slices.Sort(sts)
	sts = slices.Compact(sts)
	// Each value is quoted, so that no two inputs write the same bytes.
	h := sha256.New()
	fmt.Fprintf(h, "%q %q %q\n", c.spec.Source.Account, c.spec.Source.Bucket, aws.ToString(cfg.Role))
	for _, r := range rules {
		for _, k := range sortedKeys(r) {
			fmt.Fprintf(h, "%q=%q ", k, r[k])
		}
		fmt.Fprintln(h)
	}
	fmt.Fprintf(h, "%q\n", sts)
	sum := h.Sum(nil)
	return "xacct-" + hex.EncodeToString(sum[:20])
}

// DescribeBackfill returns the state of a Batch Replication job.
func (c *ReplicationConfigurator) DescribeBackfill(ctx context.Context, client BatchReplicationAPI, jobID string) (*BackfillJob, error) {
	out, err := client.DescribeJob(ctx, &s3control.DescribeJobInput{AccountId: aws.String(c.spec.Source.Account), JobId: aws.String(jobID)})
	if err != nil {
		return nil, fmt.Errorf("describe job %s: %w", jobID, err)
	}
	j := &BackfillJob{ID: jobID}
	if d := out.Job; d != nil {
		j.Status = d.Status
		if p := d.ProgressSummary; p != nil {
			j.Total, j.Succeeded, j.Failed = aws.ToInt64(p.TotalNumberOfTasks), aws.ToInt64(p.NumberOfTasksSucceeded), aws.ToInt64(p.NumberOfTasksFailed)
		}
		for _, f := range d.FailureReasons {
			j.FailureReasons = append(j.FailureReasons, aws.ToString(f.FailureCode)+": "+aws.ToString(f.FailureReason))
		}
	}
	return j, nil
}

// WaitBackfill polls DescribeJob until the job is Complete, Failed or
// Cancelled, or timeout passes, with the configurator's poll interval
// (see WithBackfillPollInterval), calling its progress function (see
// WithBackfillProgress) after each poll. A job that failed or was
// cancelled, or that completed with failed tasks, returns its state and a
// *BackfillError. When timeout passes first, WaitBackfill returns the
// last state seen and an error wrapping context.DeadlineExceeded; the job
// goes on.
func (c *ReplicationConfigurator) WaitBackfill(ctx context.Context, client BatchReplicationAPI, jobID string, timeout time.Duration) (*BackfillJob, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := c.poll.first
	var last *BackfillJob
	for {
		j, err := c.DescribeBackfill(ctx, client, jobID)
		if err != nil {
			if last != nil && ctx.Err() != nil {
				return last, fmt.Errorf("job %s still %s: %w", jobID, last.Status, err)
			}
			return last, err
		}
		if c.progress != nil {
			c.progress(*j)
		}
		if j.Done() {
			if j.Status != controltypes.JobStatusComplete || j.Failed > 0 {
				return j, &BackfillError{Job: *j}
			}
			return j, nil
		}
		if last != nil && (last.Status != j.Status || last.Succeeded != j.Succeeded || last.Failed != j.Failed || last.Total != j.Total) {
			delay = c.poll.first
		}
		last = j
		select {
		case <-ctx.Done():
			return j, fmt.Errorf("job %s still %s: %w", jobID, j.Status, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(delay*2, c.poll.max)
	}
}
