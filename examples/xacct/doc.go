// Command xacct moves and inspects S3 data, also across AWS accounts. It is
// the command-line face of the github.com/xacct/xacct library and prints
// what aws s3 prints where the two overlap.
//
// Install it with
//
//	go install github.com/xacct/xacct/examples/xacct@latest
//
// # Commands
//
//	xacct sync SRC DST [flags]      copy new and changed objects, server-side or streamed
//	xacct ls [s3://bucket[/prefix]] list buckets, or objects and prefixes
//	xacct verify SRC DST            compare two locations, print every difference
//	xacct whoami                    show the account and ARN of the credentials
//	xacct replication plan|apply|status|diff|backfill
//	                                S3 Replication from a bucket of one account to another's
//	xacct datasync plan|apply|run   a DataSync task from a bucket of one account to another's
//	xacct demo                      the three strategies across two accounts, in an in-memory AWS
//	xacct sandbox                   serve that in-memory AWS for other tools
//
// Flags may follow the positional arguments, as with aws-cli:
//
//	xacct sync s3://src/data/ s3://dst/data/ --delete --max-delete 100 --dryrun
//	xacct sync s3://src s3://dst --exclude '*' --include '*.csv' --json
//	xacct ls s3://dst --recursive --human-readable --summarize
//
// sync flags: --delete, --dryrun, --exclude and --include (repeatable; the
// last matching rule in command-line order decides), --size-only or --exact
// (compare ETags), --concurrency N (default 32), --max-delete N (default
// -1, no cap), --json, --no-progress. A progress bar replaces the
// per-object lines when stderr is a terminal. How objects are written:
// --storage-class, --sse (alone: AES256), --sse-kms-key-id, --copy-props
// none|metadata-directive|default|all, --transfer-mode
// auto|server-side|stream, --request-payer (alone, or with its one value
// requester; verify takes it too). --sse and --request-payer take their
// value with = or as the next argument. Sizes (8MB, 64MiB, 5GB…) count in
// powers of 1024, as in aws-cli: --multipart-threshold (default 8MiB when
// streaming, 5GiB server-side), --part-size (default 8MiB) and, for
// streamed objects, --stream-upload-cutoff (default 200MiB): objects from
// the threshold up to the cutoff are written with one unbuffered PutObject,
// larger ones in parts. Server-side copies of objects uploaded in parts
// keep their parts (where S3's part limits allow), and so their ETags,
// whatever the comparison.
//
// # Two accounts
//
// sync, ls, verify and whoami take --source-profile and --dest-profile
// (default --profile), --role-arn (both sides), --source-role-arn and
// --dest-role-arn (one side), and --external-id, the ExternalId sent for
// every role assumed; --source-external-id and --dest-external-id override
// it for one side, as when each account's role has an id of its own:
//
//	xacct sync s3://a-data s3://b-archive --profile ops \
//	    --role-arn arn:aws:iam::111111111111:role/xacct-copy --external-id 5f1c
//	xacct sync s3://a-data s3://b-archive --source-profile a --dest-profile b
//	xacct sync s3://a-data s3://b-archive --profile ops \
//	    --source-role-arn arn:aws:iam::111111111111:role/reader --source-external-id 5f1c \
//	    --dest-role-arn arn:aws:iam::222222222222:role/writer --dest-external-id 9e2d
//
// When one principal can read SRC and write DST, S3 copies server-side;
// otherwise the bytes stream through xacct. sync also takes a third
// identity for server-side copies, --copy-profile and --copy-role-arn (with
// --copy-external-id, default --external-id), used when it can read SRC;
// the destination identity still lists and deletes DST:
//
//	xacct sync s3://a-data s3://b-archive --source-profile a --dest-profile b \
//	    --copy-role-arn arn:aws:iam::222222222222:role/copier
//
// While it lists both sides, sync checks every permission it needs (with
// --delete, also deleting, on an unversioned bucket; tagging when tags are
// copied) and copies nothing until the check has passed; --preflight-only
// prints each missing one with the policy statement that grants it and the
// policy it belongs in, and --no-preflight skips the check. sync and verify
// take --source-account and --dest-account, the accounts that must own the
// two buckets; every request then carries its side's account as
// ExpectedBucketOwner, and S3 refuses it if another account owns the
// bucket. whoami shows both sides' identities when side or role flags are
// given.
//
// # Managed transfers
//
// replication and datasync take their spec from flags or from a JSON or
// YAML file (--spec FILE, the library's ReplicationSpec or DataSyncSpec; a
// .yaml or .yml file uses the same field names as the JSON form). The
// source account's part runs with --source-profile or --source-role-arn
// (default --profile); the destination account's part with --dest-profile
// or --dest-role-arn, and without either, apply prints that part for the
// destination's owners instead of applying it:
//
//	xacct replication plan --source s3://a-data --source-account 111111111111 \
//	    --dest s3://b-replica --dest-account 222222222222 --rule logs:logs/ --summary
//	xacct replication apply --spec replication.json --source-profile a --dest-profile b
//	xacct replication status --spec replication.json --prefix logs/ --wait 10m --source-profile a
//	xacct datasync run --spec datasync.json --source-profile a --dest-profile b
//
// plan prints every step with its policies (--json, or --summary for one
// line per step); apply prints each change, or "nothing to change";
// replication status prints each object's state and the counts, diff one
// line per drift, backfill the Batch Replication job; datasync run prints a
// line per phase (a progress bar on a terminal) and a summary, and an
// interrupt cancels the execution. datasync apply brings an existing task
// and its locations in line with the spec.
//
// replication apply --backfill, once the setup is applied, starts an S3
// Batch Replication job for the objects written before and waits for it
// (--timeout, default 1h). Its ClientRequestToken is derived from the spec,
// so running the same apply again returns the job already started for as
// long as S3 Control remembers the token; replication backfill starts a new
// job each run, such as to retry objects that failed. Both poll the job
// from --poll-interval (default 200ms) on, doubling while nothing changes;
// datasync run polls from its own --poll-interval (default 5s).
//
// # Configuration
//
// --profile, --region, --endpoint-url and --debug apply to every command
// (demo ignores the first three). Otherwise the AWS SDK's usual sources are
// used: AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID and
// the shared config and credentials files. The region defaults to
// us-east-1. With a custom endpoint, buckets are addressed path-style.
//
// # Exit status
//
// 0 when everything was done; 1 when an object failed, access was denied,
// the preflight found a missing permission, verify found a difference, a
// delete was refused (--max-delete, or a failed copy), ls found nothing
// under the key or prefix it was given (an empty bucket listed whole is 0,
// as with aws s3 ls), an object failed to replicate or was still pending
// after --wait, replication diff found drift, a DataSync execution ended in
// error or could not write its task report, or a backfill job failed, was
// cancelled or outlasted --timeout; 2 for an invalid command line,
// location, role ARN, option value or spec (the message names the flag and
// the spec field, and the rule broken); 130 when interrupted (SIGINT or
// SIGTERM): a sync then deletes nothing and aborts its uploads, a DataSync
// execution is cancelled, a backfill job goes on. Errors are printed on one
// line, prefixed "xacct: ".
package main
