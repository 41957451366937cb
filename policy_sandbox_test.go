package xacct_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

const (
	copyExternalID = "ext-7c1d"
	// sourceTags are the tags of every source object.
	sourceTags = "team=a"
	// bigKey is the source object copied in parts.
	bigKey = "exports/big.bin"
)

// syncedKeys are the destination keys of the objects under the granted
// prefix; bigDest is the one copied in parts.
var syncedKeys = []string{"from-a/a.csv", "from-a/big.bin", "from-a/sub/b.csv"}

const bigDest = "from-a/big.bin"

// copySetup is the generated cross-account copy setup: data in account A,
// a copy role in account B that a user in account A assumes with an
// ExternalId, and the policies from the builders.
type copySetup struct {
	caller, trust, role, sourceBucket xacct.Policy
}

func generatedCopySetup(src, dst xacct.Location, callerARN, roleARN string) copySetup {
	return copySetup{
		caller:       xacct.CallerAssumeRolePolicy(roleARN),
		trust:        xacct.CopyRoleTrustPolicy(callerARN, copyExternalID),
		role:         xacct.CopyRolePolicy(src, dst),
		sourceBucket: xacct.SourceBucketPolicy(src, roleARN),
	}
}

func mustJSON(t *testing.T, p xacct.Policy) string {
	t.Helper()
	b, err := p.JSON()
	require.NoError(t, err)
	return string(b)
}

// runCrossAccountSync builds the setup in an enforcing sandbox, with edit
// applied to the generated documents first, and syncs through the role.
func runCrossAccountSync(t *testing.T, externalID string, edit func(*copySetup)) (*xacct.SyncReport, *s3.Client, error) {
	t.Helper()
	rep, ownerB, _, err := runCrossAccountSyncAt(t, xacct.Location{Bucket: "team-a-data", Prefix: "exports/"}, xacct.Location{Bucket: "team-b-archive", Prefix: "from-a/"}, externalID, edit)
	return rep, ownerB, err
}

// runCrossAccountSyncAt is runCrossAccountSync between the given
// locations; it also returns the client acting as the copy role.
func runCrossAccountSyncAt(t *testing.T, src, dst xacct.Location, externalID string, edit func(*copySetup)) (*xacct.SyncReport, *s3.Client, *s3.Client, error) {
	t.Helper()
	return runCrossAccountSyncSpec(t, crossAccountSpec{src: src, dst: dst, externalID: externalID, edit: edit})
}

// crossAccountSpec is one run of the generated cross-account copy setup.
type crossAccountSpec struct {
	src, dst   xacct.Location
	externalID string
	edit       func(*copySetup)
	// ownership, when set, is put on the destination bucket before the
	// sync; the sandbox creates buckets BucketOwnerEnforced.
	ownership types.ObjectOwnership
	// opts are given to the Copier after the harness's own.
	opts []xacct.CopierOption
}

