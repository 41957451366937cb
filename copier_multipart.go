package xacct

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Size limits of server-side copies.
const (
	// MaxCopyObjectSize is the largest object one CopyObject copies, in
	// bytes (5 GiB); larger objects are always copied in parts.
	MaxCopyObjectSize = 5 << 30
	// MaxObjectSize is the largest object S3 stores, in bytes (5 TiB).
	MaxObjectSize = 5 << 40
)

// copyInParts decides between one CopyObject and a multipart copy.
// Objects above MaxCopyObjectSize are always copied in parts.
//
// An object uploaded in parts (its ETag ends in -N) is copied in parts at
// any size and whatever the compare strategy, with its own part sizes
// (see copyMultipart), so that the copy gets the source's ETag. That
// costs more requests than one CopyObject for a small multipart object
// (a HeadObject and an UploadPartCopy per part, plus creating and
// completing the upload, against one request), but one CopyObject would
// give the copy a single-part ETag that can never be compared with the
// source's: CompareETag would copy it again on every sync, Verify could
// only compare sizes unless both sides share a whole-object checksum, and
// the check after the copy would need two HeadObjects and could still
// prove nothing when the source has only a checksum of its parts. With
// the same parts, the completion's ETag proves the copy by itself.
//
// A single-part object is copied whole below the multipart copy
// threshold, and also above it under CompareETag, so that its ETag
// survives too.
func (r *syncRun) copyInParts(obj Object) bool {
	switch {
	case obj.Size == 0:
		return false
	case obj.Size > MaxCopyObjectSize:
		return true
	case etagParts(obj.ETag) > 0:
		return true
	case r.o.compare == CompareETag:
		return false
	}
	return obj.Size >= r.o.copyThreshold
}

// errLayoutNotCopyable is a source whose parts UploadPartCopy cannot
// repeat: a part other than the last below MinPartSize, or any part
// above MaxPartSize.
var errLayoutNotCopyable = errors.New("source part layout cannot be repeated by UploadPartCopy")

// copyObject runs a CopyObject prepared by copyServerSide: it adds the
// properties and destination settings the options ask for, falls back to
// a copy without tags when the tags are what is refused, and verifies the
// result.
func (r *syncRun) copyObject(ctx context.Context, from, to Location, obj Object, in *s3.CopyObjectInput) error {
	o := &r.o.object
	src := objectFacts{size: obj.Size, etag: obj.ETag}
	if o.needsSourceHead() {
		h, err := r.headSource(ctx, from, obj, 0)
		if err != nil {
			return fmt.Errorf("head source: %w", err)
		}
		p := propsFromHead(h, o)
		p.copyInput(in)
		src = headFacts(h)
	}
	in.StorageClass = o.storageClass
	if in.StorageClass == "" {
		in.StorageClass = types.StorageClass(obj.StorageClass)
	}
	in.ServerSideEncryption = o.encryption()
	in.SSEKMSKeyId = optional(o.kmsKeyID)
	in.RequestPayer = o.payer()
	switch o.props {
	case CopyPropsMetadataDirective:
		in.TaggingDirective = types.TaggingDirectiveReplace
	case CopyPropsNone:
		in.MetadataDirective = types.MetadataDirectiveReplace
		in.TaggingDirective = types.TaggingDirectiveReplace
	}
	out, err := r.cp.CopyObject(ctx, in)
	if err != nil {
		if !o.props.tags() || !isAccessDenied(err) {
			return err
		}
		// Copying tags needs s3:GetObjectTagging on the source and
		// s3:PutObjectTagging on the destination; without them S3 refuses
		// the whole copy (aws-cli #5375). The bytes matter more.
		in.TaggingDirective = types.TaggingDirectiveReplace
		var retryErr error
		if out, retryErr = r.cp.CopyObject(ctx, in); retryErr != nil {
			// Both refusals matter: the retry's (a changed source, a
			// server error) is why the object failed, and comes first so
			// errors.As finds it; the first says why tags were dropped.
			return errors.Join(retryErr, fmt.Errorf("before that, the copy with tags was refused: %w", err))
		}
		r.warnTags(ctx, from, err)
	}
	if o.noVerify {
		return nil
	}
	return r.verifyCopy(ctx, from, to, obj, src, copyFacts(out))
}

