package xacct_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	"github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// apply applies spec and returns the result, failing the test on
// an error.
func (env *dataSyncEnv) apply(t *testing.T, spec xacct.DataSyncSpec) *xacct.DataSyncApplyResult {
	t.Helper()
	plan, err := xacct.NewDataSyncPlan(spec)
	require.NoError(t, err)
	res, err := env.planner.Apply(t.Context(), plan)
	require.NoError(t, err)
	return res
}

func (env *dataSyncEnv) describeTask(t *testing.T, arn string) *datasync.DescribeTaskOutput {
	t.Helper()
	out, err := datasync.NewFromConfig(env.sb.Config(env.operator)).DescribeTask(t.Context(), &datasync.DescribeTaskInput{TaskArn: aws.String(arn)})
	require.NoError(t, err)
	return out
}

func (env *dataSyncEnv) put(t *testing.T, client *s3.Client, bucket, key, body string) {
	t.Helper()
	_, err := client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
	require.NoError(t, err)
}

// Going back from REMOVE to the default must put PRESERVE back on the
// task, as the delete grant leaves the role and the bucket policy.
func TestDataSyncApplyRestoresDefaultOptions(t *testing.T) {
	env := newDataSyncEnv(t)
	ctx := t.Context()
	remove := env.spec
	remove.Options.PreserveDeletedFiles = types.PreserveDeletedFilesRemove
	res := env.apply(t, remove)
	env.put(t, env.ownerB, "team-b-archive", "from-a/stale.csv", "old")
	run, err := env.planner.Run(ctx, res.TaskARN)
	require.NoError(t, err)
	assert.EqualValues(t, 1, run.FilesDeleted)
	assert.Equal(t, types.PreserveDeletedFilesRemove, env.describeTask(t, res.TaskARN).Options.PreserveDeletedFiles)

	back := env.apply(t, env.spec)
	assert.Contains(t, back.Changes, "updated options of task "+res.TaskARN)
	assert.Equal(t, res.TaskARN, back.TaskARN)
	assert.Equal(t, types.PreserveDeletedFilesPreserve, env.describeTask(t, res.TaskARN).Options.PreserveDeletedFiles)

	env.put(t, env.ownerB, "team-b-archive", "from-a/stale2.csv", "old")
	env.put(t, env.ownerA, "team-a-data", "exports/new.csv", "new")
	run, err = env.planner.Run(ctx, res.TaskARN)
	require.NoError(t, err, "the task must not try to delete without the delete grant")
	assert.EqualValues(t, 1, run.FilesTransferred)
	assert.Zero(t, run.FilesDeleted)
	assert.Contains(t, env.keys(t, "team-b-archive"), "from-a/stale2.csv")

	before := env.sb.Requests()["UpdateTask"]
	again := env.apply(t, env.spec)
	assert.Empty(t, again.Changes)
	assert.Equal(t, before, env.sb.Requests()["UpdateTask"])
}

