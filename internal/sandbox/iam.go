package sandbox

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

const iamNS = "https://iam.amazonaws.com/doc/2010-05-08/"

// Limits on role sessions, in seconds, as AWS sets them.
const (
	defaultSessionSeconds = 3600
	maxRoleSessionSeconds = 43200
)

// iamName matches role, user, policy and session names.
var iamName = regexp.MustCompile(`^[\w+=,.@-]+$`)

type user struct {
	name     string
	policies map[string]string
}

type role struct {
	account     string
	name        string
	path        string
	id          string
	description string
	trust       string
	maxSession  int
	created     time.Time
	policies    map[string]string
}

func (r *role) arn() string { return "arn:aws:iam::" + r.account + ":role" + r.path + r.name }

// apiError is an AWS error to send back: status, code and message.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func validationError(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "ValidationError", fmt.Sprintf(format, args...)}
}

func checkName(field, v string, limit int) error {
	if len(v) < 1 || len(v) > limit || !iamName.MatchString(v) {
		return validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length between 1 and %d", v, field, limit)
	}
	return nil
}

// checkPolicy refuses a document the sandbox's validation refuses, with
// IAM's MalformedPolicyDocument.
func (sb *Sandbox) checkPolicy(kind PolicyKind, doc string) error {
	if err := sb.validatePolicy(kind, doc); err != nil {
		msg := "Syntax errors in policy."
		if !errors.Is(err, errNotJSONObject) {
			msg = err.Error()
		}
		return &apiError{http.StatusBadRequest, "MalformedPolicyDocument", msg}
	}
	return nil
}

// CreateRole creates a role in account directly, with its trust policy and
// inline policies (name -> JSON document), and returns its ARN. The role's
// MaxSessionDuration is one hour.
func (sb *Sandbox) CreateRole(account, name, trustJSON string, inline map[string]string) (roleARN string, err error) {
	r, err := sb.createRole(account, name, "/", "", trustJSON, 0)
	if err != nil {
		return "", fmt.Errorf("sandbox: create role: %w", err)
	}
	for pn, doc := range inline {
		if err := sb.putRolePolicy(account, name, pn, doc); err != nil {
			return "", fmt.Errorf("sandbox: put role policy %s: %w", pn, err)
		}
	}
	return r.arn(), nil
}

// AddUser adds an IAM user named name to account with the given inline
// identity policies (JSON documents, named Policy1, Policy2…) and returns
// the user with long-term keys.
func (sb *Sandbox) AddUser(account, name string, policies ...string) (Principal, error) {
	if err := checkName("userName", name, 64); err != nil {
		return Principal{}, fmt.Errorf("sandbox: add user: %w", err)
	}
	u := &user{name: name, policies: make(map[string]string, len(policies))}
	for i, doc := range policies {
		if err := sb.checkPolicy(PolicyIdentity, doc); err != nil {
			return Principal{}, fmt.Errorf("sandbox: add user %s policy %d: %w", name, i+1, err)
		}
		u.policies["Policy"+strconv.Itoa(i+1)] = doc
	}
	p := Principal{ARN: "arn:aws:iam::" + account + ":user/" + name, Account: account, UserID: newID("AIDA")}
	p.AccessKeyID, p.SecretAccessKey = newKeys("AKIA")
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if _, ok := sb.roots[account]; !ok {
		return Principal{}, fmt.Errorf("sandbox: add user: no account %s", account)
	}
	if _, ok := sb.users[account+"/"+name]; ok {
		return Principal{}, fmt.Errorf("sandbox: add user: user %s exists in %s", name, account)
	}
	sb.users[account+"/"+name] = u
	sb.keys[p.AccessKeyID] = &identity{Principal: p, kind: kindUser, name: name}
	return p, nil
}

