package xacct_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

// A spec that breaks S3's rules is refused before any call, with one
// typed error per problem naming the field.
func ExampleReplicationSpec_Validate() {
	spec := xacct.ReplicationSpec{
		Source:      xacct.ReplicationBucket{Bucket: "team-a-data", Account: "111111111111", Region: "us-east-1", ObjectLock: true},
		Destination: xacct.ReplicationBucket{Bucket: "team-b-replica", Account: "222222222222", Region: "us-east-1"},
		RoleName:    "xacct-replication",
		Rules: []xacct.ReplicationRule{
			{ID: "gold", Priority: 1, Filter: xacct.TagFilter("class", "gold"), DeleteMarkers: true},
		},
	}
	err := spec.Validate()
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ve *xacct.ValidationError
		if errors.As(e, &ve) {
			fmt.Println(ve.Field+":", ve.Rule)
		}
	}
	// Output:
	// Destination.ObjectLock: the source bucket has Object Lock, so the destination bucket must have it too
	// Rules[0].DeleteMarkers: delete marker replication is not supported for rules that filter on tags
}

// The plan lists each account's changes in order, with the documents to
// apply, so that the destination account's owners can review their part.
func ExampleReplicationConfigurator_Plan() {
	c, err := xacct.NewReplicationConfigurator(xacct.ReplicationSpec{
		Source:      xacct.ReplicationBucket{Bucket: "team-a-data", Account: "111111111111", Region: "us-east-1"},
		Destination: xacct.ReplicationBucket{Bucket: "team-b-replica", Account: "222222222222", Region: "us-east-1"},
		RoleName:    "xacct-replication",
		Rules:       []xacct.ReplicationRule{{ID: "logs", Priority: 1, Filter: xacct.PrefixFilter("logs/"), DeleteMarkers: true}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	p := c.Plan()
	for _, group := range []xacct.AccountSteps{p.Source, p.Destination} {
		fmt.Printf("account %s (%s)\n", group.Account, group.Side)
		for _, st := range group.Steps {
			fmt.Printf("  %s %s\n", st.Kind, st.Resource)
		}
	}
	fmt.Println(p.Destination.Steps[1].Policy)
	// Output:
	// account 111111111111 (source)
	//   versioning arn:aws:s3:::team-a-data
	//   role arn:aws:iam::111111111111:role/xacct-replication
	//   role-policy arn:aws:iam::111111111111:role/xacct-replication
	//   replication-configuration arn:aws:s3:::team-a-data
	// account 222222222222 (destination)
	//   versioning arn:aws:s3:::team-b-replica
	//   bucket-policy arn:aws:s3:::team-b-replica
	// {
	//   "Version": "2012-10-17",
	//   "Statement": [
	//     {
	//       "Sid": "XacctReplicationDestinationWrite",
	//       "Effect": "Allow",
	//       "Principal": {
	//         "AWS": "arn:aws:iam::111111111111:role/xacct-replication"
	//       },
	//       "Action": [
	//         "s3:ReplicateDelete",
	//         "s3:ReplicateObject",
	//         "s3:ReplicateTags"
	//       ],
	//       "Resource": "arn:aws:s3:::team-b-replica/logs/*"
	//     }
	//   ]
	// }
}

// Apply makes both accounts' changes (here in a sandbox that enforces the
// policies), a second Apply changes nothing, and a new object replicates.
func ExampleReplicationConfigurator_Apply() {
	ctx := context.Background()
	sb, err := enforce.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sb.Close()
	rootA, rootB := sb.Root(sandbox.AccountA), sb.Root(sandbox.AccountB)
	_ = sb.CreateBucket(ctx, rootA, "team-a-data")
	_ = sb.CreateBucket(ctx, rootB, "team-b-replica")

	c, err := xacct.NewReplicationConfigurator(xacct.ReplicationSpec{
		Source:      xacct.ReplicationBucket{Bucket: "team-a-data", Account: sandbox.AccountA, Region: sandbox.Region},
		Destination: xacct.ReplicationBucket{Bucket: "team-b-replica", Account: sandbox.AccountB, Region: sandbox.Region},
		RoleName:    "xacct-replication",
		Rules:       []xacct.ReplicationRule{{ID: "all", Priority: 1}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	clients := xacct.ReplicationClients{SourceS3: sb.S3(rootA), SourceIAM: sb.IAM(rootA), DestinationS3: sb.S3(rootB)}
	for range 2 {
		rep, err := c.Apply(ctx, clients)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("changed:", rep.Changed())
	}
	_, err = sb.S3(rootA).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("team-a-data"), Key: aws.String("report.csv"), Body: strings.NewReader("a,b")})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = sb.WaitReplication(ctx)
	st, err := c.Status(ctx, sb.S3(rootA), xacct.StatusQuery{Keys: []string{"report.csv"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st)
	// Output:
	// changed: 6
	// changed: 0
	// COMPLETED=1
}
