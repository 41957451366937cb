package xacct

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// PolicyKind says where a policy is attached, which decides the rules
// Lint applies.
type PolicyKind int

// Policy kinds.
const (
	// PolicyKindIdentity is attached to a user or role: no Principal, a
	// Resource on every statement.
	PolicyKindIdentity PolicyKind = iota + 1
	// PolicyKindTrust is a role's trust policy: a Principal, no Resource.
	PolicyKindTrust
	// PolicyKindBucket is an S3 bucket policy: a Principal and a Resource
	// on every statement.
	PolicyKindBucket
	// PolicyKindKey is a KMS key policy: a Principal on every statement,
	// and Resource "*", which in a key policy means the key it is attached
	// to. The key policy must allow every use of the key, even by
	// principals of the key's own account (naming the account root hands
	// the decision to the account's identity policies).
	PolicyKindKey
)

// String returns "identity", "trust", "bucket" or "key".
func (k PolicyKind) String() string {
	switch k {
	case PolicyKindIdentity:
		return "identity"
	case PolicyKindTrust:
		return "trust"
	case PolicyKindBucket:
		return "bucket"
	case PolicyKindKey:
		return "key"
	}
	return "PolicyKind(" + strconv.Itoa(int(k)) + ")"
}

// Severity ranks a Finding.
type Severity int

// Severities, least severe first.
const (
	// SeveritySuggestion is a matter of style or clarity.
	SeveritySuggestion Severity = iota + 1
	// SeverityWarning is access broader than needed or a missing defence,
	// such as a confused-deputy condition.
	SeverityWarning
	// SeverityError is a policy AWS rejects or one that grants access to
	// anyone.
	SeverityError
)

// String returns "suggestion", "warning" or "error".
func (s Severity) String() string {
	switch s {
	case SeveritySuggestion:
		return "suggestion"
	case SeverityWarning:
		return "warning"
	case SeverityError:
		return "error"
	}
	return "Severity(" + strconv.Itoa(int(s)) + ")"
}

// Finding is one problem Lint found.
type Finding struct {
	// Statement names the statement by Sid, or as Statement[i] when it has
	// none; empty for the document as a whole.
	Statement string
	// Field is the element, such as "Action" or "Condition".
	Field    string
	Message  string
	Severity Severity
}

// String formats the finding as "severity: statement field: message".
func (f Finding) String() string {
	where := strings.TrimSpace(f.Statement + " " + f.Field)
	if where == "" {
		return f.Severity.String() + ": " + f.Message
	}
	return f.Severity.String() + ": " + where + ": " + f.Message
}

// confusedDeputyServices are service principals that act for many
// accounts and put aws:SourceAccount and aws:SourceArn in the request
// context when they assume a role, so a trust policy can and should pin
// them to the expected account or resource. s3.amazonaws.com
// (replication) and batchoperations.s3.amazonaws.com are not listed: AWS
// does not document that they send those keys, its trust policies for
// them have no conditions, and iam:PassRole already keeps other accounts
// from using the role (see ReplicationRoleTrustPolicy).
var confusedDeputyServices = []string{
	"datasync.amazonaws.com",
}

// Lint reports problems in a policy of the given kind that Validate does
// not: wildcards broader than a copy needs (actions "*", "s3:*" or
// "s3:Get*"; resources "*", "arn:aws:s3:::*" or "arn:aws:s3:::*/*"), a
// "*" principal without conditions, trust of a service that documents
// the confused-deputy keys (DataSync) without aws:SourceAccount or
// aws:SourceArn, bucket policies granting a service without
// aws:SourceAccount, aws:SourceArn or aws:SourceOrgID, trust of other
// accounts without sts:ExternalId, and elements the kind forbids or
// requires. Validation errors are included as SeverityError findings.
// Findings come in statement order.
func Lint(p Policy, kind PolicyKind) []Finding {
	var out []Finding
	if err := p.Validate(); err != nil {
		for _, e := range unjoin(err) {
			var ve *ValidationError
			if !errors.As(e, &ve) {
				continue
			}
			stmt, field := splitStatementField(p, ve.Field)
			out = append(out, Finding{Statement: stmt, Field: field, Message: fmt.Sprintf("%q: %s", ve.Value, ve.Rule), Severity: SeverityError})
		}
	}
	if p.Version == "" {
		out = append(out, Finding{Field: "Version", Message: "missing; AWS then uses " + PolicyVersion2008 + ", without policy variables; use " + PolicyVersion2012, Severity: SeveritySuggestion})
	}
	for i := range p.Statement {
		out = append(out, lintStatement(&p.Statement[i], statementName(p.Statement[i].Sid, i), kind)...)
	}
	return out
}

