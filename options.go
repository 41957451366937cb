package xacct

import (
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Defaults for Copier options.
const (
	// DefaultConcurrency is how many objects a Copier transfers at once.
	DefaultConcurrency = 32
	// MaxConcurrency bounds WithConcurrency.
	MaxConcurrency = 1024
	// NoDeleteCap, given to WithMaxDelete, lets a sync delete any number
	// of destination objects. It is the default.
	NoDeleteCap = -1

	// DefaultPartSize is the part size of multipart uploads and copies,
	// in bytes (8 MiB), as aws-cli's multipart_chunksize.
	DefaultPartSize = 8 << 20
	// MinPartSize is the smallest part S3 accepts but for the last one,
	// in bytes (5 MiB).
	MinPartSize = 5 << 20
	// MaxPartSize is the largest part S3 accepts, in bytes (5 GiB).
	MaxPartSize = 5 << 30
	// MaxParts is the most parts one multipart upload may have.
	MaxParts = 10000
	// DefaultMultipartThreshold is the size from which streamed objects
	// are written with a multipart upload, in bytes (8 MiB), as aws-cli's
	// multipart_threshold.
	DefaultMultipartThreshold = 8 << 20
	// DefaultMultipartCopyThreshold is the size from which server-side
	// copies of objects written in one request use UploadPartCopy:
	// MaxCopyObjectSize (5 GiB), the largest object one CopyObject can
	// copy. Objects uploaded in parts are copied in parts at any size.
	DefaultMultipartCopyThreshold = MaxCopyObjectSize
	// MaxPutObjectSize is the largest object one PutObject writes, in
	// bytes (5 GiB).
	MaxPutObjectSize = 5 << 30
	// DefaultStreamUploadCutoff is the size from which streamed objects
	// are written with a multipart upload rather than one unbuffered
	// PutObject, in bytes (200 MiB), as rclone's upload_cutoff. See
	// WithStreamUploadCutoff.
	DefaultStreamUploadCutoff = 200 << 20
)

// TransferMode is how a Copier moves an object's bytes.
type TransferMode int

const (
	// ModeAuto copies server-side when the copy client (WithCopyClient)
	// or else the destination client can read the source, and streams
	// otherwise. The choice is made once per sync by reading one source
	// object's metadata through that client (HeadObject, which changes
	// nothing).
	ModeAuto TransferMode = iota
	// ModeServerSide copies with CopyObject: bytes never leave S3, and
	// the principal of the copy client, or of the destination client when
	// there is none, must be able to read the source.
	ModeServerSide
	// ModeStream reads with the source client (ranged GetObject) and
	// writes with the destination client (PutObject, or a multipart
	// upload from the stream upload cutoff), so each side needs only its
	// own permissions. Bytes pass through this process.
	ModeStream
)

// String returns auto, server-side or stream.
func (m TransferMode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModeServerSide:
		return "server-side"
	case ModeStream:
		return "stream"
	}
	return "TransferMode(" + strconv.Itoa(int(m)) + ")"
}

// CompareStrategy decides whether an object present on both sides is
// copied again.
type CompareStrategy int

const (
	// CompareSizeAndTime copies when the sizes differ or the source was
	// modified after the destination, as aws s3 sync does by default.
	CompareSizeAndTime CompareStrategy = iota
	// CompareSizeOnly copies when the sizes differ, as aws s3 sync
	// --size-only does.
	CompareSizeOnly
	// CompareETag copies when the sizes or ETags differ. ETags are equal
	// for objects with the same bytes uploaded the same way (single part,
	// or the same part sizes), which server-side copies preserve under
	// every strategy: an object uploaded in parts is copied with the same
	// parts, one written whole is copied whole below MaxCopyObjectSize.
	CompareETag
)

// String returns the strategy's name: size-and-time, size-only or etag.
func (s CompareStrategy) String() string {
	switch s {
	case CompareSizeAndTime:
		return "size-and-time"
	case CompareSizeOnly:
		return "size-only"
	case CompareETag:
		return "etag"
	}
	return "CompareStrategy(" + strconv.Itoa(int(s)) + ")"
}

// Filter is one --include or --exclude rule. See WithFilters.
type Filter struct {
	// Pattern is matched against the key relative to the location's
	// prefix: '*' matches any characters including '/', '?' one
	// character, [seq] and [!seq] one character in or not in seq.
	Pattern string
	// Include is true for an include rule, false for an exclude rule.
	Include bool
}

