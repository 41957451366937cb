package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/johannesboyne/gofakes3"
)

// ACL grantee groups.
const (
	groupAllUsers      = "http://acs.amazonaws.com/groups/global/AllUsers"
	groupAuthenticated = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	groupLogDelivery   = "http://acs.amazonaws.com/groups/s3/LogDelivery"
	xsiNS              = "http://www.w3.org/2001/XMLSchema-instance"
)

// ACL permissions.
const (
	permRead        = "READ"
	permWrite       = "WRITE"
	permReadACP     = "READ_ACP"
	permWriteACP    = "WRITE_ACP"
	permFullControl = "FULL_CONTROL"
)

// grant is one ACL entry: a canonical user (ID) or a group (URI).
type grant struct {
	ID         string `json:"i,omitempty"`
	URI        string `json:"u,omitempty"`
	Permission string `json:"p"`
}

// CanonicalID returns the canonical user id S3 shows for an account: 64
// lower-case hex characters, the same for the account on every run.
func CanonicalID(account string) string {
	sum := sha256.Sum256([]byte("xacct-sandbox-canonical-user:" + account))
	return hex.EncodeToString(sum[:])
}

// CanonicalID returns the canonical user id of an account, as shown in
// ListBuckets, object listings with FetchOwner and ACLs.
func (sb *Sandbox) CanonicalID(account string) string { return CanonicalID(account) }

// ownerInfo is the listing Owner of an object written by owner in bucket.
func (sb *Sandbox) ownerInfo(bucket, owner string) *gofakes3.UserInfo {
	acct := sb.effectiveOwner(bucket, owner)
	if acct == "" {
		return nil
	}
	return &gofakes3.UserInfo{ID: CanonicalID(acct)}
}

// effectiveOwner is the account owning an object written by writer: the
// bucket owner whenever the bucket enforces bucket-owner ownership (AWS
// hands every existing object to the bucket owner when ACLs are disabled).
func (sb *Sandbox) effectiveOwner(bucket, writer string) string {
	sb.mu.RLock()
	defer sb.mu.RUnlock()
	if sb.ownership[bucket] == OwnershipBucketOwnerEnforced || writer == "" {
		return sb.owners[bucket]
	}
	return writer
}

// writeOwner decides who owns an object the caller's account writes with
// the request's x-amz-acl: the writer, except on BucketOwnerEnforced
// buckets and on BucketOwnerPreferred ones given bucket-owner-full-control.
func (sb *Sandbox) writeOwner(bucket, writer, cannedACL string) string {
	sb.mu.RLock()
	defer sb.mu.RUnlock()
	switch sb.ownership[bucket] {
	case OwnershipBucketOwnerEnforced:
		return sb.owners[bucket]
	case OwnershipBucketOwnerPreferred:
		if cannedACL == "bucket-owner-full-control" {
			return sb.owners[bucket]
		}
	}
	return writer
}

// cannedGrants expands a canned ACL for a resource owned by owner in a
// bucket owned by bucketOwner.
func cannedGrants(acl, owner, bucketOwner string) ([]grant, bool) {
	grants := []grant{{ID: CanonicalID(owner), Permission: permFullControl}}
	add := func(g ...grant) { grants = append(grants, g...) }
	switch acl {
	case "", "private", "aws-exec-read":
	case "public-read":
		add(grant{URI: groupAllUsers, Permission: permRead})
	case "public-read-write":
		add(grant{URI: groupAllUsers, Permission: permRead}, grant{URI: groupAllUsers, Permission: permWrite})
	case "authenticated-read":
		add(grant{URI: groupAuthenticated, Permission: permRead})
	case "log-delivery-write":
		add(grant{URI: groupLogDelivery, Permission: permWrite}, grant{URI: groupLogDelivery, Permission: permReadACP})
	case "bucket-owner-read":
		if bucketOwner != owner {
			add(grant{ID: CanonicalID(bucketOwner), Permission: permRead})
		}
	case "bucket-owner-full-control":
		if bucketOwner != owner {
			add(grant{ID: CanonicalID(bucketOwner), Permission: permFullControl})
		}
	default:
		return nil, false
	}
	return grants, true
}

