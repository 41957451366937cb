package xacct_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// kmsFinding returns the one finding of rep, which must be about action
// on keyARN and carry an identity fix for principal and a key policy fix
// naming it.
func kmsFinding(t *testing.T, rep *xacct.PreflightReport, side xacct.Side, action, keyARN, principal string) (identity, key xacct.PolicyFix) {
	t.Helper()
	require.Len(t, rep.Findings, 1, "%v", rep.Err())
	f := rep.Findings[0]
	assert.Equal(t, side, f.Side)
	assert.Equal(t, action, f.Action)
	assert.Equal(t, keyARN, f.Resource)
	require.Len(t, f.Fixes, 2, "%v", f.Fixes)
	identity, key = f.Fixes[0], f.Fixes[1]
	assert.Equal(t, xacct.PolicyKindIdentity, identity.Kind)
	assert.Equal(t, principal, identity.Target)
	assert.Equal(t, xacct.StringList{keyARN}, identity.Statement.Resource)
	assert.Contains(t, identity.Statement.Action, action)
	assert.Equal(t, xacct.PolicyKindKey, key.Kind)
	assert.Equal(t, keyARN, key.Target)
	require.NotNil(t, key.Statement.Principal)
	assert.Equal(t, xacct.StringList{principal}, key.Statement.Principal.AWS)
	assert.Contains(t, key.Statement.Action, action)
	assert.Contains(t, key.String(), "key policy of "+keyARN)
	return identity, key
}

// addToKeyPolicy merges st into the key's policy, as the key's
// administrators would.
func addToKeyPolicy(t *testing.T, sb *sandbox.Sandbox, keyARN string, current xacct.Policy, st xacct.Statement) xacct.Policy {
	t.Helper()
	merged, changed, err := xacct.MergeStatements(&current, st)
	require.NoError(t, err)
	require.True(t, changed)
	require.NoError(t, sb.UpdateKeyPolicy(keyARN, policyJSON(t, *merged)))
	return *merged
}

func TestPreflightFindsKMSWriteKey(t *testing.T) {
	x := newTwoIdentities(t)
	ctx := t.Context()
	putObjects(t, x.ownerA, x.src.Bucket, map[string]string{"a.csv": "alpha", "b.csv": "beta"})
	// The key's policy lets B's root describe it, nothing more: neither the
	// writer nor its account may encrypt with it.
	keyPolicy := xacct.NewPolicy(xacct.Statement{Sid: "Admin", Effect: xacct.EffectAllow, Principal: xacct.AWSPrincipal(sandbox.AccountB),
		Action: xacct.StringList{"kms:DescribeKey"}, Resource: xacct.StringList{"*"}})
	key, err := x.sb.CreateKMSKey(sandbox.AccountB, sandbox.Region, policyJSON(t, keyPolicy))
	require.NoError(t, err)
	opt := xacct.WithSSEKMSKeyID(key)

	rep, err := x.copier(t, opt).Preflight(ctx, x.src, x.dst)
	require.NoError(t, err)
	idFix, keyFix := kmsFinding(t, rep, xacct.SideDestination, "kms:GenerateDataKey", key, x.writer.ARN)
	assert.Equal(t, "XacctKMSWrite", idFix.Statement.Sid)
	assert.ElementsMatch(t, xacct.StringList{"kms:Decrypt", "kms:GenerateDataKey"}, idFix.Statement.Action)
	assert.ElementsMatch(t, xacct.StringList{"kms:Decrypt", "kms:GenerateDataKey"}, keyFix.Statement.Action)
	require.ErrorIs(t, rep.Err(), xacct.ErrAccessDenied)
	// The rest of the write was probed without the key, and allowed.
	for _, c := range rep.Checks {
		if c.Action == "s3:PutObject" {
			assert.Equal(t, xacct.CheckAllowed, c.Result)
		}
	}

	// The identity fix alone is not enough: the key policy decides.
	writerPolicy, _, err := xacct.MergeStatements(ptr(xacct.DestinationWritePolicy(x.dst)), idFix.Statement)
	require.NoError(t, err)
	x.writer = mustUser(t, x.sb, sandbox.AccountB, "kms-writer", *writerPolicy)
	rep, err = x.copier(t, opt).Preflight(ctx, x.src, x.dst)
	require.NoError(t, err)
	_, keyFix = kmsFinding(t, rep, xacct.SideDestination, "kms:GenerateDataKey", key, x.writer.ARN)

	addToKeyPolicy(t, x.sb, key, keyPolicy, keyFix.Statement)
	rep, err = x.copier(t, opt).Preflight(ctx, x.src, x.dst)
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	assert.Contains(t, rep.Checks, xacct.PreflightCheck{Side: xacct.SideDestination, Action: "kms:GenerateDataKey", Resource: key, Result: xacct.CheckAllowed})

	_, err = x.copier(t, opt).Sync(ctx, x.src, x.dst)
	require.NoError(t, err)
	for _, k := range []string{"a.csv", "b.csv"} {
		h := x.head(t, x.ownerB, x.dst.Bucket, x.dst.Prefix+k)
		assert.Equal(t, types.ServerSideEncryptionAwsKms, h.ServerSideEncryption, k)
		assert.Equal(t, key, aws.ToString(h.SSEKMSKeyId), k)
	}
}