// Include returns an include rule for pattern.
func Include(pattern string) Filter { return Filter{Pattern: pattern, Include: true} }

// Exclude returns an exclude rule for pattern.
func Exclude(pattern string) Filter { return Filter{Pattern: pattern} }

// String returns the rule as a command-line flag would give it.
func (f Filter) String() string {
	if f.Include {
		return "--include " + strconv.Quote(f.Pattern)
	}
	return "--exclude " + strconv.Quote(f.Pattern)
}

// CopierOption configures a Copier, at construction or for one call.
type CopierOption func(*copierOptions)

type copierOptions struct {
	dst         DestinationAPI
	dstSet      bool
	concurrency int
	compare     CompareStrategy
	filters     []Filter
	delete      bool
	maxDelete   int
	dryRun      bool
	stopOnError bool
	logger      *slog.Logger
	progress    ProgressListener

	mode      TransferMode
	partSize  int64
	threshold int64
	// streamCutoff is where streamed objects switch from one unbuffered
	// PutObject to a multipart upload; see uploadCutoff.
	streamCutoff    int64
	streamCutoffSet bool
	// copyThreshold is where server-side copies switch to UploadPartCopy.
	copyThreshold int64
	srcAccount    string
	dstAccount    string
	preflight     bool
	acl           types.ObjectCannedACL
	srcSTS        GetCallerIdentityAPI
	dstSTS        GetCallerIdentityAPI
	// copy is the third identity of WithCopyClient: it makes server-side
	// copies when it can read the source.
	copy    CopyAPI
	copySet bool
	copySTS GetCallerIdentityAPI

	// object holds the per-object write and check options
	// (copier_props.go).
	object objectOptions
}

func defaultCopierOptions() copierOptions {
	return copierOptions{
		concurrency: DefaultConcurrency,
		maxDelete:   NoDeleteCap,
		logger:      slog.New(slog.DiscardHandler),
		partSize:    DefaultPartSize,
		threshold:   DefaultMultipartThreshold,
		preflight:   true,

		copyThreshold: DefaultMultipartCopyThreshold,
		object:        objectOptions{partConcurrency: DefaultPartConcurrency},
	}
}

// WithDestinationClient sets the client that lists and writes the
// destination. By default the source client does both. Server-side copies
// run as this client's principal, which must then be able to read the
// source, unless a copy client (WithCopyClient) makes them.
func WithDestinationClient(c DestinationAPI) CopierOption {
	return func(o *copierOptions) { o.dst, o.dstSet = c, true }
}

// CopyAPI is what the client of a copy identity (WithCopyClient) calls:
// HeadObject and GetObjectTagging on the source, CopyObject and the
// multipart copy calls on the destination. *s3.Client satisfies it.
type CopyAPI interface {
	HeadObjectAPI
	GetObjectTaggingAPI
	CopyObjectAPI
	UploadPartCopyAPI
	CreateMultipartUploadAPI
	CompleteMultipartUploadAPI
	AbortMultipartUploadAPI
}

var _ CopyAPI = (*s3.Client)(nil)

// WithCopyClient sets a third identity for server-side copies, for when
// neither the source nor the destination identity may both read the
// source and write the destination: its principal needs s3:GetObject
// (and s3:GetObjectTagging) on the source and the destination write
// permissions (CopyRolePolicy without the listing). Under ModeAuto, when
// it can read the source, every CopyObject, UploadPartCopy and multipart
// upload of the sync is its request; otherwise the sync goes on as
// without it. Under ModeServerSide it makes the copies in any case, and
// under ModeStream it is not used. Listings, deletes and reads of the
// destination stay with the destination client. id, when not nil,
// carries the same credentials, so Preflight names the principal in its
// findings (side SideCopy). Default none.
func WithCopyClient(c CopyAPI, id GetCallerIdentityAPI) CopierOption {
	return func(o *copierOptions) { o.copy, o.copySet, o.copySTS = c, true, id }
}

// WithCopyConfig is WithCopyClient with an *s3.Client and an *sts.Client
// built from cfg, such as a role assumed with AssumeRoleConfig;
// path-style addressing is used when cfg has a BaseEndpoint, as for
// NewCopierFromConfigs.
func WithCopyConfig(cfg aws.Config) CopierOption {
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil })
	return WithCopyClient(client, sts.NewFromConfig(cfg))
}

