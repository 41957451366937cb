package xacct

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// ReplicationDrift is one difference between the live setup and the spec.
type ReplicationDrift struct {
	// Account is where the difference is.
	Account string
	// Resource is the ARN of the bucket or role.
	Resource string
	// Field names what differs, such as "Versioning",
	// "Rules[logs].DeleteMarkerReplication" or "Statement[XacctReplicationDestinationWrite]".
	Field string
	// Want is the value the spec asks for; Got is the live value, "" when
	// absent.
	Want, Got string
}

// String formats the drift as "account resource field: want X, got Y".
func (d ReplicationDrift) String() string {
	return fmt.Sprintf("%s %s %s: want %q, got %q", d.Account, d.Resource, d.Field, d.Want, d.Got)
}

// Diff compares the live setup with the spec: versioning of both buckets,
// the role's trust and permission policies, the destination bucket
// policy's xacct statements (other statements are not drift) and the
// replication configuration, with V1 rules (rule-level Prefix, no
// Priority, delete markers always replicated) and V2 rules normalised to
// one form, so that only differences in meaning are reported. With no
// DestinationS3 client the destination is not compared.
func (c *ReplicationConfigurator) Diff(ctx context.Context, clients ReplicationClients) ([]ReplicationDrift, error) {
	if clients.SourceS3 == nil || clients.SourceIAM == nil {
		return nil, fmt.Errorf("%w: Diff needs SourceS3 and SourceIAM clients", ErrInvalidOption)
	}
	s := &c.spec
	var out []ReplicationDrift
	srcARN, dstARN, roleARN := BucketARN(s.Source.Bucket), BucketARN(s.Destination.Bucket), s.RoleARN()
	add := func(acct, res, field, want, got string) {
		out = append(out, ReplicationDrift{Account: acct, Resource: res, Field: field, Want: want, Got: got})
	}
	versioning := func(client versioningAPI, acct, bucket string) error {
		v, err := client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
		if err != nil {
			return fmt.Errorf("get versioning of %s: %w", bucket, err)
		}
		if v.Status != types.BucketVersioningStatusEnabled {
			add(acct, BucketARN(bucket), "Versioning", string(types.BucketVersioningStatusEnabled), string(v.Status))
		}
		return nil
	}
	if err := versioning(clients.SourceS3, s.Source.Account, s.Source.Bucket); err != nil {
		return nil, err
	}
	trust, exists, err := c.liveRole(ctx, clients.SourceIAM)
	if err != nil {
		return nil, err
	}
	if !exists {
		add(s.Source.Account, roleARN, "Role", "exists", "")
	} else {
		out = append(out, diffPolicies(s.Source.Account, roleARN, "TrustPolicy", ReplicationRoleTrustPolicy(*s), trust, false)...)
		perm, err := c.liveRolePolicy(ctx, clients.SourceIAM)
		if err != nil {
			return nil, err
		}
		out = append(out, diffPolicies(s.Source.Account, roleARN, ReplicationRolePolicyName, ReplicationRolePolicy(*s), perm, false)...)
	}
	live, err := c.liveConfiguration(ctx, clients.SourceS3)
	if err != nil {
		return nil, err
	}
	if live == nil {
		add(s.Source.Account, srcARN, "ReplicationConfiguration", "present", "")
	} else {
		for _, d := range diffConfigurations(live, c.ReplicationConfiguration()) {
			d.Account, d.Resource = s.Source.Account, srcARN
			out = append(out, d)
		}
	}
	if clients.DestinationS3 != nil {
		if err := versioning(clients.DestinationS3, s.Destination.Account, s.Destination.Bucket); err != nil {
			return nil, err
		}
		bp, err := c.liveBucketPolicy(ctx, clients.DestinationS3)
		if err != nil {
			return nil, err
		}
		out = append(out, diffPolicies(s.Destination.Account, dstARN, "BucketPolicy", ReplicationDestinationBucketPolicy(*s), bp, true)...)
	}
	return out, nil
}

// diffPolicies compares statements by Sid. With subset, live statements
// the desired policy does not name are ignored (a bucket policy's other
// statements); otherwise they are drift.
func diffPolicies(acct, res, name string, want Policy, live *Policy, subset bool) []ReplicationDrift {
	var out []ReplicationDrift
	got := map[string]Statement{}
	if live != nil {
		for _, st := range live.Statement {
			got[st.Sid] = st
		}
	}
	js := func(s Statement) string {
		b, err := marshalNoEscape(s)
		if err != nil {
			return err.Error()
		}
		return string(b)
	}
	for _, st := range want.Statement {
		field := name + ".Statement[" + st.Sid + "]"
		g, ok := got[st.Sid]
		switch {
		case !ok:
			out = append(out, ReplicationDrift{acct, res, field, js(st), ""})
		case js(g) != js(st):
			out = append(out, ReplicationDrift{acct, res, field, js(st), js(g)})
		}
		delete(got, st.Sid)
	}
	if !subset {
		for _, sid := range sortedKeys(got) {
			out = append(out, ReplicationDrift{acct, res, name + ".Statement[" + sid + "]", "", js(got[sid])})
		}
	}
	return out
}

