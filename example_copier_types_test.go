package xacct_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// copiedKeys returns a progress option that records the destination of
// every copy, and a function returning them sorted.
func copiedKeys() (xacct.CopierOption, func() []string) {
	var mu sync.Mutex
	var keys []string
	opt := xacct.WithProgress(xacct.ProgressFunc(func(e xacct.ObjectEvent) {
		if e.Action == xacct.ActionCopy && e.Err == nil {
			mu.Lock()
			keys = append(keys, e.Destination.Prefix)
			mu.Unlock()
		}
	}))
	return opt, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Sorted(slices.Values(keys))
	}
}

func ExampleFilter() {
	ctx := context.Background()
	sb, client := exampleBuckets(ctx)
	defer sb.Close()

	// As with aws s3 sync, the last rule that matches a key decides.
	rules := []xacct.Filter{xacct.Exclude("*"), xacct.Include("data/*"), xacct.Exclude("*/b.csv")}
	for _, r := range rules {
		fmt.Println(r)
	}
	progress, keys := copiedKeys()
	c, err := xacct.NewCopier(client, xacct.WithFilters(rules...), progress)
	if err != nil {
		log.Fatal(err)
	}
	report, err := c.Sync(ctx, xacct.MustParseLocation("s3://example-src"), xacct.MustParseLocation("s3://example-dst"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(keys(), "excluded:", report.Excluded)
	// Output:
	// --exclude "*"
	// --include "data/*"
	// --exclude "*/b.csv"
	// [data/a.csv] excluded: 2
}

func ExampleCompareStrategy() {
	ctx := context.Background()
	sb, client := exampleBuckets(ctx)
	defer sb.Close()

	// The destination already holds a newer object of the same size with
	// other bytes.
	_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("example-dst"), Key: aws.String("a.csv"), Body: strings.NewReader("x,y")})
	if err != nil {
		log.Fatal(err)
	}
	src, dst := xacct.MustParseLocation("s3://example-src/data/"), xacct.MustParseLocation("s3://example-dst")
	for _, s := range []xacct.CompareStrategy{xacct.CompareSizeAndTime, xacct.CompareSizeOnly, xacct.CompareETag} {
		c, err := xacct.NewCopier(client, xacct.WithCompare(s), xacct.WithFilters(xacct.Exclude("b.csv")), xacct.WithDryRun(true))
		if err != nil {
			log.Fatal(err)
		}
		report, err := c.Sync(ctx, src, dst)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: copy %d, skip %d\n", s, report.Copied, report.Skipped)
	}
	// Output:
	// size-and-time: copy 0, skip 1
	// size-only: copy 0, skip 1
	// etag: copy 1, skip 0
}

func ExampleCopyProps() {
	ctx := context.Background()
	sb, client := exampleBuckets(ctx)
	defer sb.Close()

	_, err := client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("example-src"), Key: aws.String("web/index.html"), Body: strings.NewReader("<p>hi</p>"),
		ContentType: aws.String("text/html"), Metadata: map[string]string{"team": "web"}, Tagging: aws.String("stage=prod"),
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range []xacct.CopyProps{xacct.CopyPropsDefault, xacct.CopyPropsMetadataDirective, xacct.CopyPropsNone} {
		c, err := xacct.NewCopier(client, xacct.WithCopyProps(p))
		if err != nil {
			log.Fatal(err)
		}
		dst := xacct.Location{Bucket: "example-dst", Prefix: p.String() + "/"}
		if _, err := c.Sync(ctx, xacct.MustParseLocation("s3://example-src/web/"), dst); err != nil {
			log.Fatal(err)
		}
		key := aws.String(dst.Prefix + "index.html")
		head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(dst.Bucket), Key: key})
		if err != nil {
			log.Fatal(err)
		}
		tags, err := client.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(dst.Bucket), Key: key})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: text/html %t, metadata %v, %d tags\n", p, aws.ToString(head.ContentType) == "text/html", head.Metadata, len(tags.TagSet))
	}
	// Output:
	// default: text/html true, metadata map[team:web], 1 tags
	// metadata-directive: text/html true, metadata map[team:web], 0 tags
	// none: text/html false, metadata map[], 0 tags
}

func ExampleSummarize() {
	ctx := context.Background()
	sb, client := exampleBuckets(ctx)
	defer sb.Close()

	sum, err := xacct.Summarize(ctx, client, xacct.MustParseLocation("s3://example-src/data/"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d objects, %d bytes\n", sum.Objects, sum.Bytes)
	// Output:
	// 2 objects, 8 bytes
}

func ExampleSyncReport() {
	ctx := context.Background()
	sb, client := exampleBuckets(ctx)
	defer sb.Close()

	// The destination refuses one object; the others are still copied.
	sb.InjectFault(sandbox.FaultSpec{Op: "CopyObject", KeyContains: "b.csv", Status: 403, Code: "AccessDenied"})
	c, err := xacct.NewCopier(client)
	if err != nil {
		log.Fatal(err)
	}
	report, err := c.Sync(ctx, xacct.MustParseLocation("s3://example-src/data/"), xacct.MustParseLocation("s3://example-dst/"))
	fmt.Printf("copied %d, failed %d\n", report.Copied, report.Failed)
	// err joins report.Errors; each object's failure is an *ObjectError
	// wrapping AWS's error.
	fmt.Println(err != nil)
	for _, e := range report.Errors {
		var oe *xacct.ObjectError
		var apiErr smithy.APIError
		if errors.As(e, &oe) && errors.As(oe, &apiErr) {
			fmt.Printf("%s s3://%s/%s: %s\n", oe.Op, oe.Bucket, oe.Key, apiErr.ErrorCode())
		}
	}
	// Output:
	// copied 1, failed 1
	// true
	// copy s3://example-src/data/b.csv: AccessDenied
}
