package xacct_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
)

const (
	acctA   = "111111111111"
	acctB   = "222222222222"
	roleB   = "arn:aws:iam::222222222222:role/copier"
	sessB   = "arn:aws:sts::222222222222:assumed-role/copier/run-1"
	userB   = "arn:aws:iam::222222222222:user/alice"
	objARN  = "arn:aws:s3:::bkt/data/k.txt"
	bktARN  = "arn:aws:s3:::bkt"
	getObj  = "s3:GetObject"
	rootB   = "arn:aws:iam::222222222222:root"
	otherID = "333333333333"
)

func allowStmt(sid string, actions ...string) xacct.Statement {
	return xacct.Statement{Sid: sid, Effect: xacct.EffectAllow, Action: actions, Resource: xacct.StringList{"arn:aws:s3:::bkt/*"}}
}

func withPrincipal(s xacct.Statement, p *xacct.Principal) xacct.Statement {
	s.Principal = p
	return s
}

func policyOf(stmts ...xacct.Statement) *xacct.Policy {
	p := xacct.NewPolicy(stmts...)
	return &p
}

func TestEvaluateAccountRules(t *testing.T) {
	idAllow := []xacct.Policy{xacct.NewPolicy(allowStmt("IdAllow", getObj))}
	idDeny := []xacct.Policy{xacct.NewPolicy(allowStmt("IdAllow", getObj), xacct.Statement{Sid: "IdDeny", Effect: xacct.EffectDeny, Action: xacct.StringList{"s3:*"}, Resource: xacct.StringList{"*"}})}
	resAllowRole := policyOf(withPrincipal(allowStmt("ResAllow", getObj), xacct.AWSPrincipal(roleB)))
	resAllowAcct := policyOf(withPrincipal(allowStmt("ResAcct", getObj), xacct.AWSPrincipal(acctB)))
	resDeny := policyOf(withPrincipal(allowStmt("ResAllow", getObj), xacct.AWSPrincipal(roleB)),
		xacct.Statement{Sid: "ResDeny", Effect: xacct.EffectDeny, Principal: xacct.AnyPrincipal(), Action: xacct.StringList{getObj}, Resource: xacct.StringList{objARN}})

	tests := []struct {
		name      string
		caller    xacct.PrincipalInfo
		resAcct   string
		identity  []xacct.Policy
		resource  *xacct.Policy
		effect    xacct.Effect
		stmts     []string
		reasonHas string
	}{
		{"same account, identity allows", xacct.PrincipalInfo{ARN: sessB}, acctB, idAllow, nil, xacct.EffectAllow, []string{"IdAllow"}, "one Allow is enough"},
		{"same account, bucket policy names role", xacct.PrincipalInfo{ARN: sessB}, acctB, nil, resAllowRole, xacct.EffectAllow, []string{"ResAllow"}, "one Allow is enough"},
		{"same account, bucket policy names only the account", xacct.PrincipalInfo{ARN: sessB}, acctB, nil, resAllowAcct, xacct.EffectImplicitDeny, nil, "leaves the decision to the account's identity policies"},
		{"same account, account grant plus identity", xacct.PrincipalInfo{ARN: sessB}, acctB, idAllow, resAllowAcct, xacct.EffectAllow, []string{"IdAllow", "ResAcct"}, ""},
		{"same account, nothing", xacct.PrincipalInfo{ARN: sessB}, acctB, nil, nil, xacct.EffectImplicitDeny, nil, "no statement in the identity policies of " + sessB + " or the bucket policy allows s3:GetObject on " + objARN},
		{"identity deny wins over bucket allow", xacct.PrincipalInfo{ARN: sessB}, acctB, idDeny, resAllowRole, xacct.EffectDeny, []string{"IdDeny"}, "explicit Deny overrides"},
		{"bucket deny wins over identity allow", xacct.PrincipalInfo{ARN: sessB}, acctB, idAllow, resDeny, xacct.EffectDeny, []string{"ResDeny"}, `statement "ResDeny" of the bucket policy explicitly denies`},
		{"cross account, both allow", xacct.PrincipalInfo{ARN: sessB}, acctA, idAllow, resAllowRole, xacct.EffectAllow, []string{"IdAllow", "ResAllow"}, "allow " + sessB},
		{"cross account, account grant plus identity", xacct.PrincipalInfo{ARN: sessB}, acctA, idAllow, resAllowAcct, xacct.EffectAllow, []string{"IdAllow", "ResAcct"}, ""},
		{"cross account, identity only", xacct.PrincipalInfo{ARN: sessB}, acctA, idAllow, nil, xacct.EffectImplicitDeny, nil,
			"no statement in the bucket policy allows " + sessB + " to do s3:GetObject on " + objARN + "; cross-account access needs both the identity policy and the bucket policy to allow it"},
		{"cross account, bucket policy only", xacct.PrincipalInfo{ARN: sessB}, acctA, nil, resAllowRole, xacct.EffectImplicitDeny, nil,
			"no statement in the identity policies of " + sessB + " allows s3:GetObject on " + objARN},
		{"unknown resource account counts as cross account", xacct.PrincipalInfo{ARN: sessB}, "", idAllow, nil, xacct.EffectImplicitDeny, nil, "cross-account"},
		{"root needs no identity policy in its account", xacct.PrincipalInfo{ARN: rootB}, acctB, nil, nil, xacct.EffectAllow, nil, "root user"},
		{"root across accounts needs the bucket policy", xacct.PrincipalInfo{ARN: rootB}, acctA, nil, nil, xacct.EffectImplicitDeny, nil, ""},
		{"root across accounts with an account grant", xacct.PrincipalInfo{Account: acctB, IsRoot: true}, acctA, nil, resAllowAcct, xacct.EffectAllow, []string{"ResAcct"}, ""},
		{"root is still subject to bucket denies", xacct.PrincipalInfo{ARN: rootB}, acctB, nil, resDeny, xacct.EffectDeny, []string{"ResDeny"}, ""},
		{"service ignores identity policies", xacct.PrincipalInfo{Service: "s3.amazonaws.com"}, acctA, idAllow, nil, xacct.EffectImplicitDeny, nil, "service s3.amazonaws.com"},
		{"service named in bucket policy", xacct.PrincipalInfo{Service: "s3.amazonaws.com"}, acctA, nil,
			policyOf(withPrincipal(allowStmt("Svc", getObj), xacct.ServicePrincipal("s3.amazonaws.com"))), xacct.EffectAllow, []string{"Svc"}, ""},
		{"service not matched by an AWS principal", xacct.PrincipalInfo{Service: "s3.amazonaws.com"}, acctA, nil, resAllowAcct, xacct.EffectImplicitDeny, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := xacct.Evaluate(xacct.Request{Principal: tt.caller, Action: getObj, Resource: objARN, ResourceAccount: tt.resAcct}, tt.identity, tt.resource)
			assert.Equal(t, tt.effect, d.Effect, d.Reason)
			assert.Equal(t, tt.effect == xacct.EffectAllow, d.Allowed)
			var sids []string
			for _, s := range d.Statements {
				sids = append(sids, s.Sid)
			}
			assert.Equal(t, tt.stmts, sids)
			assert.Contains(t, d.Reason, tt.reasonHas)
		})
	}
}

