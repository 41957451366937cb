package sandbox_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
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

// kmsEnv is an enforcing sandbox with a bucket "kms-bkt" in account A that lets
// every principal of A and B write and read objects, so that only KMS
// decides.
func kmsEnv(t *testing.T) *sandbox.Sandbox {
	t.Helper()
	sb, err := enforce.Start()
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	ctx := t.Context()
	rootA := sb.Root(sandbox.AccountA)
	require.NoError(t, sb.CreateBucket(ctx, rootA, "kms-bkt"))
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["%s","%s"]},"Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::kms-bkt/*"}]}`, sandbox.AccountA, sandbox.AccountB)
	_, err = sb.S3(rootA).PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("kms-bkt"), Policy: aws.String(policy)})
	require.NoError(t, err)
	return sb
}

func keyPolicy(principals ...string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["%s"]},"Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*"}]}`, strings.Join(principals, `","`))
}

func kmsIdentity(keyARN string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"` + keyARN + `"}]}`
}

const s3Only = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"*"}]}`

func putKMS(t *testing.T, c *s3.Client, key, keyID string) error {
	t.Helper()
	_, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("kms-bkt"), Key: aws.String(key), Body: strings.NewReader("sealed"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(keyID)})
	return err
}

func TestKMSWriteNeedsKeyPolicy(t *testing.T) {
	sb := kmsEnv(t)
	direct, err := sb.AddUser(sandbox.AccountA, "direct", s3Only)
	require.NoError(t, err)
	// A key whose policy names only the user "direct".
	named, err := sb.CreateKMSKey(sandbox.AccountA, sandbox.Region, keyPolicy(direct.ARN))
	require.NoError(t, err)
	assert.Regexp(t, `^arn:aws:kms:us-east-1:111111111111:key/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`, named)
	// A key with the default policy: the account root, so identity
	// policies decide.
	dflt, err := sb.CreateKMSKey(sandbox.AccountA, sandbox.Region, "")
	require.NoError(t, err)
	identityOnly, err := sb.AddUser(sandbox.AccountA, "identity-only", s3Only, kmsIdentity(named))
	require.NoError(t, err)
	delegated, err := sb.AddUser(sandbox.AccountA, "delegated", s3Only, kmsIdentity(dflt))
	require.NoError(t, err)
	plain, err := sb.AddUser(sandbox.AccountA, "plain", s3Only)
	require.NoError(t, err)

	t.Run("allowed by the key policy naming the caller", func(t *testing.T) {
		require.NoError(t, putKMS(t, sb.S3(direct), "direct", named))
		// The bare key id names the same key.
		require.NoError(t, putKMS(t, sb.S3(direct), "direct-id", named[strings.LastIndexByte(named, '/')+1:]))
	})
	t.Run("identity policy alone is not enough", func(t *testing.T) {
		err := putKMS(t, sb.S3(identityOnly), "x", named)
		requireCode(t, err, "AccessDenied")
		requireStatus(t, err, http.StatusForbidden)
		assert.ErrorContains(t, err, "User: "+identityOnly.ARN+" is not authorized to perform: kms:GenerateDataKey on resource: \""+named+"\"")
		assert.ErrorContains(t, err, "key policy")
		// Not even the account's root user, whom the key policy does not name.
		requireCode(t, putKMS(t, sb.S3(sb.Root(sandbox.AccountA)), "x", named), "AccessDenied")
	})
	t.Run("root delegation needs the identity policy", func(t *testing.T) {
		err := putKMS(t, sb.S3(plain), "x", dflt)
		requireCode(t, err, "AccessDenied")
		assert.ErrorContains(t, err, "kms:GenerateDataKey")
		require.NoError(t, putKMS(t, sb.S3(delegated), "delegated", dflt))
		h, err := sb.S3(delegated).HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String("kms-bkt"), Key: aws.String("delegated")})
		require.NoError(t, err)
		assert.Equal(t, dflt, aws.ToString(h.SSEKMSKeyId))
	})
	t.Run("unknown key in a modelled account", func(t *testing.T) {
		err := putKMS(t, sb.S3(direct), "x", "arn:aws:kms:us-east-1:111111111111:key/no-such-key")
		requireCode(t, err, "KMS.NotFoundException")
		requireStatus(t, err, http.StatusBadRequest)
	})
	t.Run("without SSE-KMS the key is not consulted", func(t *testing.T) {
		_, err := sb.S3(plain).PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("kms-bkt"), Key: aws.String("plain"), Body: strings.NewReader("x")})
		require.NoError(t, err)
	})
}

