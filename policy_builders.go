package xacct

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// Actions the copy builders grant, kept to what a copy uses: ListObjectsV2
// needs s3:ListBucket; GetObject and HeadObject need s3:GetObject; copying
// tags needs s3:GetObjectTagging on the source and s3:PutObjectTagging on
// the destination (WithoutTagAccess leaves both out); CopyObject and
// multipart uploads need s3:PutObject; setting bucket-owner-full-control
// on buckets with ACLs enabled needs s3:PutObjectAcl (WithoutACLAccess
// leaves it out and grants s3:GetBucketOwnershipControls instead);
// aborting a failed multipart upload needs s3:AbortMultipartUpload.
const (
	actionGetObjectTagging           = "s3:GetObjectTagging"
	actionPutObjectTagging           = "s3:PutObjectTagging"
	actionPutObjectAcl               = "s3:PutObjectAcl"
	actionGetBucketOwnershipControls = "s3:GetBucketOwnershipControls"
)

var (
	sourceReadActions       = []string{"s3:GetObject", actionGetObjectTagging}
	destinationWriteActions = []string{"s3:AbortMultipartUpload", "s3:PutObject", actionPutObjectAcl, actionPutObjectTagging}
)

// Sids of the statements the copy builders write. They are stable so that
// MergeStatements replaces them on the next apply instead of adding
// copies.
const (
	sidAssumeRole            = "XacctAssumeRole"
	sidCallerAssume          = "XacctCallerAssumeRole"
	sidSourceList            = "XacctSourceList"
	sidSourceRead            = "XacctSourceRead"
	sidSourceTLS             = "XacctSourceDenyInsecureTransport"
	sidDestinationList       = "XacctDestinationList"
	sidDestinationWrite      = "XacctDestinationWrite"
	sidDestinationDelete     = "XacctDestinationDelete"
	sidDestinationOwnership  = "XacctDestinationOwnership"
	sidDestinationTLS        = "XacctDestinationDenyInsecureTransport"
	sidKMSWrite              = "XacctKMSWrite"
	sidKMSRead               = "XacctKMSRead"
	conditionSecureTransport = "aws:SecureTransport"
)

// PolicyOption changes what a policy builder grants.
type PolicyOption func(*policyOptions)

type policyOptions struct {
	delete          bool
	secureTransport bool
	tagSession      bool
	sourceIdentity  bool
	noTags          bool
	noACL           bool
}

// WithDeleteAccess grants s3:DeleteObject on the destination prefix, which
// only a sync that deletes extra destination objects needs. Default: not
// granted.
func WithDeleteAccess() PolicyOption { return func(o *policyOptions) { o.delete = true } }

// WithoutTagAccess leaves s3:GetObjectTagging out of the source grants and
// s3:PutObjectTagging out of the destination grants of SourceReadPolicy,
// DestinationWritePolicy, CopyRolePolicy, SourceBucketPolicy and
// DestinationBucketPolicy. It is safe exactly when the Copier does not
// copy tags: WithCopyProps(CopyPropsMetadataDirective) or
// WithCopyProps(CopyPropsNone). With CopyPropsDefault or CopyPropsAll
// every object is still copied, but without its tags, and each one is
// reported with a WarningTagsNotCopied. Default: both granted.
func WithoutTagAccess() PolicyOption { return func(o *policyOptions) { o.noTags = true } }

// WithoutACLAccess leaves s3:PutObjectAcl out of the destination grants of
// DestinationWritePolicy, CopyRolePolicy and DestinationBucketPolicy, and
// grants instead s3:GetBucketOwnershipControls on the destination bucket
// (statement XacctDestinationOwnership): a Copier whose destination
// client can read the bucket's object ownership sends no ACL to a bucket
// that enforces bucket-owner ownership, while one that cannot sends
// bucket-owner-full-control to be safe, which needs s3:PutObjectAcl. It
// is safe exactly when the destination bucket's object ownership is
// BucketOwnerEnforced (ACLs disabled, the default of new buckets) and the
// Copier has no WithObjectACL. Into a bucket with ACLs enabled
// (ObjectWriter, BucketOwnerPreferred or no ownership controls) copies
// carry bucket-owner-full-control, and every write is refused with
// AccessDenied on s3:PutObjectAcl. Default: s3:PutObjectAcl granted, no
// ownership read.
func WithoutACLAccess() PolicyOption { return func(o *policyOptions) { o.noACL = true } }

