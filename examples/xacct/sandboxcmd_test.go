package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct/internal/sandbox"
)

// served is a sandbox command running in-process.
type served struct {
	// blocks are the export lines of each identity, by variable name, in
	// the order printed: root A, root B, operator.
	blocks []map[string]string
	stop   func() int
}

// serveSandbox runs "xacct sandbox args…" on a goroutine until READY and
// the export lines are out; stop interrupts it and returns its exit code.
func serveSandbox(t *testing.T, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- newApp(pw, io.Discard).execute(ctx, append([]string{"sandbox"}, args...))
		pw.Close()
	}()
	s := &served{}
	exit := -1
	s.stop = func() int {
		if exit < 0 {
			cancel()
			exit = <-code
		}
		return exit
	}
	t.Cleanup(func() { s.stop() })

	lines := bufio.NewScanner(pr)
	require.True(t, lines.Scan(), "no output")
	require.Equal(t, "READY", lines.Text())
	for lines.Scan() {
		line := lines.Text()
		switch {
		case strings.HasPrefix(line, "# account"):
			s.blocks = append(s.blocks, map[string]string{})
		case strings.HasPrefix(line, "export "):
			name, value, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
			require.True(t, ok, line)
			s.blocks[len(s.blocks)-1][name] = value
		}
		if strings.HasPrefix(line, "# then:") {
			break
		}
	}
	require.Len(t, s.blocks, 3)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	return s
}

// isolate points the AWS environment at nothing, with the shared files
// given (or empty ones).
func isolate(t *testing.T, configFile, credentialsFile string) {
	t.Helper()
	if configFile == "" {
		dir := t.TempDir()
		configFile, credentialsFile = filepath.Join(dir, "none"), filepath.Join(dir, "none")
	}
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "", "AWS_PROFILE": "", "AWS_ENDPOINT_URL": "",
		"AWS_CONFIG_FILE": configFile, "AWS_SHARED_CREDENTIALS_FILE": credentialsFile,
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	// Set, even empty, AWS_ENDPOINT_URL makes the SDK skip the
	// per-service endpoints of the services section, which the STS client
	// of an assume-role profile needs.
	require.NoError(t, os.Unsetenv("AWS_ENDPOINT_URL"))
}

func TestSandboxCommandWritesWorkingProfiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "aws")
	s := serveSandbox(t, "--aws-config", dir)
	isolate(t, filepath.Join(dir, "config"), filepath.Join(dir, "credentials"))

	r := execute(t, func(*app) {}, "--profile", "cross", "whoami")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "Account: "+sandbox.AccountA+"\n", strings.SplitAfter(r.stdout, "\n")[0])
	assert.Contains(t, r.stdout, "ARN:     arn:aws:sts::"+sandbox.AccountA+":assumed-role/xacct-copy/xacct-cross\n")

	for profile, account := range map[string]string{"a": sandbox.AccountA, "b": sandbox.AccountB, "operator": sandbox.AccountB} {
		r := execute(t, func(*app) {}, "whoami", "--profile", profile)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stdout, "Account: "+account+"\n", profile)
	}

	// The role reads the sample data and may write under from-a/ only:
	// policies are enforced.
	r = execute(t, func(*app) {}, "sync", "s3://xacct-demo-source/reports/", "s3://xacct-demo-destination/from-a/reports/", "--profile", "cross")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "copied 2 ")
	r = execute(t, func(*app) {}, "sync", "s3://xacct-demo-source/reports/", "s3://xacct-demo-destination/elsewhere/", "--profile", "cross", "--preflight-only")
	assert.Equal(t, exitFailed, r.code, r.stderr)
	assert.Contains(t, r.stdout, "missing: destination s3:PutObject on arn:aws:s3:::xacct-demo-destination/elsewhere/")

	assert.Equal(t, exitOK, s.stop())
}

func TestSandboxCommandExports(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	s := serveSandbox(t, "--port", strconv.Itoa(port))

	a, b, op := s.blocks[0], s.blocks[1], s.blocks[2]
	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
	for i, blk := range s.blocks {
		assert.Equal(t, endpoint, blk["AWS_ENDPOINT_URL"], i)
		assert.Equal(t, sandbox.Region, blk["AWS_REGION"], i)
		assert.NotEmpty(t, blk["AWS_ACCESS_KEY_ID"], i)
		assert.NotEmpty(t, blk["AWS_SECRET_ACCESS_KEY"], i)
	}
	assert.Equal(t, sandbox.AccountA, a["XACCT_ACCOUNT_ID"])
	assert.Equal(t, sandbox.AccountB, b["XACCT_ACCOUNT_ID"])
	assert.Equal(t, "arn:aws:iam::"+sandbox.AccountA+":role/xacct-copy", op["XACCT_ROLE_ARN"])
	assert.Equal(t, demoExternalID, op["XACCT_EXTERNAL_ID"])

	// The operator's environment and the role flags reach the role.
	isolate(t, "", "")
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		t.Setenv(k, op[k])
	}
	r := execute(t, func(*app) {}, "whoami", "--role-arn", op["XACCT_ROLE_ARN"], "--external-id", op["XACCT_EXTERNAL_ID"])
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `^Source:\n  Account: 111111111111\n  ARN:     arn:aws:sts::111111111111:assumed-role/xacct-copy/xacct-\d+\n`, r.stdout)

	// Without the external id the trust policy refuses the operator.
	r = execute(t, func(*app) {}, "whoami", "--role-arn", op["XACCT_ROLE_ARN"])
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "AccessDenied")

	assert.Equal(t, exitOK, s.stop())
}

func TestSandboxCommandWithoutEnforcement(t *testing.T) {
	s := serveSandbox(t, "--enforce=false")
	isolate(t, "", "")
	// Root B has no grant on account A's bucket: only an unenforcing
	// sandbox lets it list.
	b := s.blocks[1]
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		t.Setenv(k, b[k])
	}
	r := execute(t, func(*app) {}, "ls", "s3://xacct-demo-source")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "PRE reports/\n")

	s2 := serveSandbox(t)
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		t.Setenv(k, s2.blocks[1][k])
	}
	r = execute(t, func(*app) {}, "ls", "s3://xacct-demo-source")
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "AccessDenied")
}

func TestSandboxCommandBadPort(t *testing.T) {
	isolate(t, "", "")
	r := execute(t, func(*app) {}, "sandbox", "--port", "70000")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--port 70000")
}
