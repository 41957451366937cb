package sandbox_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct/internal/sandbox"
)

const trustWithExternalID = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ext-x"}}}]}`

// trustStub stands in for the evaluator: it admits AssumeRole from account
// A when the ExternalId is "ext-x" and allows everything else.
func trustStub(r *sandbox.AccessRequest) string {
	if r.Action != "sts:AssumeRole" {
		return ""
	}
	if r.PrincipalAccount != sandbox.AccountA {
		return "no resource-based policy allows the sts:AssumeRole action"
	}
	if ext := r.Context["sts:ExternalId"]; len(ext) != 1 || ext[0] != "ext-x" {
		return "no resource-based policy allows the sts:AssumeRole action"
	}
	return ""
}

func session(out *sts.AssumeRoleOutput) sandbox.Principal {
	return sandbox.Principal{
		ARN:             aws.ToString(out.AssumedRoleUser.Arn),
		AccessKeyID:     aws.ToString(out.Credentials.AccessKeyId),
		SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey),
		SessionToken:    aws.ToString(out.Credentials.SessionToken),
	}
}

func TestAssumeRoleWithExternalID(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	roleARN, err := sb.CreateRole(sandbox.AccountB, "copier", trustWithExternalID, map[string]string{"read": readS3})
	require.NoError(t, err)
	caller, err := sb.AddUser(sandbox.AccountA, "app", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	require.NoError(t, err)
	rec := record(sb, trustStub)

	out, err := sb.STS(caller).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), ExternalId: aws.String("ext-x"),
	})
	require.NoError(t, err)
	seen := rec.take()
	require.Len(t, seen, 1)
	ar := seen[0]
	assert.Equal(t, "sts:AssumeRole", ar.Action)
	assert.Equal(t, roleARN, ar.Resource)
	assert.Equal(t, sandbox.AccountB, ar.ResourceAccount)
	assert.Equal(t, trustWithExternalID, ar.ResourcePolicy)
	assert.Equal(t, caller.ARN, ar.PrincipalARN)
	assert.Equal(t, sandbox.AccountA, ar.PrincipalAccount)
	assert.Len(t, ar.IdentityPolicies, 1)
	assert.Equal(t, []string{"ext-x"}, ar.Context["sts:ExternalId"])
	assert.Equal(t, []string{sandbox.AccountA}, ar.Context["aws:PrincipalAccount"])
	assert.Equal(t, []string{caller.ARN}, ar.Context["aws:PrincipalArn"])
	assert.Equal(t, []string{sandbox.AccountB}, ar.Context["aws:ResourceAccount"])
	assert.Equal(t, []string{"s1"}, ar.Context["sts:RoleSessionName"])

	assert.Equal(t, "arn:aws:sts::222222222222:assumed-role/copier/s1", aws.ToString(out.AssumedRoleUser.Arn))
	assert.Regexp(t, `^AROA[0-9A-Z]{17}:s1$`, aws.ToString(out.AssumedRoleUser.AssumedRoleId))
	assert.Regexp(t, `^ASIA`, aws.ToString(out.Credentials.AccessKeyId))
	assert.WithinDuration(t, time.Now().Add(time.Hour), aws.ToTime(out.Credentials.Expiration), time.Minute)

	s := session(out)
	id, err := sb.STS(s).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:sts::222222222222:assumed-role/copier/s1", aws.ToString(id.Arn))
	assert.Equal(t, sandbox.AccountB, aws.ToString(id.Account))
	assert.Equal(t, aws.ToString(out.AssumedRoleUser.AssumedRoleId), aws.ToString(id.UserId))

	// The session's identity policies are the role's inline policies, and
	// aws:PrincipalArn is the role.
	_, err = sb.S3(s).ListBuckets(ctx, &s3.ListBucketsInput{})
	require.NoError(t, err)
	seen = rec.take()
	require.Len(t, seen, 1)
	assert.Equal(t, []string{readS3}, seen[0].IdentityPolicies)
	assert.Equal(t, "arn:aws:sts::222222222222:assumed-role/copier/s1", seen[0].PrincipalARN)
	assert.Equal(t, []string{roleARN}, seen[0].Context["aws:PrincipalArn"])
	assert.Equal(t, []string{"AssumedRole"}, seen[0].Context["aws:PrincipalType"])

	_, err = sb.STS(caller).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s2"), ExternalId: aws.String("ext-y"),
	})
	requireCode(t, err, "AccessDenied")
	requireStatus(t, err, 403)
	assert.ErrorContains(t, err, "is not authorized to perform: sts:AssumeRole on resource")

	_, err = sb.STS(caller).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s3")})
	requireCode(t, err, "AccessDenied")
	assert.NotContains(t, rec.take()[1].Context, "sts:ExternalId")
}

