package xacct

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	fnmatch "github.com/xacct/xacct/internal/glob"
)

// Action is what a sync decided for one key.
type Action int

const (
	// ActionCopy copies the source object to the destination.
	ActionCopy Action = iota + 1
	// ActionSkip leaves an up-to-date destination object alone.
	ActionSkip
	// ActionDelete deletes a destination object with no source.
	ActionDelete
	// ActionExclude ignores a key a filter excluded.
	ActionExclude
)

// String returns copy, skip, delete or exclude.
func (a Action) String() string {
	switch a {
	case ActionCopy:
		return "copy"
	case ActionSkip:
		return "skip"
	case ActionDelete:
		return "delete"
	case ActionExclude:
		return "exclude"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// ObjectEvent tells a ProgressListener what happened to one object.
type ObjectEvent struct {
	Action Action
	// Source and Destination are the object's locations; Source is empty
	// for deletes.
	Source, Destination Location
	// Size is the object's size in bytes.
	Size int64
	// DryRun is true when the action was only planned.
	DryRun bool
	// Err is nil when the action succeeded.
	Err error
}

// ProgressListener is told about every object a sync decides on, after the
// action is done (or planned, in a dry run). It is called from several
// goroutines at once and must be quick and safe for concurrent use.
type ProgressListener interface {
	ObjectDone(ObjectEvent)
}

// ProgressFunc adapts a function to ProgressListener.
type ProgressFunc func(ObjectEvent)

// ObjectDone calls f(e).
func (f ProgressFunc) ObjectDone(e ObjectEvent) { f(e) }

// ObjectError is the failure of one operation on one object (or, for Op
// "list", on one listing).
type ObjectError struct {
	// Op is the operation: copy, delete or list.
	Op     string
	Bucket string
	Key    string
	Err    error
}

// Error formats the error as "op s3://bucket/key: cause".
func (e *ObjectError) Error() string {
	return fmt.Sprintf("%s s3://%s/%s: %v", e.Op, e.Bucket, e.Key, e.Err)
}

// Unwrap returns the underlying error, often a smithy.APIError.
func (e *ObjectError) Unwrap() error { return e.Err }

// SyncReport is the outcome of a Sync. Counts are objects; bytes are
// object sizes.
type SyncReport struct {
	Source      Location `json:"source"`
	Destination Location `json:"destination"`
	DryRun      bool     `json:"dryRun"`
	// Listed is the number of source objects listed.
	Listed int64 `json:"listed"`
	// Copied is the number of objects copied (planned, in a dry run).
	Copied      int64 `json:"copied"`
	CopiedBytes int64 `json:"copiedBytes"`
	// Skipped is the number of objects already up to date.
	Skipped int64 `json:"skipped"`
	// Excluded is the number of source and destination keys filters left out.
	Excluded int64 `json:"excluded"`
	// Deleted is the number of destination objects deleted (planned, in a
	// dry run).
	Deleted int64 `json:"deleted"`
	// Failed is the number of objects whose copy or delete failed.
	Failed   int64         `json:"failed"`
	Duration time.Duration `json:"duration"`
	// Mode is how objects were copied: ModeServerSide or ModeStream.
	Mode TransferMode `json:"mode"`
	// Writer is the side whose client wrote the copies: SideCopy when
	// the copy identity (WithCopyClient) copied server-side, otherwise
	// SideDestination; "" when the sync stopped before deciding.
	Writer Side `json:"writer"`
	// Warned is the number of objects copied without some property, such
	// as tags that could not be read; Warnings holds the first
	// MaxReportedWarnings of them.
	Warned   int64            `json:"warned"`
	Warnings []*ObjectWarning `json:"-"`
	// Preflight is the permission preflight's report, nil when
	// WithPreflight(false) turned it off.
	Preflight *PreflightReport `json:"-"`
	// Errors holds every failure: *ObjectError for objects and listings,
	// plus ErrDeleteCapExceeded or ErrDeleteSkipped when deletes were held
	// back.
	Errors []error `json:"-"`
}

// Err joins the report's errors, or returns nil when there were none.
func (r *SyncReport) Err() error { return errors.Join(r.Errors...) }

// BytesPerSecond is the copy throughput over the whole sync.
func (r *SyncReport) BytesPerSecond() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.CopiedBytes) / r.Duration.Seconds()
}

