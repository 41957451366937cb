package main

import (
	"encoding/json"
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

	// --json carries the same warning, and the missing list is empty.
	r = xrun(t, "sync", "s3://xacct-demo-source/reports/", "s3://xacct-demo-destination/streamed/", "--source-profile", "reader", "--dest-profile", "writer", "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	var rep struct {
		Missing           []jsonFinding `json:"missing"`
		PreflightWarnings []jsonFinding `json:"preflightWarnings"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
	assert.Empty(t, rep.Missing)
	require.Len(t, rep.PreflightWarnings, 1)
	w := rep.PreflightWarnings[0]
	assert.Equal(t, "source", w.Side)
	assert.Equal(t, "s3:GetObjectTagging", w.Action)
	require.NotEmpty(t, w.Fixes)
	assert.Equal(t, "XacctSourceRead", w.Fixes[0].Statement.Sid)
}

func TestSyncJSONListsMissingPermissions(t *testing.T) {
	c := crossEnv(t)
	broken, _ := xacct.RemoveStatements(&c.bucketPolicy, "XacctDestinationWrite")
	require.NoError(t, c.putBucketPolicy(t.Context(), *broken))
	r := xrun(t, append([]string{"sync", "s3://xacct-demo-source/reports/", "s3://xacct-demo-destination/from-a/", "--json"}, roleFlags(c)...)...)
	assert.Equal(t, exitFailed, r.code)
	var rep struct {
		Copied  int64         `json:"copied"`
		Missing []jsonFinding `json:"missing"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
	assert.Zero(t, rep.Copied)
	require.Len(t, rep.Missing, 1)
	assert.Equal(t, "destination", rep.Missing[0].Side)
	assert.Equal(t, "s3:PutObject", rep.Missing[0].Action)
	require.Len(t, rep.Missing[0].Fixes, 2)
	assert.Equal(t, "the bucket policy of s3://xacct-demo-destination", rep.Missing[0].Fixes[1].Policy)
	assert.Equal(t, "XacctDestinationWrite", rep.Missing[0].Fixes[1].Statement.Sid)
}