func TestPreflightFindsKMSReadKey(t *testing.T) {
	x := newTwoIdentities(t)
	ctx := t.Context()
	// The source object is sealed by a user of A whom the key policy
	// names; the reader is not named, nor is its account.
	sealer := mustUser(t, x.sb, sandbox.AccountA, "sealer", xacct.NewPolicy(xacct.Statement{Effect: xacct.EffectAllow,
		Action: xacct.StringList{"s3:PutObject"}, Resource: xacct.StringList{xacct.ObjectARN(x.src.Bucket, "*")}}))
	keyPolicy := xacct.NewPolicy(xacct.KeyPolicyStatement(sealer.ARN, "kms:GenerateDataKey"))
	key, err := x.sb.CreateKMSKey(sandbox.AccountA, sandbox.Region, policyJSON(t, keyPolicy))
	require.NoError(t, err)
	_, err = x.sb.S3(sealer).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(x.src.Bucket), Key: aws.String("sealed.bin"), Body: strings.NewReader("secret"),
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(key)})
	require.NoError(t, err)

	rep, err := x.copier(t).Preflight(ctx, x.src, x.dst)
	require.NoError(t, err)
	idFix, keyFix := kmsFinding(t, rep, xacct.SideSource, "kms:Decrypt", key, x.reader.ARN)
	assert.Equal(t, "XacctKMSRead", idFix.Statement.Sid)
	assert.Equal(t, xacct.StringList{"kms:Decrypt"}, keyFix.Statement.Action)
	_, err = x.copier(t).Sync(ctx, x.src, x.dst)
	require.ErrorIs(t, err, xacct.ErrAccessDenied)

	readerPolicy, _, err := xacct.MergeStatements(ptr(xacct.SourceReadPolicy(x.src)), idFix.Statement)
	require.NoError(t, err)
	x.reader = mustUser(t, x.sb, sandbox.AccountA, "kms-reader", *readerPolicy)
	addToKeyPolicy(t, x.sb, key, keyPolicy, xacct.KeyPolicyStatement(x.reader.ARN, "kms:Decrypt"))
	rep, err = x.copier(t).Preflight(ctx, x.src, x.dst)
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	_, err = x.copier(t).Sync(ctx, x.src, x.dst)
	require.NoError(t, err)
	assert.Equal(t, "secret", string(getStored(t, x.ownerB, x.dst.Bucket, x.dst.Prefix+"sealed.bin").body))
}

func TestKMSPolicyBuilders(t *testing.T) {
	const key = "arn:aws:kms:us-east-1:111111111111:key/k"
	w := xacct.KMSWritePolicy(key)
	require.NoError(t, w.Validate())
	assert.Empty(t, xacct.Lint(w, xacct.PolicyKindIdentity))
	r := xacct.KMSReadPolicy(key)
	assert.Equal(t, xacct.StringList{"kms:Decrypt"}, r.Statement[0].Action)
	a := xacct.KeyPolicyStatement("arn:aws:iam::222222222222:role/w", "kms:GenerateDataKey", "kms:Decrypt", "kms:Decrypt")
	b := xacct.KeyPolicyStatement("arn:aws:iam::222222222222:role/other", "kms:GenerateDataKey", "kms:Decrypt")
	assert.Equal(t, xacct.StringList{"kms:Decrypt", "kms:GenerateDataKey"}, a.Action)
	assert.True(t, strings.HasPrefix(a.Sid, "XacctKMSWrite"), a.Sid)
	assert.NotEqual(t, a.Sid, b.Sid, "statements for two principals merge side by side")
	kp := xacct.NewPolicy(a, b)
	require.NoError(t, kp.Validate())
	assert.Empty(t, xacct.Lint(kp, xacct.PolicyKindKey), "Resource * is how key policies name their key")
	assert.NotEmpty(t, xacct.Lint(xacct.NewPolicy(xacct.Statement{Effect: xacct.EffectAllow, Action: xacct.StringList{"kms:Decrypt"}, Resource: xacct.StringList{"*"}}), xacct.PolicyKindKey))
	assert.Equal(t, "key", xacct.PolicyKindKey.String())
}