// Copier copies and syncs objects between S3 locations. It is safe for
// concurrent use; each call works on its own copy of the options.
type Copier struct {
	src  SourceAPI
	opts copierOptions
}

// NewCopier returns a Copier that lists and reads the source with src.
// Unless WithDestinationClient is given, src also lists and writes the
// destination, so it must then satisfy DestinationAPI (*s3.Client does).
func NewCopier(src SourceAPI, opts ...CopierOption) (*Copier, error) {
	if src == nil || isNilPointer(src) {
		return nil, &ValidationError{Field: "source client", Value: nilName(src), Rule: "must not be nil", Err: ErrInvalidOption}
	}
	c := &Copier{src: src, opts: defaultCopierOptions()}
	o, err := c.options(opts)
	if err != nil {
		return nil, err
	}
	c.opts = o
	return c, nil
}

// NewCopierFromConfig returns a Copier with one *s3.Client built from cfg
// for both sides; path-style addressing is used when cfg has a
// BaseEndpoint, as local S3-compatible servers need. An *sts.Client from
// cfg names the principal in preflight findings.
func NewCopierFromConfig(cfg aws.Config, opts ...CopierOption) (*Copier, error) {
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil })
	id := sts.NewFromConfig(cfg)
	return NewCopier(client, append([]CopierOption{WithIdentityClients(id, id)}, opts...)...)
}

// NewCopierFromConfigs returns a Copier that reads the source with
// credentials from srcCfg and writes the destination with credentials
// from dstCfg, such as a role in each account (see AssumeRoleConfig).
// With the default ModeAuto it copies server-side when the destination
// principal may read the source, and streams otherwise. WithCopyConfig
// adds a third identity that makes the server-side copies.
func NewCopierFromConfigs(srcCfg, dstCfg aws.Config, opts ...CopierOption) (*Copier, error) {
	newS3 := func(cfg aws.Config) *s3.Client {
		return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil })
	}
	base := []CopierOption{
		WithDestinationClient(newS3(dstCfg)),
		WithIdentityClients(sts.NewFromConfig(srcCfg), sts.NewFromConfig(dstCfg)),
	}
	return NewCopier(newS3(srcCfg), append(base, opts...)...)
}

func (c *Copier) options(opts []CopierOption) (copierOptions, error) {
	o := c.opts
	o.filters = append([]Filter(nil), o.filters...)
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return o, err
	}
	if o.dst == nil {
		dst, ok := c.src.(DestinationAPI)
		if !ok {
			return o, &ValidationError{Field: "destination client", Value: fmt.Sprintf("%T", c.src), Rule: "the source client cannot write; set WithDestinationClient", Err: ErrInvalidOption}
		}
		o.dst = dst
	}
	return o, nil
}

// call checks one call's options and locations, and turns both prefixes
// into folders, as Sync, Verify and Preflight all take them.
func (c *Copier) call(opts []CopierOption, src, dst Location) (copierOptions, Location, Location, error) {
	o, err := c.options(opts)
	if err != nil {
		return o, src, dst, err
	}
	if err := src.Validate(); err != nil {
		return o, src, dst, err
	}
	if err := dst.Validate(); err != nil {
		return o, src, dst, err
	}
	src.Prefix, dst.Prefix = dirPrefix(src.Prefix), dirPrefix(dst.Prefix)
	return o, src, dst, nil
}

// dirPrefix treats a non-empty prefix as a folder, as aws s3 sync does.
func dirPrefix(p string) string {
	if p == "" || strings.HasSuffix(p, "/") {
		return p
	}
	return p + "/"
}

