package xacct_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
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
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

// miB is a mebibyte.
const miB = 1 << 20

// twoIdentities is an enforcing sandbox where no principal can both read
// the source and write the destination: a reader in account A may only
// read the source, a writer in account B may only write the destination,
// and the source bucket's policy admits nobody from B.
type twoIdentities struct {
	sb             *sandbox.Sandbox
	src, dst       xacct.Location
	reader, writer sandbox.Principal
	ownerA, ownerB *s3.Client
}

func newTwoIdentities(t *testing.T) *twoIdentities {
	t.Helper()
	ctx := t.Context()
	sb, err := enforce.Start()
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	x := &twoIdentities{
		sb:     sb,
		src:    xacct.MustParseLocation("s3://a-media/"),
		dst:    xacct.MustParseLocation("s3://b-media/copy/"),
		ownerA: sb.S3(sb.Root(sandbox.AccountA)),
		ownerB: sb.S3(sb.Root(sandbox.AccountB)),
	}
	require.NoError(t, sb.CreateBucket(ctx, sb.Root(sandbox.AccountA), x.src.Bucket))
	require.NoError(t, sb.CreateBucket(ctx, sb.Root(sandbox.AccountB), x.dst.Bucket))
	x.reader, err = sb.AddUser(sandbox.AccountA, "reader", policyJSON(t, xacct.SourceReadPolicy(x.src)))
	require.NoError(t, err)
	x.writer, err = sb.AddUser(sandbox.AccountB, "writer", policyJSON(t, xacct.DestinationWritePolicy(x.dst)))
	require.NoError(t, err)
	return x
}

func (x *twoIdentities) copier(t *testing.T, opts ...xacct.CopierOption) *xacct.Copier {
	t.Helper()
	base := []xacct.CopierOption{
		// A cutoff at the threshold: objects from 5 MiB on take a
		// multipart upload unless a test sets a higher cutoff.
		xacct.WithPartSize(5 * miB), xacct.WithMultipartThreshold(5 * miB), xacct.WithStreamUploadCutoff(5 * miB),
		xacct.WithSourceAccount(sandbox.AccountA), xacct.WithDestinationAccount(sandbox.AccountB),
	}
	c, err := xacct.NewCopierFromConfigs(x.sb.Config(x.reader), x.sb.Config(x.writer), append(base, opts...)...)
	require.NoError(t, err)
	return c
}

func seededBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

type storedObject struct {
	body        []byte
	contentType string
	disposition string
	metadata    map[string]string
}

func getStored(t *testing.T, c *s3.Client, bucket, key string) storedObject {
	t.Helper()
	out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	require.NoError(t, err, key)
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	require.NoError(t, err)
	require.EqualValues(t, len(body), aws.ToInt64(out.ContentLength))
	return storedObject{body: body, contentType: aws.ToString(out.ContentType), disposition: aws.ToString(out.ContentDisposition), metadata: out.Metadata}
}