var grantHeaders = []struct{ header, perm string }{
	{"X-Amz-Grant-Read", permRead},
	{"X-Amz-Grant-Write", permWrite},
	{"X-Amz-Grant-Read-Acp", permReadACP},
	{"X-Amz-Grant-Write-Acp", permWriteACP},
	{"X-Amz-Grant-Full-Control", permFullControl},
}

var errACL = errors.New("sandbox: invalid ACL")

// requestGrants reads the ACL a request sets with x-amz-acl or
// x-amz-grant-* headers; ok is false when it sets none.
func requestGrants(h http.Header, owner, bucketOwner string) (grants []grant, ok bool, err error) {
	canned := h.Get("X-Amz-Acl")
	var explicit []grant
	for _, gh := range grantHeaders {
		for _, v := range h.Values(gh.header) {
			for item := range strings.SplitSeq(v, ",") {
				k, val, found := strings.Cut(strings.TrimSpace(item), "=")
				val = strings.Trim(val, `"`)
				switch {
				case !found:
					return nil, false, errACL
				case strings.EqualFold(k, "id"):
					explicit = append(explicit, grant{ID: val, Permission: gh.perm})
				case strings.EqualFold(k, "uri"):
					explicit = append(explicit, grant{URI: val, Permission: gh.perm})
				default:
					// emailAddress grantees are not modelled.
					return nil, false, errACL
				}
			}
		}
	}
	switch {
	case canned != "" && explicit != nil:
		return nil, false, errACL
	case explicit != nil:
		return explicit, true, nil
	case canned == "":
		return nil, false, nil
	}
	g, valid := cannedGrants(canned, owner, bucketOwner)
	if !valid {
		return nil, false, errACL
	}
	return g, true, nil
}

// accessControlPolicy is the ACL document of Get/PutObjectAcl and
// Get/PutBucketAcl.
type accessControlPolicy struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Owner   struct {
		ID string `xml:"ID"`
	} `xml:"Owner"`
	Grants []aclGrant `xml:"AccessControlList>Grant"`
}

type aclGrant struct {
	Grantee    aclGrantee `xml:"Grantee"`
	Permission string     `xml:"Permission"`
}

type aclGrantee struct {
	XSI  string `xml:"xmlns:xsi,attr,omitempty"`
	Type string `xml:"xsi:type,attr,omitempty"`
	ID   string `xml:"ID,omitempty"`
	URI  string `xml:"URI,omitempty"`
}

func writeACL(w http.ResponseWriter, owner string, grants []grant) {
	acp := accessControlPolicy{Xmlns: s3NS}
	acp.Owner.ID = CanonicalID(owner)
	for _, g := range grants {
		ge := aclGrantee{XSI: xsiNS, Type: "CanonicalUser", ID: g.ID}
		if g.URI != "" {
			ge = aclGrantee{XSI: xsiNS, Type: "Group", URI: g.URI}
		}
		acp.Grants = append(acp.Grants, aclGrant{Grantee: ge, Permission: g.Permission})
	}
	writeXML(w, http.StatusOK, acp)
}

