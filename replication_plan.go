package xacct

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// ReplicationRolePolicyName is the name of the replication role's inline
// permission policy.
const ReplicationRolePolicyName = "xacct-replication"

// ReplicationStepKind says what a ReplicationStep changes.
type ReplicationStepKind string

// Step kinds, in the order Plan lists them for each account.
const (
	// StepVersioning enables versioning on a bucket.
	StepVersioning = ReplicationStepKind("versioning")
	// StepRole creates the replication role or updates its trust policy.
	StepRole = ReplicationStepKind("role")
	// StepRolePolicy puts the role's inline permission policy.
	StepRolePolicy = ReplicationStepKind("role-policy")
	// StepReplicationConfiguration puts the source bucket's replication
	// configuration.
	StepReplicationConfiguration = ReplicationStepKind("replication-configuration")
	// StepBucketPolicy merges statements into the destination bucket's
	// policy by Sid, keeping its other statements.
	StepBucketPolicy = ReplicationStepKind("bucket-policy")
	// StepKeyPolicy adds a statement to a replica KMS key's policy. Apply
	// does not make it: the key's administrators add it.
	StepKeyPolicy = ReplicationStepKind("key-policy")
)

// ReplicationStep is one change of a ReplicationPlan.
type ReplicationStep struct {
	Kind ReplicationStepKind `json:"kind"`
	// Account is the account the change is made in.
	Account string `json:"account"`
	// Resource is the ARN changed: a bucket, the role or a KMS key.
	Resource string `json:"resource"`
	// Summary says in words what the step does.
	Summary string `json:"summary"`
	// PolicyName names the inline policy of a StepRolePolicy.
	PolicyName string `json:"policyName,omitempty"`
	// Policy is the trust policy (StepRole), the permission policy
	// (StepRolePolicy), the statements to merge (StepBucketPolicy) or to
	// add to the key policy (StepKeyPolicy).
	Policy *Policy `json:"policy,omitempty"`
	// Configuration is the replication configuration of a
	// StepReplicationConfiguration.
	Configuration *types.ReplicationConfiguration `json:"-"`
	// Manual marks a step Apply leaves to the account's owners.
	Manual bool `json:"manual,omitempty"`
}

// MarshalJSON writes the step with its configuration in the shape the
// AWS CLI's put-bucket-replication takes.
func (s ReplicationStep) MarshalJSON() ([]byte, error) {
	type plain ReplicationStep
	out := struct {
		plain
		Configuration *configDoc `json:"configuration,omitempty"`
	}{plain: plain(s)}
	if s.Configuration != nil {
		out.Configuration = newConfigDoc(s.Configuration)
	}
	return marshalNoEscape(out)
}

// AccountSteps are the steps of one account, in order.
type AccountSteps struct {
	Account string `json:"account"`
	// Side is "source" or "destination".
	Side  string            `json:"side"`
	Steps []ReplicationStep `json:"steps"`
}

// ReplicationPlan is what each account must change for a spec: the
// source account's steps, then the destination account's. It prints as
// text (String) and JSON (JSON), so that each account's owners can review
// and apply their own part.
type ReplicationPlan struct {
	Source      AccountSteps `json:"source"`
	Destination AccountSteps `json:"destination"`
	// Warnings are the spec's warnings; see ReplicationSpec.Warnings.
	Warnings []string `json:"warnings,omitempty"`
}

