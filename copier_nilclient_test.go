package xacct_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// A nil pointer inside a client interface passes an == nil check and
// would panic in a Sync goroutine, out of the caller's reach: every client
// option and NewCopier refuse it up front.
func TestCopierRefusesTypedNilClients(t *testing.T) {
	e := newEnv(t)
	id := e.sb.STS(e.sb.Root(sandbox.AccountA))
	var nilS3 *s3.Client
	var nilSTS *sts.Client
	tests := []struct {
		name  string
		opts  []xacct.CopierOption
		field string
	}{
		{"copy client", []xacct.CopierOption{xacct.WithCopyClient(nilS3, id)}, "copy client"},
		{"copy identity", []xacct.CopierOption{xacct.WithCopyClient(e.client, nilSTS)}, "copy identity client"},
		{"destination client", []xacct.CopierOption{xacct.WithDestinationClient(nilS3)}, "destination client"},
		{"source identity", []xacct.CopierOption{xacct.WithIdentityClients(nilSTS, id)}, "source identity client"},
		{"destination identity", []xacct.CopierOption{xacct.WithIdentityClients(id, nilSTS)}, "destination identity client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := xacct.NewCopier(e.client, tt.opts...)
			var ve *xacct.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
			assert.Contains(t, ve.Value, "(nil)")
			assert.ErrorIs(t, err, xacct.ErrInvalidOption)

			// The same options given to one Sync are refused before it
			// starts anything.
			rep, err := e.copier(t).Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""), tt.opts...)
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
			assert.Nil(t, rep)
		})
	}

	_, err := xacct.NewCopier(nilS3)
	var ve *xacct.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "source client", ve.Field)
	assert.Equal(t, "(*s3.Client)(nil)", ve.Value)
	assert.ErrorIs(t, err, xacct.ErrInvalidOption)

	// Untyped nil still leaves an identity unnamed.
	_, err = xacct.NewCopier(e.client, xacct.WithIdentityClients(nil, nil), xacct.WithCopyClient(e.client, nil))
	require.NoError(t, err)
}

// panickingDestination is a destination client whose ownership read
// panics, standing in for any defect in the preparation that runs in its
// own goroutine.
type panickingDestination struct{ *s3.Client }

func (panickingDestination) GetBucketOwnershipControls(context.Context, *s3.GetBucketOwnershipControlsInput, ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error) {
	panic("ownership exploded")
}

func TestSyncTurnsAPreparationPanicIntoItsError(t *testing.T) {
	e := newEnv(t)
	e.put(t, e.src, map[string]string{"a": "1"})
	c := e.copier(t, xacct.WithPreflight(false), xacct.WithDestinationClient(panickingDestination{e.client}))
	rep, err := c.Sync(t.Context(), loc(e.src, ""), loc(e.dst, ""))
	require.Error(t, err)
	assert.ErrorContains(t, err, "panicked")
	assert.ErrorContains(t, err, "ownership exploded")
	require.NotNil(t, rep)
	assert.Zero(t, rep.Copied)
	assert.Empty(t, e.contents(t, e.dst, ""), "nothing is copied after the preparation failed")
}
