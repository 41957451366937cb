package xacct_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

func without(p xacct.Policy, sid string) xacct.Policy {
	out, _ := xacct.RemoveStatements(&p, sid)
	return *out
}

type wantFinding struct {
	side     xacct.Side
	action   string
	resource string // a prefix of the finding's resource
	fixes    []xacct.PolicyKind
	fixSid   string // a prefix of the identity fix's Sid
}

func TestPreflightNamesMissingPermissions(t *testing.T) {
	src := xacct.MustParseLocation("s3://a-media/")
	dst := xacct.MustParseLocation("s3://b-media/copy/")
	const sample = "clip.mp4"
	tests := []struct {
		name string
		// reader and writer are the identity policies of a user in
		// readerAccount and of a user in account B.
		reader        xacct.Policy
		readerAccount string
		writer        xacct.Policy
		// writerRole makes the writer a role session in account B,
		// assumed with the wrong external ID.
		writerRole bool
		opts       []xacct.CopierOption
		want       []wantFinding
	}{
		{
			name:   "no source ListBucket",
			reader: without(xacct.SourceReadPolicy(src), "XacctSourceList"), writer: xacct.DestinationWritePolicy(dst),
			want: []wantFinding{{xacct.SideSource, "s3:ListBucket", "arn:aws:s3:::a-media", []xacct.PolicyKind{xacct.PolicyKindIdentity}, "XacctSourceList"}},
		},
		{
			name:   "no source GetObject",
			reader: without(xacct.SourceReadPolicy(src), "XacctSourceRead"), writer: xacct.DestinationWritePolicy(dst),
			want: []wantFinding{{xacct.SideSource, "s3:GetObject", "arn:aws:s3:::a-media/" + sample, []xacct.PolicyKind{xacct.PolicyKindIdentity}, "XacctSourceRead"}},
		},
		{
			name:   "no destination PutObject",
			reader: xacct.SourceReadPolicy(src), writer: without(xacct.DestinationWritePolicy(dst), "XacctDestinationWrite"),
			want: []wantFinding{{xacct.SideDestination, "s3:PutObject", "arn:aws:s3:::b-media/copy/.xacct-preflight-", []xacct.PolicyKind{xacct.PolicyKindIdentity}, "XacctDestinationWrite"}},
		},
		{
			name:   "ACL refused by a BucketOwnerEnforced bucket",
			reader: xacct.SourceReadPolicy(src), writer: xacct.DestinationWritePolicy(dst),
			opts: []xacct.CopierOption{xacct.WithObjectACL(types.ObjectCannedACLAuthenticatedRead)},
			want: []wantFinding{{side: xacct.SideDestination, action: "s3:PutObjectAcl", resource: "arn:aws:s3:::b-media/copy/.xacct-preflight-"}},
		},
		{
			name:   "wrong external ID",
			reader: xacct.SourceReadPolicy(src), writer: xacct.DestinationWritePolicy(dst), writerRole: true,
			want: []wantFinding{{xacct.SideDestination, "sts:AssumeRole", "arn:aws:iam::" + sandbox.AccountB + ":role/writer", []xacct.PolicyKind{xacct.PolicyKindIdentity, xacct.PolicyKindTrust}, "XacctCallerAssumeRole"}},
		},
		{
			name:   "cross-account reader without a bucket policy",
			reader: xacct.SourceReadPolicy(src), readerAccount: sandbox.AccountB, writer: xacct.DestinationWritePolicy(dst),
			want: []wantFinding{{xacct.SideSource, "s3:ListBucket", "arn:aws:s3:::a-media", []xacct.PolicyKind{xacct.PolicyKindIdentity, xacct.PolicyKindBucket}, "XacctSourceList"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			sb, err := enforce.Start()
			require.NoError(t, err)
			t.Cleanup(sb.Close)
			ownerA, ownerB := sb.S3(sb.Root(sandbox.AccountA)), sb.S3(sb.Root(sandbox.AccountB))
			require.NoError(t, sb.CreateBucket(ctx, sb.Root(sandbox.AccountA), src.Bucket))
			require.NoError(t, sb.CreateBucket(ctx, sb.Root(sandbox.AccountB), dst.Bucket))
			_, err = ownerA.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(src.Bucket), Key: aws.String(sample), Body: strings.NewReader("frames")})
			require.NoError(t, err)

			acct := tt.readerAccount
			if acct == "" {
				acct = sandbox.AccountA
			}
			reader, err := sb.AddUser(acct, "reader", policyJSON(t, tt.reader))
			require.NoError(t, err)
			writer := mustUser(t, sb, sandbox.AccountB, "writer", tt.writer)
			writerCfg, writerCaller := sb.Config(writer), writer.ARN
			if tt.writerRole {
				roleARN := "arn:aws:iam::" + sandbox.AccountB + ":role/writer"
				deployer := mustUser(t, sb, sandbox.AccountB, "deployer", xacct.CallerAssumeRolePolicy(roleARN))
				_, err := sb.CreateRole(sandbox.AccountB, "writer", policyJSON(t, xacct.CopyRoleTrustPolicy(deployer.ARN, "right-id")),
					map[string]string{"write": policyJSON(t, tt.writer)})
				require.NoError(t, err)
				writerCfg, err = xacct.AssumeRoleConfig(sb.Config(deployer), roleARN, xacct.WithExternalID("wrong-id"))
				require.NoError(t, err)
				writerCaller = deployer.ARN
			}
			opts := append([]xacct.CopierOption{xacct.WithSourceAccount(sandbox.AccountA), xacct.WithDestinationAccount(sandbox.AccountB)}, tt.opts...)
			c, err := xacct.NewCopierFromConfigs(sb.Config(reader), writerCfg, opts...)
			require.NoError(t, err)

			rep, err := c.Preflight(ctx, src, dst)
			require.NoError(t, err)
			require.Len(t, rep.Findings, len(tt.want), "%v", rep.Err())
			for i, w := range tt.want {
				f := rep.Findings[i]
				assert.Equal(t, w.side, f.Side)
				assert.Equal(t, w.action, f.Action)
				assert.True(t, strings.HasPrefix(f.Resource, w.resource), "resource %s, want %s…", f.Resource, w.resource)
				require.NotNil(t, f.Err)
				var kinds []xacct.PolicyKind
				for _, fix := range f.Fixes {
					kinds = append(kinds, fix.Kind)
					if fix.Kind == xacct.PolicyKindTrust {
						// A suggested trust statement has a Sid of its
						// own: merging it keeps the role's statements.
						assert.True(t, strings.HasPrefix(fix.Statement.Sid, "XacctAssumeRolePreflight"), fix.Statement.Sid)
						continue
					}
					assert.True(t, strings.HasPrefix(fix.Statement.Sid, w.fixSid), "Sid %s, want %s…", fix.Statement.Sid, w.fixSid)
				}
				assert.Equal(t, w.fixes, kinds)
				if len(w.fixes) == 0 {
					assert.NotEmpty(t, f.Hint)
				}
			}
			err = rep.Err()
			require.ErrorIs(t, err, xacct.ErrAccessDenied)
			assert.Contains(t, err.Error(), tt.want[0].action)

			// The identity fix names the principal whose policy to change,
			// and a bucket fix grants that principal on that bucket.
			caller := reader.ARN
			if rep.Findings[0].Side == xacct.SideDestination {
				caller = writerCaller
			}
			for _, fix := range rep.Findings[0].Fixes {
				switch fix.Kind {
				case xacct.PolicyKindIdentity:
					assert.Equal(t, caller, fix.Target)
				case xacct.PolicyKindBucket:
					assert.Equal(t, src.Bucket, fix.Target)
					assert.Equal(t, xacct.AWSPrincipal(reader.ARN), fix.Statement.Principal)
				}
			}

			// A sync stops at the preflight: nothing is written.
			before := sb.Requests()
			srep, err := c.Sync(ctx, src, dst)
			require.ErrorIs(t, err, xacct.ErrAccessDenied)
			assert.Zero(t, srep.Copied)
			assert.Empty(t, readAll(t, ownerB, xacct.Location{Bucket: dst.Bucket}))
			assert.Empty(t, listUploads(t, ownerB, dst.Bucket), "probes leave no upload")
			after := sb.Requests()
			for _, op := range []string{"PutObject", "CopyObject", "UploadPart", "CompleteMultipartUpload"} {
				assert.Equal(t, before[op], after[op], "no byte moved: %s", op)
			}
		})
	}
}

