package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

// twoAccounts is an enforcing sandbox with a bucket in each account, whose
// root users the profiles a and b stand for.
type twoAccounts struct {
	sb             *sandbox.Sandbox
	ownerA, ownerB *s3.Client
}

// newTwoAccounts creates srcBucket in account A and dstBucket in account
// B, and points the AWS environment at profiles a and b only.
func newTwoAccounts(t *testing.T, srcBucket, dstBucket string) *twoAccounts {
	t.Helper()
	sb, err := enforce.Start()
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	rootA, rootB := sb.Root(sandbox.AccountA), sb.Root(sandbox.AccountB)
	require.NoError(t, sb.CreateBucket(t.Context(), rootA, srcBucket))
	require.NoError(t, sb.CreateBucket(t.Context(), rootB, dstBucket))
	cfg, creds, err := sb.WriteAWSConfig(t.TempDir(), map[string]sandbox.ProfileSpec{"a": {Principal: rootA}, "b": {Principal: rootB}})
	require.NoError(t, err)
	isolate(t, cfg, creds)
	return &twoAccounts{sb: sb, ownerA: sb.S3(rootA), ownerB: sb.S3(rootB)}
}

func (e *twoAccounts) put(t *testing.T, client *s3.Client, bucket, key, body string) {
	t.Helper()
	_, err := client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
	require.NoError(t, err)
}

