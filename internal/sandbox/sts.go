package sandbox

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const stsNS = "https://sts.amazonaws.com/doc/2011-06-15/"

type stsErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string
		Code    string
		Message string
	}
	RequestID string `xml:"RequestId"`
}

func writeQueryError(w http.ResponseWriter, ns string, status int, code, msg string) {
	var e stsErrorResponse
	e.Xmlns = ns
	e.Error.Type = "Sender"
	e.Error.Code = code
	e.Error.Message = msg
	e.RequestID = "sandbox"
	writeXML(w, status, e)
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type getCallerIdentityResponse struct {
	XMLName xml.Name `xml:"GetCallerIdentityResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		Arn     string
		UserID  string `xml:"UserId"`
		Account string
	} `xml:"GetCallerIdentityResult"`
	ResponseMetadata responseMetadata
}

// serveSTS answers the STS query protocol (form-encoded POST, XML replies).
func (sb *Sandbox) serveSTS(w http.ResponseWriter, r *http.Request, req *request) {
	if err := r.ParseForm(); err != nil {
		writeQueryError(w, stsNS, http.StatusBadRequest, "MalformedInput", err.Error())
		return
	}
	action := r.PostForm.Get("Action")
	sb.count(action)
	w, done := sb.injectFault(w, r, action, "", "sts")
	if done {
		return
	}
	switch action {
	case "AssumeRole":
		out, err := sb.assumeRole(r, req)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				ae = &apiError{http.StatusInternalServerError, "InternalFailure", err.Error()}
			}
			writeQueryError(w, stsNS, ae.status, ae.code, ae.message)
			return
		}
		writeXML(w, http.StatusOK, out)
	case "GetCallerIdentity":
		var out getCallerIdentityResponse
		out.Xmlns = stsNS
		out.Result.Arn = req.principal.ARN
		out.Result.UserID = req.principal.UserID
		out.Result.Account = req.principal.Account
		out.ResponseMetadata.RequestID = "sandbox"
		writeXML(w, http.StatusOK, out)
	default:
		writeQueryError(w, stsNS, http.StatusBadRequest, "InvalidAction", "action "+action+" is not served by the sandbox")
	}
}

var sessionName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

type assumeRoleResponse struct {
	XMLName xml.Name `xml:"AssumeRoleResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		AssumedRoleUser struct {
			Arn           string
			AssumedRoleID string `xml:"AssumedRoleId"`
		}
		Credentials struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string
			SessionToken    string
			Expiration      string
		}
	} `xml:"AssumeRoleResult"`
	ResponseMetadata responseMetadata
}

// assumeRole issues temporary keys for a role session after the
// authorizer has judged the caller against the role's trust policy: for
// sts:AssumeRole, for sts:TagSession when the call passes session tags and
// for sts:SetSourceIdentity when the session gets a source identity, as
// STS does. Without an authorizer the trust policy's principals are not
// checked, but its sts:ExternalId and aws:MultiFactorAuthPresent
// conditions and the duration limits still are.
func (sb *Sandbox) assumeRole(r *http.Request, req *request) (*assumeRoleResponse, error) {
	f := r.PostForm
	roleARN, session := f.Get("RoleArn"), f.Get("RoleSessionName")
	if len(roleARN) < 20 || len(roleARN) > 2048 {
		return nil, validationError("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length between 20 and 2048", roleARN)
	}
	if !sessionName.MatchString(session) {
		return nil, validationError("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64", session)
	}
	duration := defaultSessionSeconds
	if s := f.Get("DurationSeconds"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < sb.opts.minSessionSeconds() || n > maxRoleSessionSeconds {
			return nil, validationError("1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value between %d and %d", s, sb.opts.minSessionSeconds(), maxRoleSessionSeconds)
		}
		duration = n
	}
	sr, err := parseSessionRequest(f)
	if err != nil {
		return nil, err
	}
	if req.id.kind == kindRoot {
		return nil, &apiError{http.StatusForbidden, "AccessDenied", "Roles may not be assumed by root accounts."}
	}
	now := sb.now()
	attrs, err := sr.newSession(req.id.session, now)
	if err != nil {
		return nil, err
	}
	acct, name := parseRoleARN(roleARN)
	v, found := sb.role(acct, name)
	if found && v.arn() != roleARN {
		found = false
	}
	newRequest := func(action string) *AccessRequest {
		ar := sb.newAccessRequest(r, req.id, action, roleARN, acct)
		ar.ResourcePolicy = v.trust
		ar.Context["sts:RoleSessionName"] = []string{session}
		sr.addContext(ar.Context, attrs.sourceIdentity)
		return ar
	}
	ar := newRequest("sts:AssumeRole")
	if !found {
		return nil, &apiError{http.StatusForbidden, "AccessDenied", deniedMessage(ar, "the role does not exist")}
	}
	if a := sb.authz(); a != nil {
		reqs := []*AccessRequest{ar}
		if len(sr.tags) > 0 || len(sr.transitive) > 0 {
			reqs = append(reqs, newRequest("sts:TagSession"))
		}
		if attrs.sourceIdentity != "" {
			reqs = append(reqs, newRequest("sts:SetSourceIdentity"))
		}
		if msg := decide(r.Context(), a, reqs...); msg != "" {
			return nil, &apiError{http.StatusForbidden, "AccessDenied", msg}
		}
	} else if reason := trustConditionsMet(v.trust, ar.Context); reason != "" {
		return nil, &apiError{http.StatusForbidden, "AccessDenied", deniedMessage(ar, reason)}
	}
	if duration > v.maxSession {
		return nil, validationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	if req.id.kind == kindSession && duration > defaultSessionSeconds {
		return nil, validationError("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	p := Principal{
		ARN:     "arn:aws:sts::" + acct + ":assumed-role/" + name + "/" + session,
		Account: acct,
		UserID:  v.id + ":" + session,
	}
	p.AccessKeyID, p.SecretAccessKey = newKeys("ASIA")
	tok, _ := newKeys("")
	p.SessionToken = base64.StdEncoding.EncodeToString([]byte("sandbox-session:" + tok + p.SecretAccessKey))
	expires := now.Add(time.Duration(duration) * time.Second).UTC().Truncate(time.Second)
	sb.mu.Lock()
	sb.keys[p.AccessKeyID] = &identity{Principal: p, kind: kindSession, name: name, roleARN: v.arn(), expires: expires, session: attrs}
	sb.mu.Unlock()

	out := &assumeRoleResponse{Xmlns: stsNS}
	out.Result.AssumedRoleUser.Arn = p.ARN
	out.Result.AssumedRoleUser.AssumedRoleID = p.UserID
	out.Result.Credentials.AccessKeyID = p.AccessKeyID
	out.Result.Credentials.SecretAccessKey = p.SecretAccessKey
	out.Result.Credentials.SessionToken = p.SessionToken
	out.Result.Credentials.Expiration = expires.Format(time.RFC3339)
	out.ResponseMetadata.RequestID = "sandbox"
	return out, nil
}

// parseRoleARN splits arn:aws:iam::ACCT:role/PATH/NAME into the account and
// the role name; both are "" when the ARN is not a role ARN.
func parseRoleARN(arn string) (account, name string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return "", ""
	}
	res := parts[5]
	return parts[4], res[strings.LastIndex(res, "/")+1:]
}
