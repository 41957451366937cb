package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// AWS's limits on what AssumeRole may ask of a session.
const (
	maxSessionTags    = 50
	maxTagKeyLength   = 128
	maxTagValueLength = 256
)

var (
	tagKeyRE         = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	tagValueRE       = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	sourceIdentityRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	mfaSerialRE      = regexp.MustCompile(`^[\w+=/:,.@-]{9,256}$`)
	tokenCodeRE      = regexp.MustCompile(`^\d{6}$`)
	externalIDRE     = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

// sessionTag is one session tag, with the key's case as it was given.
type sessionTag struct{ key, value string }

// sessionAttrs is what an STS session carries into the request context of
// every call made with its keys: its tags (aws:PrincipalTag/KEY), its
// source identity (aws:SourceIdentity) and whether it was created with MFA
// (aws:MultiFactorAuthPresent, aws:MultiFactorAuthAge).
type sessionAttrs struct {
	tags []sessionTag
	// transitive holds the lower-cased keys of tags that pass on to
	// sessions this one assumes.
	transitive     map[string]bool
	sourceIdentity string
	// mfaAt is when the MFA code was checked; zero without MFA.
	mfaAt time.Time
}

// addContext adds the session's condition keys to ctx.
func (s *sessionAttrs) addContext(ctx map[string][]string, now time.Time) {
	if s == nil {
		return
	}
	for _, t := range s.tags {
		ctx["aws:PrincipalTag/"+t.key] = []string{t.value}
	}
	if s.sourceIdentity != "" {
		ctx["aws:SourceIdentity"] = []string{s.sourceIdentity}
	}
	// Temporary keys always say whether MFA was used; long-term keys never
	// carry the key at all.
	if s.mfaAt.IsZero() {
		ctx["aws:MultiFactorAuthPresent"] = []string{"false"}
		return
	}
	ctx["aws:MultiFactorAuthPresent"] = []string{"true"}
	ctx["aws:MultiFactorAuthAge"] = []string{strconv.Itoa(int(now.Sub(s.mfaAt) / time.Second))}
}

// sessionRequest is what one AssumeRole call asks for beyond the role and
// the session name.
type sessionRequest struct {
	tags           []sessionTag
	transitive     []string
	sourceIdentity string
	mfa            bool
	externalID     []string
}

func invalidParameter(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidParameterValue", msg}
}

// parseSessionRequest reads and checks the session tags, transitive tag
// keys, source identity, MFA device and code and external id of an
// AssumeRole call, with AWS's limits and error codes.
func parseSessionRequest(f url.Values) (*sessionRequest, error) {
	sr := &sessionRequest{}
	seen := map[string]bool{}
	for i := 1; ; i++ {
		prefix := "Tags.member." + strconv.Itoa(i) + "."
		key, hasKey := f[prefix+"Key"]
		value, hasValue := f[prefix+"Value"]
		if !hasKey && !hasValue {
			break
		}
		t := sessionTag{}
		if hasKey {
			t.key = key[0]
		}
		if hasValue {
			t.value = value[0]
		}
		if n := utf8.RuneCountInString(t.key); n > maxTagKeyLength || !tagKeyRE.MatchString(t.key) {
			return nil, validationError("1 validation error detected: Value '%s' at 'tags.%d.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+ and have length between 1 and %d", t.key, i, maxTagKeyLength)
		}
		if n := utf8.RuneCountInString(t.value); n > maxTagValueLength || !tagValueRE.MatchString(t.value) {
			return nil, validationError("1 validation error detected: Value '%s' at 'tags.%d.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]* and have length less than or equal to %d", t.value, i, maxTagValueLength)
		}
		lk := strings.ToLower(t.key)
		if seen[lk] {
			return nil, invalidParameter("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[lk] = true
		sr.tags = append(sr.tags, t)
	}
	if len(sr.tags) > maxSessionTags {
		return nil, validationError("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to %d", maxSessionTags)
	}
	for i := 1; ; i++ {
		k, ok := f["TransitiveTagKeys.member."+strconv.Itoa(i)]
		if !ok {
			break
		}
		if !seen[strings.ToLower(k[0])] {
			return nil, invalidParameter("The specified transitive tag key must be included in the requested tags.")
		}
		sr.transitive = append(sr.transitive, k[0])
	}
	if len(sr.transitive) > maxSessionTags {
		return nil, validationError("1 validation error detected: Value at 'transitiveTagKeys' failed to satisfy constraint: Member must have length less than or equal to %d", maxSessionTags)
	}
	if v, ok := f["SourceIdentity"]; ok {
		if !sourceIdentityRE.MatchString(v[0]) {
			return nil, validationError("1 validation error detected: Value '%s' at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64", v[0])
		}
		sr.sourceIdentity = v[0]
	}
	serial, hasSerial := f["SerialNumber"]
	code, hasCode := f["TokenCode"]
	if hasSerial && !mfaSerialRE.MatchString(serial[0]) {
		return nil, validationError("1 validation error detected: Value '%s' at 'serialNumber' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=/:,.@-]* and have length between 9 and 256", serial[0])
	}
	if hasCode && !tokenCodeRE.MatchString(code[0]) {
		// The code itself is a secret: not echoed.
		return nil, validationError("1 validation error detected: Value at 'tokenCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\d]* and have length 6")
	}
	if hasSerial != hasCode {
		return nil, &apiError{http.StatusForbidden, "AccessDenied", "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code."}
	}
	sr.mfa = hasSerial
	if v, ok := f["ExternalId"]; ok {
		if len(v[0]) < 2 || len(v[0]) > 1224 || !externalIDRE.MatchString(v[0]) {
			return nil, validationError("1 validation error detected: Value '%s' at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]* and have length between 2 and 1224", v[0])
		}
		sr.externalID = v
	}
	return sr, nil
}

// newSession combines what the call asked for with what the calling
// session passes on in a role chain: its transitive tags and its source
// identity, neither of which the call may change.
func (sr *sessionRequest) newSession(caller *sessionAttrs, now time.Time) (*sessionAttrs, error) {
	s := &sessionAttrs{transitive: map[string]bool{}, sourceIdentity: sr.sourceIdentity}
	if sr.mfa {
		s.mfaAt = now
	}
	if caller != nil {
		for _, t := range caller.tags {
			if caller.transitive[strings.ToLower(t.key)] {
				s.tags = append(s.tags, t)
				s.transitive[strings.ToLower(t.key)] = true
			}
		}
		if caller.sourceIdentity != "" {
			if sr.sourceIdentity != "" && sr.sourceIdentity != caller.sourceIdentity {
				return nil, invalidParameter("The source identity of a role session cannot be changed: the calling session has source identity " + caller.sourceIdentity + ".")
			}
			s.sourceIdentity = caller.sourceIdentity
		}
	}
	for _, t := range sr.tags {
		if s.transitive[strings.ToLower(t.key)] {
			return nil, invalidParameter("One or more of the specified session tag keys conflict with the transitive tag key " + t.key + " of the calling session.")
		}
	}
	s.tags = append(s.tags, sr.tags...)
	for _, k := range sr.transitive {
		s.transitive[strings.ToLower(k)] = true
	}
	return s, nil
}

// addContext adds the condition keys AWS evaluates an AssumeRole call
// (and its sts:TagSession and sts:SetSourceIdentity parts) with.
func (sr *sessionRequest) addContext(ctx map[string][]string, sourceIdentity string) {
	if sr.externalID != nil {
		ctx["sts:ExternalId"] = sr.externalID
	}
	if sourceIdentity != "" {
		ctx["sts:SourceIdentity"] = []string{sourceIdentity}
	}
	if len(sr.tags) > 0 {
		keys := make([]string, len(sr.tags))
		for i, t := range sr.tags {
			ctx["aws:RequestTag/"+t.key] = []string{t.value}
			keys[i] = t.key
		}
		ctx["aws:TagKeys"] = keys
	}
	if len(sr.transitive) > 0 {
		ctx["sts:TransitiveTagKeys"] = sr.transitive
	}
	if sr.mfa {
		ctx["aws:MultiFactorAuthPresent"] = []string{"true"}
		ctx["aws:MultiFactorAuthAge"] = []string{"0"}
	}
}

// trustConditionsMet is the check the sandbox makes of a trust policy when
// no authorizer is installed: an Allow statement for sts:AssumeRole must
// have its sts:ExternalId and aws:MultiFactorAuthPresent conditions met by
// ctx. Principals and every other condition are left to the authorizer;
// a policy with no such statement, or one the sandbox cannot read, is not
// judged here. It returns "" or the reason for refusing.
func trustConditionsMet(trust string, ctx map[string][]string) string {
	var doc struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(trust), &doc) != nil {
		return ""
	}
	var stmts []trustStatement
	if json.Unmarshal(doc.Statement, &stmts) != nil {
		var one trustStatement
		if json.Unmarshal(doc.Statement, &one) != nil {
			return ""
		}
		stmts = []trustStatement{one}
	}
	reason := ""
	for _, s := range stmts {
		if s.Effect != "Allow" || !s.coversAssumeRole() {
			continue
		}
		failed := s.failedCondition(ctx)
		if failed == "" {
			return ""
		}
		if reason == "" {
			reason = "the " + failed + " condition of the role's trust policy was not met"
		}
	}
	return reason
}

// trustStatement is the part of a trust policy statement the sandbox reads
// without an authorizer.
type trustStatement struct {
	Effect    string
	Action    stringOrList
	NotAction stringOrList
	Condition map[string]map[string]stringOrList
}

func (s *trustStatement) coversAssumeRole() bool {
	const action = "sts:assumerole"
	if len(s.Action) > 0 {
		for _, a := range s.Action {
			if wildcard(strings.ToLower(a), action) {
				return true
			}
		}
		return false
	}
	for _, a := range s.NotAction {
		if wildcard(strings.ToLower(a), action) {
			return false
		}
	}
	return true
}

// failedCondition returns the sts:ExternalId or aws:MultiFactorAuthPresent
// condition key of s that ctx does not meet, or "".
func (s *trustStatement) failedCondition(ctx map[string][]string) string {
	for op, keys := range s.Condition {
		base, ifExists := strings.CutSuffix(op, "IfExists")
		for key, want := range keys {
			var match func(have, want string) bool
			switch {
			case strings.EqualFold(key, "sts:ExternalId") && base == "StringEquals":
				match = func(h, w string) bool { return h == w }
			case strings.EqualFold(key, "sts:ExternalId") && base == "StringEqualsIgnoreCase":
				match = strings.EqualFold
			case strings.EqualFold(key, "sts:ExternalId") && base == "StringLike":
				match = func(h, w string) bool { return wildcard(w, h) }
			case strings.EqualFold(key, "aws:MultiFactorAuthPresent") && base == "Bool":
				match = strings.EqualFold
			default:
				continue
			}
			have, present := lookupFold(ctx, key)
			if !present {
				if ifExists {
					continue
				}
				return key
			}
			if !anyMatch(have, want, match) {
				return key
			}
		}
	}
	return ""
}

func lookupFold(ctx map[string][]string, key string) ([]string, bool) {
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func anyMatch(have, want []string, match func(have, want string) bool) bool {
	for _, h := range have {
		for _, w := range want {
			if match(h, w) {
				return true
			}
		}
	}
	return false
}

// stringOrList is a policy value written as one string or an array.
type stringOrList []string

func (l *stringOrList) UnmarshalJSON(b []byte) error {
	var one any
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	list, isList := one.([]any)
	if !isList {
		list = []any{one}
	}
	for _, e := range list {
		switch v := e.(type) {
		case string:
			*l = append(*l, v)
		case bool:
			*l = append(*l, strconv.FormatBool(v))
		case float64:
			*l = append(*l, strconv.FormatFloat(v, 'f', -1, 64))
		}
	}
	return nil
}