func TestAssumeRoleValidation(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	roleARN, err := sb.CreateRole(sandbox.AccountB, "copier", trustA, nil)
	require.NoError(t, err)
	caller, err := sb.AddUser(sandbox.AccountA, "app")
	require.NoError(t, err)
	c := sb.STS(caller)

	for _, tc := range []struct {
		name     string
		in       sts.AssumeRoleInput
		code     string
		contains string
	}{
		{"short session name", sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s")}, "ValidationError", "roleSessionName"},
		{"bad session name", sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("a b")}, "ValidationError", "roleSessionName"},
		{"too short", sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("ok"), DurationSeconds: aws.Int32(899)}, "ValidationError", "durationSeconds"},
		{"above role max", sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("ok"), DurationSeconds: aws.Int32(3601)}, "ValidationError", "MaxSessionDuration"},
		{"missing role", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/nope"), RoleSessionName: aws.String("ok")}, "AccessDenied", "role/nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.AssumeRole(ctx, &tc.in)
			requireCode(t, err, tc.code)
			assert.ErrorContains(t, err, tc.contains)
		})
	}

	_, err = sb.STS(sb.Root(sandbox.AccountA)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("ok")})
	requireCode(t, err, "AccessDenied")
	assert.ErrorContains(t, err, "root")

	out, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("ok"), DurationSeconds: aws.Int32(900)})
	require.NoError(t, err)
	_, err = sb.STS(session(out)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("chain")})
	require.NoError(t, err, "role chaining within one hour is allowed")
}

func TestTemporaryKeysExpire(t *testing.T) {
	var now atomic.Pointer[time.Time]
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	now.Store(&t0)
	sb, err := sandbox.Start(sandbox.WithClock(func() time.Time { return *now.Load() }), sandbox.WithMinSessionDuration(2*time.Second))
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	ctx := t.Context()
	roleARN, err := sb.CreateRole(sandbox.AccountA, "short", trustA, nil)
	require.NoError(t, err)
	caller, err := sb.AddUser(sandbox.AccountA, "app")
	require.NoError(t, err)
	require.NoError(t, sb.CreateBucket(ctx, sb.Root(sandbox.AccountA), "bkt"))

	out, err := sb.STS(caller).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("short"), DurationSeconds: aws.Int32(5)})
	require.NoError(t, err)
	assert.Equal(t, t0.Add(5*time.Second), aws.ToTime(out.Credentials.Expiration))
	s := session(out)
	_, err = sb.S3(s).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")})
	require.NoError(t, err)

	later := t0.Add(5 * time.Second)
	now.Store(&later)
	_, err = sb.S3(s).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")})
	requireCode(t, err, "ExpiredToken")
	requireStatus(t, err, 400)
	_, err = sb.STS(s).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	requireCode(t, err, "ExpiredToken")

	forged := s
	forged.SessionToken = "forged"
	_, err = sb.S3(forged).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")})
	requireCode(t, err, "InvalidToken")
}

