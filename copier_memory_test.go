package xacct_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
)

// manyObjects lists n synthesized 1 KiB objects, 1000 a page, without
// holding them: memory tests need listings far larger than the in-memory
// server would hold cheaply, and the server would share the heap measured.
type manyObjects struct {
	s3API           // methods a test does not expect panic (nil)
	n               int
	copies, deletes atomic.Int64
}

// s3API is both sides' client interface.
type s3API interface {
	xacct.SourceAPI
	xacct.DestinationAPI
}

var memEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const memETag = `"0f343b0931126a20f133d67c2b018a3b"`

func (m *manyObjects) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	start := 0
	if tok := aws.ToString(in.ContinuationToken); tok != "" {
		var err error
		if start, err = strconv.Atoi(tok); err != nil {
			return nil, err
		}
	}
	limit := int(aws.ToInt32(in.MaxKeys))
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	out := &s3.ListObjectsV2Output{}
	for i := start; i < m.n && len(out.Contents) < limit; i++ {
		out.Contents = append(out.Contents, types.Object{
			Key: aws.String(aws.ToString(in.Prefix) + fmt.Sprintf("k%08d", i)), Size: aws.Int64(1024),
			ETag: aws.String(memETag), LastModified: aws.Time(memEpoch),
		})
	}
	if next := start + len(out.Contents); next < m.n {
		out.IsTruncated, out.NextContinuationToken = aws.Bool(true), aws.String(strconv.Itoa(next))
	}
	out.KeyCount = aws.Int32(int32(len(out.Contents)))
	return out, nil
}

// GetBucketOwnershipControls reports BucketOwnerEnforced: no ACL is sent.
func (m *manyObjects) GetBucketOwnershipControls(context.Context, *s3.GetBucketOwnershipControlsInput, ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error) {
	return &s3.GetBucketOwnershipControlsOutput{OwnershipControls: &types.OwnershipControls{
		Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipBucketOwnerEnforced}}}}, nil
}

func (m *manyObjects) CopyObject(context.Context, *s3.CopyObjectInput, ...func(*s3.Options)) (*s3.CopyObjectOutput, error) {
	m.copies.Add(1)
	return &s3.CopyObjectOutput{CopyObjectResult: &types.CopyObjectResult{ETag: aws.String(memETag), LastModified: aws.Time(memEpoch.Add(time.Hour))}}, nil
}

func (m *manyObjects) DeleteObjects(_ context.Context, in *s3.DeleteObjectsInput, _ ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	out := &s3.DeleteObjectsOutput{}
	for _, o := range in.Delete.Objects {
		out.Deleted = append(out.Deleted, types.DeletedObject{Key: o.Key})
	}
	m.deletes.Add(int64(len(in.Delete.Objects)))
	return out, nil
}

// memCase is what the objects of a memory test are: copied (only at the
// source), present on both sides, or deleted (only at the destination).
type memCase string

const (
	memCopy    memCase = "copy"
	memPresent memCase = "present"
	memDelete  memCase = "delete"
)

// peakHeap syncs n objects as kind says and returns the largest live heap
// sampled during the sync.
func peakHeap(t *testing.T, n int, kind memCase) uint64 {
	t.Helper()
	src, dst := &manyObjects{n: n}, &manyObjects{}
	switch kind {
	case memPresent:
		dst.n = n
	case memDelete:
		src.n, dst.n = 0, n
	}
	c, err := xacct.NewCopier(src, xacct.WithDestinationClient(dst), xacct.WithPreflight(false),
		xacct.WithTransferMode(xacct.ModeServerSide), xacct.WithCompare(xacct.CompareSizeOnly),
		xacct.WithDelete(kind == memDelete), xacct.WithMaxDelete(xacct.NoDeleteCap))
	require.NoError(t, err)

	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	})
	rep, err := c.Sync(t.Context(), xacct.MustParseLocation("s3://mem-src/"), xacct.MustParseLocation("s3://mem-dst/"))
	close(done)
	wg.Wait()
	require.NoError(t, err)
	switch kind {
	case memCopy:
		assert.EqualValues(t, n, rep.Copied)
		assert.EqualValues(t, n, dst.copies.Load())
	case memPresent:
		assert.EqualValues(t, n, rep.Skipped)
		assert.Zero(t, dst.copies.Load())
	case memDelete:
		assert.EqualValues(t, n, rep.Deleted)
		assert.EqualValues(t, n, dst.deletes.Load())
	}
	return peak.Load()
}

// A sync's memory does not grow with the number of objects: the heap
// peak for 100 000 objects stays near that for 10 000, whether every
// object is copied, already there, or deleted (past the delete buffer, in
// a second pass over the listings).
func TestSyncMemoryDoesNotGrowWithObjectCount(t *testing.T) {
	if testing.Short() {
		t.Skip("lists 440 000 objects")
	}
	for _, kind := range []memCase{memCopy, memPresent, memDelete} {
		small := peakHeap(t, 10_000, kind)
		large := peakHeap(t, 100_000, kind)
		t.Logf("%s: peak heap %.1f MiB for 10 000 objects, %.1f MiB for 100 000", kind, float64(small)/(1<<20), float64(large)/(1<<20))
		// Ten times the objects; growth with their number would show as
		// many MiB here (a listed object costs hundreds of bytes).
		assert.Less(t, large, small+8<<20, "%s", kind)
	}
}
