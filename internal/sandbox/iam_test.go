package sandbox_test

import (
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

const (
	trustA = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}`
	readS3 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
)

func TestIAMRoleRoundTrip(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	c := sb.IAM(sb.Root(sandbox.AccountB))

	created, err := c.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("copier"), AssumeRolePolicyDocument: aws.String(trustA),
		Description: aws.String("copies"), MaxSessionDuration: aws.Int32(7200),
	})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:iam::222222222222:role/copier", aws.ToString(created.Role.Arn))
	assert.Regexp(t, `^AROA[0-9A-Z]{17}$`, aws.ToString(created.Role.RoleId))
	assert.Equal(t, int32(7200), aws.ToInt32(created.Role.MaxSessionDuration))

	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("copier"), AssumeRolePolicyDocument: aws.String(trustA)})
	requireCode(t, err, "EntityAlreadyExists")
	requireStatus(t, err, 409)

	got, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("copier")})
	require.NoError(t, err)
	assert.Equal(t, "copies", aws.ToString(got.Role.Description))
	doc, err := url.QueryUnescape(aws.ToString(got.Role.AssumeRolePolicyDocument))
	require.NoError(t, err)
	assert.JSONEq(t, trustA, doc)
	assert.Contains(t, aws.ToString(got.Role.AssumeRolePolicyDocument), "%7B%22Version%22", "documents are URL-encoded as AWS does")

	newTrust := `{"Version":"2012-10-17","Statement":[]}`
	_, err = c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("copier"), PolicyDocument: aws.String(newTrust)})
	require.NoError(t, err)
	got, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("copier")})
	require.NoError(t, err)
	doc, _ = url.QueryUnescape(aws.ToString(got.Role.AssumeRolePolicyDocument))
	assert.JSONEq(t, newTrust, doc)

	for _, n := range []string{"b-read", "a-read"} {
		_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("copier"), PolicyName: aws.String(n), PolicyDocument: aws.String(readS3)})
		require.NoError(t, err)
	}
	pol, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("copier"), PolicyName: aws.String("a-read")})
	require.NoError(t, err)
	doc, _ = url.QueryUnescape(aws.ToString(pol.PolicyDocument))
	assert.JSONEq(t, readS3, doc)
	assert.Equal(t, "copier", aws.ToString(pol.RoleName))

	list, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("copier")})
	require.NoError(t, err)
	assert.Equal(t, []string{"a-read", "b-read"}, list.PolicyNames)
	assert.False(t, list.IsTruncated)
	page, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("copier"), MaxItems: aws.Int32(1)})
	require.NoError(t, err)
	assert.Equal(t, []string{"a-read"}, page.PolicyNames)
	require.True(t, page.IsTruncated)
	page, err = c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("copier"), Marker: page.Marker})
	require.NoError(t, err)
	assert.Equal(t, []string{"b-read"}, page.PolicyNames)

	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("copier")})
	requireCode(t, err, "DeleteConflict")
	requireStatus(t, err, 409)
	for _, n := range []string{"a-read", "b-read"} {
		_, err = c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("copier"), PolicyName: aws.String(n)})
		require.NoError(t, err)
	}
	_, err = c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("copier"), PolicyName: aws.String("a-read")})
	requireCode(t, err, "NoSuchEntity")
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("copier")})
	require.NoError(t, err)
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("copier")})
	requireCode(t, err, "NoSuchEntity")
	requireStatus(t, err, 404)
}

func TestIAMErrors(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	c := sb.IAM(sb.Root(sandbox.AccountA))

	_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String("{not json")})
	requireCode(t, err, "MalformedPolicyDocument")
	requireStatus(t, err, 400)
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bad name!"), AssumeRolePolicyDocument: aws.String(trustA)})
	requireCode(t, err, "ValidationError")
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustA), MaxSessionDuration: aws.Int32(50000)})
	requireCode(t, err, "ValidationError")
	_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("missing"), PolicyName: aws.String("p"), PolicyDocument: aws.String(readS3)})
	requireCode(t, err, "NoSuchEntity")
	_, err = c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("missing"), PolicyName: aws.String("p")})
	requireCode(t, err, "NoSuchEntity")

	arn, err := sb.CreateRole(sandbox.AccountA, "r", trustA, map[string]string{"p": readS3})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:iam::111111111111:role/r", arn)
	_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p"), PolicyDocument: aws.String("[]")})
	requireCode(t, err, "MalformedPolicyDocument")
	_, err = c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("nope")})
	requireCode(t, err, "NoSuchEntity")

	// Roles belong to the caller's account.
	_, err = sb.IAM(sb.Root(sandbox.AccountB)).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")})
	requireCode(t, err, "NoSuchEntity")
}

func TestIAMAuthorized(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	u, err := sb.AddUser(sandbox.AccountA, "ops", readS3)
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:iam::111111111111:user/ops", u.ARN)
	rec := record(sb, func(r *sandbox.AccessRequest) string {
		if r.Action == "iam:DeleteRole" {
			return "no identity-based policy allows the iam:DeleteRole action"
		}
		return ""
	})
	c := sb.IAM(u)
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustA)})
	require.NoError(t, err)
	seen := rec.take()
	require.Len(t, seen, 1)
	assert.Equal(t, "iam:CreateRole", seen[0].Action)
	assert.Equal(t, "arn:aws:iam::111111111111:role/r", seen[0].Resource)
	assert.Equal(t, sandbox.AccountA, seen[0].ResourceAccount)
	assert.Equal(t, u.ARN, seen[0].PrincipalARN)
	assert.False(t, seen[0].PrincipalIsRoot)
	assert.Equal(t, []string{readS3}, seen[0].IdentityPolicies)

	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("r")})
	requireCode(t, err, "AccessDenied")
	requireStatus(t, err, 403)
	assert.ErrorContains(t, err, "User: arn:aws:iam::111111111111:user/ops is not authorized to perform: iam:DeleteRole on resource: \"arn:aws:iam::111111111111:role/r\" because no identity-based policy")
	_, ok := sb.IAM(u).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")})
	require.NoError(t, ok)
}

// With the enforcing setup, role and user policies AWS would refuse are
// refused with 400 MalformedPolicyDocument naming the problem.
func TestInvalidIAMPoliciesRefused(t *testing.T) {
	sb, err := enforce.Start()
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	ctx := t.Context()
	c := sb.IAM(sb.Root(sandbox.AccountA))
	_, err = sb.CreateRole(sandbox.AccountA, "r", trustA, nil)
	require.NoError(t, err)
	badIdentity := []struct{ name, doc, want string }{
		{"bad Effect", `{"Version":"2012-10-17","Statement":[{"Effect":"Permit","Action":"s3:GetObject","Resource":"*"}]}`, "Statement[0].Effect"},
		{"no Action", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`, "Statement[0].Action"},
		{"bad action", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}`, "Statement[0].Action"},
		{"with Principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`, "Statement[0].Principal"},
	}
	for _, tc := range badIdentity {
		t.Run("PutRolePolicy "+tc.name, func(t *testing.T) {
			_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p"), PolicyDocument: aws.String(tc.doc)})
			requireCode(t, err, "MalformedPolicyDocument")
			requireStatus(t, err, 400)
			assert.ErrorContains(t, err, tc.want)
			_, err = c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p")})
			requireCode(t, err, "NoSuchEntity")
			_, err = sb.AddUser(sandbox.AccountA, "u", tc.doc)
			assert.ErrorContains(t, err, "MalformedPolicyDocument")
		})
	}
	noPrincipal := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String(noPrincipal)})
	requireCode(t, err, "MalformedPolicyDocument")
	assert.ErrorContains(t, err, "Statement[0].Principal")
	_, err = c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("r"), PolicyDocument: aws.String(noPrincipal)})
	requireCode(t, err, "MalformedPolicyDocument")
	got, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")})
	require.NoError(t, err)
	assert.Contains(t, aws.ToString(got.Role.AssumeRolePolicyDocument), "Principal", "the trust policy is unchanged")

	_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p"), PolicyDocument: aws.String(readS3)})
	require.NoError(t, err, "a valid policy is still taken")
}
