package xacct_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

func TestParseRoleARN(t *testing.T) {
	ok := []struct {
		in   string
		want xacct.RoleARN
	}{
		{"arn:aws:iam::222222222222:role/xacct-copy", xacct.RoleARN{Partition: "aws", Account: "222222222222", Path: "/", Name: "xacct-copy"}},
		{"arn:aws:iam::222222222222:role/ops/data/xacct+copy@b", xacct.RoleARN{Partition: "aws", Account: "222222222222", Path: "/ops/data/", Name: "xacct+copy@b"}},
		{"arn:aws-cn:iam::123456789012:role/r", xacct.RoleARN{Partition: "aws-cn", Account: "123456789012", Path: "/", Name: "r"}},
	}
	for _, tt := range ok {
		got, err := xacct.ParseRoleARN(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got)
		assert.Equal(t, tt.in, got.String())
	}
	bad := []struct{ in, rule string }{
		{"", "must look like"},
		{"arn:aws:iam::2222:role/x", "12 digits"},
		{"arn:aws:iam::222222222222:user/x", "role/[PATH/]NAME"},
		{"arn:aws:sts::222222222222:assumed-role/x/s", "IAM ARN"},
		{"arn:aws:iam:us-east-1:222222222222:role/x", "empty region"},
		{"arn:aws:iam::222222222222:role/", "role name"},
		{"arn:aws:iam::222222222222:role/bad name", "role name"},
		{"arn:aws:iam::222222222222:role/" + strings.Repeat("n", 65), "role name"},
		{"arn:other:iam::222222222222:role/x", "partition"},
	}
	for _, tt := range bad {
		_, err := xacct.ParseRoleARN(tt.in)
		var ve *xacct.ValidationError
		require.ErrorAs(t, err, &ve, tt.in)
		assert.Equal(t, tt.in, ve.Value)
		assert.Contains(t, ve.Rule, tt.rule, tt.in)
		assert.ErrorIs(t, err, xacct.ErrInvalidOption)
	}
}

func TestValidateAccountID(t *testing.T) {
	require.NoError(t, xacct.ValidateAccountID("012345678901"))
	for _, s := range []string{"", "12345678901", "1234567890123", "12345678901a", " 12345678901"} {
		err := xacct.ValidateAccountID(s)
		var ve *xacct.ValidationError
		require.ErrorAs(t, err, &ve, s)
		assert.Equal(t, s, ve.Value)
		assert.Equal(t, "must be exactly 12 digits", ve.Rule)
	}
	_, err := xacct.NewCopier(&s3.Client{}, xacct.WithDestinationAccount("42"))
	var ve *xacct.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "destination account", ve.Field)
}

func TestAssumeRoleConfigValidatesOptions(t *testing.T) {
	const role = "arn:aws:iam::222222222222:role/r"
	tests := []struct {
		name  string
		arn   string
		opts  []xacct.AssumeRoleOption
		field string
	}{
		{"bad ARN", "arn:aws:iam::2:role/r", nil, "role ARN"},
		{"short session name", role, []xacct.AssumeRoleOption{xacct.WithSessionName("x")}, "session name"},
		{"session name charset", role, []xacct.AssumeRoleOption{xacct.WithSessionName("a b")}, "session name"},
		{"too short", role, []xacct.AssumeRoleOption{xacct.WithDuration(time.Minute)}, "session duration"},
		{"too long", role, []xacct.AssumeRoleOption{xacct.WithDuration(13 * time.Hour)}, "session duration"},
		{"fractional", role, []xacct.AssumeRoleOption{xacct.WithDuration(20*time.Minute + time.Millisecond)}, "session duration"},
		{"MFA without token", role, []xacct.AssumeRoleOption{xacct.WithMFA(nil, "arn:aws:iam::111111111111:mfa/me")}, "MFA"},
		{"MFA without serial", role, []xacct.AssumeRoleOption{xacct.WithMFA(func() (string, error) { return "123456", nil }, "")}, "MFA"},
		{"source identity", role, []xacct.AssumeRoleOption{xacct.WithSourceIdentity("me!")}, "source identity"},
		{"empty tag key", role, []xacct.AssumeRoleOption{xacct.WithSessionTags(map[string]string{"": "v"})}, "session tag"},
		{"tag key charset", role, []xacct.AssumeRoleOption{xacct.WithSessionTags(map[string]string{"a*b": "v"})}, "session tag"},
		{"tag value charset", role, []xacct.AssumeRoleOption{xacct.WithSessionTags(map[string]string{"k": "v!"})}, "session tag"},
		{"tag keys differ in case only", role, []xacct.AssumeRoleOption{xacct.WithSessionTags(map[string]string{"team": "a", "TEAM": "b"})}, "session tag"},
		{"long tag value", role, []xacct.AssumeRoleOption{xacct.WithSessionTags(map[string]string{"k": strings.Repeat("ü", 257)})}, "session tag"},
		{"nil STS client", role, []xacct.AssumeRoleOption{xacct.WithSTSClient(nil)}, "STS client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := xacct.AssumeRoleConfig(aws.Config{}, tt.arn, tt.opts...)
			var ve *xacct.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
			assert.ErrorIs(t, err, xacct.ErrInvalidOption)
		})
	}
}

