package xacct_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// env is one sandbox with a source and a destination bucket, both written
// by account A's root unless a test says otherwise.
type env struct {
	sb     *sandbox.Sandbox
	client *s3.Client
	src    string
	dst    string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	sb, err := sandbox.Start()
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	root := sb.Root(sandbox.AccountA)
	e := &env{sb: sb, client: sb.S3(root), src: "src-bucket", dst: "dst-bucket"}
	require.NoError(t, sb.CreateBucket(t.Context(), root, e.src))
	require.NoError(t, sb.CreateBucket(t.Context(), root, e.dst))
	return e
}

func (e *env) put(t *testing.T, bucket string, objects map[string]string) {
	t.Helper()
	keys := slices.Sorted(maps.Keys(objects))
	var wg sync.WaitGroup
	errs := make(chan error, len(keys))
	sem := make(chan struct{}, 16)
	for _, k := range keys {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			_, err := e.client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader(objects[k])})
			if err != nil {
				errs <- fmt.Errorf("put %s: %w", k, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// contents reads every object under bucket/prefix: key (relative) → body.
func (e *env) contents(t *testing.T, bucket, prefix string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for obj, err := range xacct.List(t.Context(), e.client, xacct.Location{Bucket: bucket, Prefix: prefix}) {
		require.NoError(t, err)
		got, err := e.client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(obj.Key)})
		require.NoError(t, err)
		body, err := io.ReadAll(got.Body)
		require.NoError(t, err)
		_ = got.Body.Close()
		out[strings.TrimPrefix(obj.Key, prefix)] = string(body)
	}
	return out
}

func (e *env) copier(t *testing.T, opts ...xacct.CopierOption) *xacct.Copier {
	t.Helper()
	c, err := xacct.NewCopier(e.client, opts...)
	require.NoError(t, err)
	return c
}

func loc(bucket, prefix string) xacct.Location { return xacct.Location{Bucket: bucket, Prefix: prefix} }

// awkwardKeys are keys that break naive URL handling.
var awkwardKeys = map[string]string{
	"with space.txt":         "space",
	"unicodé/ñ/日本語.txt":      "unicode",
	"plus+sign.txt":          "plus",
	"percent%20literal.txt":  "percent",
	"question?mark.txt":      "question",
	"folder/":                "",
	"empty.bin":              "",
	"a/b/c/deep.txt":         "deep",
	"amp&eq=semi;colon,.txt": "punct",
}

func TestSyncCopiesEverythingAcrossPages(t *testing.T) {
	e := newEnv(t)
	want := maps.Clone(awkwardKeys)
	for i := range 1203 {
		want[fmt.Sprintf("bulk/%05d.txt", i)] = fmt.Sprintf("object %d", i)
	}
	e.put(t, e.src, want)

	var events atomic.Int64
	c := e.copier(t, xacct.WithConcurrency(64), xacct.WithProgress(xacct.ProgressFunc(func(ev xacct.ObjectEvent) {
		if ev.Action == xacct.ActionCopy && ev.Err == nil {
			events.Add(1)
		}
	})))
	rep, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.NoError(t, err)
	assert.EqualValues(t, len(want), rep.Listed)
	assert.EqualValues(t, len(want), rep.Copied)
	assert.EqualValues(t, len(want), events.Load())
	assert.Zero(t, rep.Failed)
	var bytes int64
	for _, v := range want {
		bytes += int64(len(v))
	}
	assert.Equal(t, bytes, rep.CopiedBytes)
	assert.Equal(t, want, e.contents(t, e.dst, ""))

	// A second sync finds nothing to do.
	rep, err = c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.NoError(t, err)
	assert.Zero(t, rep.Copied)
	assert.EqualValues(t, len(want), rep.Skipped)
}

