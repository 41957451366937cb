package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

// crossEnv is the demo's two-account setup in an enforcing sandbox,
// reached through shared config profiles: a and b (root users),
// operator, cross (the copy role), and reader and writer, who may only
// read s3://xacct-demo-source/reports/ and write
// s3://xacct-demo-destination/streamed/.
func crossEnv(t *testing.T) *crossAccount {
	t.Helper()
	sb, err := enforce.Start()
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	c, err := newCrossAccount(t.Context(), sb)
	require.NoError(t, err)
	reader, err := sb.AddUser(sandbox.AccountA, "reader", mustPolicyJSON(xacct.SourceReadPolicy(xacct.MustParseLocation("s3://xacct-demo-source/reports/"))))
	require.NoError(t, err)
	writer, err := sb.AddUser(sandbox.AccountB, "writer", mustPolicyJSON(xacct.DestinationWritePolicy(xacct.MustParseLocation("s3://xacct-demo-destination/streamed/"))))
	require.NoError(t, err)
	cfg, creds, err := sb.WriteAWSConfig(t.TempDir(), map[string]sandbox.ProfileSpec{
		"a": {Principal: c.rootA}, "b": {Principal: c.rootB}, "operator": {Principal: c.operator},
		"reader": {Principal: reader}, "writer": {Principal: writer},
		"cross": {RoleARN: c.roleARN, SourceProfile: "operator", ExternalID: demoExternalID, RoleSessionName: crossSessionName},
	})
	require.NoError(t, err)
	isolate(t, cfg, creds)
	return c
}

// xrun runs the program with the environment crossEnv set up.
func xrun(t *testing.T, args ...string) result {
	t.Helper()
	return execute(t, func(*app) {}, args...)
}

// roleFlags assume the copy role as the operator.
func roleFlags(c *crossAccount) []string {
	return []string{"--profile", "operator", "--role-arn", c.roleARN, "--external-id", demoExternalID}
}

func (c *crossAccount) keys(t *testing.T, loc string) []string {
	t.Helper()
	var keys []string
	for obj, err := range xacct.List(t.Context(), c.sb.S3(c.rootB), xacct.MustParseLocation(loc)) {
		require.NoError(t, err)
		keys = append(keys, obj.Key)
	}
	return keys
}

func TestWhoAmIBothSides(t *testing.T) {
	c := crossEnv(t)
	assumed := "arn:aws:sts::" + sandbox.AccountA + ":assumed-role/xacct-copy/"

	r := xrun(t, append([]string{"whoami"}, roleFlags(c)...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `^Source:\n  Account: 111111111111\n  ARN:     `+assumed+`xacct-\d+\n  UserId:  \S+\n`+
		`Destination:\n  Account: 111111111111\n  ARN:     `+assumed+`xacct-\d+\n  UserId:  \S+\n$`, r.stdout)

	r = xrun(t, "whoami", "--source-profile", "a", "--dest-profile", "b", "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	var both struct{ Source, Destination xacct.Identity }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &both), r.stdout)
	assert.Equal(t, "arn:aws:iam::"+sandbox.AccountA+":root", both.Source.ARN)
	assert.Equal(t, "arn:aws:iam::"+sandbox.AccountB+":root", both.Destination.ARN)

	// A role on one side only; --profile is the other side's default.
	r = xrun(t, "whoami", "--profile", "operator", "--dest-role-arn", c.roleARN, "--external-id", demoExternalID)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Source:\n  Account: 222222222222\n  ARN:     arn:aws:iam::222222222222:user/operator\n")
	assert.Contains(t, r.stdout, "Destination:\n  Account: 111111111111\n  ARN:     "+assumed)

	// Only --profile: one identity, as before.
	r = xrun(t, "whoami", "--profile", "cross")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.True(t, strings.HasPrefix(r.stdout, "Account: 111111111111\nARN:     "+assumed+"xacct-cross\n"), r.stdout)
}

func TestIdentityFlagErrors(t *testing.T) {
	c := crossEnv(t)
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"bad role ARN", []string{"whoami", "--role-arn", "arn:aws:iam::12:role/x"}, exitUsage,
			[]string{"--role-arn", `"arn:aws:iam::12:role/x"`, "account must be exactly 12 digits"}},
		{"not an ARN", []string{"sync", "s3://xacct-demo-source", "s3://xacct-demo-destination", "--source-role-arn", "copy-role"}, exitUsage,
			[]string{"--source-role-arn", `"copy-role"`, "must look like arn:aws:iam::ACCOUNT:role/NAME"}},
		{"bad dest role name", []string{"ls", "s3://xacct-demo-destination", "--dest-role-arn", "arn:aws:iam::111111111111:role/a b"}, exitUsage,
			[]string{"--dest-role-arn", "role name must be"}},
		{"external id without role", []string{"whoami", "--external-id", "x1"}, exitUsage, []string{"--external-id needs --role-arn"}},
		{"ls as both sides", []string{"ls", "s3://xacct-demo-source", "--source-profile", "a", "--dest-profile", "b"}, exitUsage, []string{"not both"}},
		{"preflight both ways", []string{"sync", "s3://xacct-demo-source", "s3://xacct-demo-destination", "--preflight-only", "--no-preflight"}, exitUsage, []string{"cannot be used together"}},
		{"wrong external id", append([]string{"whoami"}, "--profile", "operator", "--role-arn", c.roleARN, "--external-id", "guess"), exitFailed,
			[]string{"assume role " + c.roleARN, "AccessDenied"}},
		{"no such profile", []string{"whoami", "--source-profile", "nope"}, exitFailed, []string{"source:", "nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := xrun(t, tt.args...)
			assert.Equal(t, tt.code, r.code, r.stderr)
			assert.Empty(t, r.stdout)
			require.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
			for _, w := range tt.want {
				assert.Contains(t, r.stderr, w)
			}
		})
	}
}