// crossAccount is an enforcing sandbox with data in account A and a copy
// role in account B that a user in account A assumes with an external
// ID, set up with the policy builders.
type crossAccount struct {
	sb       *sandbox.Sandbox
	src, dst xacct.Location
	user     sandbox.Principal
	roleARN  string
	ownerA   *s3.Client
	ownerB   *s3.Client
}

const externalID = "xacct-ext-4711"

func newCrossAccount(t *testing.T, opts ...sandbox.Option) *crossAccount {
	t.Helper()
	ctx := t.Context()
	sb, err := enforce.Start(opts...)
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	x := &crossAccount{
		sb:      sb,
		src:     xacct.MustParseLocation("s3://a-exports/daily/"),
		dst:     xacct.MustParseLocation("s3://b-archive/from-a/"),
		roleARN: "arn:aws:iam::" + sandbox.AccountB + ":role/xacct-copy",
		ownerA:  sb.S3(sb.Root(sandbox.AccountA)),
		ownerB:  sb.S3(sb.Root(sandbox.AccountB)),
	}
	require.NoError(t, sb.CreateBucket(ctx, sb.Root(sandbox.AccountA), x.src.Bucket))
	require.NoError(t, sb.CreateBucket(ctx, sb.Root(sandbox.AccountB), x.dst.Bucket))
	x.user, err = sb.AddUser(sandbox.AccountA, "operator", policyJSON(t, xacct.CallerAssumeRolePolicy(x.roleARN)))
	require.NoError(t, err)
	_, err = sb.CreateRole(sandbox.AccountB, "xacct-copy", policyJSON(t, xacct.CopyRoleTrustPolicy(x.user.ARN, externalID)),
		map[string]string{"copy": policyJSON(t, xacct.CopyRolePolicy(x.src, x.dst))})
	require.NoError(t, err)
	_, err = x.ownerA.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(x.src.Bucket), Policy: aws.String(policyJSON(t, xacct.SourceBucketPolicy(x.src, x.roleARN)))})
	require.NoError(t, err)
	return x
}

func policyJSON(t testing.TB, p xacct.Policy) string {
	t.Helper()
	b, err := p.JSON()
	require.NoError(t, err)
	return string(b)
}

func putObjects(t testing.TB, c *s3.Client, bucket string, objects map[string]string) {
	t.Helper()
	for k, v := range objects {
		_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader(v)})
		require.NoError(t, err)
	}
}

func readAll(t testing.TB, c *s3.Client, loc xacct.Location) map[string]string {
	t.Helper()
	out := map[string]string{}
	for obj, err := range xacct.List(context.Background(), c, loc) {
		require.NoError(t, err)
		got, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(obj.Key)})
		require.NoError(t, err)
		b, err := io.ReadAll(got.Body)
		require.NoError(t, err)
		_ = got.Body.Close()
		out[strings.TrimPrefix(obj.Key, loc.Prefix)] = string(b)
	}
	return out
}

