package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// --copy-role-arn adds a copy identity: the reader in account A may not
// write account B, B's root may not read A, the demo's copy role may do
// both, so it copies server-side, with --external-id as its ExternalId
// and --profile's credentials. Without it the same identities stream.
func TestSyncWithCopyIdentity(t *testing.T) {
	c := crossEnv(t)
	ids := []string{"--source-profile", "reader", "--dest-profile", "b"}
	copyID := []string{"--profile", "operator", "--copy-role-arn", c.roleARN, "--external-id", demoExternalID}
	base := append([]string{"sync", "s3://xacct-demo-source/reports/", "s3://xacct-demo-destination/from-a/"}, ids...)

	r := xrun(t, append(append(base, copyID...), "--preflight-only")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `^source:      arn:aws:iam::111111111111:user/reader\n`+
		`destination: arn:aws:iam::222222222222:root\n`+
		`copy:        arn:aws:sts::111111111111:assumed-role/xacct-copy/xacct-\d+\n`+
		`mode:        server-side \(by the copy identity\)\n`+
		`preflight: every permission is in place\n$`, r.stdout)

	before := c.sb.Requests()
	r = xrun(t, append(base, copyID...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "copied 2 ")
	assert.Contains(t, r.stderr, "(mode: server-side, by the copy identity)\n")
	after := c.sb.Requests()
	assert.Equal(t, before["CopyObject"]+2, after["CopyObject"])
	assert.Equal(t, before["PutObject"], after["PutObject"], "nothing streamed")
	assert.Equal(t, []string{"from-a/2025/annual.pdf", "from-a/2026/q1.csv"}, c.keys(t, "s3://xacct-demo-destination/from-a/"))

	r = xrun(t, append([]string{"sync", "s3://xacct-demo-source/reports/", "s3://xacct-demo-destination/streamed/"}, ids...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "(mode: stream)\n")

	r = xrun(t, append(base, "--copy-external-id", "x1")...)
	assert.Equal(t, exitUsage, r.code)
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
	assert.Contains(t, r.stderr, `--copy-external-id "x1" needs --copy-role-arn`)
	r = xrun(t, append(base, "--copy-role-arn", "copier")...)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--copy-role-arn")
}
