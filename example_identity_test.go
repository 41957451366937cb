package xacct_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

// exampleAccounts starts an enforcing sandbox with s3://a-exports (account
// A) holding two objects and an empty s3://b-archive (account B).
func exampleAccounts(ctx context.Context) *sandbox.Sandbox {
	sb, err := enforce.Start()
	if err != nil {
		log.Fatal(err)
	}
	rootA := sb.Root(sandbox.AccountA)
	must(sb.CreateBucket(ctx, rootA, "a-exports"))
	must(sb.CreateBucket(ctx, sb.Root(sandbox.AccountB), "b-archive"))
	for _, k := range []string{"2026/01.csv", "2026/02.csv"} {
		_, err := sb.S3(rootA).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("a-exports"), Key: aws.String(k), Body: strings.NewReader("id,total\n")})
		must(err)
	}
	return sb
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func jsonOf(p xacct.Policy) string {
	b, err := p.JSON()
	must(err)
	return string(b)
}

func ExampleAssumeRoleConfig() {
	ctx := context.Background()
	sb := exampleAccounts(ctx)
	defer sb.Close()
	src, dst := xacct.MustParseLocation("s3://a-exports/"), xacct.MustParseLocation("s3://b-archive/a/")

	// Account B's copy role trusts an operator in account A who presents
	// the agreed external ID; account A's bucket policy lets the role read.
	roleARN := "arn:aws:iam::" + sandbox.AccountB + ":role/xacct-copy"
	operator, err := sb.AddUser(sandbox.AccountA, "operator", jsonOf(xacct.CallerAssumeRolePolicy(roleARN)))
	must(err)
	_, err = sb.CreateRole(sandbox.AccountB, "xacct-copy", jsonOf(xacct.CopyRoleTrustPolicy(operator.ARN, "ext-2026")),
		map[string]string{"copy": jsonOf(xacct.CopyRolePolicy(src, dst))})
	must(err)
	_, err = sb.S3(sb.Root(sandbox.AccountA)).PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{
		Bucket: aws.String(src.Bucket), Policy: aws.String(jsonOf(xacct.SourceBucketPolicy(src, roleARN))),
	})
	must(err)

	cfg, err := xacct.AssumeRoleConfig(sb.Config(operator), roleARN,
		xacct.WithExternalID("ext-2026"), xacct.WithSessionName("nightly"))
	must(err)
	id, err := xacct.WhoAmI(ctx, sts.NewFromConfig(cfg))
	must(err)
	fmt.Println("acting as", id.ARN)

	c, err := xacct.NewCopierFromConfig(cfg, xacct.WithSourceAccount(sandbox.AccountA), xacct.WithDestinationAccount(sandbox.AccountB))
	must(err)
	report, err := c.Sync(ctx, src, dst)
	must(err)
	fmt.Printf("copied %d objects %s\n", report.Copied, report.Mode)
	// Output:
	// acting as arn:aws:sts::222222222222:assumed-role/xacct-copy/nightly
	// copied 2 objects server-side
}

func ExampleCopier_Preflight() {
	ctx := context.Background()
	sb := exampleAccounts(ctx)
	defer sb.Close()
	src, dst := xacct.MustParseLocation("s3://a-exports/"), xacct.MustParseLocation("s3://b-archive/a/")

	// The reader may list but not read; the writer may write.
	listOnly, _ := xacct.RemoveStatements(ptr(xacct.SourceReadPolicy(src)), "XacctSourceRead")
	reader, err := sb.AddUser(sandbox.AccountA, "reader", jsonOf(*listOnly))
	must(err)
	writer, err := sb.AddUser(sandbox.AccountB, "writer", jsonOf(xacct.DestinationWritePolicy(dst)))
	must(err)

	c, err := xacct.NewCopierFromConfigs(sb.Config(reader), sb.Config(writer),
		xacct.WithSourceAccount(sandbox.AccountA), xacct.WithDestinationAccount(sandbox.AccountB))
	must(err)
	report, err := c.Preflight(ctx, src, dst)
	must(err)
	for _, f := range report.Findings {
		fmt.Printf("%s: %s denied on %s\n", f.Side, f.Action, f.Resource)
		for _, fix := range f.Fixes {
			fmt.Println("fix:", fix)
		}
	}
	fmt.Println("would copy by", report.Mode)
	// Output:
	// source: s3:GetObject denied on arn:aws:s3:::a-exports/2026/01.csv
	// fix: identity policy of arn:aws:iam::111111111111:user/reader: {"Sid":"XacctSourceRead","Effect":"Allow","Action":["s3:GetObject","s3:GetObjectTagging"],"Resource":"arn:aws:s3:::a-exports/*"}
	// would copy by stream
}

func ptr[T any](v T) *T { return &v }

func ExampleNewCopierFromConfigs() {
	ctx := context.Background()
	sb := exampleAccounts(ctx)
	defer sb.Close()
	src, dst := xacct.MustParseLocation("s3://a-exports/"), xacct.MustParseLocation("s3://b-archive/a/")

	// No principal can both read the source and write the destination,
	// so the copier streams through this process.
	reader, err := sb.AddUser(sandbox.AccountA, "reader", jsonOf(xacct.SourceReadPolicy(src)))
	must(err)
	writer, err := sb.AddUser(sandbox.AccountB, "writer", jsonOf(xacct.DestinationWritePolicy(dst)))
	must(err)
	c, err := xacct.NewCopierFromConfigs(sb.Config(reader), sb.Config(writer))
	must(err)
	report, err := c.Sync(ctx, src, dst)
	must(err)
	fmt.Printf("copied %d objects (%d bytes) by %s\n", report.Copied, report.CopiedBytes, report.Mode)
	// Output:
	// copied 2 objects (18 bytes) by stream
}