// runCrossAccountSyncSpec is runCrossAccountSyncAt with the destination
// bucket's ownership and Copier options of spec.
func runCrossAccountSyncSpec(t *testing.T, spec crossAccountSpec) (*xacct.SyncReport, *s3.Client, *s3.Client, error) {
	t.Helper()
	ctx := t.Context()
	src, dst, externalID, edit := spec.src, spec.dst, spec.externalID, spec.edit
	sb, err := enforce.Start()
	require.NoError(t, err)
	t.Cleanup(sb.Close)

	rootA, rootB := sb.Root(sandbox.AccountA), sb.Root(sandbox.AccountB)
	require.NoError(t, sb.CreateBucket(ctx, rootA, src.Bucket))
	require.NoError(t, sb.CreateBucket(ctx, rootB, dst.Bucket))
	if spec.ownership != "" {
		_, err := sb.S3(rootB).PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String(dst.Bucket),
			OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: spec.ownership}}}})
		require.NoError(t, err)
	}
	for _, k := range []string{"exports/a.csv", "exports/sub/b.csv", "exports-old/c.csv", "private/secret.txt"} {
		_, err := sb.S3(rootA).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(src.Bucket), Key: aws.String(k), Body: strings.NewReader("body of " + k),
			Tagging: aws.String(sourceTags)})
		require.NoError(t, err)
	}
	// One object above the multipart threshold, so the sync takes both
	// server-side paths: CopyObject and CreateMultipartUpload +
	// UploadPartCopy.
	_, err = sb.S3(rootA).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(src.Bucket), Key: aws.String(bigKey),
		Body: bytes.NewReader(make([]byte, 6*mib)), Tagging: aws.String(sourceTags)})
	require.NoError(t, err)

	roleARN := "arn:aws:iam::" + sandbox.AccountB + ":role/xacct-copy"
	callerARN := "arn:aws:iam::" + sandbox.AccountA + ":user/operator"
	setup := generatedCopySetup(src, dst, callerARN, roleARN)
	if edit != nil {
		edit(&setup)
	}
	var callerPolicies []string
	if len(setup.caller.Statement) > 0 {
		callerPolicies = append(callerPolicies, mustJSON(t, setup.caller))
	}
	caller, err := sb.AddUser(sandbox.AccountA, "operator", callerPolicies...)
	require.NoError(t, err)
	require.Equal(t, callerARN, caller.ARN)
	inline := map[string]string{}
	if len(setup.role.Statement) > 0 {
		inline["xacct-copy"] = mustJSON(t, setup.role)
	}
	trust := setup.trust
	if len(trust.Statement) == 0 {
		// IAM refuses a trust policy without statements; a role that
		// trusts only its own account admits no one from account A.
		trust = xacct.CopyRoleTrustPolicy(sandbox.AccountB, "")
	}
	got, err := sb.CreateRole(sandbox.AccountB, "xacct-copy", mustJSON(t, trust), inline)
	require.NoError(t, err)
	require.Equal(t, roleARN, got)
	if len(setup.sourceBucket.Statement) > 0 {
		_, err = sb.S3(rootA).PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(src.Bucket), Policy: aws.String(mustJSON(t, setup.sourceBucket))})
		require.NoError(t, err)
	}

	cfg := sb.Config(caller)
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.ExternalID = aws.String(externalID)
	}))
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	c, err := xacct.NewCopier(client, append([]xacct.CopierOption{xacct.WithMultipartThreshold(5 * mib), xacct.WithPartSize(5 * mib)}, spec.opts...)...)
	require.NoError(t, err)
	rep, err := c.Sync(ctx, src, dst)
	return rep, sb.S3(rootB), client, err
}

func TestGeneratedCopyPoliciesAreEnough(t *testing.T) {
	rep, ownerB, err := runCrossAccountSync(t, copyExternalID, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 3, rep.Copied)
	assert.Zero(t, rep.Warned, "%v", rep.Warnings)
	assert.Equal(t, syncedKeys, destinationKeys(t, ownerB), "only the granted prefix is copied")
	for _, k := range syncedKeys {
		assert.Equal(t, map[string]string{"team": "a"}, destinationTags(t, ownerB, k), "tags of %s are copied", k)
	}
}

func destinationKeys(t *testing.T, ownerB *s3.Client) []string {
	t.Helper()
	var keys []string
	for obj, err := range xacct.List(t.Context(), ownerB, xacct.MustParseLocation("s3://team-b-archive")) {
		require.NoError(t, err)
		keys = append(keys, obj.Key)
	}
	return keys
}

// A prefix without a trailing "/" is a folder for Sync, and the generated
// policies grant that folder and nothing beside it: exports-old/ shares
// the prefix "exports" but is neither copied nor readable by the role.
func TestGeneratedCopyPoliciesScopeToTheFolder(t *testing.T) {
	src := xacct.Location{Bucket: "team-a-data", Prefix: "exports"}
	dst := xacct.Location{Bucket: "team-b-archive", Prefix: "from-a"}
	rep, ownerB, role, err := runCrossAccountSyncAt(t, src, dst, copyExternalID, nil)
	require.NoError(t, err)
	assert.EqualValues(t, len(syncedKeys), rep.Copied)
	var keys []string
	for obj, err := range xacct.List(t.Context(), ownerB, xacct.MustParseLocation("s3://team-b-archive")) {
		require.NoError(t, err)
		keys = append(keys, obj.Key)
	}
	assert.Equal(t, syncedKeys, keys)

	_, err = role.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(src.Bucket), Key: aws.String("exports-old/c.csv")})
	var apiErr smithy.APIError
	require.True(t, errors.As(err, &apiErr), "want AccessDenied, got %v", err)
	assert.Equal(t, "AccessDenied", apiErr.ErrorCode())
	_, err = role.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(dst.Bucket), Key: aws.String("from-ab/x.csv"), Body: strings.NewReader("x")})
	require.True(t, errors.As(err, &apiErr), "want AccessDenied, got %v", err)
	assert.Equal(t, "AccessDenied", apiErr.ErrorCode())
}

