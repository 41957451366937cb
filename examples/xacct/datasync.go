package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/datasync"
	"github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/humanize"
)

// dataSyncFlags give a DataSyncSpec, from flags or a JSON file, and the
// identities of the two accounts.
type dataSyncFlags struct {
	specFile                   string
	source, dest               string
	sourceAccount, destAccount string
	destRegion                 string
	roleName, taskName         string
	operator                   string
	includes, excludes         []string
	verifyMode, overwriteMode  string
	preserveDeleted            string
	transferMode, taskMode     string
	schedule, storageClass     string
	ids                        identityFlags
}

// dataSyncSpecFlags are the flags that build a spec, which --spec
// replaces.
var dataSyncSpecFlags = []string{
	"source", "source-account", "dest", "dest-account", "dest-region", "role-name", "task-name", "operator",
	"include", "exclude", "verify-mode", "overwrite-mode", "preserve-deleted-files", "transfer-mode", "task-mode",
	"schedule", "storage-class",
}

func (f *dataSyncFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.specFile, "spec", "", "read the DataSyncSpec from this JSON or YAML `FILE` instead of the flags below")
	fs.StringVar(&f.source, "source", "", "transfer from `s3://BUCKET[/SUBDIR]`")
	fs.StringVar(&f.sourceAccount, "source-account", "", "the 12-digit `ID` of the account that owns the source bucket")
	fs.StringVar(&f.dest, "dest", "", "transfer into `s3://BUCKET[/SUBDIR]`")
	fs.StringVar(&f.destAccount, "dest-account", "", "the 12-digit `ID` of the account that owns the destination bucket")
	fs.StringVar(&f.destRegion, "dest-region", "", "the destination bucket's `REGION` (default: --region)")
	fs.StringVar(&f.roleName, "role-name", "", "the `NAME` of the role DataSync assumes, in the source account (default "+xacct.DefaultDataSyncRoleName+")")
	fs.StringVar(&f.taskName, "task-name", "", "the task's `NAME` (default: xacct-SOURCE-to-DEST)")
	fs.StringVar(&f.operator, "operator", "", "the `ARN` of the user or role in the source account that applies (default: the account's root)")
	fs.StringArrayVar(&f.includes, "include", nil, "transfer only what matches `PATTERN`, such as /reports* (repeatable)")
	fs.StringArrayVar(&f.excludes, "exclude", nil, "leave out what matches `PATTERN`, such as *.tmp (repeatable)")
	fs.StringVar(&f.verifyMode, "verify-mode", "", "verify `MODE`: POINT_IN_TIME_CONSISTENT, ONLY_FILES_TRANSFERRED or NONE (default: the task mode's)")
	fs.StringVar(&f.overwriteMode, "overwrite-mode", "", "overwrite `MODE` for changed objects: ALWAYS or NEVER (default ALWAYS)")
	fs.StringVar(&f.preserveDeleted, "preserve-deleted-files", "", "`MODE` for what the source no longer has: PRESERVE, or REMOVE to delete it (default PRESERVE)")
	fs.StringVar(&f.transferMode, "transfer-mode", "", "transfer `MODE`: CHANGED (only what differs) or ALL (default CHANGED)")
	fs.StringVar(&f.taskMode, "task-mode", "", "task `MODE`: BASIC or ENHANCED, fixed once the task exists (default BASIC)")
	fs.StringVar(&f.schedule, "schedule", "", "run on this cron(…) or rate(…) `EXPRESSION`, at most hourly")
	fs.StringVar(&f.storageClass, "storage-class", "", "write objects in this `CLASS` (default STANDARD)")
	f.ids.register(fs)
}

// indexRE matches the index of a list field, such as the [2] of
// Rules[2].ID.
var indexRE = regexp.MustCompile(`\[\d+\]`)

// dataSyncFlagOf names the flag that sets a spec field.
func dataSyncFlagOf(field string) string {
	flag := map[string]string{
		"Source.Bucket": "--source", "Source.Subdirectory": "--source", "Source.Account": "--source-account", "Source.Region": "--region",
		"Destination.Bucket": "--dest", "Destination.Subdirectory": "--dest", "Destination.Account": "--dest-account",
		"Destination.Region": "--dest-region", "Region": "--region", "RoleName": "--role-name", "TaskName": "--task-name",
		"Operator": "--operator", "Includes[]": "--include", "Excludes[]": "--exclude", "Includes": "--include", "Excludes": "--exclude",
		"Options.VerifyMode": "--verify-mode", "Options.OverwriteMode": "--overwrite-mode",
		"Options.PreserveDeletedFiles": "--preserve-deleted-files", "Options.TransferMode": "--transfer-mode",
		"TaskMode": "--task-mode", "Schedule": "--schedule", "StorageClass": "--storage-class",
	}[indexRE.ReplaceAllString(field, "[]")]
	return flag
}

