package xacct

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// PrincipalInfo is who makes a request being evaluated.
type PrincipalInfo struct {
	// ARN is the caller as STS GetCallerIdentity reports it: a user ARN,
	// an assumed-role session ARN
	// (arn:aws:sts::111122223333:assumed-role/name/session), a role ARN, or
	// the account root ARN (arn:aws:iam::111122223333:root).
	ARN string
	// Account is the caller's 12-digit account ID; empty means the account
	// in ARN.
	Account string
	// Service is set when an AWS service itself makes the request (such as
	// "s3.amazonaws.com" assuming a replication role). Identity policies
	// do not apply to services; only resource policies naming the service
	// grant it access.
	Service string
	// IsRoot marks the account root user, which has every permission in
	// its own account without identity policies. An ARN ending in ":root"
	// implies it.
	IsRoot bool
}

// Request is one action to evaluate: may Principal do Action on Resource?
type Request struct {
	Principal PrincipalInfo
	// Action is service:action, such as "s3:GetObject".
	Action string
	// Resource is the ARN acted on: an object ARN for object actions, a
	// bucket ARN for bucket actions, a role ARN for sts:AssumeRole.
	Resource string
	// ResourceAccount owns the resource; empty means the account in the
	// Resource ARN. S3 ARNs carry no account, so set it for S3 requests:
	// when it is unknown the request is treated as cross-account, which
	// needs both an identity and a resource policy Allow.
	ResourceAccount string
	// Context holds condition key values, such as "aws:SecureTransport" or
	// "s3:prefix". Keys match case-insensitively. aws:PrincipalArn,
	// aws:PrincipalAccount, aws:ResourceAccount and aws:PrincipalServiceName
	// are derived from the request when absent.
	Context map[string][]string
}

// AssumeRoleRequest returns the request STS evaluates when caller calls
// AssumeRole on roleARN, with sts:ExternalId in the context when externalID
// is not empty. Evaluate it against the caller's identity policies and the
// role's trust policy.
func AssumeRoleRequest(caller PrincipalInfo, roleARN, externalID string) Request {
	req := Request{Principal: caller, Action: "sts:AssumeRole", Resource: roleARN}
	if externalID != "" {
		req.Context = map[string][]string{"sts:ExternalId": {externalID}}
	}
	return req
}

// PolicySource says which policy a statement belongs to.
type PolicySource string

// Policy sources a Decision names.
const (
	// PolicySourceIdentity is one of the principal's identity policies.
	PolicySourceIdentity = PolicySource("identity")
	// PolicySourceResource is the resource's policy: a bucket policy or a
	// role trust policy.
	PolicySourceResource = PolicySource("resource")
)

// StatementRef points at one statement of the policies given to Evaluate.
type StatementRef struct {
	Policy PolicySource
	// PolicyIndex is the index in the identity policies; 0 for the
	// resource policy.
	PolicyIndex int
	// Index is the statement's index in its policy.
	Index int
	// Sid is the statement's Sid, if it has one.
	Sid string
}

// String names the statement by Sid when it has one, otherwise by index,
// for example `identity policy 0 statement "XacctSourceRead"`.
func (r StatementRef) String() string {
	where := "resource policy"
	if r.Policy == PolicySourceIdentity {
		where = fmt.Sprintf("identity policy %d", r.PolicyIndex)
	}
	if r.Sid != "" {
		return fmt.Sprintf("%s statement %q", where, r.Sid)
	}
	return fmt.Sprintf("%s statement %d", where, r.Index)
}

// Decision is the outcome of Evaluate.
type Decision struct {
	Allowed bool
	// Effect is EffectAllow, EffectDeny (an explicit Deny matched) or
	// EffectImplicitDeny (nothing allowed the request).
	Effect Effect
	// Statements are the statements that decided: the Deny, or the
	// Allows (identity first); empty for an implicit deny.
	Statements []StatementRef
	// Reason explains the decision in plain English.
	Reason string
}

