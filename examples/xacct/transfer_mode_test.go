package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSyncTransferModeFlag(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "src-bucket", map[string]string{"a.txt": "hello", "dir/b.bin": "0123456789"})
	e.bucket(t, "dst-bucket", nil)

	r := e.run(t, "sync", "s3://src-bucket", "s3://dst-bucket", "--transfer-mode", "stream")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "(mode: stream)\n")
	assert.Equal(t, []string{"a.txt", "dir/b.bin"}, e.keys(t, "dst-bucket"))

	r = e.run(t, "sync", "s3://src-bucket", "s3://dst-bucket", "--transfer-mode", "fast")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `--transfer-mode "fast": must be auto, server-side or stream`)
}

func TestSyncStreamUploadCutoffFlag(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "src-bucket", nil)
	e.put(t, "src-bucket", "big.bin", strings.Repeat("y", 11<<20))
	etag := func(bucket string) string {
		out, err := e.s3.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("big.bin")})
		require.NoError(t, err)
		return aws.ToString(out.ETag)
	}
	stream := []string{"--transfer-mode", "stream", "--multipart-threshold", "5MiB", "--part-size", "5MiB"}

	// Below the default cutoff (200 MiB): one PutObject, a plain ETag.
	e.bucket(t, "dst-one", nil)
	r := e.run(t, append([]string{"sync", "s3://src-bucket", "s3://dst-one"}, stream...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.NotContains(t, etag("dst-one"), "-", "11 MiB below the cutoff: one PutObject")

	// From the cutoff on: a multipart upload of 5 MiB parts.
	e.bucket(t, "dst-parts", nil)
	r = e.run(t, append([]string{"sync", "s3://src-bucket", "s3://dst-parts", "--stream-upload-cutoff", "10MiB"}, stream...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.True(t, strings.HasSuffix(etag("dst-parts"), `-3"`), "11 MiB in 5 MiB parts: %s", etag("dst-parts"))

	r = e.run(t, append([]string{"sync", "s3://src-bucket", "s3://dst-parts", "--stream-upload-cutoff", "1MiB"}, stream...)...)
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "stream upload cutoff")
	assert.Contains(t, r.stderr, "1048576")
}

func TestInterruptedExit(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "src-bucket", map[string]string{"a.txt": "hello"})
	e.bucket(t, "dst-bucket", nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var out, errOut strings.Builder
	code := newApp(&out, &errOut).execute(ctx, []string{"sync", "s3://src-bucket", "s3://dst-bucket"})
	assert.Equal(t, exitInterrupted, code, errOut.String())
	assert.Contains(t, errOut.String(), "context canceled")
	assert.Empty(t, e.keys(t, "dst-bucket"))
}
