package glob_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/xacct/xacct/internal/glob"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*", "", true},
		{"*", "a/b/c", true},
		{"*.txt", "dir/a.txt", true},
		{"*.txt", "a.txt.gz", false},
		{"dir/*", "dir/sub/x", true},
		{"dir/*", "dir2/x", false},
		{"?.log", "a.log", true},
		{"?.log", "ab.log", false},
		{"?", "é", true},
		{"[ab]*", "b1", true},
		{"[ab]*", "c1", false},
		{"[!ab]*", "c1", true},
		{"[a-c]x", "bx", true},
		{"[a-c]x", "dx", false},
		{"[]]", "]", true},
		{"[!]]", "a", true},
		{"[abc", "[abc", true},
		{"[abc", "a", false},
		{"a[-]b", "a-b", true},
		{"*a*b*c*", "xxaxxbxxcxx", true},
		{"*a*b*c*", "xxaxxcxxbxx", false},
		{"CASE", "case", false},
		{"", "", true},
		{"", "a", false},
		{"a", "", false},
		{"**/x", "a/b/x", true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, glob.Match(tt.pattern, tt.name), "Match(%q, %q)", tt.pattern, tt.name)
	}
}

// translate is a reference model of fnmatch for patterns without classes.
func translate(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	for _, r := range p {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String())
}

func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{{"*.txt", "a.txt"}, {"a?c*", "abcd"}, {"*/*", "x/y"}, {"", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		got := glob.Match(pattern, name)
		if strings.ContainsAny(pattern, "[") || !isUTF8(pattern) || !isUTF8(name) {
			return
		}
		if want := translate(pattern).MatchString(name); got != want {
			t.Fatalf("Match(%q, %q) = %v, reference says %v", pattern, name, got, want)
		}
	})
}

func isUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
