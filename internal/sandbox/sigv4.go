package sandbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	sigV4Algorithm = "AWS4-HMAC-SHA256"
	amzDateLayout  = "20060102T150405Z"
	// maxSigV4Skew is how far X-Amz-Date may be from the server's time,
	// as on AWS.
	maxSigV4Skew = 15 * time.Minute
	// maxPresignExpiry is the longest X-Amz-Expires AWS accepts (7 days).
	maxPresignExpiry = 7 * 24 * time.Hour
)

// sigFault says why a signature was refused; the router turns it into
// each protocol's own error code.
type sigFault int

const (
	// sigMismatch: the signature is not the one the secret gives.
	sigMismatch sigFault = iota
	// sigSkewed: X-Amz-Date is more than maxSigV4Skew from now.
	sigSkewed
	// sigExpired: a presigned request past its X-Amz-Expires.
	sigExpired
	// sigMalformed: the Authorization header or presigned query lacks
	// a part or has one that does not parse.
	sigMalformed
	// sigNoContentSHA: an S3 request signed in a header without
	// X-Amz-Content-Sha256, which S3 requires.
	sigNoContentSHA
	// sigContentSHAMismatch: an S3 body whose SHA-256 is not the hex
	// digest its X-Amz-Content-Sha256 header announces.
	sigContentSHAMismatch
)

// sigError is a refused signature. Its fields are safe to show the
// caller: never the secret, the expected signature or the canonical
// request (whose headers can hold a session token).
type sigError struct {
	fault sigFault
	msg   string
	// keyID and stringToSign are set for sigMismatch; S3 echoes them so
	// a client can compare with what it signed.
	keyID, stringToSign string
	// requestTime and serverTime are set for sigSkewed.
	requestTime, serverTime time.Time
	// clientSHA and serverSHA are set for sigContentSHAMismatch: the
	// announced and the computed body digest.
	clientSHA, serverSHA string
}

func (e *sigError) Error() string { return e.msg }

// sigV4 is the signature a request carries, from its Authorization header
// or, when presigned, its query.
type sigV4 struct {
	keyID string
	// date, region and service are the credential scope's parts.
	date, region, service string
	signedHeaders         []string
	signature             string
	amzDate               string
	signed                time.Time
	presigned             bool
	expires               time.Duration
}

func (s *sigV4) scope() string {
	return s.date + "/" + s.region + "/" + s.service + "/aws4_request"
}

func malformed(format string, args ...any) *sigError {
	return &sigError{fault: sigMalformed, msg: fmt.Sprintf(format, args...)}
}