// headSource reads the source object's metadata (part: 0 for the whole
// object, or a part number) through the client that copies (r.cp),
// pinned to the listed ETag.
func (r *syncRun) headSource(ctx context.Context, from Location, obj Object, part int32) (*s3.HeadObjectOutput, error) {
	return r.headObject(ctx, r.cp, from, obj, part)
}

// headObject is headSource through client: r.cp for server-side copies,
// the source client for streamed ones.
func (r *syncRun) headObject(ctx context.Context, client HeadObjectAPI, from Location, obj Object, part int32) (*s3.HeadObjectOutput, error) {
	in := &s3.HeadObjectInput{
		Bucket:              aws.String(from.Bucket),
		Key:                 aws.String(from.Prefix),
		IfMatch:             ifMatch(obj),
		ExpectedBucketOwner: optional(r.o.srcAccount),
		RequestPayer:        r.o.object.payer(),
	}
	if part > 0 {
		in.PartNumber = aws.Int32(part)
	} else {
		in.ChecksumMode = types.ChecksumModeEnabled
	}
	return client.HeadObject(ctx, in)
}

// copyPart is one part of a multipart copy: its number and the inclusive
// byte range of the source it copies.
type copyPart struct {
	number      int32
	first, last int64
}

func (p copyPart) rangeHeader() string {
	return "bytes=" + strconv.FormatInt(p.first, 10) + "-" + strconv.FormatInt(p.last, 10)
}

// planParts cuts size bytes into parts of partSize, grown when MaxParts
// parts would not hold the object.
func planParts(size, partSize int64) []copyPart {
	partSize = partSizeFor(size, partSize)
	parts := make([]copyPart, 0, (size+partSize-1)/partSize)
	for off := int64(0); off < size; off += partSize {
		parts = append(parts, copyPart{number: int32(len(parts) + 1), first: off, last: min(off+partSize, size) - 1})
	}
	return parts
}

// partsFromSizes lays parts of the given sizes end to end.
func partsFromSizes(sizes []int64) []copyPart {
	parts := make([]copyPart, len(sizes))
	var off int64
	for i, n := range sizes {
		parts[i] = copyPart{number: int32(i + 1), first: off, last: off + n - 1}
		off += n
	}
	return parts
}

