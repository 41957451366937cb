package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

func TestSyncCopiesAndPrintsActions(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "src-bucket", map[string]string{"a.txt": "hello", "dir/b.bin": "0123456789", "empty": ""})
	e.bucket(t, "dst-bucket", map[string]string{"stale": "x"})

	r := e.run(t, "sync", "s3://src-bucket", "s3://dst-bucket/")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, []string{
		"copy: s3://src-bucket/a.txt to s3://dst-bucket/a.txt",
		"copy: s3://src-bucket/dir/b.bin to s3://dst-bucket/dir/b.bin",
		"copy: s3://src-bucket/empty to s3://dst-bucket/empty",
	}, r.sortedLines())
	assert.Regexp(t, `^copied 3 \(15 Bytes\), skipped 0, deleted 0, failed 0 in \S+ \(mode: server-side\)\n$`, r.stderr)
	assert.Equal(t, []string{"a.txt", "dir/b.bin", "empty", "stale"}, e.keys(t, "dst-bucket"))

	// Nothing changed: skips print nothing.
	r = e.run(t, "sync", "s3://src-bucket", "s3://dst-bucket", "--delete")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "delete: s3://dst-bucket/stale\n", r.stdout)
	assert.Contains(t, r.stderr, "copied 0 (0 Bytes), skipped 3, deleted 1, failed 0 in ")
	assert.Equal(t, []string{"a.txt", "dir/b.bin", "empty"}, e.keys(t, "dst-bucket"))
}

func TestSyncDryRunChangesNothing(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "src-bucket", map[string]string{"a.txt": "hello", "b.txt": "world"})
	e.bucket(t, "dst-bucket", map[string]string{"b.txt": "world", "old.txt": "x"})

	r := e.run(t, "sync", "s3://src-bucket", "s3://dst-bucket", "--dryrun", "--delete", "--size-only")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "(dryrun) copy: s3://src-bucket/a.txt to s3://dst-bucket/a.txt\n(dryrun) delete: s3://dst-bucket/old.txt\n", r.stdout)
	assert.True(t, strings.HasPrefix(r.stderr, "(dryrun) copied 1 (5 Bytes), skipped 1, deleted 1, failed 0 in "), r.stderr)
	assert.Equal(t, []string{"b.txt", "old.txt"}, e.keys(t, "dst-bucket"))
}

