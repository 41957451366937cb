package xacct

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	"github.com/aws/aws-sdk-go-v2/service/datasync/types"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// DataSyncPlan is what a DataSync transfer needs in each account, as
// NewDataSyncPlan derives it from a spec. Print it with String (text) or
// JSON; apply it with DataSyncPlanner.Apply. Apply works in this order:
// the role (source account), the bucket policy and ownership controls
// (destination account), then the two locations and the task (source
// account), because DataSync checks the destination bucket when the
// destination location is created.
type DataSyncPlan struct {
	// Spec is the validated spec with its defaults filled in.
	Spec DataSyncSpec `json:"spec"`
	// Source is the source account's part; Destination the destination
	// account's.
	Source      DataSyncSourcePlan      `json:"sourceAccount"`
	Destination DataSyncDestinationPlan `json:"destinationAccount"`
}

// DataSyncSourcePlan is the source account's part of a DataSyncPlan.
type DataSyncSourcePlan struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	// RoleName and RoleARN name the role DataSync assumes.
	RoleName string `json:"roleName"`
	RoleARN  string `json:"roleArn"`
	// TrustPolicy is the role's trust policy: DataSyncRoleTrustPolicy.
	TrustPolicy Policy `json:"trustPolicy"`
	// RolePolicyName names the role's inline permission policy,
	// RolePolicy: DataSyncRolePolicy.
	RolePolicyName string `json:"rolePolicyName"`
	RolePolicy     Policy `json:"rolePolicy"`
	// OperatorPolicy is what the principal that applies and runs the plan
	// needs in its identity policies: DataSyncOperatorPolicy.
	OperatorPolicy Policy `json:"operatorPolicy"`
	// SourceLocation and DestinationLocation are the CreateLocationS3
	// inputs.
	SourceLocation      *datasync.CreateLocationS3Input `json:"-"`
	DestinationLocation *datasync.CreateLocationS3Input `json:"-"`
	// Task is the CreateTask input; Apply fills in the two location ARNs.
	Task *datasync.CreateTaskInput `json:"-"`
}

// DataSyncDestinationPlan is the destination account's part of a
// DataSyncPlan.
type DataSyncDestinationPlan struct {
	Account string `json:"account"`
	Bucket  string `json:"bucket"`
	// BucketPolicy holds the statements merged, by Sid, into the
	// bucket's policy: DataSyncDestinationBucketPolicy. Other statements
	// are kept.
	BucketPolicy Policy `json:"bucketPolicy"`
	// ObjectOwnership is always BucketOwnerEnforced: objects DataSync
	// writes as the source account's role then belong to the bucket
	// owner, and ACLs play no part.
	ObjectOwnership s3types.ObjectOwnership `json:"objectOwnership"`
	// KMSKeyARN and KMSKeyPolicyStatement are set when the destination
	// bucket encrypts with a KMS key: the statement goes into that key's
	// policy, by its owners (Apply does not change key policies).
	KMSKeyARN             string     `json:"kmsKeyArn,omitempty"`
	KMSKeyPolicyStatement *Statement `json:"kmsKeyPolicyStatement,omitempty"`
}

// NewDataSyncPlan validates spec and returns its plan. It makes no call.
func NewDataSyncPlan(spec DataSyncSpec) (*DataSyncPlan, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	s := spec.withDefaults()
	role := s.RoleARN()
	p := &DataSyncPlan{
		Spec: s,
		Source: DataSyncSourcePlan{
			Account:        s.Source.Account,
			Region:         s.Region,
			RoleName:       s.RoleName,
			RoleARN:        role,
			TrustPolicy:    DataSyncRoleTrustPolicy(s.Source.Account, s.Region),
			RolePolicyName: s.RoleName,
			RolePolicy:     DataSyncRolePolicy(s),
			OperatorPolicy: DataSyncOperatorPolicy(s),
		},
		Destination: DataSyncDestinationPlan{
			Account:         s.Destination.Account,
			Bucket:          s.Destination.Bucket,
			BucketPolicy:    DataSyncDestinationBucketPolicy(s),
			ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced,
		},
	}
	if s.DestinationKMSKeyARN != "" {
		st := DataSyncKMSKeyPolicyStatement(s)
		p.Destination.KMSKeyARN, p.Destination.KMSKeyPolicyStatement = s.DestinationKMSKeyARN, &st
	}
	p.Source.SourceLocation = s.locationInput(s.Source, "source", "")
	p.Source.DestinationLocation = s.locationInput(s.Destination, "destination", s.StorageClass)
	p.Source.Task = s.taskInput()
	return p, nil
}

