package xacct

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"math/bits"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
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

// Error names the upload, the object, the cause and any failed abort.
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

// sourcePartFactor bounds the parts a streamed copy repeats from its
// source: at most this many times the part size (see maxSourcePart).
// aws-cli, boto3 and the Go SDK's upload manager cut 5 or 8 MiB parts,
// s5cmd 50 MiB, so with the default 8 MiB part size (a 64 MiB bound)
// their uploads keep their ETags, while a source with parts of several
// GiB does not make every worker hold that much.
const sourcePartFactor = 8

// errSourcePartTooLarge is a source part above maxSourcePart: the
// streamed copy cuts its own parts instead of buffering it whole.
var errSourcePartTooLarge = errors.New("source part larger than a streamed copy buffers")

// maxSourcePart is the largest source part a streamed copy of an object
// of size bytes repeats: sourcePartFactor × the part size, and never less
// than the part the copy would cut itself (grown for MaxParts), which it
// buffers anyway.
func (r *syncRun) maxSourcePart(size int64) int64 {
	return max(sourcePartFactor*r.o.partSize, partSizeFor(size, r.o.partSize))
}

// stream copies one object by reading it with the source client and
// writing it with the destination client.
//
// An object uploaded in parts (its ETag ends in -N) is written, at any
// size, as a multipart upload with the source's own part sizes (read
// with HeadObject and PartNumber, as server-side copies do), so that the
// copy gets the source's ETag and CompareETag and Verify compare the two
// from listings alone. That costs a HeadObject per part and, below the
// multipart threshold, a multipart upload instead of one PutObject. Each
// part in flight is buffered whole, so memory is bounded by concurrency ×
// the largest source part rather than × the part size: S3 allows parts up
// to 5 GiB. A source with a part above maxSourcePart, or with parts a
// multipart upload cannot repeat (see sourceParts), is copied as any
// other object instead (the HeadObject requests already made are then
// spent for nothing), and its copy gets an ETag of its own.
//
// Other objects: below the multipart threshold one buffered PutObject
// (streamSingle), up to the stream upload cutoff one unbuffered
// PutObject (streamThrough), then a multipart upload of parts of
// WithPartSize (streamMultipart).
func (r *syncRun) stream(ctx context.Context, from, to Location, obj Object) error {
	if etagParts(obj.ETag) > 0 {
		err := r.streamSourceParts(ctx, from, to, obj)
		if !errors.Is(err, errLayoutNotCopyable) && !errors.Is(err, errSourcePartTooLarge) {
			return err
		}
		r.o.logger.LogAttrs(ctx, slog.LevelDebug, "not repeating the source's parts", slog.String("bucket", from.Bucket), slog.String("key", from.Prefix), slog.Any("reason", err))
	}
	switch {
	case obj.Size == 0 || obj.Size < r.o.threshold:
		return r.streamSingle(ctx, from, to, obj)
	case obj.Size < r.o.uploadCutoff() && !r.throughUncheckable():
		return r.streamThrough(ctx, from, to, obj)
	}
	return r.streamMultipart(ctx, from, to, obj)
}

// streamSourceParts streams an object uploaded in parts as a multipart
// upload of the same parts (see stream). It returns an error wrapping
// errLayoutNotCopyable or errSourcePartTooLarge, before any upload
// starts, when it cannot.
func (r *syncRun) streamSourceParts(ctx context.Context, from, to Location, obj Object) error {
	head, err := r.headObject(ctx, r.c.src, from, obj, 0)
	if err != nil {
		return fmt.Errorf("head source: %w", err)
	}
	size := aws.ToInt64(head.ContentLength)
	etag := strings.Trim(aws.ToString(head.ETag), `"`)
	n := etagParts(etag)
	if n == 0 || n > MaxParts {
		return fmt.Errorf("%w: ETag %q names no part count up to %d", errLayoutNotCopyable, etag, MaxParts)
	}
	// Pin every later read to what this HEAD described.
	obj.ETag = etag
	parts, err := r.sourceParts(ctx, r.c.src, from, obj, n, size)
	if err != nil {
		return err
	}
	limit := r.maxSourcePart(size)
	for _, p := range parts {
		if p.last-p.first+1 > limit {
			return fmt.Errorf("%w: part %d of %d is %d bytes, more than %d", errSourcePartTooLarge, p.number, len(parts), p.last-p.first+1, limit)
		}
	}
	return r.streamParts(ctx, from, to, obj, head, parts, true)
}

