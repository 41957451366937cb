package xacct_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	"github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

// dataSyncEnv is an enforcing sandbox with a source bucket in account A
// holding data, an empty destination bucket in account B that still lets
// writers own their objects, and a planner acting as A's root (the
// operator) with B's root for the destination part.
type dataSyncEnv struct {
	sb      *sandbox.Sandbox
	planner *xacct.DataSyncPlanner
	spec    xacct.DataSyncSpec
	ownerA  *s3.Client
	ownerB  *s3.Client
	// operator is the user in account A that applies and runs, with
	// nothing but DataSyncOperatorPolicy.
	operator sandbox.Principal
}

func newDataSyncEnv(t *testing.T) *dataSyncEnv {
	t.Helper()
	ctx := t.Context()
	sb, err := enforce.Start()
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	rootA, rootB := sb.Root(sandbox.AccountA), sb.Root(sandbox.AccountB)
	env := &dataSyncEnv{sb: sb, ownerA: sb.S3(rootA), ownerB: sb.S3(rootB)}
	require.NoError(t, sb.CreateBucket(ctx, rootA, "team-a-data"))
	_, err = env.ownerB.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("team-b-archive"), ObjectOwnership: s3types.ObjectOwnershipObjectWriter})
	require.NoError(t, err)
	for _, k := range []string{"exports/a.csv", "exports/sub/b.csv", "exports/scratch.tmp", "private/secret.txt"} {
		_, err := env.ownerA.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String("team-a-data"), Key: aws.String(k), Body: strings.NewReader("body of " + k),
			Tagging: aws.String("team=a"),
		})
		require.NoError(t, err)
	}
	env.spec = xacct.DataSyncSpec{
		Source:      xacct.DataSyncEndpoint{Bucket: "team-a-data", Account: sandbox.AccountA, Region: sandbox.Region, Subdirectory: "exports"},
		Destination: xacct.DataSyncEndpoint{Bucket: "team-b-archive", Account: sandbox.AccountB, Region: sandbox.Region, Subdirectory: "from-a"},
		Excludes:    []string{"*.tmp"},
		Operator:    "arn:aws:iam::" + sandbox.AccountA + ":user/datasync-operator",
	}
	operator, err := sb.AddUser(sandbox.AccountA, "datasync-operator", xacct.DataSyncOperatorPolicy(env.spec).String())
	require.NoError(t, err)
	env.operator = operator
	env.planner, err = xacct.NewDataSyncPlanner(sb.IAM(operator), datasync.NewFromConfig(sb.Config(operator)), env.ownerB,
		xacct.WithDataSyncPollInterval(time.Millisecond, 4*time.Millisecond))
	require.NoError(t, err)
	return env
}

func (env *dataSyncEnv) keys(t *testing.T, bucket string) []string {
	t.Helper()
	var keys []string
	for obj, err := range xacct.List(t.Context(), env.sb.S3(env.sb.Root(env.sb.BucketOwner(bucket))), xacct.Location{Bucket: bucket}) {
		require.NoError(t, err)
		keys = append(keys, obj.Key)
	}
	return keys
}

func TestDataSyncApplyAndRunCopies(t *testing.T) {
	env := newDataSyncEnv(t)
	ctx := t.Context()
	plan, err := env.planner.Plan(env.spec)
	require.NoError(t, err)
	res, err := env.planner.Apply(ctx, plan)
	require.NoError(t, err)
	assert.Len(t, res.Changes, 7, "role, its policy, bucket policy, ownership, two locations and the task: %v", res.Changes)
	assert.Equal(t, sandbox.OwnershipBucketOwnerEnforced, env.sb.Ownership("team-b-archive"))

	var phases []types.TaskExecutionStatus
	run, err := env.planner.Run(ctx, res.TaskARN, xacct.WithRunProgress(func(p xacct.DataSyncProgress) {
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
	}))
	require.NoError(t, err)
	assert.Equal(t, types.TaskExecutionStatusSuccess, run.Status)
	assert.Equal(t, []types.TaskExecutionStatus{"LAUNCHING", "PREPARING", "TRANSFERRING", "VERIFYING", "SUCCESS"}, phases)
	assert.EqualValues(t, 2, run.FilesTransferred)
	assert.EqualValues(t, 2, run.FilesVerified)
	assert.EqualValues(t, len("body of exports/a.csv")+len("body of exports/sub/b.csv"), run.BytesTransferred)
	assert.Equal(t, []string{"from-a/a.csv", "from-a/sub/b.csv"}, env.keys(t, "team-b-archive"), "the subdirectory only, without excluded files")

	// The objects belong to account B, and kept their tags and bytes.
	acl, err := env.ownerB.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("team-b-archive"), Key: aws.String("from-a/a.csv")})
	require.NoError(t, err)
	assert.Equal(t, env.sb.CanonicalID(sandbox.AccountB), aws.ToString(acl.Owner.ID))
	tags, err := env.ownerB.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("team-b-archive"), Key: aws.String("from-a/a.csv")})
	require.NoError(t, err)
	require.Len(t, tags.TagSet, 1)
	assert.Equal(t, "team", aws.ToString(tags.TagSet[0].Key))
	got, err := env.ownerB.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("team-b-archive"), Key: aws.String("from-a/sub/b.csv")})
	require.NoError(t, err)
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	assert.Equal(t, "body of exports/sub/b.csv", string(body))

	// A second run finds nothing changed (TransferMode CHANGED).
	again, err := env.planner.Run(ctx, res.TaskARN)
	require.NoError(t, err)
	assert.Zero(t, again.FilesTransferred)
	assert.EqualValues(t, 2, again.FilesSkipped)
}

