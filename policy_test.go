package xacct_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
)

func TestStringListJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want xacct.StringList
		out  string
	}{
		{"single string", `"s3:GetObject"`, xacct.StringList{"s3:GetObject"}, `"s3:GetObject"`},
		{"array of one", `["s3:GetObject"]`, xacct.StringList{"s3:GetObject"}, `"s3:GetObject"`},
		{"array", `["a:b","c:d"]`, xacct.StringList{"a:b", "c:d"}, `["a:b","c:d"]`},
		{"empty array", `[]`, xacct.StringList{}, `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got xacct.StringList
			require.NoError(t, json.Unmarshal([]byte(tt.in), &got))
			assert.Equal(t, tt.want, got)
			out, err := json.Marshal(got)
			require.NoError(t, err)
			assert.JSONEq(t, tt.out, string(out))
			assert.Equal(t, tt.out, string(out))
		})
	}
	var l xacct.StringList
	require.Error(t, json.Unmarshal([]byte(`5`), &l))
	require.Error(t, json.Unmarshal([]byte(`[true]`), &l))
}

func TestPrincipalJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want xacct.Principal
		out  string
	}{
		{"wildcard", `"*"`, xacct.Principal{Wildcard: true}, `"*"`},
		{"aws string", `{"AWS":"arn:aws:iam::111122223333:root"}`, xacct.Principal{AWS: xacct.StringList{"arn:aws:iam::111122223333:root"}}, `{"AWS":"arn:aws:iam::111122223333:root"}`},
		{"types sorted", `{"Service":["s3.amazonaws.com"],"AWS":["111122223333","*"]}`,
			xacct.Principal{AWS: xacct.StringList{"111122223333", "*"}, Service: xacct.StringList{"s3.amazonaws.com"}},
			`{"AWS":["111122223333","*"],"Service":"s3.amazonaws.com"}`},
		{"all types", `{"CanonicalUser":"c","Federated":"f","AWS":"a","Service":"s"}`,
			xacct.Principal{AWS: xacct.StringList{"a"}, CanonicalUser: xacct.StringList{"c"}, Federated: xacct.StringList{"f"}, Service: xacct.StringList{"s"}},
			`{"AWS":"a","CanonicalUser":"c","Federated":"f","Service":"s"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got xacct.Principal
			require.NoError(t, json.Unmarshal([]byte(tt.in), &got))
			assert.Equal(t, tt.want, got)
			out, err := json.Marshal(got)
			require.NoError(t, err)
			assert.Equal(t, tt.out, string(out))
		})
	}
	for _, bad := range []string{`"arn:aws:iam::111122223333:root"`, `{"aws":"x"}`, `{"User":"x"}`, `5`, `{"AWS":5}`} {
		var p xacct.Principal
		assert.Error(t, json.Unmarshal([]byte(bad), &p), bad)
	}
}

func TestAWSPrincipalWritesAccountIDsAsRootARNs(t *testing.T) {
	p := xacct.AWSPrincipal("111122223333", "arn:aws:iam::444455556666:role/r")
	assert.Equal(t, xacct.StringList{"arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:role/r"}, p.AWS)
}

func TestParsePolicyNormalisesAndRoundTrips(t *testing.T) {
	in := `{
	  "Version": "2012-10-17",
	  "Id": "doc",
	  "Statement": {
	    "Effect": "Deny",
	    "Principal": "*",
	    "Action": "s3:*",
	    "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
	    "Condition": {
	      "Bool": {"aws:SecureTransport": false},
	      "NumericLessThan": {"s3:TlsVersion": [1.2]},
	      "StringEquals": {"s3:x-amz-acl": ["bucket-owner-full-control"], "aws:PrincipalAccount": ["111122223333", "444455556666"]}
	    }
	  }
	}`
	p, err := xacct.ParsePolicy([]byte(in))
	require.NoError(t, err)
	require.Len(t, p.Statement, 1)
	s := p.Statement[0]
	assert.True(t, s.Principal.Wildcard)
	assert.Equal(t, xacct.StringList{"false"}, s.Condition["Bool"]["aws:SecureTransport"])
	assert.Equal(t, xacct.StringList{"1.2"}, s.Condition["NumericLessThan"]["s3:TlsVersion"])

	got, err := p.JSON()
	require.NoError(t, err)
	want := `{
  "Version": "2012-10-17",
  "Id": "doc",
  "Statement": [
    {
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:*",
      "Resource": [
        "arn:aws:s3:::b",
        "arn:aws:s3:::b/*"
      ],
      "Condition": {
        "Bool": {
          "aws:SecureTransport": "false"
        },
        "NumericLessThan": {
          "s3:TlsVersion": "1.2"
        },
        "StringEquals": {
          "aws:PrincipalAccount": [
            "111122223333",
            "444455556666"
          ],
          "s3:x-amz-acl": "bucket-owner-full-control"
        }
      }
    }
  ]
}`
	assert.Equal(t, want, string(got))
	assert.Equal(t, want, p.String())

	again, err := xacct.ParsePolicy(got)
	require.NoError(t, err)
	assert.Equal(t, p, again)
}

