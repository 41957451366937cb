package xacct

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// ErrMismatch is wrapped by every *VerifyError, and returned by Verify
// when the two locations differ.
var ErrMismatch = errors.New("source and destination differ")

// VerifyError reports a copy whose destination does not hold the source's
// bytes. The object counts as failed; the bad copy is removed when
// Removed says so, so that the next sync copies it again.
type VerifyError struct {
	// Bucket and Key name the destination object.
	Bucket string
	Key    string
	// Field is what differs: "size", "ETag" or "checksum CRC32C" (the
	// algorithm named).
	Field string
	// Source and Destination are the two values compared.
	Source, Destination string
	// Removed is true when the bad copy was deleted; RemoveErr says why
	// it was not, when it was not.
	Removed   bool
	RemoveErr error
}

// Error names the object, the differing field with both values, and the cleanup.
func (e *VerifyError) Error() string {
	msg := fmt.Sprintf("verify s3://%s/%s: %s %s at the source, %s at the destination", e.Bucket, e.Key, e.Field, e.Source, e.Destination)
	switch {
	case e.Removed:
		msg += "; the copy was removed"
	case e.RemoveErr != nil:
		msg += fmt.Sprintf("; the bad copy remains (%v)", e.RemoveErr)
	}
	return msg
}

// Unwrap returns ErrMismatch.
func (e *VerifyError) Unwrap() error { return ErrMismatch }

// objectFacts is what is known of one object for a comparison; a HEAD
// tells everything, a listing or a write response part of it.
type objectFacts struct {
	// size in bytes, -1 when unknown.
	size int64
	etag string
	// sse and sseC describe the encryption, when sseKnown.
	sse      types.ServerSideEncryption
	sseC     bool
	sseKnown bool
	checksum checksum
	headed   bool
	// sameParts is set on a copy written with the part sizes of the
	// source it is compared with, so that its multipart ETag and
	// composite checksum can differ from the source's only if the bytes
	// do.
	sameParts bool
}

func headFacts(h *s3.HeadObjectOutput) objectFacts {
	return objectFacts{
		size: aws.ToInt64(h.ContentLength), etag: strings.Trim(aws.ToString(h.ETag), `"`),
		sse: h.ServerSideEncryption, sseC: aws.ToString(h.SSECustomerAlgorithm) != "", sseKnown: true,
		checksum: headChecksum(h), headed: true,
	}
}

func copyFacts(out *s3.CopyObjectOutput) objectFacts {
	f := objectFacts{size: -1, sse: out.ServerSideEncryption, sseC: aws.ToString(out.SSECustomerAlgorithm) != "", sseKnown: true}
	if r := out.CopyObjectResult; r != nil {
		f.etag = strings.Trim(aws.ToString(r.ETag), `"`)
		f.checksum = pickChecksum(r.ChecksumType, r.ChecksumCRC32, r.ChecksumCRC32C, r.ChecksumCRC64NVME, r.ChecksumSHA1, r.ChecksumSHA256)
	}
	return f
}

func putFacts(out *s3.PutObjectOutput) objectFacts {
	return objectFacts{
		size: -1, etag: strings.Trim(aws.ToString(out.ETag), `"`), sse: out.ServerSideEncryption, sseKnown: true,
		checksum: pickChecksum(out.ChecksumType, out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME, out.ChecksumSHA1, out.ChecksumSHA256),
	}
}

func completeFacts(out *s3.CompleteMultipartUploadOutput) objectFacts {
	return objectFacts{
		size: -1, etag: strings.Trim(aws.ToString(out.ETag), `"`), sse: out.ServerSideEncryption, sseKnown: true,
		checksum: pickChecksum(out.ChecksumType, out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME, out.ChecksumSHA1, out.ChecksumSHA256),
	}
}

// md5ETag reports whether the object's ETag is an MD5 of its bytes (or of
// its parts' MD5s): not with SSE-KMS, DSSE-KMS or SSE-C.
func (f objectFacts) md5ETag() bool {
	return f.sseKnown && !f.sseC && f.sse != types.ServerSideEncryptionAwsKms && f.sse != types.ServerSideEncryptionAwsKmsDsse
}

// mismatch is the first difference found between two objects.
type mismatch struct{ field, src, dst string }