// diffConfigurations compares two replication configurations rule by rule
// (matched by ID) after normalising each rule; Account and Resource are
// left for the caller.
func diffConfigurations(live, want *types.ReplicationConfiguration) []ReplicationDrift {
	var out []ReplicationDrift
	if aws.ToString(live.Role) != aws.ToString(want.Role) {
		out = append(out, ReplicationDrift{Field: "Role", Want: aws.ToString(want.Role), Got: aws.ToString(live.Role)})
	}
	liveRules := map[string]map[string]string{}
	for _, r := range live.Rules {
		liveRules[aws.ToString(r.ID)] = normalizeRule(r)
	}
	for _, r := range want.Rules {
		id := aws.ToString(r.ID)
		w := normalizeRule(r)
		g, ok := liveRules[id]
		if !ok {
			out = append(out, ReplicationDrift{Field: "Rules[" + id + "]", Want: "present"})
			continue
		}
		// Every field is compared, not only those the spec sets: a live
		// setting the spec does not ask for (an owner override, a replica
		// key) is drift too.
		fields := maps.Clone(w)
		maps.Copy(fields, g)
		for _, f := range sortedKeys(fields) {
			if w[f] != g[f] {
				out = append(out, ReplicationDrift{Field: "Rules[" + id + "]." + f, Want: w[f], Got: g[f]})
			}
		}
		delete(liveRules, id)
	}
	for _, id := range sortedKeys(liveRules) {
		out = append(out, ReplicationDrift{Field: "Rules[" + id + "]", Got: "present"})
	}
	return out
}

// normalizeRule flattens a rule into field → value with V1 and V2 forms
// mapped to one meaning: a V1 rule's Prefix is a prefix filter with
// priority 0 that replicates delete markers; an And filter with only a
// prefix or only one tag is that prefix or tag; absent elements are
// "Disabled" or "". Every field is present in the result whether the rule
// sets it or not, so that comparing two results finds settings only one
// side has.
func normalizeRule(r types.ReplicationRule) map[string]string {
	m := map[string]string{
		"Status":                      string(r.Status),
		"Priority":                    strconv.Itoa(int(aws.ToInt32(r.Priority))),
		"Destination.Bucket":          "",
		"Destination.Account":         "",
		"Destination.StorageClass":    "",
		"Destination.Owner":           "",
		"Destination.ReplicaKmsKeyID": "",
		"DeleteMarkerReplication":     "Disabled",
		"ReplicationTime":             "Disabled",
		"Metrics":                     "Disabled",
		"SseKmsEncryptedObjects":      "Disabled",
		"ReplicaModifications":        "Disabled",
		"ExistingObjectReplication":   "Disabled",
	}
	var prefix string
	var tags []string
	if f := r.Filter; f != nil {
		prefix = aws.ToString(f.Prefix)
		if f.Tag != nil {
			tags = append(tags, aws.ToString(f.Tag.Key)+"="+aws.ToString(f.Tag.Value))
		}
		if f.And != nil {
			prefix = aws.ToString(f.And.Prefix)
			for _, t := range f.And.Tags {
				tags = append(tags, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
			}
		}
		if r.DeleteMarkerReplication != nil && r.DeleteMarkerReplication.Status != "" {
			m["DeleteMarkerReplication"] = string(r.DeleteMarkerReplication.Status)
		}
	} else {
		//lint:ignore SA1019 a V1 rule is read to normalise it
		prefix = aws.ToString(r.Prefix)
		m["DeleteMarkerReplication"] = "Enabled"
	}
	slices.Sort(tags)
	m["Filter.Prefix"] = prefix
	m["Filter.Tags"] = strings.Join(tags, "&")
	if c := r.SourceSelectionCriteria; c != nil {
		if c.SseKmsEncryptedObjects != nil {
			m["SseKmsEncryptedObjects"] = string(c.SseKmsEncryptedObjects.Status)
		}
		if c.ReplicaModifications != nil {
			m["ReplicaModifications"] = string(c.ReplicaModifications.Status)
		}
	}
	if r.ExistingObjectReplication != nil {
		m["ExistingObjectReplication"] = string(r.ExistingObjectReplication.Status)
	}
	if d := r.Destination; d != nil {
		m["Destination.Bucket"] = aws.ToString(d.Bucket)
		m["Destination.Account"] = aws.ToString(d.Account)
		m["Destination.StorageClass"] = string(d.StorageClass)
		if d.AccessControlTranslation != nil {
			m["Destination.Owner"] = string(d.AccessControlTranslation.Owner)
		}
		if d.EncryptionConfiguration != nil {
			m["Destination.ReplicaKmsKeyID"] = aws.ToString(d.EncryptionConfiguration.ReplicaKmsKeyID)
		}
		if t := d.ReplicationTime; t != nil && t.Status == types.ReplicationTimeStatusEnabled {
			m["ReplicationTime"] = "Enabled/" + minutesOf(t.Time)
		}
		if mt := d.Metrics; mt != nil && mt.Status == types.MetricsStatusEnabled {
			m["Metrics"] = "Enabled/" + minutesOf(mt.EventThreshold)
		}
	}
	return m
}

func minutesOf(v *types.ReplicationTimeValue) string {
	if v == nil || v.Minutes == nil {
		return strconv.Itoa(ReplicationTimeMinutes)
	}
	return strconv.Itoa(int(*v.Minutes))
}