// Sync makes dst hold what src holds: it lists both (a non-empty prefix is
// taken as a folder: s3://b/photos means photos/), merge-joins the listings
// in key order, and copies what is missing or different on a bounded pool
// of workers: server-side when the writing identity can read the source,
// otherwise streamed through this process (see TransferMode). With WithDelete, destination-only objects are
// deleted afterwards, and only if every copy succeeded and both listings
// completed. Memory does not grow with the number of objects.
//
// The permission preflight (see Preflight and WithPreflight) runs while
// both sides are listed: skips are counted and reported to the progress
// listener as the listings arrive, but nothing is copied, written or
// deleted before the preflight has passed. A failed preflight stops the
// listings, and the report then counts nothing and holds the
// preflight's error alone.
//
// The report is returned even when err is not nil; err joins the report's
// errors. Options given here apply to this call only.
func (c *Copier) Sync(ctx context.Context, src, dst Location, opts ...CopierOption) (*SyncReport, error) {
	o, src, dst, err := c.call(opts, src, dst)
	if err != nil {
		return nil, err
	}
	if src.Bucket == dst.Bucket && (strings.HasPrefix(src.Prefix, dst.Prefix) || strings.HasPrefix(dst.Prefix, src.Prefix)) {
		return nil, &ValidationError{Field: "destination", Value: dst.String(), Rule: "must not overlap the source " + src.String(), Err: ErrInvalidLocation}
	}
	r := &syncRun{c: c, o: o, src: src, dst: dst, report: &SyncReport{Source: src, Destination: dst, DryRun: o.dryRun}}
	start := time.Now()
	started := r.run(ctx)
	if err := ctx.Err(); err != nil {
		r.fail(fmt.Errorf("sync interrupted: %w", err))
	}
	r.report.Duration = time.Since(start)
	if started {
		// A sync stopped by its preflight counts nothing, though its
		// listings may have begun.
		r.report.Listed = r.listed.Load()
		r.report.Copied = r.copied.Load()
		r.report.CopiedBytes = r.copiedBytes.Load()
		r.report.Skipped = r.skipped.Load()
		r.report.Excluded = r.excluded.Load()
		r.report.Deleted = r.deleted.Load()
		r.report.Failed = r.failed.Load()
	}
	r.report.Warned, r.report.Warnings = r.warnings.result()
	o.logger.LogAttrs(ctx, slog.LevelInfo, "sync done",
		slog.String("source", src.String()), slog.String("destination", dst.String()),
		slog.Int64("copied", r.report.Copied), slog.Int64("skipped", r.report.Skipped),
		slog.Int64("deleted", r.report.Deleted), slog.Int64("failed", r.report.Failed),
		slog.Duration("duration", r.report.Duration))
	return r.report, r.report.Err()
}

// syncRun is the state of one Sync call.
type syncRun struct {
	c        *Copier
	o        copierOptions
	src, dst Location
	report   *SyncReport

	listed, copied, copiedBytes, skipped, excluded, deleted, failed atomic.Int64

	mu sync.Mutex // guards report.Errors, held, prepared and prepFailed
	// held keeps the listings' errors while the preflight runs (see
	// failListing).
	held                 []error
	prepared, prepFailed bool
	stop                 context.CancelFunc

	// mode, writer, cp, acl and bufs are set by prepare before any
	// transfer.
	mode TransferMode
	// writer is the side whose client writes the copies, and cp that
	// client: the copy client when writer is SideCopy, otherwise the
	// destination client.
	writer Side
	cp     CopyAPI
	acl    types.ObjectCannedACL
	bufs   *bufferPool // streamed transfers only

	warnings warningList
}

type copyTask struct {
	rel string
	obj Object
}

func (r *syncRun) fail(err error) {
	r.mu.Lock()
	r.report.Errors = append(r.report.Errors, err)
	r.mu.Unlock()
}

// failListing records a listing's failure. While the preflight runs, the
// error is held, to follow the preflight's own errors once it has passed;
// after a failed preflight (whose cancellation ends the listings) it is
// dropped, as the sync never started.
func (r *syncRun) failListing(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case !r.prepared:
		r.held = append(r.held, err)
	case !r.prepFailed:
		r.report.Errors = append(r.report.Errors, err)
	}
}

// preparedWith records the outcome of prepare: a failure becomes the
// report's error and the held listing errors are dropped; otherwise they
// follow whatever prepare itself reported.
func (r *syncRun) preparedWith(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prepared, r.prepFailed = true, err != nil
	if err != nil {
		r.report.Errors = append(r.report.Errors, err)
	} else {
		r.report.Errors = append(r.report.Errors, r.held...)
	}
	r.held = nil
}

// safePrepare runs prepare and turns a panic in it into its error: it
// runs in its own goroutine, where a panic would end the process before
// the caller of Sync could recover it.
func (r *syncRun) safePrepare(ctx context.Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("sync preparation panicked: %v", v)
		}
	}()
	return r.prepare(ctx)
}