// dataSyncPlan returns the plan of the spec the flags or the spec file
// give. Validation errors name the flag and the spec field.
func (a *app) dataSyncPlan(ctx context.Context, cmd *cobra.Command, f *dataSyncFlags) (*xacct.DataSyncPlan, error) {
	if f.specFile != "" {
		if err := specConflict(cmd.Flags(), dataSyncSpecFlags); err != nil {
			return nil, err
		}
		var spec xacct.DataSyncSpec
		if err := readSpecFile(f.specFile, &spec); err != nil {
			return nil, err
		}
		return xacct.NewDataSyncPlan(spec)
	}
	spec, err := a.dataSyncSpec(ctx, f)
	if err != nil {
		return nil, err
	}
	p, err := xacct.NewDataSyncPlan(spec)
	if err != nil {
		return nil, flagNamedErrors(err, dataSyncFlagOf)
	}
	return p, nil
}

// dataSyncSpec builds the spec from the flags.
func (a *app) dataSyncSpec(ctx context.Context, f *dataSyncFlags) (xacct.DataSyncSpec, error) {
	up := strings.ToUpper
	spec := xacct.DataSyncSpec{
		Source:      xacct.DataSyncEndpoint{Account: f.sourceAccount},
		Destination: xacct.DataSyncEndpoint{Account: f.destAccount},
		RoleName:    f.roleName,
		TaskName:    f.taskName,
		Operator:    f.operator,
		Includes:    f.includes,
		Excludes:    f.excludes,
		Schedule:    f.schedule,
		TaskMode:    types.TaskMode(up(f.taskMode)),
		Options: types.Options{
			VerifyMode:           types.VerifyMode(up(f.verifyMode)),
			OverwriteMode:        types.OverwriteMode(up(f.overwriteMode)),
			PreserveDeletedFiles: types.PreserveDeletedFiles(up(f.preserveDeleted)),
			TransferMode:         types.TransferMode(up(f.transferMode)),
		},
		StorageClass: types.S3StorageClass(up(f.storageClass)),
	}
	for _, e := range []struct {
		flag, value string
		end         *xacct.DataSyncEndpoint
	}{{"--source", f.source, &spec.Source}, {"--dest", f.dest, &spec.Destination}} {
		if e.value == "" {
			continue
		}
		loc, err := parseLocation(e.flag, e.value)
		if err != nil {
			return spec, err
		}
		e.end.Bucket, e.end.Subdirectory = loc.Bucket, loc.Prefix
	}
	region := a.flags.region
	if region == "" {
		var err error
		if region, err = a.sourceRegion(ctx, f.ids); err != nil {
			return spec, err
		}
	}
	spec.Source.Region, spec.Destination.Region = region, first(f.destRegion, region)
	return spec, nil
}

// newDataSyncPlanner returns a planner acting in the source account and,
// when acc has one, in the destination account. Polls start every poll
// and slow down to twelve times that while nothing changes.
func newDataSyncPlanner(acc accounts, poll time.Duration, log *slog.Logger) (*xacct.DataSyncPlanner, error) {
	var dst xacct.DataSyncBucketAPI
	if acc.dst != nil {
		dst = newS3(*acc.dst)
	}
	return xacct.NewDataSyncPlanner(iam.NewFromConfig(acc.src), datasync.NewFromConfig(acc.src), dst,
		xacct.WithDataSyncLogger(log), xacct.WithDataSyncPollInterval(poll, 12*poll))
}

func (a *app) dataSyncCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "datasync",
		Short: "Set up and run an AWS DataSync task from a bucket in one account to a bucket in another",
		Long: `Datasync manages a DataSync transfer between two accounts, set up as AWS
documents it: the role DataSync assumes, both locations and the task live in
the source account; the destination account admits the role in its bucket
policy and owns every object written. plan prints what each account must
change, apply makes the changes (again only where needed), run starts the
task and follows it to the end.

The spec comes from flags (--source, --source-account, --dest,
--dest-account…) or from a JSON or YAML file (--spec), the library's
DataSyncSpec. The source account's part runs with --source-profile or
--source-role-arn (default --profile), the destination's with --dest-profile
or --dest-role-arn: without either, apply prints that part for the
destination's owners.`,
		Example: `  xacct datasync plan --source s3://team-a-data/exports --source-account 111111111111 \
      --dest s3://team-b-archive/from-a --dest-account 222222222222 --region eu-west-1 --exclude '*.tmp'
  xacct datasync apply --spec datasync.json --source-profile a --dest-profile b
  xacct datasync run --task-arn arn:aws:datasync:eu-west-1:111111111111:task/task-0123 --source-profile a`,
	}
	cmd.AddCommand(a.dataSyncPlanCommand(), a.dataSyncApplyCommand(), a.dataSyncRunCommand())
	return cmd
}

