package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// newDataSyncAccounts is team-a-data in A with files under exports/, and
// an empty team-b-archive in B.
func newDataSyncAccounts(t *testing.T) *twoAccounts {
	t.Helper()
	e := newTwoAccounts(t, "team-a-data", "team-b-archive")
	for _, k := range []string{"exports/a.csv", "exports/sub/b.csv", "exports/scratch.tmp", "private/secret.txt"} {
		e.put(t, e.ownerA, "team-a-data", k, "body of "+k)
	}
	return e
}

// dsArgs is a datasync command from team-a-data/exports in A to
// team-b-archive/from-a in B with both accounts' profiles and extra.
func dsArgs(command string, extra ...string) []string {
	return append([]string{"datasync", command,
		"--source", "s3://team-a-data/exports", "--source-account", sandbox.AccountA,
		"--dest", "s3://team-b-archive/from-a", "--dest-account", sandbox.AccountB,
		"--exclude", "*.tmp", "--source-profile", "a", "--dest-profile", "b"}, extra...)
}

func (e *twoAccounts) archived(t *testing.T) []string {
	t.Helper()
	var keys []string
	for obj, err := range xacct.List(t.Context(), e.ownerB, xacct.Location{Bucket: "team-b-archive"}) {
		require.NoError(t, err)
		keys = append(keys, obj.Key)
	}
	return keys
}

