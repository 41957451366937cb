package xacct_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

func ExampleWhoAmI() {
	ctx := context.Background()
	sb := exampleAccounts(ctx)
	defer sb.Close()

	operator, err := sb.AddUser(sandbox.AccountA, "operator")
	must(err)
	id, err := xacct.WhoAmI(ctx, sts.NewFromConfig(sb.Config(operator)))
	must(err)
	fmt.Println(id.Account)
	fmt.Println(id.ARN)
	// Output:
	// 111111111111
	// arn:aws:iam::111111111111:user/operator
}

func ExampleParseRoleARN() {
	r, err := xacct.ParseRoleARN("arn:aws:iam::222222222222:role/ops/xacct-copy")
	fmt.Println(r.Account, r.Path, r.Name, err)

	_, err = xacct.ParseRoleARN("arn:aws:iam::222222222222:user/alice")
	var ve *xacct.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Rule)
	}
	fmt.Println(errors.Is(err, xacct.ErrInvalidOption))
	// Output:
	// 222222222222 /ops/ xacct-copy <nil>
	// resource must be role/[PATH/]NAME
	// true
}

func ExampleRoleARN() {
	r := xacct.RoleARN{Partition: "aws", Account: "222222222222", Path: "/", Name: "xacct-copy"}
	fmt.Println(r)

	back, err := xacct.ParseRoleARN(r.String())
	fmt.Println(back == r, err)
	// Output:
	// arn:aws:iam::222222222222:role/xacct-copy
	// true <nil>
}

func ExampleValidateAccountID() {
	fmt.Println(xacct.ValidateAccountID("222222222222"))
	fmt.Println(xacct.ValidateAccountID("2222-2222-2222"))
	// Output:
	// <nil>
	// account id "2222-2222-2222": must be exactly 12 digits
}

func ExampleValidationError() {
	// A bucket name breaks S3's naming rules; the error names the value
	// and the rule, and belongs to ErrInvalidLocation.
	_, err := xacct.ParseLocation("s3://ab/reports")
	var ve *xacct.ValidationError
	if errors.As(err, &ve) {
		fmt.Printf("field=%s value=%q\n", ve.Field, ve.Value)
		fmt.Println("rule:", ve.Rule)
	}
	fmt.Println(errors.Is(err, xacct.ErrInvalidLocation))
	// Output:
	// field=bucket value="ab"
	// rule: must be 3 to 63 characters long
	// true
}

func ExampleRemoveStatements() {
	// A sync that no longer deletes should give back s3:DeleteObject.
	dst := xacct.MustParseLocation("s3://dst-bucket/inbox/")
	granted := xacct.DestinationWritePolicy(dst, xacct.WithDeleteAccess())

	trimmed, removed := xacct.RemoveStatements(&granted, "XacctDestinationDelete")
	fmt.Println("removed:", removed)
	for _, s := range trimmed.Statement {
		fmt.Println(s.Sid)
	}
	_, removed = xacct.RemoveStatements(trimmed, "XacctDestinationDelete")
	fmt.Println("removed again:", removed)
	// Output:
	// removed: true
	// XacctDestinationList
	// XacctDestinationWrite
	// removed again: false
}

func ExampleSourceBucketPolicy() {
	// The prefix is taken as a folder, as Sync takes it: photos/, not
	// photos2/.
	src := xacct.MustParseLocation("s3://src-bucket/photos")
	fmt.Println(xacct.SourceBucketPolicy(src, "arn:aws:iam::222222222222:role/xacct-copy"))
	// Output:
	// {
	//   "Version": "2012-10-17",
	//   "Statement": [
	//     {
	//       "Sid": "XacctSourceList",
	//       "Effect": "Allow",
	//       "Principal": {
	//         "AWS": "arn:aws:iam::222222222222:role/xacct-copy"
	//       },
	//       "Action": "s3:ListBucket",
	//       "Resource": "arn:aws:s3:::src-bucket",
	//       "Condition": {
	//         "StringLike": {
	//           "s3:prefix": "photos/*"
	//         }
	//       }
	//     },
	//     {
	//       "Sid": "XacctSourceRead",
	//       "Effect": "Allow",
	//       "Principal": {
	//         "AWS": "arn:aws:iam::222222222222:role/xacct-copy"
	//       },
	//       "Action": [
	//         "s3:GetObject",
	//         "s3:GetObjectTagging"
	//       ],
	//       "Resource": "arn:aws:s3:::src-bucket/photos/*"
	//     }
	//   ]
	// }
}

