package xacct

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// ErrInvalidReplication is wrapped by every error ReplicationSpec.Validate
// returns.
var ErrInvalidReplication = errors.New("invalid replication spec")

// Limits S3 sets on replication configurations.
const (
	// MaxReplicationRules is the most rules one configuration may hold.
	MaxReplicationRules = 1000
	// MaxReplicationRuleIDLength is the longest rule ID, in characters.
	MaxReplicationRuleIDLength = 255
	// ReplicationTimeMinutes is the only threshold S3 Replication Time
	// Control and replication metrics accept, in minutes.
	ReplicationTimeMinutes = 15
)

// ReplicationBucket is one side of a replication: a bucket, the account
// that owns it and its region.
type ReplicationBucket struct {
	Bucket  string
	Account string
	// Region is the bucket's region, such as "eu-west-1"; KMS keys and
	// the kms:ViaService conditions are checked against it.
	Region string
	// ObjectLock says whether the bucket has Object Lock enabled.
	ObjectLock bool
	// Versioning is the bucket's versioning state when the caller knows
	// it. Empty means unknown: the plan enables versioning either way.
	// Suspended is refused, since replication needs Enabled on both
	// buckets and the plan never turns a bucket's suspension around
	// silently: enable it, or leave this empty to let the plan do so.
	Versioning types.BucketVersioningStatus
}

// ReplicationTag is one tag of a rule filter.
type ReplicationTag struct {
	Key, Value string
}

// ReplicationAnd combines a prefix and tags in one filter; an object
// must match all of them.
type ReplicationAnd struct {
	Prefix string
	Tags   []ReplicationTag
}

// ReplicationFilter selects the objects a rule replicates, as a V2 rule's
// Filter element: at most one of Prefix, Tag and And. The zero filter
// selects every object.
type ReplicationFilter struct {
	Prefix *string
	Tag    *ReplicationTag
	And    *ReplicationAnd
}

// PrefixFilter returns a filter on a key prefix.
func PrefixFilter(prefix string) ReplicationFilter { return ReplicationFilter{Prefix: &prefix} }

// TagFilter returns a filter on one tag.
func TagFilter(key, value string) ReplicationFilter {
	return ReplicationFilter{Tag: &ReplicationTag{key, value}}
}

// AndFilter returns a filter on a prefix and tags, all of which must match.
func AndFilter(prefix string, tags ...ReplicationTag) ReplicationFilter {
	return ReplicationFilter{And: &ReplicationAnd{Prefix: prefix, Tags: tags}}
}

// prefix returns the filter's key prefix, "" when it has none.
func (f ReplicationFilter) prefix() string {
	switch {
	case f.Prefix != nil:
		return *f.Prefix
	case f.And != nil:
		return f.And.Prefix
	}
	return ""
}

// tags returns the filter's tags.
func (f ReplicationFilter) tags() []ReplicationTag {
	switch {
	case f.Tag != nil:
		return []ReplicationTag{*f.Tag}
	case f.And != nil:
		return f.And.Tags
	}
	return nil
}

// ReplicationRule is one rule of a replication configuration, in S3's V2
// schema.
type ReplicationRule struct {
	// ID names the rule: unique, 1 to 255 characters.
	ID string
	// Priority decides between rules that match the same object: the
	// highest wins. Unique among the rules.
	Priority int32
	// Prefix is the V1 schema's rule-level prefix. xacct writes V2 rules
	// only, so setting it is an error: use Filter.
	Prefix string
	// Filter selects the objects the rule replicates.
	Filter ReplicationFilter
	// Disabled turns the rule off while keeping it. Default: enabled.
	Disabled bool
	// DeleteMarkers replicates delete markers. S3 refuses it on rules
	// that filter on tags. Default: not replicated.
	DeleteMarkers bool
	// StorageClass is the replicas' storage class; empty keeps the
	// source's.
	StorageClass types.StorageClass
	// ReplicationTime turns on S3 Replication Time Control with
	// ReplicationTimeMinutes; it needs Metrics.
	ReplicationTime bool
	// Metrics turns on replication metrics with an event threshold of
	// ReplicationTimeMinutes.
	Metrics bool
	// OwnerOverride makes the destination account own the replicas
	// (AccessControlTranslation Owner=Destination); it needs
	// ReplicationSpec.Destination.Account and is refused within one
	// account.
	OwnerOverride bool
	// SSEKMS replicates objects encrypted with SSE-KMS; they are
	// encrypted again with ReplicaKMSKeyARN, which must then be a key in
	// the destination region, and the role may decrypt with
	// ReplicationSpec.SourceKMSKeyARNs.
	SSEKMS bool
	// ReplicaKMSKeyARN is the destination-region KMS key replicas are
	// encrypted with.
	ReplicaKMSKeyARN string
	// ReplicaModifications replicates metadata changes made to replicas
	// back (for two-way setups).
	ReplicaModifications bool
	// ExistingObjects stands for the ExistingObjectReplication element,
	// which S3 enables only through support cases. Setting it is an
	// error: set ReplicationSpec.Backfill to use S3 Batch Replication.
	ExistingObjects bool
}