func TestSyncThroughAssumedRoleWithExternalID(t *testing.T) {
	x := newCrossAccount(t)
	putObjects(t, x.ownerA, x.src.Bucket, map[string]string{"daily/a.csv": "a", "daily/sub/b.csv": "bb", "private/no.txt": "secret"})

	cfg, err := xacct.AssumeRoleConfig(x.sb.Config(x.user), x.roleARN, xacct.WithExternalID(externalID), xacct.WithSessionName("nightly-sync"))
	require.NoError(t, err)
	id, err := xacct.WhoAmI(t.Context(), x.sb.STS(x.user))
	require.NoError(t, err)
	assert.Equal(t, x.user.ARN, id.ARN, "the base config is not changed")

	c, err := xacct.NewCopierFromConfig(cfg, xacct.WithSourceAccount(sandbox.AccountA), xacct.WithDestinationAccount(sandbox.AccountB))
	require.NoError(t, err)
	rep, err := c.Sync(t.Context(), x.src, x.dst)
	require.NoError(t, err)
	assert.EqualValues(t, 2, rep.Copied)
	assert.Equal(t, xacct.ModeServerSide, rep.Mode)
	require.NotNil(t, rep.Preflight)
	assert.Equal(t, "arn:aws:sts::"+sandbox.AccountB+":assumed-role/xacct-copy/nightly-sync", rep.Preflight.SourceIdentity.ARN)
	assert.Equal(t, map[string]string{"a.csv": "a", "sub/b.csv": "bb"}, readAll(t, x.ownerB, x.dst))
	assert.Equal(t, 1, x.sb.Requests()["AssumeRole"], "credentials are cached")
}

func TestAssumeRoleWrongExternalID(t *testing.T) {
	x := newCrossAccount(t)
	putObjects(t, x.ownerA, x.src.Bucket, map[string]string{"daily/a.csv": "a"})
	cfg, err := xacct.AssumeRoleConfig(x.sb.Config(x.user), x.roleARN, xacct.WithExternalID("not-the-id"))
	require.NoError(t, err)

	_, err = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(x.src.Bucket)})
	require.Error(t, err)
	var are *xacct.AssumeRoleError
	require.ErrorAs(t, err, &are)
	assert.Equal(t, x.roleARN, are.RoleARN)
	assert.Equal(t, "not-the-id", are.ExternalID)
	assert.Equal(t, x.user.ARN, are.Caller)
	assert.ErrorIs(t, err, xacct.ErrAccessDenied)
	var apiErr smithy.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "AccessDenied", apiErr.ErrorCode())

	c, err := xacct.NewCopierFromConfig(cfg)
	require.NoError(t, err)
	rep, err := c.Sync(t.Context(), x.src, x.dst)
	require.ErrorIs(t, err, xacct.ErrAccessDenied)
	require.ErrorAs(t, err, &are)
	assert.Zero(t, rep.Copied)
	require.Len(t, rep.Preflight.Findings, 1, "one finding however many probes hit it")
	f := rep.Preflight.Findings[0]
	assert.Equal(t, "sts:AssumeRole", f.Action)
	assert.Equal(t, x.roleARN, f.Resource)
	// Both sides must allow a cross-account AssumeRole: the caller's
	// identity policy, and the role's trust, guarded by the ExternalId
	// that was sent, under a Sid that does not replace the role's own
	// statement on merge.
	require.Len(t, f.Fixes, 2)
	assert.Equal(t, xacct.PolicyKindIdentity, f.Fixes[0].Kind)
	assert.Equal(t, x.user.ARN, f.Fixes[0].Target)
	assertCallerFix(t, x.roleARN, f.Fixes[0].Statement)
	assert.Equal(t, xacct.PolicyKindTrust, f.Fixes[1].Kind)
	want := xacct.CopyRoleTrustPolicy(x.user.ARN, "not-the-id").Statement[0]
	want.Sid = f.Fixes[1].Statement.Sid
	assert.Equal(t, want, f.Fixes[1].Statement)
	assert.NotEqual(t, "XacctAssumeRole", f.Fixes[1].Statement.Sid)
	assert.Contains(t, f.Hint, "different ExternalId")
}

