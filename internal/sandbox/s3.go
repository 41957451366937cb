package sandbox

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
)

const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

// unsupportedSubresources are S3 subresources the sandbox does not serve;
// gofakes3 would mistake them for plain bucket or object requests.
var unsupportedSubresources = []string{
	"accelerate", "analytics", "attributes", "cors", "encryption", "intelligent-tiering", "inventory",
	"legal-hold", "lifecycle", "logging", "metrics", "notification", "policyStatus",
	"publicAccessBlock", "requestPayment", "restore", "retention", "select", "torrent", "website",
}

// s3Operation names the S3 operation a request performs, as the SDK names
// it, or returns "" for requests the sandbox does not serve.
func s3Operation(r *http.Request, bucket, key string, q url.Values) string {
	m := r.Method
	for _, sub := range unsupportedSubresources {
		if q.Has(sub) {
			return ""
		}
	}
	copySource := r.Header.Get("X-Amz-Copy-Source") != ""
	switch {
	case bucket == "":
		if m == http.MethodGet {
			return "ListBuckets"
		}
	case key == "":
		return bucketOperation(m, q)
	case q.Has("uploadId"):
		switch m {
		case http.MethodPut:
			if copySource {
				return "UploadPartCopy"
			}
			return "UploadPart"
		case http.MethodPost:
			return "CompleteMultipartUpload"
		case http.MethodDelete:
			return "AbortMultipartUpload"
		case http.MethodGet:
			return "ListParts"
		}
	case q.Has("uploads"):
		if m == http.MethodPost {
			return "CreateMultipartUpload"
		}
	case q.Has("tagging"):
		return methodOp(m, "GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging")
	case q.Has("acl"):
		return methodOp(m, "GetObjectAcl", "PutObjectAcl", "")
	default:
		switch m {
		case http.MethodGet:
			return "GetObject"
		case http.MethodHead:
			return "HeadObject"
		case http.MethodPut:
			if copySource {
				return "CopyObject"
			}
			return "PutObject"
		case http.MethodDelete:
			return "DeleteObject"
		}
	}
	return ""
}

func bucketOperation(m string, q url.Values) string {
	switch {
	case q.Has("policy"):
		return methodOp(m, "GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy")
	case q.Has("ownershipControls"):
		return methodOp(m, "GetBucketOwnershipControls", "PutBucketOwnershipControls", "DeleteBucketOwnershipControls")
	case q.Has("tagging"):
		return methodOp(m, "GetBucketTagging", "PutBucketTagging", "DeleteBucketTagging")
	case q.Has("versioning"):
		return methodOp(m, "GetBucketVersioning", "PutBucketVersioning", "")
	case q.Has("acl"):
		return methodOp(m, "GetBucketAcl", "PutBucketAcl", "")
	case q.Has("location"):
		return methodOp(m, "GetBucketLocation", "", "")
	case q.Has("versions"):
		return methodOp(m, "ListObjectVersions", "", "")
	case q.Has("uploads"):
		return methodOp(m, "ListMultipartUploads", "", "")
	case q.Has("replication"):
		return methodOp(m, "GetBucketReplication", "PutBucketReplication", "DeleteBucketReplication")
	case q.Has("object-lock"):
		return methodOp(m, "GetObjectLockConfiguration", "PutObjectLockConfiguration", "")
	case q.Has("delete"):
		if m == http.MethodPost {
			return "DeleteObjects"
		}
		return ""
	}
	switch m {
	case http.MethodGet:
		if q.Get("list-type") == "2" {
			return "ListObjectsV2"
		}
		return "ListObjects"
	case http.MethodHead:
		return "HeadBucket"
	case http.MethodPut:
		return "CreateBucket"
	case http.MethodDelete:
		return "DeleteBucket"
	}
	return ""
}

func methodOp(m, get, put, del string) string {
	switch m {
	case http.MethodGet:
		return get
	case http.MethodPut:
		return put
	case http.MethodDelete:
		return del
	}
	return ""
}