func TestSyncMapsPrefixToPrefix(t *testing.T) {
	e := newEnv(t)
	e.put(t, e.src, map[string]string{"data/a.txt": "a", "data/sub/b.txt": "b", "data2/not-me.txt": "x", "top.txt": "t"})
	e.put(t, e.dst, map[string]string{"other/keep.txt": "k"})

	// "data" without a slash means the folder data/, as in aws s3 sync.
	rep, err := e.copier(t).Sync(t.Context(), loc(e.src, "data"), loc(e.dst, "backup/2026"))
	require.NoError(t, err)
	assert.EqualValues(t, 2, rep.Copied)
	assert.Equal(t, map[string]string{"backup/2026/a.txt": "a", "backup/2026/sub/b.txt": "b", "other/keep.txt": "k"}, e.contents(t, e.dst, ""))
}

func TestSyncCompareStrategies(t *testing.T) {
	tests := []struct {
		name    string
		compare xacct.CompareStrategy
		// want is the destination body of each key after the sync.
		want   map[string]string
		copied int64
	}{
		// "equal" is copied again: its source is newer, which is all
		// aws-cli's default looks at.
		{"size and time", xacct.CompareSizeAndTime, map[string]string{"same-size-newer-src": "NEW", "same-size-older-src": "dst", "other-size": "longer", "equal": "same"}, 3},
		{"size only", xacct.CompareSizeOnly, map[string]string{"same-size-newer-src": "old", "same-size-older-src": "dst", "other-size": "longer", "equal": "same"}, 1},
		{"etag", xacct.CompareETag, map[string]string{"same-size-newer-src": "NEW", "same-size-older-src": "src", "other-size": "longer", "equal": "same"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.put(t, e.src, map[string]string{"same-size-older-src": "src"})
			time.Sleep(10 * time.Millisecond)
			e.put(t, e.dst, map[string]string{"same-size-newer-src": "old", "same-size-older-src": "dst", "other-size": "short", "equal": "same"})
			time.Sleep(10 * time.Millisecond)
			e.put(t, e.src, map[string]string{"same-size-newer-src": "NEW", "other-size": "longer", "equal": "same"})

			rep, err := e.copier(t, xacct.WithCompare(tt.compare)).Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
			require.NoError(t, err)
			assert.Equal(t, tt.want, e.contents(t, e.dst, ""))
			assert.Equal(t, tt.copied, rep.Copied)
			assert.Equal(t, 4-tt.copied, rep.Skipped)
		})
	}
}

func TestSyncFiltersLastMatchWins(t *testing.T) {
	e := newEnv(t)
	e.put(t, e.src, map[string]string{"a.txt": "a", "b.log": "b", "keep/c.log": "c", "keep/d.txt": "d", "x/keep/e.log": "e"})
	e.put(t, e.dst, map[string]string{"old.log": "stale", "old.txt": "stale"})

	rep, err := e.copier(t,
		xacct.WithFilters(xacct.Exclude("*.log"), xacct.Include("keep/*")),
		xacct.WithDelete(true),
	).Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.NoError(t, err)
	// *.log is excluded except under keep/ (relative to the prefix, so
	// x/keep/e.log stays excluded); the excluded old.log is not deleted.
	assert.Equal(t, map[string]string{"a.txt": "a", "keep/c.log": "c", "keep/d.txt": "d", "old.log": "stale"}, e.contents(t, e.dst, ""))
	assert.EqualValues(t, 3, rep.Copied)
	assert.EqualValues(t, 1, rep.Deleted)
	assert.EqualValues(t, 3, rep.Excluded)
}