func TestPolicyJSONIsDeterministic(t *testing.T) {
	p := xacct.NewPolicy(xacct.Statement{
		Sid:      "B",
		Effect:   xacct.EffectAllow,
		Action:   xacct.StringList{"s3:GetObject"},
		Resource: xacct.StringList{"arn:aws:s3:::b/*"},
		Condition: xacct.Conditions{
			"StringLike":   {"s3:prefix": {"a*"}, "aws:userid": {"x"}},
			"StringEquals": {"b": {"1"}, "a": {"2"}},
		},
	}, xacct.Statement{Sid: "A", Effect: xacct.EffectDeny, NotAction: xacct.StringList{"s3:*"}, NotResource: xacct.StringList{"arn:aws:s3:::b"}})
	first, err := p.JSON()
	require.NoError(t, err)
	for range 20 {
		again, err := p.JSON()
		require.NoError(t, err)
		require.Equal(t, string(first), string(again))
	}
	compact, err := json.Marshal(p)
	require.NoError(t, err)
	assert.Equal(t, `{"Version":"2012-10-17","Statement":[`+
		`{"Sid":"B","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"a":"2","b":"1"},"StringLike":{"aws:userid":"x","s3:prefix":"a*"}}},`+
		`{"Sid":"A","Effect":"Deny","NotAction":"s3:*","NotResource":"arn:aws:s3:::b"}]}`, string(compact))
}

