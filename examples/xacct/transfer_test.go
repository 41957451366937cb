package main

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"1048576", 1 << 20},
		{"8MB", 8 << 20},
		{"8mb", 8 << 20},
		{"64MiB", 64 << 20},
		{"64mib", 64 << 20},
		{"5GB", 5 << 30},
		{"5GiB", 5 << 30},
		{"10KB", 10 << 10},
		{"10KiB", 10 << 10},
		{"2TB", 2 << 40},
		{"1TiB", 1 << 40},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
	for _, bad := range []string{"", "MB", "8 MB", "8M", "8B", "1.5GB", "-1", "-1MB", "ten", "9999999999TB", "0x10"} {
		_, err := parseSize(bad)
		assert.Error(t, err, bad)
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"8MB", "64MiB", "5GB", "1", "kb", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSize(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("parseSize(%q) = %d", s, n)
		}
		// Every size reads back the same in plain bytes.
		back, err := parseSize(strconv.FormatInt(n, 10))
		if err != nil || back != n {
			t.Fatalf("parseSize(%q) = %d, but %d reads back as %d, %v", s, n, n, back, err)
		}
	})
}

func TestSyncTransferFlags(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "src-bucket", nil)
	e.bucket(t, "dst-bucket", nil)
	_, err := e.s3.PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: aws.String("src-bucket"), Key: aws.String("doc.txt"), Body: strings.NewReader("hello"),
		ContentType: aws.String("text/plain"), Metadata: map[string]string{"team": "a"},
	})
	require.NoError(t, err)
	e.put(t, "src-bucket", "big.bin", strings.Repeat("x", 11<<20))

	r := e.run(t, "sync", "s3://src-bucket", "s3://dst-bucket",
		"--storage-class", "standard_ia", "--sse", "--copy-props", "none",
		"--multipart-threshold", "10MB", "--part-size", "5MiB")
	require.Equal(t, exitOK, r.code, r.stderr)

	head := func(key string) *s3.HeadObjectOutput {
		out, err := e.s3.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String("dst-bucket"), Key: aws.String(key)})
		require.NoError(t, err)
		return out
	}
	doc := head("doc.txt")
	assert.Equal(t, types.StorageClassStandardIa, doc.StorageClass)
	assert.Equal(t, types.ServerSideEncryptionAes256, doc.ServerSideEncryption, "--sse alone means AES256")
	assert.Empty(t, doc.Metadata, "--copy-props none")
	big := head("big.bin")
	assert.True(t, strings.HasSuffix(aws.ToString(big.ETag), `-3"`), "11 MiB in 5 MiB parts: %s", aws.ToString(big.ETag))

	e.bucket(t, "dst-two", nil)
	r = e.run(t, "sync", "s3://src-bucket", "s3://dst-two", "--copy-props", "metadata-directive", "--sse", "aws:kms", "--sse-kms-key-id", "alias/backup")
	require.Equal(t, exitOK, r.code, r.stderr)
	out, err := e.s3.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String("dst-two"), Key: aws.String("doc.txt")})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"team": "a"}, out.Metadata)
	assert.Equal(t, types.ServerSideEncryptionAwsKms, out.ServerSideEncryption)
	assert.Equal(t, "alias/backup", aws.ToString(out.SSEKMSKeyId))
}

func TestTransferFlagErrors(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "src-bucket", map[string]string{"a": "a"})
	e.bucket(t, "dst-bucket", nil)
	tests := []struct {
		flags []string
		want  []string
	}{
		{[]string{"--part-size", "1MB"}, []string{"part size", "1048576", "between"}},
		{[]string{"--part-size", "8XB"}, []string{"8XB", "KB, MB, GB, TB, KiB, MiB, GiB or TiB"}},
		{[]string{"--multipart-threshold", "6GiB"}, []string{"multipart threshold", "6442450944"}},
		{[]string{"--copy-props", "everything"}, []string{`--copy-props "everything"`, "none, metadata-directive, default or all"}},
		{[]string{"--storage-class", "cold"}, []string{"storage class", "COLD"}},
		{[]string{"--sse=rot13"}, []string{"server-side encryption", "rot13", "AES256, aws:kms or aws:kms:dsse"}},
		{[]string{"--request-payer=bucket-owner"}, []string{`--request-payer "bucket-owner"`, "requester"}},
		// The space form: the value is the flag's, and its check names it,
		// rather than a count of stray arguments.
		{[]string{"--sse", "rot13"}, []string{`--sse "rot13"`, "AES256, aws:kms or aws:kms:dsse"}},
		{[]string{"--request-payer", "bucket-owner"}, []string{`--request-payer "bucket-owner"`, "the only value is requester"}},
	}
	for _, tt := range tests {
		r := e.run(t, append([]string{"sync", "s3://src-bucket", "s3://dst-bucket"}, tt.flags...)...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", tt.flags, r.stderr)
		for _, w := range tt.want {
			assert.Contains(t, r.stderr, w, tt.flags)
		}
		assert.NotContains(t, r.stderr, "arguments, got", tt.flags)
	}
	// Before the locations, too.
	r := e.run(t, "sync", "--sse", "rot13", "s3://src-bucket", "s3://dst-bucket")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `--sse "rot13": server-side encryption must be AES256, aws:kms or aws:kms:dsse`)
	assert.Empty(t, e.keys(t, "dst-bucket"))

	r = e.run(t, "sync", "s3://src-bucket", "s3://dst-bucket", "--request-payer")
	require.Equal(t, exitOK, r.code, r.stderr)
}

