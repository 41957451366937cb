package xacct_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

const mib = 1 << 20

// pseudoRandom returns n reproducible pseudo-random bytes.
func pseudoRandom(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// putParts uploads body to bucket/key as a multipart upload with parts of
// the given sizes, and returns the object's ETag.
func (e *env) putParts(t testing.TB, bucket, key string, body []byte, sizes []int, edit func(*s3.CreateMultipartUploadInput)) string {
	t.Helper()
	ctx := context.Background()
	in := &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if edit != nil {
		edit(in)
	}
	up, err := e.client.CreateMultipartUpload(ctx, in)
	require.NoError(t, err)
	var parts []types.CompletedPart
	off := 0
	for i, n := range sizes {
		out, err := e.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(body[off : off+n]),
		})
		require.NoError(t, err)
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1))})
		off += n
	}
	require.Equal(t, len(body), off, "part sizes must add up to the body")
	out, err := e.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	require.NoError(t, err)
	return strings.Trim(aws.ToString(out.ETag), `"`)
}

func (e *env) putBytes(t testing.TB, bucket, key string, body []byte) {
	t.Helper()
	_, err := e.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	require.NoError(t, err)
}

func (e *env) head(t testing.TB, bucket, key string) *s3.HeadObjectOutput {
	t.Helper()
	h, err := e.client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
	require.NoError(t, err)
	return h
}

func (e *env) body(t testing.TB, bucket, key string) []byte {
	t.Helper()
	out, err := e.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	require.NoError(t, err)
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	require.NoError(t, err)
	return b
}

// uploads lists the multipart uploads in progress in bucket.
func (e *env) uploads(t testing.TB, bucket string) []string {
	t.Helper()
	out, err := e.client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	var ids []string
	for _, u := range out.Uploads {
		ids = append(ids, aws.ToString(u.Key)+" "+aws.ToString(u.UploadId))
	}
	return ids
}

func TestMultipartCopyKeepsSourcePartsAndETag(t *testing.T) {
	e := newEnv(t)
	sizes := []int{5 * mib, 7 * mib, 5*mib + 123, 2*mib + 7}
	total := 0
	for _, n := range sizes {
		total += n
	}
	body := pseudoRandom(1, total)
	etag := e.putParts(t, e.src, "big/mixed.bin", body, sizes, nil)
	require.True(t, strings.HasSuffix(etag, "-4"), etag)

	c := e.copier(t, xacct.WithCompare(xacct.CompareETag), xacct.WithPreflight(false))
	before := e.sb.Requests()
	rep, err := c.Sync(t.Context(), loc(e.src, "big"), loc(e.dst, "copy"))
	require.NoError(t, err)
	assert.EqualValues(t, 1, rep.Copied)
	assert.EqualValues(t, total, rep.CopiedBytes)
	after := e.sb.Requests()
	assert.Equal(t, 4, after["UploadPartCopy"]-before["UploadPartCopy"], "one UploadPartCopy per source part")
	assert.Zero(t, after["CopyObject"]-before["CopyObject"])

	h := e.head(t, e.dst, "copy/mixed.bin")
	assert.Equal(t, etag, strings.Trim(aws.ToString(h.ETag), `"`), "same parts, same ETag")
	assert.Equal(t, body, e.body(t, e.dst, "copy/mixed.bin"))
	assert.Empty(t, e.uploads(t, e.dst))

	// The exact comparison now finds nothing to do, from the listings
	// alone.
	before = e.sb.Requests()
	rep, err = c.Sync(t.Context(), loc(e.src, "big"), loc(e.dst, "copy"))
	require.NoError(t, err)
	assert.Zero(t, rep.Copied)
	assert.EqualValues(t, 1, rep.Skipped)
	after = e.sb.Requests()
	assert.Zero(t, after["HeadObject"]-before["HeadObject"])
}