func destinationTags(t *testing.T, ownerB *s3.Client, key string) map[string]string {
	t.Helper()
	out, err := ownerB.GetObjectTagging(t.Context(), &s3.GetObjectTaggingInput{Bucket: aws.String("team-b-archive"), Key: aws.String(key)})
	require.NoError(t, err)
	tags := map[string]string{}
	for _, tag := range out.TagSet {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	return tags
}

// withoutAction removes action from the statement sid of p, and the
// statement itself when nothing else is left in it.
func withoutAction(t *testing.T, p *xacct.Policy, sid, action string) {
	t.Helper()
	for i, st := range p.Statement {
		if st.Sid != sid {
			continue
		}
		if len(st.Action) == 1 {
			require.Equal(t, action, st.Action[0])
			trimmed, changed := xacct.RemoveStatements(p, sid)
			require.True(t, changed)
			*p = *trimmed
			return
		}
		kept := slices.DeleteFunc(slices.Clone(st.Action), func(a string) bool { return a == action })
		require.Len(t, kept, len(st.Action)-1, "%s grants %s once", sid, action)
		p.Statement = slices.Clone(p.Statement)
		p.Statement[i].Action = kept
		return
	}
	t.Fatalf("no statement %s", sid)
}

// Each action the setup grants is needed: without it, in any one
// statement, the same sync either fails with AccessDenied naming the
// action, or, for the tagging actions, copies every object and reports
// those whose tags it could not copy, as WithCopyProps documents.
func TestEveryGeneratedActionIsNeeded(t *testing.T) {
	type target struct {
		doc  string
		pick func(*copySetup) *xacct.Policy
	}
	docs := []target{
		{"caller identity policy", func(s *copySetup) *xacct.Policy { return &s.caller }},
		{"role trust policy", func(s *copySetup) *xacct.Policy { return &s.trust }},
		{"role permission policy", func(s *copySetup) *xacct.Policy { return &s.role }},
		{"source bucket policy", func(s *copySetup) *xacct.Policy { return &s.sourceBucket }},
	}
	src := xacct.Location{Bucket: "team-a-data", Prefix: "exports/"}
	dst := xacct.Location{Bucket: "team-b-archive", Prefix: "from-a/"}
	full := generatedCopySetup(src, dst, "caller", "role")
	statements, actions := 0, 0
	for _, d := range docs {
		for _, st := range d.pick(&full).Statement {
			statements++
			for _, action := range st.Action {
				actions++
				t.Run(d.doc+" "+st.Sid+" without "+action, func(t *testing.T) {
					rep, ownerB, err := runCrossAccountSync(t, copyExternalID, func(s *copySetup) {
						withoutAction(t, d.pick(s), st.Sid, action)
					})
					switch action {
					case "s3:GetObjectTagging":
						// The tags cannot be read: CopyObject (directive
						// COPY) is refused and retried without them, the
						// multipart copy starts without them.
						require.NoError(t, err)
						assertTagsNotCopied(t, rep, ownerB, action, syncedKeys...)
					case "s3:PutObjectTagging":
						// CopyObject with the COPY directive does not set
						// x-amz-tagging; the multipart copy does, is
						// refused and is retried without.
						require.NoError(t, err)
						assertTagsNotCopied(t, rep, ownerB, action, bigDest)
					default:
						require.Error(t, err)
						var apiErr smithy.APIError
						require.True(t, errors.As(err, &apiErr), "want an AWS error, got %v", err)
						assert.Equal(t, "AccessDenied", apiErr.ErrorCode())
						assert.Contains(t, err.Error(), "perform: "+action+" ")
					}
				})
			}
		}
	}
	assert.Equal(t, 8, statements, "every statement of the setup is covered")
	assert.Equal(t, 13, actions, "every action of the setup is covered")
}

// assertTagsNotCopied checks a sync that copied every object, the objects
// copied to keys without their tags and with a WarningTagsNotCopied
// naming the refused action, the others with their tags.
func assertTagsNotCopied(t *testing.T, rep *xacct.SyncReport, ownerB *s3.Client, action string, keys ...string) {
	t.Helper()
	require.NotNil(t, rep)
	assert.EqualValues(t, 3, rep.Copied)
	assert.Equal(t, syncedKeys, destinationKeys(t, ownerB))
	warned := map[string]bool{}
	for _, w := range rep.Warnings {
		assert.Equal(t, xacct.WarningTagsNotCopied, w.Kind)
		assert.ErrorContains(t, w.Err, "perform: "+action+" ")
		warned["from-a/"+strings.TrimPrefix(w.Key, "exports/")] = true
	}
	assert.EqualValues(t, len(keys), rep.Warned)
	for _, k := range syncedKeys {
		if slices.Contains(keys, k) {
			assert.True(t, warned[k], "%s is reported", k)
			assert.Empty(t, destinationTags(t, ownerB, k), "%s has no tags", k)
		} else {
			assert.False(t, warned[k], "%s is not reported", k)
			assert.Equal(t, map[string]string{"team": "a"}, destinationTags(t, ownerB, k), "%s keeps its tags", k)
		}
	}
}

func TestWrongExternalIDRefused(t *testing.T) {
	rep, _, err := runCrossAccountSync(t, "not-the-id", nil)
	require.Error(t, err)
	var apiErr smithy.APIError
	require.True(t, errors.As(err, &apiErr), fmt.Sprint(err))
	assert.Equal(t, "AccessDenied", apiErr.ErrorCode())
	assert.Contains(t, err.Error(), "sts:AssumeRole")
	if rep != nil {
		assert.Zero(t, rep.Copied)
	}
}

// A streamed sync whose writer may not tag objects copies every object
// without its tags through each write path — the buffered PutObject, the
// streamed PutObject and the multipart upload — each retried without
// x-amz-tagging after the refusal, and reports every one.
func TestStreamWithoutPutObjectTaggingDegrades(t *testing.T) {
	x := newTwoIdentities(t)
	ctx := t.Context()
	sizes := map[string]int{"small.bin": 1 << 10, "mid.bin": 6 * miB, "big.bin": 9 * miB}
	for key, size := range sizes {
		_, err := x.ownerA.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(x.src.Bucket), Key: aws.String(key),
			Body: bytes.NewReader(make([]byte, size)), Tagging: aws.String(sourceTags)})
		require.NoError(t, err)
	}
	policy := xacct.DestinationWritePolicy(x.dst)
	withoutAction(t, &policy, "XacctDestinationWrite", "s3:PutObjectTagging")
	writer, err := x.sb.AddUser(sandbox.AccountB, "tagless-writer", mustJSON(t, policy))
	require.NoError(t, err)
	// 1 KiB is buffered, 6 MiB streamed in one PutObject below the 8 MiB
	// cutoff, 9 MiB uploaded in parts.
	c, err := xacct.NewCopierFromConfigs(x.sb.Config(x.reader), x.sb.Config(writer),
		xacct.WithPartSize(5*miB), xacct.WithMultipartThreshold(5*miB), xacct.WithStreamUploadCutoff(8*miB),
		xacct.WithSourceAccount(sandbox.AccountA), xacct.WithDestinationAccount(sandbox.AccountB))
	require.NoError(t, err)
	rep, err := c.Sync(ctx, x.src, x.dst)
	require.NoError(t, err)
	assert.Equal(t, xacct.ModeStream, rep.Mode)
	assert.EqualValues(t, 3, rep.Copied)
	assert.EqualValues(t, 3, rep.Warned)
	warned := map[string]bool{}
	for _, w := range rep.Warnings {
		assert.Equal(t, xacct.WarningTagsNotCopied, w.Kind)
		assert.ErrorContains(t, w.Err, "perform: s3:PutObjectTagging ")
		warned[w.Key] = true
	}
	for key, size := range sizes {
		assert.True(t, warned[key], "%s is reported", key)
		h := x.head(t, x.ownerB, x.dst.Bucket, "copy/"+key)
		assert.EqualValues(t, size, aws.ToInt64(h.ContentLength))
		assert.Empty(t, tagsOf(t, x.ownerB, x.dst.Bucket, "copy/"+key), "%s has no tags", key)
	}
}