func tags(kv ...string) []ststypes.Tag {
	var out []ststypes.Tag
	for i := 0; i < len(kv); i += 2 {
		out = append(out, ststypes.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

// An AssumeRole call with session tags also asks for sts:TagSession, one
// with a source identity for sts:SetSourceIdentity, on the same role with
// the same context; the session's calls then carry the tags, the source
// identity and the MFA state. In a chain, transitive tags and the source
// identity pass on and cannot be changed.
func TestAssumeRoleSessionAttributes(t *testing.T) {
	var now atomic.Pointer[time.Time]
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	now.Store(&t0)
	sb, err := sandbox.Start(sandbox.WithClock(func() time.Time { return *now.Load() }))
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	ctx := t.Context()
	roleARN, err := sb.CreateRole(sandbox.AccountB, "copier", trustA, nil)
	require.NoError(t, err)
	caller, err := sb.AddUser(sandbox.AccountA, "app")
	require.NoError(t, err)
	var refuse atomic.Value
	refuse.Store("")
	rec := record(sb, func(r *sandbox.AccessRequest) string {
		if r.Action == refuse.Load().(string) {
			return "no resource-based policy allows the " + r.Action + " action"
		}
		return ""
	})

	in := &sts.AssumeRoleInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"),
		Tags: tags("team", "data", "Cost-Center", "42"), TransitiveTagKeys: []string{"team"},
		SourceIdentity: aws.String("alice"),
		SerialNumber:   aws.String("arn:aws:iam::111111111111:mfa/app"), TokenCode: aws.String("123456"),
	}
	out, err := sb.STS(caller).AssumeRole(ctx, in)
	require.NoError(t, err)
	seen := rec.take()
	require.Len(t, seen, 3)
	for i, action := range []string{"sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"} {
		ar := seen[i]
		assert.Equal(t, action, ar.Action)
		assert.Equal(t, roleARN, ar.Resource)
		assert.Equal(t, trustA, ar.ResourcePolicy)
		assert.Equal(t, []string{"alice"}, ar.Context["sts:SourceIdentity"])
		assert.Equal(t, []string{"data"}, ar.Context["aws:RequestTag/team"])
		assert.Equal(t, []string{"team", "Cost-Center"}, ar.Context["aws:TagKeys"])
		assert.Equal(t, []string{"team"}, ar.Context["sts:TransitiveTagKeys"])
		assert.Equal(t, []string{"true"}, ar.Context["aws:MultiFactorAuthPresent"])
		assert.Equal(t, []string{"0"}, ar.Context["aws:MultiFactorAuthAge"])
	}

	s := session(out)
	later := t0.Add(90 * time.Second)
	now.Store(&later)
	_, err = sb.S3(s).ListBuckets(ctx, &s3.ListBucketsInput{})
	require.NoError(t, err)
	seen = rec.take()
	require.Len(t, seen, 1)
	c := seen[0].Context
	assert.Equal(t, []string{"data"}, c["aws:PrincipalTag/team"])
	assert.Equal(t, []string{"42"}, c["aws:PrincipalTag/Cost-Center"])
	assert.Equal(t, []string{"alice"}, c["aws:SourceIdentity"])
	assert.Equal(t, []string{"true"}, c["aws:MultiFactorAuthPresent"])
	assert.Equal(t, []string{"90"}, c["aws:MultiFactorAuthAge"], "seconds since the MFA code was checked")

	// Role chaining: only the transitive tag passes on; the source
	// identity does, and needs sts:SetSourceIdentity again.
	chained, err := sb.STS(s).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s2")})
	require.NoError(t, err)
	seen = rec.take()
	require.Len(t, seen, 2)
	assert.Equal(t, "sts:SetSourceIdentity", seen[1].Action)
	_, err = sb.S3(session(chained)).ListBuckets(ctx, &s3.ListBucketsInput{})
	require.NoError(t, err)
	c = rec.take()[0].Context
	assert.Equal(t, []string{"data"}, c["aws:PrincipalTag/team"])
	assert.NotContains(t, c, "aws:PrincipalTag/Cost-Center")
	assert.Equal(t, []string{"alice"}, c["aws:SourceIdentity"])
	assert.Equal(t, []string{"false"}, c["aws:MultiFactorAuthPresent"], "the chained call sent no MFA code")
	assert.NotContains(t, c, "aws:MultiFactorAuthAge")

	_, err = sb.STS(s).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s3"), SourceIdentity: aws.String("mallory")})
	requireCode(t, err, "InvalidParameterValue")
	_, err = sb.STS(s).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s3"), Tags: tags("TEAM", "ops")})
	requireCode(t, err, "InvalidParameterValue")
	assert.ErrorContains(t, err, "transitive tag key")

	// Long-term keys carry no MFA key; a session without MFA says false.
	plain, err := sb.STS(caller).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("plain")})
	require.NoError(t, err)
	seen = rec.take()
	require.Len(t, seen, 1, "no tags and no source identity: only sts:AssumeRole is asked")
	assert.NotContains(t, seen[0].Context, "aws:MultiFactorAuthPresent")
	_, err = sb.S3(session(plain)).ListBuckets(ctx, &s3.ListBucketsInput{})
	require.NoError(t, err)
	c = rec.take()[0].Context
	assert.Equal(t, []string{"false"}, c["aws:MultiFactorAuthPresent"])
	assert.NotContains(t, c, "aws:SourceIdentity")

	for _, action := range []string{"sts:TagSession", "sts:SetSourceIdentity"} {
		refuse.Store(action)
		_, err = sb.STS(caller).AssumeRole(ctx, in)
		requireCode(t, err, "AccessDenied")
		requireStatus(t, err, 403)
		assert.ErrorContains(t, err, "is not authorized to perform: "+action+" on resource: \""+roleARN+"\"")
	}
}