// Plan returns the changes the spec needs, per account:
//
//   - source account: versioning on the source bucket, the role with its
//     trust policy, its permission policy, the replication configuration;
//   - destination account: versioning on the destination bucket, the
//     bucket policy statements (merged by Sid), and, with SSE-KMS, the
//     statement for each replica key's policy.
//
// It makes no calls. Apply orders the steps across accounts by their
// dependencies.
func (c *ReplicationConfigurator) Plan() *ReplicationPlan {
	s := &c.spec
	trust := ReplicationRoleTrustPolicy(*s)
	perm := ReplicationRolePolicy(*s)
	bucketPolicy := ReplicationDestinationBucketPolicy(*s)
	p := &ReplicationPlan{
		Source:      AccountSteps{Account: s.Source.Account, Side: "source"},
		Destination: AccountSteps{Account: s.Destination.Account, Side: "destination"},
		Warnings:    s.Warnings(),
	}
	p.Source.Steps = []ReplicationStep{
		{Kind: StepVersioning, Account: s.Source.Account, Resource: BucketARN(s.Source.Bucket), Summary: "enable versioning on " + s.Source.Bucket},
		{Kind: StepRole, Account: s.Source.Account, Resource: s.RoleARN(), Summary: "create role " + s.RoleName + " or update its trust policy", Policy: &trust},
		{Kind: StepRolePolicy, Account: s.Source.Account, Resource: s.RoleARN(), PolicyName: ReplicationRolePolicyName, Summary: "put inline policy " + ReplicationRolePolicyName + " on role " + s.RoleName, Policy: &perm},
		{Kind: StepReplicationConfiguration, Account: s.Source.Account, Resource: BucketARN(s.Source.Bucket), Summary: fmt.Sprintf("put the replication configuration (%s) on %s", plural(len(s.Rules), "rule"), s.Source.Bucket), Configuration: c.ReplicationConfiguration()},
	}
	p.Destination.Steps = []ReplicationStep{
		{Kind: StepVersioning, Account: s.Destination.Account, Resource: BucketARN(s.Destination.Bucket), Summary: "enable versioning on " + s.Destination.Bucket},
		{Kind: StepBucketPolicy, Account: s.Destination.Account, Resource: BucketARN(s.Destination.Bucket), Summary: "merge statements by Sid into the bucket policy of " + s.Destination.Bucket, Policy: &bucketPolicy},
	}
	if keyPolicy := ReplicationReplicaKeyPolicy(*s); len(keyPolicy.Statement) > 0 {
		for _, key := range s.replicaKeys() {
			kp := keyPolicy
			p.Destination.Steps = append(p.Destination.Steps, ReplicationStep{
				Kind: StepKeyPolicy, Account: s.Destination.Account, Resource: key, Manual: true, Policy: &kp,
				Summary: "add this statement to the key policy of " + key + " (by its administrators)",
			})
		}
	}
	return p
}

// Steps returns every step, source account first.
func (p *ReplicationPlan) Steps() []ReplicationStep {
	return slices.Concat(p.Source.Steps, p.Destination.Steps)
}

