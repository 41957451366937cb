package xacct_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	controltypes "github.com/aws/aws-sdk-go-v2/service/s3control/types"
	smithy "github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

// replEnv is a replication setup in an enforcing sandbox: buckets in
// accounts A and B, clients acting as each account's root.
type replEnv struct {
	sb           *sandbox.Sandbox
	c            *xacct.ReplicationConfigurator
	spec         xacct.ReplicationSpec
	srcS3, dstS3 *s3.Client
	iamA         *iam.Client
	clients      xacct.ReplicationClients
}

// newReplEnv creates the buckets (the destination with ACLs enabled, so
// that replica ownership shows) and, for Object Lock specs, versioning and
// Object Lock on both, as AWS needs them before the lock.
func newReplEnv(t *testing.T, spec xacct.ReplicationSpec) *replEnv {
	t.Helper()
	ctx := t.Context()
	sb, err := enforce.Start()
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	rootA, rootB := sb.Root(sandbox.AccountA), sb.Root(sandbox.AccountB)
	e := &replEnv{sb: sb, spec: spec, srcS3: sb.S3(rootA), dstS3: sb.S3(rootB), iamA: sb.IAM(rootA)}
	require.NoError(t, sb.CreateBucket(ctx, rootA, spec.Source.Bucket))
	_, err = e.dstS3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(spec.Destination.Bucket), ObjectOwnership: types.ObjectOwnershipObjectWriter})
	require.NoError(t, err)
	if spec.Source.ObjectLock {
		for _, side := range []struct {
			client *s3.Client
			bucket string
		}{{e.srcS3, spec.Source.Bucket}, {e.dstS3, spec.Destination.Bucket}} {
			_, err := side.client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(side.bucket), VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
			require.NoError(t, err)
			_, err = side.client.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: aws.String(side.bucket), ObjectLockConfiguration: &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled}})
			require.NoError(t, err)
		}
	}
	e.c, err = xacct.NewReplicationConfigurator(spec, xacct.WithBackfillPollInterval(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	e.clients = xacct.ReplicationClients{SourceS3: e.srcS3, SourceIAM: e.iamA, DestinationS3: e.dstS3}
	return e
}

// applyAll applies the plan, and the key-policy steps the way the key's
// administrators would.
func (e *replEnv) applyAll(t *testing.T) *xacct.ReplicationApplyReport {
	t.Helper()
	rep, err := e.c.Apply(t.Context(), e.clients)
	require.NoError(t, err)
	for _, st := range e.c.Plan().Destination.Steps {
		if st.Kind == xacct.StepKeyPolicy {
			e.sb.PutKeyPolicy(st.Resource, st.Policy.String())
		}
	}
	return rep
}

func (e *replEnv) put(t *testing.T, key, body string, edit func(*s3.PutObjectInput)) string {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: aws.String(e.spec.Source.Bucket), Key: aws.String(key), Body: strings.NewReader(body)}
	if edit != nil {
		edit(in)
	}
	out, err := e.srcS3.PutObject(t.Context(), in)
	require.NoError(t, err)
	return aws.ToString(out.VersionId)
}

func (e *replEnv) wait(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, e.sb.WaitReplication(ctx))
}