func (a *app) dataSyncPlanCommand() *cobra.Command {
	var f dataSyncFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Print what each account must change, with the policies and the API calls",
		Args:  argsBetween(0, 0),
	}
	cmd.RunE = a.runE(func(ctx context.Context, _ []string) error {
		p, err := a.dataSyncPlan(ctx, cmd, &f)
		if err != nil {
			return err
		}
		if asJSON {
			b, err := p.JSON()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.out, "%s\n", b)
			return err
		}
		_, err = fmt.Fprint(a.out, p.String())
		return err
	})
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON")
	f.register(cmd.Flags())
	return cmd
}

func (a *app) dataSyncApplyCommand() *cobra.Command {
	var f dataSyncFlags
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Create or update the role, the destination's bucket policy, the locations and the task",
		Long: `Apply makes the plan real and prints the ARNs of the role, the locations and
the task, then each change; a second apply prints "nothing to change".
Without a destination identity (--dest-profile or --dest-role-arn) the
destination account's part is printed for its owners, and the destination
location can only be created once they applied it.`,
		Args: argsBetween(0, 0),
	}
	cmd.RunE = a.runE(func(ctx context.Context, _ []string) error {
		p, err := a.dataSyncPlan(ctx, cmd, &f)
		if err != nil {
			return err
		}
		acc, err := a.accounts(ctx, f.ids)
		if err != nil {
			return err
		}
		planner, err := newDataSyncPlanner(acc, xacct.DefaultDataSyncPollInterval, a.logger())
		if err != nil {
			return err
		}
		_, err = runDataSyncApply(ctx, a.out, planner, p, acc.dst != nil)
		return err
	})
	f.register(cmd.Flags())
	return cmd
}

// dataSyncRunOptions are the run command's own flags.
type dataSyncRunOptions struct {
	taskARN    string
	poll       time.Duration
	noProgress bool
}

func (a *app) dataSyncRunCommand() *cobra.Command {
	var f dataSyncFlags
	o := dataSyncRunOptions{poll: xacct.DefaultDataSyncPollInterval}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the task and follow it to the end",
		Long: `Run starts an execution of the task --task-arn names, or of the task the spec
flags describe after applying them, and follows it: a progress bar on a
terminal, otherwise a line per change of phase or counters. A failed
execution prints DataSync's error code and detail and exits 1. An interrupt
(Ctrl-C) cancels the execution. With --task-arn, --include and --exclude
replace the task's filters for this execution.`,
		Args: argsBetween(0, 0),
	}
	cmd.RunE = a.runE(func(ctx context.Context, _ []string) error {
		if o.poll <= 0 {
			return usageError{fmt.Errorf("--poll-interval %s: must be positive", o.poll)}
		}
		var runOpts []xacct.DataSyncRunOption
		var p *xacct.DataSyncPlan
		if o.taskARN != "" {
			if cmd.Flags().Changed("spec") || !onlyFilters(cmd.Flags()) {
				return usageError{errors.New("--task-arn runs an existing task: leave out --spec and the spec flags but --include and --exclude")}
			}
			if cmd.Flags().Changed("include") {
				runOpts = append(runOpts, xacct.WithRunIncludes(f.includes...))
			}
			if cmd.Flags().Changed("exclude") {
				runOpts = append(runOpts, xacct.WithRunExcludes(f.excludes...))
			}
		} else {
			var err error
			if p, err = a.dataSyncPlan(ctx, cmd, &f); err != nil {
				return err
			}
		}
		acc, err := a.accounts(ctx, f.ids)
		if err != nil {
			return err
		}
		planner, err := newDataSyncPlanner(acc, o.poll, a.logger())
		if err != nil {
			return err
		}
		if p != nil {
			res, err := runDataSyncApply(ctx, a.out, planner, p, acc.dst != nil)
			if err != nil {
				return err
			}
			o.taskARN = res.TaskARN
		}
		return runDataSync(ctx, a.streams, planner, o.taskARN, a.tty && !o.noProgress, runOpts...)
	})
	fs := cmd.Flags()
	fs.StringVar(&o.taskARN, "task-arn", "", "run the task `ARN` instead of applying the spec first")
	fs.DurationVar(&o.poll, "poll-interval", o.poll, "ask DataSync for progress every `DURATION`, slowing down to 12 times that while nothing changes")
	fs.BoolVar(&o.noProgress, "no-progress", false, "print phase lines instead of a progress bar")
	f.register(fs)
	return cmd
}