func TestEvaluatePrincipalMatching(t *testing.T) {
	tests := []struct {
		name      string
		principal *xacct.Principal
		not       bool
		caller    string
		want      bool
	}{
		{"wildcard", xacct.AnyPrincipal(), false, sessB, true},
		{"AWS wildcard", &xacct.Principal{AWS: xacct.StringList{"*"}}, false, userB, true},
		{"account id", &xacct.Principal{AWS: xacct.StringList{acctB}}, false, sessB, true},
		{"account root ARN", xacct.AWSPrincipal(rootB), false, userB, true},
		{"other account", xacct.AWSPrincipal(otherID), false, sessB, false},
		{"role matches its session", xacct.AWSPrincipal(roleB), false, sessB, true},
		{"role with a path matches its session", xacct.AWSPrincipal("arn:aws:iam::222222222222:role/team/copier"), false, sessB, true},
		{"role matches itself", xacct.AWSPrincipal(roleB), false, roleB, true},
		{"role does not match another role's session", xacct.AWSPrincipal(roleB), false, "arn:aws:sts::222222222222:assumed-role/other/run-1", false},
		{"role does not match the same name in another account", xacct.AWSPrincipal("arn:aws:iam::333333333333:role/copier"), false, sessB, false},
		{"session ARN", xacct.AWSPrincipal(sessB), false, sessB, true},
		{"other session of the role", xacct.AWSPrincipal(sessB), false, "arn:aws:sts::222222222222:assumed-role/copier/run-2", false},
		{"user ARN", xacct.AWSPrincipal(userB), false, userB, true},
		{"user ARN does not match role session", xacct.AWSPrincipal(userB), false, sessB, false},
		{"service principal does not match a user", xacct.ServicePrincipal("s3.amazonaws.com"), false, userB, false},
		{"NotPrincipal excludes the listed", xacct.AWSPrincipal(userB), true, userB, false},
		{"NotPrincipal applies to others", xacct.AWSPrincipal(userB), true, sessB, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := allowStmt("S", getObj)
			if tt.not {
				s.NotPrincipal = tt.principal
			} else {
				s.Principal = tt.principal
			}
			// Cross-account with an identity Allow: the result hangs on
			// whether the bucket policy's principal matches.
			d := xacct.Evaluate(xacct.Request{Principal: xacct.PrincipalInfo{ARN: tt.caller}, Action: getObj, Resource: objARN, ResourceAccount: acctA},
				[]xacct.Policy{xacct.NewPolicy(allowStmt("Id", getObj))}, policyOf(s))
			assert.Equal(t, tt.want, d.Allowed, d.Reason)
		})
	}
}