func TestReplicationEndToEnd(t *testing.T) {
	spec := baseReplicationSpec()
	spec.Rules = []xacct.ReplicationRule{
		{ID: "logs", Priority: 2, Filter: xacct.PrefixFilter("logs/"), DeleteMarkers: true, StorageClass: types.StorageClassStandardIa, OwnerOverride: true},
		{ID: "gold", Priority: 1, Filter: xacct.TagFilter("class", "gold")},
	}
	e := newReplEnv(t, spec)
	ctx := t.Context()
	rep := e.applyAll(t)
	assert.Equal(t, 6, rep.Changed(), "every step but the missing key policy changes something")

	e.put(t, "logs/a.log", "log line", func(in *s3.PutObjectInput) { in.Tagging = aws.String("team=a") })
	e.put(t, "data/gold.csv", "gold", func(in *s3.PutObjectInput) { in.Tagging = aws.String("class=gold") })
	e.put(t, "data/plain.csv", "plain", nil)
	e.wait(t)

	st, err := e.c.Status(ctx, e.srcS3, xacct.StatusQuery{})
	require.NoError(t, err)
	assert.Equal(t, map[xacct.ReplicationState]int{xacct.ReplicationCompleted: 2, xacct.ReplicationNone: 1}, st.Counts)
	assert.Equal(t, "COMPLETED=2 NONE=1", st.String())

	head, err := e.dstS3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(spec.Destination.Bucket), Key: aws.String("logs/a.log")})
	require.NoError(t, err)
	assert.Equal(t, types.ReplicationStatusReplica, head.ReplicationStatus)
	assert.Equal(t, types.StorageClassStandardIa, head.StorageClass)
	tags, err := e.dstS3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(spec.Destination.Bucket), Key: aws.String("logs/a.log")})
	require.NoError(t, err)
	require.Len(t, tags.TagSet, 1)
	assert.Equal(t, "team", aws.ToString(tags.TagSet[0].Key))

	list, err := e.dstS3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(spec.Destination.Bucket), FetchOwner: aws.Bool(true)})
	require.NoError(t, err)
	owners := map[string]string{}
	for _, o := range list.Contents {
		owners[aws.ToString(o.Key)] = aws.ToString(o.Owner.ID)
	}
	assert.Equal(t, map[string]string{
		"logs/a.log":    sandbox.CanonicalID(sandbox.AccountB), // owner override
		"data/gold.csv": sandbox.CanonicalID(sandbox.AccountA),
	}, owners)

	body, err := e.dstS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(spec.Destination.Bucket), Key: aws.String("logs/a.log")})
	require.NoError(t, err)
	b, _ := io.ReadAll(body.Body)
	_ = body.Body.Close()
	assert.Equal(t, "log line", string(b))
	// Without owner override the replica stays account A's, which an
	// ACL-enabled destination does not let account B read.
	_, err = e.dstS3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(spec.Destination.Bucket), Key: aws.String("data/gold.csv")})
	assert.ErrorContains(t, err, "owned by account 111111111111")

	// Delete markers: replicated by the logs rule only.
	for _, k := range []string{"logs/a.log", "data/gold.csv"} {
		_, err = e.srcS3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(spec.Source.Bucket), Key: aws.String(k)})
		require.NoError(t, err)
	}
	e.wait(t)
	list, err = e.dstS3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(spec.Destination.Bucket)})
	require.NoError(t, err)
	require.Len(t, list.Contents, 1, "the delete marker of logs/a.log was replicated")
	assert.Equal(t, "data/gold.csv", aws.ToString(list.Contents[0].Key), "tag rules do not replicate delete markers")
}

func TestReplicationApplyTwiceIsNoOpAndKeepsBucketPolicy(t *testing.T) {
	e := newReplEnv(t, baseReplicationSpec())
	ctx := t.Context()
	keep := xacct.NewPolicy(xacct.Statement{
		Sid: "AuditorsRead", Effect: xacct.EffectAllow, Principal: xacct.AWSPrincipal("333333333333"),
		Action: xacct.StringList{"s3:GetObject"}, Resource: xacct.StringList{"arn:aws:s3:::team-b-replica/*"},
	})
	_, err := e.dstS3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("team-b-replica"), Policy: aws.String(keep.String())})
	require.NoError(t, err)

	first := e.applyAll(t)
	assert.Equal(t, 6, first.Changed())
	second := e.applyAll(t)
	assert.Zero(t, second.Changed(), "%+v", second.Results)
	requests := e.sb.Requests()
	for op, n := range map[string]int{"CreateRole": 1, "PutRolePolicy": 1, "PutBucketPolicy": 2, "PutBucketReplication": 1, "PutBucketVersioning": 2} {
		assert.Equal(t, n, requests[op], op)
	}

	got, err := e.dstS3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("team-b-replica")})
	require.NoError(t, err)
	p, err := xacct.ParsePolicy([]byte(aws.ToString(got.Policy)))
	require.NoError(t, err)
	var sids []string
	for _, s := range p.Statement {
		sids = append(sids, s.Sid)
	}
	assert.Equal(t, []string{"AuditorsRead", "XacctReplicationDestinationWrite"}, sids)

	drift, err := e.c.Diff(ctx, e.clients)
	require.NoError(t, err)
	assert.Empty(t, drift)
}

func TestReplicationStatusPendingThenCompleted(t *testing.T) {
	e := newReplEnv(t, baseReplicationSpec())
	ctx := t.Context()
	e.applyAll(t)
	release := e.sb.HoldReplication()
	e.put(t, "a.txt", "a", nil)
	e.put(t, "b.txt", "b", nil)
	st, err := e.c.Status(ctx, e.srcS3, xacct.StatusQuery{Keys: []string{"a.txt", "b.txt"}})
	require.NoError(t, err)
	assert.Equal(t, 2, st.Counts[xacct.ReplicationPending])
	assert.False(t, st.Done())
	_, err = e.c.WaitReplicated(ctx, e.srcS3, xacct.StatusQuery{Keys: []string{"a.txt"}}, 150*time.Millisecond)
	assert.ErrorIs(t, err, xacct.ErrReplicationPending)

	release()
	st, err = e.c.WaitReplicated(ctx, e.srcS3, xacct.StatusQuery{Prefix: ""}, 10*time.Second)
	require.NoError(t, err)
	assert.Equal(t, map[xacct.ReplicationState]int{xacct.ReplicationCompleted: 2}, st.Counts)
}

