package xacct_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	"github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

// A plan says what each account needs; it makes no call.
func ExampleNewDataSyncPlan() {
	plan, err := xacct.NewDataSyncPlan(xacct.DataSyncSpec{
		Source:      xacct.DataSyncEndpoint{Bucket: "team-a-data", Account: "111111111111", Region: "eu-west-1", Subdirectory: "exports"},
		Destination: xacct.DataSyncEndpoint{Bucket: "team-b-archive", Account: "222222222222", Region: "eu-west-1"},
		Options:     types.Options{VerifyMode: types.VerifyModeOnlyFilesTransferred},
		Schedule:    "rate(1 day)",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("role:", plan.Source.RoleARN)
	fmt.Println(plan.Source.TrustPolicy)
	for _, s := range plan.Destination.BucketPolicy.Statement {
		fmt.Println("bucket policy:", s.Sid, s.Principal.AWS)
	}
	fmt.Println("ownership:", plan.Destination.ObjectOwnership)

	// Rules are checked before any call.
	spec := plan.Spec
	spec.TaskMode = types.TaskModeEnhanced
	spec.Options.VerifyMode = types.VerifyModePointInTimeConsistent
	fmt.Println(spec.Validate())
	// Output:
	// role: arn:aws:iam::111111111111:role/xacct-datasync
	// {
	//   "Version": "2012-10-17",
	//   "Statement": [
	//     {
	//       "Sid": "XacctDataSyncAssumeRole",
	//       "Effect": "Allow",
	//       "Principal": {
	//         "Service": "datasync.amazonaws.com"
	//       },
	//       "Action": "sts:AssumeRole",
	//       "Condition": {
	//         "ArnLike": {
	//           "aws:SourceArn": "arn:aws:datasync:eu-west-1:111111111111:*"
	//         },
	//         "StringEquals": {
	//           "aws:SourceAccount": "111111111111"
	//         }
	//       }
	//     }
	//   ]
	// }
	// bucket policy: XacctDataSyncDestinationBucket [arn:aws:iam::111111111111:role/xacct-datasync]
	// bucket policy: XacctDataSyncDestinationWrite [arn:aws:iam::111111111111:role/xacct-datasync]
	// bucket policy: XacctDataSyncCreateLocation [arn:aws:iam::111111111111:root]
	// ownership: BucketOwnerEnforced
	// Options.VerifyMode "POINT_IN_TIME_CONSISTENT": POINT_IN_TIME_CONSISTENT is not supported by ENHANCED tasks; use ONLY_FILES_TRANSFERRED or NONE
}

// Apply sets up both accounts; Run starts the task and follows it to the
// end. Here against the sandbox, which enforces the generated policies.
func ExampleDataSyncPlanner_Run() {
	ctx := context.Background()
	sb, err := enforce.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sb.Close()
	rootA, rootB := sb.Root(sandbox.AccountA), sb.Root(sandbox.AccountB)
	_ = sb.CreateBucket(ctx, rootA, "team-a-data")
	_ = sb.CreateBucket(ctx, rootB, "team-b-archive")
	for _, k := range []string{"exports/a.csv", "exports/b.csv"} {
		_, _ = sb.S3(rootA).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("team-a-data"), Key: aws.String(k), Body: strings.NewReader("data")})
	}

	planner, err := xacct.NewDataSyncPlanner(sb.IAM(rootA), datasync.NewFromConfig(sb.Config(rootA)), sb.S3(rootB),
		xacct.WithDataSyncPollInterval(time.Millisecond, 10*time.Millisecond))
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := planner.Plan(xacct.DataSyncSpec{
		Source:      xacct.DataSyncEndpoint{Bucket: "team-a-data", Account: sandbox.AccountA, Region: sandbox.Region, Subdirectory: "exports"},
		Destination: xacct.DataSyncEndpoint{Bucket: "team-b-archive", Account: sandbox.AccountB, Region: sandbox.Region, Subdirectory: "from-a"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	applied, err := planner.Apply(ctx, plan)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(applied.Changes), "changes")

	res, err := planner.Run(ctx, applied.TaskARN, xacct.WithRunProgress(func(p xacct.DataSyncProgress) {
		fmt.Println(p.Phase, p.FilesTransferred)
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Status, res.FilesTransferred, "files,", res.BytesTransferred, "bytes")
	// Output:
	// 6 changes
	// LAUNCHING 0
	// PREPARING 0
	// TRANSFERRING 2
	// VERIFYING 2
	// SUCCESS 2
	// SUCCESS 2 files, 8 bytes
}
