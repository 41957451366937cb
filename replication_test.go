package xacct_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
)

const (
	replA      = "111111111111"
	replB      = "222222222222"
	replicaKey = "arn:aws:kms:us-east-1:222222222222:key/replica-1"
	sourceKey  = "arn:aws:kms:us-east-1:111111111111:key/source-1"
)

func baseReplicationSpec() xacct.ReplicationSpec {
	return xacct.ReplicationSpec{
		Source:      xacct.ReplicationBucket{Bucket: "team-a-data", Account: replA, Region: "us-east-1"},
		Destination: xacct.ReplicationBucket{Bucket: "team-b-replica", Account: replB, Region: "us-east-1"},
		RoleName:    "xacct-replication",
		Rules: []xacct.ReplicationRule{
			{ID: "all", Priority: 1, Filter: xacct.PrefixFilter("")},
		},
	}
}

func TestReplicationSpecValidate(t *testing.T) {
	ptr := func(s string) *string { return &s }
	cases := []struct {
		name  string
		edit  func(*xacct.ReplicationSpec)
		field string
		rule  string
	}{
		{"source versioning suspended", func(s *xacct.ReplicationSpec) { s.Source.Versioning = types.BucketVersioningStatusSuspended }, "Source.Versioning", "versioning Enabled on both"},
		{"destination versioning suspended", func(s *xacct.ReplicationSpec) { s.Destination.Versioning = types.BucketVersioningStatusSuspended }, "Destination.Versioning", "versioning Enabled on both"},
		{"no rules", func(s *xacct.ReplicationSpec) { s.Rules = nil }, "Rules", "at least one rule"},
		{"too many rules", func(s *xacct.ReplicationSpec) {
			s.Rules = nil
			for i := range 1001 {
				s.Rules = append(s.Rules, xacct.ReplicationRule{ID: fmt.Sprint(i), Priority: int32(i), Filter: xacct.PrefixFilter(fmt.Sprint(i))})
			}
		}, "Rules", "at most 1000"},
		{"duplicate rule id", func(s *xacct.ReplicationSpec) {
			s.Rules = append(s.Rules, xacct.ReplicationRule{ID: "all", Priority: 2})
		}, "Rules[1].ID", "unique"},
		{"empty rule id", func(s *xacct.ReplicationSpec) { s.Rules[0].ID = "" }, "Rules[0].ID", "required"},
		{"rule id too long", func(s *xacct.ReplicationSpec) { s.Rules[0].ID = strings.Repeat("r", 256) }, "Rules[0].ID", "at most 255"},
		{"V1 rule prefix", func(s *xacct.ReplicationSpec) { s.Rules[0].Prefix = "logs/" }, "Rules[0].Prefix", "V2 schema"},
		{"prefix and tag in one filter", func(s *xacct.ReplicationSpec) {
			s.Rules[0].Filter = xacct.ReplicationFilter{Prefix: ptr("a/"), Tag: &xacct.ReplicationTag{Key: "k", Value: "v"}}
		}, "Rules[0].Filter", "exactly one of Prefix, Tag and And"},
		{"and with a prefix alone", func(s *xacct.ReplicationSpec) { s.Rules[0].Filter = xacct.AndFilter("a/") }, "Rules[0].Filter.And", "at least one tag"},
		{"duplicate priority", func(s *xacct.ReplicationSpec) {
			s.Rules = append(s.Rules, xacct.ReplicationRule{ID: "two", Priority: 1, Filter: xacct.PrefixFilter("b/")})
		}, "Rules[1].Priority", "unique"},
		{"delete markers with tag filter", func(s *xacct.ReplicationSpec) {
			s.Rules[0].Filter = xacct.TagFilter("class", "gold")
			s.Rules[0].DeleteMarkers = true
		}, "Rules[0].DeleteMarkers", "not supported for rules that filter on tags"},
		{"delete markers with and filter", func(s *xacct.ReplicationSpec) {
			s.Rules[0].Filter = xacct.AndFilter("a/", xacct.ReplicationTag{Key: "k", Value: "v"})
			s.Rules[0].DeleteMarkers = true
		}, "Rules[0].DeleteMarkers", "not supported for rules that filter on tags"},
		{"owner override without destination account", func(s *xacct.ReplicationSpec) {
			s.Destination.Account = ""
			s.Rules[0].OwnerOverride = true
		}, "Rules[0].OwnerOverride", "needs Destination.Account"},
		{"owner override within one account", func(s *xacct.ReplicationSpec) {
			s.Destination.Account = replA
			s.Rules[0].OwnerOverride = true
		}, "Rules[0].OwnerOverride", "refused when both buckets are in one account"},
		{"RTC without metrics", func(s *xacct.ReplicationSpec) { s.Rules[0].ReplicationTime = true }, "Rules[0].Metrics", "needs replication metrics"},
		{"SSE-KMS without replica key", func(s *xacct.ReplicationSpec) {
			s.Rules[0].SSEKMS = true
			s.SourceKMSKeyARNs = []string{sourceKey}
		}, "Rules[0].ReplicaKMSKeyARN", "replica KMS key"},
		{"SSE-KMS replica key in another region", func(s *xacct.ReplicationSpec) {
			s.Rules[0].SSEKMS = true
			s.Rules[0].ReplicaKMSKeyARN = "arn:aws:kms:eu-west-1:222222222222:key/k"
			s.SourceKMSKeyARNs = []string{sourceKey}
		}, "Rules[0].ReplicaKMSKeyARN", "destination region"},
		{"SSE-KMS without source keys", func(s *xacct.ReplicationSpec) {
			s.Rules[0].SSEKMS = true
			s.Rules[0].ReplicaKMSKeyARN = replicaKey
		}, "SourceKMSKeyARNs", "source keys"},
		{"ExistingObjectReplication", func(s *xacct.ReplicationSpec) { s.Rules[0].ExistingObjects = true }, "Rules[0].ExistingObjects", "Batch Replication"},
		{"object lock on the source only", func(s *xacct.ReplicationSpec) { s.Source.ObjectLock = true }, "Destination.ObjectLock", "must have it too"},
		{"unknown storage class", func(s *xacct.ReplicationSpec) { s.Rules[0].StorageClass = "COLD" }, "Rules[0].StorageClass", "storage class"},
		{"bad role name", func(s *xacct.ReplicationSpec) { s.RoleName = "no spaces" }, "RoleName", "letters, digits"},
		{"bad account", func(s *xacct.ReplicationSpec) { s.Source.Account = "12" }, "Source.Account", "12-digit"},
		{"bad bucket", func(s *xacct.ReplicationSpec) { s.Destination.Bucket = "No_Caps" }, "Destination.Bucket", "lowercase"},
		{"no region", func(s *xacct.ReplicationSpec) { s.Destination.Region = "" }, "Destination.Region", "required"},
		{"same bucket", func(s *xacct.ReplicationSpec) { s.Destination.Bucket = s.Source.Bucket }, "Destination.Bucket", "differ"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := baseReplicationSpec()
			c.edit(&spec)
			err := spec.Validate()
			require.Error(t, err)
			assert.ErrorIs(t, err, xacct.ErrInvalidReplication)
			var found bool
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var ve *xacct.ValidationError
				require.True(t, errors.As(e, &ve))
				if ve.Field == c.field && strings.Contains(ve.Rule, c.rule) {
					found = true
				}
			}
			assert.True(t, found, "want %s: %s in %v", c.field, c.rule, err)
			_, err = xacct.NewReplicationConfigurator(spec)
			assert.ErrorIs(t, err, xacct.ErrInvalidReplication)
		})
	}
}

