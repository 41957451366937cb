package xacct_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/xacct/xacct"
)

// A KMS key policy must allow a use of its key even within the key's
// account: naming the caller is enough on its own, naming the caller's
// account defers to the identity policies, and across accounts both must
// allow.
func TestEvaluateKeyPolicy(t *testing.T) {
	const key = "arn:aws:kms:us-east-1:222222222222:key/k"
	identity := []xacct.Policy{xacct.KMSWritePolicy(key)}
	named := xacct.NewPolicy(xacct.KeyPolicyStatement(userB, "kms:GenerateDataKey"))
	delegated := xacct.NewPolicy(xacct.KeyPolicyStatement(acctB, "kms:GenerateDataKey"))
	other := xacct.NewPolicy(xacct.KeyPolicyStatement("arn:aws:iam::222222222222:user/bob", "kms:GenerateDataKey"))
	userA := "arn:aws:iam::111111111111:user/carol"
	crossNamed := xacct.NewPolicy(xacct.KeyPolicyStatement(userA, "kms:GenerateDataKey"))
	req := func(principal string) xacct.Request {
		return xacct.Request{Principal: xacct.PrincipalInfo{ARN: principal}, Action: "kms:GenerateDataKey", Resource: key}
	}
	for _, tc := range []struct {
		name      string
		principal string
		identity  []xacct.Policy
		keyPolicy *xacct.Policy
		allowed   bool
		reason    string
	}{
		{"named caller, no identity policy", userB, nil, &named, true, ""},
		{"account root delegation with identity policy", userB, identity, &delegated, true, ""},
		{"account root delegation without identity policy", userB, nil, &delegated, false, "trusts account 222222222222, but no statement in the identity policies"},
		{"identity policy alone, key policy names another", userB, identity, &other, false, "key policy"},
		{"no key policy at all", userB, identity, nil, false, "even within one account"},
		{"root of the key's account, key policy names another", rootB, nil, &other, false, "key policy"},
		{"other account named, with identity policy", userA, identity, &crossNamed, true, ""},
		{"other account named, no identity policy", userA, nil, &crossNamed, false, "cross-account"},
		{"other account not named, with identity policy", userA, identity, &delegated, false, "cross-account"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := xacct.Evaluate(req(tc.principal), tc.identity, tc.keyPolicy)
			assert.Equal(t, tc.allowed, d.Allowed, d.Reason)
			assert.Contains(t, d.Reason, tc.reason)
		})
	}
}