// verify takes --request-payer as sync does: alone, with its value in
// either form, and refuses another value naming it.
func TestVerifyRequestPayer(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "src-bucket", map[string]string{"a": "a"})
	e.bucket(t, "dst-bucket", map[string]string{"a": "a"})
	for _, flags := range [][]string{{"--request-payer"}, {"--request-payer", "requester"}, {"--request-payer=requester"}} {
		r := e.run(t, append([]string{"verify", "s3://src-bucket", "s3://dst-bucket"}, flags...)...)
		assert.Equal(t, exitOK, r.code, "%v: %s", flags, r.stderr)
		assert.Contains(t, r.stderr, "matched 1, differ 0", flags)
	}
	r := e.run(t, "verify", "--request-payer", "requester", "s3://src-bucket", "s3://dst-bucket")
	assert.Equal(t, exitOK, r.code, r.stderr)
	r = e.run(t, "verify", "s3://src-bucket", "s3://dst-bucket", "--request-payer", "owner")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `--request-payer "owner": the only value is requester`)
}

func TestVerify(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "src-bucket", map[string]string{"a.txt": "hello", "b.txt": "world", "c/d.txt": "deep"})
	e.bucket(t, "dst-bucket", nil)
	require.Equal(t, exitOK, e.run(t, "sync", "s3://src-bucket", "s3://dst-bucket").code)

	r := e.run(t, "verify", "s3://src-bucket", "s3://dst-bucket")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Empty(t, r.stdout)
	assert.Regexp(t, `^matched 3, differ 0, missing on destination 0, missing on source 0 in \S+\n$`, r.stderr)

	e.put(t, "dst-bucket", "a.txt", "hello, changed")
	e.put(t, "dst-bucket", "extra.txt", "x")
	e.put(t, "src-bucket", "new.txt", "n")
	r = e.run(t, "verify", "s3://src-bucket", "s3://dst-bucket")
	assert.Equal(t, exitFailed, r.code)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Len(t, lines, 3, r.stdout)
	assert.True(t, strings.HasPrefix(lines[0], "size: a.txt ("), lines[0])
	assert.Equal(t, "missing-on-source: extra.txt", lines[1])
	assert.Equal(t, "missing-on-destination: new.txt", lines[2])
	assert.Contains(t, r.stderr, "matched 2, differ 1, missing on destination 1, missing on source 1 in ")
	assert.Contains(t, r.stderr, "\nxacct: source and destination differ: 1 differ, 1 missing on the destination, 1 missing on the source\n")

	r = e.run(t, "verify", "s3://src-bucket", "s3://dst-bucket", "--exclude", "*", "--include", "c/*", "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	var rep jsonVerifyReport
	require.NoError(t, json.NewDecoder(bytes.NewReader([]byte(r.stdout))).Decode(&rep), r.stdout)
	assert.True(t, rep.OK)
	assert.EqualValues(t, 1, rep.Matched)
	assert.NotNil(t, rep.Differences)

	r = e.run(t, "verify", "s3://src-bucket", "s3://dst-bucket", "--json")
	assert.Equal(t, exitFailed, r.code)
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
	assert.False(t, rep.OK)
	assert.Equal(t, []jsonDifference{{Key: "a.txt", Kind: "size", Detail: rep.Differences[0].Detail},
		{Key: "extra.txt", Kind: "missing-on-source"}, {Key: "new.txt", Kind: "missing-on-destination"}}, rep.Differences)
}

func TestJoinOptionalValues(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"sync", "a", "b", "--sse", "aws:kms"}, []string{"sync", "a", "b", "--sse=aws:kms"}},
		{[]string{"sync", "--sse", "s3://a", "s3://b"}, []string{"sync", "--sse", "s3://a", "s3://b"}},
		{[]string{"sync", "s3://a", "s3://b", "--sse", "rot13"}, []string{"sync", "s3://a", "s3://b", "--sse=rot13"}},
		{[]string{"sync", "s3://a", "s3://b", "--sse", "--delete"}, []string{"sync", "s3://a", "s3://b", "--sse", "--delete"}},
		{[]string{"verify", "s3://a", "s3://b", "--request-payer", "owner"}, []string{"verify", "s3://a", "s3://b", "--request-payer=owner"}},
		{[]string{"sync", "a", "b", "--request-payer", "requester", "--sse"}, []string{"sync", "a", "b", "--request-payer=requester", "--sse"}},
		{[]string{"sync", "--", "--sse", "AES256"}, []string{"sync", "--", "--sse", "AES256"}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, joinOptionalValues(tt.in))
	}
}
