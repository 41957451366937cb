package sandbox_test

import (
	"context"
	"fmt"
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

type asked struct {
	action, resource, account string
}

func summarize(reqs []sandbox.AccessRequest) []asked {
	out := make([]asked, len(reqs))
	for i, r := range reqs {
		out[i] = asked{r.Action, r.Resource, r.ResourceAccount}
	}
	return out
}

func put(ctx context.Context, c *s3.Client, bucket, key, body string) error {
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
	return err
}

func TestS3ActionMapping(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	rootA, rootB := sb.Root(sandbox.AccountA), sb.Root(sandbox.AccountB)
	require.NoError(t, sb.CreateBucket(ctx, rootA, "src"))
	require.NoError(t, sb.CreateBucket(ctx, rootB, "dst"))
	require.NoError(t, put(ctx, sb.S3(rootA), "src", "dir/k", "hello"))
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`
	_, err := sb.S3(rootB).PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("dst"), Policy: aws.String(policy)})
	require.NoError(t, err)
	u, err := sb.AddUser(sandbox.AccountA, "copier", readS3)
	require.NoError(t, err)
	c := sb.S3(u)
	rec := record(sb, nil)

	const (
		src    = "arn:aws:s3:::src"
		srcObj = "arn:aws:s3:::src/dir/k"
		dst    = "arn:aws:s3:::dst"
		dstObj = "arn:aws:s3:::dst/out/k"
		a, b   = sandbox.AccountA, sandbox.AccountB
	)
	var uploadID *string
	for _, tc := range []struct {
		name    string
		call    func() error
		want    []asked
		context map[string][]string
	}{
		{"ListBuckets", func() error { _, err := c.ListBuckets(ctx, &s3.ListBucketsInput{}); return err },
			[]asked{{"s3:ListAllMyBuckets", "arn:aws:s3:::*", a}}, nil},
		{"CreateBucket", func() error { return sb.CreateBucket(ctx, u, "newb") },
			[]asked{{"s3:CreateBucket", "arn:aws:s3:::newb", a}}, nil},
		{"HeadBucket", func() error { _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("src")}); return err },
			[]asked{{"s3:ListBucket", src, a}}, nil},
		{"ListObjectsV2", func() error {
			_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("src"), Prefix: aws.String("dir/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(10)})
			return err
		}, []asked{{"s3:ListBucket", src, a}}, map[string][]string{"s3:prefix": {"dir/"}, "s3:delimiter": {"/"}, "s3:max-keys": {"10"}}},
		{"ListObjects", func() error {
			_, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("src")})
			return err
		},
			[]asked{{"s3:ListBucket", src, a}}, nil},
		{"ListObjectVersions", func() error {
			_, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("src"), Prefix: aws.String("d")})
			return err
		}, []asked{{"s3:ListBucketVersions", src, a}}, map[string][]string{"s3:prefix": {"d"}}},
		{"GetObject", func() error {
			_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("src"), Key: aws.String("dir/k")})
			return err
		},
			[]asked{{"s3:GetObject", srcObj, a}}, nil},
		{"HeadObject", func() error {
			_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("src"), Key: aws.String("dir/k")})
			return err
		},
			[]asked{{"s3:GetObject", srcObj, a}}, nil},
		{"PutObject", func() error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("dst"), Key: aws.String("out/k"), Body: strings.NewReader("x"),
				ACL: types.ObjectCannedACLBucketOwnerFullControl, ServerSideEncryption: types.ServerSideEncryptionAes256})
			return err
		}, []asked{{"s3:PutObject", dstObj, b}, {"s3:PutObjectAcl", dstObj, b}}, map[string][]string{"s3:x-amz-acl": {"bucket-owner-full-control"}, "s3:x-amz-server-side-encryption": {"AES256"}}},
		{"CopyObject", func() error {
			_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("out/k"), CopySource: aws.String("src/dir/k")})
			return err
		}, []asked{{"s3:PutObject", dstObj, b}, {"s3:GetObject", srcObj, a}}, nil},
		{"PutObjectTagging", func() error {
			_, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("src"), Key: aws.String("dir/k"),
				Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}}}})
			return err
		}, []asked{{"s3:PutObjectTagging", srcObj, a}}, nil},
		{"GetObjectTagging", func() error {
			_, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("src"), Key: aws.String("dir/k")})
			return err
		}, []asked{{"s3:GetObjectTagging", srcObj, a}}, map[string][]string{"s3:ExistingObjectTag/team": {"data"}}},
		{"DeleteObjectTagging", func() error {
			_, err := c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String("src"), Key: aws.String("dir/k")})
			return err
		}, []asked{{"s3:DeleteObjectTagging", srcObj, a}}, nil},
		{"GetObjectAcl", func() error {
			_, err := c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("src"), Key: aws.String("dir/k")})
			return err
		},
			[]asked{{"s3:GetObjectAcl", srcObj, a}}, nil},
		{"PutObjectAcl", func() error {
			_, err := c.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("src"), Key: aws.String("dir/k"), ACL: types.ObjectCannedACLBucketOwnerFullControl})
			return err
		}, []asked{{"s3:PutObjectAcl", srcObj, a}}, map[string][]string{"s3:x-amz-acl": {"bucket-owner-full-control"}}},
		{"CreateMultipartUpload", func() error {
			out, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("dst"), Key: aws.String("out/k")})
			if err == nil {
				uploadID = out.UploadId
			}
			return err
		}, []asked{{"s3:PutObject", dstObj, b}}, nil},
		{"UploadPart", func() error {
			_, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("dst"), Key: aws.String("out/k"), UploadId: uploadID, PartNumber: aws.Int32(1), Body: strings.NewReader("part")})
			return err
		}, []asked{{"s3:PutObject", dstObj, b}}, nil},
		{"ListParts", func() error {
			_, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("dst"), Key: aws.String("out/k"), UploadId: uploadID})
			return err
		}, []asked{{"s3:ListMultipartUploadParts", dstObj, b}}, nil},
		{"ListMultipartUploads", func() error {
			_, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("dst")})
			return err
		}, []asked{{"s3:ListBucketMultipartUploads", dst, b}}, nil},
		{"AbortMultipartUpload", func() error {
			_, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("dst"), Key: aws.String("out/k"), UploadId: uploadID})
			return err
		}, []asked{{"s3:AbortMultipartUpload", dstObj, b}}, nil},
		{"GetBucketLocation", func() error {
			_, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("src")})
			return err
		},
			[]asked{{"s3:GetBucketLocation", src, a}}, nil},
		{"PutBucketVersioning", func() error {
			_, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("src"), VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
			return err
		}, []asked{{"s3:PutBucketVersioning", src, a}}, nil},
		{"GetBucketVersioning", func() error {
			_, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("src")})
			return err
		},
			[]asked{{"s3:GetBucketVersioning", src, a}}, nil},
		{"GetObjectVersion", func() error {
			if _, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("src")}); err != nil {
				return err
			}
			require.NoError(t, put(ctx, sb.S3(rootA), "src", "dir/k", "v2"))
			out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("src")})
			require.NoError(t, err)
			require.NotEmpty(t, out.Versions)
			rec.take()
			_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("src"), Key: aws.String("dir/k"), VersionId: out.Versions[0].VersionId})
			return err
		}, []asked{{"s3:GetObjectVersion", srcObj, a}}, nil},
		{"PutBucketTagging", func() error {
			_, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("src"), Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}})
			return err
		}, []asked{{"s3:PutBucketTagging", src, a}}, nil},
		{"GetBucketTagging", func() error {
			_, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("src")})
			return err
		},
			[]asked{{"s3:GetBucketTagging", src, a}}, nil},
		{"GetBucketOwnershipControls", func() error {
			_, err := c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String("src")})
			return err
		}, []asked{{"s3:GetBucketOwnershipControls", src, a}}, nil},
		{"PutBucketPolicy", func() error {
			_, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("src"), Policy: aws.String(policy)})
			return err
		}, []asked{{"s3:PutBucketPolicy", src, a}}, nil},
		{"GetBucketPolicy", func() error {
			_, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("src")})
			return err
		},
			[]asked{{"s3:GetBucketPolicy", src, a}}, nil},
		{"DeleteBucketPolicy", func() error {
			_, err := c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String("src")})
			return err
		},
			[]asked{{"s3:DeleteBucketPolicy", src, a}}, nil},
		{"PutBucketOwnershipControls", func() error {
			_, err := c.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String("src"), OwnershipControls: &types.OwnershipControls{
				Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipBucketOwnerEnforced}}}})
			return err
		}, []asked{{"s3:PutBucketOwnershipControls", src, a}}, nil},
		{"DeleteObject", func() error {
			_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("dst"), Key: aws.String("out/k")})
			return err
		},
			[]asked{{"s3:DeleteObject", dstObj, b}}, nil},
		{"DeleteBucket", func() error {
			_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("newb")})
			return err
		},
			[]asked{{"s3:DeleteBucket", "arn:aws:s3:::newb", a}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec.take()
			require.NoError(t, tc.call())
			seen := rec.take()
			assert.Equal(t, tc.want, summarize(seen))
			for k, v := range tc.context {
				assert.Equal(t, v, seen[0].Context[k], k)
			}
			for _, r := range seen {
				assert.Equal(t, []string{sandbox.AccountA}, r.Context["aws:PrincipalAccount"])
				assert.Equal(t, u.ARN, r.PrincipalARN)
				if r.Resource == dst || strings.HasPrefix(r.Resource, dst+"/") {
					assert.Equal(t, policy, r.ResourcePolicy, "the bucket policy travels with the request")
				}
				if r.Resource != "arn:aws:s3:::*" && !strings.HasPrefix(r.Resource, "arn:aws:s3:::newb") {
					assert.Equal(t, []string{r.ResourceAccount}, r.Context["aws:ResourceAccount"])
				}
			}
			require.NotEmpty(t, seen)
			assert.Equal(t, []string{readS3}, seen[0].IdentityPolicies)
		})
	}
}

func TestCopyObjectCheckedOnBothSides(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	rootA, rootB := sb.Root(sandbox.AccountA), sb.Root(sandbox.AccountB)
	require.NoError(t, sb.CreateBucket(ctx, rootA, "src"))
	require.NoError(t, sb.CreateBucket(ctx, rootB, "dst"))
	require.NoError(t, put(ctx, sb.S3(rootA), "src", "k", "hello"))
	srcPolicy := `{"Version":"2012-10-17","Statement":[]}`
	_, err := sb.S3(rootA).PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("src"), Policy: aws.String(srcPolicy)})
	require.NoError(t, err)

	deny := ""
	rec := record(sb, func(r *sandbox.AccessRequest) string {
		if r.Action == deny {
			return "no resource-based policy allows the " + deny + " action"
		}
		return ""
	})
	copyIt := func() error {
		_, err := sb.S3(rootB).CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("k"), CopySource: aws.String("src/k")})
		return err
	}
	require.NoError(t, copyIt())
	seen := rec.take()
	require.Len(t, seen, 2)
	assert.Equal(t, "arn:aws:s3:::src/k", seen[1].Resource)
	assert.Equal(t, sandbox.AccountA, seen[1].ResourceAccount, "the source is judged by its own bucket's owner")
	assert.Equal(t, srcPolicy, seen[1].ResourcePolicy)
	assert.True(t, seen[1].PrincipalIsRoot)
	assert.Empty(t, seen[1].IdentityPolicies)

	deny = "s3:GetObject"
	err = copyIt()
	requireCode(t, err, "AccessDenied")
	requireStatus(t, err, 403)
	assert.ErrorContains(t, err, `User: arn:aws:iam::222222222222:root is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::src/k" because no resource-based policy allows the s3:GetObject action`)
	deny = "s3:PutObject"
	requireCode(t, copyIt(), "AccessDenied")
	deny = ""
	require.NoError(t, copyIt())
}

func TestDeleteObjectsPartialDenial(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "bkt"))
	for _, k := range []string{"keep/1", "go/1", "go/2"} {
		require.NoError(t, put(ctx, c, "bkt", k, "x"))
	}
	rec := record(sb, func(r *sandbox.AccessRequest) string {
		if r.Action == "s3:DeleteObject" && strings.HasPrefix(r.Resource, "arn:aws:s3:::bkt/keep/") {
			return "an explicit deny in a resource-based policy"
		}
		return ""
	})
	out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("bkt"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("keep/1")}, {Key: aws.String("go/1")}, {Key: aws.String("go/2")},
	}}})
	require.NoError(t, err)
	var deleted []string
	for _, d := range out.Deleted {
		deleted = append(deleted, aws.ToString(d.Key))
	}
	assert.ElementsMatch(t, []string{"go/1", "go/2"}, deleted)
	require.Len(t, out.Errors, 1)
	assert.Equal(t, "keep/1", aws.ToString(out.Errors[0].Key))
	assert.Equal(t, "AccessDenied", aws.ToString(out.Errors[0].Code))
	assert.Contains(t, aws.ToString(out.Errors[0].Message), "s3:DeleteObject")
	assert.Len(t, rec.take(), 3)

	out, err = c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("bkt"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("keep/1")}}}})
	require.NoError(t, err)
	assert.Empty(t, out.Deleted)
	require.Len(t, out.Errors, 1)
	assert.Equal(t, "AccessDenied", aws.ToString(out.Errors[0].Code))

	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")})
	require.NoError(t, err)
	require.Len(t, list.Contents, 1)
	assert.Equal(t, "keep/1", aws.ToString(list.Contents[0].Key))
}