func ExampleDestinationBucketPolicy() {
	// An account ID is written as the account's root ARN, which leaves
	// the choice of principals to that account's identity policies.
	dst := xacct.MustParseLocation("s3://dst-bucket/from-a/")
	p := xacct.DestinationBucketPolicy(dst, "111111111111", xacct.WithSecureTransport())
	for _, s := range p.Statement {
		fmt.Println(s.Sid, s.Effect, s.Principal.AWS, s.Action, s.Resource)
	}
	// Output:
	// XacctDestinationList Allow [arn:aws:iam::111111111111:root] [s3:ListBucket] [arn:aws:s3:::dst-bucket]
	// XacctDestinationWrite Allow [arn:aws:iam::111111111111:root] [s3:AbortMultipartUpload s3:PutObject s3:PutObjectAcl s3:PutObjectTagging] [arn:aws:s3:::dst-bucket/from-a/*]
	// XacctDestinationDenyInsecureTransport Deny [arn:aws:iam::111111111111:root] [s3:*] [arn:aws:s3:::dst-bucket arn:aws:s3:::dst-bucket/from-a/*]
}

func ExamplePolicy() {
	// Single values and the "*" principal come back in the form AWS
	// writes them.
	doc := []byte(`{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}`)
	p, err := xacct.ParsePolicy(doc)
	if err != nil {
		log.Fatal(err)
	}
	s := p.Statement[0]
	fmt.Println(s.Sid, s.Effect, s.Principal.Wildcard, s.Action, s.Condition["StringEquals"]["aws:PrincipalOrgID"])

	out, err := json.Marshal(p)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(out))
	// Output:
	// Read Allow true [s3:GetObject] [o-abc123]
	// {"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}
}

func ExampleStatement() {
	s := xacct.Statement{
		Sid:      "ReadReports",
		Effect:   xacct.EffectAllow,
		Action:   xacct.StringList{"s3:GetObject"},
		Resource: xacct.StringList{xacct.ObjectARN("reports", "2026/*")},
	}
	b, err := json.Marshal(s)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))

	var back xacct.Statement
	err = json.Unmarshal(b, &back)
	fmt.Println(back.Sid, back.Resource, err)

	// Element names are case sensitive, as AWS reads them.
	err = json.Unmarshal([]byte(`{"Effect":"Allow","action":"s3:GetObject","Resource":"*"}`), &back)
	fmt.Println(err != nil)
	// Output:
	// {"Sid":"ReadReports","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/2026/*"}
	// ReadReports [arn:aws:s3:::reports/2026/*] <nil>
	// true
}

func ExamplePrincipal() {
	for _, p := range []*xacct.Principal{
		xacct.AnyPrincipal(),
		xacct.AWSPrincipal("111111111111", "arn:aws:iam::222222222222:role/xacct-copy"),
		xacct.ServicePrincipal("s3.amazonaws.com"),
	} {
		b, err := json.Marshal(p)
		if err != nil {
			log.Fatal(err)
		}
		var back xacct.Principal
		if err := json.Unmarshal(b, &back); err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(b), back.Wildcard, len(back.AWS)+len(back.Service))
	}
	// Output:
	// "*" true 0
	// {"AWS":["arn:aws:iam::111111111111:root","arn:aws:iam::222222222222:role/xacct-copy"]} false 2
	// {"Service":"s3.amazonaws.com"} false 1
}

func ExampleDecision() {
	// The destination bucket allows the copy role to write, and denies
	// everything over plain HTTP.
	dst := xacct.MustParseLocation("s3://dst-bucket/from-a/")
	role := "arn:aws:iam::111111111111:role/xacct-copy"
	identity := []xacct.Policy{xacct.DestinationWritePolicy(dst)}
	bucket := xacct.DestinationBucketPolicy(dst, role, xacct.WithSecureTransport())
	req := xacct.Request{
		Principal:       xacct.PrincipalInfo{ARN: "arn:aws:sts::111111111111:assumed-role/xacct-copy/nightly"},
		Action:          "s3:PutObject",
		Resource:        xacct.ObjectARN(dst.Bucket, "from-a/2026/01.csv"),
		ResourceAccount: "222222222222",
		Context:         map[string][]string{"aws:SecureTransport": {"true"}},
	}
	d := xacct.Evaluate(req, identity, &bucket)
	fmt.Println(d.Allowed, d.Effect)
	for _, ref := range d.Statements {
		fmt.Println(ref)
	}

	req.Context["aws:SecureTransport"] = []string{"false"}
	d = xacct.Evaluate(req, identity, &bucket)
	fmt.Println(d.Allowed, d.Effect, d.Statements)
	// Output:
	// true Allow
	// identity policy 0 statement "XacctDestinationWrite"
	// resource policy statement "XacctDestinationWrite"
	// false Deny [resource policy statement "XacctDestinationDenyInsecureTransport"]
}
