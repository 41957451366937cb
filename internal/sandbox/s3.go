package sandbox

import (
	"encoding/xml"
	"io"
	"net/http"
	"strings"
)

// serveS3 answers what gofakes3 gets wrong or lacks and passes the rest on.
func (sb *Sandbox) serveS3(w http.ResponseWriter, r *http.Request, req *request) {
	bucket, key := splitPath(r.URL.Path)
	q := r.URL.Query()
	switch {
	case bucket == "":
		sb.s3.ServeHTTP(w, r)
	case key == "" && r.Method == http.MethodPut && len(q) == 0:
		sb.createBucket(w, r, req, bucket)
	case key == "" && r.Method == http.MethodDelete && len(q) == 0:
		rec := &statusRecorder{ResponseWriter: w}
		sb.s3.ServeHTTP(rec, r)
		if rec.status < 300 {
			sb.mu.Lock()
			delete(sb.owners, bucket)
			sb.mu.Unlock()
		}
	case key != "" && q.Has("tagging"):
		sb.objectTagging(w, r, bucket, key)
	case key != "" && q.Has("acl"):
		sb.objectACL(w, r, bucket, key)
	default:
		if key != "" && r.Method == http.MethodDelete && !q.Has("uploadId") {
			sb.mu.Lock()
			delete(sb.tags, objectRef{bucket, key})
			sb.mu.Unlock()
		}
		sb.s3.ServeHTTP(w, r)
	}
}

func (sb *Sandbox) createBucket(w http.ResponseWriter, r *http.Request, req *request, bucket string) {
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
		sb.mu.Unlock()
	}
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
		body := sb.tags[ref]
		sb.mu.RUnlock()
		if body == "" {
			body = `<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet></TagSet></Tagging>`
		}
		w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(w, xml.Header+body)
	case http.MethodPut:
		raw, err := io.ReadAll(r.Body)
		var t tagging
		if err == nil {
			err = xml.Unmarshal(raw, &t)
		}
		if err != nil {
			writeS3Error(w, http.StatusBadRequest, "MalformedXML", "tagging document: "+err.Error())
			return
		}
		t.Xmlns = "http://s3.amazonaws.com/doc/2006-03-01/"
		out, _ := xml.Marshal(t)
		sb.mu.Lock()
		sb.tags[ref] = string(out)
		sb.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	case http.MethodDelete:
		sb.mu.Lock()
		delete(sb.tags, ref)
		sb.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeS3Error(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" ?tagging")
	}
}

// objectACL accepts ACL writes without touching the object and reports the
// bucket owner as its full-control grantee.
func (sb *Sandbox) objectACL(w http.ResponseWriter, r *http.Request, bucket, key string) {
	if !sb.objectExists(w, r, bucket, key) {
		return
	}
	switch r.Method {
	case http.MethodGet:
		owner := sb.BucketOwner(bucket)
		w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(w, xml.Header+`<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>`+owner+`</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>`+owner+`</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>`)
	case http.MethodPut:
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	default:
		writeS3Error(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" ?acl")
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