// WithTagSessionAccess adds sts:TagSession beside sts:AssumeRole in
// CopyRoleTrustPolicy and CallerAssumeRolePolicy: STS refuses session
// tags (WithSessionTags) unless both the trust policy and, across
// accounts, the caller's identity policy allow it. Default: not granted.
func WithTagSessionAccess() PolicyOption { return func(o *policyOptions) { o.tagSession = true } }

// WithSourceIdentityAccess adds sts:SetSourceIdentity beside
// sts:AssumeRole in CopyRoleTrustPolicy and CallerAssumeRolePolicy, which
// a session with a source identity (WithSourceIdentity) needs. Default:
// not granted.
func WithSourceIdentityAccess() PolicyOption {
	return func(o *policyOptions) { o.sourceIdentity = true }
}

// assumeActions are the STS actions the trust and caller policies grant.
func (o policyOptions) assumeActions() StringList {
	actions := StringList{"sts:AssumeRole"}
	if o.sourceIdentity {
		actions = append(actions, "sts:SetSourceIdentity")
	}
	if o.tagSession {
		actions = append(actions, "sts:TagSession")
	}
	return actions
}

// WithSecureTransport adds to bucket policies a Deny of every S3 action by
// the granted principal over plain HTTP (aws:SecureTransport false). It is
// scoped to that principal and the granted resources, so merging it never
// affects other users of the bucket. The evaluator applies it only when
// the request context carries aws:SecureTransport. Default: not added.
func WithSecureTransport() PolicyOption {
	return func(o *policyOptions) { o.secureTransport = true }
}

func buildOptions(opts []PolicyOption) policyOptions {
	var o policyOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}

// CopyRoleTrustPolicy returns the trust policy of the role xacct assumes
// in the other account. trusted is an account ID (written as its root ARN,
// which lets the account's administrators delegate AssumeRole through
// identity policies) or a principal ARN. When externalID is not empty,
// AssumeRole must present it (sts:ExternalId), which guards against the
// confused deputy problem when a third party assumes the role.
// WithTagSessionAccess and WithSourceIdentityAccess add the actions session
// tags and a source identity need.
func CopyRoleTrustPolicy(trusted, externalID string, opts ...PolicyOption) Policy {
	s := Statement{
		Sid:       sidAssumeRole,
		Effect:    EffectAllow,
		Principal: AWSPrincipal(trusted),
		Action:    buildOptions(opts).assumeActions(),
	}
	if externalID != "" {
		s.Condition = Conditions{"StringEquals": {"sts:ExternalId": {externalID}}}
	}
	return NewPolicy(s)
}

// CallerAssumeRolePolicy is the identity policy the caller in the other
// account needs to assume roleARN: across accounts, the role's trust policy
// admitting the caller is not enough on its own; the caller's account must
// allow sts:AssumeRole on that role too. WithTagSessionAccess and
// WithSourceIdentityAccess add the actions session tags and a source
// identity need.
func CallerAssumeRolePolicy(roleARN string, opts ...PolicyOption) Policy {
	return NewPolicy(Statement{
		Sid:      sidCallerAssume,
		Effect:   EffectAllow,
		Action:   buildOptions(opts).assumeActions(),
		Resource: StringList{roleARN},
	})
}

// SourceReadPolicy returns the identity policy that lets a principal list
// and read the objects under src: s3:ListBucket limited to src.Prefix, and
// s3:GetObject and s3:GetObjectTagging on the objects under it.
// WithoutTagAccess leaves s3:GetObjectTagging out. Like every copy
// builder, it takes a non-empty prefix as a folder, as Sync does:
// s3://b/photos grants photos/ and not photos2/.
func SourceReadPolicy(src Location, opts ...PolicyOption) Policy {
	return NewPolicy(sourceStatements(src, nil, buildOptions(opts))...)
}

// DestinationWritePolicy returns the identity policy that lets a principal
// list and write the objects under dst: s3:ListBucket limited to
// dst.Prefix, and s3:PutObject, s3:PutObjectAcl, s3:PutObjectTagging and
// s3:AbortMultipartUpload on the objects under it. WithDeleteAccess adds
// s3:DeleteObject; WithoutTagAccess leaves s3:PutObjectTagging out;
// WithoutACLAccess leaves s3:PutObjectAcl out and adds
// s3:GetBucketOwnershipControls on the bucket.
func DestinationWritePolicy(dst Location, opts ...PolicyOption) Policy {
	return NewPolicy(destinationStatements(dst, nil, buildOptions(opts))...)
}

