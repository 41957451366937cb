package xacct_test

import (
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// mergeTrust merges s into the trust policy of role name in account B.
func (f *sessionFixture) mergeTrust(t *testing.T, name string, s xacct.Statement) {
	t.Helper()
	ctx := t.Context()
	iamB := f.sb.IAM(f.sb.Root(sandbox.AccountB))
	got, err := iamB.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	require.NoError(t, err)
	doc, err := url.QueryUnescape(aws.ToString(got.Role.AssumeRolePolicyDocument))
	require.NoError(t, err)
	existing, err := xacct.ParsePolicy([]byte(doc))
	require.NoError(t, err)
	merged, changed, err := xacct.MergeStatements(existing, s)
	require.NoError(t, err)
	require.True(t, changed)
	_, err = iamB.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(name), PolicyDocument: aws.String(policyJSON(t, *merged))})
	require.NoError(t, err)
}

// findingsFor returns the report's findings and denied checks of action.
func findingsFor(rep *xacct.PreflightReport, action string) (findings []*xacct.PreflightFinding, denied []xacct.PreflightCheck) {
	for _, f := range rep.Findings {
		if f.Action == action {
			findings = append(findings, f)
		}
	}
	for _, c := range rep.Checks {
		if c.Action == action && c.Result == xacct.CheckDenied {
			denied = append(denied, c)
		}
	}
	return findings, denied
}

// The fixes for a refused sts:TagSession grant sts:TagSession and nothing
// else: merged into a trust policy that requires MFA for sts:AssumeRole,
// the trust statement lets the MFA session carry its tags and lets no
// session without MFA in.
func TestPreflightTagSessionFixKeepsTheRoleConditions(t *testing.T) {
	f := newSessionFixture(t)
	ctx := t.Context()
	const mfa = `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`
	arn := f.role(t, "mfa-copy", []string{"sts:AssumeRole"}, mfa, "")
	tags := xacct.WithSessionTags(map[string]string{"team": "data"})
	var calls atomic.Int32
	withMFA := xacct.WithMFA(countingToken("123456", &calls), operatorMFA)
	copier := func(opts ...xacct.AssumeRoleOption) *xacct.Copier {
		src, err := xacct.AssumeRoleConfig(f.sb.Config(f.user), arn, opts...)
		require.NoError(t, err)
		c, err := xacct.NewCopierFromConfigs(src, f.sb.Config(f.sb.Root(sandbox.AccountB)))
		require.NoError(t, err)
		return c
	}
	from, to := xacct.MustParseLocation("s3://"+sessionBucket+"/"), xacct.MustParseLocation("s3://"+sessionBucket+"/copy/")

	rep, err := copier(withMFA, tags).Preflight(ctx, from, to)
	require.NoError(t, err)
	found, _ := findingsFor(rep, "sts:TagSession")
	require.Len(t, found, 1, "%v", rep.Err())
	var trust *xacct.Statement
	for _, fix := range found[0].Fixes {
		assert.Equal(t, xacct.StringList{"sts:TagSession"}, fix.Statement.Action, "%s fix grants only the refused action", fix.Kind)
		switch fix.Kind {
		case xacct.PolicyKindTrust:
			trust = &fix.Statement
			assert.Equal(t, xacct.AWSPrincipal(f.user.ARN), fix.Statement.Principal)
			assert.NotEqual(t, "XacctAssumeRole", fix.Statement.Sid)
		case xacct.PolicyKindIdentity:
			assert.Equal(t, xacct.StringList{arn}, fix.Statement.Resource)
		}
	}
	require.NotNil(t, trust, "a trust statement for the caller")
	assert.Contains(t, found[0].Hint, "only sts:TagSession")
	f.mergeTrust(t, "mfa-copy", *trust)

	// Without MFA the role's own condition still refuses the session,
	// with or without tags.
	for _, opts := range [][]xacct.AssumeRoleOption{{tags}, nil} {
		cfg, err := xacct.AssumeRoleConfig(f.sb.Config(f.user), arn, opts...)
		require.NoError(t, err)
		_, err = readObject(ctx, cfg)
		var are *xacct.AssumeRoleError
		require.ErrorAs(t, err, &are, "a session without MFA after the merge")
		assert.ErrorIs(t, err, xacct.ErrAccessDenied)
	}

	// With MFA, the tagged session is now admitted.
	cfg, err := xacct.AssumeRoleConfig(f.sb.Config(f.user), arn, withMFA, tags)
	require.NoError(t, err)
	got, err := readObject(ctx, cfg)
	require.NoError(t, err)
	assert.Equal(t, "a,b", got)
	rep, err = copier(withMFA, tags).Preflight(ctx, from, to)
	require.NoError(t, err)
	for _, fd := range rep.Findings {
		assert.False(t, strings.HasPrefix(fd.Action, "sts:"), "after the fix: %v", fd)
	}
}

