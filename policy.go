package xacct

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrInvalidPolicy is wrapped by every error ParsePolicy, Policy.Validate
// and MergeStatements return for a malformed policy document.
var ErrInvalidPolicy = errors.New("invalid policy")

// Policy language versions. AWS treats a document without a Version as
// PolicyVersion2008, which disables policy variables; the builders in this
// package always write PolicyVersion2012.
const (
	PolicyVersion2012 = "2012-10-17"
	PolicyVersion2008 = "2008-10-17"
)

// Effect is whether a statement allows or denies. Decisions also use
// EffectImplicitDeny, which never appears in a document.
type Effect string

// Statement and decision effects.
const (
	EffectAllow = Effect("Allow")
	EffectDeny  = Effect("Deny")
	// EffectImplicitDeny is a Decision's effect when no statement allowed
	// the request and none denied it.
	EffectImplicitDeny = Effect("ImplicitDeny")
)

// Policy is an IAM policy document: an identity policy, a role trust
// policy or a bucket policy. Its JSON matches what AWS accepts and
// returns, and marshalling is deterministic (statements in the order
// given, map keys sorted) so that plans diff cleanly.
type Policy struct {
	// Version is the policy language version; empty means PolicyVersion2008
	// to AWS.
	Version string `json:"Version,omitempty"`
	// ID is an optional identifier for the whole document.
	ID string `json:"Id,omitempty"`
	// Statement holds the rules in the order given; order never changes
	// a decision but is kept so that documents diff cleanly.
	Statement []Statement `json:"Statement"`
}

// Statement is one rule of a Policy. Exactly one of Action and NotAction
// is set; at most one of Principal and NotPrincipal (resource policies
// only) and of Resource and NotResource (trust policies have neither).
type Statement struct {
	// Sid names the statement. Builders in this package set stable Sids
	// prefixed "Xacct" so that MergeStatements can find and replace them.
	Sid string `json:"Sid,omitempty"`
	// Effect is EffectAllow or EffectDeny.
	Effect Effect `json:"Effect"`
	// Principal is who the statement applies to in a resource policy;
	// NotPrincipal applies it to everyone but those listed.
	Principal    *Principal `json:"Principal,omitempty"`
	NotPrincipal *Principal `json:"NotPrincipal,omitempty"`
	// Action lists service:action patterns, such as "s3:Get*", matched
	// case-insensitively; NotAction applies the statement to every other
	// action.
	Action    StringList `json:"Action,omitempty"`
	NotAction StringList `json:"NotAction,omitempty"`
	// Resource lists ARN patterns, matched case-sensitively; NotResource
	// applies the statement to every other resource.
	Resource    StringList `json:"Resource,omitempty"`
	NotResource StringList `json:"NotResource,omitempty"`
	// Condition must hold, every operator and key of it, for the
	// statement to apply.
	Condition Conditions `json:"Condition,omitempty"`
}

// StringList is a policy element that AWS writes as a single string or as
// an array of strings. It marshals one value as a string and any other
// number of values as an array, and unmarshals either form.
type StringList []string

// MarshalJSON writes one value as a JSON string, others as an array.
func (l StringList) MarshalJSON() ([]byte, error) {
	if len(l) == 1 {
		return marshalNoEscape(l[0])
	}
	return marshalNoEscape([]string(l))
}

// UnmarshalJSON accepts a string or an array of strings; null leaves the
// list unchanged.
func (l *StringList) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		return nil
	}
	v, err := decodeStringList(data, false)
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Principal is the Principal or NotPrincipal element of a resource
// policy: either the wildcard "*" (everyone, signed or anonymous) or lists
// of principals by type.
type Principal struct {
	// Wildcard is the bare "*"; when set the lists are ignored.
	Wildcard bool `json:"-"`
	// AWS holds account IDs, account root ARNs, user, role and
	// assumed-role session ARNs, or "*".
	AWS StringList `json:"AWS,omitempty"`
	// CanonicalUser holds S3 canonical user IDs.
	CanonicalUser StringList `json:"CanonicalUser,omitempty"`
	// Federated holds identity providers, such as
	// "cognito-identity.amazonaws.com" or a SAML provider ARN.
	Federated StringList `json:"Federated,omitempty"`
	// Service holds service principals, such as "s3.amazonaws.com".
	Service StringList `json:"Service,omitempty"`
}

// AnyPrincipal returns the "*" principal.
func AnyPrincipal() *Principal { return &Principal{Wildcard: true} }