// ifMatch pins reads to the listed version of the object, so parts of
// two different versions are never stitched together.
func ifMatch(obj Object) *string {
	if obj.ETag == "" {
		return nil
	}
	return aws.String(`"` + obj.ETag + `"`)
}

// streamSingle copies an object below the multipart threshold with one
// GetObject and one PutObject carrying the source's properties, then
// verifies the copy.
func (r *syncRun) streamSingle(ctx context.Context, from, to Location, obj Object) error {
	o := &r.o.object
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
		ChecksumMode:        types.ChecksumModeEnabled,
		ExpectedBucketOwner: optional(r.o.srcAccount),
		RequestPayer:        o.payer(),
	})
	if err != nil {
		return fmt.Errorf("get source: %w", err)
	}
	err = readExactly(got.Body, buf)
	got.Body.Close()
	if err != nil {
		return fmt.Errorf("read source: %w", err)
	}
	head := headFromGet(got)
	props := propsFromHead(head, o)
	tagErr := r.sourceTags(ctx, from, &props)
	if tagErr != nil && !isAccessDenied(tagErr) {
		return fmt.Errorf("get source tags: %w", tagErr)
	}
	put := func() (*s3.PutObjectOutput, error) {
		in := &s3.PutObjectInput{
			Bucket:              aws.String(to.Bucket),
			Key:                 aws.String(to.Prefix),
			Body:                bytes.NewReader(buf),
			ContentLength:       aws.Int64(obj.Size),
			ACL:                 r.acl,
			ExpectedBucketOwner: optional(r.o.dstAccount),
		}
		props.put(in, o)
		return r.o.dst.PutObject(ctx, in)
	}
	out, err := put()
	if err != nil && props.tagging != "" && isAccessDenied(err) {
		// x-amz-tagging needs s3:PutObjectTagging on the destination.
		tagErr, props.tagging = err, ""
		out, err = put()
	}
	if err != nil {
		return fmt.Errorf("put destination: %w", err)
	}
	if tagErr != nil {
		r.warnTags(ctx, from, tagErr)
	}
	if o.noVerify {
		return nil
	}
	return r.verifyCopy(ctx, from, to, obj, headFacts(head), putFacts(out))
}

// throughUncheckable reports whether a streamed PutObject could go with
// no check of its bytes in transit: over plain HTTP its payload is
// unsigned and, without a checksum from the source, only the ETag could
// show a change, but the requested SSE-KMS or DSSE-KMS makes the ETag no
// MD5. Such objects take a multipart upload, whose parts carry a CRC32.
func (r *syncRun) throughUncheckable() bool {
	switch r.o.object.encryption() {
	case types.ServerSideEncryptionAwsKms, types.ServerSideEncryptionAwsKmsDsse:
		return plainHTTP(r.o.dst)
	}
	return false
}

// plainHTTP reports whether client (an *s3.Client, or anything with its
// Options method) sends to an http:// endpoint.
func plainHTTP(client any) bool {
	c, ok := client.(interface{ Options() s3.Options })
	return ok && isPlainHTTP(c.Options().BaseEndpoint)
}

func isPlainHTTP(endpoint *string) bool {
	return strings.HasPrefix(strings.ToLower(aws.ToString(endpoint)), "http://")
}

// transitCheck hashes the bytes of a streamed PutObject as they pass,
// when the put goes with neither a signed payload nor a checksum header
// (see unbufferedPut), so the ETag of the response can prove what S3
// received.
type transitCheck struct {
	r io.Reader
	// on is set by unbufferedPut before the body is read.
	on  bool
	md5 hash.Hash
	// hashed counts the bytes hashed, size those the object holds: a
	// client wrapper that read the body before the SDK turned on the
	// hashing leaves the two apart, and nothing is compared.
	hashed, size int64
}

func (c *transitCheck) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.on && n > 0 {
		c.md5.Write(p[:n])
		c.hashed += int64(n)
	}
	return n, err
}