func TestNormalizeReplicationStatus(t *testing.T) {
	for in, want := range map[types.ReplicationStatus]xacct.ReplicationState{
		"": xacct.ReplicationNone, "COMPLETE": xacct.ReplicationCompleted, "COMPLETED": xacct.ReplicationCompleted,
		"PENDING": xacct.ReplicationPending, "FAILED": xacct.ReplicationFailed, "REPLICA": xacct.ReplicationReplica,
	} {
		assert.Equal(t, want, xacct.NormalizeReplicationStatus(in), string(in))
	}
}

func TestReplicationBackfillExistingObjects(t *testing.T) {
	spec := baseReplicationSpec()
	spec.Backfill = true
	e := newReplEnv(t, spec)
	ctx := t.Context()
	_, err := e.srcS3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(spec.Source.Bucket), VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	require.NoError(t, err)
	for _, k := range []string{"old/1", "old/2", "old/3"} {
		e.put(t, k, "existing "+k, nil)
	}
	e.applyAll(t)
	e.put(t, "new/1", "new", nil)
	e.wait(t)
	st, err := e.c.Status(ctx, e.srcS3, xacct.StatusQuery{})
	require.NoError(t, err)
	assert.Equal(t, map[xacct.ReplicationState]int{xacct.ReplicationNone: 3, xacct.ReplicationCompleted: 1}, st.Counts)

	control := e.sb.S3Control(e.sb.Root(sandbox.AccountA))
	id, err := e.c.Backfill(ctx, control, "backfill-1")
	require.NoError(t, err)
	job, err := e.c.WaitBackfill(ctx, control, id, 10*time.Second)
	require.NoError(t, err)
	assert.EqualValues(t, 3, job.Total)
	assert.EqualValues(t, 3, job.Succeeded)
	st, err = e.c.Status(ctx, e.srcS3, xacct.StatusQuery{})
	require.NoError(t, err)
	assert.Equal(t, map[xacct.ReplicationState]int{xacct.ReplicationCompleted: 4}, st.Counts)

	again, err := e.c.Backfill(ctx, control, "backfill-1")
	require.NoError(t, err)
	assert.Equal(t, id, again, "the same token returns the same job")

	noBackfill, err := xacct.NewReplicationConfigurator(baseReplicationSpec())
	require.NoError(t, err)
	_, err = noBackfill.Backfill(ctx, control, "")
	assert.ErrorIs(t, err, xacct.ErrInvalidReplication)
}

// lpScenario runs everything the full spec uses: an SSE-KMS object with
// tags, a delete marker, and a backfill of an object written before the
// configuration. It returns what failed.
func lpScenario(t *testing.T, edit func(e *replEnv)) []string {
	t.Helper()
	spec := fullReplicationSpec()
	e := newReplEnv(t, spec)
	ctx := t.Context()
	e.put(t, "old.txt", "before the configuration", nil)
	e.applyAll(t)
	if edit != nil {
		edit(e)
	}
	var failed []string
	e.put(t, "secret.bin", "sealed", func(in *s3.PutObjectInput) {
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(sourceKey)
		in.Tagging = aws.String("k=v")
	})
	e.put(t, "gone.txt", "to be deleted", nil)
	e.wait(t)
	_, err := e.srcS3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(spec.Source.Bucket), Key: aws.String("gone.txt")})
	require.NoError(t, err)
	e.wait(t)
	for _, k := range []string{"secret.bin", "gone.txt"} {
		if s := e.sb.ReplicationStatus(spec.Source.Bucket, k, ""); k == "secret.bin" && s != sandbox.ReplicationCompleted {
			failed = append(failed, k+": "+s+": "+e.sb.ReplicationFailure(spec.Source.Bucket, k, ""))
		}
	}
	if _, err := e.dstS3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(spec.Destination.Bucket), Key: aws.String("gone.txt")}); err == nil {
		failed = append(failed, "delete marker not replicated")
	}
	if got, err := e.dstS3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(spec.Destination.Bucket), Key: aws.String("secret.bin")}); err == nil {
		assert.Equal(t, replicaKey, aws.ToString(got.SSEKMSKeyId), "the replica is encrypted with the replica key")
	}
	control := e.sb.S3Control(e.sb.Root(sandbox.AccountA))
	id, err := e.c.Backfill(ctx, control, "")
	require.NoError(t, err)
	job, err := e.c.WaitBackfill(ctx, control, id, 10*time.Second)
	switch {
	case err != nil:
		failed = append(failed, "backfill: "+err.Error())
	case job.Failed > 0 || job.Succeeded != 1:
		failed = append(failed, "backfill tasks failed: "+strings.Join(job.FailureReasons, "; "))
	}
	return failed
}

func TestReplicationGeneratedPoliciesAreEnough(t *testing.T) {
	assert.Empty(t, lpScenario(t, nil))
}

