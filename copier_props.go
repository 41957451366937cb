package xacct

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// CopyProps says which properties of a source object its copy carries
// besides its bytes, as aws-cli's --copy-props does.
type CopyProps int

const (
	// CopyPropsDefault copies user metadata, the content headers
	// (Content-Type, -Encoding, -Disposition, -Language, Cache-Control,
	// Expires) and tags. When the source's tags cannot be read, or the
	// destination refuses them, the object is copied without tags and the
	// report carries a WarningTagsNotCopied.
	CopyPropsDefault CopyProps = iota
	// CopyPropsMetadataDirective copies user metadata and the content
	// headers, not tags.
	CopyPropsMetadataDirective
	// CopyPropsNone copies none of them: the copy gets S3's defaults.
	CopyPropsNone
	// CopyPropsAll is CopyPropsDefault plus the website redirect location,
	// which S3 never copies by itself. It costs one HeadObject of the
	// source per object copied with CopyObject.
	CopyPropsAll
)

// String returns default, metadata-directive, none or all.
func (p CopyProps) String() string {
	switch p {
	case CopyPropsDefault:
		return "default"
	case CopyPropsMetadataDirective:
		return "metadata-directive"
	case CopyPropsNone:
		return "none"
	case CopyPropsAll:
		return "all"
	}
	return "CopyProps(" + strconv.Itoa(int(p)) + ")"
}

func (p CopyProps) metadata() bool { return p != CopyPropsNone }
func (p CopyProps) tags() bool     { return p == CopyPropsDefault || p == CopyPropsAll }

// DefaultPartConcurrency is how many parts of one object a Copier copies
// at once.
const DefaultPartConcurrency = 8

// MaxPartConcurrency bounds WithPartConcurrency.
const MaxPartConcurrency = 256

// objectOptions are the options that decide how each object is written
// and checked. The zero value is the default but for partConcurrency,
// which defaultCopierOptions sets.
type objectOptions struct {
	props           CopyProps
	storageClass    types.StorageClass
	sse             types.ServerSideEncryption
	kmsKeyID        string
	requestPayer    bool
	objectLock      bool
	noVerify        bool
	partConcurrency int
}

// WithCopyProps sets which properties copies carry besides the bytes.
// Storage class, encryption and object lock settings have their own
// options and do not depend on it. Default CopyPropsDefault.
func WithCopyProps(p CopyProps) CopierOption {
	return func(o *copierOptions) { o.object.props = p }
}

// WithStorageClass sets the storage class of every copy, such as
// types.StorageClassStandardIa. Default "": each copy keeps its source's
// storage class (S3 itself would write STANDARD).
func WithStorageClass(class types.StorageClass) CopierOption {
	return func(o *copierOptions) { o.object.storageClass = class }
}

// WithSSE sets the server-side encryption of every copy:
// types.ServerSideEncryptionAes256 (SSE-S3), types.ServerSideEncryptionAwsKms
// (SSE-KMS, with the key of WithSSEKMSKeyID or the account's aws/s3 key) or
// types.ServerSideEncryptionAwsKmsDsse. Default "": the destination
// bucket's default encryption applies, as S3 does for any write. A source
// key is never carried over: KMS keys belong to one account and region.
func WithSSE(sse types.ServerSideEncryption) CopierOption {
	return func(o *copierOptions) { o.object.sse = sse }
}

// WithSSEKMSKeyID sets the KMS key (id, ARN or alias ARN) that encrypts
// every copy; it implies SSE-KMS unless WithSSE chose DSSE-KMS. The copying
// principal needs kms:GenerateDataKey on it. Default "": no key named.
func WithSSEKMSKeyID(id string) CopierOption {
	return func(o *copierOptions) { o.object.kmsKeyID = id }
}

// WithRequestPayer makes every request accept the charges of
// requester-pays buckets, on either side. Default off: requests to such
// buckets fail with AccessDenied.
func WithRequestPayer(on bool) CopierOption {
	return func(o *copierOptions) { o.object.requestPayer = on }
}

// WithObjectLock makes copies keep their source's object lock mode,
// retain-until date and legal hold. The destination bucket must have
// object lock enabled, and reading the settings needs
// s3:GetObjectRetention and s3:GetObjectLegalHold on the source. It costs
// one HeadObject of the source per object copied with CopyObject. Default
// off: copies carry no lock.
func WithObjectLock(on bool) CopierOption {
	return func(o *copierOptions) { o.object.objectLock = on }
}