// sourceParts reads the sizes of the n parts the source was uploaded in
// (HeadObject with PartNumber, through client), so the copy can repeat
// them and keep the source's ETag. A layout a multipart upload cannot
// repeat is an error wrapping errLayoutNotCopyable.
func (r *syncRun) sourceParts(ctx context.Context, client HeadObjectAPI, from Location, obj Object, n int, size int64) ([]copyPart, error) {
	sizes := make([]int64, n)
	err := forEachPart(ctx, n, r.o.object.parts(), func(ctx context.Context, i int) error {
		h, err := r.headObject(ctx, client, from, obj, int32(i+1))
		if err != nil {
			return fmt.Errorf("head source part %d: %w", i+1, err)
		}
		sizes[i] = aws.ToInt64(h.ContentLength)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var total int64
	for i, n := range sizes {
		if n <= 0 || n > MaxPartSize || (n < MinPartSize && i < len(sizes)-1) {
			return nil, fmt.Errorf("%w: part %d of %d is %d bytes", errLayoutNotCopyable, i+1, len(sizes), n)
		}
		total += n
	}
	if total != size {
		return nil, fmt.Errorf("source parts add up to %d bytes, the object has %d", total, size)
	}
	return partsFromSizes(sizes), nil
}

// copyMultipart copies one object server-side in parts: CreateMultipartUpload
// with the source's properties, UploadPartCopy of every part in parallel
// (each guarded by the listed ETag), CompleteMultipartUpload, then
// verification. The parts repeat the source's own when it was uploaded in
// parts, so the ETag survives. When they cannot be repeated it cuts parts
// of WithPartSize, or, below the multipart copy threshold, returns
// errLayoutNotCopyable before starting an upload, for one CopyObject to
// copy the object instead. On failure or cancellation the upload is
// aborted and the error is a *MultipartUploadError naming it.
func (r *syncRun) copyMultipart(ctx context.Context, from, to Location, obj Object) error {
	o := &r.o.object
	h, err := r.headSource(ctx, from, obj, 0)
	if err != nil {
		return fmt.Errorf("head source: %w", err)
	}
	size := aws.ToInt64(h.ContentLength)
	if size > MaxObjectSize {
		return fmt.Errorf("source is %d bytes, more than S3's %d-byte object limit", size, int64(MaxObjectSize))
	}
	etag := strings.Trim(aws.ToString(h.ETag), `"`)
	if etag != "" {
		// Pin every later read to what this HEAD described.
		obj.ETag = etag
	}
	var parts []copyPart
	sameParts := false
	if n := etagParts(etag); n > 0 && n <= MaxParts {
		parts, err = r.sourceParts(ctx, r.cp, from, obj, n, size)
		switch {
		case err == nil:
			sameParts = true
		case !errors.Is(err, errLayoutNotCopyable):
			return err
		case size < r.o.copyThreshold && size <= MaxCopyObjectSize:
			return err
		}
	}
	if !sameParts {
		parts = planParts(size, r.o.partSize)
	}

	props := propsFromHead(h, o)
	var tagErr error
	if o.props.tags() {
		props.tagging, tagErr = readTags(ctx, r.cp, from.Bucket, from.Prefix, r.o.srcAccount, o)
		if tagErr != nil && !isAccessDenied(tagErr) {
			return fmt.Errorf("get source tags: %w", tagErr)
		}
	}
	in := &s3.CreateMultipartUploadInput{
		Bucket:              aws.String(to.Bucket),
		Key:                 aws.String(to.Prefix),
		ACL:                 r.acl,
		ExpectedBucketOwner: optional(r.o.dstAccount),
	}
	props.create(in, o)
	uploadID, err := r.createUpload(ctx, from, in, tagErr)
	if err != nil {
		return err
	}

	done, err := r.copyParts(ctx, from, to, obj, uploadID, parts)
	out, err := r.complete(ctx, to, uploadID, done, props, in, err)
	if err != nil {
		return err
	}
	r.o.logger.LogAttrs(ctx, slog.LevelDebug, "multipart copy done", slog.String("bucket", to.Bucket), slog.String("key", to.Prefix),
		slog.Int("parts", len(parts)), slog.Int64("size", size))
	if o.noVerify {
		return nil
	}
	written := completeFacts(out)
	written.sameParts = sameParts
	return r.verifyCopy(ctx, from, to, obj, headFacts(h), written)
}

// createUpload starts the multipart upload in describes. When the
// destination refuses the tags (x-amz-tagging needs s3:PutObjectTagging)
// it starts it without them; that refusal, or tagErr (the tags could not
// be read), becomes a WarningTagsNotCopied once the upload exists.
func (r *syncRun) createUpload(ctx context.Context, from Location, in *s3.CreateMultipartUploadInput, tagErr error) (string, error) {
	created, err := r.cp.CreateMultipartUpload(ctx, in)
	if err != nil && in.Tagging != nil && isAccessDenied(err) {
		tagErr, in.Tagging = err, nil
		created, err = r.cp.CreateMultipartUpload(ctx, in)
	}
	if err != nil {
		return "", fmt.Errorf("create multipart upload: %w", err)
	}
	if tagErr != nil {
		r.warnTags(ctx, from, tagErr)
	}
	return aws.ToString(created.UploadId), nil
}

// warnTags records that the object at from is copied without its tags.
func (r *syncRun) warnTags(ctx context.Context, from Location, err error) {
	r.warnings.add(&ObjectWarning{Kind: WarningTagsNotCopied, Bucket: from.Bucket, Key: from.Prefix, Err: err})
	r.o.logger.LogAttrs(ctx, slog.LevelWarn, "copying without tags", slog.String("bucket", from.Bucket), slog.String("key", from.Prefix), slog.Any("error", err))
}

// copyParts runs UploadPartCopy for every part, WithPartConcurrency at a
// time, and returns the parts in order for CompleteMultipartUpload. The
// first failure cancels the rest.
func (r *syncRun) copyParts(ctx context.Context, from, to Location, obj Object, uploadID string, parts []copyPart) ([]types.CompletedPart, error) {
	done := make([]types.CompletedPart, len(parts))
	err := forEachPart(ctx, len(parts), r.o.object.parts(), func(ctx context.Context, i int) error {
		p := parts[i]
		out, err := r.cp.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
			Bucket:                    aws.String(to.Bucket),
			Key:                       aws.String(to.Prefix),
			UploadId:                  aws.String(uploadID),
			PartNumber:                aws.Int32(p.number),
			CopySource:                aws.String(copySource(from.Bucket, from.Prefix)),
			CopySourceRange:           aws.String(p.rangeHeader()),
			CopySourceIfMatch:         ifMatch(obj),
			ExpectedBucketOwner:       optional(r.o.dstAccount),
			ExpectedSourceBucketOwner: optional(r.o.srcAccount),
			RequestPayer:              r.o.object.payer(),
		})
		if err != nil {
			return fmt.Errorf("copy part %d (%s): %w", p.number, p.rangeHeader(), err)
		}
		res := out.CopyPartResult
		if res == nil || aws.ToString(res.ETag) == "" {
			return fmt.Errorf("copy part %d: no ETag in the response", p.number)
		}
		done[i] = types.CompletedPart{
			PartNumber:        aws.Int32(p.number),
			ETag:              res.ETag,
			ChecksumCRC32:     res.ChecksumCRC32,
			ChecksumCRC32C:    res.ChecksumCRC32C,
			ChecksumCRC64NVME: res.ChecksumCRC64NVME,
			ChecksumSHA1:      res.ChecksumSHA1,
			ChecksumSHA256:    res.ChecksumSHA256,
		}
		return nil
	})
	return done, err
}