// withGrantOptions regenerates the role's permissions and the source
// bucket policy of the setup with opts.
func withGrantOptions(src, dst xacct.Location, opts ...xacct.PolicyOption) func(*copySetup) {
	return func(s *copySetup) {
		s.role = xacct.CopyRolePolicy(src, dst, opts...)
		s.sourceBucket = xacct.SourceBucketPolicy(src, "arn:aws:iam::"+sandbox.AccountB+":role/xacct-copy", opts...)
	}
}

var (
	leastSource      = xacct.Location{Bucket: "team-a-data", Prefix: "exports/"}
	leastDestination = xacct.Location{Bucket: "team-b-archive", Prefix: "from-a/"}
)

// A Copier that copies no tags needs no tagging action: with the
// WithoutTagAccess setup, a cross-account sync with
// CopyPropsMetadataDirective copies everything, metadata but no tags,
// without a warning, through CopyObject and the multipart copy alike.
func TestWithoutTagAccessIsEnoughWithoutTags(t *testing.T) {
	edit := withGrantOptions(leastSource, leastDestination, xacct.WithoutTagAccess())
	probe := copySetup{}
	edit(&probe)
	for _, st := range slices.Concat(probe.role.Statement, probe.sourceBucket.Statement) {
		assert.NotContains(t, st.Action, "s3:GetObjectTagging", st.Sid)
		assert.NotContains(t, st.Action, "s3:PutObjectTagging", st.Sid)
	}
	rep, ownerB, _, err := runCrossAccountSyncSpec(t, crossAccountSpec{src: leastSource, dst: leastDestination, externalID: copyExternalID, edit: edit,
		opts: []xacct.CopierOption{xacct.WithCopyProps(xacct.CopyPropsMetadataDirective)}})
	require.NoError(t, err)
	assert.EqualValues(t, 3, rep.Copied)
	assert.Zero(t, rep.Warned, "%v", rep.Warnings)
	require.NotNil(t, rep.Preflight)
	assert.Empty(t, rep.Preflight.Warnings)
	assert.Equal(t, syncedKeys, destinationKeys(t, ownerB))
	for _, k := range syncedKeys {
		assert.Empty(t, destinationTags(t, ownerB, k), "%s has no tags", k)
	}
}