// Least privilege: without any one generated statement, something the
// spec asks for fails in the enforcing sandbox.
func TestReplicationEveryGeneratedStatementIsNeeded(t *testing.T) {
	spec := fullReplicationSpec()
	type doc struct {
		name   string
		policy xacct.Policy
		put    func(t *testing.T, e *replEnv, p xacct.Policy)
	}
	docs := []doc{
		{"trust", xacct.ReplicationRoleTrustPolicy(spec), func(t *testing.T, e *replEnv, p xacct.Policy) {
			_, err := e.iamA.UpdateAssumeRolePolicy(t.Context(), &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(spec.RoleName), PolicyDocument: aws.String(p.String())})
			require.NoError(t, err)
		}},
		{"permissions", xacct.ReplicationRolePolicy(spec), func(t *testing.T, e *replEnv, p xacct.Policy) {
			_, err := e.iamA.PutRolePolicy(t.Context(), &iam.PutRolePolicyInput{RoleName: aws.String(spec.RoleName), PolicyName: aws.String(xacct.ReplicationRolePolicyName), PolicyDocument: aws.String(p.String())})
			require.NoError(t, err)
		}},
		{"destination bucket policy", xacct.ReplicationDestinationBucketPolicy(spec), func(t *testing.T, e *replEnv, p xacct.Policy) {
			if len(p.Statement) == 0 {
				_, err := e.dstS3.DeleteBucketPolicy(t.Context(), &s3.DeleteBucketPolicyInput{Bucket: aws.String(spec.Destination.Bucket)})
				require.NoError(t, err)
				return
			}
			_, err := e.dstS3.PutBucketPolicy(t.Context(), &s3.PutBucketPolicyInput{Bucket: aws.String(spec.Destination.Bucket), Policy: aws.String(p.String())})
			require.NoError(t, err)
		}},
		{"replica key policy", xacct.ReplicationReplicaKeyPolicy(spec), func(_ *testing.T, e *replEnv, p xacct.Policy) {
			doc := ""
			if len(p.Statement) > 0 {
				doc = p.String()
			}
			e.sb.PutKeyPolicy(replicaKey, doc)
		}},
	}
	cases := 0
	for _, d := range docs {
		for _, st := range d.policy.Statement {
			cases++
			t.Run(d.name+" without "+st.Sid, func(t *testing.T) {
				failed := lpScenario(t, func(e *replEnv) {
					trimmed, changed := xacct.RemoveStatements(&d.policy, st.Sid)
					require.True(t, changed)
					d.put(t, e, *trimmed)
				})
				assert.NotEmpty(t, failed, "removing %s changed nothing", st.Sid)
				t.Log(failed)
			})
		}
	}
	assert.Equal(t, 12, cases)
}

func TestReplicationObjectLockNeedsLockedDestination(t *testing.T) {
	spec := baseReplicationSpec()
	spec.Source.ObjectLock, spec.Destination.ObjectLock = true, true
	e := newReplEnv(t, spec)
	e.applyAll(t)
	perm := xacct.ReplicationRolePolicy(spec)
	assert.Equal(t, "XacctReplicationSourceObjectLock", perm.Statement[2].Sid)
	e.put(t, "locked.txt", "kept", nil)
	e.wait(t)
	assert.Equal(t, sandbox.ReplicationCompleted, e.sb.ReplicationStatus(spec.Source.Bucket, "locked.txt", ""))

	// A locked source with an unlocked destination: S3 fails the
	// replication (Validate refuses such a spec; here the source is locked
	// behind the configurator's back).
	e2 := newReplEnv(t, baseReplicationSpec())
	e2.applyAll(t)
	_, err := e2.srcS3.PutObjectLockConfiguration(t.Context(), &s3.PutObjectLockConfigurationInput{Bucket: aws.String("team-a-data"),
		ObjectLockConfiguration: &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled}})
	require.NoError(t, err)
	e2.put(t, "locked.txt", "kept", nil)
	e2.wait(t)
	assert.Equal(t, sandbox.ReplicationFailed, e2.sb.ReplicationStatus("team-a-data", "locked.txt", ""))
	assert.Contains(t, e2.sb.ReplicationFailure("team-a-data", "locked.txt", ""), "does not")
}

