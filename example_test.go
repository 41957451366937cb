package xacct_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// exampleBuckets starts a sandbox with a source bucket holding a few
// objects and an empty destination bucket.
func exampleBuckets(ctx context.Context) (*sandbox.Sandbox, *s3.Client) {
	sb, err := sandbox.Start()
	if err != nil {
		log.Fatal(err)
	}
	root := sb.Root(sandbox.AccountA)
	client := sb.S3(root)
	for _, b := range []string{"example-src", "example-dst"} {
		if err := sb.CreateBucket(ctx, root, b); err != nil {
			log.Fatal(err)
		}
	}
	for key, body := range map[string]string{"logs/app.log": "log line", "data/a.csv": "a,b", "data/b.csv": "c,d,e"} {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("example-src"), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
			log.Fatal(err)
		}
	}
	return sb, client
}

func ExampleCopier_Sync() {
	ctx := context.Background()
	sb, client := exampleBuckets(ctx)
	defer sb.Close()

	c, err := xacct.NewCopier(client, xacct.WithFilters(xacct.Exclude("logs/*")))
	if err != nil {
		log.Fatal(err)
	}
	report, err := c.Sync(ctx, xacct.MustParseLocation("s3://example-src"), xacct.MustParseLocation("s3://example-dst/backup"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("copied %d objects (%d bytes), excluded %d\n", report.Copied, report.CopiedBytes, report.Excluded)

	// Nothing changed since: the second run copies nothing.
	report, err = c.Sync(ctx, xacct.MustParseLocation("s3://example-src"), xacct.MustParseLocation("s3://example-dst/backup"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("copied %d, skipped %d\n", report.Copied, report.Skipped)
	// Output:
	// copied 2 objects (8 bytes), excluded 1
	// copied 0, skipped 2
}

func ExampleCopier_Sync_dryRun() {
	ctx := context.Background()
	sb, client := exampleBuckets(ctx)
	defer sb.Close()

	c, err := xacct.NewCopier(client, xacct.WithConcurrency(1))
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Sync(ctx, xacct.MustParseLocation("s3://example-src/data/"), xacct.MustParseLocation("s3://example-dst/"),
		xacct.WithDryRun(true),
		xacct.WithProgress(xacct.ProgressFunc(func(e xacct.ObjectEvent) {
			fmt.Printf("(dryrun) %s: %s to %s\n", e.Action, e.Source, e.Destination)
		})))
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// (dryrun) copy: s3://example-src/data/a.csv to s3://example-dst/a.csv
	// (dryrun) copy: s3://example-src/data/b.csv to s3://example-dst/b.csv
}

func ExampleList() {
	ctx := context.Background()
	sb, client := exampleBuckets(ctx)
	defer sb.Close()

	for obj, err := range xacct.List(ctx, client, xacct.MustParseLocation("s3://example-src/data/")) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(obj.Key, obj.Size)
	}
	sum, err := xacct.Summarize(ctx, client, xacct.MustParseLocation("s3://example-src"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d objects, %d bytes\n", sum.Objects, sum.Bytes)
	// Output:
	// data/a.csv 3
	// data/b.csv 5
	// 3 objects, 16 bytes
}

func ExampleParseLocation() {
	loc, err := xacct.ParseLocation("s3://my-bucket/reports/2026/")
	fmt.Println(loc.Bucket, loc.Prefix, err)

	_, err = xacct.ParseLocation("s3://My_Bucket/x")
	var ve *xacct.ValidationError
	fmt.Println(errors.As(err, &ve), ve.Field, ve.Rule)
	// Output:
	// my-bucket reports/2026/ <nil>
	// true bucket may contain only lowercase letters, digits, dots and hyphens
}
