package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/spf13/cobra"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/humanize"
)

// lsOptions are the flags of the ls command.
type lsOptions struct {
	recursive bool
	human     bool
	summarize bool
}

func (a *app) lsCommand() *cobra.Command {
	var o lsOptions
	var ids identityFlags
	cmd := &cobra.Command{
		Use:   "ls [s3://bucket[/prefix]]",
		Short: "List buckets, or the objects and prefixes under a location",
		Long: `Without a location, ls lists the buckets the credentials own. With one, it
lists the objects and common prefixes (PRE) directly under it, or every object
below it with --recursive, in the format of aws s3 ls. It exits with status 1
when nothing matches the key or prefix given; an empty bucket listed whole
(s3://bucket or s3://bucket/) is status 0, as with aws s3 ls.

ls takes sync's identity flags, so a location can be listed as sync would
see it: as the source side by default (--source-profile, --source-role-arn,
--role-arn, --external-id, --source-external-id), or as the destination side when only
--dest-profile or --dest-role-arn is given.`,
		Example: `  xacct ls
  xacct ls s3://my-bucket/reports/
  xacct ls s3://my-bucket --recursive --human-readable --summarize
  xacct ls s3://partner-bucket --profile ops --role-arn arn:aws:iam::111111111111:role/copy --external-id 5f1c`,
		Args: argsBetween(0, 1),
		RunE: a.runE(func(ctx context.Context, args []string) error {
			target := ""
			if len(args) == 1 {
				target = args[0]
			}
			var loc *xacct.Location
			if target != "" && target != "s3://" {
				l, err := parseLocation("location", target)
				if err != nil {
					return err
				}
				loc = &l
			}
			cfg, err := a.lsConfig(ctx, ids)
			if err != nil {
				return err
			}
			return runLs(ctx, newS3(cfg), loc, o, a.out, a.tz)
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&o.recursive, "recursive", false, "list every object below the location, with full keys")
	f.BoolVar(&o.human, "human-readable", false, "show sizes in KiB, MiB, GiB…")
	f.BoolVar(&o.summarize, "summarize", false, "end with the number of objects and their total size")
	ids.register(f)
	return cmd
}

// lsConfig loads the configuration of the side ls lists as.
func (a *app) lsConfig(ctx context.Context, ids identityFlags) (aws.Config, error) {
	if err := ids.validate(); err != nil {
		return aws.Config{}, err
	}
	srcSet := ids.sourceProfile != "" || ids.sourceRoleARN != ""
	dstSet := ids.destProfile != "" || ids.destRoleARN != ""
	if srcSet && dstSet {
		return aws.Config{}, usageError{errors.New("ls lists as one side: give the --source-* or the --dest-* flags, not both")}
	}
	s := ids.source(a.flags.profile)
	if dstSet {
		s = ids.destination(a.flags.profile)
	}
	return a.sideConfig(ctx, s, 0)
}

// lsClient is what ls needs from S3; *s3.Client satisfies it.
type lsClient interface {
	xacct.ListObjectsV2API
	s3.ListBucketsAPIClient
}

// runLs lists the buckets (loc nil) or the objects under loc on w, with
// dates in tz.
func runLs(ctx context.Context, client lsClient, loc *xacct.Location, o lsOptions, w io.Writer, tz *time.Location) error {
	f := lsFormat{human: o.human, tz: tz}
	if loc == nil {
		// S3 lists buckets by name; some S3-compatible servers do not.
		var buckets []types.Bucket
		pages := s3.NewListBucketsPaginator(client, &s3.ListBucketsInput{})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("list buckets: %w", err)
			}
			buckets = append(buckets, page.Buckets...)
		}
		slices.SortFunc(buckets, func(x, y types.Bucket) int { return strings.Compare(aws.ToString(x.Name), aws.ToString(y.Name)) })
		for _, b := range buckets {
			fmt.Fprint(w, f.bucketLine(aws.ToString(b.Name), aws.ToTime(b.CreationDate)))
		}
		return nil
	}
	var opts []xacct.ListOption
	if !o.recursive {
		opts = append(opts, xacct.WithDelimiter("/"))
	}
	var entries, objects, bytes int64
	for obj, err := range xacct.List(ctx, client, *loc, opts...) {
		if err != nil {
			return fmt.Errorf("list %s: %w", loc, err)
		}
		entries++
		if obj.IsPrefix {
			fmt.Fprint(w, f.prefixLine(obj.Key))
			continue
		}
		objects++
		bytes += obj.Size
		name := obj.Key
		if !o.recursive {
			name = name[strings.LastIndexByte(name, '/')+1:]
		}
		fmt.Fprint(w, f.objectLine(name, obj.Size, obj.LastModified))
	}
	if o.summarize {
		fmt.Fprint(w, f.summary(objects, bytes))
	}
	// As aws s3 ls: exit status 1 when a key or prefix was given and
	// nothing matched it; an empty bucket listed as a whole is no failure.
	if entries == 0 && loc.Prefix != "" {
		return &exitError{code: exitFailed}
	}
	return nil
}

// lsFormat renders listing lines exactly as aws s3 ls does.
type lsFormat struct {
	human bool
	tz    *time.Location
}

// lsTimeLayout is aws s3 ls's date format, in local time.
const lsTimeLayout = "2006-01-02 15:04:05"

// bucketLine renders a bucket: its creation date and name.
func (f lsFormat) bucketLine(name string, created time.Time) string {
	return created.In(f.tz).Format(lsTimeLayout) + " " + name + "\n"
}

// prefixLine renders a common prefix such as "a/b/" as "PRE b/", with
// "PRE" right-aligned in 30 columns.
func (f lsFormat) prefixLine(prefix string) string {
	parts := strings.Split(prefix, "/")
	name := parts[len(parts)-1]
	if len(parts) > 1 {
		name = parts[len(parts)-2]
	}
	return fmt.Sprintf("%30s %s/\n", "PRE", name)
}

// objectLine renders an object: date, size right-aligned in 10 columns,
// name.
func (f lsFormat) objectLine(name string, size int64, modified time.Time) string {
	return fmt.Sprintf("%-19s %10s %s\n", modified.In(f.tz).Format(lsTimeLayout), f.size(size), name)
}

// summary renders the --summarize trailer.
func (f lsFormat) summary(objects, bytes int64) string {
	return fmt.Sprintf("\nTotal Objects: %d\n%15s%s\n", objects, "Total Size: ", f.size(bytes))
}

func (f lsFormat) size(n int64) string {
	if f.human {
		return humanize.Size(n)
	}
	return strconv.FormatInt(n, 10)
}