func mustUser(t *testing.T, sb *sandbox.Sandbox, account, name string, p xacct.Policy) sandbox.Principal {
	t.Helper()
	u, err := sb.AddUser(account, name, policyJSON(t, p))
	require.NoError(t, err)
	return u
}

func TestPreflightAllowedChangesNothing(t *testing.T) {
	x := newTwoIdentities(t)
	_, err := x.ownerA.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(x.src.Bucket), Key: aws.String("a"), Body: bytes.NewReader([]byte("a"))})
	require.NoError(t, err)
	rep, err := x.copier(t).Preflight(t.Context(), x.src, x.dst)
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	assert.Equal(t, xacct.ModeStream, rep.Mode)
	assert.Equal(t, x.reader.ARN, rep.SourceIdentity.ARN)
	assert.Equal(t, x.writer.ARN, rep.DestinationIdentity.ARN)
	assert.Equal(t, "a", rep.SampleKey)
	assert.Equal(t, types.ObjectCannedACLBucketOwnerFullControl, rep.ACL, "ownership unreadable: the ACL every bucket accepts")
	var allowed []string
	for _, c := range rep.Checks {
		if c.Result == xacct.CheckAllowed {
			allowed = append(allowed, string(c.Side)+" "+c.Action)
		}
	}
	assert.Equal(t, []string{"source s3:ListBucket", "source s3:GetObject", "destination s3:ListBucket", "destination s3:PutObjectTagging", "destination s3:PutObject", "destination s3:AbortMultipartUpload", "source s3:GetObjectTagging"}, allowed)
	assert.Empty(t, rep.Warnings)
	assert.Empty(t, readAll(t, x.ownerB, xacct.Location{Bucket: x.dst.Bucket}))
	assert.Empty(t, listUploads(t, x.ownerB, x.dst.Bucket))

	// Server-side is asked for, but the writer cannot read the source.
	rep, err = x.copier(t, xacct.WithTransferMode(xacct.ModeServerSide)).Preflight(t.Context(), x.src, x.dst)
	require.NoError(t, err)
	require.Len(t, rep.Findings, 1)
	f := rep.Findings[0]
	assert.Equal(t, xacct.SideDestination, f.Side)
	assert.Equal(t, "s3:GetObject", f.Action)
	assert.Equal(t, "arn:aws:s3:::a-media/a", f.Resource)
	require.Len(t, f.Fixes, 2)
	assert.Equal(t, x.writer.ARN, f.Fixes[0].Target)
	assert.Equal(t, xacct.PolicyKindBucket, f.Fixes[1].Kind)
	assert.Equal(t, "a-media", f.Fixes[1].Target)
}

func TestPreflightWrongBucketOwner(t *testing.T) {
	x := newTwoIdentities(t)
	_, err := x.ownerA.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(x.src.Bucket), Key: aws.String("a"), Body: bytes.NewReader([]byte("a"))})
	require.NoError(t, err)
	c := x.copier(t, xacct.WithDestinationAccount("333333333333"))
	rep, err := c.Sync(t.Context(), x.src, x.dst)
	require.ErrorIs(t, err, xacct.ErrAccessDenied)
	assert.Zero(t, rep.Copied)
	require.NotEmpty(t, rep.Preflight.Findings)
	f := rep.Preflight.Findings[0]
	assert.Equal(t, xacct.SideDestination, f.Side)
	assert.Equal(t, "s3:ListBucket", f.Action)
	assert.Contains(t, f.Hint, "not owned by the declared account 333333333333")
}