func TestSyncThroughRole(t *testing.T) {
	c := crossEnv(t)
	args := append([]string{"sync", "s3://xacct-demo-source/reports/", "s3://xacct-demo-destination/from-a/reports/"}, roleFlags(c)...)
	r := xrun(t, args...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "copied 2 ")
	assert.Contains(t, r.stderr, "(mode: server-side)\n")
	assert.Equal(t, []string{"from-a/reports/2025/annual.pdf", "from-a/reports/2026/q1.csv"}, c.keys(t, "s3://xacct-demo-destination/from-a/"))

	// The operator alone may not read account A's bucket.
	r = xrun(t, "ls", "s3://xacct-demo-source", "--profile", "operator")
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "AccessDenied")
	r = xrun(t, append([]string{"ls", "s3://xacct-demo-source"}, roleFlags(c)...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "PRE reports/\n")
	// Listed as the destination side: root B owns the bucket.
	r = xrun(t, "ls", "s3://xacct-demo-destination/from-a/", "--source-profile", "nope", "--dest-profile", "b", "--recursive")
	assert.Equal(t, exitUsage, r.code, "both sides given")
	r = xrun(t, "ls", "s3://xacct-demo-destination/from-a/", "--dest-profile", "b", "--recursive")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, " from-a/reports/2026/q1.csv\n")
}

