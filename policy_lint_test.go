package xacct_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/xacct/xacct"
)

func TestLint(t *testing.T) {
	s3Objects := xacct.StringList{"arn:aws:s3:::b/*"}
	tests := []struct {
		name string
		kind xacct.PolicyKind
		p    xacct.Policy
		want []string
	}{
		{"builders are clean: trust", xacct.PolicyKindTrust, xacct.CopyRoleTrustPolicy("111122223333", "ext"), nil},
		{"builders are clean: identity", xacct.PolicyKindIdentity, xacct.CopyRolePolicy(xacct.Location{Bucket: "src"}, xacct.Location{Bucket: "dst", Prefix: "p/"}, xacct.WithDeleteAccess()), nil},
		{"builders are clean: bucket", xacct.PolicyKindBucket, xacct.SourceBucketPolicy(xacct.Location{Bucket: "src"}, "111122223333", xacct.WithSecureTransport()), nil},
		{"action star", xacct.PolicyKindIdentity, xacct.NewPolicy(xacct.Statement{Sid: "All", Effect: xacct.EffectAllow, Action: xacct.StringList{"*"}, Resource: s3Objects}),
			[]string{`warning: All Action: "*" allows every action of every service; list the actions needed`}},
		{"service wide action and resource star", xacct.PolicyKindIdentity, xacct.NewPolicy(xacct.Statement{Effect: xacct.EffectAllow, Action: xacct.StringList{"s3:*"}, Resource: xacct.StringList{"*"}}),
			[]string{
				`warning: Statement[0] Action: "s3:*" allows every action of the service; list the actions needed`,
				`warning: Statement[0] Resource: applies to every resource; name the bucket and object ARNs needed`,
			}},
		{"wildcards in a Deny are fine", xacct.PolicyKindIdentity, xacct.NewPolicy(xacct.Statement{Effect: xacct.EffectDeny, Action: xacct.StringList{"*"}, Resource: xacct.StringList{"*"}}), nil},
		{"NotAction allow", xacct.PolicyKindIdentity, xacct.NewPolicy(xacct.Statement{Effect: xacct.EffectAllow, NotAction: xacct.StringList{"iam:*"}, Resource: s3Objects}),
			[]string{"warning: Statement[0] NotAction: Allow with NotAction allows every action not listed, including future ones; list the actions needed in Action"}},
		{"public bucket", xacct.PolicyKindBucket, xacct.NewPolicy(xacct.Statement{Sid: "Public", Effect: xacct.EffectAllow, Principal: xacct.AnyPrincipal(), Action: xacct.StringList{"s3:GetObject"}, Resource: s3Objects}),
			[]string{`error: Public Principal: "*" without a Condition allows anyone; name the principals or add conditions`}},
		{"star principal with a condition", xacct.PolicyKindBucket, xacct.NewPolicy(xacct.Statement{Effect: xacct.EffectAllow, Principal: &xacct.Principal{AWS: xacct.StringList{"*"}}, Action: xacct.StringList{"s3:GetObject"}, Resource: s3Objects,
			Condition: xacct.Conditions{"StringEquals": {"aws:PrincipalOrgID": {"o-123"}}}}), nil},
		{"service trust without source conditions", xacct.PolicyKindTrust, xacct.NewPolicy(xacct.Statement{Sid: "DataSync", Effect: xacct.EffectAllow, Principal: xacct.ServicePrincipal("datasync.amazonaws.com"), Action: xacct.StringList{"sts:AssumeRole"}}),
			[]string{"warning: DataSync Condition: trust of datasync.amazonaws.com without aws:SourceAccount or aws:SourceArn lets the service assume this role on behalf of any account (confused deputy)"}},
		{"service trust with source account", xacct.PolicyKindTrust, xacct.NewPolicy(xacct.Statement{Effect: xacct.EffectAllow, Principal: xacct.ServicePrincipal("s3.amazonaws.com", "batchoperations.s3.amazonaws.com"), Action: xacct.StringList{"sts:AssumeRole"},
			Condition: xacct.Conditions{"StringEquals": {"aws:SourceAccount": {"111122223333"}}}}), nil},
		{"ec2 trust is not a confused deputy case", xacct.PolicyKindTrust, xacct.NewPolicy(xacct.Statement{Effect: xacct.EffectAllow, Principal: xacct.ServicePrincipal("ec2.amazonaws.com"), Action: xacct.StringList{"sts:AssumeRole"}}), nil},
		{"account trust without external id", xacct.PolicyKindTrust, xacct.CopyRoleTrustPolicy("111122223333", ""),
			[]string{"warning: XacctAssumeRole Condition: cross-account trust without sts:ExternalId; a third party that assumes roles for many customers should be required to present one (confused deputy)"}},
		{"kind rules", xacct.PolicyKindIdentity, xacct.Policy{Statement: []xacct.Statement{{Effect: xacct.EffectAllow, Principal: xacct.AnyPrincipal(), Action: xacct.StringList{"s3:GetObject"}}}},
			[]string{
				"suggestion: Version: missing; AWS then uses 2008-10-17, without policy variables; use 2012-10-17",
				"error: Statement[0] Principal: identity policies must not name a principal",
				"error: Statement[0] Resource: identity policy statements need a Resource",
			}},
		{"trust with resource, bucket without principal", xacct.PolicyKindTrust, xacct.NewPolicy(xacct.Statement{Effect: xacct.EffectDeny, Action: xacct.StringList{"sts:AssumeRole"}, Resource: s3Objects}),
			[]string{"error: Statement[0] Principal: trust policy statements need a Principal", "error: Statement[0] Resource: trust policies must not have a Resource"}},
		{"bucket without principal or resource", xacct.PolicyKindBucket, xacct.NewPolicy(xacct.Statement{Effect: xacct.EffectDeny, Action: xacct.StringList{"s3:*"}}),
			[]string{"error: Statement[0] Principal: bucket policy statements need a Principal", "error: Statement[0] Resource: bucket policy statements need a Resource"}},
		{"validation errors are findings", xacct.PolicyKindIdentity, xacct.NewPolicy(xacct.Statement{Sid: "Bad", Effect: "Permit", Action: xacct.StringList{"s3:GetObject"}, Resource: s3Objects}),
			[]string{`error: Bad Effect: "Permit": must be Allow or Deny`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range xacct.Lint(tt.p, tt.kind) {
				got = append(got, f.String())
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestLintFindingFields(t *testing.T) {
	f := xacct.Lint(xacct.NewPolicy(xacct.Statement{Sid: "All", Effect: xacct.EffectAllow, Action: xacct.StringList{"*"}, Resource: xacct.StringList{"arn:aws:s3:::b"}}), xacct.PolicyKindIdentity)
	assert.Equal(t, []xacct.Finding{{Statement: "All", Field: "Action", Message: `"*" allows every action of every service; list the actions needed`, Severity: xacct.SeverityWarning}}, f)
	assert.Equal(t, "trust", xacct.PolicyKindTrust.String())
	assert.Equal(t, "error", xacct.SeverityError.String())
}
