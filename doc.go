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
//     destination, streamed through the host when each side has its own
//     identity. Pick it for one-off moves and scheduled syncs of up to
//     millions of objects, and when you want the result in your hands (a
//     [SyncReport] naming every failed object).
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
// least-privilege documents with confused-deputy conditions where AWS
// recommends them; [MergeStatements] adds them to an existing bucket policy
// by Sid without touching other statements; [Evaluate] answers whether a
// principal may do an action under a set of policies, with AWS's
// cross-account rules; [Lint] flags wildcards and missing conditions. The
// planners print their plans per account, so the other account's owners
// can apply their part themselves.
//
// # Identities
//
// [AssumeRoleConfig] turns an aws.Config into one for a role in the other
// account (cached, refreshing credentials; ExternalId, MFA, session tags),
// [LoadProfile] loads a shared-config profile with role_arn and
// source_profile, and [WhoAmI] says who a config is. [NewCopierFromConfigs]
// takes one config per side; [WithCopyConfig] adds a third identity that
// may read the source and write the destination, so that copies between
// two otherwise separate identities stay server-side.
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
// Before any byte moves, Sync runs [Copier.Preflight], which probes each
// side and names any missing permission with the policy statement that
// would grant it. Sync merge-joins the two listings in key order, so its
// memory does not grow with the number of objects. It keeps metadata,
// content headers, tags, storage class and encryption settings, verifies
// each copy, and writes objects into the other account's bucket so that
// the bucket owner owns them. It never deletes unless asked ([WithDelete]),
// and then only after every copy succeeded and both listings completed,
// within a cap ([WithMaxDelete]). [Copier.Verify] compares two locations
// without copying.
//
// # Errors
//
// Invalid input returns a *[ValidationError] naming the field, the value and
// the rule, wrapping [ErrInvalidLocation], [ErrInvalidOption] or another
// sentinel. A failed object is an *[ObjectError]; refused access matches
// [ErrAccessDenied]; AWS faults inside any error are inspectable with
// errors.As and smithy.APIError. An aborted multipart upload is reported
// as a *[MultipartUploadError] carrying its upload id.
package xacct