func TestReplicationDiffNormalisesV1AndV2(t *testing.T) {
	e := newReplEnv(t, baseReplicationSpec())
	ctx := t.Context()
	e.applyAll(t)
	role := aws.String(e.spec.RoleARN())
	dst := &types.Destination{Bucket: aws.String("arn:aws:s3:::team-b-replica"), Account: aws.String(replB)}
	put := func(rule types.ReplicationRule) {
		_, err := e.srcS3.PutBucketReplication(ctx, &s3.PutBucketReplicationInput{Bucket: aws.String("team-a-data"),
			ReplicationConfiguration: &types.ReplicationConfiguration{Role: role, Rules: []types.ReplicationRule{rule}}})
		require.NoError(t, err)
	}
	// An And filter holding only a prefix means the same as the prefix.
	put(types.ReplicationRule{ID: aws.String("all"), Priority: aws.Int32(1), Status: types.ReplicationRuleStatusEnabled, Destination: dst,
		Filter:                  &types.ReplicationRuleFilter{And: &types.ReplicationRuleAndOperator{Prefix: aws.String("")}},
		DeleteMarkerReplication: &types.DeleteMarkerReplication{Status: types.DeleteMarkerReplicationStatusDisabled}})
	drift, err := e.c.Diff(ctx, e.clients)
	require.NoError(t, err)
	assert.Empty(t, drift)

	// A V1 rule has no priority and replicates delete markers.
	//lint:ignore SA1019 the test writes a V1 rule on purpose
	put(types.ReplicationRule{ID: aws.String("all"), Prefix: aws.String(""), Status: types.ReplicationRuleStatusEnabled, Destination: dst})
	drift, err = e.c.Diff(ctx, e.clients)
	require.NoError(t, err)
	var fields []string
	for _, d := range drift {
		fields = append(fields, d.Field)
	}
	assert.Equal(t, []string{"Rules[all].DeleteMarkerReplication", "Rules[all].Priority"}, fields)

	// Apply puts it right, and removes a stray permission.
	_, err = e.iamA.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("xacct-replication"), PolicyName: aws.String(xacct.ReplicationRolePolicyName),
		PolicyDocument: aws.String(xacct.NewPolicy(xacct.Statement{Sid: "Extra", Effect: xacct.EffectAllow, Action: xacct.StringList{"s3:GetObject"}, Resource: xacct.StringList{"arn:aws:s3:::x/*"}}).String())})
	require.NoError(t, err)
	drift, err = e.c.Diff(ctx, e.clients)
	require.NoError(t, err)
	assert.Len(t, drift, 2+4, "%v", drift)
	rep := e.applyAll(t)
	assert.Equal(t, 2, rep.Changed())
	drift, err = e.c.Diff(ctx, e.clients)
	require.NoError(t, err)
	assert.Empty(t, drift)
}

func TestReplicationOfCopiesAndMultipartUploads(t *testing.T) {
	e := newReplEnv(t, baseReplicationSpec())
	ctx := t.Context()
	e.applyAll(t)
	src := aws.String(e.spec.Source.Bucket)
	e.put(t, "orig.txt", "original", nil)
	_, err := e.srcS3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: src, Key: aws.String("copy.txt"), CopySource: aws.String(e.spec.Source.Bucket + "/orig.txt")})
	require.NoError(t, err)
	up, err := e.srcS3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: src, Key: aws.String("big.bin")})
	require.NoError(t, err)
	part, err := e.srcS3.UploadPart(ctx, &s3.UploadPartInput{Bucket: src, Key: aws.String("big.bin"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("only part")})
	require.NoError(t, err)
	_, err = e.srcS3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: src, Key: aws.String("big.bin"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}}})
	require.NoError(t, err)
	st, err := e.c.WaitReplicated(ctx, e.srcS3, xacct.StatusQuery{}, 10*time.Second)
	require.NoError(t, err)
	assert.Equal(t, map[xacct.ReplicationState]int{xacct.ReplicationCompleted: 3}, st.Counts)
	list, err := e.dstS3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(e.spec.Destination.Bucket)})
	require.NoError(t, err)
	etags := map[string]string{}
	for _, o := range list.Contents {
		etags[aws.ToString(o.Key)] = aws.ToString(o.ETag)
	}
	require.Len(t, etags, 3)
	assert.True(t, strings.HasSuffix(etags["big.bin"], `-1"`), "the replica keeps the multipart ETag: %s", etags["big.bin"])
}