// WithoutTagAccess is safe only for a Copier that copies no tags: with
// the default CopyProps the same setup copies every object without its
// tags and reports each one.
func TestWithoutTagAccessCostsTheTags(t *testing.T) {
	rep, ownerB, _, err := runCrossAccountSyncSpec(t, crossAccountSpec{src: leastSource, dst: leastDestination, externalID: copyExternalID,
		edit: withGrantOptions(leastSource, leastDestination, xacct.WithoutTagAccess())})
	require.NoError(t, err)
	assertTagsNotCopied(t, rep, ownerB, "s3:GetObjectTagging", syncedKeys...)
}

// With WithoutACLAccess the role may read the destination's ownership
// instead of setting ACLs: into a BucketOwnerEnforced bucket the Copier
// then sends no ACL, the sync succeeds, and the bucket owner owns and
// reads the copies.
func TestWithoutACLAccessIntoEnforcedBucket(t *testing.T) {
	rep, ownerB, _, err := runCrossAccountSyncSpec(t, crossAccountSpec{src: leastSource, dst: leastDestination, externalID: copyExternalID,
		edit: withGrantOptions(leastSource, leastDestination, xacct.WithoutACLAccess()), ownership: types.ObjectOwnershipBucketOwnerEnforced})
	require.NoError(t, err)
	assert.EqualValues(t, 3, rep.Copied)
	assert.Zero(t, rep.Warned, "%v", rep.Warnings)
	require.NotNil(t, rep.Preflight)
	assert.Empty(t, rep.Preflight.ACL, "no ACL is sent")
	for _, k := range syncedKeys {
		assert.Equal(t, map[string]string{"team": "a"}, destinationTags(t, ownerB, k), "tags of %s are copied", k)
		out, err := ownerB.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(leastDestination.Bucket), Key: aws.String(k)})
		require.NoError(t, err, k)
		require.NoError(t, out.Body.Close())
	}
}