func TestDeniedRequestNeverReachesBackend(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	require.NoError(t, sb.CreateBucket(ctx, root, "bkt"))
	record(sb, func(r *sandbox.AccessRequest) string {
		if r.Action == "s3:PutObject" {
			return "no identity-based policy allows the s3:PutObject action"
		}
		return ""
	})
	err := put(ctx, sb.S3(root), "bkt", "k", "x")
	requireCode(t, err, "AccessDenied")
	sb.SetAuthorizer(nil)
	_, err = sb.S3(root).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
	requireStatus(t, err, 404)
	assert.Equal(t, 1, sb.Requests()["PutObject"])
}

func TestListBucketsShowsOwnAccountOnly(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	require.NoError(t, sb.CreateBucket(ctx, sb.Root(sandbox.AccountA), "a-1"))
	require.NoError(t, sb.CreateBucket(ctx, sb.Root(sandbox.AccountB), "b-1"))
	out, err := sb.S3(sb.Root(sandbox.AccountB)).ListBuckets(ctx, &s3.ListBucketsInput{})
	require.NoError(t, err)
	require.Len(t, out.Buckets, 1)
	assert.Equal(t, "b-1", aws.ToString(out.Buckets[0].Name))
	assert.NotNil(t, out.Buckets[0].CreationDate)
}