// ReplicationSpec describes S3 Replication from a bucket in one account
// to a bucket in another.
type ReplicationSpec struct {
	Source      ReplicationBucket
	Destination ReplicationBucket
	// RoleName is the replication role created in the source account.
	RoleName string
	Rules    []ReplicationRule
	// Backfill replicates objects that existed before the configuration,
	// with S3 Batch Replication: the role then also trusts
	// batchoperations.s3.amazonaws.com and may start replications.
	Backfill bool
	// SourceKMSKeyARNs are the keys source objects are encrypted with,
	// which the role may decrypt with; needed when a rule sets SSEKMS.
	SourceKMSKeyARNs []string
}

// RoleARN returns the ARN of the replication role.
func (s *ReplicationSpec) RoleARN() string {
	return "arn:aws:iam::" + s.Source.Account + ":role/" + s.RoleName
}

// usesDeleteMarkers, usesOwnerOverride and usesKMS report whether any
// enabled rule needs the matching permissions.
func (s *ReplicationSpec) usesDeleteMarkers() bool {
	return slices.ContainsFunc(s.Rules, func(r ReplicationRule) bool { return !r.Disabled && r.DeleteMarkers })
}

func (s *ReplicationSpec) usesOwnerOverride() bool {
	return slices.ContainsFunc(s.Rules, func(r ReplicationRule) bool { return !r.Disabled && r.OwnerOverride })
}

func (s *ReplicationSpec) usesKMS() bool {
	return slices.ContainsFunc(s.Rules, func(r ReplicationRule) bool { return !r.Disabled && r.SSEKMS })
}

// replicaKeys returns the distinct replica keys of enabled rules, sorted.
func (s *ReplicationSpec) replicaKeys() []string {
	var keys []string
	for _, r := range s.Rules {
		if !r.Disabled && r.SSEKMS && r.ReplicaKMSKeyARN != "" && !slices.Contains(keys, r.ReplicaKMSKeyARN) {
			keys = append(keys, r.ReplicaKMSKeyARN)
		}
	}
	slices.Sort(keys)
	return keys
}