// WithVerify turns the check after each copy on or off. The check compares
// sizes and ETags, or checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256,
// of the whole object or of the same parts) when the ETags cannot be
// compared (SSE-KMS, or a different part layout); it needs no extra
// request when the ETags match. A mismatch fails the object and removes
// the bad copy, so the next sync copies it again. A copy that nothing but
// its size can be compared with is kept, and the report carries a
// WarningNotVerified for it. Default on.
func WithVerify(on bool) CopierOption {
	return func(o *copierOptions) { o.object.noVerify = !on }
}

// WithPartConcurrency sets how many parts of one object are copied at
// once in a multipart copy, 1 to MaxPartConcurrency. Up to concurrency ×
// part concurrency part copies run at a time; server-side, they use no
// local memory. Default DefaultPartConcurrency.
func WithPartConcurrency(n int) CopierOption {
	return func(o *copierOptions) { o.object.partConcurrency = n }
}

func (o *objectOptions) validate() error {
	bad := func(field string, value any, rule string) error {
		return &ValidationError{Field: field, Value: fmt.Sprint(value), Rule: rule, Err: ErrInvalidOption}
	}
	if o.props < CopyPropsDefault || o.props > CopyPropsAll {
		return bad("copy props", o.props, "must be CopyPropsDefault, CopyPropsMetadataDirective, CopyPropsNone or CopyPropsAll")
	}
	if o.storageClass != "" && !slices.Contains(o.storageClass.Values(), o.storageClass) {
		return bad("storage class", o.storageClass, "must be an S3 storage class such as STANDARD_IA")
	}
	switch o.sse {
	case "", types.ServerSideEncryptionAes256, types.ServerSideEncryptionAwsKms, types.ServerSideEncryptionAwsKmsDsse:
	default:
		return bad("server-side encryption", o.sse, "must be AES256, aws:kms or aws:kms:dsse")
	}
	if o.kmsKeyID != "" && o.sse == types.ServerSideEncryptionAes256 {
		return bad("KMS key id", o.kmsKeyID, "needs SSE-KMS, not AES256")
	}
	if o.partConcurrency < 1 || o.partConcurrency > MaxPartConcurrency {
		return bad("part concurrency", o.partConcurrency, fmt.Sprintf("must be between 1 and %d", MaxPartConcurrency))
	}
	return nil
}

func (o *objectOptions) parts() int { return o.partConcurrency }

func (o *objectOptions) payer() types.RequestPayer {
	if o.requestPayer {
		return types.RequestPayerRequester
	}
	return ""
}

func (o *objectOptions) encryption() types.ServerSideEncryption {
	if o.sse == "" && o.kmsKeyID != "" {
		return types.ServerSideEncryptionAwsKms
	}
	return o.sse
}

// needsSourceHead reports whether a CopyObject must be preceded by a
// HeadObject of the source, for properties CopyObject does not carry.
func (o *objectOptions) needsSourceHead() bool {
	return o.props == CopyPropsAll || o.objectLock
}

// WarningKind classifies an ObjectWarning.
type WarningKind int

const (
	// WarningTagsNotCopied: the object was copied without its tags,
	// because the source's tags could not be read (s3:GetObjectTagging)
	// or the destination refused them (s3:PutObjectTagging).
	WarningTagsNotCopied WarningKind = iota + 1
	// WarningNotVerified: the copy was written with the source's size,
	// and S3 checked the bytes it received against their checksum, but
	// it could not be proven equal to the source: the write's response
	// did not settle it and either the destination identity may not read
	// it back (s3:GetObject on the destination), or neither ETags nor
	// checksums describe both objects the same way (ErrNotComparable),
	// such as a source with only a checksum of its parts written again in
	// other parts, or no checksum at all under SSE-KMS.
	WarningNotVerified
)

// String returns tags-not-copied or not-verified.
func (k WarningKind) String() string {
	switch k {
	case WarningTagsNotCopied:
		return "tags-not-copied"
	case WarningNotVerified:
		return "not-verified"
	}
	return "WarningKind(" + strconv.Itoa(int(k)) + ")"
}