// Adding a manifest and a task report to an existing task updates it:
// the next run copies only the listed object and writes its report.
// Removing them again clears them on the task.
func TestDataSyncApplyAddsAndRemovesManifestAndReport(t *testing.T) {
	env := newDataSyncEnv(t)
	ctx := t.Context()
	res := env.apply(t, env.spec)
	env.put(t, env.ownerA, "team-a-data", "manifests/list.csv", "a.csv\n")

	spec := dataSyncWithManifestAndReport(env.spec)
	up := env.apply(t, spec)
	assert.Contains(t, up.Changes, "updated manifest, task report of task "+res.TaskARN)
	d := env.describeTask(t, res.TaskARN)
	require.NotNil(t, d.ManifestConfig)
	assert.Equal(t, "manifests/list.csv", aws.ToString(d.ManifestConfig.Source.S3.ManifestObjectPath))
	assert.Equal(t, spec.RoleARN(), aws.ToString(d.ManifestConfig.Source.S3.BucketAccessRoleArn))
	require.NotNil(t, d.TaskReportConfig)
	assert.Equal(t, "reports", aws.ToString(d.TaskReportConfig.Destination.S3.Subdirectory))

	run, err := env.planner.Run(ctx, res.TaskARN)
	require.NoError(t, err)
	assert.EqualValues(t, 1, run.FilesTransferred)
	assert.Equal(t, []string{"from-a/a.csv"}, env.keys(t, "team-b-archive"), "only what the manifest lists")
	reports := reportKeys(t, env)
	require.Len(t, reports, 1)
	assert.True(t, strings.HasPrefix(reports[0], "reports/Summary-Reports/task-"), reports[0])
	got, err := env.ownerA.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("team-a-data"), Key: aws.String(reports[0])})
	require.NoError(t, err)
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	assert.Contains(t, string(body), `"Status":"SUCCESS"`)
	assert.Contains(t, string(body), run.ExecutionARN)

	// An UpdateTask that leaves the members out keeps them.
	_, err = datasync.NewFromConfig(env.sb.Config(env.operator)).UpdateTask(ctx, &datasync.UpdateTaskInput{
		TaskArn: aws.String(res.TaskARN), Options: &types.Options{LogLevel: types.LogLevelOff},
	})
	require.NoError(t, err)
	d = env.describeTask(t, res.TaskARN)
	assert.NotNil(t, d.ManifestConfig)
	assert.NotNil(t, d.TaskReportConfig)

	before := env.sb.Requests()["UpdateTask"]
	assert.Empty(t, env.apply(t, spec).Changes, "a second Apply changes nothing")
	assert.Equal(t, before, env.sb.Requests()["UpdateTask"])

	down := env.apply(t, env.spec)
	assert.Contains(t, down.Changes, "updated manifest, task report of task "+res.TaskARN)
	d = env.describeTask(t, res.TaskARN)
	assert.Nil(t, d.ManifestConfig)
	assert.Nil(t, d.TaskReportConfig)
	run, err = env.planner.Run(ctx, res.TaskARN)
	require.NoError(t, err)
	assert.EqualValues(t, 1, run.FilesTransferred, "without the manifest, sub/b.csv comes too")
	assert.Len(t, reportKeys(t, env), 1, "no report without a report configuration")
	assert.Empty(t, env.apply(t, env.spec).Changes)
}

// dataSyncWithManifestAndReport adds a manifest at
// team-a-data/manifests/list.csv and a task report under
// team-a-data/reports, both used with the planned role.
func dataSyncWithManifestAndReport(spec xacct.DataSyncSpec) xacct.DataSyncSpec {
	spec.Manifest = &types.ManifestConfig{Source: &types.SourceManifestConfig{S3: &types.S3ManifestConfig{
		S3BucketArn: aws.String(xacct.BucketARN("team-a-data")), ManifestObjectPath: aws.String("manifests/list.csv"),
	}}}
	spec.TaskReport = &types.TaskReportConfig{
		Destination: &types.ReportDestination{S3: &types.ReportDestinationS3{S3BucketArn: aws.String(xacct.BucketARN("team-a-data")), Subdirectory: aws.String("reports")}},
		OutputType:  types.ReportOutputTypeSummaryOnly,
	}
	return spec
}

func reportKeys(t *testing.T, env *dataSyncEnv) []string {
	t.Helper()
	var out []string
	for _, k := range env.keys(t, "team-a-data") {
		if strings.HasPrefix(k, "reports/") {
			out = append(out, k)
		}
	}
	return out
}

