package main

import (
	"fmt"
	"os"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct/internal/sandbox"
)

func TestLoadConfig(t *testing.T) {
	newEnv(t)
	t.Setenv("AWS_REGION", "")

	cfg, err := loadConfig(t.Context(), globalFlags{}, 64, newLogger(nil, false))
	require.NoError(t, err)
	assert.Equal(t, "us-east-1", cfg.Region, "default region")
	assert.Nil(t, cfg.BaseEndpoint)
	client, ok := cfg.HTTPClient.(*awshttp.BuildableClient)
	require.True(t, ok, "%T", cfg.HTTPClient)
	assert.Equal(t, 64, client.GetTransport().MaxIdleConnsPerHost)
	assert.Equal(t, 64, client.GetTransport().MaxIdleConns)

	cfg, err = loadConfig(t.Context(), globalFlags{region: "eu-west-3", endpointURL: "http://127.0.0.1:9000"}, 1, newLogger(nil, false))
	require.NoError(t, err)
	assert.Equal(t, "eu-west-3", cfg.Region)
	assert.Equal(t, "http://127.0.0.1:9000", *cfg.BaseEndpoint)
	assert.Equal(t, minIdleConns, cfg.HTTPClient.(*awshttp.BuildableClient).GetTransport().MaxIdleConnsPerHost)
}

func TestConfigFromEnvironment(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "env-bucket", map[string]string{"k": "v"})

	// The endpoint from AWS_ENDPOINT_URL alone must switch to path-style
	// addressing, or bucket names would be looked up as host names.
	t.Setenv("AWS_ENDPOINT_URL", e.sb.URL)
	t.Setenv("AWS_REGION", "")
	r := execute(t, func(*app) {}, "ls", "s3://env-bucket")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, " 1 k\n")
	assert.Empty(t, r.stderr)

	// Keys from a named profile of the shared credentials file.
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	b := e.sb.Root(sandbox.AccountB)
	creds := fmt.Sprintf("[other]\naws_access_key_id = %s\naws_secret_access_key = %s\n", b.AccessKeyID, b.SecretAccessKey)
	require.NoError(t, os.WriteFile(os.Getenv("AWS_SHARED_CREDENTIALS_FILE"), []byte(creds), 0o600))
	r = execute(t, func(*app) {}, "whoami", "--profile", "other")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Account: "+sandbox.AccountB+"\n")

	t.Setenv("AWS_PROFILE", "other")
	r = execute(t, func(*app) {}, "whoami")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Account: "+sandbox.AccountB+"\n")
}
