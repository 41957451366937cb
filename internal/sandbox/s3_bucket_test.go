package sandbox_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

func TestBucketPolicyRoundTrip(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountB)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "dst"))
	bucket := aws.String("dst")

	_, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
	requireCode(t, err, "NoSuchBucketPolicy")
	requireStatus(t, err, 404)

	_, err = c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String("{nope")})
	requireCode(t, err, "MalformedPolicy")
	requireStatus(t, err, 400)

	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::dst/*"}]}`
	_, err = c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String(policy)})
	require.NoError(t, err)
	got, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
	require.NoError(t, err)
	assert.Equal(t, policy, aws.ToString(got.Policy))
	assert.Equal(t, policy, sb.BucketPolicy("dst"))

	// Another account may not touch the policy, whatever it says.
	_, err = sb.S3(sb.Root(sandbox.AccountA)).GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
	requireCode(t, err, "MethodNotAllowed")
	requireStatus(t, err, 405)

	_, err = c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: bucket})
	require.NoError(t, err)
	assert.Empty(t, sb.BucketPolicy("dst"))
	_, err = c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
	requireCode(t, err, "NoSuchBucketPolicy")

	_, err = c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("missing"), Policy: aws.String(policy)})
	requireCode(t, err, "NoSuchBucket")
}

func TestOwnershipControlsRoundTrip(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "bkt"))
	bucket := aws.String("bkt")

	assert.Equal(t, sandbox.OwnershipBucketOwnerEnforced, sb.Ownership("bkt"), "new buckets default to BucketOwnerEnforced")
	got, err := c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: bucket})
	require.NoError(t, err)
	require.Len(t, got.OwnershipControls.Rules, 1)
	assert.Equal(t, types.ObjectOwnershipBucketOwnerEnforced, got.OwnershipControls.Rules[0].ObjectOwnership)

	for _, o := range []types.ObjectOwnership{types.ObjectOwnershipBucketOwnerPreferred, types.ObjectOwnershipObjectWriter} {
		_, err = c.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: bucket, OwnershipControls: &types.OwnershipControls{
			Rules: []types.OwnershipControlsRule{{ObjectOwnership: o}}}})
		require.NoError(t, err)
		got, err = c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: bucket})
		require.NoError(t, err)
		assert.Equal(t, o, got.OwnershipControls.Rules[0].ObjectOwnership)
		assert.Equal(t, string(o), sb.Ownership("bkt"))
	}
	_, err = c.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: bucket, OwnershipControls: &types.OwnershipControls{
		Rules: []types.OwnershipControlsRule{{ObjectOwnership: "Whatever"}}}})
	requireCode(t, err, "MalformedXML")

	_, err = c.DeleteBucketOwnershipControls(ctx, &s3.DeleteBucketOwnershipControlsInput{Bucket: bucket})
	require.NoError(t, err)
	_, err = c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: bucket})
	requireCode(t, err, "OwnershipControlsNotFoundError")
	requireStatus(t, err, 404)

	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("writer"), ObjectOwnership: types.ObjectOwnershipObjectWriter})
	require.NoError(t, err)
	assert.Equal(t, sandbox.OwnershipObjectWriter, sb.Ownership("writer"))
}

func TestACLRefusedOnBucketOwnerEnforced(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "enforced"))
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("preferred"), ObjectOwnership: types.ObjectOwnershipBucketOwnerPreferred})
	require.NoError(t, err)
	require.NoError(t, put(ctx, c, "enforced", "k", "x"))

	putACL := func(bucket string, acl types.ObjectCannedACL) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("acl"), Body: strings.NewReader("x"), ACL: acl})
		return err
	}
	err = putACL("enforced", types.ObjectCannedACLPublicRead)
	requireCode(t, err, "AccessControlListNotSupported")
	requireStatus(t, err, 400)
	assert.ErrorContains(t, err, "The bucket does not allow ACLs")
	require.NoError(t, putACL("enforced", types.ObjectCannedACLBucketOwnerFullControl))
	require.NoError(t, putACL("preferred", types.ObjectCannedACLPublicRead))

	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("enforced"), Key: aws.String("c"), CopySource: aws.String("enforced/k"), ACL: types.ObjectCannedACLAuthenticatedRead})
	requireCode(t, err, "AccessControlListNotSupported")
	_, err = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("enforced"), Key: aws.String("m"), ACL: types.ObjectCannedACLPrivate})
	requireCode(t, err, "AccessControlListNotSupported")
	_, err = c.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("enforced"), Key: aws.String("k"), ACL: types.ObjectCannedACLPublicRead})
	requireCode(t, err, "AccessControlListNotSupported")
	_, err = c.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("enforced"), Key: aws.String("k"), GrantRead: aws.String("id=abc")})
	requireCode(t, err, "AccessControlListNotSupported")
	_, err = c.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("enforced"), Key: aws.String("k"), ACL: types.ObjectCannedACLBucketOwnerFullControl})
	require.NoError(t, err)
}

func TestBucketTaggingAndVersioning(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "bkt"))
	bucket := aws.String("bkt")

	_, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: bucket})
	requireCode(t, err, "NoSuchTagSet")
	_, err = c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: bucket, Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("env"), Value: aws.String("test")}}}})
	require.NoError(t, err)
	tags, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: bucket})
	require.NoError(t, err)
	require.Len(t, tags.TagSet, 1)
	assert.Equal(t, "env", aws.ToString(tags.TagSet[0].Key))
	_, err = c.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: bucket})
	require.NoError(t, err)
	_, err = c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: bucket})
	requireCode(t, err, "NoSuchTagSet")

	_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bucket, VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	require.NoError(t, err)
	v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: bucket})
	require.NoError(t, err)
	assert.Equal(t, types.BucketVersioningStatusEnabled, v.Status)
	require.NoError(t, put(ctx, c, "bkt", "k", "one"))
	require.NoError(t, put(ctx, c, "bkt", "k", "two"))
	versions, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: bucket})
	require.NoError(t, err)
	assert.Len(t, versions.Versions, 2)

	_, err = c.GetBucketAccelerateConfiguration(ctx, &s3.GetBucketAccelerateConfigurationInput{Bucket: bucket})
	requireCode(t, err, "NotImplemented")
	assert.Equal(t, 2, sb.Requests()["PutObject"])
}

// With the enforcing setup, a bucket policy AWS would refuse is refused
// with 400 MalformedPolicy naming the problem, and nothing is stored.
func TestInvalidBucketPolicyRefused(t *testing.T) {
	sb, err := enforce.Start()
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountB)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "dst"))
	for _, tc := range []struct{ name, doc, want string }{
		{"not JSON", `{nope`, "Policies must be valid JSON"},
		{"array", `[]`, "Policies must be valid JSON"},
		{"bad Effect", `{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::dst/*"}]}`, "Statement[0].Effect"},
		{"no Action", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Resource":"arn:aws:s3:::dst/*"}]}`, "Statement[0].Action"},
		{"unknown Version", `{"Version":"2020-01-01","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::dst/*"}]}`, "Version"},
		{"unknown element", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::dst/*","Colour":"red"}]}`, "Colour"},
		{"no statements", `{"Version":"2012-10-17","Statement":[]}`, "Statement"},
		{"no Principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::dst/*"}]}`, "Statement[0].Principal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("dst"), Policy: aws.String(tc.doc)})
			requireCode(t, err, "MalformedPolicy")
			requireStatus(t, err, 400)
			assert.ErrorContains(t, err, tc.want)
			assert.Empty(t, sb.BucketPolicy("dst"))
		})
	}
}

// The bucket owner's root user may always read, replace and delete the
// bucket policy, even one that denies every action to everyone; everyone
// else, the owner account's users included, stays locked out by it.
func TestBucketPolicyLockOutProtection(t *testing.T) {
	sb, err := enforce.Start()
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountB)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "locked"))
	admin, err := sb.AddUser(sandbox.AccountB, "admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	require.NoError(t, err)
	denyAll := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::locked","arn:aws:s3:::locked/*"]}]}`
	bucket := aws.String("locked")
	_, err = c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String(denyAll)})
	require.NoError(t, err)

	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket})
	requireCode(t, err, "AccessDenied")
	_, err = sb.S3(admin).GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
	requireCode(t, err, "AccessDenied")

	got, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
	require.NoError(t, err)
	assert.Equal(t, denyAll, aws.ToString(got.Policy))
	relaxed := strings.Replace(denyAll, `"s3:*"`, `"s3:DeleteBucket"`, 1)
	_, err = c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String(relaxed)})
	require.NoError(t, err)
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket})
	require.NoError(t, err, "the replaced policy no longer denies listing")
	_, err = c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String(denyAll)})
	require.NoError(t, err)
	_, err = c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: bucket})
	require.NoError(t, err)
	assert.Empty(t, sb.BucketPolicy("locked"))
}
