package xacct

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/bits"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// abortTimeout bounds the AbortMultipartUpload that cleans up after a
// failed or cancelled streamed upload; it runs on a context of its own
// because the sync's context may be the reason for the failure.
const abortTimeout = 30 * time.Second

// MultipartUploadError is the failure of a streamed multipart upload. The
// upload was aborted so that no parts linger (and cost storage), unless
// AbortErr says otherwise; UploadID lets an operator clean up by hand.
type MultipartUploadError struct {
	Bucket   string
	Key      string
	UploadID string
	// Err is what made the upload fail.
	Err error
	// AbortErr is the failure of the abort, nil when the upload was
	// aborted.
	AbortErr error
}

func (e *MultipartUploadError) Error() string {
	msg := fmt.Sprintf("multipart upload %s to s3://%s/%s: %v", e.UploadID, e.Bucket, e.Key, e.Err)
	if e.AbortErr != nil {
		msg += fmt.Sprintf(" (abort failed, the upload remains: %v)", e.AbortErr)
	}
	return msg
}

// Unwrap returns the error that made the upload fail.
func (e *MultipartUploadError) Unwrap() error { return e.Err }

// bufferPool hands out byte buffers for streamed transfers. It holds a
// fixed number of tokens, each carrying at most one buffer, so however
// many workers and parts run, at most tokens × largest buffer bytes are
// live. Buffers are allocated on first use and then reused.
type bufferPool struct {
	free chan []byte
	max  int64
}

func newBufferPool(tokens int, maxSize int64) *bufferPool {
	p := &bufferPool{free: make(chan []byte, tokens), max: maxSize}
	for range tokens {
		p.free <- nil
	}
	return p
}

// get waits for a token and returns a buffer of length n.
func (p *bufferPool) get(ctx context.Context, n int64) ([]byte, error) {
	select {
	case b := <-p.free:
		if int64(cap(b)) < n {
			// Round small buffers up to a power of two so objects of
			// varied sizes reuse them instead of reallocating.
			size := min(max(n, int64(1)<<bits.Len64(uint64(n-1))), max(n, p.max))
			b = make([]byte, size)
		}
		return b[:n], nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *bufferPool) put(b []byte) { p.free <- b }

// partSizeFor returns the part size for an object of size bytes: the
// configured size, grown to a whole MiB when MaxParts parts would not
// hold the object.
func partSizeFor(size, partSize int64) int64 {
	if (size+partSize-1)/partSize <= MaxParts {
		return partSize
	}
	const mib = 1 << 20
	p := (size + MaxParts - 1) / MaxParts
	return (p + mib - 1) / mib * mib
}

// stream copies one object by reading it with the source client and
// writing it with the destination client.
func (r *syncRun) stream(ctx context.Context, from, to Location, obj Object) error {
	if obj.Size == 0 || obj.Size < r.o.threshold {
		return r.streamSingle(ctx, from, to, obj)
	}
	return r.streamMultipart(ctx, from, to, obj)
}

// ifMatch pins reads to the listed version of the object, so parts of
// two different versions are never stitched together.
func ifMatch(obj Object) *string {
	if obj.ETag == "" {
		return nil
	}
	return aws.String(`"` + obj.ETag + `"`)
}

func (r *syncRun) streamSingle(ctx context.Context, from, to Location, obj Object) error {
	var buf []byte
	if obj.Size > 0 {
		b, err := r.bufs.get(ctx, obj.Size)
		if err != nil {
			return err
		}
		defer r.bufs.put(b)
		buf = b
	}
	got, err := r.c.src.GetObject(ctx, &s3.GetObjectInput{
		Bucket:              aws.String(from.Bucket),
		Key:                 aws.String(from.Prefix),
		IfMatch:             ifMatch(obj),
		ExpectedBucketOwner: optional(r.o.srcAccount),
	})
	if err != nil {
		return fmt.Errorf("get source: %w", err)
	}
	err = readExactly(got.Body, buf)
	got.Body.Close()
	if err != nil {
		return fmt.Errorf("read source: %w", err)
	}
	in := &s3.PutObjectInput{
		Bucket:              aws.String(to.Bucket),
		Key:                 aws.String(to.Prefix),
		Body:                bytes.NewReader(buf),
		ContentLength:       aws.Int64(obj.Size),
		ContentType:         got.ContentType,
		ContentEncoding:     got.ContentEncoding,
		ContentDisposition:  got.ContentDisposition,
		ContentLanguage:     got.ContentLanguage,
		CacheControl:        got.CacheControl,
		Expires:             parseExpires(got.ExpiresString),
		Metadata:            got.Metadata,
		ACL:                 r.acl,
		ExpectedBucketOwner: optional(r.o.dstAccount),
	}
	if _, err := r.o.dst.PutObject(ctx, in); err != nil {
		return fmt.Errorf("put destination: %w", err)
	}
	return nil
}

// readExactly fills buf from body and fails when body holds fewer or
// more bytes: the object changed since it was listed.
func readExactly(body io.Reader, buf []byte) error {
	if _, err := io.ReadFull(body, buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return fmt.Errorf("object shorter than the %d bytes listed: %w", len(buf), err)
		}
		return err
	}
	var one [1]byte
	if n, _ := body.Read(one[:]); n > 0 {
		return fmt.Errorf("object longer than the %d bytes listed", len(buf))
	}
	return nil
}