// A Deny with NotPrincipal denies everyone it does not name exactly: a
// role ARN exempts the role itself, not its sessions, which must be listed
// by their own assumed-role ARN; an account exempts its root user only.
func TestEvaluateNotPrincipalDeny(t *testing.T) {
	sessB2 := "arn:aws:sts::222222222222:assumed-role/copier/run-2"
	tests := []struct {
		name       string
		notListed  xacct.StringList
		caller     xacct.PrincipalInfo
		wantDenied bool
	}{
		{"role ARN does not exempt its session", xacct.StringList{roleB}, xacct.PrincipalInfo{ARN: sessB}, true},
		{"role and account ARNs do not exempt its session", xacct.StringList{roleB, rootB}, xacct.PrincipalInfo{ARN: sessB}, true},
		{"session, role and account exempt the session", xacct.StringList{sessB, roleB, rootB}, xacct.PrincipalInfo{ARN: sessB}, false},
		{"session ARN exempts that session", xacct.StringList{sessB}, xacct.PrincipalInfo{ARN: sessB}, false},
		{"session ARN does not exempt another session", xacct.StringList{sessB, roleB, rootB}, xacct.PrincipalInfo{ARN: sessB2}, true},
		{"role ARN exempts the role itself", xacct.StringList{roleB}, xacct.PrincipalInfo{ARN: roleB}, false},
		{"user ARN exempts the user", xacct.StringList{userB, rootB}, xacct.PrincipalInfo{ARN: userB}, false},
		{"account does not exempt its users", xacct.StringList{rootB}, xacct.PrincipalInfo{ARN: userB}, true},
		{"account ID does not exempt its sessions", xacct.StringList{acctB}, xacct.PrincipalInfo{ARN: sessB}, true},
		{"account ID exempts the root user", xacct.StringList{acctB}, xacct.PrincipalInfo{ARN: rootB}, false},
		{"root ARN exempts the root user", xacct.StringList{rootB}, xacct.PrincipalInfo{Account: acctB, IsRoot: true}, false},
		{"another account's root is denied", xacct.StringList{rootB}, xacct.PrincipalInfo{ARN: "arn:aws:iam::333333333333:root"}, true},
		{"AWS wildcard exempts everyone", xacct.StringList{"*"}, xacct.PrincipalInfo{ARN: sessB}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The bucket policy allows everyone, then denies all but the
			// listed; the caller's own account owns the bucket, so without
			// the Deny the request is allowed.
			resource := policyOf(
				withPrincipal(allowStmt("AllowAll", getObj), xacct.AnyPrincipal()),
				xacct.Statement{Sid: "DenyOthers", Effect: xacct.EffectDeny, NotPrincipal: &xacct.Principal{AWS: tt.notListed}, Action: xacct.StringList{"s3:*"}, Resource: xacct.StringList{objARN}},
			)
			req := xacct.Request{Principal: tt.caller, Action: getObj, Resource: objARN, ResourceAccount: acctB}
			d := xacct.Evaluate(req, nil, resource)
			if tt.wantDenied {
				assert.Equal(t, xacct.EffectDeny, d.Effect, d.Reason)
				require.Len(t, d.Statements, 1)
				assert.Equal(t, "DenyOthers", d.Statements[0].Sid)
			} else {
				assert.Equal(t, xacct.EffectAllow, d.Effect, d.Reason)
			}
		})
	}
	t.Run("service principals", func(t *testing.T) {
		resource := policyOf(
			withPrincipal(allowStmt("AllowS3", getObj), xacct.ServicePrincipal("s3.amazonaws.com", "datasync.amazonaws.com")),
			xacct.Statement{Sid: "DenyOthers", Effect: xacct.EffectDeny, NotPrincipal: xacct.ServicePrincipal("s3.amazonaws.com"), Action: xacct.StringList{"s3:*"}, Resource: xacct.StringList{objARN}},
		)
		for svc, want := range map[string]xacct.Effect{"s3.amazonaws.com": xacct.EffectAllow, "datasync.amazonaws.com": xacct.EffectDeny} {
			d := xacct.Evaluate(xacct.Request{Principal: xacct.PrincipalInfo{Service: svc}, Action: getObj, Resource: objARN, ResourceAccount: acctB}, nil, resource)
			assert.Equal(t, want, d.Effect, "%s: %s", svc, d.Reason)
		}
	})
}

func TestEvaluateActionResourceMatching(t *testing.T) {
	tests := []struct {
		name   string
		stmt   xacct.Statement
		action string
		res    string
		want   bool
	}{
		{"exact", xacct.Statement{Action: xacct.StringList{getObj}, Resource: xacct.StringList{objARN}}, getObj, objARN, true},
		{"action case-insensitive", xacct.Statement{Action: xacct.StringList{"S3:getobject"}, Resource: xacct.StringList{objARN}}, getObj, objARN, true},
		{"action star", xacct.Statement{Action: xacct.StringList{"s3:Get*"}, Resource: xacct.StringList{objARN}}, "s3:GetObjectTagging", objARN, true},
		{"action question mark", xacct.Statement{Action: xacct.StringList{"s3:GetObjec?"}, Resource: xacct.StringList{objARN}}, getObj, objARN, true},
		{"action question mark needs one character", xacct.Statement{Action: xacct.StringList{"s3:GetObject?"}, Resource: xacct.StringList{objARN}}, getObj, objARN, false},
		{"all actions", xacct.Statement{Action: xacct.StringList{"*"}, Resource: xacct.StringList{"*"}}, "s3:DeleteBucket", bktARN, true},
		{"other action", xacct.Statement{Action: xacct.StringList{"s3:Put*"}, Resource: xacct.StringList{objARN}}, getObj, objARN, false},
		{"resource case-sensitive", xacct.Statement{Action: xacct.StringList{getObj}, Resource: xacct.StringList{"arn:aws:s3:::bkt/DATA/*"}}, getObj, objARN, false},
		{"resource star spans slashes", xacct.Statement{Action: xacct.StringList{getObj}, Resource: xacct.StringList{"arn:aws:s3:::bkt/*"}}, getObj, objARN, true},
		{"resource question mark", xacct.Statement{Action: xacct.StringList{getObj}, Resource: xacct.StringList{"arn:aws:s3:::bkt/data/?.txt"}}, getObj, objARN, true},
		{"bucket ARN is not an object ARN", xacct.Statement{Action: xacct.StringList{"s3:ListBucket"}, Resource: xacct.StringList{"arn:aws:s3:::bkt/*"}}, "s3:ListBucket", bktARN, false},
		{"escaped star is literal", xacct.Statement{Action: xacct.StringList{getObj}, Resource: xacct.StringList{"arn:aws:s3:::bkt/a${*}b"}}, getObj, "arn:aws:s3:::bkt/a*b", true},
		{"escaped star does not match others", xacct.Statement{Action: xacct.StringList{getObj}, Resource: xacct.StringList{"arn:aws:s3:::bkt/a${*}b"}}, getObj, "arn:aws:s3:::bkt/axb", false},
		{"NotAction allows the rest", xacct.Statement{NotAction: xacct.StringList{"s3:Delete*"}, Resource: xacct.StringList{"*"}}, getObj, objARN, true},
		{"NotAction excludes", xacct.Statement{NotAction: xacct.StringList{"s3:Delete*"}, Resource: xacct.StringList{"*"}}, "s3:DeleteObject", objARN, false},
		{"NotResource allows the rest", xacct.Statement{Action: xacct.StringList{getObj}, NotResource: xacct.StringList{"arn:aws:s3:::bkt/secret/*"}}, getObj, objARN, true},
		{"NotResource excludes", xacct.Statement{Action: xacct.StringList{getObj}, NotResource: xacct.StringList{"arn:aws:s3:::bkt/data/*"}}, getObj, objARN, false},
		{"identity statement without resource grants nothing", xacct.Statement{Action: xacct.StringList{getObj}}, getObj, objARN, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.stmt.Effect = xacct.EffectAllow
			d := xacct.Evaluate(xacct.Request{Principal: xacct.PrincipalInfo{ARN: userB}, Action: tt.action, Resource: tt.res, ResourceAccount: acctB},
				[]xacct.Policy{xacct.NewPolicy(tt.stmt)}, nil)
			assert.Equal(t, tt.want, d.Allowed, d.Reason)
		})
	}
}