// Evaluate answers whether req is allowed by the principal's identity
// policies and the resource's policy (a bucket policy, role trust policy
// or KMS key policy; nil if it has none), following AWS's rules: an
// explicit Deny in any policy wins; within one account an Allow in either
// policy suffices, except that a role's trust policy must always allow
// AssumeRole and a key policy must always allow kms:* actions on its key
// (naming the principal, or naming its account, which then defers to the
// identity policies), and a resource policy naming only the account defers
// to identity policies;
// across accounts both must allow. The account root user needs no
// identity policy. A NotPrincipal exempts only the callers it names
// exactly: listing a role does not exempt its sessions, nor an account its
// users and roles (AWS advises listing the session, the role and the
// account, as it may check each). Unknown condition operators never
// satisfy an Allow and always satisfy a Deny, so that mistakes fail
// closed.
//
// Wildcards are matched by a small backtracking matcher and nothing is
// compiled or cached, so Evaluate is cheap enough to run on every request
// and safe for concurrent use.
func Evaluate(req Request, identity []Policy, resource *Policy) Decision {
	e := newEvaluation(&req)
	if e.p.service == "" {
		for pi := range identity {
			for si := range identity[pi].Statement {
				s := &identity[pi].Statement[si]
				if s.Effect == EffectDeny && e.identityApplies(s) {
					return e.deny(StatementRef{PolicySourceIdentity, pi, si, s.Sid}, "identity policy")
				}
			}
		}
	}
	if resource != nil {
		for si := range resource.Statement {
			s := &resource.Statement[si]
			if s.Effect == EffectDeny && e.resourceApplies(s) > matchNone {
				return e.deny(StatementRef{PolicySourceResource, 0, si, s.Sid}, e.resourceNoun())
			}
		}
	}

	var idRef, resRef StatementRef
	idFound := false
	if e.p.service == "" {
	identityLoop:
		for pi := range identity {
			for si := range identity[pi].Statement {
				s := &identity[pi].Statement[si]
				if s.Effect == EffectAllow && e.identityApplies(s) {
					idRef, idFound = StatementRef{PolicySourceIdentity, pi, si, s.Sid}, true
					break identityLoop
				}
			}
		}
	}
	resLevel := matchNone
	if resource != nil {
		for si := range resource.Statement {
			s := &resource.Statement[si]
			if s.Effect != EffectAllow {
				continue
			}
			if lvl := e.resourceApplies(s); lvl > resLevel {
				resLevel, resRef = lvl, StatementRef{PolicySourceResource, 0, si, s.Sid}
				if lvl == matchExact {
					break
				}
			}
		}
	}
	return e.decide(idFound, idRef, resLevel, resRef)
}

// principalMatch is how a resource policy statement's principal matches
// the caller. matchAccount means the statement names the caller's account,
// which delegates the decision to that account's identity policies.
type principalMatch int

const (
	matchNone principalMatch = iota
	matchAccount
	matchExact
)

type evalPrincipal struct {
	arn, account, service string
	roleAccount, roleName string
	root                  bool
}

type evaluation struct {
	req        *Request
	p          evalPrincipal
	resAccount string
	trust      bool
	// key is set for KMS actions on a key, decided like trust policies:
	// the key policy must allow even within one account.
	key         bool
	missStmt    *Statement
	missOp      string
	missKey     string
	missInIdent bool
}

