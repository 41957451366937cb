package sandbox_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	controltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct/internal/sandbox"
)

// batchJobInput is a Batch Replication CreateJob of bucket in account A,
// run as the role "batch".
func batchJobInput(token, bucket, owner string) *s3control.CreateJobInput {
	return batchJobInputIn(sandbox.AccountA, token, bucket, owner)
}

// batchJobInputIn is batchJobInput in account, as account's role "batch".
func batchJobInputIn(account, token, bucket, owner string, statuses ...controltypes.ReplicationStatus) *s3control.CreateJobInput {
	return &s3control.CreateJobInput{
		AccountId:            aws.String(account),
		ClientRequestToken:   aws.String(token),
		ConfirmationRequired: aws.Bool(false),
		Operation:            &controltypes.JobOperation{S3ReplicateObject: &controltypes.S3ReplicateObjectOperation{}},
		Priority:             aws.Int32(10),
		RoleArn:              aws.String("arn:aws:iam::" + account + ":role/batch"),
		Report:               &controltypes.JobReport{Enabled: false},
		ManifestGenerator: &controltypes.JobManifestGeneratorMemberS3JobManifestGenerator{Value: controltypes.S3JobManifestGenerator{
			SourceBucket:        aws.String("arn:aws:s3:::" + bucket),
			ExpectedBucketOwner: aws.String(owner),
			Filter:              &controltypes.JobManifestGeneratorFilter{EligibleForReplication: aws.Bool(true), ObjectReplicationStatuses: statuses},
		}},
	}
}

// A job moves one state per DescribeJob; one whose manifest cannot be
// generated goes from Preparing to Failed, with a failure reason and a
// termination date only then.
func TestBatchJobFailsWhenManifestCannotBeGenerated(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	require.NoError(t, sb.CreateBucket(ctx, root, "src"))
	_, err := sb.IAM(root).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("batch"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"batchoperations.s3.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	require.NoError(t, err)
	c := sb.S3Control(root)

	for _, tc := range []struct{ name, owner, reason string }{
		{"wrong owner", sandbox.AccountB, "InvalidManifest: source bucket src is not owned by the expected bucket owner " + sandbox.AccountB},
		{"no configuration", sandbox.AccountA, "InvalidManifest: source bucket src has no replication configuration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.CreateJob(ctx, batchJobInput(tc.name, "src", tc.owner))
			require.NoError(t, err)
			in := &s3control.DescribeJobInput{AccountId: aws.String(sandbox.AccountA), JobId: out.JobId}
			d, err := c.DescribeJob(ctx, in)
			require.NoError(t, err)
			assert.Equal(t, controltypes.JobStatusPreparing, d.Job.Status)
			assert.Nil(t, d.Job.TerminationDate)
			d, err = c.DescribeJob(ctx, in)
			require.NoError(t, err)
			assert.Equal(t, controltypes.JobStatusFailed, d.Job.Status)
			require.NotNil(t, d.Job.TerminationDate)
			require.Len(t, d.Job.FailureReasons, 1)
			assert.Equal(t, tc.reason, aws.ToString(d.Job.FailureReasons[0].FailureCode)+": "+aws.ToString(d.Job.FailureReasons[0].FailureReason))
			d, err = c.DescribeJob(ctx, in)
			require.NoError(t, err)
			assert.Equal(t, controltypes.JobStatusFailed, d.Job.Status, "a failed job stays failed")
		})
	}

	in := batchJobInput("confirm", "src", sandbox.AccountA)
	in.ConfirmationRequired = aws.Bool(true)
	_, err = c.CreateJob(ctx, in)
	requireCode(t, err, "InvalidRequest")
}

// A filter on REPLICA selects the replicas in a bucket that replicates on
// (a chain A -> B -> B): the job replicates them; a filter on NONE finds
// nothing there.
func TestBatchJobSelectsReplicas(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["s3.amazonaws.com","batchoperations.s3.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`
	rootA, rootB := sb.Root(sandbox.AccountA), sb.Root(sandbox.AccountB)
	for _, b := range []struct {
		root   sandbox.Principal
		bucket string
	}{{rootA, "src"}, {rootB, "mid"}, {rootB, "end"}} {
		require.NoError(t, sb.CreateBucket(ctx, b.root, b.bucket))
		_, err := sb.S3(b.root).PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b.bucket), VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
		require.NoError(t, err)
	}
	replicate := func(root sandbox.Principal, from, to string) {
		for _, name := range []string{"repl", "batch"} {
			_, err := sb.IAM(root).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)})
			require.NoError(t, err)
		}
		_, err := sb.S3(root).PutBucketReplication(ctx, &s3.PutBucketReplicationInput{Bucket: aws.String(from), ReplicationConfiguration: &s3types.ReplicationConfiguration{
			Role: aws.String("arn:aws:iam::" + root.Account + ":role/repl"),
			Rules: []s3types.ReplicationRule{{
				ID: aws.String("all"), Priority: aws.Int32(1), Status: s3types.ReplicationRuleStatusEnabled,
				Filter:                  &s3types.ReplicationRuleFilter{Prefix: aws.String("")},
				DeleteMarkerReplication: &s3types.DeleteMarkerReplication{Status: s3types.DeleteMarkerReplicationStatusDisabled},
				Destination:             &s3types.Destination{Bucket: aws.String("arn:aws:s3:::" + to)},
			}},
		}})
		require.NoError(t, err)
	}
	replicate(rootA, "src", "mid")
	_, err := sb.S3(rootA).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("src"), Key: aws.String("k"), Body: strings.NewReader("v")})
	require.NoError(t, err)
	require.NoError(t, sb.WaitReplication(ctx))
	require.Equal(t, sandbox.ReplicationReplica, sb.ReplicationStatus("mid", "k", ""))
	replicate(rootB, "mid", "end")

	c := sb.S3Control(rootB)
	run := func(token string, status controltypes.ReplicationStatus) *controltypes.JobDescriptor {
		out, err := c.CreateJob(ctx, batchJobInputIn(sandbox.AccountB, token, "mid", sandbox.AccountB, status))
		require.NoError(t, err)
		var d *s3control.DescribeJobOutput
		for range 3 {
			d, err = c.DescribeJob(ctx, &s3control.DescribeJobInput{AccountId: aws.String(sandbox.AccountB), JobId: out.JobId})
			require.NoError(t, err)
		}
		return d.Job
	}
	none := run("none", controltypes.ReplicationStatusNone)
	assert.Equal(t, controltypes.JobStatusComplete, none.Status)
	assert.Zero(t, aws.ToInt64(none.ProgressSummary.TotalNumberOfTasks))

	replicas := run("replicas", controltypes.ReplicationStatusReplica)
	assert.Equal(t, controltypes.JobStatusComplete, replicas.Status)
	assert.EqualValues(t, 1, aws.ToInt64(replicas.ProgressSummary.TotalNumberOfTasks))
	assert.EqualValues(t, 1, aws.ToInt64(replicas.ProgressSummary.NumberOfTasksSucceeded))
	_, err = sb.S3(rootB).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("end"), Key: aws.String("k")})
	assert.NoError(t, err, "the replica was replicated on")
}