func TestMultipartCopyAcrossThreshold(t *testing.T) {
	e := newEnv(t)
	const threshold = 6 * mib
	objects := map[string][]byte{
		"below.bin": pseudoRandom(2, threshold-1),
		"at.bin":    pseudoRandom(3, threshold),
		"above.bin": pseudoRandom(4, 11*mib+5),
		"empty.bin": nil,
	}
	for k, b := range objects {
		e.putBytes(t, e.src, k, b)
	}
	// No preflight: its probes would count among the requests.
	c := e.copier(t, xacct.WithMultipartThreshold(threshold), xacct.WithPartSize(5*mib), xacct.WithPreflight(false))
	before := e.sb.Requests()
	rep, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.NoError(t, err)
	assert.EqualValues(t, 4, rep.Copied)
	after := e.sb.Requests()
	assert.Equal(t, 2, after["CopyObject"]-before["CopyObject"], "below the threshold and empty: one CopyObject each")
	assert.Equal(t, 2, after["CreateMultipartUpload"]-before["CreateMultipartUpload"])
	assert.Equal(t, 2+3, after["UploadPartCopy"]-before["UploadPartCopy"], "6 MiB in 2 parts of at most 5 MiB, 11 MiB in 3")
	for k, b := range objects {
		assert.Equal(t, len(b), len(e.body(t, e.dst, k)), k)
		assert.True(t, bytes.Equal(b, e.body(t, e.dst, k)), k)
	}
	assert.True(t, strings.HasSuffix(strings.Trim(aws.ToString(e.head(t, e.dst, "above.bin").ETag), `"`), "-3"))
	assert.Empty(t, e.uploads(t, e.dst))
}

// Under CompareETag a single-part source is copied whole even above the
// threshold, so the exact comparison stays stable.
func TestCompareETagCopiesWholeObjectsWhole(t *testing.T) {
	e := newEnv(t)
	body := pseudoRandom(5, 12*mib)
	e.putBytes(t, e.src, "whole.bin", body)
	c := e.copier(t, xacct.WithCompare(xacct.CompareETag), xacct.WithMultipartThreshold(5*mib))
	rep, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.NoError(t, err)
	assert.EqualValues(t, 1, rep.Copied)
	assert.Equal(t, e.head(t, e.src, "whole.bin").ETag, e.head(t, e.dst, "whole.bin").ETag)
	rep, err = c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.NoError(t, err)
	assert.EqualValues(t, 1, rep.Skipped)
}

func TestMultipartCopyFailureAbortsUpload(t *testing.T) {
	e := newEnv(t)
	e.putBytes(t, e.src, "big.bin", pseudoRandom(6, 16*mib))
	remove := e.sb.InjectFault(sandbox.FaultSpec{Op: "UploadPartCopy", Status: 403, Code: "AccessDenied"})
	defer remove()
	c := e.copier(t, xacct.WithMultipartThreshold(5*mib), xacct.WithPartSize(5*mib))
	rep, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.Error(t, err)
	assert.EqualValues(t, 1, rep.Failed)
	var mp *xacct.MultipartUploadError
	require.ErrorAs(t, err, &mp)
	assert.NotEmpty(t, mp.UploadID)
	assert.Equal(t, e.dst, mp.Bucket)
	assert.Equal(t, "big.bin", mp.Key)
	assert.NoError(t, mp.AbortErr)
	assert.Empty(t, e.uploads(t, e.dst), "the upload was aborted")
}

func TestMultipartCopyCancelledLeavesNoUpload(t *testing.T) {
	e := newEnv(t)
	e.putBytes(t, e.src, "big.bin", pseudoRandom(7, 20*mib))
	// Parts take a while, so the cancellation lands while they run.
	remove := e.sb.InjectFault(sandbox.FaultSpec{Op: "UploadPartCopy", Kind: sandbox.FaultLatency, Latency: 300 * time.Millisecond})
	defer remove()
	ctx, cancel := context.WithCancel(t.Context())
	var started atomic.Bool
	client := &hookClient{Client: e.client, beforePart: func() {
		if started.CompareAndSwap(false, true) {
			time.AfterFunc(100*time.Millisecond, cancel)
		}
	}}
	c, err := xacct.NewCopier(client, xacct.WithMultipartThreshold(5*mib), xacct.WithPartSize(5*mib), xacct.WithPartConcurrency(2))
	require.NoError(t, err)
	rep, err := c.Sync(ctx, loc(e.src, ""), loc(e.dst, ""))
	require.ErrorIs(t, err, context.Canceled)
	assert.EqualValues(t, 1, rep.Failed)
	var mp *xacct.MultipartUploadError
	require.ErrorAs(t, err, &mp)
	assert.NotEmpty(t, mp.UploadID)
	assert.NoError(t, mp.AbortErr)
	assert.Empty(t, e.uploads(t, e.dst), "the upload was aborted")
	_, err = e.client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(e.dst), Key: aws.String("big.bin")})
	assert.Error(t, err, "no object was written")
}

