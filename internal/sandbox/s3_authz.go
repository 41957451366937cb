package sandbox

import (
	"net/http"
	"net/url"
	"strings"
)

// s3Actions maps an operation to its IAM action and whether the action
// applies to the object (true) or the bucket (false). Operations on a
// specific version use the …Version action instead, see versionActions.
var s3Actions = map[string]struct {
	action string
	object bool
}{
	"ListBuckets":                   {"s3:ListAllMyBuckets", false},
	"CreateBucket":                  {"s3:CreateBucket", false},
	"DeleteBucket":                  {"s3:DeleteBucket", false},
	"HeadBucket":                    {"s3:ListBucket", false},
	"ListObjects":                   {"s3:ListBucket", false},
	"ListObjectsV2":                 {"s3:ListBucket", false},
	"ListObjectVersions":            {"s3:ListBucketVersions", false},
	"ListMultipartUploads":          {"s3:ListBucketMultipartUploads", false},
	"GetBucketPolicy":               {"s3:GetBucketPolicy", false},
	"PutBucketPolicy":               {"s3:PutBucketPolicy", false},
	"DeleteBucketPolicy":            {"s3:DeleteBucketPolicy", false},
	"GetBucketOwnershipControls":    {"s3:GetBucketOwnershipControls", false},
	"PutBucketOwnershipControls":    {"s3:PutBucketOwnershipControls", false},
	"DeleteBucketOwnershipControls": {"s3:PutBucketOwnershipControls", false},
	"GetBucketVersioning":           {"s3:GetBucketVersioning", false},
	"PutBucketVersioning":           {"s3:PutBucketVersioning", false},
	"GetBucketLocation":             {"s3:GetBucketLocation", false},
	"GetBucketTagging":              {"s3:GetBucketTagging", false},
	"PutBucketTagging":              {"s3:PutBucketTagging", false},
	"DeleteBucketTagging":           {"s3:PutBucketTagging", false},
	"GetBucketAcl":                  {"s3:GetBucketAcl", false},
	"PutBucketAcl":                  {"s3:PutBucketAcl", false},
	"GetObject":                     {"s3:GetObject", true},
	"HeadObject":                    {"s3:GetObject", true},
	"PutObject":                     {"s3:PutObject", true},
	"CopyObject":                    {"s3:PutObject", true},
	"DeleteObject":                  {"s3:DeleteObject", true},
	"CreateMultipartUpload":         {"s3:PutObject", true},
	"UploadPart":                    {"s3:PutObject", true},
	"UploadPartCopy":                {"s3:PutObject", true},
	"CompleteMultipartUpload":       {"s3:PutObject", true},
	"AbortMultipartUpload":          {"s3:AbortMultipartUpload", true},
	"ListParts":                     {"s3:ListMultipartUploadParts", true},
	"GetObjectTagging":              {"s3:GetObjectTagging", true},
	"PutObjectTagging":              {"s3:PutObjectTagging", true},
	"DeleteObjectTagging":           {"s3:DeleteObjectTagging", true},
	"GetObjectAcl":                  {"s3:GetObjectAcl", true},
	"PutObjectAcl":                  {"s3:PutObjectAcl", true},
}

// versionActions are the actions AWS checks instead when the request names
// a versionId.
var versionActions = map[string]string{
	"s3:GetObject":           "s3:GetObjectVersion",
	"s3:DeleteObject":        "s3:DeleteObjectVersion",
	"s3:GetObjectTagging":    "s3:GetObjectVersionTagging",
	"s3:PutObjectTagging":    "s3:PutObjectVersionTagging",
	"s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
	"s3:GetObjectAcl":        "s3:GetObjectVersionAcl",
	"s3:PutObjectAcl":        "s3:PutObjectVersionAcl",
}

// requestHeaderKeys are condition keys taken from request headers when
// present.
var requestHeaderKeys = []struct{ key, header string }{
	{"s3:x-amz-acl", "X-Amz-Acl"},
	{"s3:x-amz-server-side-encryption", "X-Amz-Server-Side-Encryption"},
	{"s3:x-amz-server-side-encryption-aws-kms-key-id", "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"},
	{"s3:x-amz-copy-source", "X-Amz-Copy-Source"},
	{"s3:x-amz-metadata-directive", "X-Amz-Metadata-Directive"},
	{"s3:x-amz-object-ownership", "X-Amz-Object-Ownership"},
}

// listQueryKeys are condition keys of the listing operations.
var listQueryKeys = []struct{ key, param string }{
	{"s3:prefix", "prefix"},
	{"s3:delimiter", "delimiter"},
	{"s3:max-keys", "max-keys"},
}