// CopyRolePolicy returns the identity policy of a principal that copies
// from src to dst server-side: S3 reads the source with the credentials of
// the request that writes the destination, so one principal needs both
// SourceReadPolicy and DestinationWritePolicy, with the same options.
func CopyRolePolicy(src, dst Location, opts ...PolicyOption) Policy {
	o := buildOptions(opts)
	return NewPolicy(slices.Concat(sourceStatements(src, nil, o), destinationStatements(dst, nil, o))...)
}

// SourceBucketPolicy returns the statements to merge into the source
// bucket's policy so that principal, in another account, may list and read
// src: the same actions as SourceReadPolicy with the same options.
// principal is a role or user ARN, or an account ID. WithSecureTransport
// adds a Deny over plain HTTP.
func SourceBucketPolicy(src Location, principal string, opts ...PolicyOption) Policy {
	o := buildOptions(opts)
	pr := AWSPrincipal(principal)
	stmts := sourceStatements(src, pr, o)
	if o.secureTransport {
		stmts = append(stmts, denyInsecure(sidSourceTLS, src, pr))
	}
	return NewPolicy(stmts...)
}

// DestinationBucketPolicy returns the statements to merge into the
// destination bucket's policy so that principal, in another account, may
// list and write dst: the same actions as DestinationWritePolicy with the
// same options. principal is a role or user ARN, or an account ID.
func DestinationBucketPolicy(dst Location, principal string, opts ...PolicyOption) Policy {
	o := buildOptions(opts)
	pr := AWSPrincipal(principal)
	stmts := destinationStatements(dst, pr, o)
	if o.secureTransport {
		stmts = append(stmts, denyInsecure(sidDestinationTLS, dst, pr))
	}
	return NewPolicy(stmts...)
}

// RemoveStatements returns existing without the statements whose Sid is
// one of sids, and whether anything was removed; existing is not
// modified. Use it to take back a grant, such as XacctDestinationDelete
// when a sync no longer deletes.
func RemoveStatements(existing *Policy, sids ...string) (*Policy, bool) {
	if existing == nil {
		return nil, false
	}
	out := *existing
	out.Statement = slices.DeleteFunc(slices.Clone(existing.Statement), func(s Statement) bool {
		return s.Sid != "" && slices.Contains(sids, s.Sid)
	})
	return &out, len(out.Statement) != len(existing.Statement)
}

func sourceStatements(src Location, pr *Principal, o policyOptions) []Statement {
	src = folder(src)
	return []Statement{
		listStatement(sidSourceList, src, pr),
		objectStatement(sidSourceRead, src, pr, o.drop(sourceReadActions)...),
	}
}

func destinationStatements(dst Location, pr *Principal, o policyOptions) []Statement {
	dst = folder(dst)
	stmts := []Statement{
		listStatement(sidDestinationList, dst, pr),
		objectStatement(sidDestinationWrite, dst, pr, o.drop(destinationWriteActions)...),
	}
	if o.noACL {
		stmts = append(stmts, Statement{
			Sid:       sidDestinationOwnership,
			Effect:    EffectAllow,
			Principal: pr,
			Action:    StringList{actionGetBucketOwnershipControls},
			Resource:  StringList{BucketARN(dst.Bucket)},
		})
	}
	if o.delete {
		stmts = append(stmts, objectStatement(sidDestinationDelete, dst, pr, "s3:DeleteObject"))
	}
	return stmts
}

// drop returns actions without those the options leave out.
func (o policyOptions) drop(actions []string) []string {
	return slices.DeleteFunc(slices.Clone(actions), func(a string) bool {
		return o.noTags && (a == actionGetObjectTagging || a == actionPutObjectTagging) || o.noACL && a == actionPutObjectAcl
	})
}

// folder scopes a copy grant to the keys Sync touches: it takes a
// non-empty prefix as a folder (dirPrefix), so s3://b/from-a grants
// from-a/… and not from-ab/….
func folder(loc Location) Location {
	loc.Prefix = dirPrefix(loc.Prefix)
	return loc
}

