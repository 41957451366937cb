package xacct

import (
	"fmt"
	"log/slog"
	"strconv"
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
)

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
	// or the same part sizes), which server-side copies preserve.
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
}

func defaultCopierOptions() copierOptions {
	return copierOptions{
		concurrency: DefaultConcurrency,
		maxDelete:   NoDeleteCap,
		logger:      slog.New(slog.DiscardHandler),
	}
}

// WithDestinationClient sets the client that lists and writes the
// destination. By default the source client does both. Server-side copies
// run as this client's principal, which must be able to read the source.
func WithDestinationClient(c DestinationAPI) CopierOption {
	return func(o *copierOptions) { o.dst, o.dstSet = c, true }
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

func (o *copierOptions) validate() error {
	bad := func(field string, value any, rule string) error {
		return &ValidationError{Field: field, Value: fmt.Sprint(value), Rule: rule, Err: ErrInvalidOption}
	}
	if o.dstSet && o.dst == nil {
		return bad("destination client", "nil", "must not be nil")
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
	return nil
}