func TestLoadProfileAssumesRole(t *testing.T) {
	x := newCrossAccount(t)
	putObjects(t, x.ownerA, x.src.Bucket, map[string]string{"daily/a.csv": "a"})
	dir := t.TempDir()
	cfgFile, credFile, err := x.sb.WriteAWSConfig(dir, map[string]sandbox.ProfileSpec{
		"operator": {Principal: x.user},
		"copy":     {RoleARN: x.roleARN, SourceProfile: "operator", ExternalID: externalID, RoleSessionName: "from-profile"},
	})
	require.NoError(t, err)
	files := []func(*config.LoadOptions) error{
		config.WithSharedConfigFiles([]string{cfgFile}), config.WithSharedCredentialsFiles([]string{credFile}),
		config.WithBaseEndpoint(x.sb.URL), config.WithRegion(sandbox.Region),
	}
	cfg, err := xacct.LoadProfile(t.Context(), "copy", files...)
	require.NoError(t, err)
	c, err := xacct.NewCopierFromConfig(cfg)
	require.NoError(t, err)
	rep, err := c.Sync(t.Context(), x.src, x.dst)
	require.NoError(t, err)
	assert.EqualValues(t, 1, rep.Copied)
	assert.Contains(t, rep.Preflight.SourceIdentity.ARN, ":assumed-role/xacct-copy/from-profile")

	_, err = xacct.LoadProfile(t.Context(), "nope", files...)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `profile "nope": no profile "nope"`)
	_, err = xacct.LoadProfile(t.Context(), "")
	require.ErrorIs(t, err, xacct.ErrInvalidOption)
}

// slowCopier makes each server-side copy take a while, so that a sync of
// a few dozen objects outlives a two-second session.
type slowCopier struct {
	*s3.Client
	delay  time.Duration
	copies atomic.Int32
}

func (s *slowCopier) CopyObject(ctx context.Context, in *s3.CopyObjectInput, o ...func(*s3.Options)) (*s3.CopyObjectOutput, error) {
	s.copies.Add(1)
	time.Sleep(s.delay)
	return s.Client.CopyObject(ctx, in, o...)
}

func TestCredentialsRenewDuringLongSync(t *testing.T) {
	t.Cleanup(xacct.SetMinSessionDuration(time.Second))
	x := newCrossAccount(t, sandbox.WithMinSessionDuration(time.Second))
	objs := map[string]string{}
	for i := range 40 {
		objs[fmt.Sprintf("daily/%03d.csv", i)] = fmt.Sprint(i)
	}
	putObjects(t, x.ownerA, x.src.Bucket, objs)
	cfg, err := xacct.AssumeRoleConfig(x.sb.Config(x.user), x.roleARN, xacct.WithExternalID(externalID), xacct.WithDuration(2*time.Second))
	require.NoError(t, err)
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	slow := &slowCopier{Client: client, delay: 100 * time.Millisecond}
	c, err := xacct.NewCopier(client, xacct.WithDestinationClient(slow), xacct.WithConcurrency(1))
	require.NoError(t, err)

	start := time.Now()
	rep, err := c.Sync(t.Context(), x.src, x.dst)
	require.NoError(t, err)
	assert.Zero(t, rep.Failed)
	assert.EqualValues(t, 40, rep.Copied)
	assert.Greater(t, time.Since(start), 4*time.Second)
	assert.GreaterOrEqual(t, x.sb.Requests()["AssumeRole"], 3, "the session was renewed as it expired")
	assert.Len(t, readAll(t, x.ownerB, x.dst), 40)
}
