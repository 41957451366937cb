package sandbox

import (
	"encoding/xml"
	"net/http"
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
	switch action := r.PostForm.Get("Action"); action {
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