func newEvaluation(req *Request) *evaluation {
	e := &evaluation{req: req}
	p := &e.p
	p.arn, p.account, p.service, p.root = req.Principal.ARN, req.Principal.Account, req.Principal.Service, req.Principal.IsRoot
	if svc, acct, res, ok := splitARN(p.arn); ok {
		if p.account == "" {
			p.account = acct
		}
		switch {
		case svc == "iam" && res == "root":
			p.root = true
		case svc == "iam" && strings.HasPrefix(res, "role/"):
			p.roleAccount, p.roleName = acct, res[strings.LastIndexByte(res, '/')+1:]
		case svc == "sts" && strings.HasPrefix(res, "assumed-role/"):
			name, _, _ := strings.Cut(res[len("assumed-role/"):], "/")
			p.roleAccount, p.roleName = acct, name
		}
	}
	e.resAccount = req.ResourceAccount
	svc, acct, res, ok := splitARN(req.Resource)
	if ok && e.resAccount == "" {
		e.resAccount = acct
	}
	// Only STS actions on a role are decided by its trust policy; IAM
	// actions on it (iam:GetRole…) are ordinary identity-policy matters.
	e.trust = ok && svc == "iam" && strings.HasPrefix(res, "role/") && strings.HasPrefix(strings.ToLower(req.Action), "sts:")
	// KMS actions on a key are decided by its key policy the same way.
	e.key = ok && svc == "kms" && strings.HasPrefix(res, "key/") && strings.HasPrefix(strings.ToLower(req.Action), "kms:")
	return e
}

// splitARN returns the service, account and resource parts of an ARN.
func splitARN(arn string) (service, account, resource string, ok bool) {
	rest, found := strings.CutPrefix(arn, "arn:")
	if !found {
		return "", "", "", false
	}
	var parts [4]string
	for i := range parts {
		parts[i], rest, found = strings.Cut(rest, ":")
		if !found {
			return "", "", "", false
		}
	}
	return parts[1], parts[3], rest, true
}

func (e *evaluation) sameAccount() bool { return e.p.account != "" && e.p.account == e.resAccount }

func (e *evaluation) actionResourceMatch(s *Statement, resourcePolicy bool) bool {
	if len(s.Action) > 0 {
		if !anyGlob(s.Action, e.req.Action, true) {
			return false
		}
	} else if anyGlob(s.NotAction, e.req.Action, true) {
		return false
	}
	switch {
	case len(s.Resource) > 0:
		return anyGlob(s.Resource, e.req.Resource, false)
	case len(s.NotResource) > 0:
		return !anyGlob(s.NotResource, e.req.Resource, false)
	default:
		// A trust policy's statements apply to the role they are attached
		// to; an identity statement without Resource is invalid and grants
		// nothing.
		return resourcePolicy
	}
}

func (e *evaluation) identityApplies(s *Statement) bool {
	if !e.actionResourceMatch(s, false) {
		return false
	}
	ok, op, key := e.conditionsMatch(s)
	if !ok && s.Effect == EffectAllow && e.missStmt == nil {
		e.missStmt, e.missOp, e.missKey, e.missInIdent = s, op, key, true
	}
	return ok
}

func (e *evaluation) resourceApplies(s *Statement) principalMatch {
	if !e.actionResourceMatch(s, true) {
		return matchNone
	}
	var lvl principalMatch
	switch {
	case s.Principal != nil:
		lvl = e.principalMatches(s.Principal)
	case s.NotPrincipal != nil:
		if !e.notPrincipalNames(s.NotPrincipal) {
			lvl = matchExact
		}
	}
	if lvl == matchNone {
		return matchNone
	}
	ok, op, key := e.conditionsMatch(s)
	if !ok {
		if s.Effect == EffectAllow && e.missStmt == nil {
			e.missStmt, e.missOp, e.missKey, e.missInIdent = s, op, key, false
		}
		return matchNone
	}
	return lvl
}

func (e *evaluation) principalMatches(pr *Principal) principalMatch {
	if pr.Wildcard {
		return matchExact
	}
	if e.p.service != "" {
		for _, s := range pr.Service {
			if strings.EqualFold(s, e.p.service) {
				return matchExact
			}
		}
		return matchNone
	}
	best := matchNone
	for _, v := range pr.AWS {
		if m := e.awsPrincipalMatches(v); m > best {
			best = m
			if m == matchExact {
				break
			}
		}
	}
	return best
}