func TestDataSyncPlan(t *testing.T) {
	newDataSyncAccounts(t)
	r := xrun(t, dsArgs("plan", "--verify-mode", "only_files_transferred", "--task-name", "nightly")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.True(t, strings.HasPrefix(r.stdout, `DataSync task "nightly" (BASIC) in us-east-1: s3://team-a-data/exports/ (account `+sandbox.AccountA), r.stdout)
	assert.Contains(t, r.stdout, `"VerifyMode": "ONLY_FILES_TRANSFERRED"`)
	assert.Contains(t, r.stdout, `"Value": "*.tmp"`)

	r = xrun(t, dsArgs("plan", "--json")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	var plan struct {
		SourceAccount struct {
			RoleArn string `json:"roleArn"`
		} `json:"sourceAccount"`
		DestinationAccount struct {
			ObjectOwnership string `json:"objectOwnership"`
		} `json:"destinationAccount"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &plan), r.stdout)
	assert.Equal(t, "arn:aws:iam::"+sandbox.AccountA+":role/xacct-datasync", plan.SourceAccount.RoleArn)
	assert.Equal(t, "BucketOwnerEnforced", plan.DestinationAccount.ObjectOwnership)
}

func TestDataSyncApplyTwiceAndRun(t *testing.T) {
	e := newDataSyncAccounts(t)
	r := xrun(t, dsArgs("apply")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `^role:                 arn:aws:iam::111111111111:role/xacct-datasync\n`+
		`source location:      arn:aws:datasync:us-east-1:111111111111:location/\S+\n`+
		`destination location: arn:aws:datasync:us-east-1:111111111111:location/\S+\n`+
		`task:                 (arn:aws:datasync:us-east-1:111111111111:task/\S+)\n`, r.stdout)
	// The bucket enforces bucket-owner ownership already.
	assert.Equal(t, 6, strings.Count(r.stdout, "changed: "), r.stdout)
	assert.Contains(t, r.stdout, "changed: merged 3 statements into the bucket policy of team-b-archive\n")
	task := strings.Fields(strings.Split(r.stdout, "\n")[3])[1]

	r = xrun(t, dsArgs("apply")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.True(t, strings.HasSuffix(r.stdout, "task:                 "+task+"\nnothing to change\n"), r.stdout)

	r = xrun(t, "datasync", "run", "--task-arn", task, "--source-profile", "a", "--poll-interval", "1ms")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, []string{
		"phase: LAUNCHING files 0/0 bytes 0 Bytes/0 Bytes",
		"phase: PREPARING files 0/2 bytes 0 Bytes/46 Bytes",
		"phase: TRANSFERRING files 2/2 bytes 46 Bytes/46 Bytes",
		"phase: VERIFYING files 2/2 bytes 46 Bytes/46 Bytes verified 2",
		"phase: SUCCESS files 2/2 bytes 46 Bytes/46 Bytes verified 2",
	}, strings.Split(r.stdout, "\n")[:5])
	assert.Regexp(t, `\nSUCCESS: transferred 2 files \(46 Bytes\), verified 2, deleted 0, skipped 0 in \S+\n$`, r.stdout)
	assert.Equal(t, []string{"from-a/a.csv", "from-a/sub/b.csv"}, e.archived(t))

	// With the spec flags, run applies first: here the include is new.
	e.put(t, e.ownerA, "team-a-data", "exports/c.csv", "new")
	e.put(t, e.ownerA, "team-a-data", "exports/sub/d.csv", "new")
	r = xrun(t, dsArgs("run", "--poll-interval", "1ms", "--include", "/sub*")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "\nchanged: updated includes of task "+task+"\nphase: LAUNCHING")
	assert.Regexp(t, `\nSUCCESS: transferred 1 file \(3 Bytes\), verified \d+, deleted 0, skipped 1 in`, r.stdout)
	assert.Equal(t, []string{"from-a/a.csv", "from-a/sub/b.csv", "from-a/sub/d.csv"}, e.archived(t))
}

func TestDataSyncRunShowsABarOnATerminal(t *testing.T) {
	newDataSyncAccounts(t)
	r := execute(t, func(a *app) { a.tty = true }, dsArgs("run", "--poll-interval", "1ms")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.NotContains(t, r.stdout, "phase:")
	assert.Contains(t, r.stdout, "\nSUCCESS: transferred 2 files (46 Bytes)")
	// The bar draws its first state at once and later ones throttled.
	assert.Contains(t, r.stderr, "\r| LAUNCHING files 0/0")

	r = execute(t, func(a *app) { a.tty = true }, dsArgs("run", "--poll-interval", "1ms", "--no-progress")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "phase: SUCCESS")
	assert.Empty(t, r.stderr)
}

func TestDataSyncApplyWithoutDestinationIdentity(t *testing.T) {
	newDataSyncAccounts(t)
	args := dsArgs("apply")
	r := xrun(t, args[:len(args)-2]...) // without --dest-profile b
	// B's bucket policy does not admit the operator yet: CreateLocationS3
	// for the destination is refused.
	assert.Equal(t, exitFailed, r.code)
	assert.Contains(t, r.stdout, "changed: created role arn:aws:iam::111111111111:role/xacct-datasync\n")
	assert.Contains(t, r.stdout, "not applied, for the owners of account "+sandbox.AccountB+" to apply:\n"+
		"  merge into the bucket policy of team-b-archive (by Sid):\n    {\n")
	assert.Contains(t, r.stdout, "  set the object ownership of team-b-archive to BucketOwnerEnforced\n")
	assert.Contains(t, r.stderr, "xacct: create destination location s3://team-b-archive/from-a/: ")
	assert.Contains(t, r.stderr, "s3:ListBucket")
}

func TestDataSyncRunFailsWithoutBucketPolicyStatement(t *testing.T) {
	e := newDataSyncAccounts(t)
	r := xrun(t, dsArgs("apply")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	task := strings.Fields(strings.Split(r.stdout, "\n")[3])[1]

	got, err := e.ownerB.GetBucketPolicy(t.Context(), &s3.GetBucketPolicyInput{Bucket: aws.String("team-b-archive")})
	require.NoError(t, err)
	p, err := xacct.ParsePolicy([]byte(aws.ToString(got.Policy)))
	require.NoError(t, err)
	trimmed, changed := xacct.RemoveStatements(p, "XacctDataSyncDestinationWrite")
	require.True(t, changed)
	_, err = e.ownerB.PutBucketPolicy(t.Context(), &s3.PutBucketPolicyInput{Bucket: aws.String("team-b-archive"), Policy: aws.String(trimmed.String())})
	require.NoError(t, err)

	r = xrun(t, "datasync", "run", "--task-arn", task, "--source-profile", "a", "--poll-interval", "1ms")
	assert.Equal(t, exitFailed, r.code)
	assert.Regexp(t, `\nERROR: transferred 0 files \(0 Bytes\), verified 0, deleted 0, skipped 0 in \S+\n$`, r.stdout)
	require.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
	assert.Regexp(t, `^xacct: datasync execution \S+ failed in TRANSFERRING: AccessDenied: .*s3:PutObject.*arn:aws:s3:::team-b-archive/from-a/a\.csv`, r.stderr)
	assert.Empty(t, e.archived(t))
}

// cancelOn is stdout that cancels when a line starting with prefix is
// written.
type cancelOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	prefix string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if bytes.HasPrefix(p, []byte(c.prefix)) {
		c.cancel()
	}
	return c.buf.Write(p)
}

func TestDataSyncRunInterruptedCancelsTheExecution(t *testing.T) {
	e := newDataSyncAccounts(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdout := &cancelOn{prefix: "phase: PREPARING", cancel: cancel}
	var stderr bytes.Buffer
	code := newApp(stdout, &stderr).execute(ctx, dsArgs("run", "--poll-interval", "1ms"))
	assert.Equal(t, exitInterrupted, code)
	assert.Regexp(t, `\nCANCELLED: transferred 0 files`, stdout.buf.String())
	assert.Regexp(t, `^xacct: execution \S+ cancelled: context canceled\n$`, stderr.String())
	assert.Equal(t, 1, e.sb.Requests()["CancelTaskExecution"])
	assert.Empty(t, e.archived(t))
}

func TestDataSyncUsageErrors(t *testing.T) {
	isolate(t, "", "")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad verify mode", dsArgs("plan", "--verify-mode", "sometimes"), `--verify-mode (Options.VerifyMode) "SOMETIMES": must be one of POINT_IN_TIME_CONSISTENT`},
		{"bad schedule", dsArgs("apply", "--schedule", "rate(5 minutes)"), `--schedule (Schedule) "rate(5 minutes)": must run at most once an hour`},
		{"bad include", dsArgs("run", "--include", "*.csv"), `--include (Includes[0]) "*.csv": an include pattern may have * only as its last character`},
		{"same account", dsArgs("plan", "--dest-account", sandbox.AccountA), `--dest-account (Destination.Account) "111111111111": must differ from the source account`},
		{"bad subdirectory", dsArgs("plan", "--dest", "s3://team-b-archive/a|b"), `--dest (Destination.Subdirectory) "a|b"`},
		{"task arn and spec flags", dsArgs("run", "--task-arn", "arn:aws:datasync:us-east-1:111111111111:task/task-1"), "--task-arn runs an existing task"},
		{"poll interval", []string{"datasync", "run", "--task-arn", "x", "--poll-interval", "0s"}, "--poll-interval 0s: must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := xrun(t, append(tt.args, "--region", "us-east-1")...)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			assert.Empty(t, r.stdout)
			require.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
			assert.Contains(t, r.stderr, tt.want)
		})
	}
}
