package sandbox

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"net/http"
	"strconv"
	"strings"
)

// crc64NVME is the table of the CRC-64/NVME polynomial (0xad93d23594c93659)
// in the reflected form hash/crc64 expects.
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// Checksum types, as x-amz-checksum-type names them.
const (
	checksumComposite  = "COMPOSITE"
	checksumFullObject = "FULL_OBJECT"
	hdrChecksumType    = "X-Amz-Checksum-Type"
)

// checksumAlgorithms are the additional checksum algorithms S3 knows, by
// their x-amz-checksum-algorithm name.
var checksumAlgorithms = []string{"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"}

// newChecksum returns the hash of an algorithm ("CRC32"…), nil for an
// unknown one.
func newChecksum(alg string) hash.Hash {
	switch alg {
	case "CRC32":
		return crc32.NewIEEE()
	case "CRC32C":
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case "CRC64NVME":
		return crc64.New(crc64NVME)
	case "SHA1":
		return sha1.New()
	case "SHA256":
		return sha256.New()
	}
	return nil
}

// checksumHeaderOf is the header that carries an algorithm's value, such
// as X-Amz-Checksum-Crc32c for CRC32C.
func checksumHeaderOf(alg string) string {
	return http.CanonicalHeaderKey("X-Amz-Checksum-" + strings.ToLower(alg))
}

// checksumOf returns the raw digest of b with alg.
func checksumOf(alg string, b []byte) []byte {
	h := newChecksum(alg)
	h.Write(b)
	return h.Sum(nil)
}

func encodeChecksum(raw []byte) string { return base64.StdEncoding.EncodeToString(raw) }

// compositeChecksum is S3's checksum of checksums for a multipart upload:
// the algorithm over the parts' raw digests in part order, then -N.
func compositeChecksum(alg string, parts [][]byte) string {
	h := newChecksum(alg)
	for _, p := range parts {
		h.Write(p)
	}
	return encodeChecksum(h.Sum(nil)) + "-" + strconv.Itoa(len(parts))
}

// sentChecksum returns the algorithm and value of the first additional
// checksum a request carries in its headers.
func sentChecksum(h http.Header) (alg, value string) {
	for _, a := range checksumAlgorithms {
		if v := h.Get(checksumHeaderOf(a)); v != "" {
			return a, v
		}
	}
	return "", ""
}

// uploadChecksumType decides the checksum type of a multipart upload
// created with alg and the requested type (""  for the default), as S3
// allows them: CRC64NVME is full-object only, SHA1 and SHA256 composite
// only, CRC32 and CRC32C either (composite by default). ok is false for a
// combination S3 refuses.
func uploadChecksumType(alg, typ string) (string, bool) {
	switch {
	case alg == "":
		return "", typ == ""
	case newChecksum(alg) == nil:
		return "", false
	case typ == "" && alg == "CRC64NVME":
		return checksumFullObject, true
	case typ == "":
		return checksumComposite, true
	case typ == checksumFullObject:
		return typ, alg != "SHA1" && alg != "SHA256"
	case typ == checksumComposite:
		return typ, alg != "CRC64NVME"
	}
	return "", false
}