func TestSyncDelete(t *testing.T) {
	for _, n := range []int{0, 2} { // 2 forces the second listing pass for 3 deletes
		t.Run(fmt.Sprintf("buffer %d", n), func(t *testing.T) {
			if n > 0 {
				t.Cleanup(xacct.SetDeleteBufferLimit(n))
			}
			e := newEnv(t)
			e.put(t, e.src, map[string]string{"a": "1", "c": "3", "xs": "excluded"})
			e.put(t, e.dst, map[string]string{"a": "1", "b": "x", "d": "x", "e": "x", "xd": "keep"})

			rep, err := e.copier(t, xacct.WithFilters(xacct.Exclude("x*"))).Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
			require.NoError(t, err)
			assert.Zero(t, rep.Deleted, "no delete unless asked")
			assert.Len(t, e.contents(t, e.dst, ""), 6)

			// Every key is counted and reported once, whichever delete
			// path runs: the second listing pass only deletes.
			var events []string
			var mu sync.Mutex
			rep, err = e.copier(t, xacct.WithDelete(true), xacct.WithFilters(xacct.Exclude("x*")), xacct.WithProgress(xacct.ProgressFunc(func(ev xacct.ObjectEvent) {
				mu.Lock()
				events = append(events, ev.Action.String()+" "+ev.Destination.Prefix)
				mu.Unlock()
			}))).Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
			require.NoError(t, err)
			assert.EqualValues(t, 3, rep.Listed, "a, c, xs")
			assert.EqualValues(t, 2, rep.Skipped, "a and c are up to date")
			assert.EqualValues(t, 2, rep.Excluded, "xs at the source, xd at the destination")
			assert.Zero(t, rep.Copied)
			assert.EqualValues(t, 3, rep.Deleted)
			assert.Zero(t, rep.Failed)
			assert.ElementsMatch(t, []string{"skip a", "skip c", "delete b", "delete d", "delete e"}, events)
			assert.Equal(t, map[string]string{"a": "1", "c": "3", "xd": "keep"}, e.contents(t, e.dst, ""))
		})
	}
}

func TestSyncDeleteCap(t *testing.T) {
	e := newEnv(t)
	e.put(t, e.src, map[string]string{"a": "1"})
	e.put(t, e.dst, map[string]string{"b": "x", "c": "x", "d": "x"})

	rep, err := e.copier(t, xacct.WithDelete(true), xacct.WithMaxDelete(2)).Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.ErrorIs(t, err, xacct.ErrDeleteCapExceeded)
	assert.ErrorContains(t, err, "3 objects would be deleted, the cap is 2")
	assert.Zero(t, rep.Deleted)
	assert.EqualValues(t, 1, rep.Copied, "copies still happen")
	assert.Len(t, e.contents(t, e.dst, ""), 4)

	rep, err = e.copier(t, xacct.WithDelete(true), xacct.WithMaxDelete(3)).Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.NoError(t, err)
	assert.EqualValues(t, 3, rep.Deleted)
}

// failingLister fails the source listing from its second page on.
type failingLister struct {
	*s3.Client
}

func (f *failingLister) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, o ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	if in.ContinuationToken != nil {
		return nil, &smithy.GenericAPIError{Code: "InternalError", Message: "injected"}
	}
	return f.Client.ListObjectsV2(ctx, in, o...)
}

func TestSyncListingErrorKeepsDestination(t *testing.T) {
	e := newEnv(t)
	src := map[string]string{}
	for i := range 1500 {
		src[fmt.Sprintf("k%04d", i)] = "v"
	}
	e.put(t, e.src, src)
	// zzz sorts after every source key seen on page one.
	e.put(t, e.dst, map[string]string{"a-extra": "keep", "zzz": "keep"})

	c, err := xacct.NewCopier(&failingLister{Client: e.client}, xacct.WithDestinationClient(e.client), xacct.WithDelete(true))
	require.NoError(t, err)
	rep, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.Error(t, err)
	var oe *xacct.ObjectError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "list", oe.Op)
	var apiErr smithy.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "InternalError", apiErr.ErrorCode())
	assert.ErrorIs(t, err, xacct.ErrDeleteSkipped)
	assert.Zero(t, rep.Deleted)
	got := e.contents(t, e.dst, "")
	assert.Equal(t, "keep", got["a-extra"])
	assert.Equal(t, "keep", got["zzz"])
}