func (sb *Sandbox) createRole(account, name, path, description, trust string, maxSession int) (*role, error) {
	if err := checkName("roleName", name, 64); err != nil {
		return nil, err
	}
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") || !strings.HasSuffix(path, "/") || len(path) > 512 {
		return nil, validationError("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	if err := sb.checkPolicy(PolicyTrust, trust); err != nil {
		return nil, err
	}
	if maxSession == 0 {
		maxSession = defaultSessionSeconds
	}
	if maxSession < defaultSessionSeconds || maxSession > maxRoleSessionSeconds {
		return nil, validationError("1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200", maxSession)
	}
	r := &role{
		account: account, name: name, path: path, id: newID("AROA"), description: description,
		trust: trust, maxSession: maxSession, created: sb.now().UTC().Truncate(time.Second),
		policies: make(map[string]string),
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if _, ok := sb.roots[account]; !ok {
		return nil, fmt.Errorf("no account %s", account)
	}
	if _, ok := sb.roles[account+"/"+name]; ok {
		return nil, &apiError{http.StatusConflict, "EntityAlreadyExists", "Role with name " + name + " already exists."}
	}
	sb.roles[account+"/"+name] = r
	return r, nil
}

func noSuchRole(name string) *apiError {
	return &apiError{http.StatusNotFound, "NoSuchEntity", "The role with name " + name + " cannot be found."}
}

// withRole runs f on the role under the write lock.
func (sb *Sandbox) withRole(account, name string, f func(*role) error) error {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	r := sb.roles[account+"/"+name]
	if r == nil {
		return noSuchRole(name)
	}
	return f(r)
}

func (sb *Sandbox) putRolePolicy(account, roleName, policyName, doc string) error {
	if err := checkName("policyName", policyName, 128); err != nil {
		return err
	}
	if err := sb.checkPolicy(PolicyIdentity, doc); err != nil {
		return err
	}
	return sb.withRole(account, roleName, func(r *role) error {
		r.policies[policyName] = doc
		return nil
	})
}

// roleView is a copy of a role taken under the lock.
type roleView struct {
	role
	policyNames []string
}

func (sb *Sandbox) role(account, name string) (roleView, bool) {
	sb.mu.RLock()
	defer sb.mu.RUnlock()
	r := sb.roles[account+"/"+name]
	if r == nil {
		return roleView{}, false
	}
	v := roleView{role: *r}
	for n := range r.policies {
		v.policyNames = append(v.policyNames, n)
	}
	sort.Strings(v.policyNames)
	return v, true
}

// encodePolicy percent-encodes a policy document as IAM returns it.
func encodePolicy(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

type iamRole struct {
	Path                     string
	RoleName                 string
	RoleID                   string `xml:"RoleId"`
	Arn                      string
	CreateDate               string
	AssumeRolePolicyDocument string
	Description              string `xml:",omitempty"`
	MaxSessionDuration       int
}

func (r *role) wire() iamRole {
	return iamRole{
		Path: r.path, RoleName: r.name, RoleID: r.id, Arn: r.arn(),
		CreateDate:               r.created.Format(time.RFC3339),
		AssumeRolePolicyDocument: encodePolicy(r.trust),
		Description:              r.description,
		MaxSessionDuration:       r.maxSession,
	}
}

// iamResponse is an awsquery reply: <ActionResponse><ActionResult>…
type iamResponse struct {
	XMLName          xml.Name
	Xmlns            string `xml:"xmlns,attr"`
	Result           iamResult
	ResponseMetadata responseMetadata
}

type iamResult struct {
	XMLName        xml.Name
	Role           *iamRole  `xml:",omitempty"`
	PolicyName     string    `xml:",omitempty"`
	RoleName       string    `xml:",omitempty"`
	PolicyDocument string    `xml:",omitempty"`
	PolicyNames    *[]string `xml:"PolicyNames>member"`
	IsTruncated    *bool     `xml:",omitempty"`
	Marker         string    `xml:",omitempty"`
}

// iamActions are the IAM operations the sandbox serves.
var iamActions = map[string]bool{
	"CreateRole": true, "GetRole": true, "UpdateAssumeRolePolicy": true, "DeleteRole": true,
	"PutRolePolicy": true, "GetRolePolicy": true, "ListRolePolicies": true, "DeleteRolePolicy": true,
}

// serveIAM answers the IAM query protocol for roles and their inline
// policies. Roles belong to the caller's account.
func (sb *Sandbox) serveIAM(w http.ResponseWriter, r *http.Request, req *request) {
	if err := r.ParseForm(); err != nil {
		writeQueryError(w, iamNS, http.StatusBadRequest, "MalformedInput", err.Error())
		return
	}
	f := r.PostForm
	action := f.Get("Action")
	if !iamActions[action] {
		sb.count("iam:" + action)
		writeQueryError(w, iamNS, http.StatusBadRequest, "InvalidAction", "action "+action+" is not served by the sandbox")
		return
	}
	sb.count(action)
	w, done := sb.injectFault(w, r, action, "", "iam")
	if done {
		return
	}
	acct, name := req.principal.Account, f.Get("RoleName")
	if a := sb.authz(); a != nil {
		res := "arn:aws:iam::" + acct + ":role/" + name
		if v, ok := sb.role(acct, name); ok {
			res = v.arn()
		} else if p := f.Get("Path"); action == "CreateRole" && p != "" {
			res = "arn:aws:iam::" + acct + ":role" + p + name
		}
		if msg := decide(r.Context(), a, sb.newAccessRequest(r, req.id, "iam:"+action, res, acct)); msg != "" {
			writeQueryError(w, iamNS, http.StatusForbidden, "AccessDenied", msg)
			return
		}
	}
	out := iamResponse{XMLName: xml.Name{Local: action + "Response"}, Xmlns: iamNS}
	out.Result.XMLName = xml.Name{Local: action + "Result"}
	out.ResponseMetadata.RequestID = "sandbox"
	var err error
	switch action {
	case "CreateRole":
		maxSession := 0
		if s := f.Get("MaxSessionDuration"); s != "" {
			if maxSession, err = strconv.Atoi(s); err != nil {
				maxSession = -1
			}
		}
		var rl *role
		rl, err = sb.createRole(acct, name, f.Get("Path"), f.Get("Description"), f.Get("AssumeRolePolicyDocument"), maxSession)
		if err == nil {
			wr := rl.wire()
			out.Result.Role = &wr
		}
	case "GetRole":
		v, ok := sb.role(acct, name)
		if !ok {
			err = noSuchRole(name)
			break
		}
		wr := v.wire()
		out.Result.Role = &wr
	case "UpdateAssumeRolePolicy":
		doc := f.Get("PolicyDocument")
		if err = sb.checkPolicy(PolicyTrust, doc); err == nil {
			err = sb.withRole(acct, name, func(rl *role) error { rl.trust = doc; return nil })
		}
	case "DeleteRole":
		err = sb.withRole(acct, name, func(rl *role) error {
			if len(rl.policies) > 0 {
				return &apiError{http.StatusConflict, "DeleteConflict", "Cannot delete entity, must delete policies first."}
			}
			delete(sb.roles, acct+"/"+name)
			return nil
		})
	case "PutRolePolicy":
		err = sb.putRolePolicy(acct, name, f.Get("PolicyName"), f.Get("PolicyDocument"))
	case "GetRolePolicy":
		pn := f.Get("PolicyName")
		err = sb.withRole(acct, name, func(rl *role) error {
			doc, ok := rl.policies[pn]
			if !ok {
				return &apiError{http.StatusNotFound, "NoSuchEntity", "The role policy with name " + pn + " cannot be found."}
			}
			out.Result.RoleName, out.Result.PolicyName, out.Result.PolicyDocument = name, pn, encodePolicy(doc)
			return nil
		})
	case "ListRolePolicies":
		err = sb.listRolePolicies(acct, name, f.Get("Marker"), f.Get("MaxItems"), &out.Result)
	case "DeleteRolePolicy":
		pn := f.Get("PolicyName")
		err = sb.withRole(acct, name, func(rl *role) error {
			if _, ok := rl.policies[pn]; !ok {
				return &apiError{http.StatusNotFound, "NoSuchEntity", "The role policy with name " + pn + " cannot be found."}
			}
			delete(rl.policies, pn)
			return nil
		})
	}
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{http.StatusInternalServerError, "ServiceFailure", err.Error()}
		}
		writeQueryError(w, iamNS, ae.status, ae.code, ae.message)
		return
	}
	writeXML(w, http.StatusOK, out)
}

// listRolePolicies pages through policy names; the marker is the index of
// the next name.
func (sb *Sandbox) listRolePolicies(acct, name, marker, maxItems string, res *iamResult) error {
	v, ok := sb.role(acct, name)
	if !ok {
		return noSuchRole(name)
	}
	start, limit := 0, 100
	if marker != "" {
		n, err := strconv.Atoi(marker)
		if err != nil || n < 0 || n > len(v.policyNames) {
			return validationError("Invalid Marker.")
		}
		start = n
	}
	if maxItems != "" {
		n, err := strconv.Atoi(maxItems)
		if err != nil || n < 1 || n > 1000 {
			return validationError("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", maxItems)
		}
		limit = n
	}
	names := v.policyNames[start:]
	truncated := len(names) > limit
	if truncated {
		names = names[:limit]
		res.Marker = strconv.Itoa(start + limit)
	}
	if names == nil {
		names = []string{}
	}
	res.PolicyNames = &names
	res.IsTruncated = &truncated
	return nil
}