func TestDataSyncApplyTwiceIsNoOp(t *testing.T) {
	env := newDataSyncEnv(t)
	ctx := t.Context()
	plan, err := xacct.NewDataSyncPlan(env.spec)
	require.NoError(t, err)
	first, err := env.planner.Apply(ctx, plan)
	require.NoError(t, err)
	require.NotEmpty(t, first.Changes)
	before := env.sb.Requests()
	second, err := env.planner.Apply(ctx, plan)
	require.NoError(t, err)
	assert.Empty(t, second.Changes)
	after := env.sb.Requests()
	for _, op := range []string{"CreateRole", "PutRolePolicy", "UpdateAssumeRolePolicy", "PutBucketPolicy", "PutBucketOwnershipControls", "CreateLocationS3", "CreateTask", "UpdateTask"} {
		assert.Equal(t, before[op], after[op], op)
	}
	assert.Equal(t, first.TaskARN, second.TaskARN)
	assert.Equal(t, first.SourceLocationARN, second.SourceLocationARN)
	assert.Equal(t, first.DestinationLocationARN, second.DestinationLocationARN)

	// A changed option updates the task in place; a changed mode is
	// refused.
	spec := env.spec
	spec.Options.OverwriteMode = types.OverwriteModeNever
	spec.Includes = []string{"/sub"}
	changedPlan, err := xacct.NewDataSyncPlan(spec)
	require.NoError(t, err)
	third, err := env.planner.Apply(ctx, changedPlan)
	require.NoError(t, err)
	assert.Equal(t, []string{"updated options, includes of task " + first.TaskARN}, third.Changes)
	assert.Equal(t, first.TaskARN, third.TaskARN)

	spec.TaskMode = types.TaskModeEnhanced
	enhanced, err := xacct.NewDataSyncPlan(spec)
	require.NoError(t, err)
	_, err = env.planner.Apply(ctx, enhanced)
	var ve *xacct.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "TaskMode", ve.Field)
}

func TestDataSyncRunOptionsAndFilters(t *testing.T) {
	env := newDataSyncEnv(t)
	ctx := t.Context()
	// An object only in the destination, and one the source will change.
	for _, k := range []string{"from-a/stale.csv", "from-a/a.csv"} {
		_, err := env.ownerB.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("team-b-archive"), Key: aws.String(k), Body: strings.NewReader("old")})
		require.NoError(t, err)
	}
	spec := env.spec
	spec.Options.PreserveDeletedFiles = types.PreserveDeletedFilesRemove
	spec.Options.OverwriteMode = types.OverwriteModeNever
	plan, err := xacct.NewDataSyncPlan(spec)
	require.NoError(t, err)
	res, err := env.planner.Apply(ctx, plan)
	require.NoError(t, err)

	run, err := env.planner.Run(ctx, res.TaskARN)
	require.NoError(t, err)
	assert.EqualValues(t, 1, run.FilesTransferred, "a.csv exists and OverwriteMode is NEVER")
	assert.EqualValues(t, 1, run.FilesDeleted)
	assert.Equal(t, []string{"from-a/a.csv", "from-a/sub/b.csv"}, env.keys(t, "team-b-archive"))

	// Per-run overrides: overwrite this time, only what is under /sub
	// and at the top.
	run, err = env.planner.Run(ctx, res.TaskARN,
		xacct.WithRunOptions(types.Options{OverwriteMode: types.OverwriteModeAlways}),
		xacct.WithRunIncludes("/a*"))
	require.NoError(t, err)
	assert.EqualValues(t, 1, run.FilesTransferred, "a.csv differs and is included")
	got, err := env.ownerB.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("team-b-archive"), Key: aws.String("from-a/a.csv")})
	require.NoError(t, err)
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	assert.Equal(t, "body of exports/a.csv", string(body))

	_, err = env.planner.Run(ctx, res.TaskARN, xacct.WithRunOptions(types.Options{TransferMode: types.TransferModeAll}))
	require.ErrorContains(t, err, "InvalidRequestException", "DataSync refuses ALL on a task that has REMOVE")
	_, err = env.planner.Run(ctx, res.TaskARN, xacct.WithRunOptions(types.Options{TransferMode: types.TransferModeAll, PreserveDeletedFiles: types.PreserveDeletedFilesRemove}))
	var ve *xacct.ValidationError
	require.ErrorAs(t, err, &ve, "REMOVE with ALL in the overrides is refused before any call")
	_, err = env.planner.Run(ctx, res.TaskARN, xacct.WithRunOptions(types.Options{TransferMode: types.TransferModeAll, PreserveDeletedFiles: types.PreserveDeletedFilesPreserve}))
	require.NoError(t, err)
}

