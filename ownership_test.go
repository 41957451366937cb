package xacct_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

// The classic cross-account trap, decided by the real evaluator: a writer
// in account A copies into account B's bucket. When B's bucket has ACLs
// enabled and the writer does not send bucket-owner-full-control, A owns
// the object and B cannot read it from its own bucket.
func TestOwnershipTrap(t *testing.T) {
	tests := []struct {
		name      string
		ownership types.ObjectOwnership
		acl       types.ObjectCannedACL
		readable  bool
	}{
		{"object writer without acl", types.ObjectOwnershipObjectWriter, "", false},
		{"object writer with bucket-owner-full-control", types.ObjectOwnershipObjectWriter, types.ObjectCannedACLBucketOwnerFullControl, true},
		{"bucket owner preferred without acl", types.ObjectOwnershipBucketOwnerPreferred, "", false},
		{"bucket owner preferred with bucket-owner-full-control", types.ObjectOwnershipBucketOwnerPreferred, types.ObjectCannedACLBucketOwnerFullControl, true},
		{"bucket owner enforced", types.ObjectOwnershipBucketOwnerEnforced, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			sb, err := enforce.Start()
			require.NoError(t, err)
			t.Cleanup(sb.Close)
			rootA, rootB := sb.Root(sandbox.AccountA), sb.Root(sandbox.AccountB)
			require.NoError(t, sb.CreateBucket(ctx, rootA, "a-data"))
			require.NoError(t, sb.CreateBucket(ctx, rootB, "b-inbox"))
			_, err = sb.S3(rootB).PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
				Bucket:            aws.String("b-inbox"),
				OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: tt.ownership}}},
			})
			require.NoError(t, err)
			// B admits A's writer with the generated destination bucket policy.
			writer, err := sb.AddUser(sandbox.AccountA, "writer", mustJSON(t, xacct.CopyRolePolicy(xacct.Location{Bucket: "a-data"}, xacct.Location{Bucket: "b-inbox"})))
			require.NoError(t, err)
			_, err = sb.S3(rootB).PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("b-inbox"), Policy: aws.String(mustJSON(t, xacct.DestinationBucketPolicy(xacct.Location{Bucket: "b-inbox"}, writer.ARN)))})
			require.NoError(t, err)
			_, err = sb.S3(rootA).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("a-data"), Key: aws.String("report.csv"), Body: strings.NewReader("q1,q2")})
			require.NoError(t, err)

			_, err = sb.S3(writer).CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("b-inbox"), Key: aws.String("report.csv"), CopySource: aws.String("a-data/report.csv"), ACL: tt.acl})
			require.NoError(t, err)

			_, err = sb.S3(rootB).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b-inbox"), Key: aws.String("report.csv")})
			if tt.readable {
				require.NoError(t, err)
				return
			}
			var apiErr smithy.APIError
			require.True(t, errors.As(err, &apiErr), "want AccessDenied, got %v", err)
			assert.Equal(t, "AccessDenied", apiErr.ErrorCode())
		})
	}
}