// notPrincipalNames reports whether a NotPrincipal element names the
// caller itself, which exempts it from the statement. Unlike Principal, a
// role ARN does not stand for the role's sessions, nor an account for its
// users and roles: AWS exempts an assumed-role session only when its own
// arn:aws:sts::…:assumed-role/role/session ARN is listed.
func (e *evaluation) notPrincipalNames(pr *Principal) bool {
	if pr.Wildcard {
		return true
	}
	p := &e.p
	if p.service != "" {
		return containsFold(pr.Service, p.service)
	}
	for _, v := range pr.AWS {
		if v == "*" || (p.arn != "" && v == p.arn) {
			return true
		}
		// The root user is the account, so the account ID names it too.
		if p.root && p.account != "" {
			if v == p.account {
				return true
			}
			if svc, acct, res, ok := splitARN(v); ok && svc == "iam" && res == "root" && acct == p.account {
				return true
			}
		}
	}
	return false
}

func (e *evaluation) awsPrincipalMatches(v string) principalMatch {
	p := &e.p
	if v == "*" {
		return matchExact
	}
	acct := v
	if !isAccountID(v) {
		svc, a, res, ok := splitARN(v)
		switch {
		case !ok:
			return matchNone
		case svc == "iam" && res == "root":
			acct = a
		case svc == "iam" && strings.HasPrefix(res, "role/"):
			// A role principal matches the role and every session of it;
			// sessions ARNs drop the role's path, so compare names.
			if p.roleName != "" && p.roleAccount == a && p.roleName == res[strings.LastIndexByte(res, '/')+1:] {
				return matchExact
			}
			return matchNone
		default:
			if v == p.arn {
				return matchExact
			}
			return matchNone
		}
	}
	if acct != p.account {
		return matchNone
	}
	if p.root {
		return matchExact
	}
	return matchAccount
}

func (e *evaluation) resourceNoun() string {
	switch {
	case e.trust:
		return "trust policy"
	case e.key:
		return "key policy"
	case strings.HasPrefix(e.req.Resource, "arn:aws:s3:::"):
		return "bucket policy"
	default:
		return "resource policy"
	}
}

func (e *evaluation) who() string {
	switch {
	case e.p.service != "":
		return "service " + e.p.service
	case e.p.arn != "":
		return e.p.arn
	default:
		return "a principal of account " + e.p.account
	}
}

func (e *evaluation) deny(ref StatementRef, noun string) Decision {
	return Decision{
		Effect:     EffectDeny,
		Statements: []StatementRef{ref},
		Reason: fmt.Sprintf("%s of the %s explicitly denies %s to %s on %s; an explicit Deny overrides any Allow",
			ref.stmtName(), noun, e.req.Action, e.who(), e.req.Resource),
	}
}

func (r StatementRef) stmtName() string {
	if r.Sid != "" {
		return fmt.Sprintf("statement %q", r.Sid)
	}
	return fmt.Sprintf("statement %d", r.Index)
}