// AWSPrincipal returns a principal naming AWS accounts or IAM principals.
// Bare 12-digit account IDs are written as account root ARNs, the form AWS
// returns them in.
func AWSPrincipal(principals ...string) *Principal {
	l := make(StringList, len(principals))
	for i, p := range principals {
		l[i] = principalARN(p)
	}
	return &Principal{AWS: l}
}

// ServicePrincipal returns a principal naming AWS services, such as
// "datasync.amazonaws.com".
func ServicePrincipal(services ...string) *Principal {
	return &Principal{Service: StringList(slices.Clone(services))}
}

func (p *Principal) empty() bool {
	return !p.Wildcard && len(p.AWS) == 0 && len(p.CanonicalUser) == 0 && len(p.Federated) == 0 && len(p.Service) == 0
}

// MarshalJSON writes the wildcard as "*" and otherwise an object whose
// keys are the principal types that have values.
func (p Principal) MarshalJSON() ([]byte, error) {
	if p.Wildcard {
		return []byte(`"*"`), nil
	}
	type plain Principal
	return marshalNoEscape(plain(p))
}

// UnmarshalJSON accepts "*" or an object of principal type to a string or
// array of strings. Other strings and unknown principal types are errors,
// as they are to AWS.
func (p *Principal) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		return nil
	}
	v, err := decodePrincipal(data)
	if err != nil {
		return err
	}
	*p = *v
	return nil
}

// Conditions is a statement's Condition element: condition operator (such
// as "StringEquals" or "ForAnyValue:StringLike") to condition key to the
// values any of which may match. Values are strings; on input booleans
// and numbers are accepted and kept as their JSON text ("true", "10").
type Conditions map[string]map[string]StringList

// UnmarshalJSON accepts string, boolean and number values and arrays of
// them, as AWS does.
func (c *Conditions) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		return nil
	}
	v, err := decodeConditions(data)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// NewPolicy returns a PolicyVersion2012 policy holding statements in the
// order given.
func NewPolicy(statements ...Statement) Policy {
	return Policy{Version: PolicyVersion2012, Statement: statements}
}

// ParsePolicy decodes and validates a policy document. Errors wrap
// ErrInvalidPolicy; element and validation problems are *ValidationError
// values naming the element, such as "Statement[2].Effect".
func ParsePolicy(data []byte) (*Policy, error) {
	var p Policy
	if err := json.Unmarshal(data, &p); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// UnmarshalJSON decodes a policy strictly: element names are case
// sensitive, unknown elements are errors, and Statement may be a single
// object or an array, as AWS allows. It does not validate; see Validate.
func (p *Policy) UnmarshalJSON(data []byte) error {
	fields, err := decodeObject(data, "policy")
	if err != nil {
		return err
	}
	var out Policy
	if err := checkKnown(fields, "", "Version", "Id", "Statement"); err != nil {
		return err
	}
	if out.Version, err = decodeString(fields, "Version", "Version"); err != nil {
		return err
	}
	if out.ID, err = decodeString(fields, "Id", "Id"); err != nil {
		return err
	}
	raw, ok := fields["Statement"]
	switch {
	case !ok || isNull(raw):
	case bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")):
		s, err := decodeStatement(raw, "Statement[0].")
		if err != nil {
			return err
		}
		out.Statement = []Statement{s}
	default:
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return invalid("Statement", string(raw), "must be an object or an array of objects")
		}
		out.Statement = make([]Statement, 0, len(list))
		for i, r := range list {
			s, err := decodeStatement(r, fmt.Sprintf("Statement[%d].", i))
			if err != nil {
				return err
			}
			out.Statement = append(out.Statement, s)
		}
	}
	*p = out
	return nil
}

