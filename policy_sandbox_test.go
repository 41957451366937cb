package xacct_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

const copyExternalID = "ext-7c1d"

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
	ctx := t.Context()
	sb, err := enforce.Start()
	require.NoError(t, err)
	t.Cleanup(sb.Close)

	rootA, rootB := sb.Root(sandbox.AccountA), sb.Root(sandbox.AccountB)
	require.NoError(t, sb.CreateBucket(ctx, rootA, src.Bucket))
	require.NoError(t, sb.CreateBucket(ctx, rootB, dst.Bucket))
	for _, k := range []string{"exports/a.csv", "exports/sub/b.csv", "exports-old/c.csv", "private/secret.txt"} {
		_, err := sb.S3(rootA).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(src.Bucket), Key: aws.String(k), Body: strings.NewReader("body of " + k)})
		require.NoError(t, err)
	}

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
	got, err := sb.CreateRole(sandbox.AccountB, "xacct-copy", mustJSON(t, setup.trust), inline)
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
	c, err := xacct.NewCopier(client)
	require.NoError(t, err)
	rep, err := c.Sync(ctx, src, dst)
	return rep, sb.S3(rootB), client, err
}

func TestGeneratedCopyPoliciesAreEnough(t *testing.T) {
	rep, ownerB, err := runCrossAccountSync(t, copyExternalID, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 2, rep.Copied)
	var keys []string
	for obj, err := range xacct.List(t.Context(), ownerB, xacct.MustParseLocation("s3://team-b-archive")) {
		require.NoError(t, err)
		keys = append(keys, obj.Key)
	}
	assert.Equal(t, []string{"from-a/a.csv", "from-a/sub/b.csv"}, keys, "only the granted prefix is copied")
}

// A prefix without a trailing "/" is a folder for Sync, and the generated
// policies grant that folder and nothing beside it: exports-old/ shares
// the prefix "exports" but is neither copied nor readable by the role.
func TestGeneratedCopyPoliciesScopeToTheFolder(t *testing.T) {
	src := xacct.Location{Bucket: "team-a-data", Prefix: "exports"}
	dst := xacct.Location{Bucket: "team-b-archive", Prefix: "from-a"}
	rep, ownerB, role, err := runCrossAccountSyncAt(t, src, dst, copyExternalID, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 2, rep.Copied)
	var keys []string
	for obj, err := range xacct.List(t.Context(), ownerB, xacct.MustParseLocation("s3://team-b-archive")) {
		require.NoError(t, err)
		keys = append(keys, obj.Key)
	}
	assert.Equal(t, []string{"from-a/a.csv", "from-a/sub/b.csv"}, keys)

	_, err = role.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(src.Bucket), Key: aws.String("exports-old/c.csv")})
	var apiErr smithy.APIError
	require.True(t, errors.As(err, &apiErr), "want AccessDenied, got %v", err)
	assert.Equal(t, "AccessDenied", apiErr.ErrorCode())
	_, err = role.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(dst.Bucket), Key: aws.String("from-ab/x.csv"), Body: strings.NewReader("x")})
	require.True(t, errors.As(err, &apiErr), "want AccessDenied, got %v", err)
	assert.Equal(t, "AccessDenied", apiErr.ErrorCode())
}

// Each generated statement is needed: without it the same sync fails with
// AccessDenied for the action it grants.
func TestEveryGeneratedStatementIsNeeded(t *testing.T) {
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
	cases := 0
	for _, d := range docs {
		for _, st := range d.pick(&full).Statement {
			cases++
			t.Run(d.doc+" without "+st.Sid, func(t *testing.T) {
				_, _, err := runCrossAccountSync(t, copyExternalID, func(s *copySetup) {
					p := d.pick(s)
					trimmed, changed := xacct.RemoveStatements(p, st.Sid)
					require.True(t, changed)
					*p = *trimmed
				})
				require.Error(t, err)
				var apiErr smithy.APIError
				require.True(t, errors.As(err, &apiErr), "want an AWS error, got %v", err)
				assert.Equal(t, "AccessDenied", apiErr.ErrorCode())
				for _, action := range st.Action {
					if action == "s3:GetObjectTagging" || action == "s3:PutObjectAcl" || action == "s3:PutObjectTagging" || action == "s3:AbortMultipartUpload" {
						continue // used by later features of the same statement
					}
					assert.Contains(t, err.Error(), action)
				}
			})
		}
	}
	assert.Equal(t, 8, cases, "every statement of the setup is covered")
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
