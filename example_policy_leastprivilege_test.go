package xacct_test

import (
	"fmt"

	"github.com/xacct/xacct"
)

// A Copier that copies metadata but not tags
// (WithCopyProps(xacct.CopyPropsMetadataDirective), or CopyPropsNone)
// needs no tagging action on either side.
func ExampleWithoutTagAccess() {
	src := xacct.MustParseLocation("s3://team-a-data/exports/")
	dst := xacct.MustParseLocation("s3://team-b-archive/from-a/")
	role := xacct.CopyRolePolicy(src, dst, xacct.WithoutTagAccess())
	for _, s := range role.Statement {
		fmt.Println(s.Sid, s.Action)
	}
	// Output:
	// XacctSourceList [s3:ListBucket]
	// XacctSourceRead [s3:GetObject]
	// XacctDestinationList [s3:ListBucket]
	// XacctDestinationWrite [s3:AbortMultipartUpload s3:PutObject s3:PutObjectAcl]
}

// Into a destination bucket that enforces bucket-owner ownership, copies
// carry no ACL: the principal reads the ownership setting instead of
// setting ACLs. Here a role of account A writes into account B's bucket,
// so B's bucket policy grants the same.
func ExampleWithoutACLAccess() {
	dst := xacct.MustParseLocation("s3://team-b-archive/from-a/")
	bucket := xacct.DestinationBucketPolicy(dst, "arn:aws:iam::111111111111:role/xacct-copy", xacct.WithoutACLAccess(), xacct.WithoutTagAccess())
	for _, s := range bucket.Statement {
		fmt.Println(s.Sid, s.Action, s.Resource)
	}
	// Output:
	// XacctDestinationList [s3:ListBucket] [arn:aws:s3:::team-b-archive]
	// XacctDestinationWrite [s3:AbortMultipartUpload s3:PutObject] [arn:aws:s3:::team-b-archive/from-a/*]
	// XacctDestinationOwnership [s3:GetBucketOwnershipControls] [arn:aws:s3:::team-b-archive]
}