// WithConcurrency sets how many objects are copied at once, 1 to
// MaxConcurrency. Default DefaultConcurrency.
func WithConcurrency(n int) CopierOption {
	return func(o *copierOptions) { o.concurrency = n }
}

// WithCompare sets how objects present on both sides are compared.
// Default CompareSizeAndTime.
func WithCompare(s CompareStrategy) CopierOption {
	return func(o *copierOptions) { o.compare = s }
}

// WithFilters appends include and exclude rules with aws-cli semantics:
// every key starts included, the rules are applied in order to the key
// relative to the location's prefix, and the last rule that matches
// decides. Excluded keys are neither copied nor deleted. Default none.
func WithFilters(rules ...Filter) CopierOption {
	return func(o *copierOptions) { o.filters = append(o.filters, rules...) }
}

// WithDelete makes Sync delete destination objects that have no source
// counterpart, after every copy succeeded and both listings completed.
// Default off.
func WithDelete(on bool) CopierOption {
	return func(o *copierOptions) { o.delete = on }
}

// WithMaxDelete caps the deletes of one Sync: when more objects would be
// deleted, none is, and Sync returns ErrDeleteCapExceeded. 0 forbids any
// delete; NoDeleteCap (the default) removes the cap.
func WithMaxDelete(n int) CopierOption {
	return func(o *copierOptions) { o.maxDelete = n }
}

// WithDryRun makes Sync decide and report without changing anything.
// Default off.
func WithDryRun(on bool) CopierOption {
	return func(o *copierOptions) { o.dryRun = on }
}

// WithStopOnError makes the first failed object cancel the rest of a Sync.
// Default off: every object is tried and each failure reported.
func WithStopOnError(on bool) CopierOption {
	return func(o *copierOptions) { o.stopOnError = on }
}

// WithLogger sets the logger for per-object debug lines and warnings.
// Default: discard.
func WithLogger(l *slog.Logger) CopierOption {
	return func(o *copierOptions) { o.logger = l }
}

// WithProgress sets a listener told about every object decided or
// transferred. Default none.
func WithProgress(l ProgressListener) CopierOption {
	return func(o *copierOptions) { o.progress = l }
}

// WithTransferMode sets how objects are copied. Default ModeAuto.
func WithTransferMode(m TransferMode) CopierOption {
	return func(o *copierOptions) { o.mode = m }
}

// WithPartSize sets the part size of streamed multipart uploads, in
// bytes, from MinPartSize to MaxPartSize. It grows for an object that
// would otherwise need more than MaxParts parts. Streaming holds at most
// one part buffer per unit of concurrency, so memory stays within
// concurrency × max(part size, multipart threshold) whatever the object
// sizes. Server-side multipart copies use it too, unless the source was
// itself uploaded in parts: its parts are then repeated, so the copy
// keeps its ETag. Default DefaultPartSize.
func WithPartSize(n int64) CopierOption {
	return func(o *copierOptions) { o.partSize = n }
}

// WithMultipartThreshold sets the size, in bytes, from which a streamed
// object is no longer read into a buffer and written with one PutObject
// (it is then written unbuffered below the stream upload cutoff, see
// WithStreamUploadCutoff, and with a multipart upload from it on), and a
// server-side copy uses UploadPartCopy instead of one CopyObject (objects
// uploaded in parts are streamed and copied in parts at any size; see
// WithMultipartCopyThreshold), from 1
// to MaxPutObjectSize: aws-cli's multipart_threshold. Empty objects always
// take one request. Default DefaultMultipartThreshold for streaming and
// DefaultMultipartCopyThreshold for server-side copies; see
// WithMultipartCopyThreshold to set the latter alone.
func WithMultipartThreshold(n int64) CopierOption {
	return func(o *copierOptions) { o.threshold, o.copyThreshold = n, n }
}

