package sandbox_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct/internal/sandbox"
)

// recorder is a test authorizer: it remembers every question and denies
// those its deny func gives a reason for.
type recorder struct {
	mu   sync.Mutex
	seen []sandbox.AccessRequest
	deny func(*sandbox.AccessRequest) string
}

func record(sb *sandbox.Sandbox, deny func(*sandbox.AccessRequest) string) *recorder {
	r := &recorder{deny: deny}
	sb.SetAuthorizer(r.authorize)
	return r
}

func (r *recorder) authorize(_ context.Context, req *sandbox.AccessRequest) (bool, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, *req)
	if r.deny != nil {
		if reason := r.deny(req); reason != "" {
			return false, reason
		}
	}
	return true, ""
}

// take returns and forgets what was asked so far.
func (r *recorder) take() []sandbox.AccessRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.seen
	r.seen = nil
	return out
}

func requireCode(t *testing.T, err error, code string) {
	t.Helper()
	require.Error(t, err)
	var ae smithy.APIError
	require.True(t, errors.As(err, &ae), "not an API error: %v", err)
	require.Equal(t, code, ae.ErrorCode(), "%v", err)
}

func requireStatus(t *testing.T, err error, status int) {
	t.Helper()
	var re interface{ HTTPStatusCode() int }
	require.True(t, errors.As(err, &re), "no HTTP status: %v", err)
	require.Equal(t, status, re.HTTPStatusCode(), "%v", err)
}