func TestSyncMissingSourceBucketDeletesNothing(t *testing.T) {
	e := newEnv(t)
	e.put(t, e.dst, map[string]string{"a": "keep"})
	rep, err := e.copier(t, xacct.WithDelete(true)).Sync(t.Context(), loc("no-such-bucket", ""), loc(e.dst, ""))
	var apiErr smithy.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "NoSuchBucket", apiErr.ErrorCode())
	assert.Zero(t, rep.Deleted)
	assert.Equal(t, map[string]string{"a": "keep"}, e.contents(t, e.dst, ""))
}

// failingCopier fails CopyObject for keys containing "bad".
type failingCopier struct{ *s3.Client }

func (f failingCopier) CopyObject(ctx context.Context, in *s3.CopyObjectInput, o ...func(*s3.Options)) (*s3.CopyObjectOutput, error) {
	if strings.Contains(*in.Key, "bad") {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "injected"}
	}
	return f.Client.CopyObject(ctx, in, o...)
}

func TestSyncReportsEveryFailedObject(t *testing.T) {
	e := newEnv(t)
	e.put(t, e.src, map[string]string{"bad-1": "x", "good-1": "x", "bad-2": "x", "good-2": "x"})
	e.put(t, e.dst, map[string]string{"orphan": "keep"})

	c, err := xacct.NewCopier(e.client, xacct.WithDestinationClient(failingCopier{e.client}), xacct.WithDelete(true))
	require.NoError(t, err)
	rep, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.Error(t, err)
	assert.EqualValues(t, 2, rep.Failed)
	assert.EqualValues(t, 2, rep.Copied)
	var failedKeys []string
	for _, e := range rep.Errors {
		if oe := (*xacct.ObjectError)(nil); errors.As(e, &oe) {
			failedKeys = append(failedKeys, oe.Key)
		}
	}
	assert.ElementsMatch(t, []string{"bad-1", "bad-2"}, failedKeys)
	assert.ErrorIs(t, err, xacct.ErrDeleteSkipped)
	assert.Equal(t, map[string]string{"good-1": "x", "good-2": "x", "orphan": "keep"}, e.contents(t, e.dst, ""))
}

func TestSyncStopOnError(t *testing.T) {
	e := newEnv(t)
	objs := map[string]string{"aaa-bad": "x"}
	for i := range 300 {
		objs[fmt.Sprintf("k%03d", i)] = "x"
	}
	e.put(t, e.src, objs)
	c, err := xacct.NewCopier(e.client, xacct.WithDestinationClient(failingCopier{e.client}), xacct.WithStopOnError(true), xacct.WithConcurrency(1))
	require.NoError(t, err)
	rep, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.Error(t, err)
	assert.Less(t, rep.Copied, int64(300), "the first failure stops the rest")
}

func TestSyncDryRunChangesNothing(t *testing.T) {
	e := newEnv(t)
	e.put(t, e.src, map[string]string{"a": "1", "b": "2", "same": "s"})
	time.Sleep(5 * time.Millisecond)
	e.put(t, e.dst, map[string]string{"same": "s", "extra": "x"})
	before := e.contents(t, e.dst, "")

	var planned []string
	var mu sync.Mutex
	c := e.copier(t, xacct.WithDelete(true))
	dry, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""), xacct.WithDryRun(true), xacct.WithProgress(xacct.ProgressFunc(func(ev xacct.ObjectEvent) {
		assert.True(t, ev.DryRun)
		mu.Lock()
		planned = append(planned, ev.Action.String()+" "+ev.Destination.Prefix)
		mu.Unlock()
	})))
	require.NoError(t, err)
	assert.True(t, dry.DryRun)
	assert.Equal(t, before, e.contents(t, e.dst, ""))
	assert.ElementsMatch(t, []string{"copy a", "copy b", "skip same", "delete extra"}, planned)

	real, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.NoError(t, err)
	assert.Equal(t, dry.Copied, real.Copied)
	assert.Equal(t, dry.Deleted, real.Deleted)
	assert.Equal(t, dry.Skipped, real.Skipped)
}