func TestStreamBetweenTwoIdentitiesMatchesServerSideCopy(t *testing.T) {
	x := newTwoIdentities(t)
	ctx := t.Context()
	big := seededBytes(12*miB+123, 1) // three parts: 5, 5 and 2 MiB
	uploads := []*s3.PutObjectInput{
		{Key: aws.String("big.bin"), Body: bytes.NewReader(big), ContentType: aws.String("application/octet-stream"), Metadata: map[string]string{"origin": "camera-7"}},
		{Key: aws.String("docs/readme.txt"), Body: strings.NewReader("hello"), ContentType: aws.String("text/plain; charset=utf-8"),
			ContentDisposition: aws.String(`attachment; filename="readme.txt"`), Metadata: map[string]string{"reviewed-by": "ops"}},
		{Key: aws.String("empty"), Body: bytes.NewReader(nil)},
	}
	for _, in := range uploads {
		in.Bucket = aws.String(x.src.Bucket)
		_, err := x.ownerA.PutObject(ctx, in)
		require.NoError(t, err)
	}

	rep, err := x.copier(t, xacct.WithConcurrency(4)).Sync(ctx, x.src, x.dst)
	require.NoError(t, err)
	assert.Equal(t, xacct.ModeStream, rep.Mode, "the writer cannot read the source")
	assert.EqualValues(t, 3, rep.Copied)
	assert.EqualValues(t, len(big)+5, rep.CopiedBytes)
	reqs := x.sb.Requests()
	assert.Equal(t, 3, reqs["UploadPart"])
	assert.Zero(t, reqs["CopyObject"])

	// The same objects copied server-side by account A's owner.
	ref := xacct.MustParseLocation("s3://a-reference/")
	require.NoError(t, x.sb.CreateBucket(ctx, x.sb.Root(sandbox.AccountA), ref.Bucket))
	sc, err := xacct.NewCopier(x.ownerA, xacct.WithTransferMode(xacct.ModeServerSide), xacct.WithMultipartThreshold(xacct.MaxPutObjectSize))
	require.NoError(t, err)
	_, err = sc.Sync(ctx, x.src, ref)
	require.NoError(t, err)

	for _, in := range uploads {
		key := aws.ToString(in.Key)
		streamed := getStored(t, x.ownerB, x.dst.Bucket, x.dst.Key(key))
		copied := getStored(t, x.ownerA, ref.Bucket, key)
		assert.Equal(t, len(copied.body), len(streamed.body), key)
		assert.True(t, bytes.Equal(copied.body, streamed.body), "%s: streamed bytes differ from a server-side copy", key)
		assert.Equal(t, copied.contentType, streamed.contentType, key)
		assert.Equal(t, copied.disposition, streamed.disposition, key)
		assert.Equal(t, copied.metadata, streamed.metadata, key)
	}
	assert.Equal(t, big, getStored(t, x.ownerB, x.dst.Bucket, "copy/big.bin").body)
	assert.Equal(t, map[string]string{"reviewed-by": "ops"}, getStored(t, x.ownerB, x.dst.Bucket, "copy/docs/readme.txt").metadata)
	assert.Empty(t, listUploads(t, x.ownerB, x.dst.Bucket))

	// Nothing left to do the second time.
	rep, err = x.copier(t).Sync(ctx, x.src, x.dst, xacct.WithCompare(xacct.CompareSizeOnly))
	require.NoError(t, err)
	assert.Zero(t, rep.Copied)
}

func listUploads(t *testing.T, c *s3.Client, bucket string) []string {
	t.Helper()
	out, err := c.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	var apiErr smithy.APIError
	if err != nil && errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchUpload" {
		return nil // gofakes3: a bucket that never had an upload
	}
	require.NoError(t, err)
	var ids []string
	for _, u := range out.Uploads {
		ids = append(ids, aws.ToString(u.Key)+" "+aws.ToString(u.UploadId))
	}
	return ids
}

// flakyWriter fails or cancels a streamed upload at a given part.
type flakyWriter struct {
	*s3.Client
	failPart int32
	cancel   context.CancelFunc
}

func (f *flakyWriter) UploadPart(ctx context.Context, in *s3.UploadPartInput, o ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	if aws.ToInt32(in.PartNumber) == f.failPart {
		if f.cancel != nil {
			f.cancel()
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return nil, &smithy.GenericAPIError{Code: "InternalError", Message: "injected"}
	}
	return f.Client.UploadPart(ctx, in, o...)
}

func TestStreamFailureAbortsUpload(t *testing.T) {
	for _, cancelled := range []bool{false, true} {
		t.Run("cancelled="+strconv.FormatBool(cancelled), func(t *testing.T) {
			x := newTwoIdentities(t)
			_, err := x.ownerA.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(x.src.Bucket), Key: aws.String("big.bin"), Body: bytes.NewReader(seededBytes(16*miB, 2))})
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			w := &flakyWriter{Client: x.sb.S3(x.writer), failPart: 2}
			if cancelled {
				w.cancel = cancel
			}
			c, err := xacct.NewCopier(x.sb.S3(x.reader), xacct.WithDestinationClient(w),
				xacct.WithPartSize(5*miB), xacct.WithMultipartThreshold(5*miB), xacct.WithStreamUploadCutoff(5*miB), xacct.WithConcurrency(2))
			require.NoError(t, err)

			rep, err := c.Sync(ctx, x.src, x.dst)
			require.Error(t, err)
			assert.Equal(t, xacct.ModeStream, rep.Mode)
			var mpErr *xacct.MultipartUploadError
			require.ErrorAs(t, err, &mpErr)
			assert.NotEmpty(t, mpErr.UploadID)
			assert.Equal(t, "copy/big.bin", mpErr.Key)
			require.NoError(t, mpErr.AbortErr)
			if cancelled {
				assert.ErrorIs(t, err, context.Canceled)
			} else {
				assert.ErrorContains(t, err, "upload part 2")
			}
			assert.Empty(t, listUploads(t, x.ownerB, x.dst.Bucket), "no upload left behind")
			_, err = x.ownerB.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(x.dst.Bucket), Key: aws.String("copy/big.bin")})
			require.Error(t, err, "no partial object")
		})
	}
}