// compareFacts compares what is known. It returns the difference found,
// or nil with proven=false when sizes match but nothing else could be
// compared (different part layouts or encryption, no common checksum).
func compareFacts(src, dst objectFacts) (m *mismatch, proven bool) {
	if src.etag != "" && src.etag == dst.etag && (src.size < 0 || dst.size < 0 || src.size == dst.size) {
		return nil, true
	}
	if src.size >= 0 && dst.size >= 0 && src.size != dst.size {
		return &mismatch{"size", strconv.FormatInt(src.size, 10), strconv.FormatInt(dst.size, 10)}, true
	}
	// Multipart ETags and composite checksums depend on the part sizes,
	// which the part count alone does not pin down: equal bytes cut at
	// other boundaries give other values. Equal values prove equal bytes;
	// different ones prove different bytes only when both objects were
	// cut the same way.
	sameParts := src.sameParts || dst.sameParts
	if src.checksum.comparable(dst.checksum) {
		if src.checksum.value == dst.checksum.value {
			return nil, true
		}
		if src.checksum.kind() != types.ChecksumTypeComposite || sameParts {
			return &mismatch{"checksum " + string(src.checksum.algorithm), src.checksum.value, dst.checksum.value}, true
		}
	}
	// A plain MD5 ETag is the MD5 of the bytes, so two differ only when the
	// bytes do; so do two multipart ETags of the same parts.
	if src.etag != "" && dst.etag != "" && src.md5ETag() && dst.md5ETag() && partSuffix(src.etag) == partSuffix(dst.etag) &&
		(partSuffix(src.etag) == "" || sameParts) {
		return &mismatch{"ETag", strconv.Quote(src.etag), strconv.Quote(dst.etag)}, true
	}
	return nil, false
}

// ErrNotComparable is wrapped by the error of a WarningNotVerified given
// when a copy's size matches its source's but neither its ETag nor any
// checksum describes both objects the same way, so that equal bytes
// cannot be told from different ones.
var ErrNotComparable = errors.New("copy cannot be compared with its source beyond its size")

// verifyCopy checks a finished copy. When the facts at hand (listing,
// write response) prove it, no request is made; otherwise both objects
// are read with HeadObject, with their checksums. A difference fails the
// object; a copy that neither proves equal nor different (no ETag or
// checksum in common, or a destination the writer may not read) is kept
// with a WarningNotVerified, never passed in silence.
func (r *syncRun) verifyCopy(ctx context.Context, from, to Location, obj Object, src, dst objectFacts) error {
	m, proven := compareFacts(src, dst)
	switch {
	case proven && m == nil:
		return nil
	case proven:
		// The write's response already shows the difference; the writer
		// may not be allowed to read its copy back.
		return r.mismatch(ctx, to, m)
	}
	if !src.headed {
		h, err := r.headSource(ctx, from, obj, 0)
		if err != nil {
			return fmt.Errorf("verify: head source: %w", err)
		}
		src = headFacts(h)
	}
	h, err := r.o.dst.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket:              aws.String(to.Bucket),
		Key:                 aws.String(to.Prefix),
		ChecksumMode:        types.ChecksumModeEnabled,
		ExpectedBucketOwner: optional(r.o.dstAccount),
		RequestPayer:        r.o.object.payer(),
	})
	if err != nil {
		if isAccessDenied(err) {
			// A writer into another account's bucket is often not allowed
			// to read there; the object was still written and S3 checked
			// the bytes it received, so this is worth a warning, not a
			// failed object.
			r.notVerified(ctx, from, err)
			return nil
		}
		return fmt.Errorf("verify: head destination: %w", err)
	}
	written := headFacts(h)
	written.sameParts = dst.sameParts
	m, proven = compareFacts(src, written)
	switch {
	case m != nil:
		return r.mismatch(ctx, to, m)
	case !proven:
		r.notVerified(ctx, from, fmt.Errorf("%w: ETag %q at the source, %q at the destination; checksum %s at the source, %s at the destination",
			ErrNotComparable, src.etag, written.etag, src.checksum.describe(), written.checksum.describe()))
	}
	return nil
}

// notVerified records that the copy of from was kept unproven.
func (r *syncRun) notVerified(ctx context.Context, from Location, err error) {
	r.warnings.add(&ObjectWarning{Kind: WarningNotVerified, Bucket: from.Bucket, Key: from.Prefix, Err: err})
	r.o.logger.LogAttrs(ctx, slog.LevelWarn, "copy not verified", slog.String("bucket", from.Bucket), slog.String("key", from.Prefix), slog.Any("error", err))
}

