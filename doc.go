// Package xacct moves Amazon S3 data from a bucket in one AWS account to a
// bucket in another, and sets up the IAM roles and policies each way of
// doing it needs.
//
// # Three strategies
//
// There are three ways to get objects from account A into account B:
//
//   - Copy or sync with cross-account credentials ([Copier]): this library
//     lists both sides and copies what is missing or different from one host,
//     server-side when one principal can read the source and write the
//     destination, streamed through the host otherwise. Pick it for one-off
//     moves and scheduled syncs of up to millions of objects, and when you
//     want the result in your hands (a [SyncReport] naming every failed
//     object).
//   - AWS DataSync ([DataSyncPlanner]): a managed task between an S3 location
//     in each account. Pick it for large recurring transfers you want AWS to
//     run, verify and retry.
//   - S3 Replication ([ReplicationConfigurator]): the source bucket
//     replicates new objects, and Batch Replication backfills existing ones.
//     Pick it when the destination must follow the source continuously.
//
// When the work outgrows one host, DataSync and Replication hand it to
// AWS's own engines; the Copier is for what fits one host.
//
// # Policies
//
// Each strategy needs a role, a trust policy, permission policies and a
// bucket policy on the right side. [Policy] and its builders
// ([CopyRoleTrustPolicy], [CopyRolePolicy], [SourceBucketPolicy],
// [DestinationBucketPolicy], [DataSyncRoleTrustPolicy], …) generate
// least-privilege documents. The copy builders take a location's prefix as
// a folder, as Sync does: s3://b/logs grants logs/* and lists under logs/.
// Confused-deputy conditions go where AWS documents them: sts:ExternalId in
// [CopyRoleTrustPolicy] when given one, aws:SourceAccount and aws:SourceArn
// in [DataSyncRoleTrustPolicy]. [ReplicationRoleTrustPolicy] has none,
// since AWS documents none for S3 or Batch Operations; iam:PassRole keeps
// other accounts from using the role. [WithTagSessionAccess] and
// [WithSourceIdentityAccess] add what session tags and a source identity
// need; [WithoutTagAccess] (copies without tags) and [WithoutACLAccess]
// (BucketOwnerEnforced destinations) leave out what such copies do not use,
// and the preflight's suggested fixes do the same for the copy it checks.
//
// [MergeStatements] adds statements to an existing bucket policy by Sid
// without touching other statements; [Evaluate] answers whether a principal
// may do an action under a set of policies, with AWS's cross-account rules
// (a NotPrincipal exempts only the principals it names exactly); [Lint]
// flags broad actions and resources, a "*" principal without conditions, a
// DataSync trust without aws:SourceAccount or aws:SourceArn, a bucket
// policy granting a service without aws:SourceAccount, aws:SourceArn or
// aws:SourceOrgID, and other accounts trusted without sts:ExternalId. The
// planners print their plans per account, so the other account's owners can
// apply their part themselves.
//
// # Identities
//
// [AssumeRoleConfig] turns an aws.Config into one for a role in the other
// account (cached, refreshing credentials; [WithExternalID], [WithMFA],
// [WithSessionTags], [WithSourceIdentity]), [LoadProfile] loads a
// shared-config profile with role_arn and source_profile (external_id,
// mfa_serial, duration_seconds), and [WhoAmI] says who a config is.
// [NewCopierFromConfigs] takes one config per side; [WithCopyConfig] (or
// [WithCopyClient]) adds a third identity that may read the source and
// write the destination, so that copies between two otherwise separate
// identities stay server-side while listings and deletes stay with each
// side.
//
// # Copying
//
// A [Copier] takes a client for the source and, optionally, one for the
// destination; anything with the aws-sdk-go-v2 method shapes fits, so
// *s3.Client works and so does a wrapper that adds metrics or rate limits:
//
//	cfg, err := xacct.LoadProfile(ctx, "cross")
//	if err != nil { … }
//	c, err := xacct.NewCopierFromConfig(cfg, xacct.WithDelete(true))
//	if err != nil { … }
//	report, err := c.Sync(ctx,
//		xacct.MustParseLocation("s3://source-bucket/data/"),
//		xacct.MustParseLocation("s3://dest-bucket/backup/"))
//
// While Sync lists both sides, it runs [Copier.Preflight], which probes the
// source and the destination in parallel (reads, a write aborted at once,
// tagging when tags are copied, deletes with [WithDelete] on an unversioned
// bucket) and names any missing permission with the policy statement that
// would grant it; nothing is copied until it has passed ([WithPreflight]).
// Sync merge-joins the two listings in key order, so its memory does not
// grow with the number of objects. It keeps metadata, content headers,
// tags, storage class and encryption settings, and writes objects into the
// other account's bucket so that the bucket owner owns them.
// [WithSourceAccount] and [WithDestinationAccount] send each side's
// ExpectedBucketOwner.
//
// Server-side copies of objects uploaded in parts repeat the source's parts
// (where S3's part limits allow) under every [CompareStrategy], so the copy
// keeps the source's ETag. Streamed objects are buffered below the
// multipart threshold, written with one unbuffered PutObject up to the
// stream upload cutoff ([WithStreamUploadCutoff],
// [DefaultStreamUploadCutoff]) and in parts from it on. Each copy is
// verified ([WithVerify]); a copy that cannot be proven equal to its source
// beyond its size is kept and reported as a [WarningNotVerified].
//
// Sync never deletes unless asked ([WithDelete]), and then only after every
// copy succeeded and both listings completed, within a cap
// ([WithMaxDelete]). [Copier.Verify] compares two locations without
// copying.
//
// # Managed transfers
//
// [DataSyncPlanner.Apply] and [ReplicationConfigurator.Apply] are
// idempotent: a second Apply changes nothing, and DataSync locations and
// tasks that already exist are brought in line with the spec.
// [ReplicationConfigurator.Backfill] starts a Batch Replication job; given
// no ClientRequestToken it uses [ReplicationConfigurator.BackfillToken],
// derived from the spec, so that a repeat returns the job already started.
// [ReplicationConfigurator.WaitBackfill] follows the job
// ([WithBackfillPollInterval], [WithBackfillProgress]).
//
// # Errors
//
// Invalid input returns a *[ValidationError] naming the field, the value
// and the rule, wrapping [ErrInvalidLocation], [ErrInvalidOption] or
// another sentinel. A failed object is an *[ObjectError]; refused access
// matches [ErrAccessDenied]; AWS faults inside any error are inspectable
// with errors.As and smithy.APIError. An aborted multipart upload is
// reported as a *[MultipartUploadError] carrying its upload id. A property
// a copy could not carry over, or a copy that could not be verified, is an
// *[ObjectWarning] in the report, not an error ([ErrNotComparable] when
// nothing but the size describes both objects). A failed DataSync execution
// is a *[DataSyncExecutionError], a failed backfill job a *[BackfillError].
package xacct