// run prepares the sync (see prepare) while it lists both sides: the
// merge-join compares and counts as it lists, but copies wait in a
// bounded queue, which holds the merge back, until the preflight has
// passed and decided the transfer mode and the ACL; nothing is written,
// copied or deleted before. A failed preflight cancels the listings. run
// reports whether the preflight passed.
func (r *syncRun) run(ctx context.Context) bool {
	workCtx, stop := context.WithCancel(ctx)
	defer stop()
	r.stop = stop

	ready := make(chan struct{})
	var prepErr error
	go func() {
		defer close(ready)
		prepErr = r.safePrepare(ctx)
		r.preparedWith(prepErr)
		if prepErr != nil {
			stop()
		}
	}()

	tasks := make(chan copyTask, 2*r.o.concurrency)
	var workers sync.WaitGroup
	for range r.o.concurrency {
		workers.Go(func() {
			<-ready
			if prepErr != nil {
				return
			}
			for t := range tasks {
				r.copy(workCtx, t)
			}
		})
	}
	dels := &deleteSet{limit: deleteBufferLimit}
	complete := r.merge(workCtx, func(t copyTask) bool {
		select {
		case tasks <- t:
			return true
		case <-workCtx.Done():
			return false
		}
	}, dels.add, true)
	close(tasks)
	workers.Wait()
	<-ready
	if prepErr != nil {
		return false
	}

	if !r.o.delete || dels.count == 0 {
		return true
	}
	switch {
	case !complete || r.failed.Load() > 0 || ctx.Err() != nil:
		r.fail(fmt.Errorf("%w: %d destination objects kept because the sync did not complete cleanly", ErrDeleteSkipped, dels.count))
	case r.o.maxDelete != NoDeleteCap && dels.count > int64(r.o.maxDelete):
		r.fail(fmt.Errorf("%w: %d objects would be deleted, the cap is %d", ErrDeleteCapExceeded, dels.count, r.o.maxDelete))
	case dels.overflow:
		// Too many to have kept in memory: list again and delete as the
		// second merge finds them; copies are done, so the plan is the
		// same unless someone changed the buckets meanwhile.
		r.deleteStreaming(ctx, dels.count)
	default:
		r.deleteBatch(ctx, dels.items)
	}
	return true
}

// deleteBufferLimit is how many delete candidates a sync keeps in memory
// before it falls back to a second listing pass.
var deleteBufferLimit = 10000

type deleteItem struct {
	key  string
	size int64
}

type deleteSet struct {
	limit    int
	count    int64
	items    []deleteItem
	overflow bool
}

func (d *deleteSet) add(key string, size int64) {
	d.count++
	if d.overflow {
		return
	}
	if len(d.items) >= d.limit {
		d.overflow, d.items = true, nil
		return
	}
	d.items = append(d.items, deleteItem{key, size})
}

// merge walks both listings in key order, decides per key, sends copies to
// copyFn and destination-only keys to delFn. With tally it also counts
// listed, skipped and excluded keys and reports skips to the progress
// listener; a second pass over the same keys passes false, so that
// nothing is counted or reported twice. It reports whether both listings
// completed.
func (r *syncRun) merge(ctx context.Context, copyFn func(copyTask) bool, delFn func(key string, size int64), tally bool) bool {
	listCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	srcNext, srcStop := iter.Pull2(List(listCtx, r.c.src, r.src, WithExpectedBucketOwner(r.o.srcAccount), WithListRequestPayer(r.o.object.requestPayer)))
	defer srcStop()
	dstNext, dstStop := iter.Pull2(List(listCtx, r.o.dst, r.dst, WithExpectedBucketOwner(r.o.dstAccount), WithListRequestPayer(r.o.object.requestPayer)))
	defer dstStop()

	next := func(pull func() (Object, error, bool), loc Location) (Object, bool, bool) {
		obj, err, ok := pull()
		if !ok {
			return Object{}, false, true
		}
		if err != nil {
			r.failListing(&ObjectError{Op: "list", Bucket: loc.Bucket, Key: loc.Prefix, Err: err})
			return Object{}, false, false
		}
		return obj, true, true
	}
	count := func(n *atomic.Int64) {
		if tally {
			n.Add(1)
		}
	}
	s, sOK, sFine := next(srcNext, r.src)
	d, dOK, dFine := next(dstNext, r.dst)
	for sFine && dFine && (sOK || dOK) {
		if ctx.Err() != nil {
			return false
		}
		var sRel, dRel string
		if sOK {
			sRel = s.Key[len(r.src.Prefix):]
		}
		if dOK {
			dRel = d.Key[len(r.dst.Prefix):]
		}
		switch {
		case sOK && (!dOK || sRel < dRel):
			count(&r.listed)
			if !r.included(sRel) {
				count(&r.excluded)
			} else if !copyFn(copyTask{rel: sRel, obj: s}) {
				return false
			}
			s, sOK, sFine = next(srcNext, r.src)
		case dOK && (!sOK || dRel < sRel):
			if !r.included(dRel) {
				count(&r.excluded)
			} else if r.o.delete {
				delFn(d.Key, d.Size)
			}
			d, dOK, dFine = next(dstNext, r.dst)
		default:
			count(&r.listed)
			switch {
			case !r.included(sRel):
				count(&r.excluded)
			case r.differ(s, d):
				if !copyFn(copyTask{rel: sRel, obj: s}) {
					return false
				}
			case tally:
				r.skipped.Add(1)
				r.event(ObjectEvent{Action: ActionSkip, Source: r.src.child(sRel), Destination: r.dst.child(sRel), Size: s.Size, DryRun: r.o.dryRun})
			}
			s, sOK, sFine = next(srcNext, r.src)
			d, dOK, dFine = next(dstNext, r.dst)
		}
	}
	return sFine && dFine && ctx.Err() == nil
}