// WithoutACLAccess is not free: into a bucket with ACLs enabled the
// Copier sends bucket-owner-full-control, which the role may no longer
// set, and the sync stops with AccessDenied naming s3:PutObjectAcl.
func TestWithoutACLAccessRefusedByACLBucket(t *testing.T) {
	rep, ownerB, _, err := runCrossAccountSyncSpec(t, crossAccountSpec{src: leastSource, dst: leastDestination, externalID: copyExternalID,
		edit: withGrantOptions(leastSource, leastDestination, xacct.WithoutACLAccess()), ownership: types.ObjectOwnershipObjectWriter})
	require.Error(t, err)
	require.ErrorIs(t, err, xacct.ErrAccessDenied)
	var apiErr smithy.APIError
	require.True(t, errors.As(err, &apiErr), "want an AWS error, got %v", err)
	assert.Equal(t, "AccessDenied", apiErr.ErrorCode())
	assert.Contains(t, err.Error(), "perform: s3:PutObjectAcl ")
	if rep != nil {
		assert.Zero(t, rep.Copied)
	}
	assert.Empty(t, destinationKeys(t, ownerB))
}

// Across accounts the other way round — a user of account A writes into
// account B's bucket, granted by B's bucket policy — WithoutACLAccess
// works into a BucketOwnerEnforced bucket: the user reads the ownership
// through the bucket policy, sends no ACL, and B owns the copies. Into an
// ObjectWriter bucket the same grants are refused on s3:PutObjectAcl.
func TestWithoutACLAccessFromTheOtherAccount(t *testing.T) {
	for _, tt := range []struct {
		ownership types.ObjectOwnership
		ok        bool
	}{
		{types.ObjectOwnershipBucketOwnerEnforced, true},
		{types.ObjectOwnershipObjectWriter, false},
	} {
		t.Run(string(tt.ownership), func(t *testing.T) {
			ctx := t.Context()
			sb, err := enforce.Start()
			require.NoError(t, err)
			t.Cleanup(sb.Close)
			rootA, rootB := sb.Root(sandbox.AccountA), sb.Root(sandbox.AccountB)
			ownerA, ownerB := sb.S3(rootA), sb.S3(rootB)
			require.NoError(t, sb.CreateBucket(ctx, rootA, leastSource.Bucket))
			require.NoError(t, sb.CreateBucket(ctx, rootB, leastDestination.Bucket))
			_, err = ownerB.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String(leastDestination.Bucket),
				OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: tt.ownership}}}})
			require.NoError(t, err)
			_, err = ownerA.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(leastSource.Bucket), Key: aws.String("exports/a.csv"), Body: strings.NewReader("a")})
			require.NoError(t, err)

			userARN := "arn:aws:iam::" + sandbox.AccountA + ":user/copier"
			user, err := sb.AddUser(sandbox.AccountA, "copier", mustJSON(t, xacct.CopyRolePolicy(leastSource, leastDestination, xacct.WithoutACLAccess())))
			require.NoError(t, err)
			require.Equal(t, userARN, user.ARN)
			_, err = ownerB.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(leastDestination.Bucket),
				Policy: aws.String(mustJSON(t, xacct.DestinationBucketPolicy(leastDestination, userARN, xacct.WithoutACLAccess())))})
			require.NoError(t, err)

			c, err := xacct.NewCopier(s3.NewFromConfig(sb.Config(user), func(o *s3.Options) { o.UsePathStyle = true }))
			require.NoError(t, err)
			rep, err := c.Sync(ctx, leastSource, leastDestination)
			if !tt.ok {
				require.ErrorIs(t, err, xacct.ErrAccessDenied)
				var apiErr smithy.APIError
				require.True(t, errors.As(err, &apiErr), "want an AWS error, got %v", err)
				assert.Equal(t, "AccessDenied", apiErr.ErrorCode())
				assert.Contains(t, err.Error(), "perform: s3:PutObjectAcl ")
				assert.Empty(t, destinationKeys(t, ownerB))
				return
			}
			require.NoError(t, err)
			assert.EqualValues(t, 1, rep.Copied)
			acl, err := ownerB.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(leastDestination.Bucket), Key: aws.String("from-a/a.csv")})
			require.NoError(t, err)
			assert.Equal(t, sb.CanonicalID(sandbox.AccountB), aws.ToString(acl.Owner.ID), "the bucket owner owns the copy")
			out, err := ownerB.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(leastDestination.Bucket), Key: aws.String("from-a/a.csv")})
			require.NoError(t, err)
			require.NoError(t, out.Body.Close())
		})
	}
}