// hookClient wraps the real client to watch or break server-side copies.
type hookClient struct {
	*s3.Client
	beforePart func()
	editPart   func(*s3.UploadPartCopyInput)
	editCopy   func(*s3.CopyObjectInput) error
	editCreate func(*s3.CreateMultipartUploadInput)
}

func (h *hookClient) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	if h.editCreate != nil {
		h.editCreate(in)
	}
	return h.Client.CreateMultipartUpload(ctx, in, optFns...)
}

func (h *hookClient) UploadPartCopy(ctx context.Context, in *s3.UploadPartCopyInput, optFns ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error) {
	if h.beforePart != nil {
		h.beforePart()
	}
	if h.editPart != nil {
		in2 := *in
		in = &in2
		h.editPart(in)
	}
	return h.Client.UploadPartCopy(ctx, in, optFns...)
}

func (h *hookClient) CopyObject(ctx context.Context, in *s3.CopyObjectInput, optFns ...func(*s3.Options)) (*s3.CopyObjectOutput, error) {
	if h.editCopy != nil {
		in2 := *in
		in = &in2
		if err := h.editCopy(in); err != nil {
			return nil, err
		}
	}
	return h.Client.CopyObject(ctx, in, optFns...)
}

// A part copied from the wrong range is caught either way: by S3 at
// completion when the source has a whole-object checksum the copier
// passes on (the sandbox, as S3, gives every object a CRC64NVME), or by
// verification when the source has a composite checksum of its parts.
func TestVerificationCatchesCorruptPart(t *testing.T) {
	for _, tc := range []struct {
		name  string
		parts bool // source uploaded in parts with CRC32, a composite checksum
	}{
		{"source in parts", true},
		{"source whole", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			body := pseudoRandom(8, 15*mib)
			if tc.parts {
				e.putParts(t, e.src, "big.bin", body, []int{5 * mib, 5 * mib, 5 * mib}, func(in *s3.CreateMultipartUploadInput) {
					in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
				})
			} else {
				e.putBytes(t, e.src, "big.bin", body)
			}
			// Part 2 copies part 3's bytes: same length, wrong content.
			client := &hookClient{Client: e.client, editPart: func(in *s3.UploadPartCopyInput) {
				if aws.ToInt32(in.PartNumber) == 2 {
					in.CopySourceRange = aws.String(fmt.Sprintf("bytes=%d-%d", 10*mib, 15*mib-1))
				}
			}}
			c, err := xacct.NewCopier(client, xacct.WithMultipartThreshold(5*mib), xacct.WithPartSize(5*mib))
			require.NoError(t, err)
			rep, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
			require.Error(t, err)
			assert.EqualValues(t, 1, rep.Failed)
			assert.Zero(t, rep.Copied)
			if tc.parts {
				var verr *xacct.VerifyError
				require.ErrorAs(t, err, &verr)
				assert.ErrorIs(t, err, xacct.ErrMismatch)
				assert.Equal(t, "checksum CRC32", verr.Field)
				assert.True(t, verr.Removed, "the bad copy is removed")
			} else {
				var mp *xacct.MultipartUploadError
				require.ErrorAs(t, err, &mp)
				var apiErr smithy.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, "BadDigest", apiErr.ErrorCode())
				assert.Empty(t, e.uploads(t, e.dst))
			}
			_, err = e.client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(e.dst), Key: aws.String("big.bin")})
			assert.Error(t, err, "no bad copy is left")

			// The next sync copies it again, correctly this time.
			rep, err = e.copier(t, xacct.WithMultipartThreshold(5*mib), xacct.WithPartSize(5*mib)).Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
			require.NoError(t, err)
			assert.EqualValues(t, 1, rep.Copied)
			assert.True(t, bytes.Equal(body, e.body(t, e.dst, "big.bin")))
		})
	}
}