// serveS3 authorises the request, answers what gofakes3 gets wrong or
// lacks and passes the rest on.
func (sb *Sandbox) serveS3(w http.ResponseWriter, r *http.Request, req *request) {
	bucket, key := splitPath(r.URL.Path)
	q := r.URL.Query()
	op := s3Operation(r, bucket, key, q)
	if op == "" {
		sb.count("s3:unsupported")
		writeS3Error(w, http.StatusNotImplemented, "NotImplemented", "A header or query you provided implies functionality that is not implemented.")
		return
	}
	sb.count(op)
	w, done := sb.injectFault(w, r, op, key, "s3")
	if done {
		return
	}
	stripInternal(r.Header)
	if !sb.expectedOwnersMatch(w, r, op, bucket) {
		return
	}
	a := sb.authz()
	if a != nil && op != "DeleteObjects" {
		for _, ar := range sb.s3AccessRequests(r, req.id, op, bucket, key, q) {
			if msg := sb.s3Decide(r, a, ar, ar.loc.bucket, ar.loc.key, ar.loc.versionID); msg != "" {
				// Read the body first, as for injected faults: an unread
				// upload makes net/http reset the connection, and the
				// client would see that instead of the AccessDenied.
				_, _ = io.Copy(io.Discard, r.Body)
				writeS3Error(w, http.StatusForbidden, "AccessDenied", msg)
				return
			}
		}
		if status, code, msg := sb.kmsDecide(r.Context(), r, req.id, a, op, bucket, key, q); status != 0 {
			_, _ = io.Copy(io.Discard, r.Body)
			writeS3Error(w, status, code, msg)
			return
		}
	}
	switch op {
	case "PutObject", "CopyObject", "CompleteMultipartUpload", "DeleteObject":
		rec := &statusRecorder{ResponseWriter: w}
		w = rec
		defer sb.afterWrite(op, bucket, key, q.Get("versionId"), rec)
	case "GetObject", "HeadObject":
		sb.replicationStatusHeader(w, bucket, key, q.Get("versionId"))
	}
	switch op {
	case "ListBuckets":
		sb.listBuckets(w, r, req)
	case "CreateBucket":
		sb.createBucket(w, r, req, bucket)
	case "DeleteBucket":
		rec := &statusRecorder{ResponseWriter: w}
		sb.s3.ServeHTTP(rec, r)
		if rec.status < 300 {
			sb.forgetBucket(bucket)
		}
	case "GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy":
		sb.bucketPolicy(w, r, req, bucket)
	case "GetBucketOwnershipControls", "PutBucketOwnershipControls", "DeleteBucketOwnershipControls":
		sb.ownershipControls(w, r, bucket)
	case "GetBucketTagging", "PutBucketTagging", "DeleteBucketTagging":
		sb.bucketTagging(w, r, bucket)
	case "GetBucketAcl", "PutBucketAcl":
		if op == "PutBucketAcl" && !sb.aclAllowed(w, r, bucket) {
			return
		}
		sb.bucketACL(w, r, bucket)
	case "GetBucketReplication", "PutBucketReplication", "DeleteBucketReplication", "GetObjectLockConfiguration", "PutObjectLockConfiguration":
		sb.serveReplicationSubresource(w, r, req, op, bucket)
	case "DeleteObjects":
		sb.deleteObjects(w, r, req, a, bucket)
	case "GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging":
		sb.objectTagging(w, r, bucket, key)
	case "GetObjectAcl", "PutObjectAcl":
		if op == "PutObjectAcl" && !sb.aclAllowed(w, r, bucket) {
			return
		}
		sb.objectACL(w, r, bucket, key)
	case "GetObject", "HeadObject":
		sb.getObject(w, r, bucket, key)
	case "PutObject":
		if sb.aclAllowed(w, r, bucket) {
			sb.putObject(w, r, req, bucket, key)
		}
	case "CopyObject":
		if sb.aclAllowed(w, r, bucket) {
			sb.copyObject(w, r, req, bucket, key)
		}
	case "CreateMultipartUpload":
		if sb.aclAllowed(w, r, bucket) {
			sb.createMultipartUpload(w, r, req, bucket)
		}
	case "UploadPart":
		sb.uploadPart(w, r)
	case "UploadPartCopy":
		sb.uploadPartCopy(w, r)
	case "CompleteMultipartUpload":
		sb.completeMultipartUpload(w, r, bucket, key)
	case "AbortMultipartUpload":
		sb.abortMultipartUpload(w, r)
	case "DeleteObject":
		if !q.Has("versionId") {
			sb.setTags(bucket, key, nil)
		}
		sb.s3.ServeHTTP(w, r)
	default:
		sb.s3.ServeHTTP(w, r)
	}
}

