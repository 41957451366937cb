package sandbox

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FaultKind says how an injected fault breaks a request.
type FaultKind int

const (
	// FaultError answers with an error response: Status and Code, by
	// default 500 InternalError. Use 503 SlowDown for throttling.
	FaultError FaultKind = iota
	// FaultReset drops the connection without an answer (a TCP reset).
	FaultReset
	// FaultTruncate serves the request but sends only the first half of
	// the response body its Content-Length announces, then drops the
	// connection.
	FaultTruncate
	// FaultLatency serves the request normally after Latency.
	FaultLatency
)

// DefaultFaultLatency is the delay of a FaultLatency fault with no
// Latency.
const DefaultFaultLatency = 100 * time.Millisecond

// FaultSpec describes requests to break and how. The zero value breaks
// every request with 500 InternalError.
type FaultSpec struct {
	// Op is the operation to break, named as in [Sandbox.Requests]
	// ("GetObject", "UploadPartCopy", "AssumeRole"…); "" matches all.
	Op string
	// KeyContains limits S3 faults to object keys containing it; "" matches
	// every request, with or without a key.
	KeyContains string
	// Kind is what happens to a matching request; FaultError by default.
	Kind FaultKind
	// Times is how many matching requests are broken; 0 means every one
	// until the fault is removed.
	Times int
	// Status and Code are FaultError's answer; 500 and "InternalError" by
	// default (Code defaults to "SlowDown" for status 503).
	Status int
	Code   string
	// Message is the error message; a generic one by default.
	Message string
	// Latency delays a matching request before anything else happens;
	// for FaultLatency it defaults to DefaultFaultLatency.
	Latency time.Duration
}

type activeFault struct {
	spec FaultSpec
	left int // -1: unlimited
}

type faults struct {
	n    atomic.Int32 // len(list), read without the lock on every request
	mu   sync.Mutex
	list []*activeFault
}

// InjectFault makes the sandbox break requests matching f until Times
// requests have been broken or the returned func removes it. Faults apply
// before authorisation; the first matching fault wins.
func (sb *Sandbox) InjectFault(f FaultSpec) (remove func()) {
	af := &activeFault{spec: f, left: f.Times}
	if f.Times <= 0 {
		af.left = -1
	}
	sb.faults.mu.Lock()
	sb.faults.list = append(sb.faults.list, af)
	sb.faults.n.Store(int32(len(sb.faults.list)))
	sb.faults.mu.Unlock()
	return func() {
		sb.faults.mu.Lock()
		defer sb.faults.mu.Unlock()
		for i, x := range sb.faults.list {
			if x == af {
				sb.faults.list = append(sb.faults.list[:i:i], sb.faults.list[i+1:]...)
				break
			}
		}
		sb.faults.n.Store(int32(len(sb.faults.list)))
	}
}

// ClearFaults removes every injected fault.
func (sb *Sandbox) ClearFaults() {
	sb.faults.mu.Lock()
	defer sb.faults.mu.Unlock()
	sb.faults.list = nil
	sb.faults.n.Store(0)
}

func (fs *faults) match(op, key string) (FaultSpec, bool) {
	if fs.n.Load() == 0 {
		return FaultSpec{}, false
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, af := range fs.list {
		if (af.spec.Op != "" && af.spec.Op != op) || (af.spec.KeyContains != "" && !strings.Contains(key, af.spec.KeyContains)) {
			continue
		}
		if af.left > 0 {
			af.left--
			if af.left == 0 {
				fs.list = append(fs.list[:i:i], fs.list[i+1:]...)
				fs.n.Store(int32(len(fs.list)))
			}
		}
		return af.spec, true
	}
	return FaultSpec{}, false
}

// injectFault applies a matching fault. It returns the writer to serve the
// request with, and done when the fault has answered the request itself.
func (sb *Sandbox) injectFault(w http.ResponseWriter, r *http.Request, op, key, service string) (http.ResponseWriter, bool) {
	f, ok := sb.faults.match(op, key)
	if !ok {
		return w, false
	}
	delay := f.Latency
	if f.Kind == FaultLatency && delay == 0 {
		delay = DefaultFaultLatency
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return w, true
		}
	}
	switch f.Kind {
	case FaultReset:
		resetConn(w)
		return w, true
	case FaultTruncate:
		return &truncatingWriter{ResponseWriter: w}, false
	case FaultLatency:
		return w, false
	}
	status, code, msg := f.Status, f.Code, f.Message
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if code == "" {
		code = "InternalError"
		if status == http.StatusServiceUnavailable {
			code = "SlowDown"
		}
	}
	if msg == "" {
		msg = "injected fault: " + code
	}
	// Read the request body first, as a server that refuses after the
	// upload does: an unread body makes net/http close the connection
	// with a reset, which the client could see instead of the answer.
	_, _ = io.Copy(io.Discard, r.Body)
	switch service {
	case "sts":
		writeQueryError(w, stsNS, status, code, msg)
	case "iam":
		writeQueryError(w, iamNS, status, code, msg)
	default:
		writeS3Error(w, status, code, msg)
	}
	return w, true
}

// resetConn drops the client connection, with a RST where the
// connection is TCP.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// truncatingWriter passes on the status, headers and half the body the
// Content-Length promises, then drops the connection.
type truncatingWriter struct {
	http.ResponseWriter
	started bool
	limit   int64
	written int64
	cut     bool
}

func (t *truncatingWriter) WriteHeader(code int) {
	if t.started {
		return
	}
	t.started = true
	n, _ := strconv.ParseInt(t.Header().Get("Content-Length"), 10, 64)
	t.limit = n / 2
	t.ResponseWriter.WriteHeader(code)
}

func (t *truncatingWriter) Write(b []byte) (int, error) {
	t.WriteHeader(http.StatusOK)
	if t.cut {
		return len(b), nil
	}
	room := t.limit - t.written
	if int64(len(b)) <= room {
		n, err := t.ResponseWriter.Write(b)
		t.written += int64(n)
		return n, err
	}
	n, _ := t.ResponseWriter.Write(b[:room])
	t.written += int64(n)
	t.cut = true
	if fl, ok := t.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
	resetConn(t.ResponseWriter)
	return len(b), nil
}
