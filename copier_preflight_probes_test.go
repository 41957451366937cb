package xacct_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

// assumeFinding runs a preflight through a role assumed from caller and
// returns its sts:AssumeRole finding.
func assumeFinding(t *testing.T, x *crossAccount, caller sandbox.Principal, roleARN string, opts ...xacct.AssumeRoleOption) *xacct.PreflightFinding {
	t.Helper()
	cfg, err := xacct.AssumeRoleConfig(x.sb.Config(caller), roleARN, opts...)
	require.NoError(t, err)
	c, err := xacct.NewCopierFromConfig(cfg)
	require.NoError(t, err)
	rep, err := c.Preflight(t.Context(), x.src, x.dst)
	require.NoError(t, err)
	for _, f := range rep.Findings {
		if f.Action == "sts:AssumeRole" {
			return f
		}
	}
	return nil
}

// trustFixes returns the finding's trust policy fixes; each must require
// an ExternalId: a suggested trust is never weaker than a guarded one.
func trustFixes(t *testing.T, f *xacct.PreflightFinding) []xacct.PolicyFix {
	t.Helper()
	var out []xacct.PolicyFix
	for _, fix := range f.Fixes {
		if fix.Kind == xacct.PolicyKindTrust {
			require.NotEmpty(t, fix.Statement.Condition["StringEquals"]["sts:ExternalId"], "a trust fix without sts:ExternalId: %s", fix)
			assert.NotEqual(t, "XacctAssumeRole", fix.Statement.Sid, "merging would replace the role's own statement")
			out = append(out, fix)
		}
	}
	return out
}

// assertCallerFix asserts that s is CallerAssumeRolePolicy's statement for
// roleARN under a Sid of the role's own.
func assertCallerFix(t *testing.T, roleARN string, s xacct.Statement) {
	t.Helper()
	want := xacct.CallerAssumeRolePolicy(roleARN).Statement[0]
	assert.True(t, strings.HasPrefix(s.Sid, want.Sid) && s.Sid != want.Sid, "Sid %s", s.Sid)
	want.Sid = s.Sid
	assert.Equal(t, want, s)
}

// The trust admits the caller's account, but the caller's own identity
// policy lacks sts:AssumeRole: across accounts both are needed, and the
// caller-side statement the finding offers is the one that fixes it.
func TestPreflightAssumeRoleRefusedByCallerPolicy(t *testing.T) {
	x := newCrossAccount(t)
	roleARN, err := x.sb.CreateRole(sandbox.AccountB, "xacct-acct", policyJSON(t, xacct.CopyRoleTrustPolicy(sandbox.AccountA, externalID)),
		map[string]string{"copy": policyJSON(t, xacct.CopyRolePolicy(x.src, x.dst))})
	require.NoError(t, err)
	idle, err := x.sb.AddUser(sandbox.AccountA, "idle")
	require.NoError(t, err)

	f := assumeFinding(t, x, idle, roleARN, xacct.WithExternalID(externalID))
	require.NotNil(t, f)
	require.NotEmpty(t, f.Fixes)
	id := f.Fixes[0]
	assert.Equal(t, xacct.PolicyKindIdentity, id.Kind)
	assert.Equal(t, idle.ARN, id.Target)
	assertCallerFix(t, roleARN, id.Statement)
	trust := trustFixes(t, f)
	require.Len(t, trust, 1)
	assert.Equal(t, roleARN, trust[0].Target)
	assert.Contains(t, f.Hint, "across accounts, the caller's identity policy must allow sts:AssumeRole")

	// The identity statement, given to a principal of that account, is
	// what was missing.
	fixed, err := x.sb.AddUser(sandbox.AccountA, "fixed", policyJSON(t, xacct.NewPolicy(id.Statement)))
	require.NoError(t, err)
	assert.Nil(t, assumeFinding(t, x, fixed, roleARN, xacct.WithExternalID(externalID)))
}

