package sandbox

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"

	"github.com/johannesboyne/gofakes3"
)

// upload is what the front tracks of a multipart upload in progress.
type upload struct {
	token string // the writeInfo.Upload the completing write carries
	tags  *tagging
	parts map[int]part
	// algorithm and checksumType are the upload's additional checksum
	// ("CRC32"…, "" for none) and its type (COMPOSITE or FULL_OBJECT).
	algorithm, checksumType string
	// kmsKey is the ARN of the sandbox KMS key the upload is encrypted
	// with, "" when it is not encrypted with one (see kms.go).
	kmsKey string
}

type part struct {
	md5  []byte
	size int64
	// checksum is the raw digest with the upload's algorithm, nil when
	// the upload has none.
	checksum []byte
}

func writeBackendError(w http.ResponseWriter, err error) {
	var ec interface{ ErrorCode() gofakes3.ErrorCode }
	if errors.As(err, &ec) {
		code := ec.ErrorCode()
		writeS3Error(w, code.Status(), string(code), code.Message())
		return
	}
	writeS3Error(w, http.StatusInternalServerError, "InternalError", err.Error())
}

// stripInternal removes X-Amz-Sandbox-* headers a client sent: only the
// front may set them.
func stripInternal(h http.Header) {
	for k := range h {
		if strings.HasPrefix(k, hdrInternal) {
			delete(h, k)
		}
	}
}

// expectedOwnersMatch refuses, as AWS does with 403, a request whose
// x-amz-expected-bucket-owner (or x-amz-source-expected-bucket-owner for
// the copy source) names another account than the bucket's owner.
func (sb *Sandbox) expectedOwnersMatch(w http.ResponseWriter, r *http.Request, op, bucket string) bool {
	match := func(header, b string) bool {
		want := r.Header.Get(header)
		if want == "" {
			return true
		}
		owner := sb.BucketOwner(b)
		return owner == "" || owner == want
	}
	ok := match("X-Amz-Expected-Bucket-Owner", bucket)
	if ok && (op == "CopyObject" || op == "UploadPartCopy") {
		if src, valid := parseCopySource(r.Header.Get("X-Amz-Copy-Source")); valid {
			ok = match("X-Amz-Source-Expected-Bucket-Owner", src.bucket)
		}
	}
	if !ok {
		writeS3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied")
	}
	return ok
}

// newWrite decides owner and ACL of an object the caller writes and
// returns them as the backend will store them; it writes the error and
// returns false when the request's ACL is invalid.
func (sb *Sandbox) newWrite(w http.ResponseWriter, r *http.Request, req *request, bucket string) (writeInfo, bool) {
	owner := sb.writeOwner(bucket, req.principal.Account, r.Header.Get("X-Amz-Acl"))
	acl, _, err := requestGrants(r.Header, owner, sb.BucketOwner(bucket))
	if err != nil {
		writeS3Error(w, http.StatusBadRequest, "InvalidArgument", "The ACL you provided is not valid.")
		return writeInfo{}, false
	}
	if !sb.ObjectLockEnabled(bucket) && (r.Header.Get("X-Amz-Object-Lock-Mode") != "" || r.Header.Get("X-Amz-Object-Lock-Legal-Hold") != "") {
		writeS3Error(w, http.StatusBadRequest, "InvalidRequest", "Bucket is missing Object Lock Configuration")
		return writeInfo{}, false
	}
	wi := writeInfo{Owner: owner, Grants: acl}
	for _, k := range []string{"Content-Language", "Cache-Control", "Expires"} {
		if v := r.Header.Get(k); v != "" {
			if wi.Headers == nil {
				wi.Headers = make(map[string]string)
			}
			wi.Headers[k] = v
		}
	}
	return wi, true
}

func setWriteHeader(r *http.Request, wi writeInfo) {
	b, _ := json.Marshal(wi)
	r.Header.Set(hdrWrite, string(b))
}

// requestTags reads x-amz-tagging (URL-encoded key=value pairs); nil when
// absent.
func requestTags(h http.Header) (*tagging, error) {
	raw := h.Get("X-Amz-Tagging")
	if raw == "" {
		return nil, nil
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return nil, err
	}
	t := &tagging{Xmlns: s3NS}
	for k, vs := range vals {
		for _, v := range vs {
			t.TagSet.Tag = append(t.TagSet.Tag, struct {
				Key   string
				Value string
			}{k, v})
		}
	}
	return t, nil
}