func (sb *Sandbox) createBucket(w http.ResponseWriter, r *http.Request, req *request, bucket string) {
	ownership := r.Header.Get("X-Amz-Object-Ownership")
	if ownership == "" {
		ownership = OwnershipBucketOwnerEnforced
	}
	if !validOwnership(ownership) {
		writeS3Error(w, http.StatusBadRequest, "InvalidArgument", "Invalid x-amz-object-ownership header: "+ownership)
		return
	}
	acl, hasACL, err := requestGrants(r.Header, req.principal.Account, req.principal.Account)
	switch {
	case err != nil:
		writeS3Error(w, http.StatusBadRequest, "InvalidArgument", "The ACL you provided is not valid.")
		return
	case hasACL && ownership == OwnershipBucketOwnerEnforced && len(acl) > 1:
		writeS3Error(w, http.StatusBadRequest, "InvalidBucketAclWithObjectOwnership", "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")
		return
	}
	sb.mu.Lock()
	owner, exists := sb.owners[bucket]
	sb.mu.Unlock()
	if exists {
		code := "BucketAlreadyExists"
		if owner == req.principal.Account {
			code = "BucketAlreadyOwnedByYou"
		}
		writeS3Error(w, http.StatusConflict, code, "bucket "+bucket+" exists")
		return
	}
	rec := &statusRecorder{ResponseWriter: w}
	sb.s3.ServeHTTP(rec, r)
	if rec.status < 300 {
		sb.mu.Lock()
		sb.owners[bucket] = req.principal.Account
		sb.ownership[bucket] = ownership
		if hasACL {
			sb.bucketACLs[bucket] = acl
		}
		sb.mu.Unlock()
	}
}

func (sb *Sandbox) forgetBucket(bucket string) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	delete(sb.owners, bucket)
	delete(sb.policies, bucket)
	delete(sb.ownership, bucket)
	delete(sb.tags, objectRef{bucket: bucket})
	delete(sb.bucketACLs, bucket)
	sb.backend.forgetBucket(bucket)
}

type listAllMyBuckets struct {
	XMLName xml.Name `xml:"ListAllMyBucketsResult"`
	Xmlns   string   `xml:"xmlns,attr"`
	Owner   struct {
		ID          string `xml:"ID"`
		DisplayName string `xml:"DisplayName,omitempty"`
	}
	Buckets []struct {
		Name         string
		CreationDate string
	} `xml:"Buckets>Bucket"`
}

