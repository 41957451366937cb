package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeUnits are the size suffixes aws-cli accepts in its S3 settings
// (multipart_threshold, multipart_chunksize), every one a power of 1024:
// there, MB and MiB both mean 2^20 bytes.
var sizeUnits = map[string]int64{
	"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// parseSize reads a byte count such as 1048576, 8MB, 64MiB or 5GB, units
// case-insensitive and base 1024 as aws-cli reads them.
func parseSize(s string) (int64, error) {
	lower := strings.ToLower(strings.TrimSpace(s))
	digits, mult := lower, int64(1)
	for _, n := range []int{3, 2} { // "mib" before "mb"'s two letters
		if len(lower) > n {
			if m, ok := sizeUnits[lower[len(lower)-n:]]; ok {
				digits, mult = lower[:len(lower)-n], m
				break
			}
		}
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("size %q: must be a whole number of bytes, or one followed by KB, MB, GB, TB, KiB, MiB, GiB or TiB", s)
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return n * mult, nil
}

// sizeFlag is a flag holding a byte count written as parseSize reads it.
type sizeFlag struct {
	n   int64
	set bool
	raw string
}

func (f *sizeFlag) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	f.n, f.set, f.raw = n, true, s
	return nil
}

func (f *sizeFlag) Type() string { return "size" }

func (f *sizeFlag) String() string { return f.raw }