func TestReplicationApplyWithoutDestinationClient(t *testing.T) {
	e := newReplEnv(t, baseReplicationSpec())
	_, err := e.dstS3.PutBucketVersioning(t.Context(), &s3.PutBucketVersioningInput{Bucket: aws.String(e.spec.Destination.Bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	require.NoError(t, err)
	rep, err := e.c.Apply(t.Context(), xacct.ReplicationClients{SourceS3: e.srcS3, SourceIAM: e.iamA})
	require.NoError(t, err)
	var skipped []xacct.ReplicationStepKind
	for _, r := range rep.Results {
		if r.Skipped {
			skipped = append(skipped, r.Step.Kind)
		}
	}
	assert.Equal(t, []xacct.ReplicationStepKind{xacct.StepVersioning, xacct.StepBucketPolicy}, skipped)
	assert.Equal(t, 4, rep.Changed())
	e.put(t, "x.txt", "x", nil)
	e.wait(t)
	assert.Equal(t, sandbox.ReplicationFailed, e.sb.ReplicationStatus(e.spec.Source.Bucket, "x.txt", ""), "without account B's bucket policy")
	assert.Contains(t, e.sb.ReplicationFailure(e.spec.Source.Bucket, "x.txt", ""), "s3:ReplicateObject")
}

// A live rule with settings the spec does not ask for (an owner override,
// a replica key) has drifted: Diff reports each, Apply rewrites the
// configuration, and a second Apply changes nothing.
func TestReplicationDiffFindsExtraLiveSettings(t *testing.T) {
	e := newReplEnv(t, baseReplicationSpec())
	ctx := t.Context()
	e.applyAll(t)
	cfg := e.c.ReplicationConfiguration()
	cfg.Rules[0].Destination.AccessControlTranslation = &types.AccessControlTranslation{Owner: types.OwnerOverrideDestination}
	cfg.Rules[0].Destination.EncryptionConfiguration = &types.EncryptionConfiguration{ReplicaKmsKeyID: aws.String(replicaKey)}
	_, err := e.srcS3.PutBucketReplication(ctx, &s3.PutBucketReplicationInput{Bucket: aws.String(e.spec.Source.Bucket), ReplicationConfiguration: cfg})
	require.NoError(t, err)

	drift, err := e.c.Diff(ctx, e.clients)
	require.NoError(t, err)
	var got []string
	for _, d := range drift {
		got = append(got, d.Field+"="+d.Got)
	}
	assert.Equal(t, []string{"Rules[all].Destination.Owner=Destination", "Rules[all].Destination.ReplicaKmsKeyID=" + replicaKey}, got)

	rep := e.applyAll(t)
	assert.Equal(t, 1, rep.Changed(), "%+v", rep.Results)
	live, err := e.srcS3.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String(e.spec.Source.Bucket)})
	require.NoError(t, err)
	assert.Nil(t, live.ReplicationConfiguration.Rules[0].Destination.AccessControlTranslation)
	assert.Nil(t, live.ReplicationConfiguration.Rules[0].Destination.EncryptionConfiguration)
	drift, err = e.c.Diff(ctx, e.clients)
	require.NoError(t, err)
	assert.Empty(t, drift)
	assert.Zero(t, e.applyAll(t).Changed())
}

// The sandbox's S3 assumes the replication role without aws:SourceAccount
// or aws:SourceArn, which AWS does not document it sending: a trust
// policy that requires them fails every object, as it may in AWS.
func TestReplicationTrustConditionedOnSourceFails(t *testing.T) {
	e := newReplEnv(t, baseReplicationSpec())
	e.applyAll(t)
	conditioned := xacct.NewPolicy(xacct.Statement{
		Sid: "Conditioned", Effect: xacct.EffectAllow, Principal: xacct.ServicePrincipal(xacct.ServiceS3), Action: xacct.StringList{"sts:AssumeRole"},
		Condition: xacct.Conditions{"StringEquals": {"aws:SourceAccount": {replA}}},
	})
	_, err := e.iamA.UpdateAssumeRolePolicy(t.Context(), &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(e.spec.RoleName), PolicyDocument: aws.String(conditioned.String())})
	require.NoError(t, err)
	e.put(t, "x.txt", "x", nil)
	e.wait(t)
	assert.Equal(t, sandbox.ReplicationFailed, e.sb.ReplicationStatus(e.spec.Source.Bucket, "x.txt", ""))
	assert.Contains(t, e.sb.ReplicationFailure(e.spec.Source.Bucket, "x.txt", ""), "sts:AssumeRole")

	drift, err := e.c.Diff(t.Context(), e.clients)
	require.NoError(t, err)
	assert.Len(t, drift, 2, "the conditioned statement is stray, the generated one missing: %v", drift)
	e.applyAll(t)
	e.put(t, "y.txt", "y", nil)
	e.wait(t)
	assert.Equal(t, sandbox.ReplicationCompleted, e.sb.ReplicationStatus(e.spec.Source.Bucket, "y.txt", ""))
}