func TestParsePolicyErrors(t *testing.T) {
	const ok = `"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"`
	tests := []struct {
		name  string
		in    string
		field string
		value string
		rule  string
	}{
		{"effect", `{"Version":"2012-10-17","Statement":[{` + ok + `},{` + ok + `},{"Effect":"Permit","Action":"s3:GetObject","Resource":"*"}]}`,
			"Statement[2].Effect", "Permit", "must be Allow or Deny"},
		{"no action", `{"Statement":[{"Effect":"Allow","Resource":"*"}]}`, "Statement[0].Action", "", "one of Action and NotAction is required"},
		{"action and not action", `{"Statement":[{` + ok + `,"NotAction":"s3:PutObject"}]}`, "Statement[0].NotAction", "s3:PutObject", "must not be set together with Action"},
		{"version", `{"Version":"2024-01-01","Statement":[{` + ok + `}]}`, "Version", "2024-01-01", "must be 2012-10-17 or 2008-10-17"},
		{"principal and not principal", `{"Statement":[{` + ok + `,"Principal":"*","NotPrincipal":{"AWS":"111122223333"}}]}`, "Statement[0].NotPrincipal", "", "must not be set together with Principal"},
		{"resource and not resource", `{"Statement":[{` + ok + `,"NotResource":"arn:aws:s3:::c"}]}`, "Statement[0].NotResource", "arn:aws:s3:::c", "must not be set together with Resource"},
		{"bad action", `{"Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}`, "Statement[0].Action", "GetObject", `must be "*" or service:action, such as s3:GetObject`},
		{"bad resource", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"bucket/*"}]}`, "Statement[0].Resource", "bucket/*", `must be "*" or an ARN`},
		{"duplicate sid", `{"Statement":[{"Sid":"A",` + ok + `},{"Sid":"A",` + ok + `}]}`, "Statement[1].Sid", "A", "must be unique; Statement[0] has the same Sid"},
		{"unknown operator", `{"Statement":[{` + ok + `,"Condition":{"StringEqual":{"k":"v"}}}]}`, "Statement[0].Condition", "StringEqual", "unknown condition operator"},
		{"no statements", `{"Version":"2012-10-17","Statement":[]}`, "Statement", "", "must hold at least one statement"},
		{"effect not string", `{"Statement":[{"Effect":1}]}`, "Statement[0].Effect", "1", "must be a string"},
		{"action type", `{"Statement":[{"Effect":"Allow","Action":{"a":1}}]}`, "Statement[0].Action", `{"a":1}`, "must be a string or an array of strings"},
		{"condition value type", `{"Statement":[{` + ok + `,"Condition":{"StringEquals":{"k":{"x":1}}}}]}`, "Statement[0].Condition.StringEquals.k", `{"x":1}`, "must be a string, boolean or number, or an array of them"},
		{"principal string", `{"Statement":[{` + ok + `,"Principal":"111122223333"}]}`, "Statement[0].Principal", "111122223333", `must be "*" or an object such as {"AWS": "arn:aws:iam::111122223333:root"}`},
		{"unknown element", `{"Statement":[{` + ok + `,"Actions":"s3:GetObject"}]}`, "Statement[0].Actions", "", "unknown element (names are case sensitive): expected one of Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource, Condition"},
		{"lower case element", `{"version":"2012-10-17","Statement":[{` + ok + `}]}`, "version", "", "unknown element (names are case sensitive): expected one of Version, Id, Statement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := xacct.ParsePolicy([]byte(tt.in))
			require.Error(t, err)
			assert.Nil(t, p)
			assert.ErrorIs(t, err, xacct.ErrInvalidPolicy)
			var ve *xacct.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
			assert.Equal(t, tt.value, ve.Value)
			assert.Equal(t, tt.rule, ve.Rule)
		})
	}
}

func TestParsePolicyRejectsMalformedJSON(t *testing.T) {
	for _, in := range []string{``, `{`, `[]`, `null`, `"x"`, `{"Statement":[{"Effect":"Allow"}]} x`} {
		_, err := xacct.ParsePolicy([]byte(in))
		assert.ErrorIs(t, err, xacct.ErrInvalidPolicy, in)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	p := xacct.Policy{Version: "1", Statement: []xacct.Statement{{Effect: "allow"}}}
	err := p.Validate()
	require.Error(t, err)
	var fields []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ve *xacct.ValidationError
		require.True(t, errors.As(e, &ve))
		fields = append(fields, ve.Field)
	}
	assert.Equal(t, []string{"Version", "Statement[0].Effect", "Statement[0].Action"}, fields)
}

func TestMergeStatements(t *testing.T) {
	stmt := func(sid, action string) xacct.Statement {
		return xacct.Statement{Sid: sid, Effect: xacct.EffectAllow, Principal: xacct.AWSPrincipal("111122223333"), Action: xacct.StringList{action}, Resource: xacct.StringList{"arn:aws:s3:::b/*"}}
	}
	existing := &xacct.Policy{Version: xacct.PolicyVersion2012, ID: "keep", Statement: []xacct.Statement{
		stmt("Theirs", "s3:GetObject"),
		stmt("XacctSourceRead", "s3:GetObject"),
		{Effect: xacct.EffectDeny, Principal: xacct.AnyPrincipal(), Action: xacct.StringList{"s3:DeleteBucket"}, Resource: xacct.StringList{"arn:aws:s3:::b"}},
	}}
	before := existing.String()

	merged, changed, err := xacct.MergeStatements(existing, stmt("XacctSourceRead", "s3:GetObjectTagging"), stmt("XacctSourceList", "s3:ListBucket"))
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, before, existing.String(), "existing must not be modified")
	assert.Equal(t, "keep", merged.ID)
	require.Len(t, merged.Statement, 4)
	assert.Equal(t, existing.Statement[0], merged.Statement[0], "kept")
	assert.Equal(t, stmt("XacctSourceRead", "s3:GetObjectTagging"), merged.Statement[1], "replaced in place")
	assert.Equal(t, existing.Statement[2], merged.Statement[2], "kept")
	assert.Equal(t, stmt("XacctSourceList", "s3:ListBucket"), merged.Statement[3], "appended")

	again, changed, err := xacct.MergeStatements(merged, stmt("XacctSourceRead", "s3:GetObjectTagging"), stmt("XacctSourceList", "s3:ListBucket"))
	require.NoError(t, err)
	assert.False(t, changed, "merging the same statements again is a no-op")
	assert.Equal(t, merged.String(), again.String())
}

func TestMergeStatementsNilAndDuplicates(t *testing.T) {
	s := xacct.Statement{Sid: "A", Effect: xacct.EffectAllow, Action: xacct.StringList{"s3:GetObject"}, Resource: xacct.StringList{"*"}}
	p, changed, err := xacct.MergeStatements(nil, s)
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, xacct.PolicyVersion2012, p.Version)
	assert.Equal(t, []xacct.Statement{s}, p.Statement)

	dup := &xacct.Policy{Statement: []xacct.Statement{s, {Sid: "B", Effect: xacct.EffectAllow}, s}}
	p, changed, err = xacct.MergeStatements(dup, s)
	require.NoError(t, err)
	assert.True(t, changed, "the stale duplicate is dropped")
	require.Len(t, p.Statement, 2)
	assert.Equal(t, "A", p.Statement[0].Sid)
	assert.Equal(t, "B", p.Statement[1].Sid)

	_, _, err = xacct.MergeStatements(nil, xacct.Statement{Effect: xacct.EffectAllow})
	var ve *xacct.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "add[0].Sid", ve.Field)
	assert.ErrorIs(t, err, xacct.ErrInvalidPolicy)

	_, _, err = xacct.MergeStatements(nil, s, s)
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "add[1].Sid", ve.Field)
}

func TestRemoveStatements(t *testing.T) {
	p := xacct.DestinationBucketPolicy(xacct.Location{Bucket: "dst", Prefix: "in/"}, "111122223333", xacct.WithDeleteAccess())
	require.Len(t, p.Statement, 3)
	out, changed := xacct.RemoveStatements(&p, "XacctDestinationDelete")
	assert.True(t, changed)
	assert.Len(t, out.Statement, 2)
	assert.Len(t, p.Statement, 3, "input must not be modified")
	_, changed = xacct.RemoveStatements(out, "XacctDestinationDelete")
	assert.False(t, changed)
}

func TestBuildersJSON(t *testing.T) {
	src := xacct.Location{Bucket: "src-bucket", Prefix: "photos/"}
	dst := xacct.Location{Bucket: "dst-bucket"}
	tests := []struct {
		name string
		got  xacct.Policy
		want string
	}{
		{"trust with external id", xacct.CopyRoleTrustPolicy("111122223333", "ext-1"), `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"XacctAssumeRole","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ext-1"}}}]}`},
		{"trust of a role without external id", xacct.CopyRoleTrustPolicy("arn:aws:iam::111122223333:role/copier", ""), `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"XacctAssumeRole","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/copier"},"Action":"sts:AssumeRole"}]}`},
		{"source read", xacct.SourceReadPolicy(src), `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"XacctSourceList","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::src-bucket","Condition":{"StringLike":{"s3:prefix":"photos/*"}}},` +
			`{"Sid":"XacctSourceRead","Effect":"Allow","Action":["s3:GetObject","s3:GetObjectTagging"],"Resource":"arn:aws:s3:::src-bucket/photos/*"}]}`},
		{"destination write, whole bucket, delete", xacct.DestinationWritePolicy(dst, xacct.WithDeleteAccess()), `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"XacctDestinationList","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::dst-bucket"},` +
			`{"Sid":"XacctDestinationWrite","Effect":"Allow","Action":["s3:AbortMultipartUpload","s3:PutObject","s3:PutObjectAcl","s3:PutObjectTagging"],"Resource":"arn:aws:s3:::dst-bucket/*"},` +
			`{"Sid":"XacctDestinationDelete","Effect":"Allow","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::dst-bucket/*"}]}`},
		{"destination write, prefix without slash is a folder", xacct.DestinationWritePolicy(xacct.Location{Bucket: "bkt", Prefix: "from-a"}), `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"XacctDestinationList","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::bkt","Condition":{"StringLike":{"s3:prefix":"from-a/*"}}},` +
			`{"Sid":"XacctDestinationWrite","Effect":"Allow","Action":["s3:AbortMultipartUpload","s3:PutObject","s3:PutObjectAcl","s3:PutObjectTagging"],"Resource":"arn:aws:s3:::bkt/from-a/*"}]}`},
		{"source bucket with TLS", xacct.SourceBucketPolicy(xacct.Location{Bucket: "src-bucket", Prefix: "a*b"}, "arn:aws:iam::444455556666:role/copier", xacct.WithSecureTransport()), `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"XacctSourceList","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/copier"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::src-bucket","Condition":{"StringLike":{"s3:prefix":"a${*}b/*"}}},` +
			`{"Sid":"XacctSourceRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/copier"},"Action":["s3:GetObject","s3:GetObjectTagging"],"Resource":"arn:aws:s3:::src-bucket/a${*}b/*"},` +
			`{"Sid":"XacctSourceDenyInsecureTransport","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::444455556666:role/copier"},"Action":"s3:*","Resource":["arn:aws:s3:::src-bucket","arn:aws:s3:::src-bucket/a${*}b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`},
		{"source read without tags", xacct.SourceReadPolicy(src, xacct.WithoutTagAccess()), `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"XacctSourceList","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::src-bucket","Condition":{"StringLike":{"s3:prefix":"photos/*"}}},` +
			`{"Sid":"XacctSourceRead","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::src-bucket/photos/*"}]}`},
		{"source read, ACL option does not apply", xacct.SourceReadPolicy(src, xacct.WithoutACLAccess()), `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"XacctSourceList","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::src-bucket","Condition":{"StringLike":{"s3:prefix":"photos/*"}}},` +
			`{"Sid":"XacctSourceRead","Effect":"Allow","Action":["s3:GetObject","s3:GetObjectTagging"],"Resource":"arn:aws:s3:::src-bucket/photos/*"}]}`},
		{"destination write without tags", xacct.DestinationWritePolicy(dst, xacct.WithoutTagAccess()), `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"XacctDestinationList","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::dst-bucket"},` +
			`{"Sid":"XacctDestinationWrite","Effect":"Allow","Action":["s3:AbortMultipartUpload","s3:PutObject","s3:PutObjectAcl"],"Resource":"arn:aws:s3:::dst-bucket/*"}]}`},
		{"destination write without ACL", xacct.DestinationWritePolicy(dst, xacct.WithoutACLAccess()), `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"XacctDestinationList","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::dst-bucket"},` +
			`{"Sid":"XacctDestinationWrite","Effect":"Allow","Action":["s3:AbortMultipartUpload","s3:PutObject","s3:PutObjectTagging"],"Resource":"arn:aws:s3:::dst-bucket/*"},` +
			`{"Sid":"XacctDestinationOwnership","Effect":"Allow","Action":"s3:GetBucketOwnershipControls","Resource":"arn:aws:s3:::dst-bucket"}]}`},
		{"copy role, least privilege, delete", xacct.CopyRolePolicy(src, xacct.Location{Bucket: "dst-bucket", Prefix: "in"}, xacct.WithoutTagAccess(), xacct.WithoutACLAccess(), xacct.WithDeleteAccess()), `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"XacctSourceList","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::src-bucket","Condition":{"StringLike":{"s3:prefix":"photos/*"}}},` +
			`{"Sid":"XacctSourceRead","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::src-bucket/photos/*"},` +
			`{"Sid":"XacctDestinationList","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::dst-bucket","Condition":{"StringLike":{"s3:prefix":"in/*"}}},` +
			`{"Sid":"XacctDestinationWrite","Effect":"Allow","Action":["s3:AbortMultipartUpload","s3:PutObject"],"Resource":"arn:aws:s3:::dst-bucket/in/*"},` +
			`{"Sid":"XacctDestinationOwnership","Effect":"Allow","Action":"s3:GetBucketOwnershipControls","Resource":"arn:aws:s3:::dst-bucket"},` +
			`{"Sid":"XacctDestinationDelete","Effect":"Allow","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::dst-bucket/in/*"}]}`},
		{"source bucket without tags", xacct.SourceBucketPolicy(src, "444455556666", xacct.WithoutTagAccess()), `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"XacctSourceList","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::src-bucket","Condition":{"StringLike":{"s3:prefix":"photos/*"}}},` +
			`{"Sid":"XacctSourceRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::src-bucket/photos/*"}]}`},
		{"destination bucket without tags or ACL, TLS", xacct.DestinationBucketPolicy(dst, "arn:aws:iam::444455556666:role/copier", xacct.WithoutTagAccess(), xacct.WithoutACLAccess(), xacct.WithSecureTransport()), `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"XacctDestinationList","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/copier"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::dst-bucket"},` +
			`{"Sid":"XacctDestinationWrite","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/copier"},"Action":["s3:AbortMultipartUpload","s3:PutObject"],"Resource":"arn:aws:s3:::dst-bucket/*"},` +
			`{"Sid":"XacctDestinationOwnership","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/copier"},"Action":"s3:GetBucketOwnershipControls","Resource":"arn:aws:s3:::dst-bucket"},` +
			`{"Sid":"XacctDestinationDenyInsecureTransport","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::444455556666:role/copier"},"Action":"s3:*","Resource":["arn:aws:s3:::dst-bucket","arn:aws:s3:::dst-bucket/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, tt.got.Validate())
			got, err := json.Marshal(tt.got)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}

func TestCopyRolePolicyComposesReadAndWrite(t *testing.T) {
	src := xacct.Location{Bucket: "src-bucket"}
	dst := xacct.Location{Bucket: "dst-bucket", Prefix: "in/"}
	p := xacct.CopyRolePolicy(src, dst)
	want := append(xacct.SourceReadPolicy(src).Statement, xacct.DestinationWritePolicy(dst).Statement...)
	assert.Equal(t, want, p.Statement)
	require.NoError(t, p.Validate())
}

// TestCopyBuildersScopeToSyncFolder checks, with the evaluator, that a
// location whose prefix lacks the trailing "/" grants exactly what Sync
// touches: the folder's listing and objects, and nothing in a sibling
// folder that merely shares the prefix.
func TestCopyBuildersScopeToSyncFolder(t *testing.T) {
	loc := xacct.Location{Bucket: "bkt", Prefix: "from-a"}
	caller := xacct.PrincipalInfo{ARN: "arn:aws:iam::111122223333:user/copier"}
	role := "arn:aws:iam::444455556666:role/copier"
	tests := []struct {
		name   string
		action string
		res    string
		prefix string
		want   bool
	}{
		{"list the folder as Sync does", "s3:ListBucket", "arn:aws:s3:::bkt", "from-a/", true},
		{"list a subfolder", "s3:ListBucket", "arn:aws:s3:::bkt", "from-a/sub/", true},
		{"list the bare prefix", "s3:ListBucket", "arn:aws:s3:::bkt", "from-a", false},
		{"list a sibling", "s3:ListBucket", "arn:aws:s3:::bkt", "from-ab/", false},
		{"write in the folder", "s3:PutObject", "arn:aws:s3:::bkt/from-a/x.csv", "", true},
		{"write in a sibling", "s3:PutObject", "arn:aws:s3:::bkt/from-ab/x.csv", "", false},
		{"write the bare prefix key", "s3:PutObject", "arn:aws:s3:::bkt/from-a", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := xacct.Request{Principal: caller, Action: tt.action, Resource: tt.res, ResourceAccount: "111122223333"}
			if tt.prefix != "" {
				req.Context = map[string][]string{"s3:prefix": {tt.prefix}}
			}
			d := xacct.Evaluate(req, []xacct.Policy{xacct.DestinationWritePolicy(loc)}, nil)
			assert.Equal(t, tt.want, d.Allowed, "identity policy: %s", d.Reason)

			bucket := xacct.DestinationBucketPolicy(loc, caller.ARN)
			d = xacct.Evaluate(req, nil, &bucket)
			assert.Equal(t, tt.want, d.Allowed, "bucket policy: %s", d.Reason)
		})
	}
	assert.Equal(t, xacct.SourceBucketPolicy(xacct.Location{Bucket: "bkt", Prefix: "from-a/"}, role, xacct.WithSecureTransport()),
		xacct.SourceBucketPolicy(loc, role, xacct.WithSecureTransport()), "from-a and from-a/ are the same grant")
	assert.Equal(t, xacct.CopyRolePolicy(xacct.Location{Bucket: "bkt", Prefix: "from-a/"}, xacct.Location{Bucket: "dst", Prefix: "in/"}, xacct.WithDeleteAccess()),
		xacct.CopyRolePolicy(loc, xacct.Location{Bucket: "dst", Prefix: "in"}, xacct.WithDeleteAccess()))
}