func TestVerificationCatchesWrongSingleCopy(t *testing.T) {
	e := newEnv(t)
	e.putBytes(t, e.src, "a.txt", []byte("aaaa"))
	e.putBytes(t, e.src, "b.txt", []byte("bbbb"))
	client := &hookClient{Client: e.client, editCopy: func(in *s3.CopyObjectInput) error {
		if strings.HasSuffix(aws.ToString(in.Key), "a.txt") {
			in.CopySource = aws.String(e.src + "/b.txt")
			in.CopySourceIfMatch = nil
		}
		return nil
	}}
	c, err := xacct.NewCopier(client)
	require.NoError(t, err)
	rep, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	var verr *xacct.VerifyError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, "a.txt", verr.Key)
	// Both objects carry S3's default CRC64NVME, compared before ETags.
	assert.Equal(t, "checksum CRC64NVME", verr.Field)
	assert.EqualValues(t, 1, rep.Failed)
	assert.EqualValues(t, 1, rep.Copied)
	assert.Equal(t, map[string]string{"b.txt": "bbbb"}, e.contents(t, e.dst, ""))
}

func TestMultipartCopySourceChangedMidway(t *testing.T) {
	e := newEnv(t)
	e.putBytes(t, e.src, "big.bin", pseudoRandom(9, 12*mib))
	var once atomic.Bool
	client := &hookClient{Client: e.client, beforePart: func() {
		if once.CompareAndSwap(false, true) {
			e.putBytes(t, e.src, "big.bin", pseudoRandom(10, 12*mib))
		}
	}}
	c, err := xacct.NewCopier(client, xacct.WithMultipartThreshold(5*mib), xacct.WithPartSize(5*mib), xacct.WithPartConcurrency(1))
	require.NoError(t, err)
	rep, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.True(t, once.Load(), "the source was replaced during the copy")
	assert.EqualValues(t, 1, rep.Failed)
	assert.Zero(t, rep.Copied)
	var mp *xacct.MultipartUploadError
	require.ErrorAs(t, err, &mp)
	assert.Equal(t, "big.bin", mp.Key)
	assert.NotEmpty(t, mp.UploadID)
	assert.NoError(t, mp.AbortErr)
	// The part copies are pinned to the listed ETag: S3 refuses the next
	// one with PreconditionFailed rather than mix two versions.
	var apiErr smithy.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "PreconditionFailed", apiErr.ErrorCode())
	assert.Empty(t, e.uploads(t, e.dst), "the upload was aborted")
	_, err = e.client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(e.dst), Key: aws.String("big.bin")})
	assert.Error(t, err, "no object was written")
}

// BenchmarkLargeObject copies 4 objects of 64 MiB, uploaded in 8 MiB
// parts as aws-cli uploads them, with the Copier (server-side multipart
// copy with UploadPartCopy repeating the source's 8 parts, verified; the
// multipart copy threshold is set to 8 MiB so the path is taken whatever
// the source's layout, and the benchmark checks that it is) and with a
// bare CopyObject per object on the same server, so the two figures are a
// ratio from one run. On the in-memory sandbox both move every byte
// through one process; on S3 neither leaves the service.
func BenchmarkLargeObject(b *testing.B) {
	const objects, size = 4, 64 * mib
	sb, err := sandbox.Start()
	require.NoError(b, err)
	b.Cleanup(sb.Close)
	client := benchClient(b, sb)
	ctx := context.Background()
	root := sb.Root(sandbox.AccountA)
	require.NoError(b, sb.CreateBucket(ctx, root, "bench-src"))
	require.NoError(b, sb.CreateBucket(ctx, root, "bench-dst"))
	e := &env{sb: sb, client: client, src: "bench-src", dst: "bench-dst"}
	sizes := make([]int, size/(8*mib))
	for i := range sizes {
		sizes[i] = 8 * mib
	}
	for i := range objects {
		e.putParts(b, e.src, fmt.Sprintf("large-%d.bin", i), pseudoRandom(uint64(100+i), size), sizes, nil)
	}
	clean := func() {
		b.StopTimer()
		for i := range objects {
			_, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(e.dst), Key: aws.String(fmt.Sprintf("large-%d.bin", i))})
			require.NoError(b, err)
		}
		b.StartTimer()
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(objects*size*b.N)/mib/b.Elapsed().Seconds(), "MiB/s")
	}

	c, err := xacct.NewCopier(client, xacct.WithPreflight(false), xacct.WithMultipartCopyThreshold(8*mib))
	require.NoError(b, err)
	b.Run("xacct-multipart", func(b *testing.B) {
		for b.Loop() {
			before := sb.Requests()
			rep, err := c.Sync(ctx, loc(e.src, ""), loc(e.dst, ""))
			require.NoError(b, err)
			require.EqualValues(b, objects, rep.Copied)
			after := sb.Requests()
			require.Equal(b, objects*len(sizes), after["UploadPartCopy"]-before["UploadPartCopy"], "every object copied in parts")
			require.Zero(b, after["CopyObject"]-before["CopyObject"])
			clean()
		}
		report(b)
	})
	b.Run("bare-copyobject", func(b *testing.B) {
		for b.Loop() {
			errs := make(chan error, objects)
			for i := range objects {
				go func() {
					k := fmt.Sprintf("large-%d.bin", i)
					_, err := client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(e.dst), Key: aws.String(k), CopySource: aws.String(e.src + "/" + k)})
					errs <- err
				}()
			}
			for range objects {
				require.NoError(b, <-errs)
			}
			clean()
		}
		report(b)
	})
}