// memSource and memSink stand in for S3 without keeping or copying any
// bytes, so that the allocations measured are the copier's alone.
type memSource struct {
	xacct.SourceAPI
	size int64
}

func (m *memSource) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return &s3.ListObjectsV2Output{Contents: []types.Object{{Key: aws.String("big.bin"), Size: aws.Int64(m.size), ETag: aws.String(`"e"`), LastModified: aws.Time(time.Unix(0, 0))}}}, nil
}

func (m *memSource) HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	return &s3.HeadObjectOutput{ContentLength: aws.Int64(m.size), ContentType: aws.String("video/mp4")}, nil
}

func (m *memSource) GetObjectTagging(context.Context, *s3.GetObjectTaggingInput, ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error) {
	return &s3.GetObjectTaggingOutput{}, nil
}

func (m *memSource) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	var from, to int64
	if _, err := fmt.Sscanf(aws.ToString(in.Range), "bytes=%d-%d", &from, &to); err != nil {
		from, to = 0, m.size-1
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(&pattern{off: from, n: to - from + 1}), ContentLength: aws.Int64(to - from + 1), ETag: aws.String(`"e"`)}, nil
}

// pattern yields n bytes of a position-dependent pattern.
type pattern struct{ off, n int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.n == 0 {
		return 0, io.EOF
	}
	k := min(int64(len(b)), p.n)
	for i := range k {
		b[i] = byte((p.off + i) * 7)
	}
	p.off += k
	p.n -= k
	return int(k), nil
}

type memSink struct {
	xacct.DestinationAPI
	mu    sync.Mutex
	got   int64
	parts int
	puts  int
	sum   uint64
}

func (m *memSink) ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return &s3.ListObjectsV2Output{}, nil
}

func (m *memSink) GetBucketOwnershipControls(context.Context, *s3.GetBucketOwnershipControlsInput, ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error) {
	return &s3.GetBucketOwnershipControlsOutput{OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipBucketOwnerEnforced}}}}, nil
}

func (m *memSink) CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	return &s3.CreateMultipartUploadOutput{UploadId: aws.String("u1")}, nil
}

func (m *memSink) UploadPart(_ context.Context, in *s3.UploadPartInput, _ ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	b := in.Body.(*bytes.Reader)
	var sum uint64
	var buf [4096]byte
	for {
		n, err := b.Read(buf[:])
		for _, c := range buf[:n] {
			sum += uint64(c)
		}
		if err != nil {
			break
		}
	}
	m.mu.Lock()
	m.got += aws.ToInt64(in.ContentLength)
	m.parts++
	m.sum += sum
	m.mu.Unlock()
	return &s3.UploadPartOutput{ETag: aws.String(`"p"`)}, nil
}

func (m *memSink) HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return &s3.HeadObjectOutput{ContentLength: aws.Int64(m.got)}, nil
}

func (m *memSink) CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	return &s3.CompleteMultipartUploadOutput{}, nil
}

