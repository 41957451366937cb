package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

// A reader that may not read tags still syncs; the preflight says what is
// lost and which statement would keep it.
func TestSyncPrintsPreflightWarnings(t *testing.T) {
	sb, err := enforce.Start()
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	c, err := newCrossAccount(t.Context(), sb)
	require.NoError(t, err)
	src := xacct.MustParseLocation("s3://xacct-demo-source/reports/")
	noTags := xacct.SourceReadPolicy(src)
	for i := range noTags.Statement {
		if noTags.Statement[i].Sid == "XacctSourceRead" {
			noTags.Statement[i].Action = xacct.StringList{"s3:GetObject"}
		}
	}
	reader, err := sb.AddUser(sandbox.AccountA, "reader", mustPolicyJSON(noTags))
	require.NoError(t, err)
	writer, err := sb.AddUser(sandbox.AccountB, "writer", mustPolicyJSON(xacct.DestinationWritePolicy(xacct.MustParseLocation("s3://xacct-demo-destination/streamed/"))))
	require.NoError(t, err)
	cfg, creds, err := sb.WriteAWSConfig(t.TempDir(), map[string]sandbox.ProfileSpec{"reader": {Principal: reader}, "writer": {Principal: writer}})
	require.NoError(t, err)
	isolate(t, cfg, creds)

	r := xrun(t, "sync", "s3://xacct-demo-source/reports/", "s3://xacct-demo-destination/streamed/", "--source-profile", "reader", "--dest-profile", "writer")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `(?m)^warning: source s3:GetObjectTagging on arn:aws:s3:::xacct-demo-source/reports/\S+ is refused; the copy goes on without it$`, r.stderr)
	assert.Contains(t, r.stderr, `"Sid":"XacctSourceRead"`)
	assert.Equal(t, []string{"streamed/2025/annual.pdf", "streamed/2026/q1.csv"}, c.keys(t, "s3://xacct-demo-destination/streamed/"))
}