// sixGiBClient passes every request to the sandbox but makes huge.bin, a
// small object there, look 6 GiB long in listings and HEADs, and records
// its UploadPartCopy ranges instead of sending them, so that the planning
// of an object over 5 GiB is exercised without moving its bytes. The
// upload is created for real and aborted at completion.
type sixGiBClient struct {
	*s3.Client
	mu     sync.Mutex
	ranges map[int32]string
	copies atomic.Int32
}

const sixGiB = int64(6) << 30

func (c *sixGiBClient) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	out, err := c.Client.ListObjectsV2(ctx, in, optFns...)
	if err == nil {
		for i := range out.Contents {
			if aws.ToString(out.Contents[i].Key) == "huge.bin" {
				out.Contents[i].Size = aws.Int64(sixGiB)
			}
		}
	}
	return out, err
}

func (c *sixGiBClient) HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	out, err := c.Client.HeadObject(ctx, in, optFns...)
	if err == nil && aws.ToString(in.Key) == "huge.bin" && in.PartNumber == nil {
		out.ContentLength = aws.Int64(sixGiB)
	}
	return out, err
}

func (c *sixGiBClient) CopyObject(ctx context.Context, in *s3.CopyObjectInput, optFns ...func(*s3.Options)) (*s3.CopyObjectOutput, error) {
	c.copies.Add(1)
	return c.Client.CopyObject(ctx, in, optFns...)
}

func (c *sixGiBClient) UploadPartCopy(_ context.Context, in *s3.UploadPartCopyInput, _ ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error) {
	c.mu.Lock()
	c.ranges[aws.ToInt32(in.PartNumber)] = aws.ToString(in.CopySourceRange)
	c.mu.Unlock()
	return &s3.UploadPartCopyOutput{CopyPartResult: &types.CopyPartResult{ETag: aws.String(fmt.Sprintf(`"part-%d"`, aws.ToInt32(in.PartNumber)))}}, nil
}

func (c *sixGiBClient) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	_, err := c.Client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: in.Bucket, Key: in.Key, UploadId: in.UploadId}, optFns...)
	return &s3.CompleteMultipartUploadOutput{ETag: aws.String(`"done-1"`)}, err
}

