package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/xacct/xacct"
)

// defaultReplicationRoleName is the replication role's name when
// --role-name is not given.
const defaultReplicationRoleName = "xacct-replication"

// defaultBackfillTimeout bounds the wait for a Batch Replication job.
const defaultBackfillTimeout = time.Hour

// replicationFlags give a ReplicationSpec, from flags or a JSON file, and
// the identities of the two accounts.
type replicationFlags struct {
	specFile                   string
	source, dest               string
	sourceAccount, destAccount string
	destRegion                 string
	roleName                   string
	rules, prefixes            []string
	deleteMarkers              bool
	ownerOverride              bool
	objectLock                 bool
	backfill                   bool
	storageClass               string
	replicaKMSKey              string
	sourceKMSKeys              []string
	ids                        identityFlags
	// poll is the first wait between two DescribeJob calls of a backfill;
	// 0 on commands that do not backfill.
	poll time.Duration
}

// registerPoll adds --poll-interval, for the commands that wait for a
// Batch Replication job.
func (f *replicationFlags) registerPoll(fs *pflag.FlagSet) {
	fs.DurationVar(&f.poll, "poll-interval", xacct.DefaultBackfillPollInterval, "ask S3 Control for the backfill job's state after `DURATION`, doubling while nothing changes")
}

// replicationSpecFlags are the flags that build a spec, which --spec
// replaces.
var replicationSpecFlags = []string{
	"source", "source-account", "dest", "dest-account", "dest-region", "role-name", "rule", "prefix",
	"delete-markers", "storage-class", "owner-override", "replica-kms-key-arn", "source-kms-key-arn", "object-lock", "backfill",
}

// register adds the spec and identity flags to fs. rulePrefix adds
// --prefix as a rule flag; status uses --prefix to select objects.
func (f *replicationFlags) register(fs *pflag.FlagSet, rulePrefix bool) {
	fs.StringVar(&f.specFile, "spec", "", "read the ReplicationSpec from this JSON or YAML `FILE` instead of the flags below")
	fs.StringVar(&f.source, "source", "", "replicate from this bucket, `s3://BUCKET`")
	fs.StringVar(&f.sourceAccount, "source-account", "", "the 12-digit `ID` of the account that owns the source bucket")
	fs.StringVar(&f.dest, "dest", "", "replicate into this bucket, `s3://BUCKET`")
	fs.StringVar(&f.destAccount, "dest-account", "", "the 12-digit `ID` of the account that owns the destination bucket")
	fs.StringVar(&f.destRegion, "dest-region", "", "the destination bucket's `REGION` (default: --region)")
	fs.StringVar(&f.roleName, "role-name", defaultReplicationRoleName, "the replication role's `NAME`, created in the source account")
	fs.StringArrayVar(&f.rules, "rule", nil, "a rule replicating the keys under `ID:PREFIX` (repeatable; earlier rules win; default: one rule, all, for every key)")
	if rulePrefix {
		fs.StringArrayVar(&f.prefixes, "prefix", nil, "a rule replicating the keys under `PREFIX`, named after it (repeatable)")
	}
	fs.BoolVar(&f.deleteMarkers, "delete-markers", false, "replicate delete markers")
	fs.StringVar(&f.storageClass, "storage-class", "", "store replicas in this `CLASS`, such as STANDARD_IA (default: the source's)")
	fs.BoolVar(&f.ownerOverride, "owner-override", false, "make the destination account own the replicas")
	fs.StringVar(&f.replicaKMSKey, "replica-kms-key-arn", "", "replicate SSE-KMS objects, encrypting replicas with this destination-region key `ARN`")
	fs.StringArrayVar(&f.sourceKMSKeys, "source-kms-key-arn", nil, "a key `ARN` source objects are encrypted with, which the role may decrypt with (repeatable)")
	fs.BoolVar(&f.objectLock, "object-lock", false, "both buckets have Object Lock enabled")
	fs.BoolVar(&f.backfill, "backfill", false, "replicate the objects that existed before, with S3 Batch Replication (apply starts the job and waits for it)")
	f.ids.register(fs)
}

