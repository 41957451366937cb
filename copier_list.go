package xacct

import (
	"context"
	"iter"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Object is one entry of a listing.
type Object struct {
	// Key is the full object key, or the common prefix when IsPrefix.
	Key string `json:"key"`
	// Size in bytes.
	Size int64 `json:"size"`
	// ETag without its quotes.
	ETag         string    `json:"etag,omitempty"`
	LastModified time.Time `json:"lastModified"`
	StorageClass string    `json:"storageClass,omitempty"`
	// IsPrefix marks a common prefix (a "folder") of a delimited listing;
	// only Key is set.
	IsPrefix bool `json:"isPrefix,omitempty"`
}

// ListOption configures List.
type ListOption func(*listOptions)

type listOptions struct {
	delimiter string
	owner     string
	payer     bool
}

// WithDelimiter lists one level: keys containing delimiter after the
// prefix are rolled up into prefix entries (IsPrefix), which come before
// the objects of the same page, as aws s3 ls shows them. Default: none,
// every object under the prefix.
func WithDelimiter(d string) ListOption { return func(o *listOptions) { o.delimiter = d } }

// WithListRequestPayer makes the listing accept a requester-pays
// bucket's charges. Default off.
func WithListRequestPayer(on bool) ListOption {
	return func(o *listOptions) { o.payer = on }
}

// WithExpectedBucketOwner sends account as ExpectedBucketOwner, so S3
// refuses the listing when another account owns the bucket. Default ""
// sends nothing.
func WithExpectedBucketOwner(account string) ListOption {
	return func(o *listOptions) { o.owner = account }
}

// List yields the objects under loc in key order (UTF-8 byte order, as S3
// returns them). The next page is fetched while the current one is
// consumed, so at most two pages are held in memory. On failure it yields
// the error once and stops.
func List(ctx context.Context, client ListObjectsV2API, loc Location, opts ...ListOption) iter.Seq2[Object, error] {
	var o listOptions
	for _, opt := range opts {
		opt(&o)
	}
	return func(yield func(Object, error) bool) {
		if err := loc.Validate(); err != nil {
			yield(Object{}, err)
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		pages := make(chan pageResult, 1)
		var wg sync.WaitGroup
		wg.Go(func() { fetchPages(ctx, client, loc, o, pages) })
		defer func() {
			cancel()
			for range pages { // let the fetcher finish
			}
			wg.Wait()
		}()
		for p := range pages {
			if p.err != nil {
				yield(Object{}, p.err)
				return
			}
			for _, obj := range p.objects {
				if !yield(obj, nil) {
					return
				}
			}
		}
		// A cancelled fetcher stops without a last page; the listing must
		// not look complete.
		if err := ctx.Err(); err != nil {
			yield(Object{}, err)
		}
	}
}

type pageResult struct {
	objects []Object
	err     error
}

func fetchPages(ctx context.Context, client ListObjectsV2API, loc Location, o listOptions, out chan<- pageResult) {
	defer close(out)
	in := &s3.ListObjectsV2Input{Bucket: aws.String(loc.Bucket)}
	if loc.Prefix != "" {
		in.Prefix = aws.String(loc.Prefix)
	}
	if o.delimiter != "" {
		in.Delimiter = aws.String(o.delimiter)
	}
	if o.owner != "" {
		in.ExpectedBucketOwner = aws.String(o.owner)
	}
	if o.payer {
		in.RequestPayer = types.RequestPayerRequester
	}
	for {
		resp, err := client.ListObjectsV2(ctx, in)
		var p pageResult
		if err != nil {
			p.err = err
		} else {
			p.objects = make([]Object, 0, len(resp.CommonPrefixes)+len(resp.Contents))
			for _, cp := range resp.CommonPrefixes {
				p.objects = append(p.objects, Object{Key: aws.ToString(cp.Prefix), IsPrefix: true})
			}
			for _, c := range resp.Contents {
				p.objects = append(p.objects, Object{
					Key:          aws.ToString(c.Key),
					Size:         aws.ToInt64(c.Size),
					ETag:         strings.Trim(aws.ToString(c.ETag), `"`),
					LastModified: aws.ToTime(c.LastModified),
					StorageClass: string(c.StorageClass),
				})
			}
		}
		select {
		case out <- p:
		case <-ctx.Done():
			return
		}
		if err != nil || !aws.ToBool(resp.IsTruncated) || aws.ToString(resp.NextContinuationToken) == "" {
			return
		}
		in.ContinuationToken = resp.NextContinuationToken
	}
}

// Summary counts the objects under a location.
type Summary struct {
	Objects int64 `json:"objects"`
	Bytes   int64 `json:"bytes"`
}

// Summarize counts the objects under loc and their total size.
func Summarize(ctx context.Context, client ListObjectsV2API, loc Location) (Summary, error) {
	var s Summary
	for obj, err := range List(ctx, client, loc) {
		if err != nil {
			return s, err
		}
		s.Objects++
		s.Bytes += obj.Size
	}
	return s, nil
}