// An object over 5 GiB is copied in parts with the default options (a
// 5 GiB threshold), even under CompareETag and though written in one
// request; the parts are of DefaultPartSize, contiguous, and cover it.
func TestObjectOverFiveGiBIsCopiedInParts(t *testing.T) {
	for _, compare := range []xacct.CompareStrategy{xacct.CompareSizeAndTime, xacct.CompareETag} {
		t.Run(compare.String(), func(t *testing.T) {
			e := newEnv(t)
			e.putBytes(t, e.src, "huge.bin", []byte("stand-in for 6 GiB"))
			client := &sixGiBClient{Client: e.client, ranges: map[int32]string{}}
			c, err := xacct.NewCopier(client, xacct.WithCompare(compare), xacct.WithTransferMode(xacct.ModeServerSide),
				xacct.WithPreflight(false), xacct.WithVerify(false))
			require.NoError(t, err)
			rep, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
			require.NoError(t, err)
			assert.EqualValues(t, 1, rep.Copied)
			assert.Equal(t, sixGiB, rep.CopiedBytes)
			assert.Zero(t, client.copies.Load(), "no CopyObject: S3 refuses it above 5 GiB")

			const partSize = int64(xacct.DefaultPartSize)
			require.Len(t, client.ranges, int(sixGiB/partSize))
			for n := int32(1); n <= int32(len(client.ranges)); n++ {
				first := int64(n-1) * partSize
				assert.Equal(t, fmt.Sprintf("bytes=%d-%d", first, first+partSize-1), client.ranges[n], "part %d", n)
			}
			assert.Empty(t, e.uploads(t, e.dst))
		})
	}
}

// A sync cancelled while copies run, with deletes on, deletes nothing
// (the copies did not all succeed) and leaves no multipart upload behind.
func TestSyncCancelledMidwayDeletesNothingLeavesNoUpload(t *testing.T) {
	e := newEnv(t)
	for i := range 4 {
		e.putBytes(t, e.src, fmt.Sprintf("big-%d.bin", i), pseudoRandom(uint64(30+i), 12*mib))
	}
	e.putBytes(t, e.src, "small.txt", []byte("small"))
	stale := map[string]string{"stale-1.txt": "keep", "stale-2.txt": "keep"}
	e.put(t, e.dst, stale)
	remove := e.sb.InjectFault(sandbox.FaultSpec{Op: "UploadPartCopy", Kind: sandbox.FaultLatency, Latency: 300 * time.Millisecond})
	defer remove()
	ctx, cancel := context.WithCancel(t.Context())
	var parts atomic.Int32
	client := &hookClient{Client: e.client, beforePart: func() {
		if parts.Add(1) == 1 {
			time.AfterFunc(100*time.Millisecond, cancel)
		}
	}}
	c, err := xacct.NewCopier(client, xacct.WithDelete(true), xacct.WithConcurrency(2), xacct.WithMultipartCopyThreshold(5*mib),
		xacct.WithPartSize(5*mib), xacct.WithPartConcurrency(2))
	require.NoError(t, err)
	rep, err := c.Sync(ctx, loc(e.src, ""), loc(e.dst, ""))
	require.ErrorIs(t, err, context.Canceled)
	require.Positive(t, parts.Load(), "copies had started")
	assert.ErrorIs(t, err, xacct.ErrDeleteSkipped)
	assert.Zero(t, rep.Deleted)
	assert.Less(t, rep.Copied, int64(5))
	got := e.contents(t, e.dst, "")
	for k, v := range stale {
		assert.Equal(t, v, got[k], "%s was kept", k)
	}
	assert.Empty(t, e.uploads(t, e.dst), "every multipart upload was aborted")
}

// When CopyObject refuses the tags and the copy without them fails too
// (here: the source changed), the object's error carries both, and
// errors.As finds the second refusal, the one that failed the object.
func TestCopyWithoutTagsKeepsTheRetryError(t *testing.T) {
	e := newEnv(t)
	e.put(t, e.src, map[string]string{"tagged.txt": "body"})
	e.sb.InjectFault(sandbox.FaultSpec{Op: "CopyObject", KeyContains: "tagged", Status: 403, Code: "AccessDenied", Times: 1})
	e.sb.InjectFault(sandbox.FaultSpec{Op: "CopyObject", KeyContains: "tagged", Status: 412, Code: "PreconditionFailed", Times: 1})
	rep, err := e.copier(t, xacct.WithPreflight(false)).Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.Error(t, err)
	assert.EqualValues(t, 1, rep.Failed)
	assert.Zero(t, rep.Warned, "no tags warning for an object that was not copied")
	var apiErr smithy.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "PreconditionFailed", apiErr.ErrorCode())
	assert.ErrorContains(t, err, "AccessDenied", "the first refusal is kept too")
	assert.Empty(t, e.contents(t, e.dst, ""))
}
