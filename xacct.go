package xacct

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
)

// Sentinel errors. Typed errors in this package unwrap to one of these where
// it helps callers branch without inspecting fields.
var (
	// ErrInvalidLocation is wrapped by every error ParseLocation returns.
	ErrInvalidLocation = errors.New("invalid location")
	// ErrInvalidOption is wrapped by every error an invalid option produces.
	ErrInvalidOption = errors.New("invalid option")
	// ErrDeleteCapExceeded reports that a sync would delete more
	// destination objects than its cap allows; nothing was deleted.
	ErrDeleteCapExceeded = errors.New("delete cap exceeded")
	// ErrDeleteSkipped reports that deletes were planned but not carried
	// out because a copy failed or a listing did not complete.
	ErrDeleteSkipped = errors.New("deletes skipped")
	// ErrAccessDenied is wrapped by errors that report a refused
	// permission: preflight findings, and AssumeRoleError when STS
	// refused the role.
	ErrAccessDenied = errors.New("access denied")
)

// MaxKeyLength is the longest object key S3 accepts, in bytes of UTF-8.
const MaxKeyLength = 1024

// ValidationError reports an input that breaks a rule. Field names the
// input (a flag, an option or a spec field), Value is the offending value as
// given, and Rule says what a valid value looks like.
type ValidationError struct {
	Field string
	Value string
	Rule  string
	// Err is the sentinel this error belongs to, such as ErrInvalidLocation.
	Err error
}

// Error formats the error as `field "value": rule`.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Rule)
}

// Unwrap returns the sentinel the error belongs to.
func (e *ValidationError) Unwrap() error { return e.Err }

// Location is an S3 bucket and a key prefix, written s3://bucket/prefix.
// An empty Prefix means the whole bucket. Sync, Verify, Preflight and the
// copy policy builders (SourceReadPolicy, DestinationWritePolicy…) take a
// non-empty prefix as a folder, as aws s3 sync does: s3://b/photos means
// photos/, so it covers photos/a.jpg and not photos2/b.jpg. List and
// Summarize use the prefix as given.
type Location struct {
	Bucket string
	Prefix string
}

// ParseLocation parses s3://bucket[/prefix] and validates the bucket name
// against the S3 naming rules and the prefix against the key length limit.
// Errors are *ValidationError wrapping ErrInvalidLocation.
func ParseLocation(s string) (Location, error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return Location{}, &ValidationError{Field: "location", Value: s, Rule: "must start with s3://", Err: ErrInvalidLocation}
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	loc := Location{Bucket: bucket, Prefix: prefix}
	if err := loc.Validate(); err != nil {
		return Location{}, err
	}
	return loc, nil
}

// MustParseLocation is ParseLocation for constants in examples and tests; it
// panics on an invalid location.
func MustParseLocation(s string) Location {
	loc, err := ParseLocation(s)
	if err != nil {
		panic(err)
	}
	return loc
}

// String returns the location as s3://bucket/prefix.
func (l Location) String() string {
	if l.Prefix == "" {
		return "s3://" + l.Bucket + "/"
	}
	return "s3://" + l.Bucket + "/" + l.Prefix
}

// Key returns the object key for a key relative to the location's prefix.
func (l Location) Key(rel string) string { return l.Prefix + rel }

// Validate checks the bucket name and prefix. See ParseLocation.
func (l Location) Validate() error {
	if err := ValidateBucketName(l.Bucket); err != nil {
		return err
	}
	if len(l.Prefix) > MaxKeyLength {
		return &ValidationError{Field: "prefix", Value: l.Prefix, Rule: fmt.Sprintf("must be at most %d bytes", MaxKeyLength), Err: ErrInvalidLocation}
	}
	if !utf8.ValidString(l.Prefix) {
		return &ValidationError{Field: "prefix", Value: l.Prefix, Rule: "must be valid UTF-8", Err: ErrInvalidLocation}
	}
	return nil
}