func TestSyncJSON(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "src-bucket", map[string]string{"data/a.csv": "1,2\n", "data/b.csv": "3,4,5\n"})
	e.bucket(t, "dst-bucket", nil)

	r := e.run(t, "sync", "s3://src-bucket/data", "s3://dst-bucket/backup/", "--json", "--exact")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	var report struct {
		Source      string   `json:"source"`
		Destination string   `json:"destination"`
		DryRun      *bool    `json:"dryRun"`
		Listed      int64    `json:"listed"`
		Copied      int64    `json:"copied"`
		CopiedBytes int64    `json:"copiedBytes"`
		Skipped     int64    `json:"skipped"`
		Deleted     int64    `json:"deleted"`
		Failed      int64    `json:"failed"`
		Duration    *float64 `json:"duration"`
		Mode        string   `json:"mode"`
		Warnings    []string `json:"warnings"`
		Errors      []string `json:"errors"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &report), r.stdout)
	assert.Equal(t, "s3://src-bucket/data/", report.Source)
	assert.Equal(t, "s3://dst-bucket/backup/", report.Destination)
	require.NotNil(t, report.DryRun)
	assert.False(t, *report.DryRun)
	assert.EqualValues(t, 2, report.Listed)
	assert.EqualValues(t, 2, report.Copied)
	assert.EqualValues(t, 10, report.CopiedBytes)
	require.NotNil(t, report.Duration)
	assert.Less(t, *report.Duration, 60.0, "seconds, not nanoseconds")
	assert.Equal(t, "server-side", report.Mode)
	assert.NotNil(t, report.Warnings, `"warnings" is an array even when empty`)
	assert.NotNil(t, report.Errors, `"errors" is an array even when empty`)
	assert.Empty(t, report.Errors)
	assert.Equal(t, []string{"backup/a.csv", "backup/b.csv"}, e.keys(t, "dst-bucket"))
}

func TestSyncFilterOrder(t *testing.T) {
	objects := map[string]string{"a.csv": "a", "b.txt": "b", "logs/c.csv": "c", "logs/d.log": "d"}
	tests := []struct {
		name  string
		flags []string
		want  []string
	}{
		{"none", nil, []string{"a.csv", "b.txt", "logs/c.csv", "logs/d.log"}},
		{"exclude then include", []string{"--exclude", "*", "--include", "*.csv"}, []string{"a.csv", "logs/c.csv"}},
		{"include then exclude", []string{"--include", "*.csv", "--exclude", "*"}, nil},
		{"three rules", []string{"--exclude", "logs/*", "--include", "logs/*.log", "--exclude", "*.txt"}, []string{"a.csv", "logs/d.log"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.bucket(t, "src-bucket", objects)
			e.bucket(t, "dst-bucket", nil)
			r := e.run(t, append([]string{"sync", "s3://src-bucket", "s3://dst-bucket"}, tt.flags...)...)
			require.Equal(t, exitOK, r.code, r.stderr)
			assert.Equal(t, tt.want, e.keys(t, "dst-bucket"))
		})
	}
}

func TestSyncMaxDeleteRefused(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "src-bucket", map[string]string{"keep.txt": "k"})
	e.bucket(t, "dst-bucket", map[string]string{"keep.txt": "k", "x1": "1", "x2": "2"})

	r := e.run(t, "sync", "s3://src-bucket", "s3://dst-bucket", "--delete", "--max-delete", "1")
	assert.Equal(t, exitFailed, r.code)
	assert.NotContains(t, r.stdout, "delete:")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	require.Len(t, lines, 2, r.stderr)
	assert.Contains(t, lines[0], "deleted 0, failed 0")
	assert.Equal(t, "xacct: delete cap exceeded: 2 objects would be deleted, the cap is 1", lines[1])
	assert.Equal(t, []string{"keep.txt", "x1", "x2"}, e.keys(t, "dst-bucket"))

	r = e.run(t, "sync", "s3://src-bucket", "s3://dst-bucket", "--delete", "--max-delete", "2")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, []string{"keep.txt"}, e.keys(t, "dst-bucket"))
}

func TestSyncMissingBucket(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "src-bucket", map[string]string{"a": "a"})

	r := e.run(t, "sync", "s3://src-bucket", "s3://no-such-bucket", "--json")
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stdout, `"errors": [`)
	assert.Regexp(t, `^xacct: [^\n]*no-such-bucket[^\n]*: NoSuchBucket: [^\n]*\n$`, r.stderr)
}

func TestSyncProgressBar(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "src-bucket", map[string]string{"a": "a", "b": "bb", "c": "ccc"})
	e.bucket(t, "dst-bucket", nil)
	onTerminal := func(a *app) { a.tty = true }

	r := e.runApp(t, onTerminal, "sync", "s3://src-bucket", "s3://dst-bucket")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Empty(t, r.stdout, "the bar replaces per-object lines")
	assert.Contains(t, r.stderr, "copied 3 (6 Bytes), skipped 0, deleted 0, failed 0 in ")

	for _, flag := range []string{"--no-progress", "--json"} {
		r = e.runApp(t, onTerminal, "sync", "s3://src-bucket", "s3://dst-bucket", "--delete", "--dryrun", flag)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.NotContains(t, r.stderr, "\r", flag)
	}
}

func TestSyncPrinterFailures(t *testing.T) {
	denied := &smithy.OperationError{ServiceID: "S3", OperationName: "CopyObject",
		Err: &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}}
	src, dst := xacct.MustParseLocation("s3://src-bucket/k"), xacct.MustParseLocation("s3://dst-bucket/k")
	events := []xacct.ObjectEvent{
		{Action: xacct.ActionCopy, Source: src, Destination: dst, Size: 3},
		{Action: xacct.ActionSkip, Source: src, Destination: dst},
		{Action: xacct.ActionCopy, Source: src, Destination: dst, Err: &xacct.ObjectError{Op: "copy", Bucket: "src-bucket", Key: "k", Err: denied}},
		{Action: xacct.ActionDelete, Destination: dst, Err: &xacct.ObjectError{Op: "delete", Bucket: "dst-bucket", Key: "k", Err: denied}},
	}
	for _, quiet := range []bool{false, true} {
		var stdout, stderr bytes.Buffer
		p := newSyncPrinter(streams{out: &stdout, err: &stderr}, quiet, false)
		for _, e := range events {
			p.ObjectDone(e)
		}
		p.finish()
		if quiet {
			assert.Empty(t, stdout.String())
		} else {
			assert.Equal(t, "copy: s3://src-bucket/k to s3://dst-bucket/k\n", stdout.String())
		}
		assert.Equal(t, "copy failed: s3://src-bucket/k to s3://dst-bucket/k: AccessDenied: Access Denied\n"+
			"delete failed: s3://dst-bucket/k: AccessDenied: Access Denied\n", stderr.String(), "quiet=%v", quiet)
	}
}

func TestSyncError(t *testing.T) {
	assert.NoError(t, syncError(&xacct.SyncReport{}))

	copyErr := &xacct.ObjectError{Op: "copy", Bucket: "b", Key: "k", Err: errors.New("boom")}
	listErr := &xacct.ObjectError{Op: "list", Bucket: "d", Key: "p/", Err: errors.New("timeout")}
	skipped := fmt.Errorf("%w: 2 destination objects kept because the sync did not complete cleanly", xacct.ErrDeleteSkipped)
	err := syncError(&xacct.SyncReport{Failed: 1, Errors: []error{copyErr, listErr, skipped}})
	require.Error(t, err)
	assert.Equal(t, "1 object failed; list s3://d/p/: timeout; deletes skipped: 2 destination objects kept because the sync did not complete cleanly", err.Error())
	assert.ErrorIs(t, err, xacct.ErrDeleteSkipped)
	assert.ErrorAs(t, err, &copyErr)
	assert.Equal(t, exitFailed, exitCode(err, true))
}

// --source-account and --dest-account send each side's expected owner:
// the right accounts copy, a wrong one is refused by S3 in the preflight,
// and a malformed id is a usage error naming it.
func TestSyncExpectedBucketOwners(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "src-bucket", map[string]string{"a.txt": "hello"})
	e.bucket(t, "dst-bucket", nil)

	r := e.run(t, "sync", "s3://src-bucket", "s3://dst-bucket", "--no-progress", "--dest-account", sandbox.AccountB)
	assert.NotEqual(t, exitOK, r.code, "the destination belongs to account A")
	assert.Contains(t, r.stderr, "not owned by the declared account "+sandbox.AccountB)
	assert.Contains(t, r.stderr, "nothing was copied")
	assert.Empty(t, e.keys(t, "dst-bucket"), "nothing copied")

	r = e.run(t, "sync", "s3://src-bucket", "s3://dst-bucket", "--no-progress", "--source-account", sandbox.AccountA, "--dest-account", sandbox.AccountA)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, []string{"a.txt"}, e.keys(t, "dst-bucket"))

	r = e.run(t, "verify", "s3://src-bucket", "s3://dst-bucket", "--source-account", sandbox.AccountA, "--dest-account", sandbox.AccountA)
	assert.Equal(t, exitOK, r.code, r.stderr)

	r = e.run(t, "sync", "s3://src-bucket", "s3://dst-bucket", "--source-account", "12345")
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "--source-account")
	assert.Contains(t, r.stderr, "12345")
}