// A wrong ExternalId: the trust statement offered requires the id that was
// sent, under a Sid of its own, so merging it keeps the statement that
// admits the right id.
func TestPreflightAssumeRoleWrongExternalIDFixKeepsTrust(t *testing.T) {
	x := newCrossAccount(t)
	f := assumeFinding(t, x, x.user, x.roleARN, xacct.WithExternalID("not-the-id"))
	require.NotNil(t, f)
	require.Len(t, f.Fixes, 2)
	assert.Equal(t, xacct.PolicyKindIdentity, f.Fixes[0].Kind)
	assertCallerFix(t, x.roleARN, f.Fixes[0].Statement)
	trust := trustFixes(t, f)
	require.Len(t, trust, 1)
	assert.Equal(t, []string{"not-the-id"}, []string(trust[0].Statement.Condition["StringEquals"]["sts:ExternalId"]))
	assert.Equal(t, xacct.AWSPrincipal(x.user.ARN), trust[0].Statement.Principal)
	assert.Contains(t, f.Hint, "already names a different ExternalId, send that one")
	assert.Contains(t, f.Hint, trust[0].Statement.Sid)

	current := xacct.CopyRoleTrustPolicy(x.user.ARN, externalID)
	merged, changed, err := xacct.MergeStatements(&current, trust[0].Statement)
	require.NoError(t, err)
	require.True(t, changed)
	require.Len(t, merged.Statement, 2)
	assert.Equal(t, current.Statement[0], merged.Statement[0], "the working statement is kept")
	_, changed, err = xacct.MergeStatements(merged, trust[0].Statement)
	require.NoError(t, err)
	assert.False(t, changed, "the suggested Sid is stable")

	_, err = x.sb.IAM(x.sb.Root(sandbox.AccountB)).UpdateAssumeRolePolicy(t.Context(), &iam.UpdateAssumeRolePolicyInput{
		RoleName: aws.String("xacct-copy"), PolicyDocument: aws.String(policyJSON(t, *merged)),
	})
	require.NoError(t, err)
	assert.Nil(t, assumeFinding(t, x, x.user, x.roleARN, xacct.WithExternalID("not-the-id")))
	assert.Nil(t, assumeFinding(t, x, x.user, x.roleARN, xacct.WithExternalID(externalID)), "the right id still works")
}

// No ExternalId sent to a role whose trust requires one: the finding says
// so, and proposes no trust statement without the condition.
func TestPreflightAssumeRoleWithoutExternalID(t *testing.T) {
	x := newCrossAccount(t)
	f := assumeFinding(t, x, x.user, x.roleARN)
	require.NotNil(t, f)
	assert.Empty(t, trustFixes(t, f))
	require.Len(t, f.Fixes, 1)
	assert.Equal(t, xacct.PolicyKindIdentity, f.Fixes[0].Kind)
	assert.Contains(t, f.Hint, "no ExternalId was sent")
	assert.Contains(t, f.Hint, "likely requires one")
	assert.Contains(t, f.Error(), "likely requires one")
}

// deleteSetup is an enforcing sandbox whose destination writer in
// account B holds writer and may read the bucket's versioning.
func deleteSetup(t *testing.T, writer xacct.Policy) (*twoIdentities, xacct.Policy) {
	t.Helper()
	sb, err := enforce.Start()
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	x := &twoIdentities{
		sb: sb, src: xacct.MustParseLocation("s3://a-media/"), dst: xacct.MustParseLocation("s3://b-media/copy/"),
		ownerA: sb.S3(sb.Root(sandbox.AccountA)), ownerB: sb.S3(sb.Root(sandbox.AccountB)),
	}
	require.NoError(t, sb.CreateBucket(t.Context(), sb.Root(sandbox.AccountA), x.src.Bucket))
	require.NoError(t, sb.CreateBucket(t.Context(), sb.Root(sandbox.AccountB), x.dst.Bucket))
	x.reader = mustUser(t, sb, sandbox.AccountA, "reader", xacct.SourceReadPolicy(x.src))
	versioning := xacct.NewPolicy(xacct.Statement{Sid: "Versioning", Effect: xacct.EffectAllow,
		Action: xacct.StringList{"s3:GetBucketVersioning"}, Resource: xacct.StringList{xacct.BucketARN(x.dst.Bucket)}})
	writer.Statement = append(writer.Statement, versioning.Statement...)
	x.writer = mustUser(t, sb, sandbox.AccountB, "writer", writer)
	putObjects(t, x.ownerA, x.src.Bucket, map[string]string{"a": "a"})
	putObjects(t, x.ownerB, x.dst.Bucket, map[string]string{"copy/a": "a", "copy/extra": "x"})
	return x, writer
}

