package sandbox_test

import (
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct/internal/sandbox"
)

// isolateAWSEnv keeps the developer's AWS settings out of a test that
// loads the default config.
func isolateAWSEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "AWS_") {
			t.Setenv(name, "")
		}
	}
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestEnv(t *testing.T) {
	sb := start(t)
	isolateAWSEnv(t)
	u, err := sb.AddUser(sandbox.AccountA, "cli")
	require.NoError(t, err)
	env := sb.Env(u)
	assert.Contains(t, env, "AWS_ENDPOINT_URL="+sb.URL)
	assert.Contains(t, env, "AWS_REGION="+sandbox.Region)
	for _, kv := range env {
		assert.False(t, strings.HasPrefix(kv, "AWS_SESSION_TOKEN="), "long-term keys have no token")
		name, value, _ := strings.Cut(kv, "=")
		t.Setenv(name, value)
	}
	cfg, err := config.LoadDefaultConfig(t.Context())
	require.NoError(t, err)
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
	assert.Equal(t, u.ARN, aws.ToString(id.Arn))
}

func TestWriteAWSConfigAssumesRole(t *testing.T) {
	sb := start(t)
	isolateAWSEnv(t)
	ctx := t.Context()
	roleARN, err := sb.CreateRole(sandbox.AccountB, "xacct-dest", trustWithExternalID, nil)
	require.NoError(t, err)
	app, err := sb.AddUser(sandbox.AccountA, "app", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	require.NoError(t, err)
	record(sb, trustStub)

	cfgFile, credFile, err := sb.WriteAWSConfig(t.TempDir(), map[string]sandbox.ProfileSpec{
		"base":  {Principal: app},
		"cross": {RoleARN: roleARN, SourceProfile: "base", ExternalID: "ext-x", RoleSessionName: "xacct"},
		"wrong": {RoleARN: roleARN, SourceProfile: "base", ExternalID: "ext-y"},
	})
	require.NoError(t, err)
	load := func(profile string) aws.Config {
		cfg, err := config.LoadDefaultConfig(ctx, config.WithSharedConfigFiles([]string{cfgFile}),
			config.WithSharedCredentialsFiles([]string{credFile}), config.WithSharedConfigProfile(profile))
		require.NoError(t, err)
		return cfg
	}

	cfg := load("cross")
	assert.Equal(t, sb.URL, aws.ToString(cfg.BaseEndpoint))
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:sts::"+sandbox.AccountB+":assumed-role/xacct-dest/xacct", aws.ToString(id.Arn))

	id, err = sts.NewFromConfig(load("base")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
	assert.Equal(t, app.ARN, aws.ToString(id.Arn))

	_, err = sts.NewFromConfig(load("wrong")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	requireCode(t, err, "AccessDenied")

	_, _, err = sb.WriteAWSConfig(t.TempDir(), map[string]sandbox.ProfileSpec{"orphan": {RoleARN: roleARN, SourceProfile: "nope"}})
	require.Error(t, err)
}

func TestWriteAWSConfigMFAAndDuration(t *testing.T) {
	sb := start(t)
	app, err := sb.AddUser(sandbox.AccountA, "app")
	require.NoError(t, err)
	const role = "arn:aws:iam::222222222222:role/r"
	cfgFile, _, err := sb.WriteAWSConfig(t.TempDir(), map[string]sandbox.ProfileSpec{
		"base":  {Principal: app},
		"cross": {RoleARN: role, SourceProfile: "base", MFASerial: "arn:aws:iam::111111111111:mfa/app", DurationSeconds: 2400},
	})
	require.NoError(t, err)
	b, err := os.ReadFile(cfgFile)
	require.NoError(t, err)
	assert.Contains(t, string(b), "[profile cross]\nregion = "+sandbox.Region+"\nendpoint_url = "+sb.URL+"\nservices = xacct-sandbox\nrole_arn = "+role+
		"\nsource_profile = base\nmfa_serial = arn:aws:iam::111111111111:mfa/app\nduration_seconds = 2400\n")

	for name, spec := range map[string]sandbox.ProfileSpec{
		"negative duration":    {RoleARN: role, SourceProfile: "base", DurationSeconds: -1},
		"MFA on a key profile": {Principal: app, MFASerial: "arn:aws:iam::111111111111:mfa/app"},
	} {
		_, _, err := sb.WriteAWSConfig(t.TempDir(), map[string]sandbox.ProfileSpec{"base": {Principal: app}, "p": spec})
		require.Error(t, err, name)
		assert.ErrorContains(t, err, `profile "p"`, name)
	}
}