func TestAssumeRoleSessionValidation(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	roleARN, err := sb.CreateRole(sandbox.AccountB, "copier", trustA, nil)
	require.NoError(t, err)
	caller, err := sb.AddUser(sandbox.AccountA, "app")
	require.NoError(t, err)
	const serial = "arn:aws:iam::111111111111:mfa/app"
	many := make([]string, 0, 102)
	for i := range 51 {
		many = append(many, fmt.Sprintf("k%d", i), "v")
	}
	for _, tc := range []struct {
		name     string
		in       sts.AssumeRoleInput
		code     string
		contains string
	}{
		{"five-digit code", sts.AssumeRoleInput{SerialNumber: aws.String(serial), TokenCode: aws.String("12345")}, "ValidationError", "tokenCode"},
		{"letters in code", sts.AssumeRoleInput{SerialNumber: aws.String(serial), TokenCode: aws.String("12345a")}, "ValidationError", "tokenCode"},
		{"serial without code", sts.AssumeRoleInput{SerialNumber: aws.String(serial)}, "AccessDenied", "must provide both"},
		{"code without serial", sts.AssumeRoleInput{TokenCode: aws.String("123456")}, "AccessDenied", "must provide both"},
		{"short serial", sts.AssumeRoleInput{SerialNumber: aws.String("mfa"), TokenCode: aws.String("123456")}, "ValidationError", "serialNumber"},
		{"bad tag key", sts.AssumeRoleInput{Tags: tags("a*b", "v")}, "ValidationError", "tags.1.member.key"},
		{"empty tag key", sts.AssumeRoleInput{Tags: tags("", "v")}, "ValidationError", "tags.1.member.key"},
		{"long tag key", sts.AssumeRoleInput{Tags: tags(strings.Repeat("k", 129), "v")}, "ValidationError", "tags.1.member.key"},
		{"long tag value", sts.AssumeRoleInput{Tags: tags("k", strings.Repeat("v", 257))}, "ValidationError", "tags.1.member.value"},
		{"keys differ only in case", sts.AssumeRoleInput{Tags: tags("Team", "a", "team", "b")}, "InvalidParameterValue", "case insensitive"},
		{"51 tags", sts.AssumeRoleInput{Tags: tags(many...)}, "ValidationError", "less than or equal to 50"},
		{"transitive key not a tag", sts.AssumeRoleInput{Tags: tags("team", "a"), TransitiveTagKeys: []string{"cost"}}, "InvalidParameterValue", "must be included"},
		{"bad source identity", sts.AssumeRoleInput{SourceIdentity: aws.String("alice smith")}, "ValidationError", "sourceIdentity"},
		{"short source identity", sts.AssumeRoleInput{SourceIdentity: aws.String("a")}, "ValidationError", "sourceIdentity"},
		{"short external id", sts.AssumeRoleInput{ExternalId: aws.String("x")}, "ValidationError", "externalId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.RoleArn, in.RoleSessionName = aws.String(roleARN), aws.String("ok")
			_, err := sb.STS(caller).AssumeRole(ctx, &in)
			requireCode(t, err, tc.code)
			assert.ErrorContains(t, err, tc.contains)
			assert.NotContains(t, err.Error(), "12345", "the token code is not echoed")
		})
	}
	_, err = sb.STS(caller).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("ok"),
		Tags: tags("team", "", "a b:c/d=e+f-g@h_i.j", "ünï"), SourceIdentity: aws.String("alice@example.com")})
	require.NoError(t, err, "empty values, spaces, Unicode letters and the allowed punctuation are accepted")
}