// WithStreamUploadCutoff sets the size, in bytes, from which a streamed
// object is written with a multipart upload, from the multipart threshold
// to MaxPutObjectSize: rclone's upload_cutoff. Streamed objects below the
// multipart threshold are read into a buffer and written with one
// PutObject; objects from the threshold up to the cutoff are written with
// one PutObject whose body is the source's GetObject body, passed through
// without buffering, so they cost one copy buffer of memory instead of
// their size and one request instead of a multipart upload. Such a body
// cannot be rewound, so a write that fails with a retryable error (5xx,
// SlowDown, a dropped connection) is retried once from a new GetObject.
// Objects from the cutoff on take a multipart upload. Over plain HTTP
// such a PutObject goes with an unsigned payload: the source's
// whole-object checksum, when it has one, goes as a header for S3 to
// check; otherwise the MD5 of the bytes sent is compared with the ETag
// (a difference fails the object), and when SSE-KMS or DSSE-KMS is
// requested (the ETag is then no MD5) the object takes a multipart
// upload instead, whose parts carry a CRC32. Setting it to the
// multipart threshold turns unbuffered writes off. Default
// DefaultStreamUploadCutoff (200 MiB), or the multipart threshold when that
// is larger.
func WithStreamUploadCutoff(n int64) CopierOption {
	return func(o *copierOptions) { o.streamCutoff, o.streamCutoffSet = n, true }
}

// uploadCutoff returns the size from which streamed objects take a
// multipart upload. Unset, it is never below the multipart threshold, so
// raising the threshold alone keeps working.
func (o *copierOptions) uploadCutoff() int64 {
	if !o.streamCutoffSet {
		return max(DefaultStreamUploadCutoff, o.threshold)
	}
	return o.streamCutoff
}

// WithMultipartCopyThreshold sets only the server-side threshold, in
// bytes, from 1 to MaxCopyObjectSize: objects written in one request are
// copied from it on with UploadPartCopy in parallel parts, smaller ones
// with one CopyObject. Objects above MaxCopyObjectSize are always copied
// in parts. Objects uploaded in parts are copied in parts at any size,
// with their own part sizes, so that the copy keeps the source's ETag and
// later syncs and Verify compare the two from listings alone; this costs
// a HeadObject and an UploadPartCopy per part instead of one CopyObject
// for small ones (only where the source's parts cannot be repeated, such
// as parts under MinPartSize, does the threshold decide for them too).
// Under CompareETag objects written in one request are copied whole at
// any size up to MaxCopyObjectSize, for the same reason. Default
// DefaultMultipartCopyThreshold (5 GiB): one CopyObject moves no bytes
// through the client and is the cheapest request for anything S3 allows
// it for, as rclone's copy cutoff also judges.
func WithMultipartCopyThreshold(n int64) CopierOption {
	return func(o *copierOptions) { o.copyThreshold = n }
}

// WithSourceAccount declares the 12-digit account that owns the source
// bucket. Every source request then carries it as ExpectedBucketOwner
// (ExpectedSourceBucketOwner for server-side copies), so S3 refuses the
// request if the bucket changed hands. Default: not checked.
func WithSourceAccount(id string) CopierOption {
	return func(o *copierOptions) { o.srcAccount = id }
}

// WithDestinationAccount declares the 12-digit account that owns the
// destination bucket; every destination request carries it as
// ExpectedBucketOwner. Default: not checked.
func WithDestinationAccount(id string) CopierOption {
	return func(o *copierOptions) { o.dstAccount = id }
}

// WithPreflight turns the permission preflight of Sync on or off. When
// on, Sync runs Copier.Preflight while it lists both sides, copies nothing
// until the preflight has passed, and stops before moving any byte if a
// permission is missing. Default on.
func WithPreflight(on bool) CopierOption {
	return func(o *copierOptions) { o.preflight = on }
}

// WithObjectACL sets the canned ACL written with every copied object.
// Default "": bucket-owner-full-control when the destination bucket has
// ACLs enabled (object ownership ObjectWriter or BucketOwnerPreferred, or
// no ownership controls, or a setting that cannot be read), so objects
// written from another account belong to the bucket owner; no ACL when
// the bucket enforces bucket-owner ownership. Buckets that enforce
// ownership refuse any other ACL.
func WithObjectACL(acl types.ObjectCannedACL) CopierOption {
	return func(o *copierOptions) { o.acl = acl }
}

// WithIdentityClients sets STS clients carrying the source and destination
// clients' credentials, so Preflight can name the principal on each side
// in its findings and in the policy statements it proposes; nil leaves a
// side unnamed. NewCopierFromConfig and NewCopierFromConfigs set them.
// Default none.
func WithIdentityClients(src, dst GetCallerIdentityAPI) CopierOption {
	return func(o *copierOptions) { o.srcSTS, o.dstSTS = src, dst }
}