// parseSigV4 reads the signature of a request signed in its Authorization
// header or in its query (presigned).
func parseSigV4(r *http.Request) (*sigV4, *sigError) {
	s := &sigV4{}
	var cred, signedHeaders string
	if h := r.Header.Get("Authorization"); h != "" {
		alg, rest, _ := strings.Cut(h, " ")
		if alg != sigV4Algorithm {
			return nil, malformed("Unsupported Authorization algorithm %q; the sandbox accepts %s.", alg, sigV4Algorithm)
		}
		for part := range strings.SplitSeq(rest, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			switch k {
			case "Credential":
				cred = v
			case "SignedHeaders":
				signedHeaders = v
			case "Signature":
				s.signature = v
			}
		}
		s.amzDate = r.Header.Get("X-Amz-Date")
	} else {
		q := r.URL.Query()
		if alg := q.Get("X-Amz-Algorithm"); alg != sigV4Algorithm {
			return nil, malformed("Unsupported X-Amz-Algorithm %q; the sandbox accepts %s.", alg, sigV4Algorithm)
		}
		s.presigned = true
		cred = q.Get("X-Amz-Credential")
		signedHeaders = q.Get("X-Amz-SignedHeaders")
		s.signature = q.Get("X-Amz-Signature")
		s.amzDate = q.Get("X-Amz-Date")
		secs, err := strconv.Atoi(q.Get("X-Amz-Expires"))
		if err != nil || secs < 1 || time.Duration(secs)*time.Second > maxPresignExpiry {
			return nil, malformed("X-Amz-Expires %q must be a number of seconds from 1 to 604800.", q.Get("X-Amz-Expires"))
		}
		s.expires = time.Duration(secs) * time.Second
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return nil, malformed("Credential %q must be AccessKeyId/YYYYMMDD/region/service/aws4_request.", scrubCredential(cred))
	}
	s.keyID, s.date, s.region, s.service = parts[0], parts[1], parts[2], parts[3]
	if signedHeaders == "" || s.signature == "" {
		return nil, malformed("The signature must name SignedHeaders and carry a Signature.")
	}
	s.signedHeaders = strings.Split(signedHeaders, ";")
	if !slices.Contains(s.signedHeaders, "host") {
		return nil, malformed("SignedHeaders %q must include host.", signedHeaders)
	}
	if s.amzDate == "" {
		return nil, malformed("The request must carry X-Amz-Date.")
	}
	t, err := time.Parse(amzDateLayout, s.amzDate)
	if err != nil {
		return nil, malformed("X-Amz-Date %q is not in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z'.", s.amzDate)
	}
	s.signed = t
	if s.date != s.amzDate[:8] {
		return nil, malformed("Date %s in the credential scope does not match X-Amz-Date %s.", s.date, s.amzDate)
	}
	return s, nil
}

// scrubCredential keeps only the scope of a malformed credential string,
// so an error never repeats what may be a secret pasted by mistake.
func scrubCredential(cred string) string {
	if _, scope, ok := strings.Cut(cred, "/"); ok {
		return "…/" + scope
	}
	return "…"
}