// Without an authorizer the sandbox does not judge principals, but it still
// enforces the trust policy's ExternalId and MFA conditions and the
// session duration limits, as STS always does.
func TestAssumeRoleWithoutAuthorizerChecksExternalIDMFAAndDuration(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	roleARN, err := sb.CreateRole(sandbox.AccountB, "guarded", trustWithExternalID, nil)
	require.NoError(t, err)
	const trustMFA = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"Bool":{"aws:MultiFactorAuthPresent":true}}}]}`
	mfaRole, err := sb.CreateRole(sandbox.AccountB, "mfa", trustMFA, nil)
	require.NoError(t, err)
	caller, err := sb.AddUser(sandbox.AccountA, "app")
	require.NoError(t, err)
	c := sb.STS(caller)
	assume := func(role string, mod func(*sts.AssumeRoleInput)) (*sts.AssumeRoleOutput, error) {
		in := &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("ok")}
		if mod != nil {
			mod(in)
		}
		return c.AssumeRole(ctx, in)
	}

	_, err = assume(roleARN, func(in *sts.AssumeRoleInput) { in.ExternalId = aws.String("ext-y") })
	requireCode(t, err, "AccessDenied")
	assert.ErrorContains(t, err, "sts:ExternalId")
	_, err = assume(roleARN, nil)
	requireCode(t, err, "AccessDenied")
	_, err = assume(roleARN, func(in *sts.AssumeRoleInput) { in.ExternalId = aws.String("ext-x") })
	require.NoError(t, err)

	const trustLike = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"sts:*","Condition":{"StringLike":{"sts:ExternalId":["tenant-*",12345]}}}}`
	likeRole, err := sb.CreateRole(sandbox.AccountB, "like", trustLike, nil)
	require.NoError(t, err)
	for ext, ok := range map[string]bool{"tenant-7": true, "12345": true, "tenant": false, "other-7": false} {
		_, err = assume(likeRole, func(in *sts.AssumeRoleInput) { in.ExternalId = aws.String(ext) })
		if ok {
			require.NoError(t, err, ext)
		} else {
			requireCode(t, err, "AccessDenied")
		}
	}

	_, err = assume(mfaRole, nil)
	requireCode(t, err, "AccessDenied")
	assert.ErrorContains(t, err, "aws:MultiFactorAuthPresent")
	out, err := assume(mfaRole, func(in *sts.AssumeRoleInput) {
		in.SerialNumber, in.TokenCode = aws.String("arn:aws:iam::111111111111:mfa/app"), aws.String("654321")
	})
	require.NoError(t, err)
	_, err = sb.STS(session(out)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(mfaRole), RoleSessionName: aws.String("chain")})
	require.NoError(t, err, "a session created with MFA calls with MFA")

	for _, tc := range []struct {
		seconds  int32
		contains string
	}{
		{899, "durationSeconds"},
		{43201, "durationSeconds"},
		{3601, "MaxSessionDuration"},
	} {
		_, err = assume(roleARN, func(in *sts.AssumeRoleInput) {
			in.ExternalId, in.DurationSeconds = aws.String("ext-x"), aws.Int32(tc.seconds)
		})
		requireCode(t, err, "ValidationError")
		assert.ErrorContains(t, err, tc.contains, tc.seconds)
	}
	out, err = assume(roleARN, func(in *sts.AssumeRoleInput) {
		in.ExternalId, in.DurationSeconds = aws.String("ext-x"), aws.Int32(3600)
	})
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(time.Hour), aws.ToTime(out.Credentials.Expiration), time.Minute)
}