func TestKMSCrossAccountNeedsBoth(t *testing.T) {
	sb := kmsEnv(t)
	key, err := sb.CreateKMSKey(sandbox.AccountA, sandbox.Region, "")
	require.NoError(t, err)
	writer, err := sb.AddUser(sandbox.AccountB, "writer", s3Only, kmsIdentity(key))
	require.NoError(t, err)
	bare, err := sb.AddUser(sandbox.AccountB, "bare", s3Only)
	require.NoError(t, err)

	// Identity policy alone: the default key policy names only account A.
	err = putKMS(t, sb.S3(writer), "x", key)
	requireCode(t, err, "AccessDenied")
	assert.ErrorContains(t, err, "kms:GenerateDataKey")

	// The key policy names account B; B's identity policy allows.
	require.NoError(t, sb.UpdateKeyPolicy(key, `{"Version":"2012-10-17","Statement":[`+
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"kms:*","Resource":"*"},`+
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"*"}]}`))
	require.NoError(t, putKMS(t, sb.S3(writer), "x", key))

	// Without the identity policy the key policy alone is not enough
	// across accounts, even naming the user.
	require.NoError(t, sb.UpdateKeyPolicy(key, keyPolicy(bare.ARN, writer.ARN)))
	require.NoError(t, putKMS(t, sb.S3(writer), "y", key))
	err = putKMS(t, sb.S3(bare), "y", key)
	requireCode(t, err, "AccessDenied")
	assert.ErrorContains(t, err, "cross-account")
}

func TestKMSReadNeedsDecrypt(t *testing.T) {
	sb := kmsEnv(t)
	ctx := t.Context()
	owner, err := sb.AddUser(sandbox.AccountA, "owner", s3Only)
	require.NoError(t, err)
	reader, err := sb.AddUser(sandbox.AccountA, "reader", s3Only)
	require.NoError(t, err)
	key, err := sb.CreateKMSKey(sandbox.AccountA, sandbox.Region, keyPolicy(owner.ARN))
	require.NoError(t, err)
	require.NoError(t, putKMS(t, sb.S3(owner), "secret", key))

	// HEAD does not decrypt; GET does.
	_, err = sb.S3(reader).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("kms-bkt"), Key: aws.String("secret")})
	require.NoError(t, err)
	_, err = sb.S3(reader).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("kms-bkt"), Key: aws.String("secret")})
	requireCode(t, err, "AccessDenied")
	assert.ErrorContains(t, err, "kms:Decrypt on resource: \""+key+"\"")

	// A copy reads its source with kms:Decrypt too.
	_, err = sb.S3(reader).CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("kms-bkt"), Key: aws.String("copy"), CopySource: aws.String("kms-bkt/secret")})
	requireCode(t, err, "AccessDenied")
	assert.ErrorContains(t, err, "kms:Decrypt")

	require.NoError(t, sb.UpdateKeyPolicy(key, keyPolicy(owner.ARN, reader.ARN)))
	out, err := sb.S3(reader).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("kms-bkt"), Key: aws.String("secret")})
	require.NoError(t, err)
	body, err := io.ReadAll(out.Body)
	require.NoError(t, err)
	assert.Equal(t, "sealed", string(body))
	_, err = sb.S3(reader).CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("kms-bkt"), Key: aws.String("copy"), CopySource: aws.String("kms-bkt/secret")})
	require.NoError(t, err)
}

func TestKMSMultipartNeedsBoth(t *testing.T) {
	sb := kmsEnv(t)
	ctx := t.Context()
	u, err := sb.AddUser(sandbox.AccountA, "uploader", s3Only)
	require.NoError(t, err)
	genOnly := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + u.ARN + `"},"Action":"kms:GenerateDataKey","Resource":"*"}]}`
	key, err := sb.CreateKMSKey(sandbox.AccountA, sandbox.Region, genOnly)
	require.NoError(t, err)
	c := sb.S3(u)
	mu, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("kms-bkt"), Key: aws.String("big"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(key)})
	require.NoError(t, err, "CreateMultipartUpload needs kms:GenerateDataKey only")
	var etag *string
	part := func() error {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("kms-bkt"), Key: aws.String("big"), UploadId: mu.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("part one"))})
		if err == nil {
			etag = out.ETag
		}
		return err
	}
	err = part()
	requireCode(t, err, "AccessDenied")
	assert.ErrorContains(t, err, "kms:Decrypt")

	require.NoError(t, sb.UpdateKeyPolicy(key, keyPolicy(u.ARN)))
	require.NoError(t, part())
	require.NoError(t, sb.UpdateKeyPolicy(key, genOnly))
	complete := &s3.CompleteMultipartUploadInput{Bucket: aws.String("kms-bkt"), Key: aws.String("big"), UploadId: mu.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: etag}}}}
	_, err = c.CompleteMultipartUpload(ctx, complete)
	requireCode(t, err, "AccessDenied")
	require.NoError(t, sb.UpdateKeyPolicy(key, keyPolicy(u.ARN)))
	_, err = c.CompleteMultipartUpload(ctx, complete)
	require.NoError(t, err)
}

func TestCreateKMSKeyValidates(t *testing.T) {
	sb := kmsEnv(t)
	_, err := sb.CreateKMSKey("123", sandbox.Region, "")
	assert.ErrorContains(t, err, `account "123"`)
	_, err = sb.CreateKMSKey(sandbox.AccountA, "moon", "")
	assert.ErrorContains(t, err, `region "moon"`)
	_, err = sb.CreateKMSKey(sandbox.AccountA, sandbox.Region, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`)
	assert.ErrorContains(t, err, "key policy must name a Principal")
	assert.ErrorContains(t, sb.UpdateKeyPolicy("arn:aws:kms:us-east-1:111111111111:key/none", sandbox.DefaultKeyPolicy(sandbox.AccountA)), "does not exist")
}
