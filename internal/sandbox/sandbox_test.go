package sandbox_test

import (
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct/internal/sandbox"
)

func start(t *testing.T) *sandbox.Sandbox {
	t.Helper()
	sb, err := sandbox.Start()
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	return sb
}

func TestCallerIdentityPerAccount(t *testing.T) {
	sb := start(t)
	for _, acct := range []string{sandbox.AccountA, sandbox.AccountB} {
		out, err := sb.STS(sb.Root(acct)).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
		require.NoError(t, err)
		assert.Equal(t, acct, aws.ToString(out.Account))
		assert.Equal(t, "arn:aws:iam::"+acct+":root", aws.ToString(out.Arn))
	}
}

func TestUnknownAccessKeyRefused(t *testing.T) {
	sb := start(t)
	p := sb.Root(sandbox.AccountA)
	p.AccessKeyID = "AKIANOSUCHKEY0000000"
	_, err := sb.S3(p).ListBuckets(t.Context(), &s3.ListBucketsInput{})
	require.ErrorContains(t, err, "InvalidAccessKeyId")
}

func TestBucketOwnerRecorded(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	require.NoError(t, sb.CreateBucket(ctx, sb.Root(sandbox.AccountB), "dst-bucket"))
	assert.Equal(t, sandbox.AccountB, sb.BucketOwner("dst-bucket"))
	err := sb.CreateBucket(ctx, sb.Root(sandbox.AccountA), "dst-bucket")
	require.ErrorContains(t, err, "BucketAlreadyExists")
}

// gofakes3 alone treats ?tagging as an object write; the sandbox must keep
// the object and store the tags beside it.
func TestTaggingKeepsObject(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "src-bucket"))
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("src-bucket"), Key: aws.String("dir/a b+c.txt"), Body: strings.NewReader("hello")})
	require.NoError(t, err)
	_, err = c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{
		Bucket: aws.String("src-bucket"), Key: aws.String("dir/a b+c.txt"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}}},
	})
	require.NoError(t, err)
	tags, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("src-bucket"), Key: aws.String("dir/a b+c.txt")})
	require.NoError(t, err)
	require.Len(t, tags.TagSet, 1)
	assert.Equal(t, "team", aws.ToString(tags.TagSet[0].Key))
	assert.Equal(t, "data", aws.ToString(tags.TagSet[0].Value))

	_, err = c.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("src-bucket"), Key: aws.String("dir/a b+c.txt"), ACL: types.ObjectCannedACLBucketOwnerFullControl})
	require.NoError(t, err)

	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("src-bucket"), Key: aws.String("dir/a b+c.txt")})
	require.NoError(t, err)
	body, err := io.ReadAll(got.Body)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(body))

	_, err = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("src-bucket"), Key: aws.String("missing")})
	require.ErrorContains(t, err, "NoSuchKey")
}