// listStatement allows s3:ListBucket on loc's bucket, limited by s3:prefix
// to loc.Prefix when there is one. Sync lists with the folder itself
// (Prefix "from-a/"), which the pattern "from-a/*" matches since * also
// matches nothing. A listing without a prefix carries no s3:prefix key, so
// it is refused: least privilege.
func listStatement(sid string, loc Location, pr *Principal) Statement {
	s := Statement{
		Sid:       sid,
		Effect:    EffectAllow,
		Principal: pr,
		Action:    StringList{"s3:ListBucket"},
		Resource:  StringList{BucketARN(loc.Bucket)},
	}
	if loc.Prefix != "" {
		s.Condition = Conditions{"StringLike": {"s3:prefix": {escapePolicyPattern(loc.Prefix) + "*"}}}
	}
	return s
}

func objectStatement(sid string, loc Location, pr *Principal, actions ...string) Statement {
	return Statement{
		Sid:       sid,
		Effect:    EffectAllow,
		Principal: pr,
		Action:    StringList(slices.Clone(actions)),
		Resource:  StringList{objectsUnder(loc)},
	}
}

func denyInsecure(sid string, loc Location, pr *Principal) Statement {
	loc = folder(loc)
	return Statement{
		Sid:       sid,
		Effect:    EffectDeny,
		Principal: pr,
		Action:    StringList{"s3:*"},
		Resource:  StringList{BucketARN(loc.Bucket), objectsUnder(loc)},
		Condition: Conditions{"Bool": {conditionSecureTransport: {"false"}}},
	}
}

// objectsUnder is the ARN pattern of every object under loc's prefix.
func objectsUnder(loc Location) string {
	return ObjectARN(loc.Bucket, escapePolicyPattern(loc.Prefix)+"*")
}

// escapePolicyPattern makes the wildcard and variable characters of a key
// prefix literal, using the escapes policy version 2012-10-17 defines.
func escapePolicyPattern(s string) string {
	if !strings.ContainsAny(s, "*?$") {
		return s
	}
	return policyPatternEscaper.Replace(s)
}

var policyPatternEscaper = strings.NewReplacer("*", "${*}", "?", "${?}", "$", "${$}")

// KMS actions S3 uses on a caller's behalf with SSE-KMS: writing an object
// generates a data key; reading one, and assembling the parts of a
// multipart upload, decrypts it.
const (
	actionKMSGenerateDataKey = "kms:GenerateDataKey"
	actionKMSDecrypt         = "kms:Decrypt"
)

// KMSWritePolicy returns an identity policy that lets its principal write
// S3 objects encrypted with the KMS key keyARN (SSE-KMS or DSSE-KMS):
// kms:GenerateDataKey for every write and kms:Decrypt, which multipart
// uploads need. Its statement's Sid is XacctKMSWrite. The key policy must
// allow the same (see KeyPolicyStatement).
func KMSWritePolicy(keyARN string) Policy {
	return NewPolicy(Statement{Sid: sidKMSWrite, Effect: EffectAllow,
		Action: StringList{actionKMSDecrypt, actionKMSGenerateDataKey}, Resource: StringList{keyARN}})
}

// KMSReadPolicy returns an identity policy that lets its principal read S3
// objects encrypted with the KMS key keyARN: kms:Decrypt. Its statement's
// Sid is XacctKMSRead. The key policy must allow the same (see
// KeyPolicyStatement).
func KMSReadPolicy(keyARN string) Policy {
	return NewPolicy(Statement{Sid: sidKMSRead, Effect: EffectAllow,
		Action: StringList{actionKMSDecrypt}, Resource: StringList{keyARN}})
}

// KeyPolicyStatement returns a KMS key policy statement that allows
// principal (an IAM ARN, or an account id for the account's root) the
// given KMS actions on the key the policy is attached to (Resource "*",
// as key policies write it). Its Sid is XacctKMSWrite when the actions
// include kms:GenerateDataKey and XacctKMSRead otherwise, followed by a
// hash of the principal, so statements for several principals merge side
// by side (MergeStatements) and merging one twice adds no copy. Across
// accounts the principal's identity policy must allow the actions too.
func KeyPolicyStatement(principal string, actions ...string) Statement {
	sid := sidKMSRead
	if slices.Contains(actions, actionKMSGenerateDataKey) {
		sid = sidKMSWrite
	}
	sum := sha256.Sum256([]byte(principal))
	acts := slices.Clone(actions)
	slices.Sort(acts)
	return Statement{Sid: sid + hex.EncodeToString(sum[:6]), Effect: EffectAllow,
		Principal: AWSPrincipal(principal), Action: StringList(slices.Compact(acts)), Resource: StringList{"*"}}
}