func TestSyncCancelledKeepsDestination(t *testing.T) {
	e := newEnv(t)
	e.put(t, e.src, map[string]string{"a": "1"})
	e.put(t, e.dst, map[string]string{"extra": "keep"})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	rep, err := e.copier(t, xacct.WithDelete(true)).Sync(ctx, loc(e.src, ""), loc(e.dst, ""))
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, rep.Deleted)
	assert.Equal(t, map[string]string{"extra": "keep"}, e.contents(t, e.dst, ""))
}

func TestCopierRejectsBadInput(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name  string
		opts  []xacct.CopierOption
		field string
	}{
		{"zero concurrency", []xacct.CopierOption{xacct.WithConcurrency(0)}, "concurrency"},
		{"huge concurrency", []xacct.CopierOption{xacct.WithConcurrency(xacct.MaxConcurrency + 1)}, "concurrency"},
		{"negative cap", []xacct.CopierOption{xacct.WithMaxDelete(-2)}, "max delete"},
		{"empty pattern", []xacct.CopierOption{xacct.WithFilters(xacct.Exclude(""))}, "filter 1"},
		{"unknown compare", []xacct.CopierOption{xacct.WithCompare(xacct.CompareStrategy(9))}, "compare"},
		{"nil destination", []xacct.CopierOption{xacct.WithDestinationClient(nil)}, "destination client"},
		{"nil logger", []xacct.CopierOption{xacct.WithLogger(nil)}, "logger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := xacct.NewCopier(e.client, tt.opts...)
			var ve *xacct.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
			assert.ErrorIs(t, err, xacct.ErrInvalidOption)
		})
	}

	_, err := xacct.NewCopier(nil)
	require.ErrorIs(t, err, xacct.ErrInvalidOption)

	c := e.copier(t)
	_, err = c.Sync(t.Context(), loc(e.src, "a"), loc(e.src, "a/b"))
	require.ErrorIs(t, err, xacct.ErrInvalidLocation, "overlapping locations")
	_, err = c.Sync(t.Context(), loc("Bad_Bucket", ""), loc(e.dst, ""))
	var ve *xacct.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "Bad_Bucket", ve.Value)
	_, err = c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""), xacct.WithConcurrency(-1))
	require.ErrorIs(t, err, xacct.ErrInvalidOption, "per-call options are validated too")
}

func TestListAndSummarize(t *testing.T) {
	e := newEnv(t)
	e.put(t, e.src, map[string]string{"a.txt": "12345", "dir/b.txt": "12", "dir/sub/c.txt": "1", "dir2/d": ""})

	var keys []string
	for obj, err := range xacct.List(t.Context(), e.client, loc(e.src, "dir")) {
		require.NoError(t, err)
		keys = append(keys, obj.Key)
	}
	assert.Equal(t, []string{"dir/b.txt", "dir/sub/c.txt", "dir2/d"}, keys, "a listing prefix is taken as given")

	var entries []string
	for obj, err := range xacct.List(t.Context(), e.client, loc(e.src, ""), xacct.WithDelimiter("/")) {
		require.NoError(t, err)
		entries = append(entries, fmt.Sprintf("%s %v", obj.Key, obj.IsPrefix))
	}
	assert.Equal(t, []string{"dir/ true", "dir2/ true", "a.txt false"}, entries)

	sum, err := xacct.Summarize(t.Context(), e.client, loc(e.src, ""))
	require.NoError(t, err)
	assert.Equal(t, xacct.Summary{Objects: 4, Bytes: 8}, sum)

	// Stopping early releases the listing.
	for range xacct.List(t.Context(), e.client, loc(e.src, "")) {
		break
	}
	_, err = xacct.Summarize(t.Context(), e.client, loc("missing-bucket", ""))
	var apiErr smithy.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "NoSuchBucket", apiErr.ErrorCode())
}
