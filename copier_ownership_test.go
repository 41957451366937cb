package xacct_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

// recorder counts the requests of the S3 clients it builds, by operation,
// and keeps the x-amz-acl header each write sent, as it left the SDK.
type recorder struct {
	mu   sync.Mutex
	ops  map[string]int
	acls map[string][]string // operation -> x-amz-acl of each request ("" for none)
}

func newRecorder() *recorder {
	return &recorder{ops: map[string]int{}, acls: map[string][]string{}}
}

// writes are the operations that may carry an ACL.
var writes = map[string]bool{"PutObject": true, "CopyObject": true, "CreateMultipartUpload": true}

func (r *recorder) client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("record", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				op := awsmiddleware.GetOperationName(ctx)
				r.mu.Lock()
				r.ops[op]++
				if req, ok := in.Request.(*smithyhttp.Request); ok && writes[op] {
					r.acls[op] = append(r.acls[op], req.Header.Get("X-Amz-Acl"))
				}
				r.mu.Unlock()
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
		})
	})
}

func (r *recorder) count(op string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ops[op]
}

// sentACLs returns the distinct x-amz-acl values of every write, and how
// many writes there were.
func (r *recorder) sentACLs() (map[string]bool, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen, n := map[string]bool{}, 0
	for _, acls := range r.acls {
		for _, a := range acls {
			seen[a] = true
			n++
		}
	}
	return seen, n
}

// withoutActions returns p with actions taken out of the statement sid.
func withoutActions(p xacct.Policy, sid string, actions ...string) xacct.Policy {
	out := p
	out.Statement = slices.Clone(p.Statement)
	for i, s := range out.Statement {
		if s.Sid == sid {
			s.Action = slices.DeleteFunc(slices.Clone(s.Action), func(a string) bool { return slices.Contains(actions, a) })
			out.Statement[i] = s
		}
	}
	return out
}

// crossWriter is an enforcing sandbox with a source bucket in account A,
// a destination bucket in account B with the given object ownership, and
// a user of account A with identity policy writer, which B's bucket policy
// admits with the generated destination statements plus a read of the
// bucket's ownership controls.
type crossWriter struct {
	sb       *sandbox.Sandbox
	src, dst xacct.Location
	writer   sandbox.Principal
	ownerA   *s3.Client
	ownerB   *s3.Client
}

func newCrossWriter(t *testing.T, ownership types.ObjectOwnership, writer xacct.Policy) *crossWriter {
	t.Helper()
	ctx := t.Context()
	sb, err := enforce.Start()
	require.NoError(t, err)
	t.Cleanup(sb.Close)
	x := &crossWriter{
		sb:     sb,
		src:    xacct.MustParseLocation("s3://a-data/"),
		dst:    xacct.MustParseLocation("s3://b-inbox/from-a/"),
		ownerA: sb.S3(sb.Root(sandbox.AccountA)),
		ownerB: sb.S3(sb.Root(sandbox.AccountB)),
	}
	require.NoError(t, sb.CreateBucket(ctx, sb.Root(sandbox.AccountA), x.src.Bucket))
	require.NoError(t, sb.CreateBucket(ctx, sb.Root(sandbox.AccountB), x.dst.Bucket))
	_, err = x.ownerB.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
		Bucket:            aws.String(x.dst.Bucket),
		OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: ownership}}},
	})
	require.NoError(t, err)
	readOwnership := xacct.Statement{Sid: "ReadOwnership", Effect: xacct.EffectAllow, Action: xacct.StringList{"s3:GetBucketOwnershipControls"},
		Resource: xacct.StringList{xacct.BucketARN(x.dst.Bucket)}}
	writer.Statement = append(slices.Clone(writer.Statement), readOwnership)
	x.writer = mustUser(t, sb, sandbox.AccountA, "writer", writer)
	bucket := xacct.DestinationBucketPolicy(x.dst, x.writer.ARN)
	readOwnership.Principal = xacct.AWSPrincipal(x.writer.ARN)
	bucket.Statement = append(bucket.Statement, readOwnership)
	_, err = x.ownerB.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(x.dst.Bucket), Policy: aws.String(policyJSON(t, bucket))})
	require.NoError(t, err)
	return x
}

