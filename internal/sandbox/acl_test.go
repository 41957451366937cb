package sandbox_test

import (
	"encoding/hex"
	"io"
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

func createBucket(t *testing.T, sb *sandbox.Sandbox, p sandbox.Principal, name string, ownership types.ObjectOwnership) {
	t.Helper()
	_, err := sb.S3(p).CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(name), ObjectOwnership: ownership})
	require.NoError(t, err)
}

func get(t *testing.T, c *s3.Client, bucket, key string) (string, error) {
	t.Helper()
	out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return "", err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return string(b), err
}

type grantView struct{ id, uri, perm string }

func aclOf(grants []types.Grant) []grantView {
	out := make([]grantView, len(grants))
	for i, g := range grants {
		out[i] = grantView{aws.ToString(g.Grantee.ID), aws.ToString(g.Grantee.URI), string(g.Permission)}
	}
	return out
}

func TestCanonicalIDs(t *testing.T) {
	sb := start(t)
	a, b := sb.CanonicalID(sandbox.AccountA), sb.CanonicalID(sandbox.AccountB)
	require.Len(t, a, 64)
	_, err := hex.DecodeString(a)
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
	assert.Equal(t, a, sandbox.CanonicalID(sandbox.AccountA), "stable across sandboxes")

	out, err := sb.S3(sb.Root(sandbox.AccountB)).ListBuckets(t.Context(), &s3.ListBucketsInput{})
	require.NoError(t, err)
	assert.Equal(t, b, aws.ToString(out.Owner.ID))
}

// TestOwnershipTrap is the classic cross-account copy mistake: without
// bucket-owner-full-control an object written by account A into B's
// ObjectWriter bucket belongs to A and B cannot read it. Policies here
// allow everything; the denial is S3 ownership alone.
func TestOwnershipTrap(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	rootA, rootB := sb.Root(sandbox.AccountA), sb.Root(sandbox.AccountB)
	a, b := sb.S3(rootA), sb.S3(rootB)
	createBucket(t, sb, rootA, "src", "")
	require.NoError(t, put(ctx, a, "src", "k", "payload"))
	createBucket(t, sb, rootB, "writer", types.ObjectOwnershipObjectWriter)
	createBucket(t, sb, rootB, "preferred", types.ObjectOwnershipBucketOwnerPreferred)
	createBucket(t, sb, rootB, "enforced", types.ObjectOwnershipBucketOwnerEnforced)
	userB, err := sb.AddUser(sandbox.AccountB, "reader", readS3)
	require.NoError(t, err)
	record(sb, nil)

	for _, tc := range []struct {
		bucket   string
		acl      types.ObjectCannedACL
		owner    string
		readable bool
	}{
		{"writer", "", sandbox.AccountA, false},
		{"writer", types.ObjectCannedACLBucketOwnerFullControl, sandbox.AccountA, true},
		{"writer", types.ObjectCannedACLBucketOwnerRead, sandbox.AccountA, true},
		{"preferred", "", sandbox.AccountA, false},
		{"preferred", types.ObjectCannedACLBucketOwnerFullControl, sandbox.AccountB, true},
		{"enforced", "", sandbox.AccountB, true},
		{"enforced", types.ObjectCannedACLBucketOwnerFullControl, sandbox.AccountB, true},
	} {
		t.Run(tc.bucket+"/"+string(tc.acl), func(t *testing.T) {
			key := "copy-" + string(tc.acl)
			_, err := a.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(tc.bucket), Key: aws.String(key), CopySource: aws.String("src/k"), ACL: tc.acl})
			require.NoError(t, err)

			acl, err := a.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(tc.bucket), Key: aws.String(key)})
			require.NoError(t, err)
			assert.Equal(t, sb.CanonicalID(tc.owner), aws.ToString(acl.Owner.ID))
			list, err := b.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(tc.bucket), Prefix: aws.String(key), FetchOwner: aws.Bool(true)})
			require.NoError(t, err)
			require.Len(t, list.Contents, 1)
			assert.Equal(t, sb.CanonicalID(tc.owner), aws.ToString(list.Contents[0].Owner.ID))

			for _, reader := range []sandbox.Principal{rootB, userB} {
				body, err := get(t, sb.S3(reader), tc.bucket, key)
				_, headErr := sb.S3(reader).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(tc.bucket), Key: aws.String(key)})
				if tc.readable {
					require.NoError(t, err)
					assert.Equal(t, "payload", body)
					require.NoError(t, headErr)
				} else {
					requireCode(t, err, "AccessDenied")
					requireStatus(t, headErr, 403)
				}
			}
			// The writer can always read what it owns.
			body, err := get(t, a, tc.bucket, key)
			require.NoError(t, err)
			assert.Equal(t, "payload", body)
		})
	}

	t.Run("fixed by PutObjectAcl", func(t *testing.T) {
		_, err := a.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("writer"), Key: aws.String("late"), Body: strings.NewReader("x")})
		require.NoError(t, err)
		_, err = get(t, b, "writer", "late")
		requireCode(t, err, "AccessDenied")
		_, err = a.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("writer"), Key: aws.String("late"), ACL: types.ObjectCannedACLBucketOwnerFullControl})
		require.NoError(t, err)
		_, err = get(t, b, "writer", "late")
		require.NoError(t, err)
	})

	t.Run("multipart upload and copy source", func(t *testing.T) {
		mp, err := a.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("writer"), Key: aws.String("mp")})
		require.NoError(t, err)
		part, err := a.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("writer"), Key: aws.String("mp"), UploadId: mp.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("abc")})
		require.NoError(t, err)
		_, err = a.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("writer"), Key: aws.String("mp"), UploadId: mp.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}})
		require.NoError(t, err)
		_, err = get(t, b, "writer", "mp")
		requireCode(t, err, "AccessDenied")
		// B cannot copy it out either: reading the source is refused.
		_, err = b.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("writer"), Key: aws.String("mine"), CopySource: aws.String("writer/mp")})
		requireCode(t, err, "AccessDenied")
	})
}