// A location found by its URI and tags but with another storage class or
// role is updated in place with UpdateLocationS3.
func TestDataSyncApplyUpdatesLocations(t *testing.T) {
	env := newDataSyncEnv(t)
	ctx := t.Context()
	first := env.spec
	second := env.spec
	second.RoleName = "xacct-datasync-v2"
	second.StorageClass = types.S3StorageClassStandardIa
	// An operator allowed to manage both roles.
	ops, err := env.sb.AddUser(sandbox.AccountA, "ops", xacct.DataSyncOperatorPolicy(first).String(), xacct.DataSyncOperatorPolicy(second).String())
	require.NoError(t, err)
	first.Operator, second.Operator = ops.ARN, ops.ARN
	env.planner, err = xacct.NewDataSyncPlanner(env.sb.IAM(ops), datasync.NewFromConfig(env.sb.Config(ops)), env.ownerB, xacct.WithDataSyncPollInterval(time.Millisecond, 4*time.Millisecond))
	require.NoError(t, err)
	ds := datasync.NewFromConfig(env.sb.Config(ops))

	res := env.apply(t, first)
	up := env.apply(t, second)
	assert.Equal(t, res.SourceLocationARN, up.SourceLocationARN, "the location is updated, not replaced")
	assert.Equal(t, res.DestinationLocationARN, up.DestinationLocationARN)
	assert.Contains(t, up.Changes, "updated role "+second.RoleARN()+" of source location "+res.SourceLocationARN)
	assert.Contains(t, up.Changes, "updated storage class STANDARD_IA, role "+second.RoleARN()+" of destination location "+res.DestinationLocationARN)
	for _, arn := range []string{up.SourceLocationARN, up.DestinationLocationARN} {
		l, err := ds.DescribeLocationS3(ctx, &datasync.DescribeLocationS3Input{LocationArn: aws.String(arn)})
		require.NoError(t, err)
		assert.Equal(t, second.RoleARN(), aws.ToString(l.S3Config.BucketAccessRoleArn), arn)
	}
	l, err := ds.DescribeLocationS3(ctx, &datasync.DescribeLocationS3Input{LocationArn: aws.String(up.DestinationLocationARN)})
	require.NoError(t, err)
	assert.Equal(t, types.S3StorageClassStandardIa, l.S3StorageClass)
	assert.Equal(t, 2, env.sb.Requests()["UpdateLocationS3"])

	run, err := env.planner.Run(ctx, up.TaskARN)
	require.NoError(t, err, "the run uses the new role, which the bucket policy now admits")
	assert.EqualValues(t, 2, run.FilesTransferred)
	assert.Empty(t, env.apply(t, second).Changes)
	assert.Equal(t, 2, env.sb.Requests()["UpdateLocationS3"])
}

// noUpdateDataSync is an external DataSyncAPI implementation written
// before UpdateLocationS3 existed: it hides the method of the real client.
type noUpdateDataSync struct{ xacct.DataSyncAPI }

// A DataSyncAPI without UpdateLocationS3 still compiles and applies, but
// a found location that differs from the plan is refused with a typed
// error naming it and the differing fields, not silently kept.
func TestDataSyncApplyWithoutLocationUpdate(t *testing.T) {
	env := newDataSyncEnv(t)
	first := env.spec
	second := env.spec
	second.RoleName = "xacct-datasync-v2"
	second.StorageClass = types.S3StorageClassStandardIa
	ops, err := env.sb.AddUser(sandbox.AccountA, "ops", xacct.DataSyncOperatorPolicy(first).String(), xacct.DataSyncOperatorPolicy(second).String())
	require.NoError(t, err)
	first.Operator, second.Operator = ops.ARN, ops.ARN
	env.planner, err = xacct.NewDataSyncPlanner(env.sb.IAM(ops), noUpdateDataSync{datasync.NewFromConfig(env.sb.Config(ops))}, env.ownerB, xacct.WithDataSyncPollInterval(time.Millisecond, 4*time.Millisecond))
	require.NoError(t, err)

	res := env.apply(t, first)
	assert.Empty(t, env.apply(t, first).Changes, "nothing to update: the client's lack does not matter")

	plan, err := xacct.NewDataSyncPlan(second)
	require.NoError(t, err)
	_, err = env.planner.Apply(t.Context(), plan)
	var ue *xacct.DataSyncLocationUpdateError
	require.ErrorAs(t, err, &ue)
	assert.ErrorIs(t, err, errors.ErrUnsupported)
	assert.Equal(t, "source", ue.Kind)
	assert.Equal(t, res.SourceLocationARN, ue.LocationARN)
	assert.Equal(t, []string{"role " + second.RoleARN()}, ue.Fields)
	assert.ErrorContains(t, err, res.SourceLocationARN)
	assert.Zero(t, env.sb.Requests()["UpdateLocationS3"])
}