// Validate checks the spec against the rules S3 applies to replication
// configurations, before any call is made. Every problem is reported,
// joined; each is a *ValidationError naming the field (such as
// "Rules[2].Filter") and the rule, wrapping ErrInvalidReplication.
func (s *ReplicationSpec) Validate() error {
	var errs []error
	add := func(field, value, rule string) {
		errs = append(errs, &ValidationError{Field: field, Value: value, Rule: rule, Err: ErrInvalidReplication})
	}
	for _, side := range []struct {
		name string
		b    ReplicationBucket
	}{{"Source", s.Source}, {"Destination", s.Destination}} {
		if err := ValidateBucketName(side.b.Bucket); err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				add(side.name+".Bucket", side.b.Bucket, ve.Rule)
			}
		}
		if err := ValidateAccountID(side.b.Account); err != nil {
			add(side.name+".Account", side.b.Account, "must be a 12-digit account ID")
		}
		if side.b.Region == "" {
			add(side.name+".Region", "", "is required")
		}
		if side.b.Versioning != "" && side.b.Versioning != types.BucketVersioningStatusEnabled {
			add(side.name+".Versioning", string(side.b.Versioning), "replication needs versioning Enabled on both buckets; enable it or leave the field empty so that the plan enables it")
		}
	}
	if s.Source.Bucket != "" && s.Source.Bucket == s.Destination.Bucket {
		add("Destination.Bucket", s.Destination.Bucket, "must differ from the source bucket")
	}
	if s.Source.ObjectLock && !s.Destination.ObjectLock {
		add("Destination.ObjectLock", "false", "the source bucket has Object Lock, so the destination bucket must have it too")
	}
	if err := checkRoleName(s.RoleName); err != "" {
		add("RoleName", s.RoleName, err)
	}
	switch n := len(s.Rules); {
	case n == 0:
		add("Rules", "", "at least one rule is required")
	case n > MaxReplicationRules:
		add("Rules", fmt.Sprint(n), fmt.Sprintf("at most %d rules are allowed", MaxReplicationRules))
	}
	ids := make(map[string]int, len(s.Rules))
	priorities := make(map[int32]int, len(s.Rules))
	for i, r := range s.Rules {
		f := func(name string) string { return fmt.Sprintf("Rules[%d].%s", i, name) }
		switch {
		case r.ID == "":
			add(f("ID"), "", "is required")
		case len([]rune(r.ID)) > MaxReplicationRuleIDLength:
			add(f("ID"), r.ID, fmt.Sprintf("must be at most %d characters", MaxReplicationRuleIDLength))
		}
		if j, dup := ids[r.ID]; dup && r.ID != "" {
			add(f("ID"), r.ID, fmt.Sprintf("must be unique; Rules[%d] has the same ID", j))
		} else {
			ids[r.ID] = i
		}
		if j, dup := priorities[r.Priority]; dup {
			add(f("Priority"), fmt.Sprint(r.Priority), fmt.Sprintf("must be unique; Rules[%d] has the same priority", j))
		} else {
			priorities[r.Priority] = i
		}
		if r.Priority < 0 {
			add(f("Priority"), fmt.Sprint(r.Priority), "must not be negative")
		}
		if r.Prefix != "" {
			add(f("Prefix"), r.Prefix, "V1 rule-level prefixes are not written; use Filter with Priority and DeleteMarkerReplication (V2 schema)")
		}
		set := 0
		for _, on := range []bool{r.Filter.Prefix != nil, r.Filter.Tag != nil, r.Filter.And != nil} {
			if on {
				set++
			}
		}
		if set > 1 {
			add(f("Filter"), "", "exactly one of Prefix, Tag and And may be set; use And to combine a prefix and tags")
		}
		if a := r.Filter.And; a != nil {
			if len(a.Tags) == 0 || (a.Prefix == "" && len(a.Tags) < 2) {
				add(f("Filter.And"), "", "needs a prefix and at least one tag, or at least two tags")
			}
		}
		seenTag := map[string]bool{}
		for _, t := range r.Filter.tags() {
			if t.Key == "" {
				add(f("Filter.Tag"), "", "tag keys must not be empty")
			}
			if seenTag[t.Key] {
				add(f("Filter.Tag"), t.Key, "tag keys must be unique in a filter")
			}
			seenTag[t.Key] = true
		}
		if r.DeleteMarkers && len(r.Filter.tags()) > 0 {
			add(f("DeleteMarkers"), "true", "delete marker replication is not supported for rules that filter on tags")
		}
		if r.StorageClass != "" && !slices.Contains(types.StorageClass("").Values(), r.StorageClass) {
			add(f("StorageClass"), string(r.StorageClass), "must be a storage class S3 knows, such as STANDARD_IA")
		}
		if r.ReplicationTime && !r.Metrics {
			add(f("Metrics"), "false", fmt.Sprintf("Replication Time Control needs replication metrics; both use %d minutes", ReplicationTimeMinutes))
		}
		if r.OwnerOverride {
			switch {
			case s.Destination.Account == "":
				add(f("OwnerOverride"), "true", "needs Destination.Account")
			case s.Destination.Account == s.Source.Account:
				add(f("OwnerOverride"), "true", "owner override is refused when both buckets are in one account")
			}
		}
		if r.SSEKMS {
			switch {
			case r.ReplicaKMSKeyARN == "":
				add(f("ReplicaKMSKeyARN"), "", "SSE-KMS objects need a replica KMS key in the destination region")
			case kmsKeyRegion(r.ReplicaKMSKeyARN) != s.Destination.Region:
				add(f("ReplicaKMSKeyARN"), r.ReplicaKMSKeyARN, "must be a KMS key ARN in the destination region "+s.Destination.Region)
			}
			if len(s.SourceKMSKeyARNs) == 0 {
				add("SourceKMSKeyARNs", "", fmt.Sprintf("Rules[%d] replicates SSE-KMS objects; name the source keys the role may decrypt with", i))
			}
		}
		if r.ExistingObjects {
			add(f("ExistingObjects"), "true", "the ExistingObjectReplication element is not written; set Backfill to replicate existing objects with S3 Batch Replication")
		}
	}
	for i, k := range s.SourceKMSKeyARNs {
		if kmsKeyRegion(k) != s.Source.Region {
			add(fmt.Sprintf("SourceKMSKeyARNs[%d]", i), k, "must be a KMS key ARN in the source region "+s.Source.Region)
		}
	}
	return errors.Join(errs...)
}