func (s DataSyncSpec) resourceTags(extra ...types.TagListEntry) []types.TagListEntry {
	tags := []types.TagListEntry{{Key: aws.String(DataSyncTagTask), Value: aws.String(s.TaskName)}}
	tags = append(tags, extra...)
	for _, k := range slices.Sorted(maps.Keys(s.Tags)) {
		tags = append(tags, types.TagListEntry{Key: aws.String(k), Value: aws.String(s.Tags[k])})
	}
	return tags
}

func (s DataSyncSpec) locationInput(e DataSyncEndpoint, kind string, class types.S3StorageClass) *datasync.CreateLocationS3Input {
	in := &datasync.CreateLocationS3Input{
		S3BucketArn:    aws.String(BucketARN(e.Bucket)),
		S3Config:       &types.S3Config{BucketAccessRoleArn: aws.String(s.RoleARN())},
		S3StorageClass: class,
		Tags:           s.resourceTags(types.TagListEntry{Key: aws.String(DataSyncTagRole), Value: aws.String(kind)}),
	}
	if sub := strings.Trim(e.Subdirectory, "/"); sub != "" {
		in.Subdirectory = aws.String(sub)
	}
	return in
}

func (s DataSyncSpec) taskInput() *datasync.CreateTaskInput {
	opts := s.Options
	in := &datasync.CreateTaskInput{
		Name:     aws.String(s.TaskName),
		TaskMode: s.TaskMode,
		Includes: filterRules(s.Includes),
		Excludes: filterRules(s.Excludes),
		Tags:     s.resourceTags(),
	}
	if opts != (types.Options{}) {
		in.Options = &opts
	}
	if s.Schedule != "" {
		in.Schedule = &types.TaskSchedule{ScheduleExpression: aws.String(s.Schedule)}
	}
	if s.CloudWatchLogGroupARN != "" {
		in.CloudWatchLogGroupArn = aws.String(s.CloudWatchLogGroupARN)
	}
	if m := s.Manifest; m != nil {
		c := *m
		src := *m.Source
		s3 := *m.Source.S3
		if s3.BucketAccessRoleArn == nil {
			s3.BucketAccessRoleArn = aws.String(s.RoleARN())
		}
		src.S3, c.Source = &s3, &src
		in.ManifestConfig = &c
	}
	if r := s.TaskReport; r != nil {
		c := *r
		dst := *r.Destination
		s3 := *r.Destination.S3
		if s3.BucketAccessRoleArn == nil {
			s3.BucketAccessRoleArn = aws.String(s.RoleARN())
		}
		dst.S3, c.Destination = &s3, &dst
		in.TaskReportConfig = &c
	}
	return in
}

// filterRules turns patterns into the one SIMPLE_PATTERN rule DataSync
// takes, the patterns joined with "|"; nil for none.
func filterRules(patterns []string) []types.FilterRule {
	if len(patterns) == 0 {
		return nil
	}
	return []types.FilterRule{{FilterType: types.FilterTypeSimplePattern, Value: aws.String(strings.Join(patterns, "|"))}}
}

// MarshalJSON writes the plan with the API inputs in the shape the
// DataSync API takes them (AWS member names, unset members left out).
func (p DataSyncPlan) MarshalJSON() ([]byte, error) {
	type wire struct {
		DataSyncSourcePlan
		CreateLocationS3Source      json.RawMessage `json:"createLocationS3Source"`
		CreateLocationS3Destination json.RawMessage `json:"createLocationS3Destination"`
		CreateTask                  json.RawMessage `json:"createTask"`
	}
	var w wire
	w.DataSyncSourcePlan = p.Source
	var err error
	if w.CreateLocationS3Source, err = apiJSON(p.Source.SourceLocation); err != nil {
		return nil, err
	}
	if w.CreateLocationS3Destination, err = apiJSON(p.Source.DestinationLocation); err != nil {
		return nil, err
	}
	if w.CreateTask, err = apiJSON(p.Source.Task); err != nil {
		return nil, err
	}
	spec, err := apiJSON(p.Spec)
	if err != nil {
		return nil, err
	}
	return marshalNoEscape(struct {
		Spec        json.RawMessage         `json:"spec"`
		Source      wire                    `json:"sourceAccount"`
		Destination DataSyncDestinationPlan `json:"destinationAccount"`
	}{spec, w, p.Destination})
}

