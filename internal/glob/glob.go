// Package glob matches names against shell patterns with the semantics of
// Python's fnmatch, which aws-cli uses for --include and --exclude: '*'
// matches any run of characters including '/', '?' matches one character,
// '[seq]' and '[!seq]' match one character in or not in seq (ranges such as
// a-z allowed), and a '[' without a closing ']' is a literal. Matching is
// case-sensitive and covers the whole name.
package glob

import "unicode/utf8"

// Match reports whether name matches pattern.
func Match(pattern, name string) bool {
	// Iterative matcher with one backtrack point for the last '*': linear
	// in practice and never exponential.
	var px, nx int
	starPx, starNx := -1, -1
	for nx < len(name) || px < len(pattern) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				starPx, starNx = px, nx
				px++
				continue
			case '?':
				if nx < len(name) {
					_, w := utf8.DecodeRuneInString(name[nx:])
					px++
					nx += w
					continue
				}
			case '[':
				if nx < len(name) {
					r, w := utf8.DecodeRuneInString(name[nx:])
					if ok, width, valid := matchClass(pattern[px:], r); valid {
						if ok {
							px += width
							nx += w
							continue
						}
					} else if name[nx] == '[' {
						px++
						nx++
						continue
					}
				}
			default:
				if nx < len(name) && name[nx] == c {
					px++
					nx++
					continue
				}
			}
		}
		if starPx >= 0 && starNx < len(name) {
			_, w := utf8.DecodeRuneInString(name[starNx:])
			starNx += w
			px, nx = starPx+1, starNx
			continue
		}
		return false
	}
	return true
}

// matchClass matches r against the class at the start of p ("[...]").
// valid is false when the class has no closing bracket, in which case '['
// is a literal character.
func matchClass(p string, r rune) (ok bool, width int, valid bool) {
	i := 1
	negate := false
	if i < len(p) && p[i] == '!' {
		negate = true
		i++
	}
	// A ']' right after '[' or '[!' is a member, not the end.
	start := i
	for {
		if i >= len(p) {
			return false, 0, false
		}
		if p[i] == ']' && i > start {
			break
		}
		lo, w := utf8.DecodeRuneInString(p[i:])
		i += w
		hi := lo
		if i+1 < len(p) && p[i] == '-' && p[i+1] != ']' {
			hi, w = utf8.DecodeRuneInString(p[i+1:])
			i += 1 + w
		}
		if lo <= r && r <= hi {
			ok = true
		}
	}
	return ok != negate, i + 1, true
}