func (o *copierOptions) validate() error {
	bad := func(field string, value any, rule string) error {
		return &ValidationError{Field: field, Value: fmt.Sprint(value), Rule: rule, Err: ErrInvalidOption}
	}
	if o.dstSet && (o.dst == nil || isNilPointer(o.dst)) {
		return bad("destination client", nilName(o.dst), "must not be nil")
	}
	if o.copySet && (o.copy == nil || isNilPointer(o.copy)) {
		return bad("copy client", nilName(o.copy), "must not be nil")
	}
	// An STS client may be left out (untyped nil), but a nil pointer in
	// the interface would pass a nil check and panic on its first call.
	for _, c := range []struct {
		field string
		id    GetCallerIdentityAPI
	}{{"copy identity client", o.copySTS}, {"source identity client", o.srcSTS}, {"destination identity client", o.dstSTS}} {
		if isNilPointer(c.id) {
			return bad(c.field, nilName(c.id), "must be a client or nil, not a nil pointer")
		}
	}
	if o.concurrency < 1 || o.concurrency > MaxConcurrency {
		return bad("concurrency", o.concurrency, fmt.Sprintf("must be between 1 and %d", MaxConcurrency))
	}
	if o.compare < CompareSizeAndTime || o.compare > CompareETag {
		return bad("compare", o.compare, "must be CompareSizeAndTime, CompareSizeOnly or CompareETag")
	}
	if o.maxDelete < NoDeleteCap {
		return bad("max delete", o.maxDelete, "must be 0 or more, or NoDeleteCap")
	}
	for i, f := range o.filters {
		if f.Pattern == "" {
			return bad(fmt.Sprintf("filter %d", i+1), f.Pattern, "pattern must not be empty")
		}
	}
	if o.logger == nil {
		return bad("logger", "nil", "must not be nil")
	}
	if o.mode < ModeAuto || o.mode > ModeStream {
		return bad("transfer mode", o.mode, "must be ModeAuto, ModeServerSide or ModeStream")
	}
	if o.partSize < MinPartSize || o.partSize > MaxPartSize {
		return bad("part size", o.partSize, fmt.Sprintf("must be between %d (5 MiB) and %d (5 GiB) bytes", MinPartSize, MaxPartSize))
	}
	if o.threshold < 1 || o.threshold > MaxPutObjectSize {
		return bad("multipart threshold", o.threshold, fmt.Sprintf("must be between 1 and %d (5 GiB) bytes", MaxPutObjectSize))
	}
	if o.streamCutoffSet && (o.streamCutoff < o.threshold || o.streamCutoff > MaxPutObjectSize) {
		return bad("stream upload cutoff", o.streamCutoff, fmt.Sprintf("must be between the multipart threshold (%d bytes) and %d (5 GiB) bytes", o.threshold, MaxPutObjectSize))
	}
	if o.copyThreshold < 1 || o.copyThreshold > MaxCopyObjectSize {
		return bad("multipart copy threshold", o.copyThreshold, fmt.Sprintf("must be between 1 and %d (5 GiB) bytes", int64(MaxCopyObjectSize)))
	}
	for _, a := range []struct{ field, id string }{{"source account", o.srcAccount}, {"destination account", o.dstAccount}} {
		if a.id == "" {
			continue
		}
		if err := ValidateAccountID(a.id); err != nil {
			return bad(a.field, a.id, "must be exactly 12 digits")
		}
	}
	if o.acl != "" && !slices.Contains(o.acl.Values(), o.acl) {
		return bad("object ACL", o.acl, "must be a canned ACL such as bucket-owner-full-control")
	}
	return o.object.validate()
}

// isNilPointer reports whether x is an interface holding a nil pointer
// (or another nil value of a kind that can be nil, such as a nil map or
// func), which an x == nil check lets through.
func isNilPointer(x any) bool {
	if x == nil {
		return false
	}
	v := reflect.ValueOf(x)
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Slice, reflect.Chan, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// nilName names a nil client for a ValidationError: "nil", or its type
// when it is a typed nil such as (*s3.Client)(nil).
func nilName(x any) string {
	if x == nil {
		return "nil"
	}
	return fmt.Sprintf("(%T)(nil)", x)
}
