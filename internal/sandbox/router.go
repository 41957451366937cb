package sandbox

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
)

// request is what the router learned about an incoming call.
type request struct {
	principal Principal
	service   string
}

// ServeHTTP routes a request to the service named in its SigV4 scope.
func (sb *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	keyID, service := parseAuth(r)
	p, ok := sb.principal(keyID)
	if !ok {
		code := "InvalidAccessKeyId"
		if keyID == "" {
			code = "AccessDenied"
		}
		writeS3Error(w, http.StatusForbidden, code, "The AWS Access Key Id you provided does not exist in our records.")
		return
	}
	req := &request{principal: p, service: service}
	switch service {
	case "s3":
		sb.serveS3(w, r, req)
	case "sts":
		sb.serveSTS(w, r, req)
	default:
		writeS3Error(w, http.StatusBadRequest, "InvalidAction", fmt.Sprintf("service %q is not served by the sandbox", service))
	}
}

// parseAuth returns the access key id and service from a SigV4
// Authorization header or presigned query.
func parseAuth(r *http.Request) (keyID, service string) {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if h := r.Header.Get("Authorization"); h != "" {
		_, after, ok := strings.Cut(h, "Credential=")
		if !ok {
			return "", ""
		}
		cred, _, _ = strings.Cut(after, ",")
	}
	// AKID/date/region/service/aws4_request
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return "", ""
	}
	return parts[0], parts[3]
}

type s3Error struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	RequestID string `xml:"RequestId"`
}

func writeS3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(s3Error{Code: code, Message: msg, RequestID: "sandbox"})
}

func writeXML(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(v)
}