func (e *evaluation) decide(idFound bool, idRef StatementRef, resLevel principalMatch, resRef StatementRef) Decision {
	noun := e.resourceNoun()
	what := fmt.Sprintf("%s on %s", e.req.Action, e.req.Resource)
	allow := func(how string, refs ...StatementRef) Decision {
		return Decision{Allowed: true, Effect: EffectAllow, Statements: refs, Reason: how}
	}
	identityOK := idFound || e.p.root
	idName := "the root user's own permissions"
	if idFound {
		idName = fmt.Sprintf("%s of identity policy %d", idRef.stmtName(), idRef.PolicyIndex)
	}
	idVerb := " allow"
	if idFound {
		idVerb = " allows"
	}
	idRefs := func() []StatementRef {
		if idFound {
			return []StatementRef{idRef}
		}
		return nil
	}

	switch {
	case e.p.service != "":
		if resLevel == matchExact {
			return allow(fmt.Sprintf("%s of the %s allows %s to do %s", resRef.stmtName(), noun, e.who(), what), resRef)
		}
		return e.implicit(fmt.Sprintf("no statement in the %s allows %s to do %s; services are granted access only by resource policies naming them", noun, e.who(), what))

	case e.sameAccount() && !e.trust && !e.key:
		if resLevel == matchExact {
			return allow(fmt.Sprintf("%s of the %s allows %s to do %s; within one account one Allow is enough", resRef.stmtName(), noun, e.who(), what), resRef)
		}
		if identityOK {
			refs := idRefs()
			if resLevel == matchAccount {
				refs = append(refs, resRef)
			}
			return allow(fmt.Sprintf("%s%s %s to do %s; within one account one Allow is enough", idName, idVerb, e.who(), what), refs...)
		}
		msg := fmt.Sprintf("no statement in the identity policies of %s or the %s allows %s", e.who(), noun, what)
		if resLevel == matchAccount {
			msg = fmt.Sprintf("no statement in the identity policies of %s allows %s; %s of the %s grants it to the account %s, which leaves the decision to the account's identity policies",
				e.who(), what, resRef.stmtName(), noun, e.p.account)
		}
		return e.implicit(msg)

	case e.sameAccount():
		switch {
		case resLevel == matchExact:
			return allow(fmt.Sprintf("%s of the %s allows %s to do %s", resRef.stmtName(), noun, e.who(), what), resRef)
		case resLevel == matchAccount && identityOK:
			return allow(fmt.Sprintf("%s of the %s trusts account %s and %s%s %s to do %s", resRef.stmtName(), noun, e.p.account, idName, idVerb, e.who(), what), append(idRefs(), resRef)...)
		case resLevel == matchAccount:
			return e.implicit(fmt.Sprintf("%s of the %s trusts account %s, but no statement in the identity policies of %s allows %s", resRef.stmtName(), noun, e.p.account, e.who(), what))
		}
		if e.key {
			return e.implicit(fmt.Sprintf("no statement in the %s of %s allows %s to do %s; a KMS key's policy must allow it even within one account", noun, e.req.Resource, e.who(), e.req.Action))
		}
		return e.implicit(fmt.Sprintf("no statement in the %s of %s allows %s to do %s; a role's trust policy must allow it even within one account", noun, e.req.Resource, e.who(), e.req.Action))

	default:
		const both = "cross-account access needs both the identity policy and the %s to allow it"
		need := fmt.Sprintf(both, noun)
		switch {
		case identityOK && resLevel > matchNone:
			return allow(fmt.Sprintf("%s of the %s and %s allow %s to do %s", resRef.stmtName(), noun, idName, e.who(), what), append(idRefs(), resRef)...)
		case identityOK:
			return e.implicit(fmt.Sprintf("no statement in the %s allows %s to do %s; %s", noun, e.who(), what, need))
		case resLevel > matchNone:
			return e.implicit(fmt.Sprintf("no statement in the identity policies of %s allows %s (%s of the %s does); %s", e.who(), what, resRef.stmtName(), noun, need))
		}
		return e.implicit(fmt.Sprintf("neither the identity policies of %s nor the %s allow %s; %s", e.who(), noun, what, need))
	}
}

func (e *evaluation) implicit(reason string) Decision {
	if e.missStmt != nil {
		where := "the " + e.resourceNoun()
		if e.missInIdent {
			where = "an identity policy"
		}
		name := "a statement"
		if e.missStmt.Sid != "" {
			name = fmt.Sprintf("statement %q", e.missStmt.Sid)
		}
		reason += fmt.Sprintf(" (%s of %s matched but its condition %s on %s was not met)", name, where, e.missOp, e.missKey)
	}
	return Decision{Effect: EffectImplicitDeny, Reason: reason}
}

// Conditions.

func (e *evaluation) conditionsMatch(s *Statement) (ok bool, failedOp, failedKey string) {
	for op, keys := range s.Condition {
		cop, known := parseConditionOperator(op)
		if !known {
			if s.Effect == EffectDeny {
				continue
			}
			return false, op, "(unknown operator)"
		}
		for key, want := range keys {
			if !e.conditionKeyMatches(cop, key, want) {
				return false, op, key
			}
		}
	}
	return true, "", ""
}