// replicationFlagOf names the flag that sets a spec field.
func replicationFlagOf(field string) string {
	flag := map[string]string{
		"Source.Bucket": "--source", "Source.Account": "--source-account", "Source.Region": "--region",
		"Destination.Bucket": "--dest", "Destination.Account": "--dest-account", "Destination.Region": "--dest-region",
		"Destination.ObjectLock": "--object-lock", "RoleName": "--role-name",
		"Rules[].ID": "--rule", "Rules[].DeleteMarkers": "--delete-markers", "Rules[].StorageClass": "--storage-class",
		"Rules[].OwnerOverride": "--owner-override", "Rules[].ReplicaKMSKeyARN": "--replica-kms-key-arn",
		"SourceKMSKeyARNs": "--source-kms-key-arn", "SourceKMSKeyARNs[]": "--source-kms-key-arn",
	}[indexRE.ReplaceAllString(field, "[]")]
	return flag
}

// configurator returns the configurator of the spec the flags or the
// spec file give. Validation errors name the flag and the spec field.
func (a *app) configurator(ctx context.Context, cmd *cobra.Command, f *replicationFlags) (*xacct.ReplicationConfigurator, error) {
	opts := []xacct.ReplicationOption{xacct.WithReplicationLogger(a.logger())}
	if cmd.Flags().Lookup("poll-interval") != nil {
		if f.poll <= 0 {
			return nil, usageError{fmt.Errorf("--poll-interval %s: must be positive", f.poll)}
		}
		opts = append(opts, xacct.WithBackfillPollInterval(f.poll, max(f.poll, xacct.DefaultBackfillMaxPollInterval)))
	}
	if f.specFile != "" {
		if err := specConflict(cmd.Flags(), replicationSpecFlags); err != nil {
			return nil, err
		}
		var spec xacct.ReplicationSpec
		if err := readSpecFile(f.specFile, &spec); err != nil {
			return nil, err
		}
		return xacct.NewReplicationConfigurator(spec, opts...)
	}
	spec, err := a.replicationSpec(ctx, f)
	if err != nil {
		return nil, err
	}
	c, err := xacct.NewReplicationConfigurator(spec, opts...)
	if err != nil {
		return nil, flagNamedErrors(err, replicationFlagOf)
	}
	return c, nil
}

// replicationSpec builds the spec from the flags.
func (a *app) replicationSpec(ctx context.Context, f *replicationFlags) (xacct.ReplicationSpec, error) {
	spec := xacct.ReplicationSpec{
		Source:           xacct.ReplicationBucket{Account: f.sourceAccount, ObjectLock: f.objectLock},
		Destination:      xacct.ReplicationBucket{Account: f.destAccount, ObjectLock: f.objectLock},
		RoleName:         f.roleName,
		Backfill:         f.backfill,
		SourceKMSKeyARNs: f.sourceKMSKeys,
	}
	for _, b := range []struct {
		flag, value string
		bucket      *string
	}{{"--source", f.source, &spec.Source.Bucket}, {"--dest", f.dest, &spec.Destination.Bucket}} {
		if b.value == "" {
			continue
		}
		loc, err := parseLocation(b.flag, b.value)
		if err != nil {
			return spec, err
		}
		if loc.Prefix != "" {
			return spec, usageError{fmt.Errorf("%s %s: replication takes a whole bucket; select keys with --rule or --prefix", b.flag, b.value)}
		}
		*b.bucket = loc.Bucket
	}
	type idPrefix struct{ id, prefix string }
	var rules []idPrefix
	for _, r := range f.rules {
		id, prefix, ok := strings.Cut(r, ":")
		if !ok {
			return spec, usageError{fmt.Errorf("--rule %q: want ID:PREFIX, such as logs:logs/", r)}
		}
		rules = append(rules, idPrefix{id, prefix})
	}
	for _, p := range f.prefixes {
		rules = append(rules, idPrefix{first(p, "all"), p})
	}
	if len(rules) == 0 {
		rules = []idPrefix{{"all", ""}}
	}
	region := a.flags.region
	if region == "" {
		var err error
		if region, err = a.sourceRegion(ctx, f.ids); err != nil {
			return spec, err
		}
	}
	spec.Source.Region, spec.Destination.Region = region, first(f.destRegion, region)

	for i, r := range rules {
		rule := xacct.ReplicationRule{
			ID:            r.id,
			Priority:      int32(len(rules) - i),
			DeleteMarkers: f.deleteMarkers,
			StorageClass:  types.StorageClass(f.storageClass),
			OwnerOverride: f.ownerOverride,
		}
		if r.prefix != "" {
			rule.Filter = xacct.PrefixFilter(r.prefix)
		}
		if f.replicaKMSKey != "" {
			rule.SSEKMS, rule.ReplicaKMSKeyARN = true, f.replicaKMSKey
		}
		spec.Rules = append(spec.Rules, rule)
	}
	return spec, nil
}