// ValidateBucketName checks name against the rules for general purpose S3
// buckets: 3 to 63 characters of lowercase letters, digits, dots and
// hyphens; starting and ending with a letter or digit; no two adjacent dots;
// not an IPv4 address; none of the reserved prefixes and suffixes.
func ValidateBucketName(name string) error {
	bad := func(rule string) error {
		return &ValidationError{Field: "bucket", Value: name, Rule: rule, Err: ErrInvalidLocation}
	}
	if len(name) < 3 || len(name) > 63 {
		return bad("must be 3 to 63 characters long")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return bad("may contain only lowercase letters, digits, dots and hyphens")
		}
	}
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return bad("must begin and end with a letter or digit")
	}
	if strings.Contains(name, "..") {
		return bad("must not contain two adjacent dots")
	}
	if addr, err := netip.ParseAddr(name); err == nil && addr.Is4() {
		return bad("must not be formatted as an IP address")
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return bad("must not start with the reserved prefix " + p)
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return bad("must not end with the reserved suffix " + s)
		}
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// ListObjectsV2API lists objects; *s3.Client satisfies it.
type ListObjectsV2API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// CopyObjectAPI copies an object server-side; *s3.Client satisfies it.
type CopyObjectAPI interface {
	CopyObject(ctx context.Context, in *s3.CopyObjectInput, optFns ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
}

// DeleteObjectsAPI deletes up to 1000 objects per call; *s3.Client
// satisfies it.
type DeleteObjectsAPI interface {
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

// GetObjectAPI reads an object or a byte range of it; *s3.Client
// satisfies it.
type GetObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// HeadObjectAPI reads an object's metadata; *s3.Client satisfies it.
type HeadObjectAPI interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

// PutObjectAPI writes an object in one request; *s3.Client satisfies it.
type PutObjectAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// CreateMultipartUploadAPI starts a multipart upload; *s3.Client
// satisfies it.
type CreateMultipartUploadAPI interface {
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
}

// UploadPartAPI uploads one part of a multipart upload; *s3.Client
// satisfies it.
type UploadPartAPI interface {
	UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error)
}

// CompleteMultipartUploadAPI assembles the parts of a multipart upload;
// *s3.Client satisfies it.
type CompleteMultipartUploadAPI interface {
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
}

// AbortMultipartUploadAPI discards a multipart upload and its parts;
// *s3.Client satisfies it.
type AbortMultipartUploadAPI interface {
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

// GetBucketOwnershipControlsAPI reads a bucket's object ownership
// setting; *s3.Client satisfies it.
type GetBucketOwnershipControlsAPI interface {
	GetBucketOwnershipControls(ctx context.Context, in *s3.GetBucketOwnershipControlsInput, optFns ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error)
}

// UploadPartCopyAPI copies a byte range of an object into one part of a
// multipart upload, server-side; *s3.Client satisfies it.
type UploadPartCopyAPI interface {
	UploadPartCopy(ctx context.Context, in *s3.UploadPartCopyInput, optFns ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error)
}

// GetObjectTaggingAPI reads an object's tags; *s3.Client satisfies it.
type GetObjectTaggingAPI interface {
	GetObjectTagging(ctx context.Context, in *s3.GetObjectTaggingInput, optFns ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error)
}

// SourceAPI is what a Copier needs from the client that reads the source
// bucket: listings, and object reads and tags when objects are streamed.
type SourceAPI interface {
	ListObjectsV2API
	GetObjectAPI
	HeadObjectAPI
	GetObjectTaggingAPI
}

// DestinationAPI is what a Copier needs from the client that writes the
// destination bucket. Server-side copies read the source through this
// client, so its principal must then be able to read the source too;
// streamed copies write with PutObject or a multipart upload.
type DestinationAPI interface {
	ListObjectsV2API
	CopyObjectAPI
	DeleteObjectsAPI
	HeadObjectAPI
	PutObjectAPI
	CreateMultipartUploadAPI
	UploadPartAPI
	CompleteMultipartUploadAPI
	AbortMultipartUploadAPI
	GetBucketOwnershipControlsAPI
	UploadPartCopyAPI
	GetObjectTaggingAPI
}

// GetCallerIdentityAPI resolves the principal behind a set of credentials;
// *sts.Client satisfies it.
type GetCallerIdentityAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// AssumeRoleAPI issues temporary credentials for a role; *sts.Client
// satisfies it.
type AssumeRoleAPI interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

var (
	_ SourceAPI            = (*s3.Client)(nil)
	_ DestinationAPI       = (*s3.Client)(nil)
	_ GetCallerIdentityAPI = (*sts.Client)(nil)
	_ AssumeRoleAPI        = (*sts.Client)(nil)
)

// Identity is the principal behind a set of credentials.
type Identity struct {
	Account string `json:"account"`
	ARN     string `json:"arn"`
	UserID  string `json:"userId"`
}

// WhoAmI asks STS which principal the client's credentials belong to.
func WhoAmI(ctx context.Context, client GetCallerIdentityAPI) (Identity, error) {
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, fmt.Errorf("get caller identity: %w", err)
	}
	return Identity{
		Account: aws.ToString(out.Account),
		ARN:     aws.ToString(out.Arn),
		UserID:  aws.ToString(out.UserId),
	}, nil
}

// ValidateAccountID checks that s is an AWS account ID: exactly 12
// digits. Errors are *ValidationError wrapping ErrInvalidOption.
func ValidateAccountID(s string) error {
	if !isAccountID(s) {
		return &ValidationError{Field: "account id", Value: s, Rule: "must be exactly 12 digits", Err: ErrInvalidOption}
	}
	return nil
}

// RoleARN is a parsed IAM role ARN, arn:PARTITION:iam::ACCOUNT:role/PATH/NAME.
type RoleARN struct {
	// Partition is aws, aws-cn or aws-us-gov.
	Partition string
	// Account is the 12-digit account that owns the role.
	Account string
	// Path is the role's path, "/" or "/division/team/".
	Path string
	// Name is the role name, 1 to 64 characters of [\w+=,.@-].
	Name string
}

// String returns the ARN.
func (r RoleARN) String() string {
	return "arn:" + r.Partition + ":iam::" + r.Account + ":role" + r.Path + r.Name
}

var (
	iamNameRE     = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	rolePathRE    = regexp.MustCompile(`^/([\x21-\x7e]*/)?$`)
	sessionTagRE  = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// ParseRoleARN parses and checks an IAM role ARN such as
// arn:aws:iam::222222222222:role/xacct-copy or
// arn:aws:iam::222222222222:role/ops/xacct-copy. Errors are
// *ValidationError wrapping ErrInvalidOption, naming the rule broken.
func ParseRoleARN(s string) (RoleARN, error) {
	bad := func(rule string) (RoleARN, error) {
		return RoleARN{}, &ValidationError{Field: "role ARN", Value: s, Rule: rule, Err: ErrInvalidOption}
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return bad("must look like arn:aws:iam::ACCOUNT:role/NAME")
	}
	if parts[1] != "aws" && parts[1] != "aws-cn" && parts[1] != "aws-us-gov" {
		return bad("partition must be aws, aws-cn or aws-us-gov")
	}
	if parts[2] != "iam" || parts[3] != "" {
		return bad("must be an IAM ARN with an empty region: arn:aws:iam::ACCOUNT:role/NAME")
	}
	if !isAccountID(parts[4]) {
		return bad("account must be exactly 12 digits")
	}
	res, ok := strings.CutPrefix(parts[5], "role/")
	if !ok {
		return bad("resource must be role/[PATH/]NAME")
	}
	i := strings.LastIndexByte(res, '/')
	path, name := "/"+res[:i+1], res[i+1:]
	if !iamNameRE.MatchString(name) {
		return bad(`role name must be 1 to 64 characters of letters, digits and +=,.@_-`)
	}
	if len(path) > 512 || !rolePathRE.MatchString(path) {
		return bad("role path must be at most 512 printable ASCII characters between slashes")
	}
	return RoleARN{Partition: parts[1], Account: parts[4], Path: path, Name: name}, nil
}

// Limits STS puts on AssumeRole.
const (
	// MinSessionDuration is the shortest session AssumeRole grants.
	MinSessionDuration = 15 * time.Minute
	// MaxSessionDuration is the longest session AssumeRole grants; the
	// role's MaxSessionDuration (one hour unless raised) also applies,
	// and role chaining is limited to one hour.
	MaxSessionDuration = 12 * time.Hour
	// maxSessionTags is the most tags one session may carry.
	maxSessionTags = 50
)

// minSessionDuration is MinSessionDuration, lowered by tests that watch
// a session expire.
var minSessionDuration = MinSessionDuration

// AssumeRoleOption configures AssumeRoleConfig.
type AssumeRoleOption func(*assumeRoleOptions)

type assumeRoleOptions struct {
	externalID     string
	sessionName    string
	duration       time.Duration
	mfaSerial      string
	tokenProvider  func() (string, error)
	mfaSet         bool
	sourceIdentity string
	tags           map[string]string
	client         AssumeRoleAPI
	clientSet      bool
}

// WithExternalID sends id as the ExternalId of every AssumeRole call, as a
// trust policy with an sts:ExternalId condition (see CopyRoleTrustPolicy)
// requires. Default: none.
func WithExternalID(id string) AssumeRoleOption {
	return func(o *assumeRoleOptions) { o.externalID = id }
}

// WithSessionName sets the role session name, 2 to 64 characters of
// letters, digits and +=,.@_-; it appears in the session's ARN and in
// CloudTrail. Default: "xacct-" followed by the Unix time in seconds at
// the call to AssumeRoleConfig.
func WithSessionName(name string) AssumeRoleOption {
	return func(o *assumeRoleOptions) { o.sessionName = name }
}

// WithDuration sets how long each set of temporary credentials lasts,
// from MinSessionDuration (15 minutes) to MaxSessionDuration (12 hours),
// in whole seconds. Credentials are renewed before they expire, so a sync
// may outlast them. Default: MinSessionDuration.
func WithDuration(d time.Duration) AssumeRoleOption {
	return func(o *assumeRoleOptions) { o.duration = d }
}

// WithMFA sends the serial number (or ARN) of the caller's MFA device and
// a code from tokenProvider (six digits) with every AssumeRole call, as a
// trust policy requiring aws:MultiFactorAuthPresent needs; the session's
// requests then carry aws:MultiFactorAuthPresent and
// aws:MultiFactorAuthAge. tokenProvider is called at
// each renewal; stscreds.StdinTokenProvider prompts on the terminal.
// Default: no MFA.
func WithMFA(tokenProvider func() (string, error), serial string) AssumeRoleOption {
	return func(o *assumeRoleOptions) { o.tokenProvider, o.mfaSerial, o.mfaSet = tokenProvider, serial, true }
}

// WithSourceIdentity sets the session's source identity, 2 to 64
// characters of letters, digits and +=,.@_-, which then follows the
// session through role chains and into CloudTrail, and which policies
// see as aws:SourceIdentity. The role's trust policy must allow
// sts:SetSourceIdentity for the caller and, across accounts, so must the
// caller's identity policy. Default: none.
func WithSourceIdentity(id string) AssumeRoleOption {
	return func(o *assumeRoleOptions) { o.sourceIdentity = id }
}

// WithSessionTags tags the session (at most 50 tags; keys 1 to 128
// characters, values at most 256, both of letters, digits, spaces and
// _.:/=+-@; keys that differ only in case are refused, as STS compares
// them case-insensitively), for attribute-based access control with
// aws:PrincipalTag. The role's trust policy must allow sts:TagSession for
// the caller and, across accounts, so must the caller's identity policy.
// Default: none.
func WithSessionTags(tags map[string]string) AssumeRoleOption {
	return func(o *assumeRoleOptions) { o.tags = maps.Clone(tags) }
}

// WithSTSClient sets the client that calls AssumeRole. Default: an
// *sts.Client built from the aws.Config given to AssumeRoleConfig, so it
// uses that config's credentials, region and endpoint.
func WithSTSClient(c AssumeRoleAPI) AssumeRoleOption {
	return func(o *assumeRoleOptions) { o.client, o.clientSet = c, true }
}

func (o *assumeRoleOptions) validate() error {
	bad := func(field, value, rule string) error {
		return &ValidationError{Field: field, Value: value, Rule: rule, Err: ErrInvalidOption}
	}
	if !sessionNameRE.MatchString(o.sessionName) {
		return bad("session name", o.sessionName, "must be 2 to 64 characters of letters, digits and +=,.@_-")
	}
	if o.duration < minSessionDuration || o.duration > MaxSessionDuration || o.duration%time.Second != 0 {
		return bad("session duration", o.duration.String(), fmt.Sprintf("must be whole seconds from %s to %s", minSessionDuration, MaxSessionDuration))
	}
	if l := len(o.externalID); o.externalID != "" && (l < 2 || l > 1224) {
		return bad("external id", o.externalID, "must be 2 to 1224 characters")
	}
	if o.mfaSet && (o.mfaSerial == "" || o.tokenProvider == nil) {
		return bad("MFA", o.mfaSerial, "needs both a device serial number and a token provider")
	}
	if o.sourceIdentity != "" && !sessionNameRE.MatchString(o.sourceIdentity) {
		return bad("source identity", o.sourceIdentity, "must be 2 to 64 characters of letters, digits and +=,.@_-")
	}
	if len(o.tags) > maxSessionTags {
		return bad("session tags", strconv.Itoa(len(o.tags)), fmt.Sprintf("must be at most %d tags", maxSessionTags))
	}
	seen := make(map[string]bool, len(o.tags))
	for _, k := range slices.Sorted(maps.Keys(o.tags)) {
		v := o.tags[k]
		if n := utf8.RuneCountInString(k); n == 0 || n > 128 || utf8.RuneCountInString(v) > 256 {
			return bad("session tag", k, "keys must be 1 to 128 characters and values at most 256")
		}
		if !sessionTagRE.MatchString(k) || !sessionTagRE.MatchString(v) {
			return bad("session tag", k, "keys and values may contain only letters, digits, spaces and _.:/=+-@")
		}
		lk := strings.ToLower(k)
		if seen[lk] {
			return bad("session tag", k, "keys must differ in more than case: STS compares them case-insensitively")
		}
		seen[lk] = true
	}
	if o.clientSet && o.client == nil {
		return bad("STS client", "nil", "must not be nil")
	}
	return nil
}

// AssumeRoleError is the failure of STS AssumeRole behind credentials
// from AssumeRoleConfig. It reaches callers wrapped in the error of the
// first request that needed credentials. It matches ErrAccessDenied
// (errors.Is) when STS refused the caller, as it does for a wrong
// external ID or a trust policy that does not name the caller.
type AssumeRoleError struct {
	// RoleARN is the role that was to be assumed.
	RoleARN string
	// ExternalID is the external ID that was sent, "" for none.
	ExternalID string
	// Caller is the ARN of the principal that called AssumeRole, when
	// it could be resolved after a refusal; "" otherwise.
	Caller string
	// Err is the STS error, usually a smithy.APIError.
	Err error
}

// Error names the role, the caller when known, and STS's error.
func (e *AssumeRoleError) Error() string {
	msg := "assume role " + e.RoleARN
	if e.Caller != "" {
		msg += " as " + e.Caller
	}
	return msg + ": " + e.Err.Error()
}

// Unwrap returns the STS error.
func (e *AssumeRoleError) Unwrap() error { return e.Err }

// Is reports whether target is ErrAccessDenied and STS refused access.
func (e *AssumeRoleError) Is(target error) bool {
	return target == ErrAccessDenied && isAccessDenied(e.Err)
}

// AssumeRoleConfig returns a copy of cfg whose credentials are those of a
// session of roleARN, assumed with cfg's credentials. AssumeRole is called
// on first use, not here; the credentials are cached and renewed before
// they expire, so one config serves a sync of any length. A refusal by STS
// surfaces as an *AssumeRoleError in the error of the request that needed
// credentials. The options are validated here; errors are
// *ValidationError wrapping ErrInvalidOption.
func AssumeRoleConfig(cfg aws.Config, roleARN string, opts ...AssumeRoleOption) (aws.Config, error) {
	arn, err := ParseRoleARN(roleARN)
	if err != nil {
		return aws.Config{}, err
	}
	o := assumeRoleOptions{
		sessionName: "xacct-" + strconv.FormatInt(time.Now().Unix(), 10),
		duration:    MinSessionDuration,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return aws.Config{}, err
	}
	client := o.client
	if client == nil {
		client = sts.NewFromConfig(cfg)
	}
	provider := stscreds.NewAssumeRoleProvider(client, arn.String(), func(ao *stscreds.AssumeRoleOptions) {
		ao.RoleSessionName = o.sessionName
		ao.Duration = o.duration
		if o.externalID != "" {
			ao.ExternalID = aws.String(o.externalID)
		}
		if o.mfaSet {
			ao.SerialNumber = aws.String(o.mfaSerial)
			ao.TokenProvider = o.tokenProvider
		}
		if o.sourceIdentity != "" {
			ao.SourceIdentity = aws.String(o.sourceIdentity)
		}
		for _, k := range slices.Sorted(maps.Keys(o.tags)) {
			ao.Tags = append(ao.Tags, ststypes.Tag{Key: aws.String(k), Value: aws.String(o.tags[k])})
		}
	})
	out := cfg.Copy()
	out.Credentials = aws.NewCredentialsCache(&assumeRoleProvider{
		provider: provider, roleARN: arn.String(), externalID: o.externalID, whoami: client,
	}, func(co *aws.CredentialsCacheOptions) {
		// Renew early enough that a request signed just before expiry
		// does not arrive after it: a quarter of the session, at most
		// five minutes.
		co.ExpiryWindow = min(o.duration/4, 5*time.Minute)
	})
	return out, nil
}

// assumeRoleProvider turns AssumeRole failures into *AssumeRoleError.
type assumeRoleProvider struct {
	provider   aws.CredentialsProvider
	roleARN    string
	externalID string
	whoami     AssumeRoleAPI
}

func (p *assumeRoleProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := p.provider.Retrieve(ctx)
	if err == nil {
		return creds, nil
	}
	e := &AssumeRoleError{RoleARN: p.roleARN, ExternalID: p.externalID, Err: err}
	if c, ok := p.whoami.(GetCallerIdentityAPI); ok && isAccessDenied(err) {
		// Naming the caller is what makes a trust policy fix obvious.
		if id, werr := WhoAmI(ctx, c); werr == nil {
			e.Caller = id.ARN
		}
	}
	return creds, e
}

// LoadProfile loads the shared config and credentials files (~/.aws/config
// and ~/.aws/credentials, or AWS_CONFIG_FILE and
// AWS_SHARED_CREDENTIALS_FILE) with name as the profile, as aws-cli's
// --profile does. A profile with role_arn and source_profile (or
// credential_source) assumes that role, with its external_id,
// role_session_name, duration_seconds and mfa_serial; the SDK caches and
// renews those credentials. optFns add to or override the load options
// (config.WithRegion…). A profile with mfa_serial needs a token provider,
// given as config.WithAssumeRoleCredentialOptions setting TokenProvider
// (stscreds.StdinTokenProvider prompts); without one LoadProfile fails,
// naming that option. The SDK asks for 15-minute sessions unless
// duration_seconds is longer than that.
func LoadProfile(ctx context.Context, name string, optFns ...func(*config.LoadOptions) error) (aws.Config, error) {
	if name == "" {
		return aws.Config{}, &ValidationError{Field: "profile", Value: name, Rule: "must not be empty", Err: ErrInvalidOption}
	}
	opts := append([]func(*config.LoadOptions) error{config.WithSharedConfigProfile(name)}, optFns...)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err == nil {
		return cfg, nil
	}
	var roleErr config.SharedConfigAssumeRoleError
	if errors.As(err, &roleErr) {
		return aws.Config{}, fmt.Errorf("profile %q: role_arn %s needs a source_profile or credential_source that has credentials: %w", name, roleErr.RoleARN, err)
	}
	var noToken config.AssumeRoleTokenProviderNotSetError
	if errors.As(err, &noToken) {
		return aws.Config{}, fmt.Errorf("profile %q: mfa_serial is set, so the MFA code needs a token provider: pass config.WithAssumeRoleCredentialOptions setting TokenProvider (stscreds.StdinTokenProvider prompts on the terminal): %w", name, err)
	}
	var notExist config.SharedConfigProfileNotExistError
	if errors.As(err, &notExist) {
		return aws.Config{}, fmt.Errorf("profile %q: no profile %q in the shared config or credentials files (see AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE): %w", name, notExist.Profile, err)
	}
	return aws.Config{}, fmt.Errorf("profile %q: %w", name, err)
}

// isAccessDenied reports whether err is AWS refusing a permission: an
// AccessDenied error code, or HTTP 403 (HEAD responses carry no code).
// Expired or invalid keys are not permission problems and do not count.
func isAccessDenied(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "AccessDenied", "AccessDeniedException", "AllAccessDisabled":
			return true
		case "ExpiredToken", "ExpiredTokenException", "InvalidAccessKeyId", "InvalidToken", "InvalidClientTokenId",
			"SignatureDoesNotMatch", "InvalidSignatureException", "UnrecognizedClientException", "RequestTimeTooSkewed":
			// Refused credentials or signatures, not a missing permission.
			return false
		}
	}
	var status interface{ HTTPStatusCode() int }
	return errors.As(err, &status) && status.HTTPStatusCode() == 403
}
