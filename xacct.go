package xacct

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
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

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Rule)
}

// Unwrap returns the sentinel the error belongs to.
func (e *ValidationError) Unwrap() error { return e.Err }

// Location is an S3 bucket and a key prefix, written s3://bucket/prefix.
// An empty Prefix means the whole bucket. The prefix is used as given: a
// sync of s3://b/photos covers photos/a.jpg and also photos2/b.jpg, as it
// does with aws-cli; end the prefix with "/" to mean a folder.
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

// SourceAPI is what a Copier needs from the client that reads the source
// bucket.
type SourceAPI interface {
	ListObjectsV2API
}

// DestinationAPI is what a Copier needs from the client that writes the
// destination bucket. Server-side copies read the source through this
// client, so its principal must be able to read the source too.
type DestinationAPI interface {
	ListObjectsV2API
	CopyObjectAPI
	DeleteObjectsAPI
}

// GetCallerIdentityAPI resolves the principal behind a set of credentials;
// *sts.Client satisfies it.
type GetCallerIdentityAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

var (
	_ SourceAPI            = (*s3.Client)(nil)
	_ DestinationAPI       = (*s3.Client)(nil)
	_ GetCallerIdentityAPI = (*sts.Client)(nil)
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