func (e *twoAccounts) enableVersioning(t *testing.T, client *s3.Client, bucket string) {
	t.Helper()
	_, err := client.PutBucketVersioning(t.Context(), &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	require.NoError(t, err)
}

func (e *twoAccounts) waitReplication(t *testing.T) {
	t.Helper()
	require.NoError(t, e.sb.WaitReplication(t.Context()))
}

// replArgs is a replication command from team-a-data in A to
// team-b-replica in B, with profile a for the source account and extra.
func replArgs(command string, extra ...string) []string {
	return append([]string{"replication", command,
		"--source", "s3://team-a-data", "--source-account", sandbox.AccountA,
		"--dest", "s3://team-b-replica", "--dest-account", sandbox.AccountB,
		"--source-profile", "a"}, extra...)
}

func newReplicationAccounts(t *testing.T) *twoAccounts {
	t.Helper()
	return newTwoAccounts(t, "team-a-data", "team-b-replica")
}

func TestReplicationPlan(t *testing.T) {
	newReplicationAccounts(t)
	r := xrun(t, replArgs("plan", "--rule", "logs:logs/", "--delete-markers")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "account "+sandbox.AccountA+" (source):\n  1. versioning: enable versioning on team-a-data\n")
	assert.Contains(t, r.stdout, "  2. bucket-policy: merge statements by Sid into the bucket policy of team-b-replica\n")
	assert.Contains(t, r.stdout, `"Resource": "arn:aws:s3:::team-b-replica/logs/*"`)
	assert.Contains(t, r.stdout, `"Prefix": "logs/"`)

	r = xrun(t, replArgs("plan", "--summary")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, 8, strings.Count(r.stdout, "\n"), r.stdout)
	assert.NotContains(t, r.stdout, "{")

	r = xrun(t, replArgs("plan", "--json", "--prefix", "a/", "--prefix", "b/")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	var plan struct {
		Source struct {
			Steps []struct {
				Kind          string
				Configuration struct {
					Rules []struct {
						ID       string
						Priority int
					}
				}
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &plan), r.stdout)
	require.Len(t, plan.Source.Steps, 4)
	assert.Equal(t, "replication-configuration", plan.Source.Steps[3].Kind)
	rules := plan.Source.Steps[3].Configuration.Rules
	require.Len(t, rules, 2)
	assert.Equal(t, "a/", rules[0].ID)
	assert.Greater(t, rules[0].Priority, rules[1].Priority, "earlier rules win")

	// A spec file gives the same plan.
	spec := filepath.Join(t.TempDir(), "spec.json")
	require.NoError(t, os.WriteFile(spec, []byte(`{
	  "Source": {"Bucket": "team-a-data", "Account": "`+sandbox.AccountA+`", "Region": "us-east-1"},
	  "Destination": {"Bucket": "team-b-replica", "Account": "`+sandbox.AccountB+`", "Region": "us-east-1"},
	  "RoleName": "xacct-replication",
	  "Rules": [{"ID": "all", "Priority": 1}]
	}`), 0o600))
	fromFile := xrun(t, "replication", "plan", "--spec", spec)
	require.Equal(t, exitOK, fromFile.code, fromFile.stderr)
	fromFlags := xrun(t, replArgs("plan")...)
	assert.Equal(t, fromFlags.stdout, fromFile.stdout)

	// And so does the same spec in YAML, with the same field names.
	yamlSpec := filepath.Join(t.TempDir(), "spec.yaml")
	require.NoError(t, os.WriteFile(yamlSpec, []byte(`
Source: {Bucket: team-a-data, Account: "`+sandbox.AccountA+`", Region: us-east-1}
Destination:
  Bucket: team-b-replica
  Account: "`+sandbox.AccountB+`"
  Region: us-east-1
RoleName: xacct-replication
Rules:
  - ID: all
    Priority: 1
`), 0o600))
	fromYAML := xrun(t, "replication", "plan", "--spec", yamlSpec)
	require.Equal(t, exitOK, fromYAML.code, fromYAML.stderr)
	assert.Equal(t, fromFlags.stdout, fromYAML.stdout)

	require.NoError(t, os.WriteFile(yamlSpec, []byte("Source: {Bucket: x, Acount: y}\n"), 0o600))
	bad := xrun(t, "replication", "plan", "--spec", yamlSpec)
	assert.Equal(t, exitUsage, bad.code)
	assert.Contains(t, bad.stderr, `unknown field "Acount"`)
}

func TestReplicationApplyStatusDiff(t *testing.T) {
	e := newReplicationAccounts(t)
	args := replArgs("apply", "--dest-profile", "b")
	r := xrun(t, args...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, 6, strings.Count(r.stdout, "changed: "), r.stdout)
	assert.Contains(t, r.stdout, "changed: account "+sandbox.AccountB+": bucket-policy: merge statements by Sid into the bucket policy of team-b-replica\n")

	r = xrun(t, args...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "nothing to change\n", r.stdout)

	e.put(t, e.ownerA, "team-a-data", "reports/q1.csv", "a,b")
	e.put(t, e.ownerA, "team-a-data", "reports/q2.csv", "c,d")
	e.waitReplication(t)
	r = xrun(t, replArgs("status", "--prefix", "reports/")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "COMPLETED reports/q1.csv\nCOMPLETED reports/q2.csv\nCOMPLETED=2\n", r.stdout)
	r = xrun(t, replArgs("status", "--key", "reports/q2.csv", "--wait", "10s")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "COMPLETED reports/q2.csv\nCOMPLETED=1\n", r.stdout)

	// The replica is account B's to read.
	got, err := e.ownerB.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("team-b-replica"), Key: aws.String("reports/q1.csv")})
	require.NoError(t, err)
	got.Body.Close()

	diff := replArgs("diff", "--dest-profile", "b")
	r = xrun(t, diff...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "no drift\n", r.stdout)

	// Someone suspends versioning in B and deletes the configuration in A.
	_, err = e.ownerB.PutBucketVersioning(t.Context(), &s3.PutBucketVersioningInput{Bucket: aws.String("team-b-replica"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}})
	require.NoError(t, err)
	_, err = e.ownerA.DeleteBucketReplication(t.Context(), &s3.DeleteBucketReplicationInput{Bucket: aws.String("team-a-data")})
	require.NoError(t, err)
	r = xrun(t, diff...)
	assert.Equal(t, exitFailed, r.code)
	assert.Equal(t, []string{
		sandbox.AccountA + ` arn:aws:s3:::team-a-data ReplicationConfiguration: want "present", got ""`,
		sandbox.AccountB + ` arn:aws:s3:::team-b-replica Versioning: want "Enabled", got "Suspended"`,
	}, r.sortedLines())
	assert.Equal(t, "xacct: 2 differences from the spec; xacct replication apply puts them right\n", r.stderr)

	// Without account B's identity, B is not compared.
	r = xrun(t, replArgs("diff")...)
	assert.Equal(t, exitFailed, r.code)
	assert.Equal(t, 1, strings.Count(r.stdout, "\n"), r.stdout)
	assert.Contains(t, r.stderr, "note: account "+sandbox.AccountB+" not compared")

	r = xrun(t, args...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, 2, strings.Count(r.stdout, "changed: "), r.stdout)
	r = xrun(t, diff...)
	assert.Equal(t, exitOK, r.code, r.stdout+r.stderr)
}

func TestReplicationApplyWithoutDestinationIdentity(t *testing.T) {
	e := newReplicationAccounts(t)
	e.enableVersioning(t, e.ownerB, "team-b-replica")
	r := xrun(t, replArgs("apply")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, 4, strings.Count(r.stdout, "changed: account "+sandbox.AccountA), r.stdout)
	assert.NotContains(t, r.stdout, "changed: account "+sandbox.AccountB)
	assert.Contains(t, r.stdout, "not applied, for the owners of account "+sandbox.AccountB+" to apply:\n"+
		"  versioning: enable versioning on team-b-replica\n"+
		"  bucket-policy: merge statements by Sid into the bucket policy of team-b-replica\n    {\n")
	assert.Contains(t, r.stdout, `"Sid": "XacctReplicationDestinationWrite"`)

	// B has not admitted the role: replication fails, and status says so.
	e.put(t, e.ownerA, "team-a-data", "x.txt", "x")
	e.waitReplication(t)
	r = xrun(t, replArgs("status", "--wait", "5s")...)
	assert.Equal(t, exitFailed, r.code)
	assert.Equal(t, "FAILED    x.txt\nFAILED=1\n", r.stdout)
	assert.Equal(t, "xacct: 1 object failed to replicate; xacct replication backfill retries them\n", r.stderr)

	// Once B applied its part, a backfill replicates the failed object.
	r = xrun(t, replArgs("apply", "--dest-profile", "b", "--backfill", "--timeout", "10s", "--poll-interval", "1ms")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `backfill: job \S+ Complete: 1 of 1 objects replicated, 0 failed\n$`, r.stdout)
	r = xrun(t, replArgs("status")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "COMPLETED x.txt\nCOMPLETED=1\n", r.stdout)
}

func TestReplicationBackfillCommand(t *testing.T) {
	e := newReplicationAccounts(t)
	e.enableVersioning(t, e.ownerA, "team-a-data")
	for _, k := range []string{"old/1", "old/2", "old/3"} {
		e.put(t, e.ownerA, "team-a-data", k, "from before")
	}
	r := xrun(t, replArgs("apply", "--dest-profile", "b")...)
	require.Equal(t, exitOK, r.code, r.stderr)

	r = xrun(t, replArgs("backfill")...)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `Backfill "false": Backfill needs the role to trust batchoperations.s3.amazonaws.com`)
	r = xrun(t, replArgs("backfill", "--backfill", "--poll-interval", "0s")...)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--poll-interval 0s: must be positive")

	r = xrun(t, replArgs("apply", "--dest-profile", "b", "--backfill", "--poll-interval", "1ms")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "changed: account "+sandbox.AccountA+": role: ")
	assert.Contains(t, r.stdout, "Complete: 3 of 3 objects replicated, 0 failed\n")
	job := regexp.MustCompile(`backfill: batch replication job (\S+), the one for this spec\n`)
	first := job.FindStringSubmatch(r.stdout)
	require.Len(t, first, 2, r.stdout)
	r = xrun(t, replArgs("status")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.True(t, strings.HasSuffix(r.stdout, "\nCOMPLETED=3\n"), r.stdout)

	// Applying again starts no second job: the spec's token returns the
	// first.
	r = xrun(t, replArgs("apply", "--dest-profile", "b", "--backfill", "--poll-interval", "1ms")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "nothing to change\n")
	again := job.FindStringSubmatch(r.stdout)
	require.Len(t, again, 2, r.stdout)
	assert.Equal(t, first[1], again[1], "the re-run returns the same job")
	assert.Contains(t, r.stdout, "Complete: 3 of 3 objects replicated, 0 failed\n")

	// The backfill command starts a new job; nothing is left to replicate.
	r = xrun(t, replArgs("backfill", "--backfill", "--poll-interval", "1ms")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `^backfill: batch replication job \S+ started\nbackfill: job \S+ Complete: 0 of 0 objects replicated, 0 failed\n$`, r.stdout)
	assert.NotContains(t, r.stdout, first[1])
	assert.Empty(t, xacctKeysMissing(t, e))
}

// xacctKeysMissing returns the source keys missing from the replica
// bucket.
func xacctKeysMissing(t *testing.T, e *twoAccounts) []string {
	t.Helper()
	have := map[string]bool{}
	for obj, err := range xacct.List(t.Context(), e.ownerB, xacct.Location{Bucket: "team-b-replica"}) {
		require.NoError(t, err)
		have[obj.Key] = true
	}
	var missing []string
	for obj, err := range xacct.List(t.Context(), e.ownerA, xacct.Location{Bucket: "team-a-data"}) {
		require.NoError(t, err)
		if !have[obj.Key] {
			missing = append(missing, obj.Key)
		}
	}
	return missing
}

func TestReplicationUsageErrors(t *testing.T) {
	isolate(t, "", "")
	dir := t.TempDir()
	unknown := filepath.Join(dir, "unknown.json")
	require.NoError(t, os.WriteFile(unknown, []byte(`{"Source": {"Bucket": "a", "Acount": "1"}}`), 0o600))
	invalid := filepath.Join(dir, "invalid.json")
	require.NoError(t, os.WriteFile(invalid, []byte(`{"Source": {"Bucket": "team-a-data", "Account": "111111111111", "Region": "us-east-1"},
	  "Destination": {"Bucket": "team-b-replica", "Account": "222222222222", "Region": "us-east-1"}, "RoleName": "r", "Rules": [{"ID": "x", "Prefix": "logs/"}]}`), 0o600))
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"bad account", replArgs("plan", "--source-account", "1234"), []string{`--source-account (Source.Account) "1234": must be a 12-digit account ID`}},
		{"same bucket", replArgs("plan", "--dest", "s3://team-a-data"), []string{`--dest (Destination.Bucket) "team-a-data": must differ from the source bucket`}},
		{"storage class once", replArgs("plan", "--prefix", "a/", "--prefix", "b/", "--storage-class", "COLD"), []string{`--storage-class (Rules[0].StorageClass) "COLD": must be a storage class`}},
		{"missing dest", []string{"replication", "apply", "--source", "s3://team-a-data", "--source-account", sandbox.AccountA, "--region", "us-east-1"},
			[]string{`--dest (Destination.Bucket) ""`, `--dest-account (Destination.Account) ""`}},
		{"rule without prefix", replArgs("plan", "--rule", "logs"), []string{`--rule "logs": want ID:PREFIX`}},
		{"location with a prefix", replArgs("plan", "--source", "s3://team-a-data/logs/"), []string{"--source s3://team-a-data/logs/: replication takes a whole bucket"}},
		{"bad bucket", replArgs("plan", "--dest", "s3://B"), []string{`--dest "s3://B"`}},
		{"spec with flags", []string{"replication", "plan", "--spec", invalid, "--source", "s3://x"}, []string{"--spec and --source cannot be used together"}},
		{"unknown field", []string{"replication", "plan", "--spec", unknown}, []string{`unknown field "Acount"`}},
		{"invalid spec file", []string{"replication", "plan", "--spec", invalid}, []string{`Rules[0].Prefix "logs/": V1 rule-level prefixes are not written`}},
		{"key and prefix", replArgs("status", "--key", "a", "--prefix", "b"), []string{"--key and --prefix cannot be used together"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// No profile exists: every mistake is found before AWS is.
			r := xrun(t, append(tt.args, "--region", "us-east-1")...)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			assert.Empty(t, r.stdout)
			require.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
			for _, w := range tt.want {
				assert.Contains(t, r.stderr, w)
			}
		})
	}
}