func TestDataSyncRunFailsWithoutBucketPolicyStatement(t *testing.T) {
	env := newDataSyncEnv(t)
	ctx := t.Context()
	plan, err := xacct.NewDataSyncPlan(env.spec)
	require.NoError(t, err)
	trimmed, changed := xacct.RemoveStatements(&plan.Destination.BucketPolicy, "XacctDataSyncDestinationWrite")
	require.True(t, changed)
	plan.Destination.BucketPolicy = *trimmed
	res, err := env.planner.Apply(ctx, plan)
	require.NoError(t, err)

	run, err := env.planner.Run(ctx, res.TaskARN)
	var ee *xacct.DataSyncExecutionError
	require.ErrorAs(t, err, &ee)
	assert.ErrorIs(t, err, xacct.ErrAccessDenied)
	assert.Equal(t, "TRANSFERRING", ee.Phase)
	assert.Equal(t, "AccessDenied", ee.Code)
	assert.Contains(t, ee.Detail, "s3:PutObject")
	assert.Contains(t, ee.Detail, "arn:aws:s3:::team-b-archive/from-a/a.csv")
	assert.Contains(t, ee.Detail, "bucket policy")
	assert.Equal(t, types.TaskExecutionStatusError, run.Status)
	assert.Empty(t, env.keys(t, "team-b-archive"))
}

func TestDataSyncRunCancelled(t *testing.T) {
	env := newDataSyncEnv(t)
	plan, err := xacct.NewDataSyncPlan(env.spec)
	require.NoError(t, err)
	res, err := env.planner.Apply(t.Context(), plan)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	run, err := env.planner.Run(ctx, res.TaskARN, xacct.WithRunProgress(func(p xacct.DataSyncProgress) {
		if p.Phase == types.TaskExecutionStatusPreparing {
			cancel()
		}
	}))
	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, run.Cancelled)
	assert.Equal(t, 1, env.sb.Requests()["CancelTaskExecution"])
	assert.Empty(t, env.keys(t, "team-b-archive"), "cancelled before transferring")

	// DataSync ends a cancelled execution in ERROR, and the task is free
	// to run again.
	d, err := datasync.NewFromConfig(env.sb.Config(env.operator)).DescribeTaskExecution(t.Context(), &datasync.DescribeTaskExecutionInput{TaskExecutionArn: aws.String(run.ExecutionARN)})
	require.NoError(t, err)
	assert.Equal(t, types.TaskExecutionStatusError, d.Status)
	again, err := env.planner.Run(t.Context(), res.TaskARN)
	require.NoError(t, err)
	assert.EqualValues(t, 2, again.FilesTransferred)
}