// UnmarshalJSON decodes one statement strictly; see Policy.UnmarshalJSON.
func (s *Statement) UnmarshalJSON(data []byte) error {
	v, err := decodeStatement(data, "")
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// JSON returns the policy as indented JSON, byte for byte the same for
// equal policies.
func (p Policy) JSON() ([]byte, error) {
	if p.Statement == nil {
		p.Statement = []Statement{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("marshal policy: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// String returns the indented JSON of the policy, for logs and plans.
func (p Policy) String() string {
	b, err := p.JSON()
	if err != nil {
		return "invalid policy: " + err.Error()
	}
	return string(b)
}

// Validate checks the rules AWS applies to every policy kind: a known
// Version, at least one statement, Effect Allow or Deny, exactly one of
// Action and NotAction, at most one of Principal and NotPrincipal and of
// Resource and NotResource, unique Sids, well-formed actions and known
// condition operators. All problems are reported, joined; each is a
// *ValidationError wrapping ErrInvalidPolicy. Kind-specific rules (a
// bucket policy needs a Principal) are Lint's job.
func (p Policy) Validate() error {
	var errs []error
	add := func(field, value, rule string) {
		errs = append(errs, invalid(field, value, rule))
	}
	if p.Version != "" && p.Version != PolicyVersion2012 && p.Version != PolicyVersion2008 {
		add("Version", p.Version, "must be "+PolicyVersion2012+" or "+PolicyVersion2008)
	}
	if len(p.Statement) == 0 {
		add("Statement", "", "must hold at least one statement")
	}
	sids := make(map[string]int, len(p.Statement))
	for i, s := range p.Statement {
		f := func(name string) string { return fmt.Sprintf("Statement[%d].%s", i, name) }
		if s.Sid != "" {
			if j, dup := sids[s.Sid]; dup {
				add(f("Sid"), s.Sid, fmt.Sprintf("must be unique; Statement[%d] has the same Sid", j))
			} else {
				sids[s.Sid] = i
			}
		}
		if s.Effect != EffectAllow && s.Effect != EffectDeny {
			add(f("Effect"), string(s.Effect), "must be Allow or Deny")
		}
		switch {
		case len(s.Action) == 0 && len(s.NotAction) == 0:
			add(f("Action"), "", "one of Action and NotAction is required")
		case len(s.Action) > 0 && len(s.NotAction) > 0:
			add(f("NotAction"), strings.Join(s.NotAction, ","), "must not be set together with Action")
		}
		for _, e := range []namedList{{"Action", s.Action}, {"NotAction", s.NotAction}} {
			for _, a := range e.list {
				if a != "*" && !validAction(a) {
					add(f(e.name), a, `must be "*" or service:action, such as s3:GetObject`)
				}
			}
		}
		if len(s.Resource) > 0 && len(s.NotResource) > 0 {
			add(f("NotResource"), strings.Join(s.NotResource, ","), "must not be set together with Resource")
		}
		for _, e := range []namedList{{"Resource", s.Resource}, {"NotResource", s.NotResource}} {
			for _, r := range e.list {
				if r != "*" && !strings.HasPrefix(r, "arn:") {
					add(f(e.name), r, `must be "*" or an ARN`)
				}
			}
		}
		if s.Principal != nil && s.NotPrincipal != nil {
			add(f("NotPrincipal"), "", "must not be set together with Principal")
		}
		if s.Principal != nil && s.Principal.empty() {
			add(f("Principal"), "", "must name at least one principal")
		}
		if s.NotPrincipal != nil && s.NotPrincipal.empty() {
			add(f("NotPrincipal"), "", "must name at least one principal")
		}
		for _, op := range sortedKeys(s.Condition) {
			if _, ok := parseConditionOperator(op); !ok {
				add(f("Condition"), op, "unknown condition operator")
				continue
			}
			for _, key := range sortedKeys(s.Condition[op]) {
				if key == "" {
					add(f("Condition."+op), key, "condition key must not be empty")
				}
				if len(s.Condition[op][key]) == 0 {
					add(f("Condition."+op+"."+key), "", "must have at least one value")
				}
			}
		}
	}
	return errors.Join(errs...)
}

type namedList struct {
	name string
	list StringList
}

// MergeStatements returns existing with add merged in by Sid: statements
// of existing with other Sids are kept as they are and in order, the first
// statement with the same Sid as an added one is replaced in place (later
// ones with that Sid are dropped, as they are stale copies), and the rest
// are appended. changed reports whether the result differs from existing,
// so that applying a plan twice is a no-op. existing is not modified; nil
// means a new PolicyVersion2012 policy. Every added statement needs a
// unique Sid.
func MergeStatements(existing *Policy, add ...Statement) (merged *Policy, changed bool, err error) {
	seen := make(map[string]bool, len(add))
	for i, s := range add {
		field := fmt.Sprintf("add[%d].Sid", i)
		if s.Sid == "" {
			return nil, false, invalid(field, "", "statements to merge need a Sid")
		}
		if seen[s.Sid] {
			return nil, false, invalid(field, s.Sid, "must be unique among the statements to merge")
		}
		seen[s.Sid] = true
	}
	out := &Policy{Version: PolicyVersion2012}
	if existing != nil {
		out.Version, out.ID = existing.Version, existing.ID
		out.Statement = slices.Clone(existing.Statement)
	}
	byIndex := make(map[string]int, len(out.Statement))
	for i, s := range out.Statement {
		if _, ok := byIndex[s.Sid]; !ok && s.Sid != "" {
			byIndex[s.Sid] = i
		}
	}
	placed := make(map[string]bool, len(add))
	for _, s := range add {
		if i, ok := byIndex[s.Sid]; ok {
			out.Statement[i] = s
			placed[s.Sid] = true
		}
	}
	out.Statement = slices.DeleteFunc(out.Statement, func(s Statement) bool {
		if !placed[s.Sid] {
			return false
		}
		first := byIndex[s.Sid] >= 0
		byIndex[s.Sid] = -1
		return !first
	})
	for _, s := range add {
		if !placed[s.Sid] {
			out.Statement = append(out.Statement, s)
		}
	}
	if existing == nil {
		return out, true, nil
	}
	before, err := existing.JSON()
	if err != nil {
		return nil, false, err
	}
	after, err := out.JSON()
	if err != nil {
		return nil, false, err
	}
	return out, !bytes.Equal(before, after), nil
}

// ARN helpers. Only the aws partition is supported.

// BucketARN returns the ARN of an S3 bucket, arn:aws:s3:::bucket.
func BucketARN(bucket string) string { return "arn:aws:s3:::" + bucket }

// ObjectARN returns the ARN of the objects of bucket whose keys match
// keyPattern, which may hold the wildcards * and ?.
func ObjectARN(bucket, keyPattern string) string {
	return "arn:aws:s3:::" + bucket + "/" + keyPattern
}

// AccountRootARN returns the ARN AWS uses for a whole account,
// arn:aws:iam::account:root.
func AccountRootARN(account string) string { return "arn:aws:iam::" + account + ":root" }

// principalARN turns a bare account ID into its root ARN and leaves ARNs
// and "*" as they are.
func principalARN(p string) string {
	if isAccountID(p) {
		return AccountRootARN(p)
	}
	return p
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func validAction(a string) bool {
	svc, name, ok := strings.Cut(a, ":")
	if !ok || svc == "" || name == "" {
		return false
	}
	for i := 0; i < len(svc); i++ {
		c := svc[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func invalid(field, value, rule string) error {
	return &ValidationError{Field: field, Value: value, Rule: rule, Err: ErrInvalidPolicy}
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func isNull(data []byte) bool { return string(bytes.TrimSpace(data)) == "null" }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Decoding. The decoders name the element they are reading in errors,
// which encoding/json cannot do for custom element shapes.

func decodeObject(data []byte, field string) (map[string]json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if isNull(data) || json.Unmarshal(data, &fields) != nil {
		return nil, invalid(field, abbreviate(data), "must be a JSON object")
	}
	return fields, nil
}

func checkKnown(fields map[string]json.RawMessage, prefix string, known ...string) error {
	for _, k := range sortedKeys(fields) {
		if !slices.Contains(known, k) {
			return invalid(prefix+k, "", "unknown element (names are case sensitive): expected one of "+strings.Join(known, ", "))
		}
	}
	return nil
}

func decodeString(fields map[string]json.RawMessage, name, field string) (string, error) {
	raw, ok := fields[name]
	if !ok {
		return "", nil
	}
	var s string
	if isNull(raw) || json.Unmarshal(raw, &s) != nil {
		return "", invalid(field, abbreviate(raw), "must be a string")
	}
	return s, nil
}

func decodeStatement(data []byte, prefix string) (Statement, error) {
	var s Statement
	fields, err := decodeObject(data, strings.TrimSuffix(prefix, "."))
	if err != nil {
		return s, err
	}
	if err := checkKnown(fields, prefix, "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"); err != nil {
		return s, err
	}
	if s.Sid, err = decodeString(fields, "Sid", prefix+"Sid"); err != nil {
		return s, err
	}
	effect, err := decodeString(fields, "Effect", prefix+"Effect")
	if err != nil {
		return s, err
	}
	s.Effect = Effect(effect)
	for _, e := range []struct {
		name string
		dst  **Principal
	}{{"Principal", &s.Principal}, {"NotPrincipal", &s.NotPrincipal}} {
		raw, ok := fields[e.name]
		if !ok {
			continue
		}
		p, err := decodePrincipal(raw)
		if err != nil {
			return s, prefixField(err, prefix+e.name)
		}
		*e.dst = p
	}
	for _, e := range []struct {
		name string
		dst  *StringList
	}{{"Action", &s.Action}, {"NotAction", &s.NotAction}, {"Resource", &s.Resource}, {"NotResource", &s.NotResource}} {
		raw, ok := fields[e.name]
		if !ok {
			continue
		}
		l, err := decodeStringList(raw, false)
		if err != nil {
			return s, prefixField(err, prefix+e.name)
		}
		*e.dst = l
	}
	if raw, ok := fields["Condition"]; ok {
		c, err := decodeConditions(raw)
		if err != nil {
			return s, prefixField(err, prefix+"Condition")
		}
		s.Condition = c
	}
	return s, nil
}

// prefixField puts the element path in front of a nested decoder's field.
func prefixField(err error, prefix string) error {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	out := *ve
	if out.Field == "" {
		out.Field = prefix
	} else {
		out.Field = prefix + "." + out.Field
	}
	return &out
}

func decodePrincipal(data []byte) (*Principal, error) {
	var s string
	if json.Unmarshal(data, &s) == nil {
		if s != "*" {
			return nil, invalid("", s, `must be "*" or an object such as {"AWS": "arn:aws:iam::111122223333:root"}`)
		}
		return AnyPrincipal(), nil
	}
	fields, err := decodeObject(data, "")
	if err != nil {
		return nil, invalid("", abbreviate(data), `must be "*" or an object of principal type to principals`)
	}
	if err := checkKnown(fields, "", "AWS", "CanonicalUser", "Federated", "Service"); err != nil {
		return nil, err
	}
	p := &Principal{}
	for _, e := range []struct {
		name string
		dst  *StringList
	}{{"AWS", &p.AWS}, {"CanonicalUser", &p.CanonicalUser}, {"Federated", &p.Federated}, {"Service", &p.Service}} {
		raw, ok := fields[e.name]
		if !ok {
			continue
		}
		l, err := decodeStringList(raw, false)
		if err != nil {
			return nil, prefixField(err, e.name)
		}
		*e.dst = l
	}
	return p, nil
}

// decodeStringList reads a string or an array of strings; with scalars
// set it also reads booleans and numbers as their JSON text, as condition
// values allow.
func decodeStringList(data []byte, scalars bool) (StringList, error) {
	data = bytes.TrimSpace(data)
	rule := "must be a string or an array of strings"
	if scalars {
		rule = "must be a string, boolean or number, or an array of them"
	}
	if len(data) > 0 && data[0] == '[' {
		var items []json.RawMessage
		if json.Unmarshal(data, &items) != nil {
			return nil, invalid("", abbreviate(data), rule)
		}
		out := make(StringList, 0, len(items))
		for _, it := range items {
			v, ok := decodeScalar(it, scalars)
			if !ok {
				return nil, invalid("", abbreviate(data), rule)
			}
			out = append(out, v)
		}
		return out, nil
	}
	v, ok := decodeScalar(data, scalars)
	if !ok {
		return nil, invalid("", abbreviate(data), rule)
	}
	return StringList{v}, nil
}

func decodeScalar(data []byte, scalars bool) (string, bool) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return "", false
	}
	switch c := data[0]; {
	case c == '"':
		var s string
		if json.Unmarshal(data, &s) != nil {
			return "", false
		}
		return s, true
	case !scalars:
		return "", false
	case string(data) == "true" || string(data) == "false":
		return string(data), true
	case c == '-' || c >= '0' && c <= '9':
		var n json.Number
		if json.Unmarshal(data, &n) != nil {
			return "", false
		}
		return n.String(), true
	}
	return "", false
}

func decodeConditions(data []byte) (Conditions, error) {
	ops, err := decodeObject(data, "")
	if err != nil {
		return nil, err
	}
	out := make(Conditions, len(ops))
	for _, op := range sortedKeys(ops) {
		keys, err := decodeObject(ops[op], op)
		if err != nil {
			return nil, err
		}
		m := make(map[string]StringList, len(keys))
		for _, k := range sortedKeys(keys) {
			l, err := decodeStringList(keys[k], true)
			if err != nil {
				return nil, prefixField(err, op+"."+k)
			}
			m[k] = l
		}
		out[op] = m
	}
	return out, nil
}

// abbreviate keeps error values readable when the offending element is a
// large JSON value.
func abbreviate(data []byte) string {
	s := string(bytes.TrimSpace(data))
	if len(s) > 64 {
		return s[:61] + "..."
	}
	return s
}
