package xacct_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// benchObjects is the size of the small-object data set: 4 KiB objects, as
// in ../shared/bench's "small" set, scaled down to keep a run short.
const benchObjects = 2000

// benchClient returns an S3 client whose transport keeps enough idle
// connections for the benchmark's concurrency.
func benchClient(b *testing.B, sb *sandbox.Sandbox) *s3.Client {
	return s3.NewFromConfig(benchConfig(sb), func(o *s3.Options) { o.UsePathStyle = true })
}

func seedBench(b *testing.B) (*sandbox.Sandbox, *s3.Client) {
	b.Helper()
	sb, err := sandbox.Start()
	require.NoError(b, err)
	b.Cleanup(sb.Close)
	client := benchClient(b, sb)
	ctx := context.Background()
	require.NoError(b, sb.CreateBucket(ctx, sb.Root(sandbox.AccountA), "bench-src"))
	body := strings.Repeat("x", 4096)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range benchObjects {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench-src"), Key: aws.String(fmt.Sprintf("d%02d/obj-%06d", i%50, i)), Body: strings.NewReader(body)})
			if err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	return sb, client
}

// BenchmarkSmallObjects syncs benchObjects 4 KiB objects into an empty
// bucket with the Copier, and with a bare list + CopyObject loop (16
// workers, no comparison, as ../shared/bench's rawcopy) on the same
// server, so the two figures are a ratio from one run. "noop" re-syncs an
// up-to-date destination; "list-both" is its floor.
func BenchmarkSmallObjects(b *testing.B) {
	sb, client := seedBench(b)
	ctx := context.Background()
	src := xacct.Location{Bucket: "bench-src"}
	n := 0
	freshBucket := func() xacct.Location {
		b.StopTimer()
		n++
		name := fmt.Sprintf("bench-dst-%d", n)
		require.NoError(b, sb.CreateBucket(ctx, sb.Root(sandbox.AccountA), name))
		b.StartTimer()
		return xacct.Location{Bucket: name}
	}
	c, err := xacct.NewCopier(client)
	require.NoError(b, err)

	b.Run("xacct-sync", func(b *testing.B) {
		for b.Loop() {
			rep, err := c.Sync(ctx, src, freshBucket())
			require.NoError(b, err)
			require.EqualValues(b, benchObjects, rep.Copied)
		}
		b.ReportMetric(float64(benchObjects*b.N)/b.Elapsed().Seconds(), "objects/s")
	})
	b.Run("bare-copy-loop", func(b *testing.B) {
		for b.Loop() {
			dst := freshBucket()
			keys := make(chan string, 1000)
			var wg sync.WaitGroup
			for range 16 {
				wg.Go(func() {
					for k := range keys {
						_, err := client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(dst.Bucket), Key: aws.String(k), CopySource: aws.String("bench-src/" + k)})
						if err != nil {
							b.Error(err)
						}
					}
				})
			}
			p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String("bench-src")})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				require.NoError(b, err)
				for _, o := range page.Contents {
					keys <- *o.Key
				}
			}
			close(keys)
			wg.Wait()
		}
		b.ReportMetric(float64(benchObjects*b.N)/b.Elapsed().Seconds(), "objects/s")
	})

	upToDate := freshBucket()
	_, err = c.Sync(ctx, src, upToDate)
	require.NoError(b, err)
	b.Run("xacct-noop", func(b *testing.B) {
		for b.Loop() {
			rep, err := c.Sync(ctx, src, upToDate)
			require.NoError(b, err)
			require.Zero(b, rep.Copied)
		}
	})
	listBoth := func(b *testing.B) {
		for b.Loop() {
			var wg sync.WaitGroup
			for _, l := range []xacct.Location{src, upToDate} {
				wg.Go(func() {
					_, err := xacct.Summarize(ctx, client, l)
					if err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
		}
	}
	b.Run("list-both", listBoth)

	// The same no-op with every request held benchLatency by the server,
	// as S3's round trips are: what the preflight's probes cost before the
	// sync can finish. The copier has a client per side with identity
	// clients (NewCopierFromConfigs), as a cross-account sync does, so it
	// runs every probe but the delete probe.
	twoSided, err := xacct.NewCopierFromConfigs(benchConfig(sb), benchConfig(sb))
	require.NoError(b, err)
	_, err = twoSided.Sync(ctx, src, upToDate)
	require.NoError(b, err)
	slow := func(run func(*testing.B)) func(*testing.B) {
		return func(b *testing.B) {
			defer sb.InjectFault(sandbox.FaultSpec{Kind: sandbox.FaultLatency, Latency: benchLatency})()
			run(b)
		}
	}
	b.Run("xacct-noop-20ms", slow(func(b *testing.B) {
		for b.Loop() {
			rep, err := twoSided.Sync(ctx, src, upToDate)
			require.NoError(b, err)
			require.Zero(b, rep.Copied)
		}
	}))
	b.Run("list-both-20ms", slow(listBoth))
}

// benchLatency is the round trip the latency benchmarks inject, near
// S3's from within its region.
const benchLatency = 20 * time.Millisecond

// benchConfig is the sandbox's config for account A's root, with enough
// idle connections for the benchmark's concurrency.
func benchConfig(sb *sandbox.Sandbox) aws.Config {
	cfg := sb.Config(sb.Root(sandbox.AccountA))
	cfg.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns, t.MaxIdleConnsPerHost = 256, 256
	})
	return cfg
}