// mismatch removes a copy that differs from its source and returns the
// *VerifyError that says so.
func (r *syncRun) mismatch(ctx context.Context, to Location, m *mismatch) error {
	verr := &VerifyError{Bucket: to.Bucket, Key: to.Prefix, Field: m.field, Source: m.src, Destination: m.dst}
	verr.Removed, verr.RemoveErr = r.removeBadCopy(ctx, to)
	r.o.logger.LogAttrs(ctx, slog.LevelError, "copy does not match its source", slog.String("bucket", to.Bucket), slog.String("key", to.Prefix), slog.Any("error", verr))
	return verr
}

// removeBadCopy deletes a copy that failed verification, so that neither
// a reader nor the next sync's comparison takes it for good.
func (r *syncRun) removeBadCopy(ctx context.Context, to Location) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	out, err := r.o.dst.DeleteObjects(ctx, &s3.DeleteObjectsInput{
		Bucket:              aws.String(to.Bucket),
		Delete:              &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String(to.Prefix)}}, Quiet: aws.Bool(true)},
		ExpectedBucketOwner: optional(r.o.dstAccount),
		RequestPayer:        r.o.object.payer(),
	})
	if err != nil {
		return false, err
	}
	for _, e := range out.Errors {
		return false, &deleteError{code: aws.ToString(e.Code), message: aws.ToString(e.Message)}
	}
	return true, nil
}

// DifferenceKind classifies a Difference.
type DifferenceKind int

const (
	// MissingOnDestination: the key exists only at the source.
	MissingOnDestination DifferenceKind = iota + 1
	// MissingOnSource: the key exists only at the destination.
	MissingOnSource
	// SizeDiffers: the two objects have different sizes.
	SizeDiffers
	// ContentDiffers: same size, but different ETags or checksums that
	// describe the bytes the same way.
	ContentDiffers
)

// String returns missing-on-destination, missing-on-source, size or
// content.
func (k DifferenceKind) String() string {
	switch k {
	case MissingOnDestination:
		return "missing-on-destination"
	case MissingOnSource:
		return "missing-on-source"
	case SizeDiffers:
		return "size"
	case ContentDiffers:
		return "content"
	}
	return "DifferenceKind(" + strconv.Itoa(int(k)) + ")"
}

// Difference is one key on which the two locations of a Verify disagree.
type Difference struct {
	// Key is relative to both locations' prefixes.
	Key  string         `json:"key"`
	Kind DifferenceKind `json:"kind"`
	// Detail names what differs and the two values, for SizeDiffers and
	// ContentDiffers.
	Detail string `json:"detail,omitempty"`
}

// MaxReportedDifferences is how many differences a VerifyReport keeps;
// its counters count them all.
const MaxReportedDifferences = 10000

// VerifyReport is the outcome of Verify. Counts are keys.
type VerifyReport struct {
	Source      Location `json:"source"`
	Destination Location `json:"destination"`
	// Matched keys have equal sizes and equal ETags or checksums.
	Matched int64 `json:"matched"`
	// SizeOnly keys have equal sizes, but their ETags cannot be compared
	// (different part layouts or encryption) and no checksum both sides
	// share tells them apart.
	SizeOnly int64 `json:"sizeOnly"`
	// Differ keys have different sizes or content.
	Differ int64 `json:"differ"`
	// MissingOnDestination and MissingOnSource count keys found on one
	// side only.
	MissingOnDestination int64 `json:"missingOnDestination"`
	MissingOnSource      int64 `json:"missingOnSource"`
	// Excluded counts keys the filters left out.
	Excluded int64 `json:"excluded"`
	// Differences lists the first MaxReportedDifferences differences
	// found, sorted by key.
	Differences []Difference  `json:"differences,omitempty"`
	Duration    time.Duration `json:"duration"`
}

// OK reports whether the destination holds every source object, with the
// same bytes as far as sizes, ETags and checksums tell, and nothing else.
func (r *VerifyReport) OK() bool {
	return r.Differ == 0 && r.MissingOnDestination == 0 && r.MissingOnSource == 0
}