func TestEvaluateConditions(t *testing.T) {
	type ctx = map[string][]string
	tests := []struct {
		name string
		cond xacct.Conditions
		ctx  ctx
		want bool
	}{
		{"StringEquals", xacct.Conditions{"StringEquals": {"s3:prefix": {"a/"}}}, ctx{"s3:prefix": {"a/"}}, true},
		{"StringEquals is case-sensitive", xacct.Conditions{"StringEquals": {"s3:prefix": {"A/"}}}, ctx{"s3:prefix": {"a/"}}, false},
		{"StringEquals values are OR", xacct.Conditions{"StringEquals": {"s3:prefix": {"x", "a/"}}}, ctx{"s3:prefix": {"a/"}}, true},
		{"StringEquals missing key", xacct.Conditions{"StringEquals": {"s3:prefix": {"a/"}}}, nil, false},
		{"StringEqualsIfExists missing key", xacct.Conditions{"StringEqualsIfExists": {"s3:prefix": {"a/"}}}, nil, true},
		{"StringEqualsIfExists present, other value", xacct.Conditions{"StringEqualsIfExists": {"s3:prefix": {"a/"}}}, ctx{"s3:prefix": {"b/"}}, false},
		{"condition keys are case-insensitive", xacct.Conditions{"StringEquals": {"S3:Prefix": {"a/"}}}, ctx{"s3:prefix": {"a/"}}, true},
		{"StringNotEquals", xacct.Conditions{"StringNotEquals": {"k": {"a"}}}, ctx{"k": {"b"}}, true},
		{"StringNotEquals equal", xacct.Conditions{"StringNotEquals": {"k": {"a", "b"}}}, ctx{"k": {"b"}}, false},
		{"StringNotEquals missing key is true", xacct.Conditions{"StringNotEquals": {"k": {"a"}}}, nil, true},
		{"StringNotEqualsIfExists missing key", xacct.Conditions{"StringNotEqualsIfExists": {"k": {"a"}}}, nil, true},
		{"StringEqualsIgnoreCase", xacct.Conditions{"StringEqualsIgnoreCase": {"k": {"ABC"}}}, ctx{"k": {"abc"}}, true},
		{"StringNotEqualsIgnoreCase", xacct.Conditions{"StringNotEqualsIgnoreCase": {"k": {"ABC"}}}, ctx{"k": {"abc"}}, false},
		{"StringLike", xacct.Conditions{"StringLike": {"s3:prefix": {"photos/*"}}}, ctx{"s3:prefix": {"photos/2024/"}}, true},
		{"StringLike question mark", xacct.Conditions{"StringLike": {"k": {"a?c"}}}, ctx{"k": {"abc"}}, true},
		{"StringLike no match", xacct.Conditions{"StringLike": {"s3:prefix": {"photos/*"}}}, ctx{"s3:prefix": {"videos/"}}, false},
		{"StringLike missing key", xacct.Conditions{"StringLike": {"s3:prefix": {"photos/*"}}}, nil, false},
		{"StringNotLike", xacct.Conditions{"StringNotLike": {"k": {"tmp/*"}}}, ctx{"k": {"tmp/x"}}, false},
		{"StringNotLike missing key", xacct.Conditions{"StringNotLike": {"k": {"tmp/*"}}}, nil, true},
		{"ArnEquals", xacct.Conditions{"ArnEquals": {"aws:SourceArn": {"arn:aws:datasync:eu-west-1:111111111111:task/task-1"}}}, ctx{"aws:SourceArn": {"arn:aws:datasync:eu-west-1:111111111111:task/task-1"}}, true},
		{"ArnLike", xacct.Conditions{"ArnLike": {"aws:SourceArn": {"arn:aws:datasync:*:111111111111:task/*"}}}, ctx{"aws:SourceArn": {"arn:aws:datasync:eu-west-1:111111111111:task/task-1"}}, true},
		{"ArnLike wildcard stays in its part", xacct.Conditions{"ArnLike": {"aws:SourceArn": {"arn:aws:datasync:*:task/*"}}}, ctx{"aws:SourceArn": {"arn:aws:datasync:eu-west-1:111111111111:task/task-1"}}, false},
		{"ArnLike other account", xacct.Conditions{"ArnLike": {"aws:SourceArn": {"arn:aws:datasync:*:111111111111:task/*"}}}, ctx{"aws:SourceArn": {"arn:aws:datasync:eu-west-1:222222222222:task/task-1"}}, false},
		{"ArnNotLike", xacct.Conditions{"ArnNotLike": {"aws:PrincipalArn": {"arn:aws:iam::*:role/admin"}}}, ctx{"aws:PrincipalArn": {roleB}}, true},
		{"ArnNotEquals missing key", xacct.Conditions{"ArnNotEquals": {"aws:SourceArn": {"arn:aws:s3:::x"}}}, nil, true},
		{"ArnLikeIfExists missing key", xacct.Conditions{"ArnLikeIfExists": {"aws:SourceArn": {"arn:aws:s3:::x"}}}, nil, true},
		{"Bool", xacct.Conditions{"Bool": {"aws:SecureTransport": {"true"}}}, ctx{"aws:SecureTransport": {"true"}}, true},
		{"Bool is case-insensitive", xacct.Conditions{"Bool": {"aws:SecureTransport": {"TRUE"}}}, ctx{"aws:SecureTransport": {"true"}}, true},
		{"Bool other value", xacct.Conditions{"Bool": {"aws:SecureTransport": {"false"}}}, ctx{"aws:SecureTransport": {"true"}}, false},
		{"Bool missing key", xacct.Conditions{"Bool": {"aws:SecureTransport": {"false"}}}, nil, false},
		{"BoolIfExists missing key", xacct.Conditions{"BoolIfExists": {"aws:MultiFactorAuthPresent": {"true"}}}, nil, true},
		{"Null true, key absent", xacct.Conditions{"Null": {"s3:x-amz-server-side-encryption": {"true"}}}, nil, true},
		{"Null true, key present", xacct.Conditions{"Null": {"s3:x-amz-server-side-encryption": {"true"}}}, ctx{"s3:x-amz-server-side-encryption": {"aws:kms"}}, false},
		{"Null false, key present", xacct.Conditions{"Null": {"k": {"false"}}}, ctx{"k": {"v"}}, true},
		{"Null false, key absent", xacct.Conditions{"Null": {"k": {"false"}}}, nil, false},
		{"NumericLessThanEquals", xacct.Conditions{"NumericLessThanEquals": {"s3:max-keys": {"10"}}}, ctx{"s3:max-keys": {"10"}}, true},
		{"NumericLessThan", xacct.Conditions{"NumericLessThan": {"s3:max-keys": {"10"}}}, ctx{"s3:max-keys": {"10"}}, false},
		{"NumericGreaterThan", xacct.Conditions{"NumericGreaterThan": {"s3:TlsVersion": {"1.1"}}}, ctx{"s3:TlsVersion": {"1.2"}}, true},
		{"NumericGreaterThanEquals", xacct.Conditions{"NumericGreaterThanEquals": {"k": {"3"}}}, ctx{"k": {"2"}}, false},
		{"NumericEquals", xacct.Conditions{"NumericEquals": {"k": {"3"}}}, ctx{"k": {"3.0"}}, true},
		{"NumericNotEquals", xacct.Conditions{"NumericNotEquals": {"k": {"3"}}}, ctx{"k": {"4"}}, true},
		{"Numeric not a number", xacct.Conditions{"NumericEquals": {"k": {"3"}}}, ctx{"k": {"three"}}, false},
		{"NumericLessThanIfExists missing key", xacct.Conditions{"NumericLessThanIfExists": {"k": {"3"}}}, nil, true},
		{"DateLessThan", xacct.Conditions{"DateLessThan": {"aws:CurrentTime": {"2030-01-01T00:00:00Z"}}}, ctx{"aws:CurrentTime": {"2026-05-01T12:00:00Z"}}, true},
		{"DateGreaterThan epoch", xacct.Conditions{"DateGreaterThan": {"aws:EpochTime": {"1700000000"}}}, ctx{"aws:EpochTime": {"1600000000"}}, false},
		{"IpAddress", xacct.Conditions{"IpAddress": {"aws:SourceIp": {"10.0.0.0/8"}}}, ctx{"aws:SourceIp": {"10.1.2.3"}}, true},
		{"NotIpAddress", xacct.Conditions{"NotIpAddress": {"aws:SourceIp": {"10.0.0.0/8"}}}, ctx{"aws:SourceIp": {"10.1.2.3"}}, false},
		{"ForAnyValue one matches", xacct.Conditions{"ForAnyValue:StringEquals": {"aws:TagKeys": {"team"}}}, ctx{"aws:TagKeys": {"env", "team"}}, true},
		{"ForAnyValue none match", xacct.Conditions{"ForAnyValue:StringEquals": {"aws:TagKeys": {"team"}}}, ctx{"aws:TagKeys": {"env"}}, false},
		{"ForAnyValue missing key", xacct.Conditions{"ForAnyValue:StringEquals": {"aws:TagKeys": {"team"}}}, nil, false},
		{"ForAllValues all match", xacct.Conditions{"ForAllValues:StringLike": {"aws:TagKeys": {"team", "env*"}}}, ctx{"aws:TagKeys": {"env-1", "team"}}, true},
		{"ForAllValues one does not", xacct.Conditions{"ForAllValues:StringLike": {"aws:TagKeys": {"team"}}}, ctx{"aws:TagKeys": {"env", "team"}}, false},
		{"ForAllValues missing key", xacct.Conditions{"ForAllValues:StringEquals": {"aws:TagKeys": {"team"}}}, nil, true},
		{"ForAllValues negated", xacct.Conditions{"ForAllValues:StringNotEquals": {"aws:TagKeys": {"secret"}}}, ctx{"aws:TagKeys": {"env", "team"}}, true},
		{"ForAnyValue negated", xacct.Conditions{"ForAnyValue:StringNotEquals": {"aws:TagKeys": {"secret"}}}, ctx{"aws:TagKeys": {"secret"}}, false},
		{"keys are AND", xacct.Conditions{"StringEquals": {"a": {"1"}, "b": {"2"}}}, ctx{"a": {"1"}, "b": {"3"}}, false},
		{"operators are AND", xacct.Conditions{"StringEquals": {"a": {"1"}}, "Bool": {"b": {"true"}}}, ctx{"a": {"1"}, "b": {"true"}}, true},
		{"operators are AND, one fails", xacct.Conditions{"StringEquals": {"a": {"1"}}, "Bool": {"b": {"true"}}}, ctx{"a": {"1"}, "b": {"false"}}, false},
		{"derived aws:PrincipalAccount", xacct.Conditions{"StringEquals": {"aws:PrincipalAccount": {acctB}}}, nil, true},
		{"derived aws:PrincipalArn is the role", xacct.Conditions{"ArnEquals": {"aws:PrincipalArn": {roleB}}}, nil, true},
		{"derived aws:ResourceAccount", xacct.Conditions{"StringEquals": {"aws:ResourceAccount": {acctB}}}, nil, true},
		{"context overrides derived keys", xacct.Conditions{"StringEquals": {"aws:PrincipalAccount": {acctB}}}, ctx{"aws:principalaccount": {otherID}}, false},
		{"unknown operator never allows", xacct.Conditions{"StringEqualz": {"a": {"1"}}}, ctx{"a": {"1"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := allowStmt("Cond", getObj)
			s.Condition = tt.cond
			d := xacct.Evaluate(xacct.Request{Principal: xacct.PrincipalInfo{ARN: sessB}, Action: getObj, Resource: objARN, ResourceAccount: acctB, Context: tt.ctx},
				[]xacct.Policy{xacct.NewPolicy(s)}, nil)
			assert.Equal(t, tt.want, d.Allowed, d.Reason)
			if !tt.want {
				assert.Contains(t, d.Reason, `statement "Cond" of an identity policy matched but its condition`)
			}
		})
	}
}

func TestEvaluateUnknownOperatorFailsClosedForDeny(t *testing.T) {
	deny := xacct.Statement{Effect: xacct.EffectDeny, Action: xacct.StringList{"*"}, Resource: xacct.StringList{"*"}, Condition: xacct.Conditions{"StringEqualz": {"a": {"1"}}}}
	d := xacct.Evaluate(xacct.Request{Principal: xacct.PrincipalInfo{ARN: userB}, Action: getObj, Resource: objARN, ResourceAccount: acctB},
		[]xacct.Policy{xacct.NewPolicy(allowStmt("A", getObj), deny)}, nil)
	assert.Equal(t, xacct.EffectDeny, d.Effect)
	assert.Equal(t, []xacct.StatementRef{{Policy: xacct.PolicySourceIdentity, PolicyIndex: 0, Index: 1}}, d.Statements)
	assert.Equal(t, "identity policy 0 statement 1", d.Statements[0].String())
}

func TestEvaluateAssumeRole(t *testing.T) {
	const role = "arn:aws:iam::111111111111:role/xacct-copier"
	trust := xacct.CopyRoleTrustPolicy(acctB, "ext-42")
	canAssume := []xacct.Policy{xacct.NewPolicy(xacct.Statement{Effect: xacct.EffectAllow, Action: xacct.StringList{"sts:AssumeRole"}, Resource: xacct.StringList{role}})}
	tests := []struct {
		name     string
		caller   xacct.PrincipalInfo
		identity []xacct.Policy
		trust    xacct.Policy
		extID    string
		want     bool
		reason   string
	}{
		{"right external id", xacct.PrincipalInfo{ARN: userB}, canAssume, trust, "ext-42", true, ""},
		{"wrong external id", xacct.PrincipalInfo{ARN: userB}, canAssume, trust, "ext-41", false, "condition StringEquals on sts:ExternalId was not met"},
		{"missing external id", xacct.PrincipalInfo{ARN: userB}, canAssume, trust, "", false, "sts:ExternalId"},
		{"caller's identity policy must allow it", xacct.PrincipalInfo{ARN: userB}, nil, trust, "ext-42", false, "no statement in the identity policies of " + userB},
		{"root of the trusted account", xacct.PrincipalInfo{ARN: rootB}, nil, trust, "ext-42", true, ""},
		{"other account", xacct.PrincipalInfo{ARN: "arn:aws:iam::333333333333:user/mallory"}, canAssume, trust, "ext-42", false, "trust policy"},
		{"same account still needs the trust policy", xacct.PrincipalInfo{ARN: "arn:aws:iam::111111111111:user/bob"}, canAssume, trust, "ext-42", false, "a role's trust policy must allow it even within one account"},
		{"same account trusted by account needs identity", xacct.PrincipalInfo{ARN: "arn:aws:iam::111111111111:user/bob"}, nil, xacct.CopyRoleTrustPolicy(acctA, ""), "", false, "trusts account 111111111111, but"},
		{"same account trusted by account with identity", xacct.PrincipalInfo{ARN: "arn:aws:iam::111111111111:user/bob"}, canAssume, xacct.CopyRoleTrustPolicy(acctA, ""), "", true, ""},
		{"same account trusted by name", xacct.PrincipalInfo{ARN: "arn:aws:iam::111111111111:user/bob"}, nil, xacct.CopyRoleTrustPolicy("arn:aws:iam::111111111111:user/bob", ""), "", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := xacct.Evaluate(xacct.AssumeRoleRequest(tt.caller, role, tt.extID), tt.identity, &tt.trust)
			assert.Equal(t, tt.want, d.Allowed, d.Reason)
			assert.Contains(t, d.Reason, tt.reason)
		})
	}
}

