package main

import (
	"context"
	"strings"
	"testing"

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