// Verify compares two locations without copying, as rclone check does:
// keys missing on either side, and for keys on both, sizes and ETags from
// the listings. Where the ETags differ but cannot be compared (SSE-KMS,
// different part layouts), both objects are read with HeadObject and
// their full-object checksums compared. When both were uploaded in the
// same number of parts, their part sizes are read too (a HeadObject per
// part and side) and, if equal, their multipart ETags and composite
// checksums compared. With nothing in common the key counts as SizeOnly. Prefixes are taken as folders and
// WithFilters applies, as in Sync; keys at the destination that the
// source lacks are differences whether or not a sync would delete them.
//
// The report is returned even when err is not nil. err wraps ErrMismatch
// when the locations differ, and joins any listing or HeadObject errors.
func (c *Copier) Verify(ctx context.Context, src, dst Location, opts ...CopierOption) (*VerifyReport, error) {
	o, src, dst, err := c.call(opts, src, dst)
	if err != nil {
		return nil, err
	}
	v := &verifyRun{c: c, o: o, src: src, dst: dst, report: &VerifyReport{Source: src, Destination: dst}}
	start := time.Now()
	v.run(ctx)
	v.report.Duration = time.Since(start)
	slices.SortFunc(v.report.Differences, func(a, b Difference) int { return strings.Compare(a.Key, b.Key) })
	errs := v.errs
	if !v.report.OK() {
		errs = append(errs, fmt.Errorf("%w: %d differ, %d missing on the destination, %d missing on the source",
			ErrMismatch, v.report.Differ, v.report.MissingOnDestination, v.report.MissingOnSource))
	}
	return v.report, errors.Join(errs...)
}

type verifyRun struct {
	c        *Copier
	o        copierOptions
	src, dst Location

	mu     sync.Mutex // guards report and errs
	report *VerifyReport
	errs   []error
}

func (v *verifyRun) run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srcNext, srcStop := iter.Pull2(List(ctx, v.c.src, v.src, WithExpectedBucketOwner(v.o.srcAccount), WithListRequestPayer(v.o.object.requestPayer)))
	defer srcStop()
	dstNext, dstStop := iter.Pull2(List(ctx, v.o.dst, v.dst, WithExpectedBucketOwner(v.o.dstAccount), WithListRequestPayer(v.o.object.requestPayer)))
	defer dstStop()

	// Pairs whose listings cannot settle the question are read with
	// HeadObject on a bounded pool.
	type pair struct {
		rel  string
		s, d Object
	}
	heads := make(chan pair)
	var wg sync.WaitGroup
	for range v.o.concurrency {
		wg.Go(func() {
			for p := range heads {
				v.deepCompare(ctx, p.rel, p.s, p.d)
			}
		})
	}
	defer func() {
		close(heads)
		wg.Wait()
	}()

	filter := &syncRun{o: v.o}
	// A failed listing stops the walk: the keys after it are unknown,
	// not missing.
	broken := false
	pull := func(next func() (Object, error, bool), loc Location) (Object, bool) {
		obj, err, ok := next()
		if ok && err != nil {
			v.fail(&ObjectError{Op: "list", Bucket: loc.Bucket, Key: loc.Prefix, Err: err})
			broken = true
			return Object{}, false
		}
		return obj, ok
	}
	s, sOK := pull(srcNext, v.src)
	d, dOK := pull(dstNext, v.dst)
	for (sOK || dOK) && !broken && ctx.Err() == nil {
		var sRel, dRel string
		if sOK {
			sRel = s.Key[len(v.src.Prefix):]
		}
		if dOK {
			dRel = d.Key[len(v.dst.Prefix):]
		}
		switch {
		case sOK && (!dOK || sRel < dRel):
			if filter.included(sRel) {
				v.differ(Difference{Key: sRel, Kind: MissingOnDestination})
			} else {
				v.excluded()
			}
			s, sOK = pull(srcNext, v.src)
		case dOK && (!sOK || dRel < sRel):
			if filter.included(dRel) {
				v.differ(Difference{Key: dRel, Kind: MissingOnSource})
			} else {
				v.excluded()
			}
			d, dOK = pull(dstNext, v.dst)
		default:
			switch {
			case !filter.included(sRel):
				v.excluded()
			case s.Size != d.Size:
				v.differ(Difference{Key: sRel, Kind: SizeDiffers, Detail: fmt.Sprintf("size %d at the source, %d at the destination", s.Size, d.Size)})
			case s.ETag != "" && s.ETag == d.ETag:
				v.matched(true)
			default:
				select {
				case heads <- pair{sRel, s, d}:
				case <-ctx.Done():
				}
			}
			s, sOK = pull(srcNext, v.src)
			d, dOK = pull(dstNext, v.dst)
		}
	}
	if err := ctx.Err(); err != nil && !broken {
		v.fail(fmt.Errorf("verify interrupted: %w", err))
	}
}