func lintStatement(s *Statement, name string, kind PolicyKind) []Finding {
	var out []Finding
	add := func(sev Severity, field, format string, args ...any) {
		out = append(out, Finding{Statement: name, Field: field, Message: fmt.Sprintf(format, args...), Severity: sev})
	}
	hasPrincipal := s.Principal != nil || s.NotPrincipal != nil
	hasResource := len(s.Resource) > 0 || len(s.NotResource) > 0
	switch kind {
	case PolicyKindIdentity:
		if hasPrincipal {
			add(SeverityError, "Principal", "identity policies must not name a principal")
		}
		if !hasResource {
			add(SeverityError, "Resource", "identity policy statements need a Resource")
		}
	case PolicyKindTrust:
		if !hasPrincipal {
			add(SeverityError, "Principal", "trust policy statements need a Principal")
		}
		if hasResource {
			add(SeverityError, "Resource", "trust policies must not have a Resource")
		}
	case PolicyKindKey:
		if !hasPrincipal {
			add(SeverityError, "Principal", "key policy statements need a Principal")
		}
		if !hasResource {
			add(SeverityError, "Resource", `key policy statements need a Resource ("*", the key)`)
		}
	case PolicyKindBucket:
		if !hasPrincipal {
			add(SeverityError, "Principal", "bucket policy statements need a Principal")
		}
		if !hasResource {
			add(SeverityError, "Resource", "bucket policy statements need a Resource")
		}
	}
	if s.Effect != EffectAllow {
		return out
	}
	for _, a := range s.Action {
		svc, name, _ := strings.Cut(a, ":")
		switch {
		case a == "*":
			add(SeverityWarning, "Action", `"*" allows every action of every service; list the actions needed`)
		case onlyWildcards(name) || onlyWildcards(svc):
			add(SeverityWarning, "Action", "%q allows every action of the service; list the actions needed", a)
		case strings.ContainsAny(name, "*?"):
			add(SeverityWarning, "Action", "%q allows every %s action it matches, including ones AWS adds later (s3:Put* includes s3:PutBucketPolicy); list the actions needed", a, svc)
		}
	}
	if len(s.NotAction) > 0 {
		add(SeverityWarning, "NotAction", "Allow with NotAction allows every action not listed, including future ones; list the actions needed in Action")
	}
	if kind != PolicyKindTrust && kind != PolicyKindKey {
		if len(s.NotResource) > 0 || slices.Contains(s.Resource, "*") {
			add(SeverityWarning, "Resource", "applies to every resource; name the bucket and object ARNs needed")
		}
		for _, r := range s.Resource {
			if what := wideResource(r); what != "" {
				add(SeverityWarning, "Resource", "%q applies to %s; name the bucket and object ARNs needed", r, what)
			}
		}
	}
	if s.NotPrincipal != nil {
		add(SeverityWarning, "NotPrincipal", "Allow with NotPrincipal allows everyone not listed, including anonymous users")
	}
	if kind == PolicyKindTrust || kind == PolicyKindBucket || kind == PolicyKindKey {
		if pr := s.Principal; pr != nil && (pr.Wildcard || slices.Contains(pr.AWS, "*")) && len(s.Condition) == 0 {
			add(SeverityError, "Principal", `"*" without a Condition allows anyone; name the principals or add conditions`)
		}
	}
	if kind == PolicyKindBucket && s.Principal != nil {
		for _, svc := range s.Principal.Service {
			if !hasConditionKey(s, sourceConditionKeys...) {
				add(SeverityWarning, "Condition", "grants %s without aws:SourceAccount, aws:SourceArn or aws:SourceOrgID, so the service may use this grant on behalf of any account (confused deputy)", svc)
			}
		}
	}
	if kind == PolicyKindTrust && s.Principal != nil {
		for _, svc := range s.Principal.Service {
			if containsFold(confusedDeputyServices, svc) && !hasConditionKey(s, "aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID") {
				add(SeverityWarning, "Condition", "trust of %s without aws:SourceAccount or aws:SourceArn lets the service assume this role on behalf of any account (confused deputy)", svc)
			}
		}
		if len(s.Principal.AWS) > 0 && !slices.Contains(s.Principal.AWS, "*") && !hasConditionKey(s, "sts:ExternalId") {
			add(SeverityWarning, "Condition", "cross-account trust without sts:ExternalId; a third party that assumes roles for many customers should be required to present one (confused deputy)")
		}
	}
	return out
}

