package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// Buckets of the demo.
const (
	demoSource      = "xacct-demo-source"
	demoDestination = "xacct-demo-destination"
)

func (a *app) demoCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Show whoami, ls and sync against an in-memory AWS, no account needed",
		Long: `Demo starts an in-memory S3 and STS, fills a source bucket with sample
files and runs whoami, ls and sync against it, printing the command you would
type for each step. It needs no AWS account, network or environment, and
ignores --profile, --region and --endpoint-url.`,
		Args: argsBetween(0, 0),
		RunE: a.runE(func(ctx context.Context, _ []string) error {
			return runDemo(ctx, a.out, a.logger(), a.tz)
		}),
	}
}

// demoObject is one sample file.
type demoObject struct {
	key  string
	body []byte
}

// demoObjects returns the sample files: text, CSV, binary of several
// sizes, and an empty folder marker. The bytes are the same on every run.
func demoObjects() []demoObject {
	random := rand.NewChaCha8([32]byte{'x', 'a', 'c', 'c', 't'})
	binary := func(header string, n int) []byte {
		b := make([]byte, n)
		_, _ = random.Read(b)
		return append([]byte(header), b...)
	}
	csv := func(quarter string, rows int) []byte {
		var b bytes.Buffer
		b.WriteString("date,region,orders,revenue\n")
		for i := range rows {
			fmt.Fprintf(&b, "2026-%s-%02d,eu-west-1,%d,%d.%02d\n", quarter, i%28+1, 100+i*7, 2500+i*113, i%100)
		}
		return b.Bytes()
	}
	var log bytes.Buffer
	for i := range 120 {
		fmt.Fprintf(&log, "2026-03-01T08:%02d:%02dZ INFO request served path=/api/orders status=200\n", i/60, i%60)
	}
	return []demoObject{
		{"README.txt", []byte("Sample data for the xacct demo: quarterly reports, images, logs and an\nempty folder marker. Nothing here is real.\n")},
		{"archive/.keep", nil},
		{"images/banner.jpg", binary("\xff\xd8\xff\xe0", 1400<<10)},
		{"images/logo.png", binary("\x89PNG\r\n\x1a\n", 6<<10)},
		{"logs/2026-03-01.log", log.Bytes()},
		{"reports/2025/annual.pdf", binary("%PDF-1.7\n", 180<<10)},
		{"reports/2026/q1.csv", csv("01", 40)},
	}
}

// runDemo runs the demo and writes everything to w, with dates in tz.
func runDemo(ctx context.Context, w io.Writer, log *slog.Logger, tz *time.Location) error {
	sb, err := sandbox.Start()
	if err != nil {
		return fmt.Errorf("start sandbox: %w", err)
	}
	defer sb.Close()
	root := sb.Root(sandbox.AccountA)
	// Cross-account roles come later; for now one principal of account A
	// owns both buckets.
	cfg := sb.Config(root)
	if err := demoSetup(ctx, sb, root); err != nil {
		return err
	}
	src, dst := xacct.MustParseLocation("s3://"+demoSource), xacct.MustParseLocation("s3://"+demoDestination)
	out := streams{out: w, err: w}

	fmt.Fprintf(w, "xacct demo on an in-memory AWS (accounts %s and %s); $ lines show the real commands.\n", sandbox.AccountA, sandbox.AccountB)

	step(w, "whoami (account A)", "xacct whoami")
	if err := runWhoAmI(ctx, newSTS(cfg), false, w); err != nil {
		return err
	}

	step(w, "ls the source", "xacct ls s3://"+demoSource+" --recursive --human-readable --summarize")
	if err := runLs(ctx, newS3(cfg), &src, lsOptions{recursive: true, human: true, summarize: true}, w, tz); err != nil {
		return err
	}

	syncCmd := "xacct sync s3://" + demoSource + " s3://" + demoDestination + " --delete"
	opts := syncOptions{delete: true, concurrency: xacct.DefaultConcurrency, maxDelete: xacct.NoDeleteCap}
	step(w, "sync to the destination, which has one stale object", syncCmd)
	if err := runSync(ctx, cfg, src, dst, opts, out, log); err != nil {
		return err
	}

	step(w, "ls the destination", "xacct ls s3://"+demoDestination)
	if err := runLs(ctx, newS3(cfg), &dst, lsOptions{}, w, tz); err != nil {
		return err
	}

	step(w, "sync again: nothing to copy (report as JSON)", syncCmd+" --json")
	opts.json = true
	return runSync(ctx, cfg, src, dst, opts, out, log)
}

// step prints a section header and the command it runs.
func step(w io.Writer, title, command string) {
	fmt.Fprintf(w, "\n== %s\n$ %s\n", title, command)
}

// demoSetup creates the buckets, the sample files, and a stale object in
// the destination for sync --delete to remove.
func demoSetup(ctx context.Context, sb *sandbox.Sandbox, p sandbox.Principal) error {
	for _, b := range []string{demoSource, demoDestination} {
		if err := sb.CreateBucket(ctx, p, b); err != nil {
			return fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	client := sb.S3(p)
	put := func(bucket, key string, body []byte) error {
		_, err := client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket),
			Key:    aws.String(key),
			Body:   bytes.NewReader(body),
		})
		if err != nil {
			return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
		}
		return nil
	}
	if err := put(demoDestination, "old-export.csv", []byte(strings.Repeat("stale,row\n", 20))); err != nil {
		return err
	}
	for _, o := range demoObjects() {
		if err := put(demoSource, o.key, o.body); err != nil {
			return err
		}
	}
	return nil
}
