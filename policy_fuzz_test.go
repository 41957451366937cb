package xacct_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
)

func FuzzParsePolicy(f *testing.F) {
	for _, seed := range []string{
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`,
		`{"Statement":[{"Sid":"A","Effect":"Deny","Principal":"*","NotAction":["s3:Get*","s3:List?"],"NotResource":"arn:aws:s3:::b","Condition":{"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"k":[1,2.5e3]}}}]}`,
		`{"Version":"2008-10-17","Id":"x","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":["111122223333"],"Service":"s3.amazonaws.com"},"Action":"*","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Federated":"f","CanonicalUser":"c"},"Condition":{"ForAnyValue:StringLikeIfExists":{"a":["x","y"]}}}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/\u00e9\u0000"}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := xacct.ParsePolicy(data)
		if err != nil {
			require.ErrorIs(t, err, xacct.ErrInvalidPolicy)
			return
		}
		_ = xacct.Lint(*p, xacct.PolicyKindBucket)
		_ = xacct.Evaluate(xacct.Request{Principal: xacct.PrincipalInfo{ARN: "arn:aws:iam::111122223333:user/u"}, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, []xacct.Policy{*p}, p)
		first, err := p.JSON()
		require.NoError(t, err)
		again, err := xacct.ParsePolicy(first)
		require.NoError(t, err, "re-parsing our own output: %s", first)
		second, err := again.JSON()
		require.NoError(t, err)
		require.Equal(t, string(first), string(second))
	})
}