// replicationClients returns the clients of both accounts; without a
// destination identity, the destination's are left out.
func replicationClients(acc accounts) xacct.ReplicationClients {
	c := xacct.ReplicationClients{SourceS3: newS3(acc.src), SourceIAM: iam.NewFromConfig(acc.src)}
	if acc.dst != nil {
		c.DestinationS3 = newS3(*acc.dst)
	}
	return c
}

func (a *app) replicationCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "replication",
		Short: "Set up, check and follow S3 Replication from a bucket in one account to a bucket in another",
		Long: `Replication manages S3 Replication between two accounts: plan prints what each
account must change, apply makes the changes (again only where the live state
differs), status follows objects, diff finds drift and backfill replicates the
objects that existed before.

The spec comes from flags (--source, --source-account, --dest, --dest-account,
--rule…) or from a JSON or YAML file (--spec), the library's ReplicationSpec
with its Go field names. The source account's part runs with
--source-profile or --source-role-arn (default --profile), the destination
account's with --dest-profile or --dest-role-arn: without either, apply leaves
that part to the destination's owners and prints it for them.`,
		Example: `  xacct replication plan --source s3://team-a-data --source-account 111111111111 \
      --dest s3://team-b-replica --dest-account 222222222222 --region eu-west-1 --rule logs:logs/
  xacct replication apply --spec replication.json --source-profile a --dest-profile b
  xacct replication status --spec replication.json --prefix logs/ --wait 10m --source-profile a`,
	}
	cmd.AddCommand(a.replicationPlanCommand(), a.replicationApplyCommand(), a.replicationStatusCommand(),
		a.replicationDiffCommand(), a.replicationBackfillCommand())
	return cmd
}

func (a *app) replicationPlanCommand() *cobra.Command {
	var f replicationFlags
	var asJSON, summary bool
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Print what each account must change, with the policies and the configuration",
		Args:  argsBetween(0, 0),
	}
	cmd.RunE = a.runE(func(ctx context.Context, _ []string) error {
		c, err := a.configurator(ctx, cmd, &f)
		if err != nil {
			return err
		}
		return runReplicationPlan(a.out, c, asJSON, summary)
	})
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON")
	cmd.Flags().BoolVar(&summary, "summary", false, "print one line per step, without the documents")
	f.register(cmd.Flags(), true)
	return cmd
}

func (a *app) replicationApplyCommand() *cobra.Command {
	var f replicationFlags
	timeout := defaultBackfillTimeout
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Make the changes the plan lists, where the live state differs",
		Long: `Apply makes the plan's changes in dependency order and prints each change;
a second apply prints "nothing to change". Without a destination identity
(--dest-profile or --dest-role-arn) the destination account's steps are
printed for its owners instead. With --backfill it then starts S3 Batch
Replication for the objects written before and waits for the job. The job's
ClientRequestToken is derived from the spec, so running the same apply again
returns the job already started instead of starting (and paying for) another,
for as long as S3 Control remembers the token; "xacct replication backfill"
starts a new job, such as a retry of objects that failed.`,
		Args: argsBetween(0, 0),
	}
	cmd.RunE = a.runE(func(ctx context.Context, _ []string) error {
		c, err := a.configurator(ctx, cmd, &f)
		if err != nil {
			return err
		}
		acc, err := a.accounts(ctx, f.ids)
		if err != nil {
			return err
		}
		if err := runReplicationApply(ctx, a.out, c, replicationClients(acc)); err != nil {
			return err
		}
		if !c.Spec().Backfill {
			return nil
		}
		return runBackfill(ctx, a.out, c, newS3Control(acc.src), "", timeout)
	})
	cmd.Flags().DurationVar(&timeout, "timeout", timeout, "with --backfill, wait this long for the job")
	f.register(cmd.Flags(), true)
	f.registerPoll(cmd.Flags())
	return cmd
}