func (r *syncRun) streamMultipart(ctx context.Context, from, to Location, obj Object) error {
	head, err := r.c.src.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket:              aws.String(from.Bucket),
		Key:                 aws.String(from.Prefix),
		IfMatch:             ifMatch(obj),
		ExpectedBucketOwner: optional(r.o.srcAccount),
	})
	if err != nil {
		return fmt.Errorf("head source: %w", err)
	}
	created, err := r.o.dst.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:              aws.String(to.Bucket),
		Key:                 aws.String(to.Prefix),
		ContentType:         head.ContentType,
		ContentEncoding:     head.ContentEncoding,
		ContentDisposition:  head.ContentDisposition,
		ContentLanguage:     head.ContentLanguage,
		CacheControl:        head.CacheControl,
		Expires:             parseExpires(head.ExpiresString),
		Metadata:            head.Metadata,
		ACL:                 r.acl,
		ChecksumAlgorithm:   types.ChecksumAlgorithmCrc32,
		ExpectedBucketOwner: optional(r.o.dstAccount),
	})
	if err != nil {
		return fmt.Errorf("create multipart upload: %w", err)
	}
	uploadID := aws.ToString(created.UploadId)
	parts, err := r.uploadParts(ctx, from, to, obj, uploadID)
	if err == nil {
		_, err = r.o.dst.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket:              aws.String(to.Bucket),
			Key:                 aws.String(to.Prefix),
			UploadId:            aws.String(uploadID),
			MultipartUpload:     &types.CompletedMultipartUpload{Parts: parts},
			ExpectedBucketOwner: optional(r.o.dstAccount),
		})
		if err != nil {
			err = fmt.Errorf("complete: %w", err)
		}
	}
	if err == nil {
		return nil
	}
	mpErr := &MultipartUploadError{Bucket: to.Bucket, Key: to.Prefix, UploadID: uploadID, Err: err}
	abortCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	_, mpErr.AbortErr = r.o.dst.AbortMultipartUpload(abortCtx, &s3.AbortMultipartUploadInput{
		Bucket:              aws.String(to.Bucket),
		Key:                 aws.String(to.Prefix),
		UploadId:            aws.String(uploadID),
		ExpectedBucketOwner: optional(r.o.dstAccount),
	})
	r.o.logger.LogAttrs(ctx, slog.LevelDebug, "multipart upload aborted", slog.String("bucket", to.Bucket), slog.String("key", to.Prefix),
		slog.String("uploadId", uploadID), slog.Any("error", err), slog.Any("abortError", mpErr.AbortErr))
	return mpErr
}

// uploadParts streams every part of obj, as many at once as the buffer
// pool allows, and returns them in order for CompleteMultipartUpload.
// The first failure cancels the parts still running.
func (r *syncRun) uploadParts(ctx context.Context, from, to Location, obj Object, uploadID string) ([]types.CompletedPart, error) {
	partSize := partSizeFor(obj.Size, r.o.partSize)
	n := (obj.Size + partSize - 1) / partSize
	parts := make([]types.CompletedPart, n)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for i := range n {
		off := i * partSize
		length := min(partSize, obj.Size-off)
		buf, err := r.bufs.get(ctx, length)
		if err != nil {
			cancel(err)
			break
		}
		wg.Go(func() {
			defer r.bufs.put(buf)
			part, err := r.streamPart(ctx, from, to, obj, uploadID, int32(i+1), off, buf)
			if err != nil {
				cancel(err)
				return
			}
			parts[i] = part
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return parts, nil
}

func (r *syncRun) streamPart(ctx context.Context, from, to Location, obj Object, uploadID string, number int32, off int64, buf []byte) (types.CompletedPart, error) {
	got, err := r.c.src.GetObject(ctx, &s3.GetObjectInput{
		Bucket:              aws.String(from.Bucket),
		Key:                 aws.String(from.Prefix),
		Range:               aws.String("bytes=" + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(off+int64(len(buf))-1, 10)),
		IfMatch:             ifMatch(obj),
		ExpectedBucketOwner: optional(r.o.srcAccount),
	})
	if err != nil {
		return types.CompletedPart{}, fmt.Errorf("get part %d: %w", number, err)
	}
	err = readExactly(got.Body, buf)
	got.Body.Close()
	if err != nil {
		return types.CompletedPart{}, fmt.Errorf("read part %d: %w", number, err)
	}
	out, err := r.o.dst.UploadPart(ctx, &s3.UploadPartInput{
		Bucket:              aws.String(to.Bucket),
		Key:                 aws.String(to.Prefix),
		UploadId:            aws.String(uploadID),
		PartNumber:          aws.Int32(number),
		Body:                bytes.NewReader(buf),
		ContentLength:       aws.Int64(int64(len(buf))),
		ChecksumAlgorithm:   types.ChecksumAlgorithmCrc32,
		ExpectedBucketOwner: optional(r.o.dstAccount),
	})
	if err != nil {
		return types.CompletedPart{}, fmt.Errorf("upload part %d: %w", number, err)
	}
	return types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(number), ChecksumCRC32: out.ChecksumCRC32}, nil
}

// optional returns nil for "", so unset options send no header.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// parseExpires reads an Expires header as S3 returned it. The SDK's parsed
// Expires field is deprecated because services send values that are not
// HTTP dates; those are dropped rather than failing the copy.
func parseExpires(v *string) *time.Time {
	if v == nil || *v == "" {
		return nil
	}
	t, err := http.ParseTime(*v)
	if err != nil {
		return nil
	}
	return &t
}
