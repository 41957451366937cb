package xacct_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

func TestParseLocation(t *testing.T) {
	ok := []struct {
		in     string
		bucket string
		prefix string
	}{
		{"s3://my-bucket", "my-bucket", ""},
		{"s3://my-bucket/", "my-bucket", ""},
		{"s3://my.bucket-1/a/b c/", "my.bucket-1", "a/b c/"},
		{"s3://abc/日本", "abc", "日本"},
	}
	for _, tt := range ok {
		loc, err := xacct.ParseLocation(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, xacct.Location{Bucket: tt.bucket, Prefix: tt.prefix}, loc)
	}

	bad := []struct {
		in, field, value, rule string
	}{
		{"my-bucket/x", "location", "my-bucket/x", "must start with s3://"},
		{"s3://", "bucket", "", "must be 3 to 63 characters long"},
		{"s3://ab", "bucket", "ab", "must be 3 to 63 characters long"},
		{"s3://" + strings.Repeat("a", 64), "bucket", strings.Repeat("a", 64), "must be 3 to 63 characters long"},
		{"s3://My-Bucket", "bucket", "My-Bucket", "may contain only lowercase letters, digits, dots and hyphens"},
		{"s3://my_bucket", "bucket", "my_bucket", "may contain only lowercase letters, digits, dots and hyphens"},
		{"s3://-bucket", "bucket", "-bucket", "must begin and end with a letter or digit"},
		{"s3://bucket.", "bucket", "bucket.", "must begin and end with a letter or digit"},
		{"s3://my..bucket", "bucket", "my..bucket", "must not contain two adjacent dots"},
		{"s3://192.168.5.4", "bucket", "192.168.5.4", "must not be formatted as an IP address"},
		{"s3://xn--bucket", "bucket", "xn--bucket", "must not start with the reserved prefix xn--"},
		{"s3://bucket-s3alias", "bucket", "bucket-s3alias", "must not end with the reserved suffix -s3alias"},
		{"s3://bucket/" + strings.Repeat("k", 1025), "prefix", strings.Repeat("k", 1025), "must be at most 1024 bytes"},
		{"s3://bucket/\xff", "prefix", "\xff", "must be valid UTF-8"},
	}
	for _, tt := range bad {
		_, err := xacct.ParseLocation(tt.in)
		var ve *xacct.ValidationError
		require.ErrorAs(t, err, &ve, tt.in)
		assert.ErrorIs(t, err, xacct.ErrInvalidLocation)
		assert.Equal(t, tt.field, ve.Field, tt.in)
		assert.Equal(t, tt.value, ve.Value, tt.in)
		assert.Equal(t, tt.rule, ve.Rule, tt.in)
		assert.Contains(t, err.Error(), tt.rule)
	}
}

func TestLocationString(t *testing.T) {
	assert.Equal(t, "s3://b-1/", xacct.Location{Bucket: "b-1"}.String())
	assert.Equal(t, "s3://b-1/p/q", xacct.Location{Bucket: "b-1", Prefix: "p/q"}.String())
	assert.Panics(t, func() { xacct.MustParseLocation("nope") })
}

func FuzzParseLocation(f *testing.F) {
	for _, s := range []string{"s3://bucket/key", "s3://a.b-c/", "s3://x", "s3://b/\xff", "s3://1.2.3.4/k"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		loc, err := xacct.ParseLocation(s)
		if err != nil {
			return
		}
		// A valid location prints back to one that parses to itself.
		again, err := xacct.ParseLocation(loc.String())
		if err != nil || again != loc {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, loc, loc.String(), again, err)
		}
	})
}

func TestWhoAmI(t *testing.T) {
	sb, err := sandbox.Start()
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	id, err := xacct.WhoAmI(t.Context(), sb.STS(sb.Root(sandbox.AccountB)))
	require.NoError(t, err)
	assert.Equal(t, sandbox.AccountB, id.Account)
	assert.Equal(t, "arn:aws:iam::"+sandbox.AccountB+":root", id.ARN)
	assert.NotEmpty(t, id.UserID)

	bad := sb.Root(sandbox.AccountA)
	bad.AccessKeyID = "AKIAUNKNOWN000000000"
	_, err = xacct.WhoAmI(t.Context(), sb.STS(bad))
	require.ErrorContains(t, err, "get caller identity")
}