// sourceConditionKeys tie a service's request to the account, resource or
// organization it acts for; a bucket policy granting a service principal
// needs one of them.
var sourceConditionKeys = []string{"aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths"}

// wideResource describes what r covers when it names every resource of a
// service or every bucket, such as "arn:aws:s3:::*" or
// "arn:aws:s3:::*/*"; otherwise "". "*" itself is reported separately.
func wideResource(r string) string {
	svc, acct, res, ok := splitARN(r)
	if !ok {
		// "arn:*" or "arn:aws:*": a pattern that stops at the partition
		// matches every ARN.
		parts := strings.Split(r, ":")
		if len(parts) <= 3 && parts[0] == "arn" && onlyWildcards(parts[len(parts)-1]) {
			return "every resource of every service"
		}
		return ""
	}
	switch {
	case onlyWildcards(svc):
		return "every resource of every service"
	case strings.EqualFold(svc, "s3"):
		bucket, key, hasKey := strings.Cut(res, "/")
		switch {
		case !onlyWildcards(bucket):
			return ""
		case !hasKey:
			return "every bucket"
		case onlyWildcards(key):
			return "every object in every bucket"
		}
		return "objects in every bucket"
	case onlyWildcards(res) && (acct == "" || onlyWildcards(acct)):
		return "every " + svc + " resource"
	}
	return ""
}

// onlyWildcards reports whether a pattern is made of "*" and "?" alone and
// contains a "*", so that it matches any string.
func onlyWildcards(s string) bool {
	return strings.Contains(s, "*") && strings.Trim(s, "*?") == ""
}

func statementName(sid string, i int) string {
	if sid != "" {
		return sid
	}
	return "Statement[" + strconv.Itoa(i) + "]"
}

// splitStatementField turns a validation field such as
// "Statement[2].Effect" into the statement's name and "Effect".
func splitStatementField(p Policy, field string) (stmt, rest string) {
	inner, ok := strings.CutPrefix(field, "Statement[")
	if !ok {
		return "", field
	}
	idx, after, ok := strings.Cut(inner, "]")
	i, err := strconv.Atoi(idx)
	if !ok || err != nil || i < 0 || i >= len(p.Statement) {
		return "", field
	}
	return statementName(p.Statement[i].Sid, i), strings.TrimPrefix(after, ".")
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func hasConditionKey(s *Statement, keys ...string) bool {
	for _, m := range s.Condition {
		for k := range m {
			if containsFold(keys, k) {
				return true
			}
		}
	}
	return false
}

func containsFold(l []string, v string) bool {
	for _, s := range l {
		if strings.EqualFold(s, v) {
			return true
		}
	}
	return false
}
