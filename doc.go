// Package xacct moves Amazon S3 data from a bucket in one AWS account to a
// bucket in another, and sets up the IAM roles and policies each way of
// doing it needs.
//
// # Three strategies
//
// There are three ways to get objects from account A into account B:
//
//   - Copy or sync with cross-account credentials ([Copier]): this library
//     lists both sides and copies what is missing or different, server-side,
//     from one host. Pick it for one-off moves and scheduled syncs of up to
//     millions of objects, and when you want the result in your hands
//     (a [SyncReport] naming every failed object).
//   - AWS DataSync (DataSyncPlanner, planned): a managed task between an S3
//     location in each account. Pick it for large recurring transfers you
//     want AWS to run and retry.
//   - S3 Replication (ReplicationConfigurator, planned): the source bucket
//     replicates new objects (and, with Batch Replication, existing ones).
//     Pick it when the destination must follow the source continuously.
//
// Each needs a role, a trust policy, permission policies and a bucket
// policy on the right side; [Policy] and its builders ([CopyRoleTrustPolicy],
// [CopyRolePolicy], [DestinationBucketPolicy]…) generate least-privilege
// documents, and [Evaluate] answers whether a principal may do an action
// under them, with AWS's cross-account rules.
//
// # Copying
//
// A [Copier] takes a client for the source and, optionally, one for the
// destination; anything with the aws-sdk-go-v2 method shapes fits, so
// *s3.Client works and so does a wrapper that adds metrics or rate limits:
//
//	cfg, err := config.LoadDefaultConfig(ctx, config.WithSharedConfigProfile("cross"))
//	if err != nil { … }
//	c, err := xacct.NewCopierFromConfig(cfg, xacct.WithDelete(true))
//	if err != nil { … }
//	report, err := c.Sync(ctx,
//		xacct.MustParseLocation("s3://source-bucket/data/"),
//		xacct.MustParseLocation("s3://dest-bucket/backup/"))
//
// Sync merge-joins the two listings in key order, so its memory does not
// grow with the number of objects. It never deletes unless asked
// ([WithDelete]), and then only after every copy succeeded and both
// listings completed, within a cap ([WithMaxDelete]).
//
// # Errors
//
// Invalid input returns a *[ValidationError] naming the field, the value and
// the rule, wrapping [ErrInvalidLocation] or [ErrInvalidOption]. A failed
// object is an *[ObjectError]; AWS faults inside it are inspectable with
// errors.As and smithy.APIError.
package xacct