// ObjectWarning reports a property a copy could not carry over; the
// object itself was copied.
type ObjectWarning struct {
	Kind WarningKind
	// Bucket and Key name the source object.
	Bucket string
	Key    string
	// Err is why, often an AccessDenied smithy.APIError.
	Err error
}

// Error formats the warning as "kind s3://bucket/key: cause".
func (w *ObjectWarning) Error() string {
	return fmt.Sprintf("%s s3://%s/%s: %v", w.Kind, w.Bucket, w.Key, w.Err)
}

// Unwrap returns the underlying error.
func (w *ObjectWarning) Unwrap() error { return w.Err }

// MaxReportedWarnings is how many warnings a SyncReport keeps; Warned
// counts them all.
const MaxReportedWarnings = 1000

// warningList collects the warnings of one sync, keeping the first
// MaxReportedWarnings.
type warningList struct {
	n    atomic.Int64
	mu   sync.Mutex
	list []*ObjectWarning
}

func (l *warningList) add(w *ObjectWarning) {
	if l.n.Add(1) > MaxReportedWarnings {
		return
	}
	l.mu.Lock()
	l.list = append(l.list, w)
	l.mu.Unlock()
}

func (l *warningList) result() (int64, []*ObjectWarning) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n.Load(), slices.Clone(l.list)
}

// objectProps is what a copy carries from its source besides the bytes,
// read from a HeadObject (or GetObject) of the source and filtered by the
// options.
type objectProps struct {
	metadata           map[string]string
	contentType        *string
	contentEncoding    *string
	contentDisposition *string
	contentLanguage    *string
	cacheControl       *string
	expires            *time.Time
	websiteRedirect    *string
	storageClass       types.StorageClass
	lockMode           types.ObjectLockMode
	lockRetainUntil    *time.Time
	legalHold          types.ObjectLockLegalHoldStatus
	checksum           checksum
	// tagging is the URL-encoded tag set for x-amz-tagging; "" for none.
	tagging string
}

// propsFromHead picks the properties o asks to keep from a source HEAD.
func propsFromHead(h *s3.HeadObjectOutput, o *objectOptions) objectProps {
	var p objectProps
	if o.props.metadata() {
		p.metadata = maps.Clone(h.Metadata)
		p.contentType, p.contentEncoding = h.ContentType, h.ContentEncoding
		p.contentDisposition, p.contentLanguage = h.ContentDisposition, h.ContentLanguage
		p.cacheControl, p.expires = h.CacheControl, httpTime(h.ExpiresString)
	}
	if o.props == CopyPropsAll {
		p.websiteRedirect = h.WebsiteRedirectLocation
	}
	p.storageClass = o.storageClass
	if p.storageClass == "" {
		p.storageClass = h.StorageClass
	}
	if o.objectLock {
		p.lockMode, p.lockRetainUntil, p.legalHold = h.ObjectLockMode, h.ObjectLockRetainUntilDate, h.ObjectLockLegalHoldStatus
	}
	p.checksum = headChecksum(h)
	return p
}

// httpTime parses an HTTP date such as an Expires header; nil when absent
// or malformed, as S3 itself ignores a malformed Expires.
func httpTime(s *string) *time.Time {
	t, err := http.ParseTime(aws.ToString(s))
	if err != nil {
		return nil
	}
	return &t
}

// create fills a CreateMultipartUpload with the properties and the
// destination settings of o.
func (p *objectProps) create(in *s3.CreateMultipartUploadInput, o *objectOptions) {
	in.Metadata = p.metadata
	in.ContentType, in.ContentEncoding = p.contentType, p.contentEncoding
	in.ContentDisposition, in.ContentLanguage = p.contentDisposition, p.contentLanguage
	in.CacheControl, in.Expires = p.cacheControl, p.expires
	in.WebsiteRedirectLocation = p.websiteRedirect
	in.StorageClass = p.storageClass
	in.ObjectLockMode, in.ObjectLockRetainUntilDate, in.ObjectLockLegalHoldStatus = p.lockMode, p.lockRetainUntil, p.legalHold
	if a := p.checksum.algorithm; a != "" {
		// Each algorithm allows only some multipart checksum types.
		in.ChecksumAlgorithm, in.ChecksumType = a, p.checksum.kind()
		switch a {
		case types.ChecksumAlgorithmCrc64nvme:
			in.ChecksumType = types.ChecksumTypeFullObject
		case types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256:
			in.ChecksumType = types.ChecksumTypeComposite
		}
	}
	if p.tagging != "" {
		in.Tagging = aws.String(p.tagging)
	}
	in.ServerSideEncryption = o.encryption()
	if o.kmsKeyID != "" {
		in.SSEKMSKeyId = aws.String(o.kmsKeyID)
	}
	in.RequestPayer = o.payer()
}