// copyRequests are the S3 calls a copy of src/photos/ to dst/in/ makes.
func copyRequests(src, dst xacct.Location) []xacct.Request {
	return []xacct.Request{
		{Action: "s3:ListBucket", Resource: xacct.BucketARN(src.Bucket), Context: map[string][]string{"s3:prefix": {src.Prefix}}},
		{Action: "s3:GetObject", Resource: xacct.ObjectARN(src.Bucket, src.Prefix+"2024/a.jpg")},
		{Action: "s3:GetObjectTagging", Resource: xacct.ObjectARN(src.Bucket, src.Prefix+"2024/a.jpg")},
		{Action: "s3:ListBucket", Resource: xacct.BucketARN(dst.Bucket), Context: map[string][]string{"s3:prefix": {dst.Prefix}}},
		{Action: "s3:PutObject", Resource: xacct.ObjectARN(dst.Bucket, dst.Prefix+"2024/a.jpg")},
		{Action: "s3:PutObjectTagging", Resource: xacct.ObjectARN(dst.Bucket, dst.Prefix+"2024/a.jpg")},
		{Action: "s3:PutObjectAcl", Resource: xacct.ObjectARN(dst.Bucket, dst.Prefix+"2024/a.jpg")},
		{Action: "s3:AbortMultipartUpload", Resource: xacct.ObjectARN(dst.Bucket, dst.Prefix+"2024/a.jpg")},
	}
}

