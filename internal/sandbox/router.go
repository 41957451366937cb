package sandbox

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// request is what the router learned about an incoming call.
type request struct {
	principal Principal
	id        *identity
	service   string
}

// ServeHTTP routes a request to the service named in its SigV4 scope,
// after checking that its key exists, that its signature is the one the
// key's secret gives and, for temporary keys, that its session token
// matches and has not expired.
func (sb *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	keyID, service := parseAuth(r)
	s3Control := isS3Control(r, service)
	fail := func(status int, code, msg string) {
		if s3Control {
			writeS3ControlError(w, status, code, msg)
			return
		}
		switch service {
		case "sts":
			writeQueryError(w, stsNS, status, code, msg)
		case "iam":
			writeQueryError(w, iamNS, status, code, msg)
		case "datasync":
			writeDataSyncError(w, &dsError{status, jsonAuthCode(code), msg})
		default:
			writeS3Error(w, status, code, msg)
		}
	}
	id, ok := sb.identity(keyID)
	if !ok {
		switch {
		case keyID == "":
			fail(http.StatusForbidden, "AccessDenied", "Access Denied")
		case service == "s3":
			fail(http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
		default:
			fail(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
		}
		return
	}
	if serr := sb.checkSignature(r, id, s3Control); serr != nil {
		switch service {
		case "s3", "s3-control", "s3control":
			writeS3SigError(w, serr, s3Control)
		default:
			status, code := sigStatusCode(serr, service == "datasync")
			fail(status, code, serr.msg)
		}
		return
	}
	if id.kind == kindSession {
		token := r.Header.Get("X-Amz-Security-Token")
		if token == "" {
			token = r.URL.Query().Get("X-Amz-Security-Token")
		}
		switch {
		case token != id.SessionToken && service == "s3":
			fail(http.StatusBadRequest, "InvalidToken", "The provided token is malformed or otherwise invalid.")
			return
		case token != id.SessionToken:
			fail(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
			return
		case !sb.now().Before(id.expires) && service == "s3":
			fail(http.StatusBadRequest, "ExpiredToken", "The provided token has expired.")
			return
		case !sb.now().Before(id.expires):
			fail(http.StatusForbidden, "ExpiredToken", "The security token included in the request is expired")
			return
		}
	}
	req := &request{principal: id.Principal, id: id, service: service}
	if s3Control {
		service = "s3control"
	}
	switch service {
	case "s3control":
		sb.serveS3Control(w, r, req)
	case "s3":
		sb.serveS3(w, r, req)
	case "sts":
		sb.serveSTS(w, r, req)
	case "iam":
		sb.serveIAM(w, r, req)
	case "datasync":
		sb.serveDataSync(w, r, req)
	default:
		writeS3Error(w, http.StatusBadRequest, "InvalidAction", fmt.Sprintf("service %q is not served by the sandbox", service))
	}
}

// checkSignature verifies a request's SigV4 signature with the secret of
// the key it names.
func (sb *Sandbox) checkSignature(r *http.Request, id *identity, s3Control bool) *sigError {
	sig, serr := parseSigV4(r)
	if serr != nil {
		return serr
	}
	return verifySigV4(r, sig, id.SecretAccessKey, s3Control, time.Now())
}

// jsonAuthCode is the awsJson (DataSync) spelling of an authentication
// error code.
func jsonAuthCode(code string) string {
	switch code {
	case "AccessDenied":
		return "MissingAuthenticationTokenException"
	case "InvalidClientTokenId":
		return "UnrecognizedClientException"
	case "ExpiredToken":
		return "ExpiredTokenException"
	}
	return code
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

// s3ControlError is S3 Control's error document: unlike S3's, the code
// and message sit in an Error element inside ErrorResponse, which is
// where the SDK's S3 Control deserializer looks for them.
type s3ControlError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Error   struct {
		Code    string
		Message string
	}
	RequestID string `xml:"RequestId"`
}

func writeS3ControlError(w http.ResponseWriter, status int, code, msg string) {
	e := s3ControlError{RequestID: "sandbox"}
	e.Error.Code, e.Error.Message = code, msg
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(e)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(v)
}