// put fills a PutObject as create fills a CreateMultipartUpload. A
// full-object checksum of the source goes with it as the expected value,
// so S3 refuses bytes that differ from the source's; otherwise the SDK
// computes the source's algorithm (CRC32 when the source has none).
func (p *objectProps) put(in *s3.PutObjectInput, o *objectOptions) {
	in.Metadata = p.metadata
	in.ContentType, in.ContentEncoding = p.contentType, p.contentEncoding
	in.ContentDisposition, in.ContentLanguage = p.contentDisposition, p.contentLanguage
	in.CacheControl, in.Expires = p.cacheControl, p.expires
	in.WebsiteRedirectLocation = p.websiteRedirect
	in.StorageClass = p.storageClass
	in.ObjectLockMode, in.ObjectLockRetainUntilDate, in.ObjectLockLegalHoldStatus = p.lockMode, p.lockRetainUntil, p.legalHold
	switch c := p.checksum; {
	case c.algorithm != "" && c.kind() == types.ChecksumTypeFullObject:
		in.ChecksumCRC32, in.ChecksumCRC32C, in.ChecksumCRC64NVME, in.ChecksumSHA1, in.ChecksumSHA256 = c.fields()
	case c.algorithm != "":
		in.ChecksumAlgorithm = c.algorithm
	default:
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
	}
	if p.tagging != "" {
		in.Tagging = aws.String(p.tagging)
	}
	in.ServerSideEncryption = o.encryption()
	if o.kmsKeyID != "" {
		in.SSEKMSKeyId = aws.String(o.kmsKeyID)
	}
	in.RequestPayer = o.payer()
}

// headFromGet is the HeadObject response a whole-object GetObject
// response contains, so that propsFromHead and headFacts serve streamed
// copies too.
func headFromGet(g *s3.GetObjectOutput) *s3.HeadObjectOutput {
	return &s3.HeadObjectOutput{
		ContentLength: g.ContentLength, ETag: g.ETag, Metadata: g.Metadata,
		ContentType: g.ContentType, ContentEncoding: g.ContentEncoding,
		ContentDisposition: g.ContentDisposition, ContentLanguage: g.ContentLanguage,
		CacheControl: g.CacheControl, ExpiresString: g.ExpiresString,
		WebsiteRedirectLocation: g.WebsiteRedirectLocation, StorageClass: g.StorageClass,
		ObjectLockMode: g.ObjectLockMode, ObjectLockRetainUntilDate: g.ObjectLockRetainUntilDate,
		ObjectLockLegalHoldStatus: g.ObjectLockLegalHoldStatus,
		ServerSideEncryption:      g.ServerSideEncryption, SSECustomerAlgorithm: g.SSECustomerAlgorithm, SSEKMSKeyId: g.SSEKMSKeyId,
		ChecksumType: g.ChecksumType, ChecksumCRC32: g.ChecksumCRC32, ChecksumCRC32C: g.ChecksumCRC32C,
		ChecksumCRC64NVME: g.ChecksumCRC64NVME, ChecksumSHA1: g.ChecksumSHA1, ChecksumSHA256: g.ChecksumSHA256,
		PartsCount: g.PartsCount, VersionId: g.VersionId,
	}
}

// copyInput fills a CopyObject whose directives stay COPY (metadata and
// tags travel with it) with what CopyObject does not carry by itself.
func (p *objectProps) copyInput(in *s3.CopyObjectInput) {
	in.WebsiteRedirectLocation = p.websiteRedirect
	in.ObjectLockMode, in.ObjectLockRetainUntilDate, in.ObjectLockLegalHoldStatus = p.lockMode, p.lockRetainUntil, p.legalHold
	if p.checksum.algorithm != "" {
		in.ChecksumAlgorithm = p.checksum.algorithm
	}
}