// crossAccountStub denies every cross-account request, as the evaluator
// would without a bucket policy, so only ACL grants can let one through.
func crossAccountStub(r *sandbox.AccessRequest) string {
	if r.ResourceAccount != "" && r.ResourceAccount != r.PrincipalAccount {
		return "no resource-based policy allows the " + r.Action + " action"
	}
	return ""
}

func TestACLGrantAllowsCrossAccountRead(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	rootA, rootB := sb.Root(sandbox.AccountA), sb.Root(sandbox.AccountB)
	a, b := sb.S3(rootA), sb.S3(rootB)
	createBucket(t, sb, rootA, "shared", types.ObjectOwnershipObjectWriter)
	require.NoError(t, put(ctx, a, "shared", "private", "p"))
	_, err := a.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("shared"), Key: aws.String("public"), Body: strings.NewReader("q"), ACL: types.ObjectCannedACLPublicRead})
	require.NoError(t, err)
	_, err = a.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("shared"), Key: aws.String("granted"), Body: strings.NewReader("r"),
		GrantRead: aws.String(`id="` + sb.CanonicalID(sandbox.AccountB) + `"`)})
	require.NoError(t, err)
	record(sb, crossAccountStub)

	_, err = get(t, b, "shared", "private")
	requireCode(t, err, "AccessDenied")
	body, err := get(t, b, "shared", "public")
	require.NoError(t, err)
	assert.Equal(t, "q", body)
	body, err = get(t, b, "shared", "granted")
	require.NoError(t, err)
	assert.Equal(t, "r", body)
	_, err = b.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("shared")})
	requireCode(t, err, "AccessDenied")
	_, err = a.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("shared"), GrantRead: aws.String(`id="` + sb.CanonicalID(sandbox.AccountB) + `"`)})
	require.NoError(t, err)
	_, err = b.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("shared")})
	require.NoError(t, err)
}

