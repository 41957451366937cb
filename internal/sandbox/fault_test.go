package sandbox_test

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct/internal/sandbox"
)

// noRetry makes the client give up after the first attempt, so a fault
// reaches the test.
func noRetry(o *s3.Options) { o.RetryMaxAttempts = 1 }

func TestFaultError(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "bkt"))
	require.NoError(t, put(ctx, c, "bkt", "k", "v"))

	sb.InjectFault(sandbox.FaultSpec{Op: "GetObject", Times: 1, Status: 503})
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")}, noRetry)
	requireCode(t, err, "SlowDown")
	requireStatus(t, err, 503)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")}, noRetry)
	require.NoError(t, err, "Times: 1 breaks one request")

	// The SDK retries a 500 and the second attempt succeeds.
	before := sb.Requests()["HeadObject"]
	sb.InjectFault(sandbox.FaultSpec{Op: "HeadObject", KeyContains: "k", Times: 1})
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
	require.NoError(t, err)
	assert.Equal(t, before+2, sb.Requests()["HeadObject"])

	// KeyContains and Op select what breaks; remove stops it.
	remove := sb.InjectFault(sandbox.FaultSpec{KeyContains: "bad", Code: "InternalError", Message: "boom"})
	require.NoError(t, put(ctx, c, "bkt", "good", "v"))
	err = put(ctx, s3.NewFromConfig(sb.Config(root), func(o *s3.Options) { o.UsePathStyle = true; o.RetryMaxAttempts = 1 }), "bkt", "bad", "v")
	requireCode(t, err, "InternalError")
	remove()
	require.NoError(t, put(ctx, c, "bkt", "bad", "v"))

	sb.InjectFault(sandbox.FaultSpec{Op: "GetCallerIdentity", Status: 500, Code: "InternalFailure"})
	_, err = sb.STS(root).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.Options) { o.RetryMaxAttempts = 1 })
	requireCode(t, err, "InternalFailure")
	sb.ClearFaults()
	_, err = sb.STS(root).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
}

func TestFaultReset(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "bkt"))
	require.NoError(t, put(ctx, c, "bkt", "k", "v"))

	// Every attempt is reset: net/http itself retries an idempotent
	// request once on a reused connection.
	remove := sb.InjectFault(sandbox.FaultSpec{Op: "GetObject", Kind: sandbox.FaultReset})
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")}, noRetry)
	require.Error(t, err)
	var apiErr smithy.APIError
	assert.False(t, errors.As(err, &apiErr), "a reset is no API error: %v", err)
	remove()

	// With retries the SDK gets through.
	sb.InjectFault(sandbox.FaultSpec{Op: "GetObject", Kind: sandbox.FaultReset, Times: 1})
	body, err := get(t, c, "bkt", "k")
	require.NoError(t, err)
	assert.Equal(t, "v", body)
}

func TestFaultTruncate(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "bkt"))
	require.NoError(t, put(ctx, c, "bkt", "big", "0123456789abcdefghij"))

	sb.InjectFault(sandbox.FaultSpec{Op: "GetObject", KeyContains: "big", Kind: sandbox.FaultTruncate, Times: 1})
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("big")})
	require.NoError(t, err, "status and headers arrive")
	assert.Equal(t, int64(20), aws.ToInt64(out.ContentLength))
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	require.Error(t, err)
	assert.Equal(t, "0123456789", string(got))

	body, err := get(t, c, "bkt", "big")
	require.NoError(t, err)
	assert.Equal(t, "0123456789abcdefghij", body)
}

func TestFaultLatency(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	c := sb.S3(root)
	require.NoError(t, sb.CreateBucket(ctx, root, "bkt"))

	sb.InjectFault(sandbox.FaultSpec{Op: "ListObjectsV2", Kind: sandbox.FaultLatency, Latency: 50 * time.Millisecond, Times: 1})
	began := time.Now()
	_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt")})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(began), 50*time.Millisecond)
}