func TestReplicationSpecValidCombinations(t *testing.T) {
	spec := baseReplicationSpec()
	spec.Source.ObjectLock, spec.Destination.ObjectLock = true, true
	spec.Backfill = true
	spec.SourceKMSKeyARNs = []string{sourceKey}
	spec.Rules = []xacct.ReplicationRule{
		{ID: "logs", Priority: 2, Filter: xacct.PrefixFilter("logs/"), DeleteMarkers: true, StorageClass: types.StorageClassStandardIa,
			ReplicationTime: true, Metrics: true, OwnerOverride: true, SSEKMS: true, ReplicaKMSKeyARN: replicaKey, ReplicaModifications: true},
		{ID: "gold", Priority: 1, Filter: xacct.AndFilter("data/", xacct.ReplicationTag{Key: "class", Value: "gold"})},
		{ID: "tagged", Priority: 0, Filter: xacct.TagFilter("replicate", "yes"), Disabled: true},
	}
	require.NoError(t, spec.Validate())
	w := spec.Warnings()
	require.Len(t, w, 2)
	assert.Contains(t, w[0], "only tags present when an object is created")
}

func fullReplicationSpec() xacct.ReplicationSpec {
	spec := baseReplicationSpec()
	spec.Source.ObjectLock, spec.Destination.ObjectLock = true, true
	spec.Backfill = true
	spec.SourceKMSKeyARNs = []string{sourceKey}
	spec.Rules[0].DeleteMarkers = true
	spec.Rules[0].OwnerOverride = true
	spec.Rules[0].SSEKMS = true
	spec.Rules[0].ReplicaKMSKeyARN = replicaKey
	return spec
}

