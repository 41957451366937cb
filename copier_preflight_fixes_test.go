package xacct_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// The fix statements a preflight suggests grant only what the checked
// copy uses: no tagging actions when it copies no tags, no s3:PutObjectAcl
// when the destination is known to be sent no ACL. Merged into the
// refused principal's policy, they are enough for the preflight and the
// sync to pass.
func TestPreflightFixesGrantOnlyWhatTheCopyUses(t *testing.T) {
	tests := []struct {
		name   string
		reader func(src xacct.Location) xacct.Policy
		writer func(dst xacct.Location) xacct.Policy
		opts   []xacct.CopierOption
		side   xacct.Side
		action string
		// acl is the ACL the preflight finds copies will send.
		acl  types.ObjectCannedACL
		want []string
	}{
		{
			name: "no tags copied, ownership unreadable",
			writer: func(dst xacct.Location) xacct.Policy {
				return without(xacct.DestinationWritePolicy(dst), "XacctDestinationWrite")
			},
			opts: []xacct.CopierOption{xacct.WithCopyProps(xacct.CopyPropsNone)},
			side: xacct.SideDestination, action: "s3:PutObject", acl: types.ObjectCannedACLBucketOwnerFullControl,
			want: []string{"s3:AbortMultipartUpload", "s3:PutObject", "s3:PutObjectAcl"},
		},
		{
			name: "tags copied, ownership unreadable",
			writer: func(dst xacct.Location) xacct.Policy {
				return without(xacct.DestinationWritePolicy(dst), "XacctDestinationWrite")
			},
			side: xacct.SideDestination, action: "s3:PutObject", acl: types.ObjectCannedACLBucketOwnerFullControl,
			want: []string{"s3:AbortMultipartUpload", "s3:PutObject", "s3:PutObjectAcl", "s3:PutObjectTagging"},
		},
		{
			name: "no tags copied, bucket enforces ownership",
			writer: func(dst xacct.Location) xacct.Policy {
				return without(xacct.DestinationWritePolicy(dst, xacct.WithoutACLAccess()), "XacctDestinationWrite")
			},
			opts: []xacct.CopierOption{xacct.WithCopyProps(xacct.CopyPropsNone)},
			side: xacct.SideDestination, action: "s3:PutObject",
			want: []string{"s3:AbortMultipartUpload", "s3:PutObject"},
		},
		{
			name: "tags copied, bucket enforces ownership",
			writer: func(dst xacct.Location) xacct.Policy {
				return without(xacct.DestinationWritePolicy(dst, xacct.WithoutACLAccess()), "XacctDestinationWrite")
			},
			side: xacct.SideDestination, action: "s3:PutObject",
			want: []string{"s3:AbortMultipartUpload", "s3:PutObject", "s3:PutObjectTagging"},
		},
		{
			name: "an ACL asked for into a bucket with ACLs enabled",
			writer: func(dst xacct.Location) xacct.Policy {
				return without(xacct.DestinationWritePolicy(dst, xacct.WithoutACLAccess()), "XacctDestinationWrite")
			},
			opts: []xacct.CopierOption{xacct.WithCopyProps(xacct.CopyPropsMetadataDirective), xacct.WithObjectACL(types.ObjectCannedACLBucketOwnerRead)},
			side: xacct.SideDestination, action: "s3:PutObject", acl: types.ObjectCannedACLBucketOwnerRead,
			want: []string{"s3:AbortMultipartUpload", "s3:PutObject", "s3:PutObjectAcl"},
		},
		{
			name:   "no tags copied, source read refused",
			reader: func(src xacct.Location) xacct.Policy { return without(xacct.SourceReadPolicy(src), "XacctSourceRead") },
			opts:   []xacct.CopierOption{xacct.WithCopyProps(xacct.CopyPropsMetadataDirective)},
			side:   xacct.SideSource, action: "s3:GetObject", acl: types.ObjectCannedACLBucketOwnerFullControl,
			want: []string{"s3:GetObject"},
		},
		{
			name:   "tags copied, source read refused",
			reader: func(src xacct.Location) xacct.Policy { return without(xacct.SourceReadPolicy(src), "XacctSourceRead") },
			side:   xacct.SideSource, action: "s3:GetObject", acl: types.ObjectCannedACLBucketOwnerFullControl,
			want: []string{"s3:GetObject", "s3:GetObjectTagging"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newTwoIdentities(t)
			ctx := t.Context()
			if tt.acl == types.ObjectCannedACLBucketOwnerRead {
				_, err := x.ownerB.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String(x.dst.Bucket),
					OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipObjectWriter}}}})
				require.NoError(t, err)
			}
			_, err := x.ownerA.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(x.src.Bucket), Key: aws.String("a.csv"),
				Body: strings.NewReader("a"), Tagging: aws.String(sourceTags)})
			require.NoError(t, err)
			readerPolicy, writerPolicy := xacct.SourceReadPolicy(x.src), xacct.DestinationWritePolicy(x.dst)
			if tt.reader != nil {
				readerPolicy = tt.reader(x.src)
			}
			if tt.writer != nil {
				writerPolicy = tt.writer(x.dst)
			}
			x.reader = mustUser(t, x.sb, sandbox.AccountA, "limited-reader", readerPolicy)
			x.writer = mustUser(t, x.sb, sandbox.AccountB, "limited-writer", writerPolicy)

			rep, err := x.copier(t, tt.opts...).Preflight(ctx, x.src, x.dst)
			require.NoError(t, err)
			assert.Equal(t, tt.acl, rep.ACL)
			require.Len(t, rep.Findings, 1, "%v", rep.Err())
			f := rep.Findings[0]
			assert.Equal(t, tt.side, f.Side)
			assert.Equal(t, tt.action, f.Action)
			require.Len(t, f.Fixes, 1, "the caller is unnamed and in the bucket's account: one identity statement")
			fix := f.Fixes[0]
			assert.Equal(t, xacct.PolicyKindIdentity, fix.Kind)
			assert.Equal(t, tt.want, []string(fix.Statement.Action))

			// The minimal statement is enough.
			refused, account, name := &readerPolicy, sandbox.AccountA, "fixed-reader"
			if tt.side == xacct.SideDestination {
				refused, account, name = &writerPolicy, sandbox.AccountB, "fixed-writer"
			}
			merged, changed, err := xacct.MergeStatements(refused, fix.Statement)
			require.NoError(t, err)
			require.True(t, changed)
			fixed := mustUser(t, x.sb, account, name, *merged)
			if tt.side == xacct.SideDestination {
				x.writer = fixed
			} else {
				x.reader = fixed
			}
			c := x.copier(t, tt.opts...)
			rep, err = c.Preflight(ctx, x.src, x.dst)
			require.NoError(t, err)
			require.NoError(t, rep.Err())
			assert.Empty(t, rep.Warnings)
			srep, err := c.Sync(ctx, x.src, x.dst)
			require.NoError(t, err)
			assert.EqualValues(t, 1, srep.Copied)
			assert.Zero(t, srep.Warned, "%v", srep.Warnings)
		})
	}
}