// s3AccessRequests returns what an S3 request must be allowed to do.
// DeleteObjects is authorised per key elsewhere.
func (sb *Sandbox) s3AccessRequests(r *http.Request, id *identity, op, bucket, key string, q url.Values) []*AccessRequest {
	spec := s3Actions[op]
	action := spec.action
	versionID := q.Get("versionId")
	if v, ok := versionActions[action]; ok && versionID != "" {
		action = v
	}
	var ar *AccessRequest
	switch {
	case op == "ListBuckets":
		ar = sb.newAccessRequest(r, id, action, "arn:aws:s3:::*", id.Account)
	case op == "CreateBucket":
		ar = sb.newAccessRequest(r, id, action, "arn:aws:s3:::"+bucket, id.Account)
	case spec.object:
		ar = sb.s3AccessRequest(r, id, action, bucket, key)
	default:
		ar = sb.s3AccessRequest(r, id, action, bucket, "")
	}
	if versionID != "" {
		ar.Context["s3:versionid"] = []string{versionID}
	}
	for _, k := range requestHeaderKeys {
		if v := r.Header.Get(k.header); v != "" {
			ar.Context[k.key] = []string{v}
		}
	}
	if strings.HasPrefix(op, "List") && op != "ListParts" && op != "ListBuckets" {
		for _, k := range listQueryKeys {
			if vs, ok := q[k.param]; ok {
				ar.Context[k.key] = vs
			}
		}
	}
	ar.loc = objectLoc{bucket, key, versionID}
	reqs := []*AccessRequest{ar}
	if op == "CopyObject" || op == "UploadPartCopy" {
		if src, ok := parseCopySource(r.Header.Get("X-Amz-Copy-Source")); ok {
			srcAction := "s3:GetObject"
			if src.versionID != "" {
				srcAction = "s3:GetObjectVersion"
			}
			reqs = append(reqs, sb.s3AccessRequest(r, id, srcAction, src.bucket, src.key))
			reqs[len(reqs)-1].loc = objectLoc(src)
			if op == "CopyObject" && !strings.EqualFold(r.Header.Get("X-Amz-Tagging-Directive"), "REPLACE") && sb.hasTags(src.bucket, src.key) {
				// Copying the source's tags (tagging directive COPY, the
				// default) reads them, as AWS checks.
				tagAction := "s3:GetObjectTagging"
				if src.versionID != "" {
					tagAction = versionActions[tagAction]
				}
				reqs = append(reqs, sb.s3AccessRequest(r, id, tagAction, src.bucket, src.key))
				reqs[len(reqs)-1].loc = objectLoc(src)
			}
		}
	}
	// What the write request sets besides the bytes needs its own action
	// on the same object: an ACL (x-amz-acl or x-amz-grant-*) needs
	// s3:PutObjectAcl, tags (x-amz-tagging; on CopyObject only with the
	// REPLACE tagging directive, as COPY ignores the header) need
	// s3:PutObjectTagging.
	for _, action := range writeSubActions(op, r.Header) {
		extra := sb.s3AccessRequest(r, id, action, bucket, key)
		extra.Context = ar.Context
		extra.loc = ar.loc
		reqs = append(reqs, extra)
	}
	return reqs
}

// writeSubActions returns the actions beyond s3:PutObject that a
// PutObject, CopyObject or CreateMultipartUpload request needs for the
// headers it carries.
func writeSubActions(op string, h http.Header) []string {
	if op != "PutObject" && op != "CopyObject" && op != "CreateMultipartUpload" {
		return nil
	}
	var out []string
	if setsACL(h) {
		out = append(out, "s3:PutObjectAcl")
	}
	tags := h.Get("X-Amz-Tagging") != ""
	if op == "CopyObject" {
		tags = tags && strings.EqualFold(h.Get("X-Amz-Tagging-Directive"), "REPLACE")
	}
	if tags {
		out = append(out, "s3:PutObjectTagging")
	}
	return out
}

// setsACL reports whether a request sets an ACL: x-amz-acl or any
// x-amz-grant-* header.
func setsACL(h http.Header) bool {
	if h.Get("X-Amz-Acl") != "" {
		return true
	}
	for name := range h {
		if strings.HasPrefix(http.CanonicalHeaderKey(name), "X-Amz-Grant-") {
			return true
		}
	}
	return false
}

// hasTags reports whether an object has a non-empty tag set.
func (sb *Sandbox) hasTags(bucket, key string) bool {
	sb.mu.RLock()
	defer sb.mu.RUnlock()
	return len(sb.tags[objectRef{bucket, key}].TagSet.Tag) > 0
}

// s3AccessRequest builds the question for one action on a bucket (key "")
// or an object, with the bucket's owner and policy, and the object's tags
// as s3:ExistingObjectTag/<key>.
func (sb *Sandbox) s3AccessRequest(r *http.Request, id *identity, action, bucket, key string) *AccessRequest {
	sb.mu.RLock()
	owner, policy := sb.owners[bucket], sb.policies[bucket]
	var tags tagging
	if key != "" {
		tags = sb.tags[objectRef{bucket, key}]
	}
	sb.mu.RUnlock()
	res := "arn:aws:s3:::" + bucket
	if key != "" {
		res += "/" + key
	}
	ar := sb.newAccessRequest(r, id, action, res, owner)
	ar.ResourcePolicy = policy
	for _, t := range tags.TagSet.Tag {
		ar.Context["s3:ExistingObjectTag/"+t.Key] = []string{t.Value}
	}
	return ar
}

type copySource struct{ bucket, key, versionID string }

// objectLoc is the bucket, key ("" for the bucket) and version an access
// request is about, for the ACL step of the S3 front.
type objectLoc struct{ bucket, key, versionID string }

// parseCopySource reads x-amz-copy-source: [/]bucket/key[?versionId=v],
// URL-encoded.
func parseCopySource(h string) (copySource, bool) {
	path, query, _ := strings.Cut(h, "?")
	path, err := url.PathUnescape(strings.TrimPrefix(path, "/"))
	if err != nil {
		return copySource{}, false
	}
	bucket, key, ok := strings.Cut(path, "/")
	if !ok || bucket == "" || key == "" {
		return copySource{}, false
	}
	q, _ := url.ParseQuery(query)
	return copySource{bucket, key, q.Get("versionId")}, true
}