// abort discards a failed multipart copy on a context of its own (the
// sync's may be why it failed) and returns the error naming the upload.
func (r *syncRun) abort(ctx context.Context, to Location, uploadID string, cause error) error {
	mpErr := &MultipartUploadError{Bucket: to.Bucket, Key: to.Prefix, UploadID: uploadID, Err: cause}
	abortCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	_, mpErr.AbortErr = r.cp.AbortMultipartUpload(abortCtx, &s3.AbortMultipartUploadInput{
		Bucket:              aws.String(to.Bucket),
		Key:                 aws.String(to.Prefix),
		UploadId:            aws.String(uploadID),
		ExpectedBucketOwner: optional(r.o.dstAccount),
		RequestPayer:        r.o.object.payer(),
	})
	r.o.logger.LogAttrs(ctx, slog.LevelDebug, "multipart upload aborted", slog.String("bucket", to.Bucket), slog.String("key", to.Prefix),
		slog.String("uploadId", uploadID), slog.Any("error", cause), slog.Any("abortError", mpErr.AbortErr))
	return mpErr
}

// forEachPart calls fn for 0..n-1 on up to workers goroutines. The first
// error cancels the calls still to come and is returned once all calls
// have returned.
func forEachPart(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

func setFullChecksum(in *s3.CompleteMultipartUploadInput, c checksum) {
	in.ChecksumType = types.ChecksumTypeFullObject
	in.ChecksumCRC32, in.ChecksumCRC32C, in.ChecksumCRC64NVME, _, _ = c.fields()
}

// complete finishes a multipart upload whose parts were written without
// error (partsErr nil), or aborts it, and returns the completion. A
// whole-object checksum of the source, which does not depend on the part
// layout, is sent along so that S3 checks the assembled object itself.
func (r *syncRun) complete(ctx context.Context, to Location, uploadID string, parts []types.CompletedPart, props objectProps, in *s3.CreateMultipartUploadInput, partsErr error) (*s3.CompleteMultipartUploadOutput, error) {
	if partsErr != nil {
		return nil, r.abort(ctx, to, uploadID, partsErr)
	}
	cin := &s3.CompleteMultipartUploadInput{
		Bucket:              aws.String(to.Bucket),
		Key:                 aws.String(to.Prefix),
		UploadId:            aws.String(uploadID),
		MultipartUpload:     &types.CompletedMultipartUpload{Parts: parts},
		ExpectedBucketOwner: optional(r.o.dstAccount),
		RequestPayer:        r.o.object.payer(),
	}
	if c := props.checksum; c.kind() == types.ChecksumTypeFullObject && in.ChecksumType == types.ChecksumTypeFullObject {
		setFullChecksum(cin, c)
	}
	out, err := r.cp.CompleteMultipartUpload(ctx, cin)
	if err != nil {
		return nil, r.abort(ctx, to, uploadID, fmt.Errorf("complete: %w", err))
	}
	return out, nil
}
