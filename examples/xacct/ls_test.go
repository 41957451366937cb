package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLsFormat(t *testing.T) {
	tz := time.FixedZone("UTC-7", -7*3600)
	at := time.Date(2026, 3, 1, 2, 4, 5, 0, time.UTC) // 2026-02-28 19:04:05 in tz
	plain, human := lsFormat{tz: tz}, lsFormat{human: true, tz: tz}

	assert.Equal(t, "                           PRE b/\n", plain.prefixLine("a/b/"))
	assert.Equal(t, "                           PRE top/\n", plain.prefixLine("top/"))
	assert.Equal(t, "2026-02-28 19:04:05       1234 q1.csv\n", plain.objectLine("q1.csv", 1234, at))
	assert.Equal(t, "2026-02-28 19:04:05 12345678901 big\n", plain.objectLine("big", 12345678901, at), "wider sizes push the name")
	assert.Equal(t, "2026-02-28 19:04:05    1.2 KiB q1.csv\n", human.objectLine("q1.csv", 1234, at))
	assert.Equal(t, "2026-02-28 19:04:05     1 Byte x\n", human.objectLine("x", 1, at))
	assert.Equal(t, "2026-02-28 19:04:05 my-bucket\n", plain.bucketLine("my-bucket", at))
	assert.Equal(t, "\nTotal Objects: 3\n   Total Size: 3072\n", plain.summary(3, 3072))
	assert.Equal(t, "\nTotal Objects: 3\n   Total Size: 3.0 KiB\n", human.summary(3, 3072))
}

// lsFixture is a bucket whose objects cover folders, nested folders, an
// empty object and sizes with a known human form.
var lsFixture = map[string]string{
	"top.txt":           strings.Repeat("t", 10),
	"empty":             "",
	"docs/a.md":         strings.Repeat("a", 1536),
	"docs/sub/b.bin":    "b",
	"photos/2026/c.jpg": strings.Repeat("c", 2048),
}

func TestLs(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "ls-bucket", lsFixture)
	e.bucket(t, "empty-bucket", nil)

	// Expected lines are built by hand from what S3 reports: date in the
	// test zone, 19 columns; size right-aligned in 10; name.
	modified := map[string]time.Time{}
	out, err := e.s3.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String("ls-bucket")})
	require.NoError(t, err)
	for _, o := range out.Contents {
		modified[*o.Key] = *o.LastModified
	}
	obj := func(key, size, name string) string {
		return modified[key].In(testTZ).Format("2006-01-02 15:04:05") + " " + strings.Repeat(" ", 10-len(size)) + size + " " + name + "\n"
	}
	pre := func(name string) string { return strings.Repeat(" ", 27) + "PRE " + name + "/\n" }

	tests := []struct {
		name string
		args []string
		want string
		code int
	}{
		{"bucket root", []string{"s3://ls-bucket"},
			pre("docs") + pre("photos") + obj("empty", "0", "empty") + obj("top.txt", "10", "top.txt"), exitOK},
		{"folder", []string{"s3://ls-bucket/docs/"},
			pre("sub") + obj("docs/a.md", "1536", "a.md"), exitOK},
		{"prefix without slash", []string{"s3://ls-bucket/docs"}, pre("docs"), exitOK},
		{"partial name", []string{"s3://ls-bucket/to"}, obj("top.txt", "10", "top.txt"), exitOK},
		{"recursive", []string{"s3://ls-bucket", "--recursive"},
			obj("docs/a.md", "1536", "docs/a.md") + obj("docs/sub/b.bin", "1", "docs/sub/b.bin") +
				obj("empty", "0", "empty") + obj("photos/2026/c.jpg", "2048", "photos/2026/c.jpg") +
				obj("top.txt", "10", "top.txt"), exitOK},
		{"recursive human summarize", []string{"s3://ls-bucket/docs/", "--recursive", "--human-readable", "--summarize"},
			obj("docs/a.md", "1.5 KiB", "docs/a.md") + obj("docs/sub/b.bin", "1 Byte", "docs/sub/b.bin") +
				"\nTotal Objects: 2\n   Total Size: 1.5 KiB\n", exitOK},
		{"summarize counts objects only", []string{"s3://ls-bucket", "--summarize"},
			pre("docs") + pre("photos") + obj("empty", "0", "empty") + obj("top.txt", "10", "top.txt") +
				"\nTotal Objects: 2\n   Total Size: 10\n", exitOK},
		{"nothing matches", []string{"s3://ls-bucket/nothing/"}, "", exitFailed},
		{"empty bucket summarize", []string{"s3://empty-bucket", "--summarize"}, "\nTotal Objects: 0\n   Total Size: 0\n", exitOK},
		{"empty bucket", []string{"s3://empty-bucket"}, "", exitOK},
		{"empty bucket with slash", []string{"s3://empty-bucket/"}, "", exitOK},
		{"empty bucket recursive", []string{"s3://empty-bucket/", "--recursive"}, "", exitOK},
		{"empty bucket, a prefix", []string{"s3://empty-bucket/x"}, "", exitFailed},
		{"nothing matches recursive", []string{"s3://ls-bucket/nothing", "--recursive"}, "", exitFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.run(t, append([]string{"ls"}, tt.args...)...)
			assert.Equal(t, tt.code, r.code)
			assert.Empty(t, r.stderr, "aws-cli prints nothing when nothing matches")
			assert.Equal(t, tt.want, r.stdout)
		})
	}
}