// Warnings returns advice about a valid spec that is not an error: S3
// evaluates tag filters against the tags an object has when it is
// created, so tags added later never make it eligible.
func (s *ReplicationSpec) Warnings() []string {
	var out []string
	for i, r := range s.Rules {
		if len(r.Filter.tags()) > 0 {
			out = append(out, fmt.Sprintf("Rules[%d] (%s) filters on tags: only tags present when an object is created count; tags added later do not make it replicate", i, r.ID))
		}
	}
	return out
}

// kmsKeyRegion returns the region of a KMS key or alias ARN, "" when s is
// not one.
func kmsKeyRegion(s string) string {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "kms" || parts[3] == "" {
		return ""
	}
	return parts[3]
}

// checkRoleName returns why name is not a valid IAM role name, or "".
func checkRoleName(name string) string {
	if name == "" || len(name) > 64 {
		return "must be 1 to 64 characters"
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("+=,.@_-", c)) {
			return "may contain only letters, digits and +=,.@_-"
		}
	}
	return ""
}

// ReplicationOption configures a ReplicationConfigurator.
type ReplicationOption func(*replicationOptions)

type replicationOptions struct {
	logger             *slog.Logger
	pollFirst, pollMax time.Duration
	progress           func(BackfillJob)
}

// WithReplicationLogger logs what Apply, Backfill and Wait do. Default:
// discard.
func WithReplicationLogger(l *slog.Logger) ReplicationOption {
	return func(o *replicationOptions) { o.logger = l }
}

// ReplicationConfigurator plans, applies and checks S3 Replication for one
// ReplicationSpec: Plan for what each account must change, Apply to make
// the changes, Backfill for existing objects, Status to follow objects
// and Diff to find drift.
type ReplicationConfigurator struct {
	spec     ReplicationSpec
	log      *slog.Logger
	poll     pollBackoff
	progress func(BackfillJob)
}

// NewReplicationConfigurator validates spec and returns a configurator
// for it. The spec is copied.
func NewReplicationConfigurator(spec ReplicationSpec, opts ...ReplicationOption) (*ReplicationConfigurator, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	o := replicationOptions{logger: slog.New(slog.DiscardHandler), pollFirst: DefaultBackfillPollInterval, pollMax: DefaultBackfillMaxPollInterval}
	for _, f := range opts {
		f(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.pollFirst <= 0 || o.pollMax < o.pollFirst {
		return nil, &ValidationError{Field: "backfill poll interval", Value: o.pollFirst.String() + ".." + o.pollMax.String(), Rule: "must be positive, the longest at least the first", Err: ErrInvalidOption}
	}
	spec.Rules = slices.Clone(spec.Rules)
	spec.SourceKMSKeyARNs = slices.Clone(spec.SourceKMSKeyARNs)
	return &ReplicationConfigurator{spec: spec, log: o.logger, poll: pollBackoff{first: o.pollFirst, max: o.pollMax}, progress: o.progress}, nil
}

// Spec returns the configurator's spec.
func (c *ReplicationConfigurator) Spec() ReplicationSpec { return c.spec }
