package xacct_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

// sessionFixture is an enforcing sandbox with an object in account B and
// an operator in account A whose identity policy lets it assume any role
// of account B with session tags and a source identity; each test adds
// roles whose trust and permissions it is about.
type sessionFixture struct {
	sb   *sandbox.Sandbox
	user sandbox.Principal
}

const (
	sessionBucket = "b-sessions"
	sessionKey    = "report.csv"
	operatorMFA   = "arn:aws:iam::" + sandbox.AccountA + ":mfa/operator"
)

func newSessionFixture(t *testing.T) *sessionFixture {
	t.Helper()
	sb, err := enforce.Start()
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	rootB := sb.Root(sandbox.AccountB)
	require.NoError(t, sb.CreateBucket(t.Context(), rootB, sessionBucket))
	putObjects(t, sb.S3(rootB), sessionBucket, map[string]string{sessionKey: "a,b"})
	user, err := sb.AddUser(sandbox.AccountA, "operator", fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",`+
		`"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"],"Resource":"arn:aws:iam::%s:role/*"}]}`, sandbox.AccountB))
	require.NoError(t, err)
	return &sessionFixture{sb: sb, user: user}
}

// role creates a role in account B that trusts the operator for actions
// (under condition, a JSON object or "") and may read the object when
// readCondition (a JSON object or "") holds.
func (f *sessionFixture) role(t *testing.T, name string, actions []string, condition, readCondition string) string {
	t.Helper()
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":%q},"Action":[%s]%s}]}`,
		f.user.ARN, `"`+strings.Join(actions, `","`)+`"`, conditionJSON(condition))
	read := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::%s/*"%s}]}`,
		sessionBucket, conditionJSON(readCondition))
	arn, err := f.sb.CreateRole(sandbox.AccountB, name, trust, map[string]string{"read": read})
	require.NoError(t, err)
	return arn
}

func conditionJSON(c string) string {
	if c == "" {
		return ""
	}
	return `,"Condition":` + c
}

// read gets the object with cfg's credentials.
func readObject(ctx context.Context, cfg aws.Config) (string, error) {
	out, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).GetObject(ctx,
		&s3.GetObjectInput{Bucket: aws.String(sessionBucket), Key: aws.String(sessionKey)})
	if err != nil {
		return "", err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return string(b), err
}

func requireAPICode(t *testing.T, err error, code string) {
	t.Helper()
	var apiErr smithy.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, code, apiErr.ErrorCode(), "%v", err)
}

// countingToken is an MFA token provider that counts its calls.
func countingToken(code string, calls *atomic.Int32) func() (string, error) {
	return func() (string, error) {
		calls.Add(1)
		return code, nil
	}
}

func TestAssumeRoleConfigWithMFA(t *testing.T) {
	f := newSessionFixture(t)
	ctx := t.Context()
	// The role may read only in a session created with MFA, within the
	// last hour.
	readerARN := f.role(t, "mfa-reader", []string{"sts:AssumeRole"}, "",
		`{"Bool":{"aws:MultiFactorAuthPresent":"true"},"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}`)
	var calls atomic.Int32
	cfg, err := xacct.AssumeRoleConfig(f.sb.Config(f.user), readerARN, xacct.WithMFA(countingToken("123456", &calls), operatorMFA))
	require.NoError(t, err)
	assert.Zero(t, calls.Load(), "the token is asked for on first use, not before")
	got, err := readObject(ctx, cfg)
	require.NoError(t, err)
	assert.Equal(t, "a,b", got)
	_, err = readObject(ctx, cfg)
	require.NoError(t, err)
	assert.EqualValues(t, 1, calls.Load(), "one AssumeRole, one code: the session is cached")

	plain, err := xacct.AssumeRoleConfig(f.sb.Config(f.user), readerARN)
	require.NoError(t, err)
	_, err = readObject(ctx, plain)
	requireAPICode(t, err, "AccessDenied")
	assert.ErrorContains(t, err, "aws:MultiFactorAuth", "the denial names a condition that was not met")

	// A trust policy that requires MFA refuses a session without it.
	guardedARN := f.role(t, "mfa-only", []string{"sts:AssumeRole"}, `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`, "")
	plain, err = xacct.AssumeRoleConfig(f.sb.Config(f.user), guardedARN)
	require.NoError(t, err)
	_, err = readObject(ctx, plain)
	var are *xacct.AssumeRoleError
	require.ErrorAs(t, err, &are)
	assert.ErrorIs(t, err, xacct.ErrAccessDenied)
	assert.Equal(t, f.user.ARN, are.Caller)
	cfg, err = xacct.AssumeRoleConfig(f.sb.Config(f.user), guardedARN, xacct.WithMFA(countingToken("654321", &calls), operatorMFA))
	require.NoError(t, err)
	_, err = readObject(ctx, cfg)
	require.NoError(t, err)
	assert.EqualValues(t, 2, calls.Load())

	// STS refuses a code that is not six digits, without echoing it.
	cfg, err = xacct.AssumeRoleConfig(f.sb.Config(f.user), guardedARN, xacct.WithMFA(countingToken("12345", &calls), operatorMFA))
	require.NoError(t, err)
	_, err = readObject(ctx, cfg)
	require.ErrorAs(t, err, &are)
	requireAPICode(t, err, "ValidationError")
	assert.NotErrorIs(t, err, xacct.ErrAccessDenied)
	assert.NotContains(t, err.Error(), "12345")

	// A token provider's failure stops AssumeRole before it is sent.
	boom := errors.New("no token device")
	before := f.sb.Requests()["AssumeRole"]
	cfg, err = xacct.AssumeRoleConfig(f.sb.Config(f.user), guardedARN, xacct.WithMFA(func() (string, error) { return "", boom }, operatorMFA))
	require.NoError(t, err)
	_, err = readObject(ctx, cfg)
	require.ErrorIs(t, err, boom)
	assert.Equal(t, before, f.sb.Requests()["AssumeRole"])
}

func TestAssumeRoleConfigWithSourceIdentity(t *testing.T) {
	f := newSessionFixture(t)
	ctx := t.Context()
	const readAsAlice = `{"StringEquals":{"aws:SourceIdentity":"alice"}}`

	// The trust policy does not allow sts:SetSourceIdentity: refused.
	bareARN := f.role(t, "no-source-identity", []string{"sts:AssumeRole"}, "", readAsAlice)
	cfg, err := xacct.AssumeRoleConfig(f.sb.Config(f.user), bareARN, xacct.WithSourceIdentity("alice"))
	require.NoError(t, err)
	_, err = readObject(ctx, cfg)
	var are *xacct.AssumeRoleError
	require.ErrorAs(t, err, &are)
	assert.ErrorIs(t, err, xacct.ErrAccessDenied)
	requireAPICode(t, err, "AccessDenied")
	assert.ErrorContains(t, err, "is not authorized to perform: sts:SetSourceIdentity on resource: \""+bareARN+"\"")
	plain, err := xacct.AssumeRoleConfig(f.sb.Config(f.user), bareARN)
	require.NoError(t, err)
	_, err = readObject(ctx, plain)
	requireAPICode(t, err, "AccessDenied")
	require.NotErrorAs(t, err, &are, "without a source identity the role is assumed; the read is what is refused")

	// Allowed, for source identities the trust policy names; the session's
	// source identity is what the role's policy checks.
	arn := f.role(t, "source-identity", []string{"sts:AssumeRole", "sts:SetSourceIdentity"},
		`{"StringLike":{"sts:SourceIdentity":["alice","bob"]}}`, readAsAlice)
	cfg, err = xacct.AssumeRoleConfig(f.sb.Config(f.user), arn, xacct.WithSourceIdentity("alice"))
	require.NoError(t, err)
	got, err := readObject(ctx, cfg)
	require.NoError(t, err)
	assert.Equal(t, "a,b", got)

	bob, err := xacct.AssumeRoleConfig(f.sb.Config(f.user), arn, xacct.WithSourceIdentity("bob"))
	require.NoError(t, err)
	_, err = readObject(ctx, bob)
	requireAPICode(t, err, "AccessDenied")
	require.NotErrorAs(t, err, &are, "bob may assume the role but not read")
	assert.ErrorContains(t, err, "aws:SourceIdentity")

	mallory, err := xacct.AssumeRoleConfig(f.sb.Config(f.user), arn, xacct.WithSourceIdentity("mallory"))
	require.NoError(t, err)
	_, err = readObject(ctx, mallory)
	require.ErrorAs(t, err, &are, "the trust policy admits only alice and bob")
	assert.ErrorIs(t, err, xacct.ErrAccessDenied)
}

func TestAssumeRoleConfigWithSessionTags(t *testing.T) {
	f := newSessionFixture(t)
	ctx := t.Context()
	const readAsData = `{"StringEquals":{"aws:PrincipalTag/team":"data"}}`
	dataTeam := xacct.WithSessionTags(map[string]string{"team": "data", "cost-center": "4711"})

	bareARN := f.role(t, "no-tag-session", []string{"sts:AssumeRole"}, "", readAsData)
	cfg, err := xacct.AssumeRoleConfig(f.sb.Config(f.user), bareARN, dataTeam)
	require.NoError(t, err)
	_, err = readObject(ctx, cfg)
	var are *xacct.AssumeRoleError
	require.ErrorAs(t, err, &are)
	assert.ErrorIs(t, err, xacct.ErrAccessDenied)
	assert.ErrorContains(t, err, "is not authorized to perform: sts:TagSession on resource: \""+bareARN+"\"")

	arn := f.role(t, "tag-session", []string{"sts:AssumeRole", "sts:TagSession"}, "", readAsData)
	cfg, err = xacct.AssumeRoleConfig(f.sb.Config(f.user), arn, dataTeam)
	require.NoError(t, err)
	got, err := readObject(ctx, cfg)
	require.NoError(t, err)
	assert.Equal(t, "a,b", got)

	ops, err := xacct.AssumeRoleConfig(f.sb.Config(f.user), arn, xacct.WithSessionTags(map[string]string{"team": "ops"}))
	require.NoError(t, err)
	_, err = readObject(ctx, ops)
	requireAPICode(t, err, "AccessDenied")
	require.NotErrorAs(t, err, &are, "the ops session exists; its reads are refused")
	assert.ErrorContains(t, err, "aws:PrincipalTag/team")

	// Tags STS would refuse are refused before any call, naming the rule.
	_, err = xacct.AssumeRoleConfig(f.sb.Config(f.user), arn, xacct.WithSessionTags(map[string]string{"team": "data", "TEAM": "ops"}))
	var ve *xacct.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Contains(t, ve.Rule, "case-insensitively")
	cfg, err = xacct.AssumeRoleConfig(f.sb.Config(f.user), arn, xacct.WithSessionTags(map[string]string{"team": "data", "nöte": "dätä 1:/=+-@_."}))
	require.NoError(t, err)
	_, err = readObject(ctx, cfg)
	require.NoError(t, err, "Unicode letters, spaces and STS's punctuation are accepted by both")
}

// LoadProfile with mfa_serial and duration_seconds: the SDK asks the
// token provider given through config.WithAssumeRoleCredentialOptions for
// a code, and the session lasts as long as the profile asks.
func TestLoadProfileMFAAndDuration(t *testing.T) {
	f := newSessionFixture(t)
	ctx := t.Context()
	arn := f.role(t, "mfa-profile", []string{"sts:AssumeRole"}, `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`,
		`{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`)
	cfgFile, credFile, err := f.sb.WriteAWSConfig(t.TempDir(), map[string]sandbox.ProfileSpec{
		"operator": {Principal: f.user},
		"mfa":      {RoleARN: arn, SourceProfile: "operator", MFASerial: operatorMFA, DurationSeconds: 2400, RoleSessionName: "with-mfa"},
		"long":     {RoleARN: arn, SourceProfile: "operator", MFASerial: operatorMFA, DurationSeconds: 7200},
		"default":  {RoleARN: arn, SourceProfile: "operator", MFASerial: operatorMFA},
		"no-mfa":   {RoleARN: arn, SourceProfile: "operator", DurationSeconds: 2400},
	})
	require.NoError(t, err)
	var calls atomic.Int32
	load := func(profile string, withToken bool) (aws.Config, error) {
		opts := []func(*config.LoadOptions) error{
			config.WithSharedConfigFiles([]string{cfgFile}), config.WithSharedCredentialsFiles([]string{credFile}),
			config.WithBaseEndpoint(f.sb.URL), config.WithRegion(sandbox.Region),
		}
		if withToken {
			opts = append(opts, config.WithAssumeRoleCredentialOptions(func(o *stscreds.AssumeRoleOptions) {
				o.TokenProvider = countingToken("123456", &calls)
			}))
		}
		return xacct.LoadProfile(ctx, profile, opts...)
	}

	_, err = load("mfa", false)
	var noToken config.AssumeRoleTokenProviderNotSetError
	require.ErrorAs(t, err, &noToken)
	assert.ErrorContains(t, err, `profile "mfa": mfa_serial is set`)
	assert.ErrorContains(t, err, "config.WithAssumeRoleCredentialOptions")

	cfg, err := load("mfa", true)
	require.NoError(t, err)
	assert.Zero(t, calls.Load())
	creds, err := cfg.Credentials.Retrieve(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 1, calls.Load())
	assert.True(t, creds.CanExpire)
	assert.WithinDuration(t, time.Now().Add(2400*time.Second), creds.Expires, time.Minute, "duration_seconds is honoured")
	got, err := readObject(ctx, cfg)
	require.NoError(t, err, "the session has MFA context")
	assert.Equal(t, "a,b", got)
	id, err := xacct.WhoAmI(ctx, f.sb.STS(sandbox.Principal{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken}))
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:sts::"+sandbox.AccountB+":assumed-role/mfa-profile/with-mfa", id.ARN)

	// Without duration_seconds the SDK asks for 15 minutes.
	cfg, err = load("default", true)
	require.NoError(t, err)
	creds, err = cfg.Credentials.Retrieve(ctx)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(15*time.Minute), creds.Expires, time.Minute)

	// Longer than the role's MaxSessionDuration (one hour): STS refuses.
	cfg, err = load("long", true)
	require.NoError(t, err)
	_, err = cfg.Credentials.Retrieve(ctx)
	requireAPICode(t, err, "ValidationError")
	assert.ErrorContains(t, err, "MaxSessionDuration")

	// The trust policy requires MFA: a profile without mfa_serial is refused.
	cfg, err = load("no-mfa", false)
	require.NoError(t, err)
	_, err = cfg.Credentials.Retrieve(ctx)
	requireAPICode(t, err, "AccessDenied")
}

// The preflight names sts:TagSession, not sts:AssumeRole, when a role
// admits the caller but not its session tags, and its trust fix, merged
// into the role's trust policy, makes the same preflight pass.
func TestPreflightNamesRefusedTagSession(t *testing.T) {
	f := newSessionFixture(t)
	ctx := t.Context()
	arn := f.role(t, "copy-tagged", []string{"sts:AssumeRole"}, "", "")
	src, err := xacct.AssumeRoleConfig(f.sb.Config(f.user), arn, xacct.WithSessionTags(map[string]string{"team": "data"}))
	require.NoError(t, err)
	c, err := xacct.NewCopierFromConfigs(src, f.sb.Config(f.sb.Root(sandbox.AccountB)))
	require.NoError(t, err)
	from, to := xacct.MustParseLocation("s3://"+sessionBucket+"/"), xacct.MustParseLocation("s3://"+sessionBucket+"/copy/")

	rep, err := c.Preflight(ctx, from, to)
	require.NoError(t, err)
	require.NotEmpty(t, rep.Findings)
	finding := rep.Findings[0]
	assert.Equal(t, "sts:TagSession", finding.Action)
	assert.Equal(t, arn, finding.Resource)
	assert.Contains(t, finding.Hint, "tags")
	var trust *xacct.Statement
	for _, fix := range finding.Fixes {
		assert.Contains(t, fix.Statement.Action, "sts:TagSession", "%s fix", fix.Kind)
		if fix.Kind == xacct.PolicyKindTrust {
			trust = &fix.Statement
		}
	}
	require.NotNil(t, trust, "a trust statement for the caller")

	iamB := f.sb.IAM(f.sb.Root(sandbox.AccountB))
	got, err := iamB.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("copy-tagged")})
	require.NoError(t, err)
	doc, err := url.QueryUnescape(aws.ToString(got.Role.AssumeRolePolicyDocument))
	require.NoError(t, err)
	existing, err := xacct.ParsePolicy([]byte(doc))
	require.NoError(t, err)
	merged, changed, err := xacct.MergeStatements(existing, *trust)
	require.NoError(t, err)
	require.True(t, changed)
	js, err := merged.JSON()
	require.NoError(t, err)
	_, err = iamB.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("copy-tagged"), PolicyDocument: aws.String(string(js))})
	require.NoError(t, err)

	src, err = xacct.AssumeRoleConfig(f.sb.Config(f.user), arn, xacct.WithSessionTags(map[string]string{"team": "data"}))
	require.NoError(t, err)
	c, err = xacct.NewCopierFromConfigs(src, f.sb.Config(f.sb.Root(sandbox.AccountB)))
	require.NoError(t, err)
	rep, err = c.Preflight(ctx, from, to)
	require.NoError(t, err)
	for _, fd := range rep.Findings {
		assert.NotContains(t, fd.Action, "sts:", "after the fix: %v", fd)
	}
}