func (e *evaluation) conditionKeyMatches(op conditionOperator, key string, want StringList) bool {
	have := e.lookup(key)
	if op.base.null {
		for _, w := range want {
			if strings.EqualFold(w, "true") == (len(have) == 0) {
				return true
			}
		}
		return false
	}
	if len(have) == 0 {
		switch {
		case op.ifExists, op.set == setAllValues:
			return true
		case op.set == setAnyValue:
			return false
		}
		return op.base.negated
	}
	test := func(v string) bool {
		for _, w := range want {
			if op.base.match(v, w) {
				return !op.base.negated
			}
		}
		return op.base.negated
	}
	switch op.set {
	case setAllValues:
		for _, v := range have {
			if !test(v) {
				return false
			}
		}
		return true
	case setAnyValue:
		for _, v := range have {
			if test(v) {
				return true
			}
		}
		return false
	}
	// A single-valued operator on several values: positive operators need
	// one value to match, negated ones need none to.
	for _, v := range have {
		matched := false
		for _, w := range want {
			if op.base.match(v, w) {
				matched = true
				break
			}
		}
		if matched {
			return !op.base.negated
		}
	}
	return op.base.negated
}

func (e *evaluation) lookup(key string) []string {
	if v, ok := e.req.Context[key]; ok {
		return v
	}
	for k, v := range e.req.Context {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	var derived string
	switch strings.ToLower(key) {
	case "aws:principalarn":
		derived = e.p.arn
		if e.p.roleName != "" {
			derived = "arn:aws:iam::" + e.p.roleAccount + ":role/" + e.p.roleName
		}
	case "aws:principalaccount":
		derived = e.p.account
	case "aws:resourceaccount":
		derived = e.resAccount
	case "aws:principalservicename":
		derived = e.p.service
	}
	if derived == "" {
		return nil
	}
	return []string{derived}
}

type setQualifier int

const (
	setNone setQualifier = iota
	setAnyValue
	setAllValues
)

type conditionBase struct {
	match   func(have, want string) bool
	negated bool
	null    bool
}

type conditionOperator struct {
	set      setQualifier
	ifExists bool
	base     conditionBase
}

func parseConditionOperator(op string) (conditionOperator, bool) {
	var c conditionOperator
	if rest, ok := strings.CutPrefix(op, "ForAnyValue:"); ok {
		c.set, op = setAnyValue, rest
	} else if rest, ok := strings.CutPrefix(op, "ForAllValues:"); ok {
		c.set, op = setAllValues, rest
	}
	if rest, ok := strings.CutSuffix(op, "IfExists"); ok {
		c.ifExists, op = true, rest
	}
	base, ok := conditionBases[op]
	if !ok || base.null && (c.ifExists || c.set != setNone) {
		return c, false
	}
	c.base = base
	return c, true
}

// conditionBases are the operators the evaluator understands, without
// set prefixes or the IfExists suffix. ArnEquals behaves like ArnLike, as
// it does on AWS.
var conditionBases = map[string]conditionBase{
	"StringEquals":              {match: stringEquals},
	"StringNotEquals":           {match: stringEquals, negated: true},
	"StringEqualsIgnoreCase":    {match: strings.EqualFold},
	"StringNotEqualsIgnoreCase": {match: strings.EqualFold, negated: true},
	"StringLike":                {match: stringLike},
	"StringNotLike":             {match: stringLike, negated: true},
	"ArnEquals":                 {match: arnLike},
	"ArnLike":                   {match: arnLike},
	"ArnNotEquals":              {match: arnLike, negated: true},
	"ArnNotLike":                {match: arnLike, negated: true},
	"Bool":                      {match: strings.EqualFold},
	"BinaryEquals":              {match: stringEquals},
	"NumericEquals":             {match: numeric(func(c int) bool { return c == 0 })},
	"NumericNotEquals":          {match: numeric(func(c int) bool { return c == 0 }), negated: true},
	"NumericLessThan":           {match: numeric(func(c int) bool { return c < 0 })},
	"NumericLessThanEquals":     {match: numeric(func(c int) bool { return c <= 0 })},
	"NumericGreaterThan":        {match: numeric(func(c int) bool { return c > 0 })},
	"NumericGreaterThanEquals":  {match: numeric(func(c int) bool { return c >= 0 })},
	"DateEquals":                {match: date(func(c int) bool { return c == 0 })},
	"DateNotEquals":             {match: date(func(c int) bool { return c == 0 }), negated: true},
	"DateLessThan":              {match: date(func(c int) bool { return c < 0 })},
	"DateLessThanEquals":        {match: date(func(c int) bool { return c <= 0 })},
	"DateGreaterThan":           {match: date(func(c int) bool { return c > 0 })},
	"DateGreaterThanEquals":     {match: date(func(c int) bool { return c >= 0 })},
	"IpAddress":                 {match: ipInRange},
	"NotIpAddress":              {match: ipInRange, negated: true},
	"Null":                      {null: true},
}

func stringEquals(a, b string) bool { return a == b }

func stringLike(have, pattern string) bool { return glob(pattern, have, false) }

// arnLike matches the six colon-separated parts of an ARN separately, so a
// wildcard in one part never spans into the next.
func arnLike(have, pattern string) bool {
	if !strings.Contains(pattern, ":") {
		return glob(pattern, have, false)
	}
	for range 5 {
		var pp, hp string
		var okP, okH bool
		pp, pattern, okP = strings.Cut(pattern, ":")
		hp, have, okH = strings.Cut(have, ":")
		if !okP || !okH || !glob(pp, hp, false) {
			return false
		}
	}
	return glob(pattern, have, false)
}

// numeric compares have with want; cmp gets the sign of have - want.
func numeric(cmp func(int) bool) func(have, want string) bool {
	return func(have, want string) bool {
		h, err1 := strconv.ParseFloat(have, 64)
		w, err2 := strconv.ParseFloat(want, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		switch {
		case h < w:
			return cmp(-1)
		case h > w:
			return cmp(1)
		}
		return cmp(0)
	}
}

// date compares RFC 3339 times or epoch seconds.
func date(cmp func(int) bool) func(have, want string) bool {
	return func(have, want string) bool {
		h, ok1 := parsePolicyTime(have)
		w, ok2 := parsePolicyTime(want)
		if !ok1 || !ok2 {
			return false
		}
		return cmp(h.Compare(w))
	}
}

func parsePolicyTime(s string) (time.Time, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func ipInRange(have, want string) bool {
	addr, err := netip.ParseAddr(have)
	if err != nil {
		return false
	}
	if p, err := netip.ParsePrefix(want); err == nil {
		return p.Contains(addr.Unmap())
	}
	w, err := netip.ParseAddr(want)
	return err == nil && w.Unmap() == addr.Unmap()
}

// Wildcards.

func anyGlob(patterns StringList, s string, fold bool) bool {
	for _, p := range patterns {
		if glob(p, s, fold) {
			return true
		}
	}
	return false
}

// glob reports whether s matches pattern, where * matches any run of
// characters, ? exactly one, and ${*}, ${?} and ${$} stand for those
// characters literally; fold makes ASCII letters match either case.
// It backtracks only to the last *, so it runs in O(len(pattern)*len(s))
// at worst and never allocates.
func glob(pattern, s string, fold bool) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				starP, starS = px, sx
				px++
				continue
			case '?':
				_, n := utf8.DecodeRuneInString(s[sx:])
				px, sx = px+1, sx+n
				continue
			default:
				width := 1
				if c == '$' && px+3 < len(pattern) && pattern[px+1] == '{' && pattern[px+3] == '}' && strings.IndexByte("*?$", pattern[px+2]) >= 0 {
					c, width = pattern[px+2], 4
				}
				if c == s[sx] || fold && lowerASCII(c) == lowerASCII(s[sx]) {
					px, sx = px+width, sx+1
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		px, sx = starP+1, starS
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