// readTags reads a source object's tags and encodes them for
// x-amz-tagging. An error means they could not be read.
func readTags(ctx context.Context, client GetObjectTaggingAPI, bucket, key, owner string, o *objectOptions) (string, error) {
	in := &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key), RequestPayer: o.payer()}
	if owner != "" {
		in.ExpectedBucketOwner = aws.String(owner)
	}
	out, err := client.GetObjectTagging(ctx, in)
	if err != nil {
		return "", err
	}
	return encodeTags(out.TagSet), nil
}

// encodeTags writes a tag set as URL query parameters, spaces as %20:
// S3 reads x-amz-tagging that way.
func encodeTags(tags []types.Tag) string {
	var b strings.Builder
	for i, t := range tags {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(queryEscape(aws.ToString(t.Key)))
		b.WriteByte('=')
		b.WriteString(queryEscape(aws.ToString(t.Value)))
	}
	return b.String()
}

func queryEscape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// checksum is an object's additional checksum as S3 reports it.
type checksum struct {
	algorithm types.ChecksumAlgorithm
	// value is base64; a composite checksum ends in -N, N the part count.
	value string
	typ   types.ChecksumType
}

// kind is the checksum type, inferred from the value when S3 did not say.
func (c checksum) kind() types.ChecksumType {
	switch {
	case c.typ != "":
		return c.typ
	case c.algorithm == types.ChecksumAlgorithmCrc64nvme:
		return types.ChecksumTypeFullObject
	case strings.Contains(c.value, "-"):
		return types.ChecksumTypeComposite
	}
	return types.ChecksumTypeFullObject
}

// fields returns c's value in the field of its algorithm, in the order
// the SDK's inputs list them: CRC32, CRC32C, CRC64NVME, SHA1, SHA256.
func (c checksum) fields() (crc32, crc32c, crc64, sha1, sha256 *string) {
	v := aws.String(c.value)
	switch c.algorithm {
	case types.ChecksumAlgorithmCrc32:
		crc32 = v
	case types.ChecksumAlgorithmCrc32c:
		crc32c = v
	case types.ChecksumAlgorithmCrc64nvme:
		crc64 = v
	case types.ChecksumAlgorithmSha1:
		sha1 = v
	case types.ChecksumAlgorithmSha256:
		sha256 = v
	}
	return crc32, crc32c, crc64, sha1, sha256
}

// comparable reports whether two checksums describe the bytes the same
// way: same algorithm, and both of the whole object or both composites of
// the same number of parts.
func (c checksum) comparable(d checksum) bool {
	if c.algorithm == "" || c.algorithm != d.algorithm || c.value == "" || d.value == "" {
		return false
	}
	if c.kind() != d.kind() {
		return false
	}
	return c.kind() != types.ChecksumTypeComposite || partSuffix(c.value) == partSuffix(d.value)
}

// describe returns the checksum as "CRC32 (COMPOSITE) v", or "none".
func (c checksum) describe() string {
	if c.algorithm == "" {
		return "none"
	}
	return string(c.algorithm) + " (" + string(c.kind()) + ") " + c.value
}

func pickChecksum(typ types.ChecksumType, crc32, crc32c, crc64, sha1, sha256 *string) checksum {
	for _, c := range []struct {
		a types.ChecksumAlgorithm
		v *string
	}{
		{types.ChecksumAlgorithmCrc64nvme, crc64},
		{types.ChecksumAlgorithmCrc32c, crc32c},
		{types.ChecksumAlgorithmCrc32, crc32},
		{types.ChecksumAlgorithmSha256, sha256},
		{types.ChecksumAlgorithmSha1, sha1},
	} {
		if aws.ToString(c.v) != "" {
			return checksum{algorithm: c.a, value: *c.v, typ: typ}
		}
	}
	return checksum{}
}

func headChecksum(h *s3.HeadObjectOutput) checksum {
	return pickChecksum(h.ChecksumType, h.ChecksumCRC32, h.ChecksumCRC32C, h.ChecksumCRC64NVME, h.ChecksumSHA1, h.ChecksumSHA256)
}

// partSuffix returns the -N of a multipart ETag or composite checksum,
// "" for a single part.
func partSuffix(s string) string {
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		return s[i:]
	}
	return ""
}

// etagParts returns the part count a multipart ETag shows, 0 for an
// object written in one request.
func etagParts(etag string) int {
	s := partSuffix(strings.Trim(etag, `"`))
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s[1:])
	if err != nil || n < 1 {
		return 0
	}
	return n
}
