package humanize_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/xacct/xacct/internal/humanize"
)

func TestSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 Bytes"},
		{1, "1 Byte"},
		{10, "10 Bytes"},
		{1023, "1023 Bytes"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{1024*1024 - 1, "1.0 MiB"},
		{1024 * 1024, "1.0 MiB"},
		{5 * 1024 * 1024 * 1024, "5.0 GiB"},
		{1 << 40, "1.0 TiB"},
		{1 << 62, "4.0 EiB"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, humanize.Size(tt.n), "Size(%d)", tt.n)
	}
}