func TestCopyBuildersAllowExactlyWhatACopyNeeds(t *testing.T) {
	const (
		srcAcct = "111111111111"
		dstAcct = "222222222222"
		role    = "arn:aws:iam::222222222222:role/xacct-copier"
		session = "arn:aws:sts::222222222222:assumed-role/xacct-copier/sync"
	)
	src := xacct.Location{Bucket: "src-bucket", Prefix: "photos/"}
	dst := xacct.Location{Bucket: "dst-bucket", Prefix: "in/"}
	identity := []xacct.Policy{xacct.CopyRolePolicy(src, dst)}
	bucketPolicies := map[string]*xacct.Policy{
		src.Bucket: policyOf(xacct.SourceBucketPolicy(src, role, xacct.WithSecureTransport()).Statement...),
	}
	accounts := map[string]string{src.Bucket: srcAcct, dst.Bucket: dstAcct}
	eval := func(req xacct.Request, identity []xacct.Policy, bucketPolicies map[string]*xacct.Policy) xacct.Decision {
		bucket, _, _ := cutBucket(req.Resource)
		req.Principal = xacct.PrincipalInfo{ARN: session}
		req.ResourceAccount = accounts[bucket]
		return xacct.Evaluate(req, identity, bucketPolicies[bucket])
	}

	for _, req := range copyRequests(src, dst) {
		d := eval(req, identity, bucketPolicies)
		assert.True(t, d.Allowed, "%s on %s: %s", req.Action, req.Resource, d.Reason)
	}

	denied := []xacct.Request{
		{Action: "s3:DeleteBucket", Resource: xacct.BucketARN(src.Bucket)},
		{Action: "s3:DeleteBucket", Resource: xacct.BucketARN(dst.Bucket)},
		{Action: "s3:PutBucketPolicy", Resource: xacct.BucketARN(src.Bucket)},
		{Action: "s3:DeleteObject", Resource: xacct.ObjectARN(src.Bucket, "photos/a.jpg")},
		{Action: "s3:DeleteObject", Resource: xacct.ObjectARN(dst.Bucket, "in/a.jpg")},
		{Action: "s3:PutObject", Resource: xacct.ObjectARN(src.Bucket, "photos/a.jpg")},
		{Action: "s3:GetObject", Resource: xacct.ObjectARN(src.Bucket, "private/a.jpg")},
		{Action: "s3:PutObject", Resource: xacct.ObjectARN(dst.Bucket, "elsewhere/a.jpg")},
		{Action: "s3:GetObjectVersion", Resource: xacct.ObjectARN(src.Bucket, "photos/a.jpg")},
		{Action: "s3:ListBucket", Resource: xacct.BucketARN(src.Bucket)},
		{Action: "s3:ListBucket", Resource: xacct.BucketARN(src.Bucket), Context: map[string][]string{"s3:prefix": {"private/"}}},
		{Action: "s3:GetObject", Resource: xacct.ObjectARN(src.Bucket, "photos/a.jpg"), Context: map[string][]string{"aws:SecureTransport": {"false"}}},
	}
	for _, req := range denied {
		d := eval(req, identity, bucketPolicies)
		assert.False(t, d.Allowed, "%s on %s %v: %s", req.Action, req.Resource, req.Context, d.Reason)
	}

	t.Run("delete only with WithDeleteAccess", func(t *testing.T) {
		withDelete := []xacct.Policy{xacct.CopyRolePolicy(src, dst, xacct.WithDeleteAccess())}
		d := eval(xacct.Request{Action: "s3:DeleteObject", Resource: xacct.ObjectARN(dst.Bucket, "in/a.jpg")}, withDelete, bucketPolicies)
		assert.True(t, d.Allowed, d.Reason)
	})

	t.Run("each identity statement is needed", func(t *testing.T) {
		for i, s := range identity[0].Statement {
			reduced := identity[0]
			reduced.Statement = append(append([]xacct.Statement{}, reduced.Statement[:i]...), reduced.Statement[i+1:]...)
			assert.True(t, anyDenied(copyRequests(src, dst), func(r xacct.Request) xacct.Decision {
				return eval(r, []xacct.Policy{reduced}, bucketPolicies)
			}), "statement %s is not needed", s.Sid)
		}
	})

	t.Run("each source bucket statement is needed", func(t *testing.T) {
		full := bucketPolicies[src.Bucket]
		for i, s := range full.Statement {
			if s.Effect == xacct.EffectDeny {
				continue
			}
			reduced := *full
			reduced.Statement = append(append([]xacct.Statement{}, full.Statement[:i]...), full.Statement[i+1:]...)
			assert.True(t, anyDenied(copyRequests(src, dst), func(r xacct.Request) xacct.Decision {
				return eval(r, identity, map[string]*xacct.Policy{src.Bucket: &reduced})
			}), "statement %s is not needed", s.Sid)
		}
	})

	t.Run("destination in a third account needs its bucket policy", func(t *testing.T) {
		accounts[dst.Bucket] = otherID
		defer func() { accounts[dst.Bucket] = dstAcct }()
		put := xacct.Request{Action: "s3:PutObject", Resource: xacct.ObjectARN(dst.Bucket, "in/a.jpg")}
		d := eval(put, identity, bucketPolicies)
		assert.False(t, d.Allowed)
		assert.Contains(t, d.Reason, "cross-account access needs both the identity policy and the bucket policy")
		withDst := map[string]*xacct.Policy{src.Bucket: bucketPolicies[src.Bucket], dst.Bucket: policyOf(xacct.DestinationBucketPolicy(dst, role).Statement...)}
		for _, req := range copyRequests(src, dst) {
			d := eval(req, identity, withDst)
			assert.True(t, d.Allowed, "%s on %s: %s", req.Action, req.Resource, d.Reason)
		}
	})
}