// When a copy client writes server-side, its write probes run after both
// sides were checked; the fixes still know that copies carry no tags and
// no ACL, for the identity policy and the destination bucket policy alike.
func TestPreflightCopyIdentityFixesGrantOnlyWhatTheCopyUses(t *testing.T) {
	x := newTwoIdentities(t)
	ctx := t.Context()
	_, err := x.ownerA.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(x.src.Bucket), Key: aws.String("a.csv"), Body: strings.NewReader("a"), Tagging: aws.String(sourceTags)})
	require.NoError(t, err)
	// The destination identity can read the ownership: no ACL is sent.
	x.writer = mustUser(t, x.sb, sandbox.AccountB, "owner-reader", xacct.DestinationWritePolicy(x.dst, xacct.WithoutACLAccess()))
	copierPolicy := without(xacct.CopyRolePolicy(x.src, x.dst, xacct.WithoutTagAccess()), "XacctDestinationWrite")
	cp := mustUser(t, x.sb, sandbox.AccountA, "copier", copierPolicy)
	cfg := x.sb.Config(cp)
	copyClient := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	opts := []xacct.CopierOption{xacct.WithCopyProps(xacct.CopyPropsNone), xacct.WithCopyClient(copyClient, sts.NewFromConfig(cfg))}

	rep, err := x.copier(t, opts...).Preflight(ctx, x.src, x.dst)
	require.NoError(t, err)
	assert.Equal(t, xacct.SideCopy, rep.Writer)
	assert.Empty(t, rep.ACL)
	require.Len(t, rep.Findings, 1, "%v", rep.Err())
	f := rep.Findings[0]
	assert.Equal(t, xacct.SideCopy, f.Side)
	assert.Equal(t, "s3:PutObject", f.Action)
	require.Len(t, f.Fixes, 2, "the copier is in another account than the destination bucket")
	assert.Equal(t, xacct.PolicyKindIdentity, f.Fixes[0].Kind)
	assert.Equal(t, cp.ARN, f.Fixes[0].Target)
	assert.Equal(t, xacct.PolicyKindBucket, f.Fixes[1].Kind)
	assert.Equal(t, x.dst.Bucket, f.Fixes[1].Target)
	for _, fix := range f.Fixes {
		assert.Equal(t, []string{"s3:AbortMultipartUpload", "s3:PutObject"}, []string(fix.Statement.Action), "%s", fix)
	}

	// Both statements merged, the copier copies server-side. The sandbox
	// cannot change a user's policies, so a new user takes the merged
	// identity policy, and the bucket statement names it.
	merged, _, err := xacct.MergeStatements(&copierPolicy, f.Fixes[0].Statement)
	require.NoError(t, err)
	cp = mustUser(t, x.sb, sandbox.AccountA, "fixed-copier", *merged)
	grant := f.Fixes[1].Statement
	require.Equal(t, xacct.AWSPrincipal("arn:aws:iam::"+sandbox.AccountA+":user/copier"), grant.Principal)
	grant.Principal = xacct.AWSPrincipal(cp.ARN)
	_, err = x.ownerB.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(x.dst.Bucket), Policy: aws.String(policyJSON(t, xacct.NewPolicy(grant)))})
	require.NoError(t, err)
	cfg = x.sb.Config(cp)
	copyClient = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	opts = []xacct.CopierOption{xacct.WithCopyProps(xacct.CopyPropsNone), xacct.WithCopyClient(copyClient, sts.NewFromConfig(cfg))}
	srep, err := x.copier(t, opts...).Sync(ctx, x.src, x.dst)
	require.NoError(t, err)
	assert.Equal(t, xacct.SideCopy, srep.Writer)
	assert.EqualValues(t, 1, srep.Copied)
	assert.Zero(t, srep.Warned, "%v", srep.Warnings)
}