// readACL reads the ACL of a PutObjectAcl or PutBucketAcl: from headers
// when they set one, from the AccessControlPolicy body otherwise.
func readACL(r *http.Request, owner, bucketOwner string) ([]grant, error) {
	if g, ok, err := requestGrants(r.Header, owner, bucketOwner); ok || err != nil {
		return g, err
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	var in struct {
		Grants []struct {
			Grantee struct {
				ID  string `xml:"ID"`
				URI string `xml:"URI"`
			} `xml:"Grantee"`
			Permission string `xml:"Permission"`
		} `xml:"AccessControlList>Grant"`
	}
	if err := xml.Unmarshal(raw, &in); err != nil {
		return nil, errACL
	}
	var out []grant
	for _, g := range in.Grants {
		switch g.Permission {
		case permRead, permWrite, permReadACP, permWriteACP, permFullControl:
		default:
			return nil, errACL
		}
		if (g.Grantee.ID == "") == (g.Grantee.URI == "") {
			return nil, errACL
		}
		out = append(out, grant{ID: g.Grantee.ID, URI: g.Grantee.URI, Permission: g.Permission})
	}
	return out, nil
}

// grants reports whether the ACL gives account perm, directly or through
// FULL_CONTROL or the AllUsers and AuthenticatedUsers groups.
func grants(acl []grant, account, perm string) bool {
	id := CanonicalID(account)
	for _, g := range acl {
		if g.Permission != perm && g.Permission != permFullControl {
			continue
		}
		if g.ID == id || g.URI == groupAllUsers || g.URI == groupAuthenticated {
			return true
		}
	}
	return false
}

// objectACL serves GetObjectAcl and PutObjectAcl. On BucketOwnerEnforced
// buckets ACLs are disabled: the bucket owner owns the object with
// FULL_CONTROL whatever was stored.
func (sb *Sandbox) objectACL(w http.ResponseWriter, r *http.Request, bucket, key string) {
	obj, info, err := sb.backend.info(bucket, key, r.URL.Query().Get("versionId"))
	if err != nil {
		writeBackendError(w, err)
		return
	}
	owner := sb.effectiveOwner(bucket, info.Owner)
	bucketOwner := sb.BucketOwner(bucket)
	enforced := sb.Ownership(bucket) == OwnershipBucketOwnerEnforced
	switch r.Method {
	case http.MethodGet:
		acl := info.Grants
		if enforced || acl == nil {
			acl, _ = cannedGrants("private", owner, bucketOwner)
		}
		writeACL(w, owner, acl)
	case http.MethodPut:
		acl, err := readACL(r, owner, bucketOwner)
		if err != nil {
			writeS3Error(w, http.StatusBadRequest, "InvalidArgument", "The ACL you provided is not valid.")
			return
		}
		if !enforced {
			sb.backend.setACL(bucket, key, obj, acl)
		}
		w.WriteHeader(http.StatusOK)
	}
}

// bucketACL serves GetBucketAcl and PutBucketAcl.
func (sb *Sandbox) bucketACL(w http.ResponseWriter, r *http.Request, bucket string) {
	owner, ok := sb.bucketOwner(w, bucket)
	if !ok {
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeACL(w, owner, sb.bucketGrants(bucket))
	case http.MethodPut:
		acl, err := readACL(r, owner, owner)
		if err != nil {
			writeS3Error(w, http.StatusBadRequest, "InvalidArgument", "The ACL you provided is not valid.")
			return
		}
		sb.mu.Lock()
		if sb.ownership[bucket] != OwnershipBucketOwnerEnforced {
			sb.bucketACLs[bucket] = acl
		}
		sb.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}
}

// bucketGrants is a bucket's ACL: owner FULL_CONTROL unless set otherwise
// while ACLs were enabled; always that when they are disabled.
func (sb *Sandbox) bucketGrants(bucket string) []grant {
	sb.mu.RLock()
	defer sb.mu.RUnlock()
	acl, ok := sb.bucketACLs[bucket]
	if !ok || sb.ownership[bucket] == OwnershipBucketOwnerEnforced {
		acl, _ = cannedGrants("private", sb.owners[bucket], sb.owners[bucket])
	}
	return acl
}

// aclPermissions maps an IAM action to the ACL permission that can grant
// it, on the object (true) or on its bucket (false).
var aclPermissions = map[string]struct {
	perm   string
	object bool
}{
	"s3:GetObject":                  {permRead, true},
	"s3:GetObjectVersion":           {permRead, true},
	"s3:GetObjectAcl":               {permReadACP, true},
	"s3:GetObjectVersionAcl":        {permReadACP, true},
	"s3:PutObjectAcl":               {permWriteACP, true},
	"s3:PutObjectVersionAcl":        {permWriteACP, true},
	"s3:ListBucket":                 {permRead, false},
	"s3:ListBucketVersions":         {permRead, false},
	"s3:ListBucketMultipartUploads": {permRead, false},
	"s3:PutObject":                  {permWrite, false},
	"s3:DeleteObject":               {permWrite, false},
	"s3:GetBucketAcl":               {permReadACP, false},
	"s3:PutBucketAcl":               {permWriteACP, false},
}

// policyActions are the bucket policy actions the owner's root user is
// never denied.
var policyActions = map[string]bool{"s3:GetBucketPolicy": true, "s3:PutBucketPolicy": true, "s3:DeleteBucketPolicy": true}

// allowAllPolicy is an identity policy that allows everything: added to
// the caller's, it leaves only the explicit denials to decide.
const allowAllPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// aclGrantDecide decides a cross-account request whose resource's ACL
// grants the caller's account. The grant answers for the resource owner
// only: the caller's account must still allow the principal through its
// identity policies (the bucket policy speaks for the bucket owner, not
// for the caller's account, so it cannot stand in for them; an account's
// root user needs none), and an explicit Deny in any policy, the bucket
// policy included, still refuses.
func aclGrantDecide(ctx context.Context, a Authorizer, ar *AccessRequest) (bool, string) {
	own := *ar
	own.ResourceAccount = ar.PrincipalAccount
	own.ResourcePolicy = ""
	if ok, reason := a(ctx, &own); !ok {
		return false, reason
	}
	denials := *ar
	denials.ResourceAccount = ar.PrincipalAccount
	denials.IdentityPolicies = append(slices.Clone(ar.IdentityPolicies), allowAllPolicy)
	return a(ctx, &denials)
}

// objectReadActions are the actions the object owner's ACL governs when
// the object and bucket owners differ.
var objectReadActions = map[string]bool{"s3:GetObject": true, "s3:GetObjectVersion": true}

// s3Decide runs the authorizer on one S3 question and applies what S3 adds
// to policies: an ACL grant to the caller's account (or to all users) can
// stand in for the resource owner's policy, and on buckets with ACLs
// enabled an object written by another account is readable only by that
// account and those its ACL grants READ. It returns the AccessDenied
// message, or "" when the request may go ahead.
func (sb *Sandbox) s3Decide(r *http.Request, a Authorizer, ar *AccessRequest, bucket, key, version string) string {
	if policyActions[ar.Action] && ar.PrincipalIsRoot && ar.ResourceAccount != "" && ar.ResourceAccount == ar.PrincipalAccount {
		// Lock-out protection: the bucket owner's root user may always
		// read, replace and delete the bucket policy, even one that
		// denies everything to everyone.
		return ""
	}
	ok, reason := a(r.Context(), ar)
	spec, aclGoverned := aclPermissions[ar.Action]
	enforced := sb.Ownership(bucket) == OwnershipBucketOwnerEnforced
	needObject := aclGoverned && !enforced && key != "" && (spec.object || objectReadActions[ar.Action])
	var info *objectInfo
	if needObject {
		if _, i, err := sb.backend.info(bucket, key, version); err == nil {
			info = i
		}
	}
	if !ok && aclGoverned && !enforced && ar.ResourceAccount != "" && ar.ResourceAccount != ar.PrincipalAccount {
		var acl []grant
		switch {
		case spec.object && info != nil:
			acl = info.Grants
			if acl == nil {
				acl, _ = cannedGrants("private", info.Owner, ar.ResourceAccount)
			}
		case !spec.object:
			acl = sb.bucketGrants(bucket)
		}
		if grants(acl, ar.PrincipalAccount, spec.perm) {
			ok, reason = aclGrantDecide(r.Context(), a, ar)
		}
	}
	if !ok {
		return deniedMessage(ar, reason)
	}
	if objectReadActions[ar.Action] && info != nil && info.Owner != "" && info.Owner != ar.ResourceAccount &&
		info.Owner != ar.PrincipalAccount {
		acl := info.Grants
		if acl == nil {
			acl, _ = cannedGrants("private", info.Owner, ar.ResourceAccount)
		}
		if !grants(acl, ar.PrincipalAccount, permRead) {
			return deniedMessage(ar, "the object is owned by account "+info.Owner+" and its ACL does not grant account "+
				ar.PrincipalAccount+" READ")
		}
	}
	return ""
}