// JSON returns the plan as indented JSON.
func (p *ReplicationPlan) JSON() ([]byte, error) {
	raw, err := marshalNoEscape(p)
	if err != nil {
		return nil, fmt.Errorf("marshal plan: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("indent plan: %w", err)
	}
	return buf.Bytes(), nil
}

// String returns the plan as text: each account's steps, numbered, with
// their documents indented below them.
func (p *ReplicationPlan) String() string {
	var b strings.Builder
	for _, group := range []AccountSteps{p.Source, p.Destination} {
		fmt.Fprintf(&b, "account %s (%s):\n", group.Account, group.Side)
		for i, st := range group.Steps {
			manual := ""
			if st.Manual {
				manual = " [manual]"
			}
			fmt.Fprintf(&b, "  %d. %s%s: %s\n", i+1, st.Kind, manual, st.Summary)
			var doc []byte
			switch {
			case st.Policy != nil:
				doc, _ = st.Policy.JSON()
			case st.Configuration != nil:
				raw, _ := marshalNoEscape(newConfigDoc(st.Configuration))
				var buf bytes.Buffer
				if json.Indent(&buf, raw, "", "  ") == nil {
					doc = buf.Bytes()
				}
			}
			for line := range strings.Lines(string(doc)) {
				b.WriteString("       ")
				b.WriteString(strings.TrimRight(line, "\n"))
				b.WriteByte('\n')
			}
		}
	}
	for _, w := range p.Warnings {
		b.WriteString("warning: " + w + "\n")
	}
	return b.String()
}

// ReplicationConfiguration returns the source bucket's replication
// configuration for the spec, in the V2 schema: every rule has a Filter,
// a Priority and a DeleteMarkerReplication element.
func (c *ReplicationConfigurator) ReplicationConfiguration() *types.ReplicationConfiguration {
	s := &c.spec
	cfg := &types.ReplicationConfiguration{Role: aws.String(s.RoleARN())}
	for _, r := range s.Rules {
		rule := types.ReplicationRule{
			ID:       aws.String(r.ID),
			Priority: aws.Int32(r.Priority),
			Status:   types.ReplicationRuleStatusEnabled,
			Filter:   sdkFilter(r.Filter),
			DeleteMarkerReplication: &types.DeleteMarkerReplication{
				Status: enabledIf[types.DeleteMarkerReplicationStatus](r.DeleteMarkers),
			},
			Destination: &types.Destination{
				Bucket:       aws.String(BucketARN(s.Destination.Bucket)),
				StorageClass: r.StorageClass,
			},
		}
		if r.Disabled {
			rule.Status = types.ReplicationRuleStatusDisabled
		}
		if s.Destination.Account != "" && s.Destination.Account != s.Source.Account {
			rule.Destination.Account = aws.String(s.Destination.Account)
		}
		if r.OwnerOverride {
			rule.Destination.AccessControlTranslation = &types.AccessControlTranslation{Owner: types.OwnerOverrideDestination}
		}
		if r.ReplicaKMSKeyARN != "" {
			rule.Destination.EncryptionConfiguration = &types.EncryptionConfiguration{ReplicaKmsKeyID: aws.String(r.ReplicaKMSKeyARN)}
		}
		if r.ReplicationTime {
			rule.Destination.ReplicationTime = &types.ReplicationTime{Status: types.ReplicationTimeStatusEnabled, Time: &types.ReplicationTimeValue{Minutes: aws.Int32(ReplicationTimeMinutes)}}
		}
		if r.Metrics {
			rule.Destination.Metrics = &types.Metrics{Status: types.MetricsStatusEnabled, EventThreshold: &types.ReplicationTimeValue{Minutes: aws.Int32(ReplicationTimeMinutes)}}
		}
		if r.SSEKMS || r.ReplicaModifications {
			rule.SourceSelectionCriteria = &types.SourceSelectionCriteria{}
			if r.SSEKMS {
				rule.SourceSelectionCriteria.SseKmsEncryptedObjects = &types.SseKmsEncryptedObjects{Status: types.SseKmsEncryptedObjectsStatusEnabled}
			}
			if r.ReplicaModifications {
				rule.SourceSelectionCriteria.ReplicaModifications = &types.ReplicaModifications{Status: types.ReplicaModificationsStatusEnabled}
			}
		}
		cfg.Rules = append(cfg.Rules, rule)
	}
	return cfg
}

func enabledIf[T ~string](on bool) T {
	if on {
		return T("Enabled")
	}
	return T("Disabled")
}

func sdkFilter(f ReplicationFilter) *types.ReplicationRuleFilter {
	switch {
	case f.Tag != nil:
		return &types.ReplicationRuleFilter{Tag: &types.Tag{Key: aws.String(f.Tag.Key), Value: aws.String(f.Tag.Value)}}
	case f.And != nil:
		and := &types.ReplicationRuleAndOperator{Prefix: aws.String(f.And.Prefix)}
		for _, t := range f.And.Tags {
			and.Tags = append(and.Tags, types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
		}
		return &types.ReplicationRuleFilter{And: and}
	}
	return &types.ReplicationRuleFilter{Prefix: aws.String(f.prefix())}
}

// configDoc is a replication configuration in the JSON shape of the AWS
// CLI's put-bucket-replication.
type configDoc struct {
	Role  string    `json:"Role"`
	Rules []ruleDoc `json:"Rules"`
}

type statusDoc struct {
	Status string `json:"Status"`
}

type minutesDoc struct {
	Minutes int32 `json:"Minutes"`
}

type tagDoc struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type ruleDoc struct {
	ID       string  `json:"ID,omitempty"`
	Priority *int32  `json:"Priority,omitempty"`
	Prefix   *string `json:"Prefix,omitempty"`
	Filter   *struct {
		Prefix *string `json:"Prefix,omitempty"`
		Tag    *tagDoc `json:"Tag,omitempty"`
		And    *struct {
			Prefix string   `json:"Prefix,omitempty"`
			Tags   []tagDoc `json:"Tags,omitempty"`
		} `json:"And,omitempty"`
	} `json:"Filter,omitempty"`
	Status                  string     `json:"Status"`
	DeleteMarkerReplication *statusDoc `json:"DeleteMarkerReplication,omitempty"`
	SourceSelectionCriteria *struct {
		SseKmsEncryptedObjects *statusDoc `json:"SseKmsEncryptedObjects,omitempty"`
		ReplicaModifications   *statusDoc `json:"ReplicaModifications,omitempty"`
	} `json:"SourceSelectionCriteria,omitempty"`
	ExistingObjectReplication *statusDoc `json:"ExistingObjectReplication,omitempty"`
	Destination               struct {
		Bucket                   string `json:"Bucket"`
		Account                  string `json:"Account,omitempty"`
		StorageClass             string `json:"StorageClass,omitempty"`
		AccessControlTranslation *struct {
			Owner string `json:"Owner"`
		} `json:"AccessControlTranslation,omitempty"`
		EncryptionConfiguration *struct {
			ReplicaKmsKeyID string `json:"ReplicaKmsKeyID"`
		} `json:"EncryptionConfiguration,omitempty"`
		ReplicationTime *struct {
			Status string     `json:"Status"`
			Time   minutesDoc `json:"Time"`
		} `json:"ReplicationTime,omitempty"`
		Metrics *struct {
			Status         string      `json:"Status"`
			EventThreshold *minutesDoc `json:"EventThreshold,omitempty"`
		} `json:"Metrics,omitempty"`
	} `json:"Destination"`
}

func newConfigDoc(cfg *types.ReplicationConfiguration) *configDoc {
	doc := &configDoc{Role: aws.ToString(cfg.Role), Rules: []ruleDoc{}}
	minutes := func(v *types.ReplicationTimeValue) int32 {
		if v == nil {
			return 0
		}
		return aws.ToInt32(v.Minutes)
	}
	for _, r := range cfg.Rules {
		//lint:ignore SA1019 a live V1 rule is printed as it is
		d := ruleDoc{ID: aws.ToString(r.ID), Priority: r.Priority, Prefix: r.Prefix, Status: string(r.Status)}
		if f := r.Filter; f != nil {
			d.Filter = &struct {
				Prefix *string `json:"Prefix,omitempty"`
				Tag    *tagDoc `json:"Tag,omitempty"`
				And    *struct {
					Prefix string   `json:"Prefix,omitempty"`
					Tags   []tagDoc `json:"Tags,omitempty"`
				} `json:"And,omitempty"`
			}{Prefix: f.Prefix}
			if f.Tag != nil {
				d.Filter.Tag = &tagDoc{aws.ToString(f.Tag.Key), aws.ToString(f.Tag.Value)}
			}
			if f.And != nil {
				d.Filter.And = &struct {
					Prefix string   `json:"Prefix,omitempty"`
					Tags   []tagDoc `json:"Tags,omitempty"`
				}{Prefix: aws.ToString(f.And.Prefix)}
				for _, t := range f.And.Tags {
					d.Filter.And.Tags = append(d.Filter.And.Tags, tagDoc{aws.ToString(t.Key), aws.ToString(t.Value)})
				}
			}
		}
		if r.DeleteMarkerReplication != nil {
			d.DeleteMarkerReplication = &statusDoc{string(r.DeleteMarkerReplication.Status)}
		}
		if c := r.SourceSelectionCriteria; c != nil {
			d.SourceSelectionCriteria = &struct {
				SseKmsEncryptedObjects *statusDoc `json:"SseKmsEncryptedObjects,omitempty"`
				ReplicaModifications   *statusDoc `json:"ReplicaModifications,omitempty"`
			}{}
			if c.SseKmsEncryptedObjects != nil {
				d.SourceSelectionCriteria.SseKmsEncryptedObjects = &statusDoc{string(c.SseKmsEncryptedObjects.Status)}
			}
			if c.ReplicaModifications != nil {
				d.SourceSelectionCriteria.ReplicaModifications = &statusDoc{string(c.ReplicaModifications.Status)}
			}
		}
		if r.ExistingObjectReplication != nil {
			d.ExistingObjectReplication = &statusDoc{string(r.ExistingObjectReplication.Status)}
		}
		if dst := r.Destination; dst != nil {
			d.Destination.Bucket = aws.ToString(dst.Bucket)
			d.Destination.Account = aws.ToString(dst.Account)
			d.Destination.StorageClass = string(dst.StorageClass)
			if dst.AccessControlTranslation != nil {
				d.Destination.AccessControlTranslation = &struct {
					Owner string `json:"Owner"`
				}{string(dst.AccessControlTranslation.Owner)}
			}
			if dst.EncryptionConfiguration != nil {
				d.Destination.EncryptionConfiguration = &struct {
					ReplicaKmsKeyID string `json:"ReplicaKmsKeyID"`
				}{aws.ToString(dst.EncryptionConfiguration.ReplicaKmsKeyID)}
			}
			if rt := dst.ReplicationTime; rt != nil {
				d.Destination.ReplicationTime = &struct {
					Status string     `json:"Status"`
					Time   minutesDoc `json:"Time"`
				}{string(rt.Status), minutesDoc{minutes(rt.Time)}}
			}
			if m := dst.Metrics; m != nil {
				d.Destination.Metrics = &struct {
					Status         string      `json:"Status"`
					EventThreshold *minutesDoc `json:"EventThreshold,omitempty"`
				}{Status: string(m.Status)}
				if m.EventThreshold != nil {
					d.Destination.Metrics.EventThreshold = &minutesDoc{minutes(m.EventThreshold)}
				}
			}
		}
		doc.Rules = append(doc.Rules, d)
	}
	return doc
}

// plural writes n and noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