// check compares the MD5 of the bytes sent with the ETag of out: a
// difference means S3 stored other bytes than were read from the source.
// It returns nil when nothing was hashed or the ETag is no plain MD5
// (SSE-KMS, DSSE-KMS, SSE-C), which verification then deals with.
func (c *transitCheck) check(out *s3.PutObjectOutput) *mismatch {
	if !c.on || c.hashed != c.size {
		return nil
	}
	etag := strings.Trim(aws.ToString(out.ETag), `"`)
	f := putFacts(out)
	f.sseC = aws.ToString(out.SSECustomerAlgorithm) != ""
	if !f.md5ETag() || len(etag) != 2*md5.Size {
		return nil
	}
	if _, err := hex.DecodeString(etag); err != nil {
		return nil
	}
	sent := hex.EncodeToString(c.md5.Sum(nil))
	if strings.EqualFold(sent, etag) {
		return nil
	}
	return &mismatch{"ETag", strconv.Quote(sent), strconv.Quote(etag)}
}

// sourceTags reads the source's tags with the source client into p when
// the options copy tags. An error means they could not be read.
func (r *syncRun) sourceTags(ctx context.Context, from Location, p *objectProps) error {
	if !r.o.object.props.tags() {
		return nil
	}
	var err error
	p.tagging, err = readTags(ctx, r.c.src, from.Bucket, from.Prefix, r.o.srcAccount, &r.o.object)
	return err
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

// errSizeChanged is a source body holding more or fewer bytes than
// listed: the object changed, and reading it again would not help.
var errSizeChanged = errors.New("source object size changed since it was listed")

// sizedReader passes a source body through and fails when it yields more
// or fewer bytes than the size listed, so that a changed object is never
// written under its old length.
type sizedReader struct {
	r    io.Reader
	size int64
	left int64
}

func (s *sizedReader) Read(p []byte) (int, error) {
	if s.left == 0 {
		// One byte more than listed is enough to know.
		var one [1]byte
		n, err := s.r.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("%w: longer than the %d bytes listed", errSizeChanged, s.size)
		}
		if err == nil {
			// A reader may return 0, nil; the caller will ask again.
			return 0, nil
		}
		return 0, err
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	s.left -= int64(n)
	if err == io.EOF && s.left > 0 {
		return n, fmt.Errorf("%w: %d bytes short of the %d listed", errSizeChanged, s.left, s.size)
	}
	return n, err
}

// streamThrough copies an object from the multipart threshold up to the
// stream upload cutoff with one PutObject whose body is the source's
// GetObject body, so memory stays at one copy buffer whatever the size.
// The body cannot be rewound for an SDK retry, so a write that fails with
// a retryable error is tried once more from a new GetObject pinned to the
// listed ETag. A failed PutObject leaves nothing on S3.
func (r *syncRun) streamThrough(ctx context.Context, from, to Location, obj Object) error {
	o := &r.o.object
	var tags objectProps
	tagErr := r.sourceTags(ctx, from, &tags)
	if tagErr != nil && !isAccessDenied(tagErr) {
		return fmt.Errorf("get source tags: %w", tagErr)
	}
	tagging, retried := tags.tagging, false
	for {
		head, out, sent, err := r.putThrough(ctx, from, to, obj, tagging)
		var pe *putError
		switch {
		case err == nil:
		case errors.As(err, &pe) && tagging != "" && isAccessDenied(pe.err):
			// x-amz-tagging needs s3:PutObjectTagging on the destination.
			tagErr, tagging = pe.err, ""
			continue
		case !retried && retryableStream(ctx, err):
			retried = true
			r.o.logger.LogAttrs(ctx, slog.LevelDebug, "retrying streamed put", slog.String("bucket", to.Bucket), slog.String("key", to.Prefix), slog.Any("error", err))
			continue
		default:
			return err
		}
		if m := sent.check(out); m != nil {
			// Bytes changed on the way: the in-transit check a signed
			// payload or a checksum would have made, so it holds with
			// WithoutVerify too.
			return r.mismatch(ctx, to, m)
		}
		if tagErr != nil {
			r.warnTags(ctx, from, tagErr)
		}
		if o.noVerify {
			return nil
		}
		return r.verifyCopy(ctx, from, to, obj, headFacts(head), putFacts(out))
	}
}

// putError is the failure of the PutObject of streamThrough, as opposed
// to that of its GetObject.
type putError struct{ err error }

func (e *putError) Error() string { return "put destination: " + e.err.Error() }
func (e *putError) Unwrap() error { return e.err }

// retryableStream reports whether a streamed copy that failed with err is
// worth one more try: a server error, throttling or a dropped connection,
// not a refusal (AccessDenied, PreconditionFailed), a changed source or a
// cancelled sync.
func retryableStream(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, errSizeChanged) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}

