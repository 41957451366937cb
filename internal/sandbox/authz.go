package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"
)

// AccessRequest is one authorisation question the sandbox asks about a
// request: may this principal perform this action on this resource? One
// API call can ask several (CopyObject asks about the source and the
// destination; DeleteObjects asks once per key).
type AccessRequest struct {
	// PrincipalARN is the caller: arn:aws:iam::ACCT:root, …:user/NAME or,
	// for a role session, arn:aws:sts::ACCT:assumed-role/ROLE/SESSION.
	PrincipalARN string
	// PrincipalAccount is the caller's 12-digit account id.
	PrincipalAccount string
	// PrincipalIsRoot is true for an account's root user.
	PrincipalIsRoot bool
	// PrincipalService is the calling service principal
	// ("s3.amazonaws.com") when a service acts on its own; "" otherwise.
	PrincipalService string
	// Action is the IAM action, e.g. "s3:GetObject".
	Action string
	// Resource is the resource ARN, e.g. "arn:aws:s3:::bucket/key".
	Resource string
	// ResourceAccount is the account that owns the resource: the bucket
	// owner for S3, the role's account for IAM and STS. It is "" when the
	// bucket does not exist.
	ResourceAccount string
	// IdentityPolicies are the caller's identity-based policy documents
	// (JSON): a user's inline policies, a role session's role inline
	// policies, none for root.
	IdentityPolicies []string
	// ResourcePolicy is the bucket policy (S3), the role's trust policy
	// (sts:AssumeRole) or the KMS key policy (kms:* on a key, which must
	// allow even within one account); "" when there is none.
	ResourcePolicy string
	// Context holds the condition keys, e.g. "aws:PrincipalAccount",
	// "aws:PrincipalArn", "aws:ResourceAccount", "aws:SecureTransport",
	// "aws:SourceIp", "s3:prefix", "s3:x-amz-acl", "sts:ExternalId". For a
	// role session aws:PrincipalArn is the role's ARN, as on AWS.
	Context map[string][]string

	// loc is where an S3 request points, for the ACL step.
	loc objectLoc
}

// Authorizer decides an [AccessRequest]. A denial's reason goes into the
// AccessDenied message after "because", e.g. "no identity-based policy
// allows the s3:GetObject action".
type Authorizer func(ctx context.Context, req *AccessRequest) (allowed bool, reason string)

// SetAuthorizer installs a, which then decides every request; nil, the
// default, allows everything. It is safe to call while serving.
func (sb *Sandbox) SetAuthorizer(a Authorizer) {
	if a == nil {
		sb.authorizer.Store(nil)
		return
	}
	sb.authorizer.Store(&a)
}

// PolicyKind says what a policy document is for, so a [PolicyValidator]
// can apply the rules of that kind.
type PolicyKind int

// Policy kinds.
const (
	// PolicyBucket is an S3 bucket policy: every statement names a
	// Principal or NotPrincipal.
	PolicyBucket PolicyKind = iota + 1
	// PolicyIdentity is an IAM identity policy (a user's or a role's
	// inline policy): no statement names a principal.
	PolicyIdentity
	// PolicyTrust is a role's trust policy: every statement names a
	// Principal or NotPrincipal.
	PolicyTrust
	// PolicyKey is a KMS key policy: every statement names a Principal
	// or NotPrincipal.
	PolicyKey
)

// String names the kind, as in "bucket policy".
func (k PolicyKind) String() string {
	switch k {
	case PolicyBucket:
		return "bucket policy"
	case PolicyIdentity:
		return "identity policy"
	case PolicyTrust:
		return "trust policy"
	case PolicyKey:
		return "key policy"
	}
	return "policy"
}

// PolicyValidator checks a policy document before the sandbox stores it;
// an error refuses the document: PutBucketPolicy answers 400
// MalformedPolicy, the IAM calls 400 MalformedPolicyDocument, both with the
// error's text as the message.
type PolicyValidator func(kind PolicyKind, doc string) error

// SetPolicyValidator installs v, which then checks every bucket, identity
// and trust policy the sandbox is given; nil, the default, only checks
// that a document is a JSON object. It is safe to call while serving.
func (sb *Sandbox) SetPolicyValidator(v PolicyValidator) {
	if v == nil {
		sb.validator.Store(nil)
		return
	}
	sb.validator.Store(&v)
}