func TestACLRoundTrip(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	rootA := sb.Root(sandbox.AccountA)
	a := sb.S3(rootA)
	idA, idB := sb.CanonicalID(sandbox.AccountA), sb.CanonicalID(sandbox.AccountB)
	createBucket(t, sb, rootA, "acl", types.ObjectOwnershipObjectWriter)
	_, err := a.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("acl"), Key: aws.String("k"), Body: strings.NewReader("x"), ACL: types.ObjectCannedACLPublicRead})
	require.NoError(t, err)
	got, err := a.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("acl"), Key: aws.String("k")})
	require.NoError(t, err)
	assert.Equal(t, idA, aws.ToString(got.Owner.ID))
	assert.Equal(t, []grantView{{idA, "", "FULL_CONTROL"}, {"", "http://acs.amazonaws.com/groups/global/AllUsers", "READ"}}, aclOf(got.Grants))
	assert.Equal(t, types.TypeGroup, got.Grants[1].Grantee.Type)

	// An AccessControlPolicy body replaces the ACL and leaves the object.
	_, err = a.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("acl"), Key: aws.String("k"), AccessControlPolicy: &types.AccessControlPolicy{
		Owner: &types.Owner{ID: aws.String(idA)},
		Grants: []types.Grant{
			{Grantee: &types.Grantee{Type: types.TypeCanonicalUser, ID: aws.String(idA)}, Permission: types.PermissionFullControl},
			{Grantee: &types.Grantee{Type: types.TypeCanonicalUser, ID: aws.String(idB)}, Permission: types.PermissionRead},
		},
	}})
	require.NoError(t, err)
	got, err = a.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("acl"), Key: aws.String("k")})
	require.NoError(t, err)
	assert.Equal(t, []grantView{{idA, "", "FULL_CONTROL"}, {idB, "", "READ"}}, aclOf(got.Grants))
	body, err := get(t, a, "acl", "k")
	require.NoError(t, err)
	assert.Equal(t, "x", body)

	// A new write replaces the ACL with its own (private by default).
	require.NoError(t, put(ctx, a, "acl", "k", "y"))
	got, err = a.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("acl"), Key: aws.String("k")})
	require.NoError(t, err)
	assert.Equal(t, []grantView{{idA, "", "FULL_CONTROL"}}, aclOf(got.Grants))

	_, err = a.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("acl"), Key: aws.String("k"), ACL: "no-such-acl"})
	requireCode(t, err, "InvalidArgument")

	bacl, err := a.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("acl")})
	require.NoError(t, err)
	assert.Equal(t, idA, aws.ToString(bacl.Owner.ID))
	assert.Equal(t, []grantView{{idA, "", "FULL_CONTROL"}}, aclOf(bacl.Grants))
	_, err = a.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("acl"), ACL: types.BucketCannedACLAuthenticatedRead})
	require.NoError(t, err)
	bacl, err = a.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("acl")})
	require.NoError(t, err)
	assert.Equal(t, []grantView{{idA, "", "FULL_CONTROL"}, {"", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers", "READ"}}, aclOf(bacl.Grants))

	// ACLs disabled: the bucket owner holds FULL_CONTROL of everything.
	require.NoError(t, sb.CreateBucket(ctx, rootA, "enforced"))
	b := sb.S3(sb.Root(sandbox.AccountB))
	_, err = b.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("enforced"), Key: aws.String("k"), Body: strings.NewReader("z"), ACL: types.ObjectCannedACLBucketOwnerFullControl})
	require.NoError(t, err)
	got, err = a.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("enforced"), Key: aws.String("k")})
	require.NoError(t, err)
	assert.Equal(t, idA, aws.ToString(got.Owner.ID))
	assert.Equal(t, []grantView{{idA, "", "FULL_CONTROL"}}, aclOf(got.Grants))
	_, err = a.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("enforced"), ACL: types.BucketCannedACLPublicRead})
	requireCode(t, err, "AccessControlListNotSupported")
	_, err = a.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bad"), ACL: types.BucketCannedACLPublicRead})
	requireCode(t, err, "InvalidBucketAclWithObjectOwnership")
}

