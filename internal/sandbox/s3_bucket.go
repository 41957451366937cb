package sandbox

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"
)

// Object ownership settings of a bucket (S3 ownership controls).
const (
	// OwnershipBucketOwnerEnforced disables ACLs; the bucket owner owns
	// every object. New buckets get it unless CreateBucket says otherwise.
	OwnershipBucketOwnerEnforced = "BucketOwnerEnforced"
	// OwnershipBucketOwnerPreferred keeps ACLs; objects written with
	// bucket-owner-full-control belong to the bucket owner.
	OwnershipBucketOwnerPreferred = "BucketOwnerPreferred"
	// OwnershipObjectWriter keeps ACLs; the writer owns what it writes.
	OwnershipObjectWriter = "ObjectWriter"
)

func validOwnership(s string) bool {
	return s == OwnershipBucketOwnerEnforced || s == OwnershipBucketOwnerPreferred || s == OwnershipObjectWriter
}

// BucketPolicy returns a bucket's policy document, or "" when it has none.
func (sb *Sandbox) BucketPolicy(bucket string) string {
	sb.mu.RLock()
	defer sb.mu.RUnlock()
	return sb.policies[bucket]
}

// Ownership returns a bucket's object ownership setting (one of the
// Ownership… constants), or "" when it has no ownership controls.
func (sb *Sandbox) Ownership(bucket string) string {
	sb.mu.RLock()
	defer sb.mu.RUnlock()
	return sb.ownership[bucket]
}

// bucketOwner writes NoSuchBucket and returns false when there is no such
// bucket.
func (sb *Sandbox) bucketOwner(w http.ResponseWriter, bucket string) (string, bool) {
	owner := sb.BucketOwner(bucket)
	if owner == "" {
		writeS3Error(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return "", false
	}
	return owner, true
}

// aclAllowed refuses, on a BucketOwnerEnforced bucket, any ACL but
// bucket-owner-full-control, as AWS does.
func (sb *Sandbox) aclAllowed(w http.ResponseWriter, r *http.Request, bucket string) bool {
	if sb.Ownership(bucket) != OwnershipBucketOwnerEnforced {
		return true
	}
	ok := true
	if acl := r.Header.Get("X-Amz-Acl"); acl != "" && acl != "bucket-owner-full-control" {
		ok = false
	}
	for h := range r.Header {
		if strings.HasPrefix(h, "X-Amz-Grant-") {
			ok = false
		}
	}
	if ok && r.URL.Query().Has("acl") && r.Header.Get("X-Amz-Acl") == "" {
		ok = fullControlOnly(r)
	}
	if !ok {
		writeS3Error(w, http.StatusBadRequest, "AccessControlListNotSupported", "The bucket does not allow ACLs")
	}
	return ok
}

// fullControlOnly reads a PutObjectAcl body and reports whether it grants
// nothing but FULL_CONTROL to one grantee, the only ACL an enforced bucket
// takes. It puts the body back for the handler.
func fullControlOnly(r *http.Request) bool {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return false
	}
	r.Body = io.NopCloser(strings.NewReader(string(raw)))
	var acp struct {
		Grants []struct {
			Permission string
		} `xml:"AccessControlList>Grant"`
	}
	if xml.Unmarshal(raw, &acp) != nil {
		return false
	}
	return len(acp.Grants) == 1 && acp.Grants[0].Permission == "FULL_CONTROL"
}

// bucketPolicy stores bucket policies; only the owner's account may touch
// them, whatever the policies say (AWS answers others 405).
func (sb *Sandbox) bucketPolicy(w http.ResponseWriter, r *http.Request, req *request, bucket string) {
	owner, ok := sb.bucketOwner(w, bucket)
	if !ok {
		return
	}
	if owner != req.principal.Account {
		writeS3Error(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
		return
	}
	switch r.Method {
	case http.MethodGet:
		policy := sb.BucketPolicy(bucket)
		if policy == "" {
			writeS3Error(w, http.StatusNotFound, "NoSuchBucketPolicy", "The bucket policy does not exist")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, policy)
	case http.MethodPut:
		raw, err := io.ReadAll(r.Body)
		if err == nil {
			err = sb.validatePolicy(PolicyBucket, string(raw))
		}
		if err != nil {
			msg := "Policies must be valid JSON and the first byte must be '{'"
			if !errors.Is(err, errNotJSONObject) {
				msg = err.Error()
			}
			writeS3Error(w, http.StatusBadRequest, "MalformedPolicy", msg)
			return
		}
		sb.mu.Lock()
		sb.policies[bucket] = string(raw)
		sb.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		sb.mu.Lock()
		delete(sb.policies, bucket)
		sb.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}
}

type ownershipControls struct {
	XMLName xml.Name `xml:"OwnershipControls"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Rules   []struct {
		ObjectOwnership string
	} `xml:"Rule"`
}

func (sb *Sandbox) ownershipControls(w http.ResponseWriter, r *http.Request, bucket string) {
	if _, ok := sb.bucketOwner(w, bucket); !ok {
		return
	}
	switch r.Method {
	case http.MethodGet:
		o := sb.Ownership(bucket)
		if o == "" {
			writeS3Error(w, http.StatusNotFound, "OwnershipControlsNotFoundError", "The bucket ownership controls were not found")
			return
		}
		out := ownershipControls{Xmlns: s3NS}
		out.Rules = append(out.Rules, struct{ ObjectOwnership string }{o})
		writeXML(w, http.StatusOK, out)
	case http.MethodPut:
		raw, err := io.ReadAll(r.Body)
		var in ownershipControls
		if err == nil {
			err = xml.Unmarshal(raw, &in)
		}
		if err != nil || len(in.Rules) != 1 || !validOwnership(in.Rules[0].ObjectOwnership) {
			writeS3Error(w, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
			return
		}
		sb.mu.Lock()
		sb.ownership[bucket] = in.Rules[0].ObjectOwnership
		sb.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	case http.MethodDelete:
		sb.mu.Lock()
		delete(sb.ownership, bucket)
		sb.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}
}

// bucketTagging keeps a bucket's tags under the object key "".
func (sb *Sandbox) bucketTagging(w http.ResponseWriter, r *http.Request, bucket string) {
	if _, ok := sb.bucketOwner(w, bucket); !ok {
		return
	}
	ref := objectRef{bucket: bucket}
	switch r.Method {
	case http.MethodGet:
		sb.mu.RLock()
		t, ok := sb.tags[ref]
		sb.mu.RUnlock()
		if !ok {
			writeS3Error(w, http.StatusNotFound, "NoSuchTagSet", "The TagSet does not exist")
			return
		}
		writeXML(w, http.StatusOK, t)
	case http.MethodPut:
		t, ok := readTagging(w, r)
		if !ok {
			return
		}
		sb.mu.Lock()
		sb.tags[ref] = t
		sb.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		sb.mu.Lock()
		delete(sb.tags, ref)
		sb.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}
}