// validatePolicy refuses what is not a JSON object, then asks the
// installed PolicyValidator, if any.
func (sb *Sandbox) validatePolicy(kind PolicyKind, doc string) error {
	var m map[string]json.RawMessage
	if doc == "" || json.Unmarshal([]byte(doc), &m) != nil {
		return errNotJSONObject
	}
	if v := sb.validator.Load(); v != nil {
		return (*v)(kind, doc)
	}
	return nil
}

var errNotJSONObject = errors.New("policies must be valid JSON and the first byte must be '{'")

func (sb *Sandbox) authz() Authorizer {
	if a := sb.authorizer.Load(); a != nil {
		return *a
	}
	return nil
}

type identityKind int

const (
	kindRoot identityKind = iota
	kindUser
	kindSession
)

// identity is what an access key stands for.
type identity struct {
	Principal
	kind identityKind
	// name is the user name, or the role name for a session.
	name    string
	roleARN string
	expires time.Time
	// session holds what an STS session carries into the request
	// context; nil for other identities.
	session *sessionAttrs
}

func (id *identity) principalType() string {
	switch id.kind {
	case kindUser:
		return "User"
	case kindSession:
		return "AssumedRole"
	}
	return "Account"
}

// contextARN is aws:PrincipalArn: the role, not the session, for sessions.
func (id *identity) contextARN() string {
	if id.kind == kindSession {
		return id.roleARN
	}
	return id.ARN
}

// identityPolicies returns the caller's current identity policies, sorted
// by policy name so the order is stable.
func (sb *Sandbox) identityPolicies(id *identity) []string {
	sb.mu.RLock()
	defer sb.mu.RUnlock()
	var docs map[string]string
	switch id.kind {
	case kindUser:
		if u := sb.users[id.Account+"/"+id.name]; u != nil {
			docs = u.policies
		}
	case kindSession:
		if r := sb.roles[id.Account+"/"+id.name]; r != nil {
			docs = r.policies
		}
	}
	return sortedValues(docs)
}

func sortedValues(m map[string]string) []string {
	if len(m) == 0 {
		return nil
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = m[n]
	}
	return out
}

// newAccessRequest fills in the caller and the global condition keys.
func (sb *Sandbox) newAccessRequest(r *http.Request, id *identity, action, resource, resourceAccount string) *AccessRequest {
	secure := "false"
	if r.TLS != nil {
		secure = "true"
	}
	ctx := map[string][]string{
		"aws:PrincipalAccount": {id.Account},
		"aws:PrincipalArn":     {id.contextARN()},
		"aws:PrincipalType":    {id.principalType()},
		"aws:userid":           {id.UserID},
		"aws:SecureTransport":  {secure},
		"aws:CurrentTime":      {sb.now().UTC().Format(time.RFC3339)},
	}
	if resourceAccount != "" {
		ctx["aws:ResourceAccount"] = []string{resourceAccount}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		ctx["aws:SourceIp"] = []string{host}
	}
	id.session.addContext(ctx, sb.now())
	return &AccessRequest{
		PrincipalARN:     id.ARN,
		PrincipalAccount: id.Account,
		PrincipalIsRoot:  id.kind == kindRoot,
		Action:           action,
		Resource:         resource,
		ResourceAccount:  resourceAccount,
		IdentityPolicies: sb.identityPolicies(id),
		Context:          ctx,
	}
}

// decide runs the authorizer on each request in turn and returns the
// AccessDenied message for the first denial, or "" when all are allowed.
func decide(ctx context.Context, a Authorizer, reqs ...*AccessRequest) string {
	for _, req := range reqs {
		if ok, reason := a(ctx, req); !ok {
			return deniedMessage(req, reason)
		}
	}
	return ""
}

func deniedMessage(req *AccessRequest, reason string) string {
	var b strings.Builder
	b.WriteString("User: ")
	b.WriteString(req.PrincipalARN)
	b.WriteString(" is not authorized to perform: ")
	b.WriteString(req.Action)
	b.WriteString(" on resource: \"")
	b.WriteString(req.Resource)
	b.WriteString("\"")
	if reason != "" {
		b.WriteString(" because ")
		b.WriteString(reason)
	}
	return b.String()
}
