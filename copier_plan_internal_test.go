package xacct

import (
	"fmt"
	"testing"
)

// Part planning stays within S3's limits at every size up to 5 TiB:
// at most MaxParts parts, none above MaxPartSize, none but the last below
// MinPartSize, laid end to end over the whole object.
func TestPlanPartsWithinS3Limits(t *testing.T) {
	const gib, tib = int64(1) << 30, int64(1) << 40
	sizes := []int64{1, MinPartSize - 1, MinPartSize, DefaultPartSize + 1, MaxCopyObjectSize, MaxCopyObjectSize + 1, 6 * gib,
		DefaultPartSize * MaxParts, DefaultPartSize*MaxParts + 1, 100 * gib, tib, 5*tib - 1, MaxObjectSize}
	for _, partSize := range []int64{MinPartSize, DefaultPartSize, 64 << 20, MaxPartSize} {
		for _, size := range sizes {
			t.Run(fmt.Sprintf("%d/%d", partSize, size), func(t *testing.T) {
				parts := planParts(size, partSize)
				if len(parts) == 0 || len(parts) > MaxParts {
					t.Fatalf("%d parts, want 1 to %d", len(parts), MaxParts)
				}
				var next int64
				for i, p := range parts {
					n := p.last - p.first + 1
					switch {
					case p.number != int32(i+1):
						t.Fatalf("part %d numbered %d", i+1, p.number)
					case p.first != next:
						t.Fatalf("part %d starts at %d, want %d", p.number, p.first, next)
					case n > MaxPartSize:
						t.Fatalf("part %d is %d bytes, more than %d", p.number, n, int64(MaxPartSize))
					case n < MinPartSize && i < len(parts)-1:
						t.Fatalf("part %d of %d is %d bytes, less than %d", p.number, len(parts), n, MinPartSize)
					}
					next = p.last + 1
				}
				if next != size {
					t.Fatalf("parts cover %d bytes of %d", next, size)
				}
				if size <= partSize*MaxParts && len(parts) != int((size+partSize-1)/partSize) {
					t.Fatalf("%d parts for %d bytes: the part size %d should not have grown", len(parts), size, partSize)
				}
			})
		}
	}
}

// Objects above MaxCopyObjectSize always go in parts, whatever the
// strategy, the threshold and the source's layout; at or below it, a
// single-part object follows the threshold and CompareETag.
func TestCopyInPartsAboveFiveGiB(t *testing.T) {
	for _, compare := range []CompareStrategy{CompareSizeAndTime, CompareSizeOnly, CompareETag} {
		for _, etag := range []string{"", "0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef-3"} {
			r := &syncRun{o: copierOptions{compare: compare, copyThreshold: DefaultMultipartCopyThreshold}}
			for _, size := range []int64{MaxCopyObjectSize + 1, 6 << 30, MaxObjectSize} {
				if !r.copyInParts(Object{Size: size, ETag: etag}) {
					t.Errorf("%v, ETag %q, %d bytes: one CopyObject, S3 refuses it above %d", compare, etag, size, int64(MaxCopyObjectSize))
				}
			}
			below := r.copyInParts(Object{Size: MaxCopyObjectSize - 1, ETag: etag})
			if want := etagParts(etag) > 0; below != want {
				t.Errorf("%v, ETag %q, 5 GiB - 1: in parts %v, want %v", compare, etag, below, want)
			}
		}
	}
}