func (sb *Sandbox) setTags(bucket, key string, t *tagging) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if t == nil {
		delete(sb.tags, objectRef{bucket, key})
		return
	}
	sb.tags[objectRef{bucket, key}] = *t
}

// putObject hands a PutObject to gofakes3 with the owner and ACL attached,
// and keeps the tags sent with it.
func (sb *Sandbox) putObject(w http.ResponseWriter, r *http.Request, req *request, bucket, key string) {
	wi, ok := sb.newWrite(w, r, req, bucket)
	if !ok {
		return
	}
	tags, err := requestTags(r.Header)
	if err != nil {
		writeS3Error(w, http.StatusBadRequest, "InvalidArgument", "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
		return
	}
	setWriteHeader(r, wi)
	if !checkSentChecksum(w, r, "CRC64NVME") {
		return
	}
	rec := &statusRecorder{ResponseWriter: w}
	sb.s3.ServeHTTP(rec, r)
	if rec.status < 300 {
		sb.setTags(bucket, key, tags)
	}
}

// checkSentChecksum checks the additional checksum a PutObject or
// UploadPart sends against its body, as S3 does, answering BadDigest when
// they differ, and echoes it in the response. Without one, it computes
// defaultAlg ("" for none) into the request for the backend to store, as
// S3 gives objects a CRC64NVME. The body is read into memory and
// replaced.
func checkSentChecksum(w http.ResponseWriter, r *http.Request, defaultAlg string) bool {
	alg, want := sentChecksum(r.Header)
	if alg == "" && defaultAlg == "" {
		return true
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeS3Error(w, http.StatusBadRequest, "IncompleteBody", err.Error())
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if alg == "" {
		alg = defaultAlg
		want = encodeChecksum(checksumOf(alg, body))
		r.Header.Set(checksumHeaderOf(alg), want)
	}
	if got := encodeChecksum(checksumOf(alg, body)); got != want {
		writeS3Error(w, http.StatusBadRequest, "BadDigest", "The "+alg+" you specified did not match the calculated checksum.")
		return false
	}
	w.Header().Set(checksumHeaderOf(alg), want)
	w.Header().Set(hdrChecksumType, checksumFullObject)
	return true
}

// objectWriter fixes gofakes3's GET and HEAD responses on the way out:
// AWS's multipart ETag, the part count of a partNumber read, and no
// full-object checksum on a partial read.
type objectWriter struct {
	http.ResponseWriter
	partNumber, partial bool
	fixed               bool
}

func (o *objectWriter) fix() {
	if o.fixed {
		return
	}
	o.fixed = true
	h := o.Header()
	if e := h.Get(hdrETag); e != "" {
		h.Set("ETag", e)
	}
	if n := h.Get(hdrParts); n != "" && o.partNumber {
		h.Set("X-Amz-Mp-Parts-Count", n)
	}
	h.Del(hdrETag)
	h.Del(hdrParts)
	if o.partial {
		for k := range h {
			if checksumHeader(k) {
				delete(h, k)
			}
		}
	}
}

func (o *objectWriter) WriteHeader(code int) {
	o.fix()
	o.ResponseWriter.WriteHeader(code)
}

func (o *objectWriter) Write(b []byte) (int, error) {
	o.fix()
	return o.ResponseWriter.Write(b)
}

// getObject serves GetObject and HeadObject through gofakes3, turning
// partNumber into the part's byte range.
func (sb *Sandbox) getObject(w http.ResponseWriter, r *http.Request, bucket, key string) {
	q := r.URL.Query()
	ow := &objectWriter{ResponseWriter: w, partial: r.Header.Get("Range") != ""}
	if pn := q.Get("partNumber"); pn != "" {
		n, err := strconv.Atoi(pn)
		if err != nil || n < 1 || n > 10000 {
			writeS3Error(w, http.StatusBadRequest, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive")
			return
		}
		obj, info, err := sb.backend.info(bucket, key, q.Get("versionId"))
		if err != nil {
			writeBackendError(w, err)
			return
		}
		parts := info.Parts
		if len(parts) == 0 {
			parts = []int64{obj.Size}
		}
		if n > len(parts) {
			writeS3Error(w, http.StatusRequestedRangeNotSatisfiable, "InvalidPartNumber", "The requested partnumber is not satisfiable")
			return
		}
		var start int64
		for _, s := range parts[:n-1] {
			start += s
		}
		if parts[n-1] > 0 {
			r.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", start, start+parts[n-1]-1))
		}
		ow.partNumber, ow.partial = true, true
	}
	if im := r.Header.Get("If-Match"); im != "" {
		// S3 answers 412 when the object's ETag is not among those
		// given, so a reader pinned to a listed version notices a change.
		obj, info, err := sb.backend.info(bucket, key, q.Get("versionId"))
		if err != nil {
			writeBackendError(w, err)
			return
		}
		if !etagListed(im, objectETag(obj, info)) {
			writeS3Error(w, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
			return
		}
	}
	sb.s3.ServeHTTP(ow, r)
	// A HEAD writes neither status nor body: net/http sends the headers
	// after the handler returns.
	ow.fix()
}

func objectETag(obj *gofakes3.Object, info *objectInfo) string {
	if info.ETag != "" {
		return info.ETag
	}
	return gofakes3.FormatETag(obj.Hash)
}

// etagListed reports whether etag is in a comma-separated If-Match list,
// or the list is "*".
func etagListed(list, etag string) bool {
	for e := range strings.SplitSeq(list, ",") {
		e = strings.TrimSpace(e)
		if e == "*" || strings.Trim(e, `"`) == strings.Trim(etag, `"`) {
			return true
		}
	}
	return false
}

// copyPreconditions checks x-amz-copy-source-if-match and -if-none-match
// against the source's ETag, writing 412 when one fails.
func copyPreconditions(w http.ResponseWriter, r *http.Request, etag string) bool {
	match := func(list string) bool { return etagListed(list, etag) }
	if v := r.Header.Get("X-Amz-Copy-Source-If-Match"); v != "" && !match(v) {
		writeS3Error(w, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
		return false
	}
	if v := r.Header.Get("X-Amz-Copy-Source-If-None-Match"); v != "" && match(v) {
		writeS3Error(w, http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
		return false
	}
	return true
}

func (sb *Sandbox) versioned(bucket string) bool {
	v, err := sb.backend.VersioningConfiguration(bucket)
	return err == nil && v.Status == gofakes3.VersioningEnabled
}

// copySourceObject reads the copy source (the version it names, if any),
// checks the preconditions and returns it with its info; rng limits the
// bytes read. It writes the error and returns ok false on failure.
func (sb *Sandbox) copySourceObject(w http.ResponseWriter, r *http.Request, rng func(size int64) (*gofakes3.ObjectRangeRequest, bool)) (src copySource, obj *gofakes3.Object, info *objectInfo, body []byte, ok bool) {
	src, valid := parseCopySource(r.Header.Get("X-Amz-Copy-Source"))
	if !valid {
		writeS3Error(w, http.StatusBadRequest, "InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
		return src, nil, nil, nil, false
	}
	head, info, err := sb.backend.info(src.bucket, src.key, src.versionID)
	if err != nil {
		writeBackendError(w, err)
		return src, nil, nil, nil, false
	}
	if !copyPreconditions(w, r, objectETag(head, info)) {
		return src, nil, nil, nil, false
	}
	var rr *gofakes3.ObjectRangeRequest
	if rng != nil {
		if rr, valid = rng(head.Size); !valid {
			writeS3Error(w, http.StatusBadRequest, "InvalidArgument", fmt.Sprintf("Range specified is not valid for source object of size: %d", head.Size))
			return src, nil, nil, nil, false
		}
	}
	obj, err = sb.backend.Backend.GetObjectVersion(src.bucket, src.key, head.VersionID, rr)
	if err == nil {
		body, err = readAll(obj)
	}
	if err != nil {
		writeBackendError(w, err)
		return src, nil, nil, nil, false
	}
	return src, head, info, body, true
}

// requestLevel are the headers a copy takes from its request whatever the
// metadata directive: they describe how the copy is stored, not what it is.
func requestLevel(k string) bool {
	return k == "X-Amz-Storage-Class" || k == "X-Amz-Website-Redirect-Location" ||
		strings.HasPrefix(k, "X-Amz-Server-Side-Encryption") || strings.HasPrefix(k, "X-Amz-Object-Lock-")
}

// copyObject serves CopyObject itself: gofakes3 merges metadata on
// REPLACE, copies the latest version whatever versionId says and ignores
// the copy-source conditions.
func (sb *Sandbox) copyObject(w http.ResponseWriter, r *http.Request, req *request, bucket, key string) {
	directive := r.Header.Get("X-Amz-Metadata-Directive")
	tagDirective := r.Header.Get("X-Amz-Tagging-Directive")
	if (directive != "" && directive != "COPY" && directive != "REPLACE") ||
		(tagDirective != "" && tagDirective != "COPY" && tagDirective != "REPLACE") {
		writeS3Error(w, http.StatusBadRequest, "InvalidArgument", "Unknown metadata or tagging directive.")
		return
	}
	if sb.BucketOwner(bucket) == "" {
		writeS3Error(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	wi, ok := sb.newWrite(w, r, req, bucket)
	if !ok {
		return
	}
	tags, err := requestTags(r.Header)
	if err != nil {
		writeS3Error(w, http.StatusBadRequest, "InvalidArgument", "The header 'x-amz-tagging' is not valid.")
		return
	}
	src, obj, srcInfo, body, ok := sb.copySourceObject(w, r, nil)
	if !ok {
		return
	}
	meta := make(map[string]string)
	if directive == "REPLACE" {
		meta = contentHeaders(r.Header)
	} else {
		for k, v := range srcInfo.Meta {
			if !requestLevel(k) && !checksumHeader(k) && k != hdrChecksumType {
				meta[k] = v
			}
		}
	}
	// The copy is one object: its checksum is a full-object one, with the
	// algorithm asked for or else the source's (CRC64NVME when the source
	// has none, see backend.put).
	alg := strings.ToUpper(r.Header.Get("X-Amz-Checksum-Algorithm"))
	if newChecksum(alg) == nil {
		alg = ""
		for _, a := range checksumAlgorithms {
			if srcInfo.Meta[checksumHeaderOf(a)] != "" {
				alg = a
			}
		}
	}
	if alg != "" {
		meta[checksumHeaderOf(alg)] = encodeChecksum(checksumOf(alg, body))
	}
	for k, v := range r.Header {
		if requestLevel(k) && len(v) > 0 {
			meta[k] = v[0]
		}
	}
	now := sb.now()
	meta["Last-Modified"] = now.UTC().Format(http.TimeFormat)
	if tagDirective != "REPLACE" {
		sb.mu.RLock()
		t, had := sb.tags[objectRef{src.bucket, src.key}]
		sb.mu.RUnlock()
		tags = nil
		if had {
			tags = &t
		}
	}
	res, err := sb.backend.put(bucket, key, &objectInfo{Meta: meta, Owner: wi.Owner, Grants: wi.Grants}, bytes.NewReader(body), int64(len(body)), nil)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	sb.setTags(bucket, key, tags)
	if res.VersionID != "" {
		w.Header().Set("X-Amz-Version-Id", string(res.VersionID))
	}
	if sb.versioned(src.bucket) {
		w.Header().Set("X-Amz-Copy-Source-Version-Id", string(obj.VersionID))
	}
	for k, v := range meta {
		if strings.HasPrefix(k, "X-Amz-Server-Side-Encryption") {
			w.Header().Set(k, v)
		}
	}
	sum := md5.Sum(body)
	writeXML(w, http.StatusOK, gofakes3.CopyObjectResult{ETag: gofakes3.FormatETag(sum[:]), LastModified: gofakes3.NewContentTime(now)})
}

type copyPartResult struct {
	XMLName           xml.Name             `xml:"CopyPartResult"`
	Xmlns             string               `xml:"xmlns,attr"`
	ETag              string               `xml:"ETag"`
	LastModified      gofakes3.ContentTime `xml:"LastModified"`
	ChecksumCRC32     string               `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string               `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string               `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string               `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string               `xml:"ChecksumSHA256,omitempty"`
}

// setChecksum puts a part's checksum in the element of its algorithm.
func (c *copyPartResult) setChecksum(alg string, raw []byte) {
	if raw == nil {
		return
	}
	v := encodeChecksum(raw)
	switch alg {
	case "CRC32":
		c.ChecksumCRC32 = v
	case "CRC32C":
		c.ChecksumCRC32C = v
	case "CRC64NVME":
		c.ChecksumCRC64NVME = v
	case "SHA1":
		c.ChecksumSHA1 = v
	case "SHA256":
		c.ChecksumSHA256 = v
	}
}

// parseCopyRange reads x-amz-copy-source-range (bytes=first-last, both
// inclusive and required) against the source size.
func parseCopyRange(h string) func(int64) (*gofakes3.ObjectRangeRequest, bool) {
	if h == "" {
		return nil
	}
	return func(size int64) (*gofakes3.ObjectRangeRequest, bool) {
		spec, found := strings.CutPrefix(h, "bytes=")
		a, b, dash := strings.Cut(spec, "-")
		first, err1 := strconv.ParseInt(a, 10, 64)
		last, err2 := strconv.ParseInt(b, 10, 64)
		if !found || !dash || err1 != nil || err2 != nil || first < 0 || first > last || last >= size {
			return nil, false
		}
		return &gofakes3.ObjectRangeRequest{Start: first, End: last}, true
	}
}

// uploadPartCopy reads the source range and hands it to gofakes3 as an
// ordinary UploadPart, which gofakes3 cannot do for itself.
func (sb *Sandbox) uploadPartCopy(w http.ResponseWriter, r *http.Request) {
	src, obj, _, body, ok := sb.copySourceObject(w, r, parseCopyRange(r.Header.Get("X-Amz-Copy-Source-Range")))
	if !ok {
		return
	}
	fwd := r.Clone(r.Context())
	for k := range fwd.Header {
		if strings.HasPrefix(k, "X-Amz-Copy-Source") || strings.HasPrefix(k, "X-Amz-Source-") {
			delete(fwd.Header, k)
		}
	}
	fwd.Header.Del("Content-Md5")
	fwd.Header.Set("Content-Length", strconv.Itoa(len(body)))
	fwd.ContentLength = int64(len(body))
	fwd.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	sb.s3.ServeHTTP(rec, fwd)
	if rec.Code != http.StatusOK {
		copyResponse(w, rec)
		return
	}
	sum := md5.Sum(body)
	alg, crc := sb.recordPart(r, sum[:], int64(len(body)), func(alg string) []byte { return checksumOf(alg, body) })
	if sb.versioned(src.bucket) {
		w.Header().Set("X-Amz-Copy-Source-Version-Id", string(obj.VersionID))
	}
	res := copyPartResult{Xmlns: s3NS, ETag: gofakes3.FormatETag(sum[:]), LastModified: gofakes3.NewContentTime(sb.now())}
	res.setChecksum(alg, crc)
	writeXML(w, http.StatusOK, res)
}

// recordPart keeps a part's MD5 and size and, when the upload has a
// checksum algorithm, its checksum from crc; it returns the algorithm and
// the checksum.
func (sb *Sandbox) recordPart(r *http.Request, sum []byte, size int64, crc func(alg string) []byte) (string, []byte) {
	q := r.URL.Query()
	n, err := strconv.Atoi(q.Get("partNumber"))
	if err != nil {
		return "", nil
	}
	alg := sb.uploadAlgorithm(q.Get("uploadId"))
	var c []byte
	if alg != "" {
		c = crc(alg)
	}
	sb.upMu.Lock()
	defer sb.upMu.Unlock()
	if u := sb.uploads[q.Get("uploadId")]; u != nil {
		u.parts[n] = part{md5: sum, size: size, checksum: c}
	}
	return alg, c
}

// uploadAlgorithm returns the checksum algorithm of an upload in
// progress, "" for none.
func (sb *Sandbox) uploadAlgorithm(id string) string {
	sb.upMu.Lock()
	defer sb.upMu.Unlock()
	if u := sb.uploads[id]; u != nil {
		return u.algorithm
	}
	return ""
}

type countingReader struct {
	io.ReadCloser
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	return n, err
}

// uploadPart passes an UploadPart on and records the part's MD5 and size
// for the multipart ETag and partNumber reads.
func (sb *Sandbox) uploadPart(w http.ResponseWriter, r *http.Request) {
	if !checkSentChecksum(w, r, "") {
		return
	}
	// The upload's algorithm is computed here when the client sent
	// another one or none.
	alg := sb.uploadAlgorithm(r.URL.Query().Get("uploadId"))
	var h hash.Hash
	body := &countingReader{ReadCloser: r.Body}
	if alg != "" {
		h = newChecksum(alg)
		body.ReadCloser = struct {
			io.Reader
			io.Closer
		}{io.TeeReader(r.Body, h), r.Body}
	}
	r.Body = body
	rec := &statusRecorder{ResponseWriter: w}
	if h != nil {
		// Headers must be set before gofakes3 writes the status.
		rec.ResponseWriter = &lateHeader{ResponseWriter: w, set: func(hd http.Header) { hd.Set(checksumHeaderOf(alg), encodeChecksum(h.Sum(nil))) }}
	}
	sb.s3.ServeHTTP(rec, r)
	if rec.status >= 300 {
		return
	}
	sum, err := hex.DecodeString(strings.Trim(w.Header().Get("ETag"), `"`))
	if err == nil {
		sb.recordPart(r, sum, body.n, func(string) []byte {
			if h == nil {
				return nil
			}
			return h.Sum(nil)
		})
	}
}

// lateHeader calls set on the headers just before they are written, when
// a response writer has already consumed the request body.
type lateHeader struct {
	http.ResponseWriter
	set  func(http.Header)
	done bool
}

func (l *lateHeader) WriteHeader(code int) {
	if !l.done {
		l.done = true
		if code < 300 {
			l.set(l.Header())
		}
	}
	l.ResponseWriter.WriteHeader(code)
}

func (l *lateHeader) Write(b []byte) (int, error) {
	if !l.done {
		l.WriteHeader(http.StatusOK)
	}
	return l.ResponseWriter.Write(b)
}

// createMultipartUpload starts tracking an upload: its owner and ACL go to
// gofakes3 with the upload's metadata, its tags wait for completion.
func (sb *Sandbox) createMultipartUpload(w http.ResponseWriter, r *http.Request, req *request, bucket string) {
	wi, ok := sb.newWrite(w, r, req, bucket)
	if !ok {
		return
	}
	tags, err := requestTags(r.Header)
	if err != nil {
		writeS3Error(w, http.StatusBadRequest, "InvalidArgument", "The header 'x-amz-tagging' is not valid.")
		return
	}
	alg := strings.ToUpper(r.Header.Get("X-Amz-Checksum-Algorithm"))
	typ, ok := uploadChecksumType(alg, r.Header.Get(hdrChecksumType))
	if !ok {
		writeS3Error(w, http.StatusBadRequest, "InvalidRequest", "The "+alg+" checksum algorithm does not support the "+r.Header.Get(hdrChecksumType)+" checksum type.")
		return
	}
	token, _ := newKeys("")
	wi.Upload = token
	setWriteHeader(r, wi)
	rec := httptest.NewRecorder()
	sb.s3.ServeHTTP(rec, r)
	var out struct {
		UploadID string `xml:"UploadId"`
	}
	if rec.Code == http.StatusOK && xml.Unmarshal(rec.Body.Bytes(), &out) == nil && out.UploadID != "" {
		sb.upMu.Lock()
		sb.uploads[out.UploadID] = &upload{token: token, tags: tags, parts: make(map[int]part), algorithm: alg, checksumType: typ, kmsKey: sb.requestedKMSKey(r.Header, req.id.Account)}
		sb.upMu.Unlock()
		if alg != "" {
			rec.Header().Set("X-Amz-Checksum-Algorithm", alg)
			rec.Header().Set(hdrChecksumType, typ)
		}
	}
	copyResponse(w, rec)
}

// minPartSize is the smallest part S3 accepts but the last (5 MiB).
const minPartSize = 5 << 20

// completeMultipartUpload computes the upload's ETag, part sizes and
// checksum from the parts named in the request, leaves them for the
// backend's write and lets gofakes3 assemble the object. A part whose
// checksum in the request differs from the one recorded is refused with
// InvalidPart, as S3 does.
func (sb *Sandbox) completeMultipartUpload(w http.ResponseWriter, r *http.Request, bucket, key string) {
	id := r.URL.Query().Get("uploadId")
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		writeS3Error(w, http.StatusBadRequest, "IncompleteBody", err.Error())
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	var in struct {
		Parts []struct {
			PartNumber        int
			ChecksumCRC32     string
			ChecksumCRC32C    string
			ChecksumCRC64NVME string
			ChecksumSHA1      string
			ChecksumSHA256    string
		} `xml:"Part"`
	}
	sb.upMu.Lock()
	u := sb.uploads[id]
	sb.upMu.Unlock()
	if u != nil && xml.Unmarshal(raw, &in) == nil && len(in.Parts) > 0 {
		h := md5.New()
		sizes := make([]int64, 0, len(in.Parts))
		sums := make([][]byte, 0, len(in.Parts))
		complete := true
		sb.upMu.Lock()
		for _, p := range in.Parts {
			got, ok := u.parts[p.PartNumber]
			if !ok {
				complete = false
				break
			}
			for _, c := range []string{p.ChecksumCRC32, p.ChecksumCRC32C, p.ChecksumCRC64NVME, p.ChecksumSHA1, p.ChecksumSHA256} {
				if c != "" && (got.checksum == nil || c != encodeChecksum(got.checksum)) {
					sb.upMu.Unlock()
					writeS3Error(w, http.StatusBadRequest, "InvalidPart", fmt.Sprintf("The checksum of part %d does not match the uploaded part.", p.PartNumber))
					return
				}
			}
			h.Write(got.md5)
			sizes = append(sizes, got.size)
			if got.checksum != nil {
				sums = append(sums, got.checksum)
			}
		}
		sb.upMu.Unlock()
		for i, n := range sizes {
			// S3 refuses parts under 5 MiB but the last at completion.
			if i < len(sizes)-1 && n < minPartSize && !sb.smallParts.Load() {
				writeS3Error(w, http.StatusBadRequest, "EntityTooSmall", fmt.Sprintf("Your proposed upload is smaller than the minimum allowed size: part %d is %d bytes.", in.Parts[i].PartNumber, n))
				return
			}
		}
		if complete {
			etag := fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(h.Sum(nil)), len(sizes))
			mp := multipartResult{etag: etag, parts: sizes}
			switch {
			case u.algorithm == "":
			case u.checksumType == checksumFullObject:
				mp.algorithm, mp.fullObject = u.algorithm, true
				mp.expected = r.Header.Get(checksumHeaderOf(u.algorithm))
			case len(sums) == len(sizes):
				mp.algorithm, mp.composite = u.algorithm, compositeChecksum(u.algorithm, sums)
			}
			sb.backend.mu.Lock()
			sb.backend.pending[u.token] = mp
			sb.backend.mu.Unlock()
		}
	}
	rec := httptest.NewRecorder()
	sb.s3.ServeHTTP(rec, r)
	if u != nil {
		sb.backend.mu.Lock()
		delete(sb.backend.pending, u.token)
		sb.backend.mu.Unlock()
	}
	if u == nil || rec.Code >= 300 {
		copyResponse(w, rec)
		return
	}
	sb.setTags(bucket, key, u.tags)
	sb.upMu.Lock()
	delete(sb.uploads, id)
	sb.upMu.Unlock()
	if u.algorithm != "" {
		if _, info, err := sb.backend.info(bucket, key, rec.Header().Get("X-Amz-Version-Id")); err == nil {
			addChecksumToResult(rec, u.algorithm, info)
		}
	}
	copyResponse(w, rec)
}

// addChecksumToResult adds the stored object's checksum and its type to a
// CompleteMultipartUploadResult, as S3 returns them.
func addChecksumToResult(rec *httptest.ResponseRecorder, alg string, info *objectInfo) {
	v, typ := info.Meta[checksumHeaderOf(alg)], info.Meta[hdrChecksumType]
	body := rec.Body.Bytes()
	end := bytes.LastIndex(body, []byte("</CompleteMultipartUploadResult>"))
	if v == "" || end < 0 {
		return
	}
	name := "Checksum" + alg
	extra := "<" + name + ">" + v + "</" + name + "><ChecksumType>" + typ + "</ChecksumType>"
	rec.Body = bytes.NewBuffer(append(append(append([]byte{}, body[:end]...), extra...), body[end:]...))
	rec.Header().Set(hdrChecksumType, typ)
}

// abortMultipartUpload forgets the upload once gofakes3 has dropped it.
func (sb *Sandbox) abortMultipartUpload(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w}
	sb.s3.ServeHTTP(rec, r)
	if rec.status < 300 {
		sb.upMu.Lock()
		delete(sb.uploads, r.URL.Query().Get("uploadId"))
		sb.upMu.Unlock()
	}
}
