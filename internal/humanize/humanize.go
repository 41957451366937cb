// Package humanize formats byte counts the way aws-cli does.
package humanize

import (
	"math"
	"strconv"
)

var suffixes = [...]string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}

// Size formats n bytes as aws-cli's --human-readable does: "1 Byte",
// "10 Bytes", then base-2 units with one decimal ("1.0 KiB", "4.5 MiB").
func Size(n int64) string {
	const base = 1024.0
	v := float64(n)
	switch {
	case n == 1:
		return "1 Byte"
	case v < base:
		return strconv.FormatInt(n, 10) + " Bytes"
	}
	unit := base * base
	for _, s := range suffixes {
		// aws-cli moves to the next unit once the value would round to
		// 1024 of this one.
		if math.RoundToEven(v/unit*base) < base {
			return strconv.FormatFloat(base*v/unit, 'f', 1, 64) + " " + s
		}
		unit *= base
	}
	return strconv.FormatFloat(v/unit*base*base, 'f', 1, 64) + " " + suffixes[len(suffixes)-1]
}