func checkFor(rep *xacct.PreflightReport, action string) *xacct.PreflightCheck {
	for i, c := range rep.Checks {
		if c.Action == action {
			return &rep.Checks[i]
		}
	}
	return nil
}

func TestPreflightProbesDeleteWhenDeleting(t *testing.T) {
	x, _ := deleteSetup(t, xacct.DestinationWritePolicy(xacct.MustParseLocation("s3://b-media/copy/")))
	ctx := t.Context()

	rep, err := x.copier(t).Preflight(ctx, x.src, x.dst)
	require.NoError(t, err)
	assert.Nil(t, checkFor(rep, "s3:DeleteObject"), "no delete probe without WithDelete")

	rep, err = x.copier(t, xacct.WithDelete(true)).Preflight(ctx, x.src, x.dst)
	require.NoError(t, err)
	require.Len(t, rep.Findings, 1, "%v", rep.Err())
	f := rep.Findings[0]
	assert.Equal(t, xacct.SideDestination, f.Side)
	assert.Equal(t, "s3:DeleteObject", f.Action)
	assert.True(t, strings.HasPrefix(f.Resource, "arn:aws:s3:::b-media/copy/.xacct-preflight-"), f.Resource)
	require.Len(t, f.Fixes, 1, "writer and bucket in one account: no bucket policy needed")
	want := xacct.DestinationWritePolicy(x.dst, xacct.WithDeleteAccess())
	assert.Equal(t, want.Statement[len(want.Statement)-1], f.Fixes[0].Statement)
	assert.Equal(t, "XacctDestinationDelete", f.Fixes[0].Statement.Sid)
	assert.Equal(t, x.writer.ARN, f.Fixes[0].Target)
	srep, err := x.copier(t, xacct.WithDelete(true)).Sync(ctx, x.src, x.dst)
	require.ErrorIs(t, err, xacct.ErrAccessDenied)
	assert.Zero(t, srep.Deleted)

	// With the fix statement the probe passes, leaves nothing, and the
	// sync deletes.
	fixed, _ := deleteSetup(t, xacct.NewPolicy(slices.Concat(xacct.DestinationWritePolicy(x.dst).Statement, []xacct.Statement{f.Fixes[0].Statement})...))
	rep, err = fixed.copier(t, xacct.WithDelete(true)).Preflight(ctx, fixed.src, fixed.dst)
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	c := checkFor(rep, "s3:DeleteObject")
	require.NotNil(t, c)
	assert.Equal(t, xacct.CheckAllowed, c.Result)
	assert.Equal(t, map[string]string{"a": "a", "extra": "x"}, readAll(t, fixed.ownerB, fixed.dst), "the probe deleted nothing")
	srep, err = fixed.copier(t, xacct.WithDelete(true)).Sync(ctx, fixed.src, fixed.dst)
	require.NoError(t, err)
	assert.EqualValues(t, 1, srep.Deleted)
}

// In a versioned bucket a delete of a missing key leaves a delete marker,
// so the check is skipped with a note and nothing is sent.
func TestPreflightSkipsDeleteProbeInVersionedBucket(t *testing.T) {
	x, _ := deleteSetup(t, xacct.DestinationWritePolicy(xacct.MustParseLocation("s3://b-media/copy/")))
	ctx := t.Context()
	_, err := x.ownerB.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(x.dst.Bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	require.NoError(t, err)
	before := x.sb.Requests()["DeleteObject"]

	rep, err := x.copier(t, xacct.WithDelete(true)).Preflight(ctx, x.src, x.dst)
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	c := checkFor(rep, "s3:DeleteObject")
	require.NotNil(t, c)
	assert.Equal(t, xacct.CheckSkipped, c.Result)
	assert.Contains(t, c.Note, "versioning is Enabled")
	assert.Contains(t, c.Note, "delete marker")
	assert.Equal(t, before, x.sb.Requests()["DeleteObject"])
	v, err := x.ownerB.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(x.dst.Bucket)})
	require.NoError(t, err)
	assert.Empty(t, v.DeleteMarkers)
}