// A caller refused both sides' roles gets one identity statement per role,
// each under a Sid of its own: merging both keeps both grants.
func TestPreflightCallerFixesForTwoRolesMergeSideBySide(t *testing.T) {
	f := newSessionFixture(t)
	ctx := t.Context()
	trustA := policyJSON(t, xacct.CopyRoleTrustPolicy(sandbox.AccountA, externalID))
	readerARN, err := f.sb.CreateRole(sandbox.AccountB, "src-reader", trustA, map[string]string{"read": fullSessionBucket(t)})
	require.NoError(t, err)
	writerARN, err := f.sb.CreateRole(sandbox.AccountB, "dst-writer", trustA, map[string]string{"write": fullSessionBucket(t)})
	require.NoError(t, err)
	copier := func(caller sandbox.Principal) *xacct.Copier {
		src, err := xacct.AssumeRoleConfig(f.sb.Config(caller), readerARN, xacct.WithExternalID(externalID))
		require.NoError(t, err)
		dst, err := xacct.AssumeRoleConfig(f.sb.Config(caller), writerARN, xacct.WithExternalID(externalID))
		require.NoError(t, err)
		c, err := xacct.NewCopierFromConfigs(src, dst)
		require.NoError(t, err)
		return c
	}
	from, to := xacct.MustParseLocation("s3://"+sessionBucket+"/"), xacct.MustParseLocation("s3://"+sessionBucket+"/copy/")
	idle, err := f.sb.AddUser(sandbox.AccountA, "idle")
	require.NoError(t, err)

	rep, err := copier(idle).Preflight(ctx, from, to)
	require.NoError(t, err)
	found, _ := findingsFor(rep, "sts:AssumeRole")
	require.Len(t, found, 2, "%v", rep.Err())
	var merged *xacct.Policy
	sids := map[string]string{}
	for _, fd := range found {
		require.NotEmpty(t, fd.Fixes)
		fix := fd.Fixes[0]
		require.Equal(t, xacct.PolicyKindIdentity, fix.Kind)
		assert.Equal(t, idle.ARN, fix.Target)
		assert.Equal(t, xacct.StringList{fd.Resource}, fix.Statement.Resource)
		assert.True(t, strings.HasPrefix(fix.Statement.Sid, "XacctCallerAssumeRole"), fix.Statement.Sid)
		assert.NotEqual(t, "XacctCallerAssumeRole", fix.Statement.Sid, "the builder's own Sid stays the user's")
		sids[fix.Statement.Sid] = fd.Resource
		merged, _, err = xacct.MergeStatements(merged, fix.Statement)
		require.NoError(t, err)
	}
	assert.Len(t, sids, 2, "one Sid per role")
	require.Len(t, merged.Statement, 2, "merging the second fix keeps the first")

	// The Sids are stable: a second preflight suggests the same ones.
	rep, err = copier(idle).Preflight(ctx, from, to)
	require.NoError(t, err)
	found, _ = findingsFor(rep, "sts:AssumeRole")
	require.Len(t, found, 2)
	for _, fd := range found {
		assert.Equal(t, fd.Resource, sids[fd.Fixes[0].Statement.Sid])
	}

	fixed, err := f.sb.AddUser(sandbox.AccountA, "fixed", policyJSON(t, *merged))
	require.NoError(t, err)
	rep, err = copier(fixed).Preflight(ctx, from, to)
	require.NoError(t, err)
	found, _ = findingsFor(rep, "sts:AssumeRole")
	assert.Empty(t, found, "both roles are assumable with the merged policy")
	assert.NotEmpty(t, rep.SourceIdentity.ARN)
	assert.NotEmpty(t, rep.DestinationIdentity.ARN)
}

// fullSessionBucket is a role policy with every S3 action on the session
// bucket.
func fullSessionBucket(t *testing.T) string {
	return policyJSON(t, xacct.NewPolicy(xacct.Statement{Sid: "All", Effect: xacct.EffectAllow, Action: xacct.StringList{"s3:*"},
		Resource: xacct.StringList{xacct.BucketARN(sessionBucket), xacct.ObjectARN(sessionBucket, "*")}}))
}

// Both sides assume one role with session tags the role refuses: the
// report names the refused sts:TagSession once, with one denied check.
func TestPreflightSharedRoleTagSessionReportedOnce(t *testing.T) {
	f := newSessionFixture(t)
	ctx := t.Context()
	arn := f.role(t, "shared", []string{"sts:AssumeRole"}, "", "")
	cfg := func() aws.Config {
		c, err := xacct.AssumeRoleConfig(f.sb.Config(f.user), arn, xacct.WithSessionTags(map[string]string{"team": "data"}))
		require.NoError(t, err)
		return c
	}
	c, err := xacct.NewCopierFromConfigs(cfg(), cfg())
	require.NoError(t, err)
	rep, err := c.Preflight(ctx, xacct.MustParseLocation("s3://"+sessionBucket+"/"), xacct.MustParseLocation("s3://"+sessionBucket+"/copy/"))
	require.NoError(t, err)
	found, denied := findingsFor(rep, "sts:TagSession")
	require.Len(t, found, 1, "%v", rep.Err())
	assert.Equal(t, xacct.SideSource, found[0].Side)
	assert.Equal(t, arn, found[0].Resource)
	assert.Len(t, denied, 1, "%+v", rep.Checks)
	assert.Len(t, rep.Findings, 1, "%v", rep.Err())
}