// deepCompare settles a pair of equal sizes and different ETags with a
// HeadObject of each side. When both were uploaded in the same number of
// parts and their multipart ETags or composite checksums differ, those
// prove a difference only if the parts have the same sizes, so the part
// sizes of both are read too (a HeadObject per part and side).
func (v *verifyRun) deepCompare(ctx context.Context, rel string, s, d Object) {
	head := func(client HeadObjectAPI, loc Location, owner string, obj Object, part int32) (*s3.HeadObjectOutput, error) {
		in := &s3.HeadObjectInput{
			Bucket:              aws.String(loc.Bucket),
			Key:                 aws.String(obj.Key),
			IfMatch:             ifMatch(obj),
			ExpectedBucketOwner: optional(owner),
			RequestPayer:        v.o.object.payer(),
		}
		if part > 0 {
			in.PartNumber = aws.Int32(part)
		} else {
			in.ChecksumMode = types.ChecksumModeEnabled
		}
		h, err := client.HeadObject(ctx, in)
		if err != nil {
			return nil, &ObjectError{Op: "head", Bucket: loc.Bucket, Key: obj.Key, Err: err}
		}
		return h, nil
	}
	sh, err := head(v.c.src, v.src, v.o.srcAccount, s, 0)
	if err != nil {
		v.fail(err)
		return
	}
	dh, err := head(v.o.dst, v.dst, v.o.dstAccount, d, 0)
	if err != nil {
		v.fail(err)
		return
	}
	sf, df := headFacts(sh), headFacts(dh)
	m, proven := compareFacts(sf, df)
	if n := etagParts(sf.etag); !proven && n > 0 && n == etagParts(df.etag) {
		// The same part sizes on both sides make the two comparable.
		err := forEachPart(ctx, n, v.o.object.parts(), func(ctx context.Context, i int) error {
			a, err := head(v.c.src, v.src, v.o.srcAccount, s, int32(i+1))
			if err != nil {
				return err
			}
			b, err := head(v.o.dst, v.dst, v.o.dstAccount, d, int32(i+1))
			if err != nil {
				return err
			}
			if aws.ToInt64(a.ContentLength) != aws.ToInt64(b.ContentLength) {
				return errLayoutsDiffer
			}
			return nil
		})
		switch {
		case errors.Is(err, errLayoutsDiffer):
		case err != nil:
			v.fail(err)
			return
		default:
			sf.sameParts = true
			m, proven = compareFacts(sf, df)
		}
	}
	switch {
	case m != nil:
		kind := ContentDiffers
		if m.field == "size" {
			kind = SizeDiffers
		}
		v.differ(Difference{Key: rel, Kind: kind, Detail: fmt.Sprintf("%s %s at the source, %s at the destination", m.field, m.src, m.dst)})
	default:
		v.matched(proven)
	}
}

// errLayoutsDiffer stops the reading of part sizes at the first that
// differs.
var errLayoutsDiffer = errors.New("part sizes differ")

func (v *verifyRun) fail(err error) {
	v.mu.Lock()
	v.errs = append(v.errs, err)
	v.mu.Unlock()
}

func (v *verifyRun) excluded() {
	v.mu.Lock()
	v.report.Excluded++
	v.mu.Unlock()
}

func (v *verifyRun) matched(proven bool) {
	v.mu.Lock()
	if proven {
		v.report.Matched++
	} else {
		v.report.SizeOnly++
	}
	v.mu.Unlock()
}

func (v *verifyRun) differ(d Difference) {
	v.mu.Lock()
	defer v.mu.Unlock()
	switch d.Kind {
	case MissingOnDestination:
		v.report.MissingOnDestination++
	case MissingOnSource:
		v.report.MissingOnSource++
	default:
		v.report.Differ++
	}
	if len(v.report.Differences) < MaxReportedDifferences {
		v.report.Differences = append(v.report.Differences, d)
	}
}