func TestLsBuckets(t *testing.T) {
	e := newEnv(t)
	e.bucket(t, "first-bucket", nil)
	e.bucket(t, "second-bucket", nil)
	e.bucket(t, "a-third-bucket", nil)
	out, err := e.s3.ListBuckets(t.Context(), &s3.ListBucketsInput{})
	require.NoError(t, err)
	created := map[string]time.Time{}
	for _, b := range out.Buckets {
		created[*b.Name] = *b.CreationDate
	}
	require.Len(t, created, 3)
	var want strings.Builder
	for _, name := range []string{"a-third-bucket", "first-bucket", "second-bucket"} {
		want.WriteString(created[name].In(testTZ).Format("2006-01-02 15:04:05") + " " + name + "\n")
	}

	// S3 sorts buckets by name; the sandbox does not, so ls does.
	for _, args := range [][]string{{"ls"}, {"ls", "s3://"}} {
		r := e.run(t, args...)
		assert.Equal(t, exitOK, r.code, r.stderr)
		assert.Equal(t, want.String(), r.stdout, args)
	}
}

func TestLsMissingBucket(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, "ls", "s3://no-such-bucket/x/")
	assert.Equal(t, exitFailed, r.code)
	assert.Empty(t, r.stdout)
	assert.Regexp(t, `^xacct: list s3://no-such-bucket/x/: NoSuchBucket: .*\n$`, r.stderr)
}

// unsortedBuckets answers ListBuckets in two pages, out of name order, as
// the sandbox and some S3-compatible servers do.
type unsortedBuckets struct{ lsClient }

func (unsortedBuckets) ListBuckets(_ context.Context, in *s3.ListBucketsInput, _ ...func(*s3.Options)) (*s3.ListBucketsOutput, error) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if in.ContinuationToken == nil {
		return &s3.ListBucketsOutput{
			Buckets:           []types.Bucket{{Name: aws.String("zeta"), CreationDate: &at}, {Name: aws.String("alpha"), CreationDate: &at}},
			ContinuationToken: aws.String("next"),
		}, nil
	}
	return &s3.ListBucketsOutput{Buckets: []types.Bucket{{Name: aws.String("mid"), CreationDate: &at}}}, nil
}

func TestLsBucketsSortedByName(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, runLs(t.Context(), unsortedBuckets{}, nil, lsOptions{}, &out, time.UTC))
	assert.Equal(t, "2026-03-01 12:00:00 alpha\n2026-03-01 12:00:00 mid\n2026-03-01 12:00:00 zeta\n", out.String())
}