// versions returns the keys of the bucket's delete markers and of its
// current objects.
func (e *replEnv) versions(t *testing.T, client *s3.Client, bucket string) (markers, current []string) {
	t.Helper()
	out, err := client.ListObjectVersions(t.Context(), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	for _, m := range out.DeleteMarkers {
		markers = append(markers, aws.ToString(m.Key))
	}
	list, err := client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	for _, o := range list.Contents {
		current = append(current, aws.ToString(o.Key))
	}
	return markers, current
}

// DeleteObjects creates delete markers as DeleteObject does, and S3
// replicates them under a rule with delete marker replication; entries
// naming a version are not replicated.
func TestReplicationOfBatchDeletes(t *testing.T) {
	spec := baseReplicationSpec()
	spec.Rules[0].DeleteMarkers = true
	e := newReplEnv(t, spec)
	ctx := t.Context()
	e.applyAll(t)
	e.put(t, "a.txt", "a", nil)
	e.put(t, "b.txt", "b", nil)
	cVersion := e.put(t, "c.txt", "c", nil)
	e.wait(t)

	out, err := e.srcS3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(spec.Source.Bucket), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("a.txt")}, {Key: aws.String("b.txt")}, {Key: aws.String("c.txt"), VersionId: aws.String(cVersion)},
	}}})
	require.NoError(t, err)
	require.Empty(t, out.Errors)
	e.wait(t)
	markers, current := e.versions(t, e.dstS3, spec.Destination.Bucket)
	assert.ElementsMatch(t, []string{"a.txt", "b.txt"}, markers, "one replicated delete marker per deleted key")
	assert.Equal(t, []string{"c.txt"}, current, "deleting a version is not replicated")
}

// A DELETE naming a version, such as one removing a delete marker, is
// never replicated: the destination keeps its delete marker.
func TestReplicationIgnoresVersionedDeletes(t *testing.T) {
	spec := baseReplicationSpec()
	spec.Rules[0].DeleteMarkers = true
	e := newReplEnv(t, spec)
	ctx := t.Context()
	e.applyAll(t)
	e.put(t, "a.txt", "a", nil)
	e.put(t, "b.txt", "b", nil)
	e.wait(t)
	markerOf := map[string]string{}
	for _, k := range []string{"a.txt", "b.txt"} {
		del, err := e.srcS3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(spec.Source.Bucket), Key: aws.String(k)})
		require.NoError(t, err)
		require.True(t, aws.ToBool(del.DeleteMarker))
		markerOf[k] = aws.ToString(del.VersionId)
	}
	e.wait(t)
	markers, current := e.versions(t, e.dstS3, spec.Destination.Bucket)
	require.ElementsMatch(t, []string{"a.txt", "b.txt"}, markers)
	require.Empty(t, current)

	// Undelete a.txt with DeleteObject and b.txt with DeleteObjects.
	_, err := e.srcS3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(spec.Source.Bucket), Key: aws.String("a.txt"), VersionId: aws.String(markerOf["a.txt"])})
	require.NoError(t, err)
	_, err = e.srcS3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(spec.Source.Bucket), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("b.txt"), VersionId: aws.String(markerOf["b.txt"])},
	}}})
	require.NoError(t, err)
	e.wait(t)
	// (The source is not listed: gofakes3 does not make the previous
	// version current when the current one is deleted.)
	markers, current = e.versions(t, e.dstS3, spec.Destination.Bucket)
	assert.ElementsMatch(t, []string{"a.txt", "b.txt"}, markers, "no new delete marker at the destination")
	assert.Empty(t, current, "S3 does not replicate the removal of a delete marker")
}

// Backfill without a token derives it from the spec, so running the same
// backfill again returns the job already started instead of a new one.
func TestReplicationBackfillIsIdempotentPerSpec(t *testing.T) {
	spec := baseReplicationSpec()
	spec.Backfill = true
	e := newReplEnv(t, spec)
	ctx := t.Context()
	_, err := e.srcS3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(spec.Source.Bucket), VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	require.NoError(t, err)
	e.put(t, "old/1", "existing", nil)
	e.applyAll(t)
	control := e.sb.S3Control(e.sb.Root(sandbox.AccountA))
	first, err := e.c.Backfill(ctx, control, "")
	require.NoError(t, err)
	job, err := e.c.WaitBackfill(ctx, control, first, 10*time.Second)
	require.NoError(t, err)
	assert.EqualValues(t, 1, job.Succeeded)
	e.put(t, "old/2", "written after", nil) // replicated live, not by a job
	again, err := e.c.Backfill(ctx, control, "")
	require.NoError(t, err)
	assert.Equal(t, first, again, "the same spec returns the same job")
	assert.Equal(t, 2, e.sb.Requests()["CreateJob"])

	// Another token, such as a retry's, starts another job.
	retry, err := e.c.Backfill(ctx, control, "retry-1")
	require.NoError(t, err)
	assert.NotEqual(t, first, retry)
	_, err = e.c.Backfill(ctx, control, strings.Repeat("t", 65))
	var ve *xacct.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "token", ve.Field)
}