// JSON returns the plan as indented JSON.
func (p *DataSyncPlan) JSON() ([]byte, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("marshal plan: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("indent plan: %w", err)
	}
	return buf.Bytes(), nil
}

// String returns the plan as text, one numbered step per change, grouped
// by account, in the order Apply makes them.
func (p *DataSyncPlan) String() string {
	var b strings.Builder
	s := p.Spec
	fmt.Fprintf(&b, "DataSync task %q (%s) in %s: %s (account %s, %s) -> %s (account %s, %s)\n",
		s.TaskName, s.TaskMode, s.Region, s.Source.LocationURI(), s.Source.Account, s.Source.Region,
		s.Destination.LocationURI(), s.Destination.Account, s.Destination.Region)
	indent := func(text string) string {
		return "      " + strings.ReplaceAll(strings.TrimRight(text, "\n"), "\n", "\n      ")
	}
	api := func(v any) string {
		raw, err := apiJSON(v)
		if err != nil {
			return "invalid: " + err.Error()
		}
		var buf bytes.Buffer
		_ = json.Indent(&buf, raw, "", "  ")
		return buf.String()
	}
	src, dst := p.Source, p.Destination
	fmt.Fprintf(&b, "\nAccount %s (source):\n", src.Account)
	fmt.Fprintf(&b, "  1. IAM role %s (%s), trusted by %s:\n%s\n", src.RoleName, src.RoleARN, DataSyncServicePrincipal, indent(src.TrustPolicy.String()))
	fmt.Fprintf(&b, "     inline policy %s:\n%s\n", src.RolePolicyName, indent(src.RolePolicy.String()))
	fmt.Fprintf(&b, "  4. CreateLocationS3 (source):\n%s\n", indent(api(src.SourceLocation)))
	fmt.Fprintf(&b, "  5. CreateLocationS3 (destination), called by %s:\n%s\n", s.Operator, indent(api(src.DestinationLocation)))
	fmt.Fprintf(&b, "  6. CreateTask (from the two locations):\n%s\n", indent(api(src.Task)))
	fmt.Fprintf(&b, "  The operator %s needs:\n%s\n", s.Operator, indent(src.OperatorPolicy.String()))
	fmt.Fprintf(&b, "\nAccount %s (destination):\n", dst.Account)
	fmt.Fprintf(&b, "  2. merge into the bucket policy of %s (by Sid; other statements stay):\n%s\n", dst.Bucket, indent(dst.BucketPolicy.String()))
	fmt.Fprintf(&b, "  3. object ownership of %s: %s\n", dst.Bucket, dst.ObjectOwnership)
	if st := dst.KMSKeyPolicyStatement; st != nil {
		fmt.Fprintf(&b, "  Add to the key policy of %s (not applied by xacct):\n%s\n", dst.KMSKeyARN, indent(NewPolicy(*st).String()))
	}
	return b.String()
}

// apiJSON marshals an SDK input as the API takes it: members that are
// nil, empty or zero are left out.
func apiJSON(v any) (json.RawMessage, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal %T: %w", v, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("decode %T: %w", v, err)
	}
	pruned, _ := prune(tree)
	out, err := marshalNoEscape(pruned)
	if err != nil {
		return nil, fmt.Errorf("marshal %T: %w", v, err)
	}
	return out, nil
}

// prune drops nulls, empty strings, empty objects and arrays from a
// decoded JSON tree; keep is false when nothing is left of v.
func prune(v any) (out any, keep bool) {
	switch t := v.(type) {
	case nil:
		return nil, false
	case string:
		return t, t != ""
	case map[string]any:
		for k, e := range t {
			if p, ok := prune(e); ok {
				t[k] = p
			} else {
				delete(t, k)
			}
		}
		return t, len(t) > 0
	case []any:
		kept := t[:0]
		for _, e := range t {
			if p, ok := prune(e); ok {
				kept = append(kept, p)
			}
		}
		return kept, len(kept) > 0
	}
	return v, true
}