func streamOnce(t testing.TB, size int64, concurrency int, opts ...xacct.CopierOption) *memSink {
	sink := &memSink{}
	c, err := xacct.NewCopier(&memSource{size: size}, append([]xacct.CopierOption{xacct.WithDestinationClient(sink), xacct.WithTransferMode(xacct.ModeStream),
		xacct.WithPreflight(false), xacct.WithConcurrency(concurrency), xacct.WithCompare(xacct.CompareSizeOnly)}, opts...)...)
	require.NoError(t, err)
	rep, err := c.Sync(context.Background(), xacct.MustParseLocation("s3://mem-src/"), xacct.MustParseLocation("s3://mem-dst/"))
	require.NoError(t, err)
	require.EqualValues(t, 1, rep.Copied)
	return sink
}

// Streaming holds at most one part buffer per unit of concurrency,
// however large the object.
func TestStreamMemoryIsBoundedByConcurrencyTimesPartSize(t *testing.T) {
	const size = 64 * miB
	for _, concurrency := range []int{1, 2, 4} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		// A cutoff at the threshold sends every object from 8 MiB on
		// through a multipart upload.
		sink := streamOnce(t, size, concurrency, xacct.WithStreamUploadCutoff(xacct.DefaultMultipartThreshold))
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		bound := uint64(concurrency)*xacct.DefaultPartSize + miB
		t.Logf("64 MiB streamed with concurrency %d: %.1f MiB allocated (bound %.0f MiB)", concurrency, float64(alloc)/miB, float64(bound)/miB)
		assert.LessOrEqual(t, alloc, bound)
		assert.EqualValues(t, size, sink.got)
		assert.Equal(t, 8, sink.parts)
		// byte(i*7) runs through every byte value once per 256 bytes.
		assert.Equal(t, uint64(size/256*(255*256/2)), sink.sum, "every byte arrives once")
	}
}

func BenchmarkStream64MiB(b *testing.B) {
	var n atomic.Int64
	b.SetBytes(64 * miB)
	b.ReportAllocs()
	for b.Loop() {
		n.Add(streamOnce(b, 64*miB, 2, xacct.WithStreamUploadCutoff(xacct.DefaultMultipartThreshold)).got)
	}
}

// PutObject drains a streamed body as S3 would, without keeping it.
func (m *memSink) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	var sum uint64
	var buf [4096]byte
	var n int64
	for {
		k, err := in.Body.Read(buf[:])
		for _, c := range buf[:k] {
			sum += uint64(c)
		}
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if n != aws.ToInt64(in.ContentLength) {
		return nil, fmt.Errorf("body of %d bytes, Content-Length %d", n, aws.ToInt64(in.ContentLength))
	}
	m.mu.Lock()
	m.got += n
	m.puts++
	m.sum += sum
	m.mu.Unlock()
	return &s3.PutObjectOutput{ETag: aws.String(`"e"`)}, nil
}

// Below the stream upload cutoff (200 MiB by default) an object above the
// multipart threshold goes through in one PutObject without being
// buffered: memory stays far below its size, whatever the concurrency.
func TestStreamThroughMemoryIsFarBelowObjectSize(t *testing.T) {
	const size = 64 * miB
	for _, concurrency := range []int{1, 4} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		sink := streamOnce(t, size, concurrency)
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("64 MiB streamed through with concurrency %d: %.2f MiB allocated", concurrency, float64(alloc)/miB)
		assert.Less(t, alloc, uint64(4*miB))
		assert.EqualValues(t, size, sink.got)
		assert.Equal(t, 1, sink.puts)
		assert.Zero(t, sink.parts)
		assert.Equal(t, uint64(size/256*(255*256/2)), sink.sum, "every byte arrives once")
	}
}

func BenchmarkStreamThrough64MiB(b *testing.B) {
	b.SetBytes(64 * miB)
	b.ReportAllocs()
	for b.Loop() {
		if sink := streamOnce(b, 64*miB, 2); sink.puts != 1 {
			b.Fatalf("%d PutObject, want 1", sink.puts)
		}
	}
}
