// Command xacct moves and inspects S3 data, also across AWS accounts. It
// is the command-line face of the github.com/xacct/xacct library and
// prints what aws s3 prints where the two overlap.
//
// Install it with
//
//	go install github.com/xacct/xacct/examples/xacct@latest
//
// # Commands
//
//	xacct sync SRC DST [flags]      copy new and changed objects, server-side
//	xacct ls [s3://bucket[/prefix]] list buckets, or objects and prefixes
//	xacct whoami                    show the account and ARN of the credentials
//	xacct demo                      run all of the above against an in-memory AWS
//
// Flags may follow the positional arguments, as with aws-cli:
//
//	xacct sync s3://src/data/ s3://dst/data/ --delete --max-delete 100 --dryrun
//	xacct sync s3://src s3://dst --exclude '*' --include '*.csv' --json
//	xacct ls s3://dst --recursive --human-readable --summarize
//
// sync flags: --delete, --dryrun, --exclude and --include (repeatable; the
// last matching rule in command-line order decides), --size-only or
// --exact (compare ETags), --concurrency N (default 32), --max-delete N
// (default -1, no cap), --json, --no-progress. A progress bar replaces the
// per-object lines when stderr is a terminal.
//
// # Configuration
//
// --profile, --region, --endpoint-url and --debug apply to every command.
// Otherwise the AWS SDK's usual sources are used: AWS_PROFILE,
// AWS_REGION, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID and the shared config
// and credentials files. The region defaults to us-east-1. With a custom
// endpoint, buckets are addressed path-style.
//
// # Exit status
//
// 0 when everything was done; 1 when an object failed, access was denied,
// a delete was refused (--max-delete, or a failed copy) or ls found
// nothing; 2 for an invalid command line, location or option value.
// Errors are printed on one line, prefixed "xacct: ".
package main