func (l Location) child(rel string) Location {
	return Location{Bucket: l.Bucket, Prefix: l.Prefix + rel}
}

func (r *syncRun) included(rel string) bool {
	in := true
	for _, f := range r.o.filters {
		if fnmatch.Match(f.Pattern, rel) {
			in = f.Include
		}
	}
	return in
}

func (r *syncRun) differ(s, d Object) bool {
	if s.Size != d.Size {
		return true
	}
	switch r.o.compare {
	case CompareSizeOnly:
		return false
	case CompareETag:
		return s.ETag != d.ETag
	default:
		return s.LastModified.After(d.LastModified)
	}
}

func (r *syncRun) event(e ObjectEvent) {
	if r.o.progress != nil {
		r.o.progress.ObjectDone(e)
	}
}

func (r *syncRun) copy(ctx context.Context, t copyTask) {
	from, to := r.src.child(t.rel), r.dst.child(t.rel)
	ev := ObjectEvent{Action: ActionCopy, Source: from, Destination: to, Size: t.obj.Size, DryRun: r.o.dryRun}
	if !r.o.dryRun {
		if err := r.transfer(ctx, t); err != nil {
			ev.Err = &ObjectError{Op: "copy", Bucket: from.Bucket, Key: from.Prefix, Err: err}
		}
	}
	if ev.Err != nil {
		r.failed.Add(1)
		r.fail(ev.Err)
		r.o.logger.LogAttrs(ctx, slog.LevelWarn, "copy failed", slog.String("bucket", from.Bucket), slog.String("key", from.Prefix), slog.Any("error", ev.Err))
		if r.o.stopOnError {
			r.stop()
		}
	} else {
		r.copied.Add(1)
		r.copiedBytes.Add(t.obj.Size)
		r.o.logger.LogAttrs(ctx, slog.LevelDebug, "copied", slog.String("bucket", to.Bucket), slog.String("key", to.Prefix), slog.Int64("size", t.obj.Size))
	}
	r.event(ev)
}

// transfer moves one object's bytes to the destination, the one place
// that chooses how: server-side CopyObject, or a stream from the source
// client into the destination client (see TransferMode).
func (r *syncRun) transfer(ctx context.Context, t copyTask) error {
	from, to := r.src.child(t.rel), r.dst.child(t.rel)
	if r.mode == ModeStream {
		return r.stream(ctx, from, to, t.obj)
	}
	return r.copyServerSide(ctx, from, to, t.obj)
}

// copyServerSide copies with one CopyObject, or in parts (see
// copyInParts), run as r.cp's principal. A source
// uploaded in parts that UploadPartCopy cannot repeat, below the
// multipart copy threshold, falls back to one CopyObject.
func (r *syncRun) copyServerSide(ctx context.Context, from, to Location, obj Object) error {
	if r.copyInParts(obj) {
		err := r.copyMultipart(ctx, from, to, obj)
		if !errors.Is(err, errLayoutNotCopyable) {
			return err
		}
		r.o.logger.LogAttrs(ctx, slog.LevelDebug, "copying whole", slog.String("bucket", from.Bucket), slog.String("key", from.Prefix), slog.Any("reason", err))
	}
	in := &s3.CopyObjectInput{
		Bucket:                    aws.String(to.Bucket),
		Key:                       aws.String(to.Prefix),
		CopySource:                aws.String(copySource(from.Bucket, from.Prefix)),
		ACL:                       r.acl,
		ExpectedBucketOwner:       optional(r.o.dstAccount),
		ExpectedSourceBucketOwner: optional(r.o.srcAccount),
	}
	if obj.ETag != "" {
		// The object must still be the one the plan was made for.
		in.CopySourceIfMatch = aws.String(`"` + obj.ETag + `"`)
	}
	return r.copyObject(ctx, from, to, obj, in)
}