func anyDenied(reqs []xacct.Request, eval func(xacct.Request) xacct.Decision) bool {
	for _, r := range reqs {
		if !eval(r).Allowed {
			return true
		}
	}
	return false
}

// cutBucket returns the bucket and key of an S3 ARN.
func cutBucket(arn string) (bucket, key string, ok bool) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:s3:::")
	if !ok {
		return "", "", false
	}
	bucket, key, _ = strings.Cut(rest, "/")
	return bucket, key, true
}

func TestCopyTrustAndPoliciesEndToEnd(t *testing.T) {
	// The destination account's user assumes the copier role in the source
	// account, then reads the source and writes the destination.
	const role = "arn:aws:iam::111111111111:role/xacct-copier"
	trust := xacct.CopyRoleTrustPolicy(acctB, "ext")
	caller := xacct.PrincipalInfo{ARN: userB}
	callerPolicy := []xacct.Policy{xacct.NewPolicy(xacct.Statement{Sid: "AssumeCopier", Effect: xacct.EffectAllow, Action: xacct.StringList{"sts:AssumeRole"}, Resource: xacct.StringList{role}})}
	require.True(t, xacct.Evaluate(xacct.AssumeRoleRequest(caller, role, "ext"), callerPolicy, &trust).Allowed)
	require.False(t, xacct.Evaluate(xacct.AssumeRoleRequest(caller, role, ""), callerPolicy, &trust).Allowed)
	require.True(t, xacct.Lint(trust, xacct.PolicyKindTrust) == nil)
}

func BenchmarkEvaluate(b *testing.B) {
	src := xacct.Location{Bucket: "src-bucket", Prefix: "photos/"}
	dst := xacct.Location{Bucket: "dst-bucket", Prefix: "in/"}
	identity := []xacct.Policy{xacct.CopyRolePolicy(src, dst)}
	bucket := xacct.SourceBucketPolicy(src, "arn:aws:iam::222222222222:role/xacct-copier", xacct.WithSecureTransport())
	req := xacct.Request{
		Principal:       xacct.PrincipalInfo{ARN: "arn:aws:sts::222222222222:assumed-role/xacct-copier/sync"},
		Action:          "s3:GetObject",
		Resource:        "arn:aws:s3:::src-bucket/photos/2024/a.jpg",
		ResourceAccount: "111111111111",
		Context:         map[string][]string{"aws:SecureTransport": {"true"}},
	}
	for b.Loop() {
		if !xacct.Evaluate(req, identity, &bucket).Allowed {
			b.Fatal("denied")
		}
	}
}