// onlyFilters reports whether --include and --exclude are the only spec
// flags given.
func onlyFilters(fs *pflag.FlagSet) bool {
	for _, n := range dataSyncSpecFlags {
		if n != "include" && n != "exclude" && fs.Changed(n) {
			return false
		}
	}
	return true
}

// runDataSyncApply applies p and prints the ARNs and the changes; without
// a destination client it prints the destination's part for its owners.
func runDataSyncApply(ctx context.Context, w io.Writer, planner *xacct.DataSyncPlanner, p *xacct.DataSyncPlan, destination bool) (*xacct.DataSyncApplyResult, error) {
	res, err := planner.Apply(ctx, p)
	if res != nil {
		for _, l := range []struct{ name, arn string }{
			{"role", res.RoleARN}, {"source location", res.SourceLocationARN},
			{"destination location", res.DestinationLocationARN}, {"task", res.TaskARN},
		} {
			if l.arn != "" {
				fmt.Fprintf(w, "%-21s %s\n", l.name+":", l.arn)
			}
		}
		for _, c := range res.Changes {
			fmt.Fprintln(w, "changed: "+c)
		}
		if err == nil && len(res.Changes) == 0 {
			fmt.Fprintln(w, "nothing to change")
		}
	}
	if !destination {
		d := p.Destination
		fmt.Fprintf(w, "not applied, for the owners of account %s to apply:\n", d.Account)
		fmt.Fprintf(w, "  merge into the bucket policy of %s (by Sid):\n", d.Bucket)
		for line := range strings.Lines(d.BucketPolicy.String()) {
			fmt.Fprint(w, "    "+line)
		}
		fmt.Fprintf(w, "\n  set the object ownership of %s to %s\n", d.Bucket, d.ObjectOwnership)
	}
	return res, err
}

// runDataSync runs the task and reports its progress on s: a bar on err
// when bar is set, phase lines on out otherwise, and the result on out.
func runDataSync(ctx context.Context, s streams, planner *xacct.DataSyncPlanner, taskARN string, bar bool, opts ...xacct.DataSyncRunOption) error {
	pr := newPhasePrinter(s, bar)
	res, err := planner.Run(ctx, taskARN, append(opts, xacct.WithRunProgress(pr.update))...)
	pr.finish()
	if res != nil {
		fmt.Fprintln(s.out, dataSyncSummary(res))
	}
	return err
}

// dataSyncSummary is the one-line account of an execution.
func dataSyncSummary(r *xacct.DataSyncRunResult) string {
	status := string(r.Status)
	if r.Cancelled {
		status = "CANCELLED"
	}
	return fmt.Sprintf("%s: transferred %s (%s), verified %d, deleted %d, skipped %d in %s",
		status, plural(int(r.FilesTransferred), "file"), humanize.Size(r.BytesTransferred),
		r.FilesVerified, r.FilesDeleted, r.FilesSkipped, r.Duration.Round(time.Millisecond))
}

// phasePrinter shows an execution's progress: a line whenever the phase
// or a counter changes, or a progress bar.
type phasePrinter struct {
	w    io.Writer
	bar  *progressbar.ProgressBar
	last xacct.DataSyncProgress
}

func newPhasePrinter(s streams, bar bool) *phasePrinter {
	p := &phasePrinter{w: s.out}
	if bar {
		p.bar = progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(s.err),
			progressbar.OptionSetDescription("starting"),
			progressbar.OptionShowBytes(true),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

// update is the planner's progress function; Run calls it from its own
// goroutine only.
func (p *phasePrinter) update(e xacct.DataSyncProgress) {
	if e == p.last {
		return
	}
	p.last = e
	if p.bar != nil {
		if e.EstimatedBytesToTransfer > 0 && p.bar.GetMax64() != e.EstimatedBytesToTransfer {
			p.bar.ChangeMax64(e.EstimatedBytesToTransfer)
		}
		p.bar.Describe(fmt.Sprintf("%s files %d/%d", e.Phase, e.FilesTransferred, e.EstimatedFilesToTransfer))
		_ = p.bar.Set64(e.BytesTransferred)
		return
	}
	line := fmt.Sprintf("phase: %s files %d/%d bytes %s/%s", e.Phase, e.FilesTransferred, e.EstimatedFilesToTransfer,
		humanize.Size(e.BytesTransferred), humanize.Size(e.EstimatedBytesToTransfer))
	for _, c := range []struct {
		name string
		n    int64
	}{{"verified", e.FilesVerified}, {"deleted", e.FilesDeleted}, {"skipped", e.FilesSkipped}} {
		if c.n > 0 {
			line += fmt.Sprintf(" %s %d", c.name, c.n)
		}
	}
	fmt.Fprintln(p.w, line)
}

// finish clears the progress bar, if any.
func (p *phasePrinter) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