// copySource encodes bucket/key for x-amz-copy-source: every byte but
// unreserved characters and '/' is percent-encoded, so '+', '%', '?' and
// spaces in keys survive any server's decoding.
func copySource(bucket, key string) string {
	const hex = "0123456789ABCDEF"
	s := bucket + "/" + key
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// maxDeleteBatch is the most keys one DeleteObjects call takes.
const maxDeleteBatch = 1000

func (r *syncRun) deleteBatch(ctx context.Context, items []deleteItem) {
	for len(items) > 0 {
		n := min(len(items), maxDeleteBatch)
		r.deleteObjects(ctx, items[:n])
		items = items[n:]
	}
}

// deleteStreaming repeats the merge without copying, counting or
// reporting (the first pass did all three) and deletes destination-only
// keys in batches as it finds them, never more than planned (the cap was
// checked against planned).
func (r *syncRun) deleteStreaming(ctx context.Context, planned int64) {
	batch := make([]deleteItem, 0, maxDeleteBatch)
	var seen int64
	complete := r.merge(ctx, func(copyTask) bool { return true }, func(key string, size int64) {
		seen++
		if seen > planned {
			return
		}
		batch = append(batch, deleteItem{key, size})
		if len(batch) == maxDeleteBatch {
			r.deleteObjects(ctx, batch)
			batch = batch[:0]
		}
	}, false)
	if seen > planned {
		r.fail(fmt.Errorf("%w: the destination changed during the sync; %d more objects were not deleted", ErrDeleteCapExceeded, seen-planned))
	}
	if complete {
		r.deleteObjects(ctx, batch)
	}
}

func (r *syncRun) deleteObjects(ctx context.Context, items []deleteItem) {
	if len(items) == 0 {
		return
	}
	if r.o.dryRun {
		for _, it := range items {
			r.deleted.Add(1)
			r.event(ObjectEvent{Action: ActionDelete, Destination: Location{Bucket: r.dst.Bucket, Prefix: it.key}, Size: it.size, DryRun: true})
		}
		return
	}
	ids := make([]types.ObjectIdentifier, len(items))
	for i, it := range items {
		ids[i] = types.ObjectIdentifier{Key: aws.String(it.key)}
	}
	out, err := r.o.dst.DeleteObjects(ctx, &s3.DeleteObjectsInput{
		Bucket:              aws.String(r.dst.Bucket),
		Delete:              &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		ExpectedBucketOwner: optional(r.o.dstAccount),
		RequestPayer:        r.o.object.payer(),
	})
	failed := make(map[string]error)
	if err != nil {
		for _, it := range items {
			failed[it.key] = err
		}
	} else {
		for _, e := range out.Errors {
			failed[aws.ToString(e.Key)] = &deleteError{code: aws.ToString(e.Code), message: aws.ToString(e.Message)}
		}
	}
	for _, it := range items {
		ev := ObjectEvent{Action: ActionDelete, Destination: Location{Bucket: r.dst.Bucket, Prefix: it.key}, Size: it.size}
		if ferr, ok := failed[it.key]; ok {
			ev.Err = &ObjectError{Op: "delete", Bucket: r.dst.Bucket, Key: it.key, Err: ferr}
			r.failed.Add(1)
			r.fail(ev.Err)
		} else {
			r.deleted.Add(1)
		}
		r.event(ev)
	}
}

// deleteError is one key's failure inside a DeleteObjects response. It
// satisfies smithy.APIError so callers classify it like any AWS fault.
type deleteError struct{ code, message string }

func (e *deleteError) Error() string                 { return e.code + ": " + e.message }
func (e *deleteError) ErrorCode() string             { return e.code }
func (e *deleteError) ErrorMessage() string          { return e.message }
func (e *deleteError) ErrorFault() smithy.ErrorFault { return smithy.FaultUnknown }

var _ smithy.APIError = (*deleteError)(nil)
