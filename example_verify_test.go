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
)

func ExampleCopier_Verify() {
	ctx := context.Background()
	sb, client := exampleBuckets(ctx)
	defer sb.Close()
	src, dst := xacct.MustParseLocation("s3://example-src"), xacct.MustParseLocation("s3://example-dst")

	c, err := xacct.NewCopier(client)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Sync(ctx, src, dst); err != nil {
		log.Fatal(err)
	}
	// Someone overwrites one copy with other bytes of the same size.
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("example-dst"), Key: aws.String("data/a.csv"), Body: strings.NewReader("x,y")}); err != nil {
		log.Fatal(err)
	}

	report, err := c.Verify(ctx, src, dst)
	if err != nil && !errors.Is(err, xacct.ErrMismatch) {
		log.Fatal(err)
	}
	fmt.Printf("matched %d, differ %d\n", report.Matched, report.Differ)
	for _, d := range report.Differences {
		fmt.Println(d.Kind, d.Key)
	}
	// Output:
	// matched 2, differ 1
	// content data/a.csv
}