func (a *app) replicationStatusCommand() *cobra.Command {
	var f replicationFlags
	var q xacct.StatusQuery
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Print the replication state of source objects",
		Long: `Status prints the replication state (COMPLETED, PENDING, FAILED, REPLICA or
NONE) of each source object under --prefix, or of each --key, then the count
of each state. With --wait it polls until none is PENDING. It exits 1 when an
object FAILED, or when objects are still PENDING after --wait.`,
		Args: argsBetween(0, 0),
	}
	cmd.RunE = a.runE(func(ctx context.Context, _ []string) error {
		if len(q.Keys) > 0 && cmd.Flags().Changed("prefix") {
			return usageError{errors.New("--key and --prefix cannot be used together")}
		}
		c, err := a.configurator(ctx, cmd, &f)
		if err != nil {
			return err
		}
		acc, err := a.accounts(ctx, f.ids)
		if err != nil {
			return err
		}
		return runReplicationStatus(ctx, a.out, c, newS3(acc.src), q, wait)
	})
	fs := cmd.Flags()
	fs.StringVar(&q.Prefix, "prefix", "", "look at the source objects under `PREFIX` (default: the whole bucket)")
	fs.StringArrayVar(&q.Keys, "key", nil, "look at the source object `KEY` (repeatable)")
	fs.DurationVar(&wait, "wait", 0, "poll until no object is PENDING, for at most `DURATION`")
	f.register(fs, false)
	return cmd
}

func (a *app) replicationDiffCommand() *cobra.Command {
	var f replicationFlags
	cmd := &cobra.Command{
		Use:   "diff",
		Short: "Print where the live setup differs from the spec; exit 1 if it does",
		Long: `Diff compares versioning, the role's policies, the replication configuration
and, with a destination identity, the destination's versioning and bucket
policy statements with the spec, one line per difference. It exits 1 when
there is any.`,
		Args: argsBetween(0, 0),
	}
	cmd.RunE = a.runE(func(ctx context.Context, _ []string) error {
		c, err := a.configurator(ctx, cmd, &f)
		if err != nil {
			return err
		}
		acc, err := a.accounts(ctx, f.ids)
		if err != nil {
			return err
		}
		if acc.dst == nil {
			fmt.Fprintf(a.err, "note: account %s not compared: no --dest-profile or --dest-role-arn\n", c.Spec().Destination.Account)
		}
		return runReplicationDiff(ctx, a.out, c, replicationClients(acc))
	})
	f.register(cmd.Flags(), true)
	return cmd
}

func (a *app) replicationBackfillCommand() *cobra.Command {
	var f replicationFlags
	timeout := defaultBackfillTimeout
	cmd := &cobra.Command{
		Use:   "backfill",
		Short: "Replicate objects written before the configuration, or whose replication failed",
		Long: `Backfill starts an S3 Batch Replication job in the source account for the
objects never replicated or whose replication failed, and waits for it. The
role must trust S3 Batch Operations: apply the spec with --backfill first.
Each run starts a new job (S3 Batch Operations bills each job and object),
unlike apply --backfill, which starts one per spec.`,
		Args: argsBetween(0, 0),
	}
	cmd.RunE = a.runE(func(ctx context.Context, _ []string) error {
		c, err := a.configurator(ctx, cmd, &f)
		if err != nil {
			return err
		}
		acc, err := a.accounts(ctx, f.ids)
		if err != nil {
			return err
		}
		token := make([]byte, 16)
		if _, err := rand.Read(token); err != nil {
			return fmt.Errorf("make a ClientRequestToken: %w", err)
		}
		return runBackfill(ctx, a.out, c, newS3Control(acc.src), "xacct-run-"+hex.EncodeToString(token), timeout)
	})
	cmd.Flags().DurationVar(&timeout, "timeout", timeout, "wait this long for the job")
	f.register(cmd.Flags(), true)
	f.registerPoll(cmd.Flags())
	return cmd
}