func TestExpectedBucketOwner(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	rootA, rootB := sb.Root(sandbox.AccountA), sb.Root(sandbox.AccountB)
	a := sb.S3(rootA)
	require.NoError(t, sb.CreateBucket(ctx, rootA, "src"))
	require.NoError(t, sb.CreateBucket(ctx, rootB, "dst"))
	require.NoError(t, put(ctx, a, "src", "k", "v"))
	record(sb, nil)

	_, err := a.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("src"), Key: aws.String("k"), ExpectedBucketOwner: aws.String(sandbox.AccountA)})
	require.NoError(t, err)
	_, err = a.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("src"), Key: aws.String("k"), ExpectedBucketOwner: aws.String(sandbox.AccountB)})
	requireCode(t, err, "AccessDenied")
	requireStatus(t, err, 403)
	_, err = a.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("dst"), Key: aws.String("k"), Body: strings.NewReader("v"), ExpectedBucketOwner: aws.String(sandbox.AccountA)})
	requireCode(t, err, "AccessDenied")
	_, err = a.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("dst"), ExpectedBucketOwner: aws.String(sandbox.AccountA)})
	requireCode(t, err, "AccessDenied")

	copyIn := func(src, dst string) *s3.CopyObjectInput {
		return &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("k"), CopySource: aws.String("src/k"),
			ExpectedSourceBucketOwner: aws.String(src), ExpectedBucketOwner: aws.String(dst)}
	}
	_, err = a.CopyObject(ctx, copyIn(sandbox.AccountB, sandbox.AccountB))
	requireCode(t, err, "AccessDenied")
	_, err = a.CopyObject(ctx, copyIn(sandbox.AccountA, sandbox.AccountA))
	requireCode(t, err, "AccessDenied")
	_, err = a.CopyObject(ctx, copyIn(sandbox.AccountA, sandbox.AccountB))
	require.NoError(t, err)
}

// An ACL grant to another account answers for the bucket owner only: a
// principal of that account still needs its own identity policy to allow
// the request, even when the bucket policy names it, as on AWS. The
// account's root user needs none, and an explicit Deny still refuses.
func TestACLGrantNeedsCallerIdentityPolicy(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	rootA, rootB := sb.Root(sandbox.AccountA), sb.Root(sandbox.AccountB)
	a := sb.S3(rootA)
	createBucket(t, sb, rootA, "shared-acl", types.ObjectOwnershipObjectWriter)
	grantB := aws.String(`id="` + sb.CanonicalID(sandbox.AccountB) + `"`)
	_, err := a.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("shared-acl"), Key: aws.String("k"), Body: strings.NewReader("v"), GrantRead: grantB})
	require.NoError(t, err)
	_, err = a.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("shared-acl"), GrantRead: grantB,
		GrantFullControl: aws.String(`id="` + sb.CanonicalID(sandbox.AccountA) + `"`)})
	require.NoError(t, err)
	userB := func(name string) string { return "arn:aws:iam::" + sandbox.AccountB + ":user/" + name }
	_, err = a.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("shared-acl"), Policy: aws.String(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":["` + userB("bare") + `","` + userB("reader") + `"]},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::shared-acl","arn:aws:s3:::shared-acl/*"]},
		{"Effect":"Deny","Principal":{"AWS":"` + userB("denied") + `"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared-acl/*"}]}`)})
	require.NoError(t, err)
	readPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`
	bare, err := sb.AddUser(sandbox.AccountB, "bare")
	require.NoError(t, err)
	reader, err := sb.AddUser(sandbox.AccountB, "reader", readPolicy)
	require.NoError(t, err)
	denied, err := sb.AddUser(sandbox.AccountB, "denied", readPolicy)
	require.NoError(t, err)
	sb.SetAuthorizer(enforce.Authorizer())

	list := func(p sandbox.Principal) error {
		_, err := sb.S3(p).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("shared-acl")})
		return err
	}
	_, err = get(t, sb.S3(bare), "shared-acl", "k")
	requireCode(t, err, "AccessDenied")
	assert.ErrorContains(t, err, "User: "+bare.ARN+" is not authorized to perform: s3:GetObject")
	requireCode(t, list(bare), "AccessDenied")

	for _, p := range []sandbox.Principal{reader, rootB} {
		body, err := get(t, sb.S3(p), "shared-acl", "k")
		require.NoError(t, err, p.ARN)
		assert.Equal(t, "v", body)
		require.NoError(t, list(p), p.ARN)
	}
	_, err = get(t, sb.S3(denied), "shared-acl", "k")
	requireCode(t, err, "AccessDenied")
	require.NoError(t, list(denied), "the Deny covers s3:GetObject only")
}