// A write that also sets an ACL or tags needs s3:PutObjectAcl or
// s3:PutObjectTagging on the same object, as on AWS; a copy that keeps the
// source's tags (directive COPY) needs s3:GetObjectTagging on the source
// and ignores x-amz-tagging.
func TestWriteSubresourceActions(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	rootA := sb.Root(sandbox.AccountA)
	createBucket(t, sb, rootA, "bkt", types.ObjectOwnershipObjectWriter)
	require.NoError(t, put(ctx, sb.S3(rootA), "bkt", "src", "hello"))
	_, err := sb.S3(rootA).PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("bkt"), Key: aws.String("src"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}}}})
	require.NoError(t, err)
	u, err := sb.AddUser(sandbox.AccountA, "writer")
	require.NoError(t, err)
	c := sb.S3(u)
	rec := record(sb, nil)
	const obj, src = "arn:aws:s3:::bkt/k", "arn:aws:s3:::bkt/src"
	a := sandbox.AccountA
	body := func() *strings.Reader { return strings.NewReader("x") }
	for _, tc := range []struct {
		name string
		call func() error
		want []asked
	}{
		{"PutObject plain", func() error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: body()})
			return err
		}, []asked{{"s3:PutObject", obj, a}}},
		{"PutObject with grant and tags", func() error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: body(),
				GrantFullControl: aws.String(`id="` + sb.CanonicalID(a) + `"`), Tagging: aws.String("team=data")})
			return err
		}, []asked{{"s3:PutObject", obj, a}, {"s3:PutObjectAcl", obj, a}, {"s3:PutObjectTagging", obj, a}}},
		{"CreateMultipartUpload with ACL and tags", func() error {
			_, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
				ACL: types.ObjectCannedACLBucketOwnerFullControl, Tagging: aws.String("team=data")})
			return err
		}, []asked{{"s3:PutObject", obj, a}, {"s3:PutObjectAcl", obj, a}, {"s3:PutObjectTagging", obj, a}}},
		{"CopyObject COPY directive", func() error {
			_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), CopySource: aws.String("bkt/src"),
				Tagging: aws.String("ignored=yes")})
			return err
		}, []asked{{"s3:PutObject", obj, a}, {"s3:GetObject", src, a}, {"s3:GetObjectTagging", src, a}}},
		{"CopyObject REPLACE with tags and ACL", func() error {
			_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), CopySource: aws.String("bkt/src"),
				TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("team=new"), ACL: types.ObjectCannedACLBucketOwnerFullControl})
			return err
		}, []asked{{"s3:PutObject", obj, a}, {"s3:GetObject", src, a}, {"s3:PutObjectAcl", obj, a}, {"s3:PutObjectTagging", obj, a}}},
		{"CopyObject REPLACE without tags", func() error {
			_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), CopySource: aws.String("bkt/src"),
				TaggingDirective: types.TaggingDirectiveReplace})
			return err
		}, []asked{{"s3:PutObject", obj, a}, {"s3:GetObject", src, a}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec.take()
			require.NoError(t, tc.call())
			assert.Equal(t, tc.want, summarize(rec.take()))
		})
	}
}