// Least privilege: the generated policies are enough (above), and
// without any one statement Apply or the run fails, naming an action of
// that statement.
func TestDataSyncEveryStatementIsNeeded(t *testing.T) {
	spec := func(env *dataSyncEnv) xacct.DataSyncSpec {
		s := env.spec
		s.Options.PreserveDeletedFiles = types.PreserveDeletedFilesRemove
		return s
	}
	docs := []struct {
		name string
		pick func(*xacct.DataSyncPlan) *xacct.Policy
	}{
		{"trust policy", func(p *xacct.DataSyncPlan) *xacct.Policy { return &p.Source.TrustPolicy }},
		{"role policy", func(p *xacct.DataSyncPlan) *xacct.Policy { return &p.Source.RolePolicy }},
		{"bucket policy", func(p *xacct.DataSyncPlan) *xacct.Policy { return &p.Destination.BucketPolicy }},
	}
	probe, err := xacct.NewDataSyncPlan(spec(&dataSyncEnv{spec: dataSyncSpec()}))
	require.NoError(t, err)
	cases := 0
	for _, d := range docs {
		for _, st := range d.pick(probe).Statement {
			cases++
			t.Run(d.name+" without "+st.Sid, func(t *testing.T) {
				env := newDataSyncEnv(t)
				ctx := t.Context()
				// Something to delete, so the delete grant is exercised.
				_, err := env.ownerB.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("team-b-archive"), Key: aws.String("from-a/stale.csv"), Body: strings.NewReader("old")})
				require.NoError(t, err)
				plan, err := xacct.NewDataSyncPlan(spec(env))
				require.NoError(t, err)
				p := d.pick(plan)
				trimmed, changed := xacct.RemoveStatements(p, st.Sid)
				require.True(t, changed)
				*p = *trimmed
				if p == &plan.Source.TrustPolicy && len(p.Statement) == 0 {
					// IAM refuses a trust policy without statements; one
					// that admits another service does not admit DataSync.
					*p = xacct.NewPolicy(xacct.Statement{Effect: xacct.EffectAllow, Principal: xacct.ServicePrincipal("ec2.amazonaws.com"), Action: xacct.StringList{"sts:AssumeRole"}})
				}
				res, err := env.planner.Apply(ctx, plan)
				if err == nil {
					_, err = env.planner.Run(ctx, res.TaskARN)
				}
				require.Error(t, err)
				actions := slices.Clone([]string(st.Action))
				assert.True(t, slices.ContainsFunc(actions, func(a string) bool { return strings.Contains(err.Error(), a) }),
					"error %q names none of %v", err, actions)
				assert.True(t, errors.Is(err, xacct.ErrAccessDenied) || strings.Contains(err.Error(), "not authorized"), err.Error())
			})
		}
	}
	assert.Equal(t, 10, cases, "every statement of the setup is covered")
}

// Least privilege with a manifest and a task report: the plan is enough,
// and without the manifest or the report statement the run fails with
// AccessDenied naming the statement's action.
func TestDataSyncManifestAndReportStatementsAreNeeded(t *testing.T) {
	setup := func(t *testing.T) (*dataSyncEnv, *xacct.DataSyncPlan) {
		env := newDataSyncEnv(t)
		env.put(t, env.ownerA, "team-a-data", "manifests/list.csv", "a.csv\nsub/b.csv\n")
		plan, err := xacct.NewDataSyncPlan(dataSyncWithManifestAndReport(env.spec))
		require.NoError(t, err)
		return env, plan
	}
	t.Run("whole plan", func(t *testing.T) {
		env, plan := setup(t)
		res, err := env.planner.Apply(t.Context(), plan)
		require.NoError(t, err)
		run, err := env.planner.Run(t.Context(), res.TaskARN)
		require.NoError(t, err)
		assert.EqualValues(t, 2, run.FilesTransferred)
		assert.Len(t, reportKeys(t, env), 1)
	})
	for _, c := range []struct {
		sid, action, phase string
		reports            int // a failed run still has its report
	}{
		{"XacctDataSyncManifestRead", "s3:GetObject", "PREPARING", 1},
		{"XacctDataSyncReportWrite", "s3:PutObject", "TASK_REPORT", 0},
	} {
		t.Run("role policy without "+c.sid, func(t *testing.T) {
			env, plan := setup(t)
			trimmed, changed := xacct.RemoveStatements(&plan.Source.RolePolicy, c.sid)
			require.True(t, changed, "the plan has %s", c.sid)
			plan.Source.RolePolicy = *trimmed
			res, err := env.planner.Apply(t.Context(), plan)
			require.NoError(t, err)
			_, err = env.planner.Run(t.Context(), res.TaskARN)
			var ee *xacct.DataSyncExecutionError
			require.ErrorAs(t, err, &ee)
			assert.ErrorIs(t, err, xacct.ErrAccessDenied)
			assert.Equal(t, c.phase, ee.Phase)
			assert.Contains(t, ee.Detail, c.action)
			assert.Len(t, reportKeys(t, env), c.reports)
		})
	}
}