// putThrough is one attempt of streamThrough: a GetObject of the source
// and a PutObject of its body.
func (r *syncRun) putThrough(ctx context.Context, from, to Location, obj Object, tagging string) (*s3.HeadObjectOutput, *s3.PutObjectOutput, *transitCheck, error) {
	o := &r.o.object
	got, err := r.c.src.GetObject(ctx, &s3.GetObjectInput{
		Bucket:              aws.String(from.Bucket),
		Key:                 aws.String(from.Prefix),
		IfMatch:             ifMatch(obj),
		ChecksumMode:        types.ChecksumModeEnabled,
		ExpectedBucketOwner: optional(r.o.srcAccount),
		RequestPayer:        o.payer(),
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("get source: %w", err)
	}
	defer got.Body.Close()
	if got.ContentLength != nil && *got.ContentLength != obj.Size {
		return nil, nil, nil, fmt.Errorf("%w: %d bytes, %d listed", errSizeChanged, *got.ContentLength, obj.Size)
	}
	head := headFromGet(got)
	props := propsFromHead(head, o)
	props.tagging = tagging
	sent := &transitCheck{r: &sizedReader{r: got.Body, size: obj.Size, left: obj.Size}, md5: md5.New(), size: obj.Size}
	in := &s3.PutObjectInput{
		Bucket:              aws.String(to.Bucket),
		Key:                 aws.String(to.Prefix),
		Body:                sent,
		ContentLength:       aws.Int64(obj.Size),
		ACL:                 r.acl,
		ExpectedBucketOwner: optional(r.o.dstAccount),
	}
	// A whole-object checksum of the source goes out as the expected
	// checksum, so S3 refuses different bytes.
	props.put(in, o)
	out, err := r.o.dst.PutObject(ctx, in, unbufferedPut(in, sent))
	if err != nil {
		return nil, nil, nil, &putError{err}
	}
	return head, out, sent, nil
}

// unbufferedPut adapts one PutObject to a body that cannot be rewound.
// The SDK could not retry it, so its retries are off (streamThrough
// retries the whole object instead). Over plain HTTP the SDK would hash
// the body to sign it and could not compute a checksum header, so the
// payload goes UNSIGNED and a checksum is sent only when the source gave
// one; over HTTPS the SDK already sends an unsigned payload with a
// trailing checksum. When neither goes, sent hashes the body as it passes
// (see transitCheck), so the response's ETag checks the bytes instead.
func unbufferedPut(in *s3.PutObjectInput, sent *transitCheck) func(*s3.Options) {
	return func(o *s3.Options) {
		o.Retryer = retry.AddWithMaxAttempts(o.Retryer, 1)
		if !isPlainHTTP(o.BaseEndpoint) {
			return
		}
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		if in.ChecksumCRC32 == nil && in.ChecksumCRC32C == nil && in.ChecksumCRC64NVME == nil && in.ChecksumSHA1 == nil && in.ChecksumSHA256 == nil {
			// Only a checksum value can go as a header without reading
			// the body first; the MD5 of what is sent checks the ETag.
			in.ChecksumAlgorithm = ""
			sent.on = true
		}
	}
}

// streamMultipart copies an object from the stream upload cutoff on: a
// HeadObject of the source for its properties, then streamParts with
// parts of WithPartSize.
func (r *syncRun) streamMultipart(ctx context.Context, from, to Location, obj Object) error {
	head, err := r.headObject(ctx, r.c.src, from, obj, 0)
	if err != nil {
		return fmt.Errorf("head source: %w", err)
	}
	if etag := strings.Trim(aws.ToString(head.ETag), `"`); etag != "" {
		// Pin every part read to what this HEAD described.
		obj.ETag = etag
	}
	return r.streamParts(ctx, from, to, obj, head, planParts(obj.Size, r.o.partSize), false)
}

// streamParts writes obj, described by head, as a multipart upload with
// its properties whose parts are ranged reads of the source, then
// verifies it; sameParts says the parts are the source's own. A
// whole-object checksum of the source is given at completion, so S3
// checks the assembled bytes against it. On failure the upload is
// aborted and the error is a *MultipartUploadError naming it.
func (r *syncRun) streamParts(ctx context.Context, from, to Location, obj Object, head *s3.HeadObjectOutput, plan []copyPart, sameParts bool) error {
	o := &r.o.object
	props := propsFromHead(head, o)
	tagErr := r.sourceTags(ctx, from, &props)
	if tagErr != nil && !isAccessDenied(tagErr) {
		return fmt.Errorf("get source tags: %w", tagErr)
	}
	in := &s3.CreateMultipartUploadInput{
		Bucket:              aws.String(to.Bucket),
		Key:                 aws.String(to.Prefix),
		ACL:                 r.acl,
		ExpectedBucketOwner: optional(r.o.dstAccount),
	}
	props.create(in, o)
	if in.ChecksumAlgorithm == "" {
		// Parts sent without a checksum could not be checked by S3.
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
	}
	uploadID, err := r.createUpload(ctx, from, in, tagErr)
	if err != nil {
		return err
	}
	parts, err := r.uploadParts(ctx, from, to, obj, uploadID, in.ChecksumAlgorithm, plan)
	out, err := r.complete(ctx, to, uploadID, parts, props, in, err)
	if err != nil {
		return err
	}
	if o.noVerify {
		return nil
	}
	written := completeFacts(out)
	written.sameParts = sameParts
	return r.verifyCopy(ctx, from, to, obj, headFacts(head), written)
}

// uploadParts streams every part of plan, as many at once as the buffer
// pool allows, and returns them in order for CompleteMultipartUpload.
// The first failure cancels the parts still running.
func (r *syncRun) uploadParts(ctx context.Context, from, to Location, obj Object, uploadID string, alg types.ChecksumAlgorithm, plan []copyPart) ([]types.CompletedPart, error) {
	parts := make([]types.CompletedPart, len(plan))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for i, p := range plan {
		buf, err := r.bufs.get(ctx, p.last-p.first+1)
		if err != nil {
			cancel(err)
			break
		}
		wg.Go(func() {
			defer r.bufs.put(buf)
			part, err := r.streamPart(ctx, from, to, obj, uploadID, alg, p.number, p.first, buf)
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

func (r *syncRun) streamPart(ctx context.Context, from, to Location, obj Object, uploadID string, alg types.ChecksumAlgorithm, number int32, off int64, buf []byte) (types.CompletedPart, error) {
	got, err := r.c.src.GetObject(ctx, &s3.GetObjectInput{
		Bucket:              aws.String(from.Bucket),
		Key:                 aws.String(from.Prefix),
		Range:               aws.String("bytes=" + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(off+int64(len(buf))-1, 10)),
		IfMatch:             ifMatch(obj),
		ExpectedBucketOwner: optional(r.o.srcAccount),
		RequestPayer:        r.o.object.payer(),
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
		ChecksumAlgorithm:   alg,
		ExpectedBucketOwner: optional(r.o.dstAccount),
		RequestPayer:        r.o.object.payer(),
	})
	if err != nil {
		return types.CompletedPart{}, fmt.Errorf("upload part %d: %w", number, err)
	}
	return types.CompletedPart{
		ETag:              out.ETag,
		PartNumber:        aws.Int32(number),
		ChecksumCRC32:     out.ChecksumCRC32,
		ChecksumCRC32C:    out.ChecksumCRC32C,
		ChecksumCRC64NVME: out.ChecksumCRC64NVME,
		ChecksumSHA1:      out.ChecksumSHA1,
		ChecksumSHA256:    out.ChecksumSHA256,
	}, nil
}

// optional returns nil for "", so unset options send no header.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
