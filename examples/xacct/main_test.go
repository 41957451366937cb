package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

// testTZ is the time zone ls tests render dates in; not UTC, so a
// missing conversion shows.
var testTZ = time.FixedZone("UTC+5:30", 5*3600+1800)

// env is a sandbox the program reaches through the same environment
// variables and flags a user would set.
type env struct {
	sb   *sandbox.Sandbox
	root sandbox.Principal
	s3   *s3.Client
}

// newEnv starts a sandbox and points the AWS environment at its account A
// root user, with empty shared config files so the developer's own
// profiles play no part.
func newEnv(t *testing.T) *env {
	t.Helper()
	sb, err := sandbox.Start()
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	root := sb.Root(sandbox.AccountA)
	dir := t.TempDir()
	for _, f := range []string{"config", "credentials"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), nil, 0o600))
	}
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           root.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       root.SecretAccessKey,
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "us-east-1",
		"AWS_PROFILE":                 "",
		"AWS_ENDPOINT_URL":            "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	return &env{sb: sb, root: root, s3: sb.S3(root)}
}

// result is what one run of the program produced.
type result struct {
	code           int
	stdout, stderr string
}

// sortedLines returns stdout's lines, sorted, for output whose order depends on
// scheduling.
func (r result) sortedLines() []string {
	l := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.stdout == "" {
		l = nil
	}
	slices.Sort(l)
	return l
}

// run runs the program against the sandbox with args.
func (e *env) run(t *testing.T, args ...string) result {
	t.Helper()
	return e.runApp(t, func(*app) {}, args...)
}

// runApp is run with a chance to adjust the app first.
func (e *env) runApp(t *testing.T, adjust func(*app), args ...string) result {
	t.Helper()
	return execute(t, adjust, append(args, "--endpoint-url", e.sb.URL)...)
}

