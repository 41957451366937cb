package xacct_test

import (
	"errors"
	"fmt"

	"github.com/xacct/xacct"
)

func ExampleCopyRoleTrustPolicy() {
	trust := xacct.CopyRoleTrustPolicy("111122223333", "my-external-id")
	fmt.Println(trust)
	// Output:
	// {
	//   "Version": "2012-10-17",
	//   "Statement": [
	//     {
	//       "Sid": "XacctAssumeRole",
	//       "Effect": "Allow",
	//       "Principal": {
	//         "AWS": "arn:aws:iam::111122223333:root"
	//       },
	//       "Action": "sts:AssumeRole",
	//       "Condition": {
	//         "StringEquals": {
	//           "sts:ExternalId": "my-external-id"
	//         }
	//       }
	//     }
	//   ]
	// }
}

func ExampleParsePolicy() {
	_, err := xacct.ParsePolicy([]byte(`{
		"Version": "2012-10-17",
		"Statement": [{"Sid": "Read", "Effect": "Permit", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]
	}`))
	var ve *xacct.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Field, "-", ve.Rule)
	}
	fmt.Println(errors.Is(err, xacct.ErrInvalidPolicy))
	// Output:
	// Statement[0].Effect - must be Allow or Deny
	// true
}

func ExampleMergeStatements() {
	existing, _ := xacct.ParsePolicy([]byte(`{"Version":"2012-10-17","Statement":[
		{"Sid":"TheirAuditors","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::src-bucket/*"}]}`))
	grant := xacct.SourceBucketPolicy(xacct.MustParseLocation("s3://src-bucket/photos/"), "arn:aws:iam::222222222222:role/xacct-copier")

	merged, changed, _ := xacct.MergeStatements(existing, grant.Statement...)
	for _, s := range merged.Statement {
		fmt.Println(s.Sid)
	}
	fmt.Println("changed:", changed)

	_, changed, _ = xacct.MergeStatements(merged, grant.Statement...)
	fmt.Println("changed on second apply:", changed)
	// Output:
	// TheirAuditors
	// XacctSourceList
	// XacctSourceRead
	// changed: true
	// changed on second apply: false
}

func ExampleEvaluate() {
	src := xacct.MustParseLocation("s3://src-bucket/photos/")
	dst := xacct.MustParseLocation("s3://dst-bucket/")
	role := "arn:aws:iam::222222222222:role/xacct-copier"
	identity := []xacct.Policy{xacct.CopyRolePolicy(src, dst)}

	req := xacct.Request{
		Principal:       xacct.PrincipalInfo{ARN: "arn:aws:sts::222222222222:assumed-role/xacct-copier/sync"},
		Action:          "s3:GetObject",
		Resource:        xacct.ObjectARN("src-bucket", "photos/cat.jpg"),
		ResourceAccount: "111111111111",
	}
	// The source bucket belongs to another account and has no policy yet.
	fmt.Println(xacct.Evaluate(req, identity, nil).Reason)

	bucketPolicy := xacct.SourceBucketPolicy(src, role)
	d := xacct.Evaluate(req, identity, &bucketPolicy)
	fmt.Println(d.Allowed, d.Statements)

	req.Action = "s3:DeleteObject"
	fmt.Println(xacct.Evaluate(req, identity, &bucketPolicy).Effect)
	// Output:
	// no statement in the bucket policy allows arn:aws:sts::222222222222:assumed-role/xacct-copier/sync to do s3:GetObject on arn:aws:s3:::src-bucket/photos/cat.jpg; cross-account access needs both the identity policy and the bucket policy to allow it
	// true [identity policy 0 statement "XacctSourceRead" resource policy statement "XacctSourceRead"]
	// ImplicitDeny
}

func ExampleLint() {
	trust := xacct.NewPolicy(xacct.Statement{
		Sid:       "DataSync",
		Effect:    xacct.EffectAllow,
		Principal: xacct.ServicePrincipal("datasync.amazonaws.com"),
		Action:    xacct.StringList{"sts:AssumeRole"},
	})
	for _, f := range xacct.Lint(trust, xacct.PolicyKindTrust) {
		fmt.Println(f)
	}
	// Output:
	// warning: DataSync Condition: trust of datasync.amazonaws.com without aws:SourceAccount or aws:SourceArn lets the service assume this role on behalf of any account (confused deputy)
}