func TestSyncTwoIdentitiesStreams(t *testing.T) {
	c := crossEnv(t)
	r := xrun(t, "sync", "s3://xacct-demo-source/reports/", "s3://xacct-demo-destination/streamed/",
		"--source-profile", "reader", "--dest-profile", "writer", "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	var rep struct {
		Copied int64  `json:"copied"`
		Mode   string `json:"mode"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
	assert.EqualValues(t, 2, rep.Copied)
	assert.Equal(t, "stream", rep.Mode)
	assert.Equal(t, []string{"streamed/2025/annual.pdf", "streamed/2026/q1.csv"}, c.keys(t, "s3://xacct-demo-destination/streamed/"))

	r = xrun(t, "sync", "s3://xacct-demo-source/reports/", "s3://xacct-demo-destination/streamed/",
		"--source-profile", "reader", "--dest-profile", "writer", "--preflight-only")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "source:      arn:aws:iam::111111111111:user/reader\n"+
		"destination: arn:aws:iam::222222222222:user/writer\n"+
		"mode:        stream\n"+
		"preflight: every permission is in place\n", r.stdout)
}

func TestPreflightFindsMissingGrant(t *testing.T) {
	c := crossEnv(t)
	broken, _ := xacct.RemoveStatements(&c.bucketPolicy, "XacctDestinationWrite")
	require.NoError(t, c.putBucketPolicy(t.Context(), *broken))
	base := append([]string{"sync", "s3://xacct-demo-source/reports/", "s3://xacct-demo-destination/from-a/"}, roleFlags(c)...)

	r := xrun(t, append(base, "--preflight-only")...)
	assert.Equal(t, exitFailed, r.code)
	assert.Equal(t, "xacct: preflight: 1 permission is missing; nothing was copied\n", r.stderr)
	lines := strings.Split(r.stdout, "\n")
	require.Len(t, lines, 7, r.stdout) // and the empty string after the last newline
	assert.Regexp(t, `^both sides:  arn:aws:sts::111111111111:assumed-role/xacct-copy/xacct-\d+$`, lines[0])
	assert.Regexp(t, `^missing: destination s3:PutObject on arn:aws:s3:::xacct-demo-destination/from-a/\.xacct-preflight-[0-9a-f]+$`, lines[1])
	assert.Equal(t, "  grant in the identity policy of "+c.roleARN+":", lines[2])
	assert.Equal(t, "  grant in the bucket policy of s3://xacct-demo-destination:", lines[4])
	var fix xacct.Statement
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(lines[5])), &fix), lines[5])
	assert.Equal(t, "XacctDestinationWrite", fix.Sid)
	assert.Equal(t, xacct.StringList{"arn:aws:s3:::xacct-demo-destination/from-a/*"}, fix.Resource)

	// A plain sync stops at the same finding, on stderr, copying nothing.
	r = xrun(t, base...)
	assert.Equal(t, exitFailed, r.code)
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, "missing: destination s3:PutObject on ")
	assert.Contains(t, r.stderr, "\nxacct: preflight: 1 permission is missing; nothing was copied\n")
	assert.Empty(t, c.keys(t, "s3://xacct-demo-destination/from-a/"))

	// Without the preflight, each copy fails on its own.
	r = xrun(t, append(base, "--no-preflight")...)
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stderr, "copy failed: s3://xacct-demo-source/reports/2026/q1.csv to s3://xacct-demo-destination/from-a/2026/q1.csv: AccessDenied")
	assert.Contains(t, r.stderr, "xacct: 2 objects failed\n")

	// The statement the preflight printed, merged back, is enough.
	merged, changed, err := xacct.MergeStatements(broken, fix)
	require.NoError(t, err)
	require.True(t, changed)
	require.NoError(t, c.putBucketPolicy(t.Context(), *merged))
	r = xrun(t, append(base, "--preflight-only")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "mode:        server-side\npreflight: every permission is in place\n")
	r = xrun(t, base...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, []string{"from-a/2025/annual.pdf", "from-a/2026/q1.csv"}, c.keys(t, "s3://xacct-demo-destination/from-a/"))
}

func TestNewS3QuietsChecksumSkips(t *testing.T) {
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1")}
	o := newS3(cfg).Options()
	assert.True(t, o.DisableLogOutputChecksumValidationSkipped)
	assert.True(t, o.UsePathStyle)
	assert.False(t, newS3(aws.Config{Region: "us-east-1"}).Options().UsePathStyle)
}

// Each side's role may require an ExternalId of its own:
// --source-external-id and --dest-external-id override --external-id for
// their side.
func TestPerSideExternalIDs(t *testing.T) {
	c := crossEnv(t)
	const destID = "dest-9e2d"
	dst := xacct.MustParseLocation("s3://xacct-demo-destination/streamed/")
	writerRole, err := c.sb.CreateRole(sandbox.AccountB, "xacct-writer", mustPolicyJSON(xacct.CopyRoleTrustPolicy(c.operator.ARN, destID)),
		map[string]string{"write": mustPolicyJSON(xacct.DestinationWritePolicy(dst))})
	require.NoError(t, err)
	base := []string{"sync", "s3://xacct-demo-source/reports/", dst.String(), "--profile", "operator",
		"--source-role-arn", c.roleARN, "--dest-role-arn", writerRole}

	// One id for both sides: the destination's role refuses it.
	r := xrun(t, append(base, "--external-id", demoExternalID, "--preflight-only")...)
	assert.Equal(t, exitFailed, r.code, r.stderr)
	assert.Contains(t, r.stdout, "missing: destination sts:AssumeRole on "+writerRole)
	assert.NotContains(t, r.stdout, "missing: source")

	r = xrun(t, append(base, "--source-external-id", demoExternalID, "--dest-external-id", destID)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, []string{"streamed/2025/annual.pdf", "streamed/2026/q1.csv"}, c.keys(t, dst.String()))

	r = xrun(t, append(base, "--external-id", demoExternalID, "--dest-external-id", destID, "--preflight-only")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "preflight: every permission is in place\n")

	r = xrun(t, "whoami", "--profile", "operator", "--source-role-arn", c.roleARN, "--source-external-id", demoExternalID,
		"--dest-role-arn", writerRole, "--dest-external-id", destID)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, ":assumed-role/xacct-copy/")
	assert.Contains(t, r.stdout, ":assumed-role/xacct-writer/")

	r = xrun(t, "whoami", "--profile", "operator", "--source-role-arn", c.roleARN, "--dest-external-id", destID)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `--dest-external-id "dest-9e2d" needs a destination role`)
	r = xrun(t, "whoami", "--profile", "operator", "--dest-role-arn", writerRole, "--source-external-id", "x")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `--source-external-id "x" needs a source role`)
}