func TestReplicationBackfillToken(t *testing.T) {
	spec := baseReplicationSpec()
	spec.Backfill = true
	c, err := xacct.NewReplicationConfigurator(spec)
	require.NoError(t, err)
	tok := c.BackfillToken()
	assert.Regexp(t, `^xacct-[0-9a-f]{40}$`, tok)
	assert.Equal(t, tok, c.BackfillToken(controltypes.ReplicationStatusFailed, controltypes.ReplicationStatusNone), "the default statuses, in any order")
	assert.NotEqual(t, tok, c.BackfillToken(controltypes.ReplicationStatusFailed))

	same, err := xacct.NewReplicationConfigurator(spec)
	require.NoError(t, err)
	assert.Equal(t, tok, same.BackfillToken(), "the same spec gives the same token")
	spec.Rules[0].Filter = xacct.PrefixFilter("logs/")
	other, err := xacct.NewReplicationConfigurator(spec)
	require.NoError(t, err)
	assert.NotEqual(t, tok, other.BackfillToken(), "another configuration gives another token")
}

// The sandbox refuses the configurations S3 refuses, with S3's error
// code.
func TestReplicationSandboxRefusesInvalidConfigurations(t *testing.T) {
	e := newReplEnv(t, baseReplicationSpec())
	ctx := t.Context()
	e.applyAll(t)
	dst := func() *types.Destination {
		return &types.Destination{Bucket: aws.String("arn:aws:s3:::team-b-replica"), Account: aws.String(replB)}
	}
	rule := func(id string, priority int32, filter *types.ReplicationRuleFilter, deleteMarkers types.DeleteMarkerReplicationStatus) types.ReplicationRule {
		return types.ReplicationRule{ID: aws.String(id), Priority: aws.Int32(priority), Status: types.ReplicationRuleStatusEnabled, Destination: dst(), Filter: filter,
			DeleteMarkerReplication: &types.DeleteMarkerReplication{Status: deleteMarkers}}
	}
	prefix := func(p string) *types.ReplicationRuleFilter {
		return &types.ReplicationRuleFilter{Prefix: aws.String(p)}
	}
	off, on := types.DeleteMarkerReplicationStatusDisabled, types.DeleteMarkerReplicationStatusEnabled
	noAccount := rule("a", 1, prefix(""), off)
	noAccount.Destination.Account = nil
	noAccount.Destination.AccessControlTranslation = &types.AccessControlTranslation{Owner: types.OwnerOverrideDestination}
	rtc := rule("a", 1, prefix(""), off)
	rtc.Destination.ReplicationTime = &types.ReplicationTime{Status: types.ReplicationTimeStatusEnabled, Time: &types.ReplicationTimeValue{Minutes: aws.Int32(15)}}
	for name, tc := range map[string]struct {
		rules []types.ReplicationRule
		msg   string
	}{
		"duplicate priority":         {[]types.ReplicationRule{rule("a", 1, prefix("a/"), off), rule("b", 1, prefix("b/"), off)}, "same priority 1"},
		"delete markers with a tag":  {[]types.ReplicationRule{rule("a", 1, &types.ReplicationRuleFilter{Tag: &types.Tag{Key: aws.String("k"), Value: aws.String("v")}}, on)}, "tag filter"},
		"delete markers with tags":   {[]types.ReplicationRule{rule("a", 1, &types.ReplicationRuleFilter{And: &types.ReplicationRuleAndOperator{Prefix: aws.String("p/"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}, on)}, "tag filter"},
		"owner override, no account": {[]types.ReplicationRule{noAccount}, "needs the destination Account"},
		"RTC without metrics":        {[]types.ReplicationRule{rtc}, "needs Metrics"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.srcS3.PutBucketReplication(ctx, &s3.PutBucketReplicationInput{Bucket: aws.String("team-a-data"),
				ReplicationConfiguration: &types.ReplicationConfiguration{Role: aws.String(e.spec.RoleARN()), Rules: tc.rules}})
			var api smithy.APIError
			require.ErrorAs(t, err, &api)
			assert.Equal(t, "InvalidRequest", api.ErrorCode())
			assert.Contains(t, api.ErrorMessage(), tc.msg)
		})
	}
	// The configuration the spec generates is still in place.
	drift, err := e.c.Diff(ctx, e.clients)
	require.NoError(t, err)
	assert.Empty(t, drift)

	// A tag filter without delete markers and RTC with metrics are taken.
	withMetrics := rule("a", 1, prefix(""), off)
	withMetrics.Destination.ReplicationTime = rtc.Destination.ReplicationTime
	withMetrics.Destination.Metrics = &types.Metrics{Status: types.MetricsStatusEnabled, EventThreshold: &types.ReplicationTimeValue{Minutes: aws.Int32(15)}}
	_, err = e.srcS3.PutBucketReplication(ctx, &s3.PutBucketReplicationInput{Bucket: aws.String("team-a-data"),
		ReplicationConfiguration: &types.ReplicationConfiguration{Role: aws.String(e.spec.RoleARN()), Rules: []types.ReplicationRule{
			withMetrics, rule("b", 2, &types.ReplicationRuleFilter{Tag: &types.Tag{Key: aws.String("k"), Value: aws.String("v")}}, off),
		}}})
	require.NoError(t, err)
}