func TestReplicationPoliciesLintClean(t *testing.T) {
	for name, spec := range map[string]xacct.ReplicationSpec{"base": baseReplicationSpec(), "full": fullReplicationSpec()} {
		t.Run(name, func(t *testing.T) {
			assert.Empty(t, xacct.Lint(xacct.ReplicationRoleTrustPolicy(spec), xacct.PolicyKindTrust))
			assert.Empty(t, xacct.Lint(xacct.ReplicationRolePolicy(spec), xacct.PolicyKindIdentity))
			assert.Empty(t, xacct.Lint(xacct.ReplicationDestinationBucketPolicy(spec), xacct.PolicyKindBucket))
			if kp := xacct.ReplicationReplicaKeyPolicy(spec); len(kp.Statement) > 0 {
				assert.Empty(t, xacct.Lint(kp, xacct.PolicyKindBucket))
			}
		})
	}
}

func TestReplicationPoliciesOnlyWhatIsUsed(t *testing.T) {
	base := baseReplicationSpec()
	sids := func(p xacct.Policy) []string {
		var out []string
		for _, s := range p.Statement {
			out = append(out, s.Sid)
		}
		return out
	}
	assert.Equal(t, []string{"XacctReplicationTrustS3"}, sids(xacct.ReplicationRoleTrustPolicy(base)))
	assert.Equal(t, []string{"XacctReplicationSourceBucket", "XacctReplicationSourceRead", "XacctReplicationDestinationWrite"}, sids(xacct.ReplicationRolePolicy(base)))
	dst := xacct.ReplicationDestinationBucketPolicy(base)
	assert.Equal(t, xacct.StringList{"s3:ReplicateObject", "s3:ReplicateTags"}, dst.Statement[0].Action)
	assert.Empty(t, xacct.ReplicationReplicaKeyPolicy(base).Statement)

	full := fullReplicationSpec()
	assert.Equal(t, []string{"XacctReplicationTrustS3", "XacctReplicationTrustBatchOperations"}, sids(xacct.ReplicationRoleTrustPolicy(full)))
	assert.Equal(t, []string{
		"XacctReplicationSourceBucket", "XacctReplicationSourceRead", "XacctReplicationSourceObjectLock", "XacctReplicationDestinationWrite",
		"XacctReplicationBatchInitiate", "XacctReplicationBatchManifest", "XacctReplicationSourceKeyDecrypt", "XacctReplicationReplicaKeyEncrypt",
	}, sids(xacct.ReplicationRolePolicy(full)))
	dst = xacct.ReplicationDestinationBucketPolicy(full)
	assert.Equal(t, xacct.StringList{"s3:ObjectOwnerOverrideToBucketOwner", "s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"}, dst.Statement[0].Action)
	kp := xacct.ReplicationReplicaKeyPolicy(full)
	require.Len(t, kp.Statement, 1)
	assert.Equal(t, xacct.StringList{replicaKey}, kp.Statement[0].Resource)

	prefixed := baseReplicationSpec()
	prefixed.Rules = []xacct.ReplicationRule{{ID: "a", Priority: 1, Filter: xacct.PrefixFilter("logs/")}, {ID: "b", Priority: 2, Filter: xacct.AndFilter("data/", xacct.ReplicationTag{Key: "k", Value: "v"})}}
	rp := xacct.ReplicationRolePolicy(prefixed)
	assert.Equal(t, xacct.StringList{"arn:aws:s3:::team-a-data/data/*", "arn:aws:s3:::team-a-data/logs/*"}, rp.Statement[1].Resource)
}

