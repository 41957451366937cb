package sandbox_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct/internal/sandbox"
)

const trustWithExternalID = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}`

// trustStub stands in for the evaluator: it admits AssumeRole from account
// A when the ExternalId is "x" and allows everything else.
func trustStub(r *sandbox.AccessRequest) string {
	if r.Action != "sts:AssumeRole" {
		return ""
	}
	if r.PrincipalAccount != sandbox.AccountA {
		return "no resource-based policy allows the sts:AssumeRole action"
	}
	if ext := r.Context["sts:ExternalId"]; len(ext) != 1 || ext[0] != "x" {
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
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), ExternalId: aws.String("x"),
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
	assert.Equal(t, []string{"x"}, ar.Context["sts:ExternalId"])
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
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s2"), ExternalId: aws.String("y"),
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
