package xacct_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// copyRole adds to x a role in account B, assumed by a user of account B,
// with identity policy copy; account A's bucket policy admits it to read
// the source. It returns the role's configuration and ARN.
func copyRole(t *testing.T, x *twoIdentities, copy xacct.Policy) (aws.Config, string) {
	t.Helper()
	roleARN := "arn:aws:iam::" + sandbox.AccountB + ":role/copier"
	operator := mustUser(t, x.sb, sandbox.AccountB, "operator", xacct.CallerAssumeRolePolicy(roleARN))
	_, err := x.sb.CreateRole(sandbox.AccountB, "copier", policyJSON(t, xacct.CopyRoleTrustPolicy(operator.ARN, "")),
		map[string]string{"copy": policyJSON(t, copy)})
	require.NoError(t, err)
	_, err = x.ownerA.PutBucketPolicy(t.Context(), &s3.PutBucketPolicyInput{Bucket: aws.String(x.src.Bucket),
		Policy: aws.String(policyJSON(t, xacct.SourceBucketPolicy(x.src, roleARN)))})
	require.NoError(t, err)
	cfg, err := xacct.AssumeRoleConfig(x.sb.Config(operator), roleARN)
	require.NoError(t, err)
	return cfg, roleARN
}

// identities are the recorded clients of the three identities.
type identities struct {
	src, dst, cp *recorder
}

// threeCopier returns a Copier reading with x's reader and writing with
// x's writer through recorded clients and, when copyCfg is not nil, with
// a copy client acting as copyCfg.
func threeCopier(t *testing.T, x *twoIdentities, copyCfg *aws.Config, opts ...xacct.CopierOption) (*xacct.Copier, identities) {
	t.Helper()
	ids := identities{src: newRecorder(), dst: newRecorder(), cp: newRecorder()}
	base := []xacct.CopierOption{
		xacct.WithPartSize(5 * miB), xacct.WithMultipartThreshold(5 * miB), xacct.WithStreamUploadCutoff(5 * miB),
		xacct.WithSourceAccount(sandbox.AccountA), xacct.WithDestinationAccount(sandbox.AccountB),
		xacct.WithDestinationClient(ids.dst.client(x.sb.Config(x.writer))),
		xacct.WithIdentityClients(x.sb.STS(x.reader), x.sb.STS(x.writer)),
	}
	if copyCfg != nil {
		base = append(base, xacct.WithCopyClient(ids.cp.client(*copyCfg), sts.NewFromConfig(*copyCfg)))
	}
	c, err := xacct.NewCopier(ids.src.client(x.sb.Config(x.reader)), append(base, opts...)...)
	require.NoError(t, err)
	return c, ids
}

// A reader in A that cannot write B, a writer in B that cannot read A, and
// a copy role that can do both: the copies are server-side, every one of
// them the copy role's request, and equal to their sources byte for byte.
// Without the copy role the same sync streams.
func TestCopyIdentityCopiesServerSide(t *testing.T) {
	big := seededBytes(12*miB+123, 7) // three UploadPartCopy parts
	objects := map[string][]byte{"big.bin": big, "docs/readme.txt": []byte("hello"), "empty": nil}
	for _, tt := range []struct {
		name       string
		copyID     bool
		preflight  bool
		wantMode   xacct.TransferMode
		wantWriter xacct.Side
	}{
		{"copy identity", true, true, xacct.ModeServerSide, xacct.SideCopy},
		{"copy identity without preflight", true, false, xacct.ModeServerSide, xacct.SideCopy},
		{"without copy identity", false, true, xacct.ModeStream, xacct.SideDestination},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			x := newTwoIdentities(t)
			for k, v := range objects {
				_, err := x.ownerA.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(x.src.Bucket), Key: aws.String(k), Body: bytes.NewReader(v),
					Metadata: map[string]string{"origin": k}})
				require.NoError(t, err)
			}
			cfg, roleARN := copyRole(t, x, xacct.CopyRolePolicy(x.src, x.dst))
			var copyCfg *aws.Config
			if tt.copyID {
				copyCfg = &cfg
			}
			c, ids := threeCopier(t, x, copyCfg, xacct.WithPreflight(tt.preflight))
			before := x.sb.Requests()

			rep, err := c.Sync(ctx, x.src, x.dst)
			require.NoError(t, err)
			assert.Equal(t, tt.wantMode, rep.Mode)
			assert.Equal(t, tt.wantWriter, rep.Writer)
			assert.EqualValues(t, 3, rep.Copied)
			if tt.preflight {
				assert.Equal(t, tt.wantWriter, rep.Preflight.Writer)
				assert.Empty(t, rep.Preflight.Findings)
			}
			after := x.sb.Requests()
			for _, op := range []string{"PutObject", "UploadPart"} {
				if tt.copyID {
					assert.Equal(t, before[op], after[op], "nothing streamed: %s", op)
				} else {
					assert.Greater(t, after[op], before[op], "streamed: %s", op)
				}
			}

			if tt.copyID {
				assert.Equal(t, 2, ids.cp.count("CopyObject"), "readme and empty")
				assert.Equal(t, 3, ids.cp.count("UploadPartCopy"))
				assert.Equal(t, 1, ids.cp.count("CompleteMultipartUpload"))
				for _, op := range []string{"CopyObject", "UploadPartCopy", "CreateMultipartUpload", "CompleteMultipartUpload", "PutObject", "UploadPart"} {
					assert.Zero(t, ids.dst.count(op), "the destination identity writes nothing: %s", op)
					assert.Zero(t, ids.src.count(op), "the source identity writes nothing: %s", op)
				}
				assert.Zero(t, ids.cp.count("GetObject"), "no bytes pass through this process")
				// The source identity reads one byte, in the preflight, and
				// no more.
				wantGets := 0
				if tt.preflight {
					wantGets = 1
					assert.Equal(t, roleARN, policyPrincipalOf(rep.Preflight.CopyIdentity.ARN))
				}
				assert.Equal(t, wantGets, ids.src.count("GetObject"))
				assert.Positive(t, ids.dst.count("ListObjectsV2"), "the destination identity lists")
			} else {
				assert.Zero(t, ids.cp.count("CopyObject")+ids.dst.count("CopyObject"))
				assert.Positive(t, ids.dst.count("UploadPart"))
			}
			for k, v := range objects {
				got := getStored(t, x.ownerB, x.dst.Bucket, x.dst.Key(k))
				assert.True(t, bytes.Equal(v, got.body), "%s differs from its source", k)
				assert.Equal(t, map[string]string{"origin": k}, got.metadata, k)
			}
			assert.Empty(t, listUploads(t, x.ownerB, x.dst.Bucket))
		})
	}
}