// execute runs the program with args as given, dates in testTZ.
func execute(t *testing.T, adjust func(*app), args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	a := newApp(&stdout, &stderr)
	a.tz = testTZ
	adjust(a)
	code := a.execute(t.Context(), args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func (e *env) bucket(t *testing.T, name string, objects map[string]string) {
	t.Helper()
	require.NoError(t, e.sb.CreateBucket(t.Context(), e.root, name))
	for k, v := range objects {
		e.put(t, name, k, v)
	}
}

func (e *env) put(t *testing.T, bucket, key, body string) {
	t.Helper()
	_, err := e.s3.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
	require.NoError(t, err)
}

// keys lists a bucket's keys.
func (e *env) keys(t *testing.T, bucket string) []string {
	t.Helper()
	var keys []string
	for obj, err := range xacct.List(t.Context(), e.s3, xacct.Location{Bucket: bucket}) {
		require.NoError(t, err)
		keys = append(keys, obj.Key)
	}
	return keys
}

func TestUsageErrors(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		args []string
		want []string // in the one stderr line
	}{
		{"source without scheme", []string{"sync", "src-bucket/data", "s3://dst-bucket"}, []string{`"src-bucket/data"`, "must start with s3://"}},
		{"bad destination bucket", []string{"sync", "s3://src-bucket", "s3://Bad_Bucket/x"}, []string{`"s3://Bad_Bucket/x"`, `"Bad_Bucket"`, "lowercase letters"}},
		{"bad ls location", []string{"ls", "s3://ab"}, []string{`"ab"`, "3 to 63 characters"}},
		{"size-only with exact", []string{"sync", "s3://src-bucket", "s3://dst-bucket", "--size-only", "--exact"}, []string{"--size-only and --exact"}},
		{"concurrency out of range", []string{"sync", "s3://src-bucket", "s3://dst-bucket", "--concurrency", "0"}, []string{"concurrency", "between 1 and"}},
		{"overlapping locations", []string{"sync", "s3://src-bucket/a", "s3://src-bucket/a/b"}, []string{"overlap"}},
		{"one argument", []string{"sync", "s3://src-bucket"}, []string{"sync takes 2 arguments, got 1"}},
		{"unknown flag", []string{"sync", "s3://src-bucket", "s3://dst-bucket", "--bogus"}, []string{"unknown flag: --bogus", "xacct sync --help"}},
		{"bad flag value", []string{"sync", "s3://src-bucket", "s3://dst-bucket", "--max-delete", "many"}, []string{"many", "max-delete"}},
		{"unknown command", []string{"cp"}, []string{`unknown command "cp"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.run(t, tt.args...)
			assert.Equal(t, exitUsage, r.code)
			assert.Empty(t, r.stdout)
			require.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
			assert.True(t, strings.HasPrefix(r.stderr, "xacct: "), r.stderr)
			for _, w := range tt.want {
				assert.Contains(t, r.stderr, w)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	denied := &xacct.ObjectError{Op: "copy", Bucket: "b", Key: "k", Err: &smithy.OperationError{
		ServiceID: "S3", OperationName: "CopyObject",
		Err: &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"},
	}}
	tests := []struct {
		name    string
		err     error
		running bool
		want    int
	}{
		{"nil", nil, true, exitOK},
		{"parse error", errors.New("unknown flag: --x"), false, exitUsage},
		{"usage error", usageError{errors.New("x")}, true, exitUsage},
		{"invalid location", fmt.Errorf("source: %w", xacct.ErrInvalidLocation), true, exitUsage},
		{"invalid option", &xacct.ValidationError{Err: xacct.ErrInvalidOption}, true, exitUsage},
		{"invalid replication spec", errors.Join(&xacct.ValidationError{Err: xacct.ErrInvalidReplication}), true, exitUsage},
		{"datasync execution failed", &xacct.DataSyncExecutionError{Code: "AccessDenied"}, true, exitFailed},
		{"access denied", denied, true, exitFailed},
		{"delete cap", &syncFailure{err: xacct.ErrDeleteCapExceeded}, true, exitFailed},
		{"deletes skipped", &syncFailure{err: xacct.ErrDeleteSkipped}, true, exitFailed},
		{"explicit", &exitError{code: 1}, true, exitFailed},
		{"other", errors.New("connection refused"), true, exitFailed},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, exitCode(tt.err, tt.running), tt.name)
	}
}

func TestErrorText(t *testing.T) {
	op := &smithy.OperationError{ServiceID: "S3", OperationName: "CopyObject",
		Err: &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}}
	assert.Equal(t, "copy s3://b/k: AccessDenied: Access Denied",
		errorText(&xacct.ObjectError{Op: "copy", Bucket: "b", Key: "k", Err: op}))
	assert.Equal(t, "a; b", errorText(errors.Join(errors.New("a"), errors.New("b"))))
	assert.Empty(t, errorText(&exitError{code: 1}))

	refused := &smithy.OperationError{ServiceID: "STS", OperationName: "GetCallerIdentity", Err: &xacct.AssumeRoleError{
		RoleARN: "arn:aws:iam::111111111111:role/r",
		Err: &smithy.OperationError{ServiceID: "STS", OperationName: "AssumeRole",
			Err: &smithy.GenericAPIError{Code: "AccessDenied", Message: "not trusted"}},
	}}
	assert.Equal(t, "source: get caller identity: assume role arn:aws:iam::111111111111:role/r: AccessDenied: not trusted",
		errorText(fmt.Errorf("source: get caller identity: %w", refused)))
}

func TestWhoAmI(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, "whoami")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "Account: "+sandbox.AccountA+"\n"+
		"ARN:     arn:aws:iam::"+sandbox.AccountA+":root\n"+
		"UserId:  "+e.root.UserID+"\n", r.stdout)

	r = e.run(t, "whoami", "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.JSONEq(t, fmt.Sprintf(`{"account":%q,"arn":%q,"userId":%q}`, sandbox.AccountA, e.root.ARN, e.root.UserID), r.stdout)
}

func TestDebugNeverPrintsCredentials(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "src-bucket", map[string]string{"a.txt": "a"})
	e.bucket(t, "dst-bucket", nil)
	for _, args := range [][]string{
		{"whoami", "--debug"},
		{"ls", "s3://src-bucket", "--debug"},
		{"sync", "s3://src-bucket", "s3://dst-bucket", "--debug"},
	} {
		r := e.run(t, args...)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stderr, "level=DEBUG", args)
		for _, secret := range []string{e.root.SecretAccessKey, e.root.AccessKeyID} {
			assert.NotContains(t, r.stdout+r.stderr, secret, args)
		}
	}
}

func TestDemo(t *testing.T) {
	// The demo must not depend on the environment: point it at nothing.
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_PROFILE", "no-such-profile")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"demo"}, &stdout, &stderr)
	require.Equal(t, exitOK, code, stderr.String())
	assert.Empty(t, stderr.String())
	out := stdout.String()
	roleARN := "arn:aws:iam::" + sandbox.AccountA + ":role/xacct-copy"
	for _, want := range []string{
		`{"Sid":"XacctAssumeRole","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + sandbox.AccountB + `:user/operator"},` +
			`"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"xacct-demo-5f1c"}}}`,
		"bucket policy of xacct-demo-destination (DestinationBucketPolicy): XacctDestinationList, XacctDestinationWrite, XacctDestinationDelete\n",
		// whoami before and after assuming the role
		"$ xacct whoami --profile operator\nAccount: " + sandbox.AccountB + "\nARN:     arn:aws:iam::" + sandbox.AccountB + ":user/operator\n",
		"$ xacct whoami --profile cross\nAccount: " + sandbox.AccountA + "\nARN:     arn:aws:sts::" + sandbox.AccountA + ":assumed-role/xacct-copy/xacct-cross\n",
		"$ xacct ls s3://xacct-demo-source --recursive --human-readable --summarize --profile cross\n",
		"1.4 MiB images/banner.jpg\n",
		" 1.3 KiB reports/2026/q1.csv\n\nTotal Objects: 7\n   Total Size: 1.6 MiB\n",
		"copy: s3://xacct-demo-source/reports/2026/q1.csv to s3://xacct-demo-destination/from-a/reports/2026/q1.csv\n",
		"delete: s3://xacct-demo-destination/from-a/old-export.csv\n",
		// the destination after the sync: the copies, not the stale file
		"$ xacct ls s3://xacct-demo-destination/from-a/ --recursive --human-readable --summarize --profile cross\n",
		"1.3 KiB from-a/reports/2026/q1.csv\n\nTotal Objects: 7\n   Total Size: 1.6 MiB\n",
		// the two-identity sync streams
		"--source-profile a --dest-profile b\n",
		"copy: s3://xacct-demo-source/reports/2026/q1.csv to s3://xacct-demo-destination/streamed/2026/q1.csv\n",
		"copied 2 (181.3 KiB), skipped 0, deleted 0, failed 0 in ",
		"(mode: stream)\n",
		// the preflight names the missing grant and where it goes
		"missing: destination s3:PutObject on arn:aws:s3:::xacct-demo-destination/from-a/.xacct-preflight-",
		"  grant in the bucket policy of s3://xacct-demo-destination:\n" +
			`    {"Sid":"XacctDestinationWrite","Effect":"Allow","Principal":{"AWS":"` + roleARN + `"},` +
			`"Action":["s3:AbortMultipartUpload","s3:PutObject","s3:PutObjectAcl","s3:PutObjectTagging"],` +
			`"Resource":"arn:aws:s3:::xacct-demo-destination/from-a/*"}` + "\n",
		"xacct: preflight: 1 permission is missing; nothing was copied (exit status 1)\n",
		// fixed, the next sync copies the new file
		"copy: s3://xacct-demo-source/reports/2026/q2.csv to s3://xacct-demo-destination/from-a/reports/2026/q2.csv\n" +
			"copied 1 (27 Bytes), skipped 7, deleted 0, failed 0 in ",
		// replication: a plan of one line per step, both accounts' changes,
		// the new object replicated and readable by B
		"\n== S3 Replication of A's reports/ into xacct-demo-replica in B",
		"--rule reports:reports/ --summary\naccount 111111111111 (source):\n  1. versioning: enable versioning on xacct-demo-source\n",
		"changed: account 222222222222: bucket-policy: merge statements by Sid into the bucket policy of xacct-demo-replica\n",
		"NONE      reports/2026/q2.csv\nCOMPLETED reports/2026/q3.csv\nCOMPLETED=1 NONE=2\n",
		"B reads s3://xacct-demo-replica/reports/2026/q3.csv: 60 bytes, the same as A's: true\n",
		// DataSync: applied, run with phase lines, the files in B
		"\n== DataSync from A's reports/2026/ to B",
		"changed: created task xacct-xacct-demo-source-to-xacct-demo-destination (arn:aws:datasync:us-east-1:111111111111:task/",
		"phase: TRANSFERRING files 3/3 bytes 1.4 KiB/1.4 KiB\n",
		"SUCCESS: transferred 3 files (1.4 KiB), verified 3, deleted 0, skipped 0 in ",
		"        27 datasync/q2.csv\n",
	} {
		assert.Contains(t, out, want)
	}
	assert.Equal(t, 2, strings.Count(out, "(mode: server-side)\n"), out)
	assert.NotContains(t, out, `"Statement"`, "plans print one line per step")
	assert.NotContains(t, out, "old-export.csv\n\nTotal")
	assert.LessOrEqual(t, strings.Count(out, "\n"), 130, out)

	// Every profile a printed command names is one "xacct sandbox
	// --aws-config" writes.
	written := sandboxProfileNames(t)
	used := regexp.MustCompile(`--(?:source-|dest-)?profile (\S+)`).FindAllStringSubmatch(out, -1)
	require.NotEmpty(t, used)
	for _, m := range used {
		assert.Contains(t, written, m[1], "the demo prints %q, which xacct sandbox does not write", m[0])
	}
}

// sandboxProfileNames returns the profiles "xacct sandbox --aws-config"
// writes into its config file.
func sandboxProfileNames(t *testing.T) []string {
	t.Helper()
	sb, err := enforce.Start()
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	c, err := newCrossAccount(t.Context(), sb)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, writeSandboxProfiles(c, dir))
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range regexp.MustCompile(`(?m)^\[profile ([^\]]+)\]`).FindAllStringSubmatch(string(b), -1) {
			names = append(names, m[1])
		}
	}
	require.Contains(t, names, "cross")
	return names
}