// The destination refuses the ACL because the writer's identity policy
// lacks s3:PutObjectAcl: the preflight names s3:PutObjectAcl, with the
// write statement that grants it, not s3:PutObject, and goes on probing.
func TestPreflightNamesMissingPutObjectAcl(t *testing.T) {
	for _, tt := range []struct {
		name     string
		missing  []string
		warnings []string
	}{
		{"acl", []string{"s3:PutObjectAcl"}, nil},
		{"acl and tags", []string{"s3:PutObjectAcl", "s3:PutObjectTagging"}, []string{"s3:PutObjectTagging"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			src := xacct.MustParseLocation("s3://a-data/")
			dst := xacct.MustParseLocation("s3://b-inbox/from-a/")
			x := newCrossWriter(t, types.ObjectOwnershipObjectWriter, withoutActions(xacct.CopyRolePolicy(src, dst), "XacctDestinationWrite", tt.missing...))
			_, err := x.ownerA.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(x.src.Bucket), Key: aws.String("r.csv"), Body: strings.NewReader("q1")})
			require.NoError(t, err)
			c, err := xacct.NewCopierFromConfig(x.sb.Config(x.writer), xacct.WithSourceAccount(sandbox.AccountA), xacct.WithDestinationAccount(sandbox.AccountB))
			require.NoError(t, err)

			rep, err := c.Preflight(ctx, x.src, x.dst)
			require.NoError(t, err)
			assert.Equal(t, types.ObjectOwnershipObjectWriter, rep.Ownership)
			assert.Equal(t, types.ObjectCannedACLBucketOwnerFullControl, rep.ACL)
			require.Len(t, rep.Findings, 1, "%v", rep.Err())
			f := rep.Findings[0]
			assert.Equal(t, xacct.SideDestination, f.Side)
			assert.Equal(t, "s3:PutObjectAcl", f.Action)
			assert.True(t, strings.HasPrefix(f.Resource, "arn:aws:s3:::b-inbox/from-a/.xacct-preflight-"), f.Resource)
			assert.Contains(t, f.Err.Error(), "AccessDenied")
			require.Len(t, f.Fixes, 2)
			assert.Equal(t, xacct.PolicyKindIdentity, f.Fixes[0].Kind)
			assert.Equal(t, x.writer.ARN, f.Fixes[0].Target)
			assert.Equal(t, xacct.PolicyKindBucket, f.Fixes[1].Kind)
			assert.Equal(t, "b-inbox", f.Fixes[1].Target)
			for _, fix := range f.Fixes {
				assert.Equal(t, "XacctDestinationWrite", fix.Statement.Sid)
				assert.Contains(t, fix.Statement.Action, "s3:PutObjectAcl", "the fix grants what is missing")
			}
			var warned []string
			for _, w := range rep.Warnings {
				warned = append(warned, w.Action)
			}
			assert.Equal(t, tt.warnings, warned)
			// The probe went on without the ACL.
			for _, action := range []string{"s3:PutObject", "s3:AbortMultipartUpload"} {
				ch := checkFor(rep, action)
				require.NotNil(t, ch, action)
				assert.Equal(t, xacct.CheckAllowed, ch.Result, action)
			}
			assert.Empty(t, listUploads(t, x.ownerB, x.dst.Bucket), "probes leave no upload")

			srep, err := c.Sync(ctx, x.src, x.dst)
			require.ErrorIs(t, err, xacct.ErrAccessDenied)
			assert.Zero(t, srep.Copied)

			// With the write statement whole, the same preflight finds
			// nothing.
			ok := newCrossWriter(t, types.ObjectOwnershipObjectWriter, xacct.CopyRolePolicy(src, dst))
			_, err = ok.ownerA.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(ok.src.Bucket), Key: aws.String("r.csv"), Body: strings.NewReader("q1")})
			require.NoError(t, err)
			c, err = xacct.NewCopierFromConfig(ok.sb.Config(ok.writer), xacct.WithSourceAccount(sandbox.AccountA), xacct.WithDestinationAccount(sandbox.AccountB))
			require.NoError(t, err)
			rep, err = c.Preflight(ctx, ok.src, ok.dst)
			require.NoError(t, err)
			assert.NoError(t, rep.Err())
		})
	}
}