// With the real evaluator, a user allowed only s3:PutObject gets the
// AccessDenied error document naming the extra action when the write
// carries an ACL or tags, and nothing is written.
func TestWriteWithACLOrTagsNeedsTheirActions(t *testing.T) {
	sb := start(t)
	sb.SetAuthorizer(enforce.Authorizer())
	ctx := t.Context()
	rootA := sb.Root(sandbox.AccountA)
	createBucket(t, sb, rootA, "bkt", types.ObjectOwnershipObjectWriter)
	require.NoError(t, put(ctx, sb.S3(rootA), "bkt", "src", "hello"))
	putOnly := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:GetObject"],"Resource":"arn:aws:s3:::bkt/*"}]}`
	u, err := sb.AddUser(sandbox.AccountA, "writer", putOnly)
	require.NoError(t, err)
	c := sb.S3(u)
	const msg = `User: arn:aws:iam::111111111111:user/writer is not authorized to perform: %s on resource: "arn:aws:s3:::bkt/%s"`
	for _, tc := range []struct {
		name, key, action string
		call              func(key string) error
	}{
		{"PutObject ACL", "p1", "s3:PutObjectAcl", func(key string) error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key), Body: strings.NewReader("x"),
				ACL: types.ObjectCannedACLBucketOwnerFullControl})
			return err
		}},
		{"PutObject grant", "p2", "s3:PutObjectAcl", func(key string) error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key), Body: strings.NewReader("x"),
				GrantRead: aws.String(`id="` + sb.CanonicalID(sandbox.AccountB) + `"`)})
			return err
		}},
		{"PutObject tags", "p3", "s3:PutObjectTagging", func(key string) error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key), Body: strings.NewReader("x"),
				Tagging: aws.String("a=b")})
			return err
		}},
		{"CreateMultipartUpload tags", "m1", "s3:PutObjectTagging", func(key string) error {
			_, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String(key), Tagging: aws.String("a=b")})
			return err
		}},
		{"CreateMultipartUpload ACL", "m2", "s3:PutObjectAcl", func(key string) error {
			_, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String(key),
				ACL: types.ObjectCannedACLBucketOwnerFullControl})
			return err
		}},
		{"CopyObject REPLACE tags", "c1", "s3:PutObjectTagging", func(key string) error {
			_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key), CopySource: aws.String("bkt/src"),
				TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("a=b")})
			return err
		}},
		{"CopyObject ACL", "c2", "s3:PutObjectAcl", func(key string) error {
			_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key), CopySource: aws.String("bkt/src"),
				ACL: types.ObjectCannedACLBucketOwnerFullControl})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(tc.key)
			requireCode(t, err, "AccessDenied")
			requireStatus(t, err, 403)
			assert.ErrorContains(t, err, fmt.Sprintf(msg, tc.action, tc.key))
			_, err = sb.S3(rootA).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String(tc.key)})
			requireStatus(t, err, 404)
		})
	}
	// The same writes without ACL or tags go through.
	require.NoError(t, put(ctx, c, "bkt", "plain", "x"))
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("copy"), CopySource: aws.String("bkt/src"),
		TaggingDirective: types.TaggingDirectiveReplace})
	require.NoError(t, err)
}