// runReplicationPlan prints the plan: as text, one line per step
// (summary), or JSON.
func runReplicationPlan(w io.Writer, c *xacct.ReplicationConfigurator, asJSON, summary bool) error {
	p := c.Plan()
	switch {
	case asJSON:
		b, err := p.JSON()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	case summary:
		// The documents are indented below their step.
		for line := range strings.Lines(p.String()) {
			if !strings.HasPrefix(line, "     ") {
				fmt.Fprint(w, line)
			}
		}
		return nil
	}
	_, err := fmt.Fprint(w, p.String())
	return err
}

// runReplicationApply applies and prints each change, then the steps left
// to an account's owners with their documents.
func runReplicationApply(ctx context.Context, w io.Writer, c *xacct.ReplicationConfigurator, clients xacct.ReplicationClients) error {
	rep, err := c.Apply(ctx, clients)
	if rep == nil {
		return err
	}
	var left []xacct.ReplicationStep
	for _, r := range rep.Results {
		switch {
		case r.Changed:
			fmt.Fprintf(w, "changed: account %s: %s: %s\n", r.Step.Account, r.Step.Kind, r.Step.Summary)
		case r.Skipped:
			left = append(left, r.Step)
		}
	}
	if err == nil && rep.Changed() == 0 {
		fmt.Fprintln(w, "nothing to change")
	}
	account := ""
	for _, st := range left {
		if st.Account != account {
			account = st.Account
			fmt.Fprintf(w, "not applied, for the owners of account %s to apply:\n", account)
		}
		fmt.Fprintf(w, "  %s: %s\n", st.Kind, st.Summary)
		if st.Policy != nil {
			for line := range strings.Lines(st.Policy.String()) {
				fmt.Fprint(w, "    "+line)
			}
			fmt.Fprintln(w)
		}
	}
	return err
}

// runReplicationStatus prints the state of the objects q selects, after
// waiting up to wait for the PENDING ones when wait is positive.
func runReplicationStatus(ctx context.Context, w io.Writer, c *xacct.ReplicationConfigurator, client xacct.ReplicationStatusAPI, q xacct.StatusQuery, wait time.Duration) error {
	var rep *xacct.ReplicationStatusReport
	var err error
	if wait > 0 {
		rep, err = c.WaitReplicated(ctx, client, q, wait)
	} else {
		rep, err = c.Status(ctx, client, q)
	}
	if rep != nil {
		for _, o := range rep.Objects {
			fmt.Fprintf(w, "%-9s %s\n", o.State, o.Key)
		}
		fmt.Fprintln(w, rep)
	}
	if err != nil {
		return err
	}
	if n := rep.Counts[xacct.ReplicationFailed]; n > 0 {
		return &exitError{code: exitFailed, err: fmt.Errorf("%s failed to replicate; xacct replication backfill retries them", plural(n, "object"))}
	}
	return nil
}

// runReplicationDiff prints each difference; any is an error.
func runReplicationDiff(ctx context.Context, w io.Writer, c *xacct.ReplicationConfigurator, clients xacct.ReplicationClients) error {
	drift, err := c.Diff(ctx, clients)
	if err != nil {
		return err
	}
	for _, d := range drift {
		fmt.Fprintln(w, d)
	}
	if len(drift) > 0 {
		return &exitError{code: exitFailed, err: fmt.Errorf("%s from the spec; xacct replication apply puts them right", plural(len(drift), "difference"))}
	}
	fmt.Fprintln(w, "no drift")
	return nil
}

// runBackfill starts a Batch Replication job with the ClientRequestToken
// token ("" for the one derived from the spec) and waits up to timeout for
// it to end.
func runBackfill(ctx context.Context, w io.Writer, c *xacct.ReplicationConfigurator, client xacct.BatchReplicationAPI, token string, timeout time.Duration) error {
	id, err := c.Backfill(ctx, client, token)
	if err != nil {
		return err
	}
	if token == "" {
		fmt.Fprintf(w, "backfill: batch replication job %s, the one for this spec\n", id)
	} else {
		fmt.Fprintf(w, "backfill: batch replication job %s started\n", id)
	}
	job, err := c.WaitBackfill(ctx, client, id, timeout)
	if job != nil {
		fmt.Fprintf(w, "backfill: job %s %s: %d of %d objects replicated, %d failed\n", id, job.Status, job.Succeeded, job.Total, job.Failed)
	}
	return err
}

// plural returns "1 object" or "2 objects".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