// verifySigV4 checks a request's signature against secret as AWS does:
// it rebuilds the canonical request from what arrived, using only the
// headers the client signed (Go's transport adds Accept-Encoding and
// User-Agent after signing), derives the signing key from secret and the
// credential scope, and compares signatures in constant time. now is the
// wall clock the clients sign with; the sandbox's own clock (WithClock)
// moves to expire sessions and is not what the SDK signs with.
//
// S3 (and S3 Control, which signs as "s3") takes the payload hash from
// X-Amz-Content-Sha256 (a hex digest, UNSIGNED-PAYLOAD or a STREAMING-*
// value); for aws-chunked bodies only this seed signature is checked, not
// the per-chunk signatures. When the header is a hex digest, the body is
// read, hashed and put back, and a body that does not match it is refused
// (XAmzContentSHA256Mismatch), as S3 does. Other services hash the body,
// which is read and put back.
func verifySigV4(r *http.Request, s *sigV4, secret string, s3Control bool, now time.Time) *sigError {
	switch {
	case s.presigned && s.signed.After(now.Add(maxSigV4Skew)):
		return &sigError{fault: sigSkewed, msg: "Request is not valid yet: X-Amz-Date " + s.amzDate + " is in the future.", requestTime: s.signed, serverTime: now}
	case s.presigned && now.After(s.signed.Add(s.expires)):
		return &sigError{fault: sigExpired, msg: "Request has expired"}
	case !s.presigned && (s.signed.Before(now.Add(-maxSigV4Skew)) || s.signed.After(now.Add(maxSigV4Skew))):
		return &sigError{
			fault:       sigSkewed,
			msg:         "Signature expired: " + s.amzDate + " is outside the 15 minutes around the server time " + now.UTC().Format(amzDateLayout) + ".",
			requestTime: s.signed, serverTime: now,
		}
	}
	payload, serr := payloadHash(r, s)
	if serr != nil {
		return serr
	}
	query, err := canonicalQuery(r.URL.RawQuery, s.presigned)
	if err != nil {
		return malformed("The query string does not parse: %v", err)
	}
	canonical := strings.Join([]string{
		r.Method,
		canonicalPath(r, s.service == "s3" && !s3Control),
		query,
		canonicalHeaders(r, s.signedHeaders),
		strings.Join(s.signedHeaders, ";"),
		payload,
	}, "\n")
	sum := sha256.Sum256([]byte(canonical))
	stringToSign := sigV4Algorithm + "\n" + s.amzDate + "\n" + s.scope() + "\n" + hex.EncodeToString(sum[:])
	key := hmacSHA256([]byte("AWS4"+secret), s.date)
	for _, part := range []string{s.region, s.service, "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	want := hex.EncodeToString(hmacSHA256(key, stringToSign))
	if subtle.ConstantTimeCompare([]byte(want), []byte(s.signature)) != 1 {
		return &sigError{
			fault:        sigMismatch,
			msg:          "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
			keyID:        s.keyID,
			stringToSign: stringToSign,
		}
	}
	if s.service == "s3" && isHexSHA256(payload) {
		return checkContentSHA256(r, payload)
	}
	return nil
}

// isHexSHA256 reports whether v is a hex SHA-256 digest (64 hex digits),
// not UNSIGNED-PAYLOAD or a STREAMING-* value.
func isHexSHA256(v string) bool {
	if len(v) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(v)
	return err == nil
}

// checkContentSHA256 reads r's body, refuses it unless its SHA-256 is
// want (the signed X-Amz-Content-Sha256), and puts it back for the
// handler. The sandbox holds the body in memory; it stores objects there
// anyway.
func checkContentSHA256(r *http.Request, want string) *sigError {
	var body bytes.Buffer
	if r.Body != nil && r.Body != http.NoBody {
		if r.ContentLength > 0 {
			body.Grow(int(r.ContentLength))
		}
		_, err := body.ReadFrom(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return malformed("The request body could not be read: %v", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body.Bytes()))
	}
	sum := sha256.Sum256(body.Bytes())
	got := hex.EncodeToString(sum[:])
	if !strings.EqualFold(got, want) {
		return &sigError{
			fault:     sigContentSHAMismatch,
			msg:       "The provided 'x-amz-content-sha256' header does not match what was computed.",
			clientSHA: want,
			serverSHA: got,
		}
	}
	return nil
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// payloadHash is the last line of the canonical request.
func payloadHash(r *http.Request, s *sigV4) (string, *sigError) {
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" {
		return h, nil
	}
	if s.service == "s3" {
		if s.presigned {
			return "UNSIGNED-PAYLOAD", nil
		}
		return "", &sigError{fault: sigNoContentSHA, msg: "Missing required header for this request: x-amz-content-sha256"}
	}
	h := sha256.New()
	if r.Body != nil && r.Body != http.NoBody {
		body, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return "", malformed("The request body could not be read: %v", err)
		}
		h.Write(body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// canonicalPath is the path as it arrived on the wire. S3 signs it as
// sent; every other service (S3 Control included) escapes it once more.
func canonicalPath(r *http.Request, s3 bool) string {
	path, _, _ := strings.Cut(r.RequestURI, "?")
	if !strings.HasPrefix(path, "/") {
		path = r.URL.EscapedPath()
	}
	if path == "" {
		path = "/"
	}
	if s3 {
		return path
	}
	return sigV4Escape(path, true)
}

// canonicalQuery sorts the query by encoded name, then value, each
// escaped as SigV4 does. A presigned request's X-Amz-Signature is not
// part of what was signed. Like the SDK, '+' counts as a space.
func canonicalQuery(raw string, presigned bool) (string, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "", err
	}
	if presigned {
		delete(q, "X-Amz-Signature")
	}
	type param struct{ k, v string }
	var params []param
	for k, vs := range q {
		for _, v := range vs {
			params = append(params, param{sigV4Escape(k, false), sigV4Escape(v, false)})
		}
	}
	sort.Slice(params, func(i, j int) bool {
		if params[i].k != params[j].k {
			return params[i].k < params[j].k
		}
		return params[i].v < params[j].v
	})
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String(), nil
}

// canonicalHeaders lists the signed headers alone, with the values that
// arrived: trimmed, runs of spaces folded, repeated headers joined by
// commas. A signed header that is missing contributes an empty value and
// so fails the comparison, as it should.
func canonicalHeaders(r *http.Request, names []string) string {
	var b strings.Builder
	for _, name := range names {
		var values []string
		switch name {
		case "host":
			values = []string{r.Host}
		case "transfer-encoding":
			// net/http moves it out of the header map.
			values = []string{strings.Join(r.TransferEncoding, ",")}
		default:
			values = r.Header.Values(name)
		}
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range values {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(foldSpaces(v))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func foldSpaces(v string) string {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") {
		return v
	}
	var b strings.Builder
	prevSpace := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' && prevSpace {
			continue
		}
		prevSpace = c == ' '
		b.WriteByte(c)
	}
	return b.String()
}

// sigV4Escape percent-encodes every byte but the unreserved characters
// (A-Z a-z 0-9 - _ . ~), in upper-case hex; keepSlash leaves '/' as is,
// for paths.
func sigV4Escape(s string, keepSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && keepSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// s3SigError is S3's error document for signature faults, with the
// fields S3 adds to help a client find its mistake.
type s3SigError struct {
	XMLName                     xml.Name `xml:"Error"`
	Code                        string
	Message                     string
	AWSAccessKeyID              string `xml:"AWSAccessKeyId,omitempty"`
	StringToSign                string `xml:",omitempty"`
	RequestTime                 string `xml:",omitempty"`
	ServerTime                  string `xml:",omitempty"`
	MaxAllowedSkewMilliseconds  int64  `xml:",omitempty"`
	ClientComputedContentSHA256 string `xml:",omitempty"`
	S3ComputedContentSHA256     string `xml:",omitempty"`
	RequestID                   string `xml:"RequestId"`
}

// writeS3SigError writes a signature fault as S3 does or, for S3
// Control, in S3 Control's error document (code and message only).
func writeS3SigError(w http.ResponseWriter, e *sigError, s3Control bool) {
	out := s3SigError{Message: e.msg, RequestID: "sandbox"}
	status := http.StatusForbidden
	switch e.fault {
	case sigMismatch:
		out.Code = "SignatureDoesNotMatch"
		out.AWSAccessKeyID = e.keyID
		out.StringToSign = e.stringToSign
	case sigSkewed:
		out.Code = "RequestTimeTooSkewed"
		out.Message = "The difference between the request time and the current time is too large."
		out.RequestTime = e.requestTime.UTC().Format(amzDateLayout)
		out.ServerTime = e.serverTime.UTC().Format(time.RFC3339)
		out.MaxAllowedSkewMilliseconds = maxSigV4Skew.Milliseconds()
	case sigExpired:
		out.Code = "AccessDenied"
	case sigMalformed:
		status = http.StatusBadRequest
		out.Code = "AuthorizationHeaderMalformed"
	case sigNoContentSHA:
		status = http.StatusBadRequest
		out.Code = "InvalidRequest"
	case sigContentSHAMismatch:
		status = http.StatusBadRequest
		out.Code = "XAmzContentSHA256Mismatch"
		out.ClientComputedContentSHA256 = e.clientSHA
		out.S3ComputedContentSHA256 = e.serverSHA
	}
	if s3Control {
		writeS3ControlError(w, status, out.Code, out.Message)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(out)
}

// sigStatusCode is the status and code a query (STS, IAM) or JSON
// (DataSync) service answers a signature fault with.
func sigStatusCode(e *sigError, json bool) (int, string) {
	switch {
	case e.fault == sigMalformed && json:
		return http.StatusBadRequest, "IncompleteSignatureException"
	case e.fault == sigMalformed:
		return http.StatusBadRequest, "IncompleteSignature"
	case json:
		return http.StatusForbidden, "InvalidSignatureException"
	}
	return http.StatusForbidden, "SignatureDoesNotMatch"
}