// Writes into another account's bucket through the Copier, server-side
// and streamed, whole and in parts: where the bucket's ACLs are enabled
// (ObjectWriter) every write carries bucket-owner-full-control and the
// bucket's owner can read the copies; where ownership is
// BucketOwnerEnforced no write carries an ACL, and the owner can read
// them too.
func TestSyncIntoAnotherAccountsBucketOwnership(t *testing.T) {
	objects := map[string][]byte{"small.txt": []byte("q1,q2"), "big.bin": seededBytes(6*miB+5, 3)}
	for _, tt := range []struct {
		ownership types.ObjectOwnership
		mode      xacct.TransferMode
		wantACL   string
	}{
		{types.ObjectOwnershipObjectWriter, xacct.ModeServerSide, "bucket-owner-full-control"},
		{types.ObjectOwnershipObjectWriter, xacct.ModeStream, "bucket-owner-full-control"},
		{types.ObjectOwnershipBucketOwnerEnforced, xacct.ModeServerSide, ""},
		{types.ObjectOwnershipBucketOwnerEnforced, xacct.ModeStream, ""},
	} {
		t.Run(string(tt.ownership)+" "+tt.mode.String(), func(t *testing.T) {
			ctx := t.Context()
			src := xacct.MustParseLocation("s3://a-data/")
			dst := xacct.MustParseLocation("s3://b-inbox/from-a/")
			x := newCrossWriter(t, tt.ownership, xacct.CopyRolePolicy(src, dst))
			for k, v := range objects {
				_, err := x.ownerA.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(x.src.Bucket), Key: aws.String(k), Body: bytes.NewReader(v)})
				require.NoError(t, err)
			}
			rec := newRecorder()
			c, err := xacct.NewCopier(rec.client(x.sb.Config(x.writer)),
				xacct.WithTransferMode(tt.mode), xacct.WithIdentityClients(x.sb.STS(x.writer), x.sb.STS(x.writer)),
				xacct.WithPartSize(5*miB), xacct.WithMultipartThreshold(5*miB), xacct.WithStreamUploadCutoff(5*miB),
				xacct.WithSourceAccount(sandbox.AccountA), xacct.WithDestinationAccount(sandbox.AccountB))
			require.NoError(t, err)

			rep, err := c.Sync(ctx, x.src, x.dst)
			require.NoError(t, err)
			assert.Equal(t, tt.mode, rep.Mode)
			assert.EqualValues(t, len(objects), rep.Copied)
			assert.Equal(t, tt.ownership, rep.Preflight.Ownership)
			assert.Equal(t, types.ObjectCannedACL(tt.wantACL), rep.Preflight.ACL)

			acls, writes := rec.sentACLs()
			assert.Equal(t, map[string]bool{tt.wantACL: true}, acls, "x-amz-acl of every write")
			// The preflight's probe, then one write per object: a whole
			// one for the small object, a multipart upload for the big one.
			assert.Equal(t, 1+len(objects), writes)
			if tt.mode == xacct.ModeServerSide {
				assert.Equal(t, 1, rec.count("CopyObject"))
				assert.Positive(t, rec.count("UploadPartCopy"))
			} else {
				assert.Equal(t, 1, rec.count("PutObject"))
				assert.Positive(t, rec.count("UploadPart"))
			}

			for k, v := range objects {
				got := getStored(t, x.ownerB, x.dst.Bucket, x.dst.Key(k))
				assert.True(t, bytes.Equal(v, got.body), "%s: the bucket owner reads the copy's bytes", k)
			}
		})
	}
}