// policyPrincipalOf turns an assumed-role session ARN into its role's ARN.
func policyPrincipalOf(arn string) string {
	rest, ok := strings.CutPrefix(arn, "arn:aws:sts::")
	if !ok {
		return arn
	}
	acct, res, _ := strings.Cut(rest, ":assumed-role/")
	role, _, _ := strings.Cut(res, "/")
	return "arn:aws:iam::" + acct + ":role/" + role
}

// A copy identity that cannot read the source leaves the sync to the
// others (here: streaming); one that can read but not write is chosen,
// and the preflight names it, not the destination identity, for the
// missing write.
func TestCopyIdentityPreflight(t *testing.T) {
	t.Run("cannot read: falls back", func(t *testing.T) {
		x := newTwoIdentities(t)
		_, err := x.ownerA.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(x.src.Bucket), Key: aws.String("a"), Body: strings.NewReader("a")})
		require.NoError(t, err)
		cfg, _ := copyRole(t, x, xacct.DestinationWritePolicy(x.dst))
		// The source bucket admits the role, but its own policy grants
		// no read.
		c, ids := threeCopier(t, x, &cfg)
		rep, err := c.Preflight(t.Context(), x.src, x.dst)
		require.NoError(t, err)
		require.NoError(t, rep.Err())
		assert.Equal(t, xacct.ModeStream, rep.Mode)
		assert.Equal(t, xacct.SideDestination, rep.Writer)
		var copyCheck *xacct.PreflightCheck
		for i := range rep.Checks {
			if rep.Checks[i].Side == xacct.SideCopy {
				copyCheck = &rep.Checks[i]
			}
		}
		require.NotNil(t, copyCheck)
		assert.Equal(t, xacct.CheckDenied, copyCheck.Result)
		assert.Equal(t, 1, ids.dst.count("CreateMultipartUpload"), "the destination identity's write is probed")
		assert.Zero(t, ids.cp.count("CreateMultipartUpload"))
	})
	t.Run("cannot write: named", func(t *testing.T) {
		x := newTwoIdentities(t)
		_, err := x.ownerA.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(x.src.Bucket), Key: aws.String("a"), Body: strings.NewReader("a")})
		require.NoError(t, err)
		cfg, roleARN := copyRole(t, x, xacct.SourceReadPolicy(x.src))
		c, ids := threeCopier(t, x, &cfg)
		rep, err := c.Preflight(t.Context(), x.src, x.dst)
		require.NoError(t, err)
		assert.Equal(t, xacct.ModeServerSide, rep.Mode)
		assert.Equal(t, xacct.SideCopy, rep.Writer)
		require.Len(t, rep.Findings, 1, "%v", rep.Err())
		f := rep.Findings[0]
		assert.Equal(t, xacct.SideCopy, f.Side)
		assert.Equal(t, "s3:PutObject", f.Action)
		assert.True(t, strings.HasPrefix(f.Resource, "arn:aws:s3:::b-media/copy/.xacct-preflight-"), f.Resource)
		require.NotEmpty(t, f.Fixes)
		assert.Equal(t, xacct.PolicyKindIdentity, f.Fixes[0].Kind)
		assert.Equal(t, roleARN, f.Fixes[0].Target, "the copy role's policy is the one to change")
		assert.Equal(t, "XacctDestinationWrite", f.Fixes[0].Statement.Sid)
		assert.Contains(t, f.Error(), "copy: s3:PutObject")
		assert.Zero(t, ids.dst.count("CreateMultipartUpload"), "the destination identity does not write")

		// A sync stops there.
		srep, err := c.Sync(t.Context(), x.src, x.dst)
		require.ErrorIs(t, err, xacct.ErrAccessDenied)
		assert.Zero(t, srep.Copied)
	})
}