// listBuckets lists only the caller's account's buckets: all accounts
// share one gofakes3 backend.
func (sb *Sandbox) listBuckets(w http.ResponseWriter, r *http.Request, req *request) {
	rec := httptest.NewRecorder()
	sb.s3.ServeHTTP(rec, r)
	var all listAllMyBuckets
	if rec.Code != http.StatusOK || xml.Unmarshal(rec.Body.Bytes(), &all) != nil {
		copyResponse(w, rec)
		return
	}
	mine := all
	mine.Buckets = mine.Buckets[:0:0]
	sb.mu.RLock()
	for _, b := range all.Buckets {
		if sb.owners[b.Name] == req.principal.Account {
			mine.Buckets = append(mine.Buckets, b)
		}
	}
	sb.mu.RUnlock()
	mine.Xmlns = s3NS
	mine.Owner.ID = CanonicalID(req.principal.Account)
	writeXML(w, http.StatusOK, mine)
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

type deleteRequest struct {
	XMLName xml.Name       `xml:"Delete"`
	Objects []deleteObject `xml:"Object"`
	Quiet   bool           `xml:",omitempty"`
}

type deleteObject struct {
	Key       string
	VersionID string `xml:"VersionId,omitempty"`
}

type deleteError struct {
	XMLName   xml.Name `xml:"Error"`
	Key       string
	VersionID string `xml:"VersionId,omitempty"`
	Code      string
	Message   string
}

// deleteObjects authorises each key on its own, as AWS does: denied keys
// come back as AccessDenied errors and the others are deleted.
func (sb *Sandbox) deleteObjects(w http.ResponseWriter, r *http.Request, req *request, a Authorizer, bucket string) {
	raw, err := io.ReadAll(r.Body)
	var in deleteRequest
	if err == nil {
		err = xml.Unmarshal(raw, &in)
	}
	if err != nil {
		writeS3Error(w, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
		return
	}
	var denied []deleteError
	if a != nil {
		allowed := in.Objects[:0:0]
		for _, o := range in.Objects {
			action := "s3:DeleteObject"
			if o.VersionID != "" {
				action = "s3:DeleteObjectVersion"
			}
			ar := sb.s3AccessRequest(r, req.id, action, bucket, o.Key)
			if msg := sb.s3Decide(r, a, ar, bucket, o.Key, o.VersionID); msg != "" {
				denied = append(denied, deleteError{Key: o.Key, VersionID: o.VersionID, Code: "AccessDenied", Message: msg})
				continue
			}
			allowed = append(allowed, o)
		}
		if len(denied) > 0 {
			in.Objects = allowed
			raw, _ = xml.Marshal(in)
		}
	}
	fwd := r.Clone(r.Context())
	fwd.Body = io.NopCloser(bytes.NewReader(raw))
	fwd.ContentLength = int64(len(raw))
	fwd.Header.Del("Content-Md5")
	rec := httptest.NewRecorder()
	sb.s3.ServeHTTP(rec, fwd)
	if rec.Code == http.StatusOK {
		sb.mu.Lock()
		for _, o := range in.Objects {
			if o.VersionID == "" {
				delete(sb.tags, objectRef{bucket, o.Key})
			}
		}
		sb.mu.Unlock()
		sb.afterDeleteObjects(bucket, in.Objects, rec.Body.Bytes())
	}
	if rec.Code != http.StatusOK || len(denied) == 0 {
		copyResponse(w, rec)
		return
	}
	var extra bytes.Buffer
	for _, d := range denied {
		b, _ := xml.Marshal(d)
		extra.Write(b)
	}
	body := rec.Body.Bytes()
	end := bytes.LastIndex(body, []byte("</DeleteResult>"))
	if end < 0 {
		copyResponse(w, rec)
		return
	}
	rec.Body = bytes.NewBuffer(append(append(append([]byte{}, body[:end]...), extra.Bytes()...), body[end:]...))
	copyResponse(w, rec)
}

type tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	TagSet  struct {
		Tag []struct {
			Key   string
			Value string
		}
	}
}

func readTagging(w http.ResponseWriter, r *http.Request) (tagging, bool) {
	raw, err := io.ReadAll(r.Body)
	var t tagging
	if err == nil {
		err = xml.Unmarshal(raw, &t)
	}
	if err != nil {
		writeS3Error(w, http.StatusBadRequest, "MalformedXML", "tagging document: "+err.Error())
		return t, false
	}
	t.Xmlns = s3NS
	return t, true
}

// objectTagging stores tags beside the object: gofakes3 would treat
// ?tagging as a plain object GET or PUT and overwrite the object.
func (sb *Sandbox) objectTagging(w http.ResponseWriter, r *http.Request, bucket, key string) {
	if !sb.objectExists(w, r, bucket, key) {
		return
	}
	ref := objectRef{bucket, key}
	switch r.Method {
	case http.MethodGet:
		sb.mu.RLock()
		t := sb.tags[ref]
		sb.mu.RUnlock()
		t.Xmlns = s3NS
		writeXML(w, http.StatusOK, t)
	case http.MethodPut:
		t, ok := readTagging(w, r)
		if !ok {
			return
		}
		sb.mu.Lock()
		sb.tags[ref] = t
		sb.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	case http.MethodDelete:
		sb.mu.Lock()
		delete(sb.tags, ref)
		sb.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}
}

// objectExists writes NoSuchKey and returns false when the object is
// missing, by asking gofakes3 with a HEAD.
func (sb *Sandbox) objectExists(w http.ResponseWriter, r *http.Request, bucket, key string) bool {
	head, _ := http.NewRequestWithContext(r.Context(), http.MethodHead, r.URL.EscapedPath(), nil)
	rec := &statusRecorder{ResponseWriter: discardWriter{}}
	sb.s3.ServeHTTP(rec, head)
	if rec.status == http.StatusNotFound {
		writeS3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return false
	}
	return true
}

func splitPath(p string) (bucket, key string) {
	p = strings.TrimPrefix(p, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}