// The write probe carries a tag when copies will: a refusal of the tag
// alone is a warning with the statement that grants s3:PutObjectTagging.
func TestPreflightWarnsWhenTagsCannotBeWritten(t *testing.T) {
	e := newEnv(t)
	e.put(t, e.src, map[string]string{"a.txt": "a"})
	c := e.copier(t)

	rep, err := c.Preflight(t.Context(), loc(e.src, ""), loc(e.dst, "in/"))
	require.NoError(t, err)
	ch := checkFor(rep, "s3:PutObjectTagging")
	require.NotNil(t, ch)
	assert.Equal(t, xacct.CheckAllowed, ch.Result)

	rep, err = c.Preflight(t.Context(), loc(e.src, ""), loc(e.dst, "in/"), xacct.WithCopyProps(xacct.CopyPropsMetadataDirective))
	require.NoError(t, err)
	assert.Nil(t, checkFor(rep, "s3:PutObjectTagging"), "no tags copied, no tag check")

	// The first upload, the tagged one, is refused; the untagged retry is
	// not.
	e.sb.InjectFault(sandbox.FaultSpec{Op: "CreateMultipartUpload", Status: 403, Code: "AccessDenied", Times: 1})
	rep, err = c.Preflight(t.Context(), loc(e.src, ""), loc(e.dst, "in/"))
	require.NoError(t, err)
	assert.Empty(t, rep.Findings)
	require.Len(t, rep.Warnings, 1)
	w := rep.Warnings[0]
	assert.True(t, w.Warning)
	assert.Equal(t, "s3:PutObjectTagging", w.Action)
	assert.Contains(t, w.Hint, "without their tags")
	require.NotEmpty(t, w.Fixes)
	assert.Equal(t, "XacctDestinationWrite", w.Fixes[0].Statement.Sid)
	assert.Contains(t, w.Fixes[0].Statement.Action, "s3:PutObjectTagging")
	assert.Equal(t, xacct.CheckAllowed, checkFor(rep, "s3:PutObject").Result)
	assert.Empty(t, listUploads(t, e.client, e.dst))
}

// In the enforcing sandbox a writer without s3:PutObjectTagging gets the
// warning, once the sandbox checks that action for x-amz-tagging.
func TestPreflightTagWriteRefusedByPolicy(t *testing.T) {
	x := newTwoIdentities(t)
	ctx := t.Context()
	putObjects(t, x.ownerA, x.src.Bucket, map[string]string{"a": "a"})
	write := xacct.DestinationWritePolicy(x.dst)
	for i, s := range write.Statement {
		if s.Sid == "XacctDestinationWrite" {
			write.Statement[i].Action = slices.DeleteFunc(slices.Clone(s.Action), func(a string) bool { return a == "s3:PutObjectTagging" })
		}
	}
	writer := mustUser(t, x.sb, sandbox.AccountB, "untagged", write)
	c, err := xacct.NewCopierFromConfigs(x.sb.Config(x.reader), x.sb.Config(writer),
		xacct.WithSourceAccount(sandbox.AccountA), xacct.WithDestinationAccount(sandbox.AccountB))
	require.NoError(t, err)
	rep, err := c.Preflight(ctx, x.src, x.dst)
	require.NoError(t, err)
	ch := checkFor(rep, "s3:PutObjectTagging")
	require.NotNil(t, ch, "the tag write is checked")
	assert.Empty(t, rep.Findings, "%v", rep.Err())

	assert.Equal(t, xacct.CheckDenied, ch.Result)
	require.Len(t, rep.Warnings, 1)
	assert.Equal(t, "s3:PutObjectTagging", rep.Warnings[0].Action)
	assert.Equal(t, writer.ARN, rep.Warnings[0].Fixes[0].Target)
}
