package sandbox_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	controltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct/internal/sandbox"
)

// batchJobInput is a Batch Replication CreateJob of bucket in account A,
// run as the role "batch".
func batchJobInput(token, bucket, owner string) *s3control.CreateJobInput {
	return &s3control.CreateJobInput{
		AccountId:            aws.String(sandbox.AccountA),
		ClientRequestToken:   aws.String(token),
		ConfirmationRequired: aws.Bool(false),
		Operation:            &controltypes.JobOperation{S3ReplicateObject: &controltypes.S3ReplicateObjectOperation{}},
		Priority:             aws.Int32(10),
		RoleArn:              aws.String("arn:aws:iam::" + sandbox.AccountA + ":role/batch"),
		Report:               &controltypes.JobReport{Enabled: false},
		ManifestGenerator: &controltypes.JobManifestGeneratorMemberS3JobManifestGenerator{Value: controltypes.S3JobManifestGenerator{
			SourceBucket:        aws.String("arn:aws:s3:::" + bucket),
			ExpectedBucketOwner: aws.String(owner),
			Filter:              &controltypes.JobManifestGeneratorFilter{EligibleForReplication: aws.Bool(true)},
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