func TestReplicationPlanOrderAndPrint(t *testing.T) {
	c, err := xacct.NewReplicationConfigurator(fullReplicationSpec())
	require.NoError(t, err)
	p := c.Plan()
	var kinds []string
	for _, s := range p.Steps() {
		kinds = append(kinds, s.Account+":"+string(s.Kind))
	}
	assert.Equal(t, []string{
		replA + ":versioning", replA + ":role", replA + ":role-policy", replA + ":replication-configuration",
		replB + ":versioning", replB + ":bucket-policy", replB + ":key-policy",
	}, kinds)
	text := p.String()
	assert.Contains(t, text, "account 111111111111 (source):")
	assert.Contains(t, text, "account 222222222222 (destination):")
	assert.Contains(t, text, "key-policy [manual]")
	assert.Contains(t, text, `"DeleteMarkerReplication"`)

	raw, err := p.JSON()
	require.NoError(t, err)
	var back struct {
		Source struct {
			Steps []struct {
				Kind          string          `json:"kind"`
				Configuration json.RawMessage `json:"configuration"`
			} `json:"steps"`
		} `json:"source"`
		Destination struct {
			Account string `json:"account"`
		} `json:"destination"`
	}
	require.NoError(t, json.Unmarshal(raw, &back))
	assert.Equal(t, replB, back.Destination.Account)
	assert.JSONEq(t, `{"Role":"arn:aws:iam::111111111111:role/xacct-replication","Rules":[{"ID":"all","Priority":1,
		"Filter":{"Prefix":""},"Status":"Enabled","DeleteMarkerReplication":{"Status":"Enabled"},
		"SourceSelectionCriteria":{"SseKmsEncryptedObjects":{"Status":"Enabled"}},
		"Destination":{"Bucket":"arn:aws:s3:::team-b-replica","Account":"222222222222",
		"AccessControlTranslation":{"Owner":"Destination"},
		"EncryptionConfiguration":{"ReplicaKmsKeyID":"`+replicaKey+`"}}}]}`, string(back.Source.Steps[3].Configuration))
}

// The replication role's trust statements have no aws:SourceAccount or
// aws:SourceArn condition: AWS's trust policies for replication and Batch
// Replication have none, and iam:PassRole guards the role instead.
func TestReplicationTrustHasNoSourceConditions(t *testing.T) {
	trust := xacct.ReplicationRoleTrustPolicy(fullReplicationSpec())
	require.Len(t, trust.Statement, 2)
	for _, st := range trust.Statement {
		assert.Empty(t, st.Condition, st.Sid)
		assert.Equal(t, xacct.StringList{"sts:AssumeRole"}, st.Action, st.Sid)
	}
	assert.Equal(t, xacct.StringList{xacct.ServiceS3}, trust.Statement[0].Principal.Service)
	assert.Equal(t, xacct.StringList{xacct.ServiceBatchOperations}, trust.Statement[1].Principal.Service)
	assert.Empty(t, xacct.Lint(trust, xacct.PolicyKindTrust), "service trust without source conditions lints clean for S3")
}
