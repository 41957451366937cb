package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/humanize"
)

// syncOptions are the flags of the sync command.
type syncOptions struct {
	delete        bool
	dryRun        bool
	sizeOnly      bool
	exact         bool
	json          bool
	noProgress    bool
	preflightOnly bool
	noPreflight   bool
	filters       []xacct.Filter
	concurrency   int
	maxDelete     int
	ids           identityFlags
	accounts      accountFlags
	transfer      transferFlags
}

func (a *app) syncCommand() *cobra.Command {
	o := syncOptions{concurrency: xacct.DefaultConcurrency, maxDelete: xacct.NoDeleteCap, transfer: newTransferFlags()}
	cmd := &cobra.Command{
		Use:   "sync SRC DST",
		Short: "Copy new and changed objects from one S3 location to another",
		Long: `Sync copies every object under SRC that is missing or different under DST
and prints one line per copy or delete. An object present on both
sides is copied again when the sizes differ or the source is newer (see
--size-only and --exact). With --delete, objects under DST that are not under
SRC are deleted, but only when every copy succeeded.

--exclude and --include take shell-style patterns matched against the key
relative to SRC or DST ('*' also matches '/'). Every key starts included and
the last matching rule, in command-line order, decides.

Each side may use its own credentials: --source-profile and --dest-profile
(default --profile), and a role assumed on top with --role-arn, or
--source-role-arn and --dest-role-arn, and --external-id. When one principal
can read SRC and write DST the copy is server-side; otherwise the bytes
stream through xacct (the summary names the mode). A third identity,
--copy-profile and/or --copy-role-arn (with --copy-external-id), makes the
server-side copies when it can read SRC; listing and deleting DST stay with
the destination identity.

Before moving anything, sync checks every permission it needs and names each
missing one with the policy statement that grants it (--no-preflight skips
the check; --preflight-only runs only the check, exiting 1 if anything is
missing).`,
		Example: `  xacct sync s3://source-bucket/data/ s3://backup-bucket/data/
  xacct sync s3://src s3://dst --delete --max-delete 100 --dryrun
  xacct sync s3://src s3://dst --exclude '*' --include '*.csv' --json
  xacct sync s3://src s3://dst --source-profile a --dest-profile b --preflight-only
  xacct sync s3://src s3://dst --profile ops --role-arn arn:aws:iam::111111111111:role/copy --external-id 5f1c
  xacct sync s3://src s3://dst --source-profile a --dest-profile b --copy-role-arn arn:aws:iam::222222222222:role/copier`,
		Args: argsBetween(2, 2),
		RunE: a.runE(func(ctx context.Context, args []string) error {
			if o.sizeOnly && o.exact {
				return usageError{errors.New("--size-only and --exact cannot be used together")}
			}
			if o.preflightOnly && o.noPreflight {
				return usageError{errors.New("--preflight-only and --no-preflight cannot be used together")}
			}
			src, err := parseLocation("source", args[0])
			if err != nil {
				return err
			}
			dst, err := parseLocation("destination", args[1])
			if err != nil {
				return err
			}
			s, err := a.sides(ctx, o.ids, o.concurrency)
			if err != nil {
				return err
			}
			return runSync(ctx, s, src, dst, o, a.streams, a.logger())
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&o.delete, "delete", false, "delete objects under DST that are not under SRC")
	f.BoolVar(&o.dryRun, "dryrun", false, "print what would be copied and deleted, change nothing")
	f.Var(&filterFlag{rules: &o.filters}, "exclude", "leave out keys matching `PATTERN` (repeatable)")
	f.Var(&filterFlag{rules: &o.filters, include: true}, "include", "take back keys matching `PATTERN` an earlier --exclude left out (repeatable)")
	f.BoolVar(&o.sizeOnly, "size-only", false, "copy objects present on both sides only when their sizes differ")
	f.BoolVar(&o.exact, "exact", false, "copy objects present on both sides when their sizes or ETags differ")
	f.IntVar(&o.concurrency, "concurrency", o.concurrency, fmt.Sprintf("objects to copy at once, 1 to %d", xacct.MaxConcurrency))
	f.IntVar(&o.maxDelete, "max-delete", o.maxDelete, "refuse every delete when more than `N` objects would be deleted; -1 for no cap")
	f.BoolVar(&o.json, "json", false, "print the report as JSON on stdout instead of one line per object")
	f.BoolVar(&o.noProgress, "no-progress", false, "do not show a progress bar")
	f.BoolVar(&o.preflightOnly, "preflight-only", false, "check the permissions the sync needs, print what is missing and how to grant it, copy nothing")
	f.BoolVar(&o.noPreflight, "no-preflight", false, "skip the permission check before copying")
	o.ids.register(f)
	o.ids.registerCopy(f)
	o.accounts.register(f)
	o.transfer.register(f)
	return cmd
}

// filterFlag is an --include or --exclude flag. Both flags append to the
// same slice, so the rules keep the order they were typed in, which
// decides the outcome.
type filterFlag struct {
	rules   *[]xacct.Filter
	include bool
}

func (f *filterFlag) Set(pattern string) error {
	*f.rules = append(*f.rules, xacct.Filter{Pattern: pattern, Include: f.include})
	return nil
}

func (f *filterFlag) Type() string { return "pattern" }

// String lists the patterns of this flag's kind; pflag shows it as the
// default when it is not empty.
func (f *filterFlag) String() string {
	if f.rules == nil {
		return ""
	}
	var ps []string
	for _, r := range *f.rules {
		if r.Include == f.include {
			ps = append(ps, r.Pattern)
		}
	}
	return strings.Join(ps, ",")
}

// parseLocation parses a command-line location; role (source,
// destination…) says which argument was wrong.
func parseLocation(role, s string) (xacct.Location, error) {
	loc, err := xacct.ParseLocation(s)
	if err == nil {
		return loc, nil
	}
	var ve *xacct.ValidationError
	if errors.As(err, &ve) && ve.Value != s {
		return loc, fmt.Errorf("%s %q: %w", role, s, err)
	}
	return loc, fmt.Errorf("%s: %w", role, err)
}

// runSync syncs src to dst, reading with s.src and writing with s.dst,
// and reports on out: per-object lines, a progress bar, or JSON, as o
// asks. With o.preflightOnly it only checks permissions.
func runSync(ctx context.Context, s sides, src, dst xacct.Location, o syncOptions, out streams, log *slog.Logger) error {
	compare := xacct.CompareSizeAndTime
	switch {
	case o.sizeOnly:
		compare = xacct.CompareSizeOnly
	case o.exact:
		compare = xacct.CompareETag
	}
	transfer, err := o.transfer.options()
	if err != nil {
		return err
	}
	accounts, err := o.accounts.options()
	if err != nil {
		return err
	}
	copier, err := newCopier(s, append(append(transfer, accounts...),
		xacct.WithConcurrency(o.concurrency),
		xacct.WithCompare(compare),
		xacct.WithFilters(o.filters...),
		xacct.WithDelete(o.delete),
		xacct.WithMaxDelete(o.maxDelete),
		xacct.WithDryRun(o.dryRun),
		xacct.WithPreflight(!o.noPreflight),
		xacct.WithLogger(log),
	)...)
	if err != nil {
		return err
	}
	if o.preflightOnly {
		return runPreflight(ctx, copier, src, dst, out.out)
	}
	p := newSyncPrinter(out, o.json, out.tty && !o.noProgress && !o.json)
	report, err := copier.Sync(ctx, src, dst, xacct.WithProgress(p))
	p.finish()
	if report == nil {
		return err
	}
	if o.json {
		if err := writeJSON(out.out, newJSONReport(report)); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	} else if rep := report.Preflight; rep != nil && len(rep.Findings) > 0 {
		printFindings(out.err, rep)
		return preflightFailed(rep)
	} else {
		if report.Preflight != nil {
			printPreflightWarnings(out.err, report.Preflight)
		}
		for _, w := range report.Warnings {
			fmt.Fprintln(out.err, "warning: "+errorText(w))
		}
		fmt.Fprintln(out.err, summaryLine(report))
	}
	return syncError(report)
}

// summaryLine is the one-line account of a sync printed at its end.
func summaryLine(r *xacct.SyncReport) string {
	s := fmt.Sprintf("copied %d (%s), skipped %d, deleted %d, failed %d",
		r.Copied, humanize.Size(r.CopiedBytes), r.Skipped, r.Deleted, r.Failed)
	if r.Excluded > 0 {
		s += fmt.Sprintf(", excluded %d", r.Excluded)
	}
	if r.Warned > 0 {
		s += fmt.Sprintf(", warned %d", r.Warned)
	}
	s += " in " + r.Duration.Round(time.Millisecond).String()
	if r.Mode != xacct.ModeAuto { // decided unless the sync failed early
		by := ""
		if r.Writer == xacct.SideCopy {
			by = ", by the copy identity"
		}
		s += " (mode: " + r.Mode.String() + by + ")"
	}
	if r.DryRun {
		s = "(dryrun) " + s
	}
	return s
}

// syncError turns a report's errors into the command's error. Failed
// objects were printed as they happened and are only counted here; a
// listing failure or held-back deletes are spelled out.
func syncError(r *xacct.SyncReport) error {
	if len(r.Errors) == 0 {
		return nil
	}
	var parts []string
	if r.Failed > 0 {
		noun := "objects"
		if r.Failed == 1 {
			noun = "object"
		}
		parts = append(parts, fmt.Sprintf("%d %s failed", r.Failed, noun))
	}
	for _, err := range r.Errors {
		var oe *xacct.ObjectError
		if errors.As(err, &oe) && oe.Op != "list" {
			continue
		}
		parts = append(parts, errorText(err))
	}
	return &syncFailure{msg: strings.Join(parts, "; "), err: r.Err()}
}

// syncFailure is a sync that did not complete cleanly. It unwraps to
// every error of the report.
type syncFailure struct {
	msg string
	err error
}

func (e *syncFailure) Error() string { return e.msg }
func (e *syncFailure) Unwrap() error { return e.err }

// jsonReport is the --json form of a SyncReport: locations and the mode
// as strings, the duration in seconds, warnings and errors as text.
type jsonReport struct {
	Source      string   `json:"source"`
	Destination string   `json:"destination"`
	DryRun      bool     `json:"dryRun"`
	Listed      int64    `json:"listed"`
	Copied      int64    `json:"copied"`
	CopiedBytes int64    `json:"copiedBytes"`
	Skipped     int64    `json:"skipped"`
	Excluded    int64    `json:"excluded"`
	Deleted     int64    `json:"deleted"`
	Failed      int64    `json:"failed"`
	Duration    float64  `json:"duration"`
	Mode        string   `json:"mode"`
	Warned      int64    `json:"warned"`
	Warnings    []string `json:"warnings"`
	Errors      []string `json:"errors"`
	// Missing lists the permissions the preflight found missing, each
	// with the statements that grant it; PreflightWarnings what the copy
	// went on without.
	Missing           []jsonFinding `json:"missing"`
	PreflightWarnings []jsonFinding `json:"preflightWarnings"`
}

// jsonFinding is one preflight finding in the JSON report.
type jsonFinding struct {
	Side     string    `json:"side"`
	Action   string    `json:"action"`
	Resource string    `json:"resource"`
	Error    string    `json:"error"`
	Fixes    []jsonFix `json:"fixes"`
}

// jsonFix is a statement and the policy it belongs in.
type jsonFix struct {
	Policy    string          `json:"policy"`
	Statement xacct.Statement `json:"statement"`
}

func jsonFindings(fs []*xacct.PreflightFinding) []jsonFinding {
	out := make([]jsonFinding, 0, len(fs))
	for _, f := range fs {
		j := jsonFinding{Side: string(f.Side), Action: f.Action, Resource: f.Resource, Error: errorText(f.Err), Fixes: make([]jsonFix, 0, len(f.Fixes))}
		for _, fix := range f.Fixes {
			j.Fixes = append(j.Fixes, jsonFix{Policy: policyPlace(fix), Statement: fix.Statement})
		}
		out = append(out, j)
	}
	return out
}

func newJSONReport(r *xacct.SyncReport) jsonReport {
	j := jsonReport{
		Source:      r.Source.String(),
		Destination: r.Destination.String(),
		DryRun:      r.DryRun,
		Listed:      r.Listed,
		Copied:      r.Copied,
		CopiedBytes: r.CopiedBytes,
		Skipped:     r.Skipped,
		Excluded:    r.Excluded,
		Deleted:     r.Deleted,
		Failed:      r.Failed,
		Duration:    r.Duration.Seconds(),
		Mode:        r.Mode.String(),
		Warned:      r.Warned,
		Warnings:    make([]string, 0, len(r.Warnings)),
		Errors:      make([]string, 0, len(r.Errors)),
	}
	for _, w := range r.Warnings {
		j.Warnings = append(j.Warnings, errorText(w))
	}
	for _, err := range r.Errors {
		j.Errors = append(j.Errors, errorText(err))
	}
	j.Missing, j.PreflightWarnings = []jsonFinding{}, []jsonFinding{}
	if r.Preflight != nil {
		j.Missing, j.PreflightWarnings = jsonFindings(r.Preflight.Findings), jsonFindings(r.Preflight.Warnings)
	}
	return j
}

// syncPrinter shows a sync's progress: one line per copy and delete as
// aws-cli prints them, or a progress bar. Failures are always printed.
// The Copier calls it from many goroutines.
type syncPrinter struct {
	mu    sync.Mutex
	out   io.Writer
	err   io.Writer
	quiet bool // no per-object lines
	bar   *progressbar.ProgressBar

	done, copied, copiedBytes int64
}

var _ xacct.ProgressListener = (*syncPrinter)(nil)

func newSyncPrinter(s streams, quiet, bar bool) *syncPrinter {
	p := &syncPrinter{out: s.out, err: s.err, quiet: quiet || bar}
	if bar {
		// The bar redraws itself from its own goroutine; the shared
		// writer keeps its output and failure lines from interleaving.
		w := &lockedWriter{w: s.err}
		p.err = w
		p.bar = progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("syncing"),
			progressbar.OptionShowBytes(true),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

// ObjectDone prints or counts one object.
func (p *syncPrinter) ObjectDone(e xacct.ObjectEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var what string
	switch e.Action {
	case xacct.ActionCopy:
		what = e.Source.String() + " to " + e.Destination.String()
	case xacct.ActionDelete:
		what = e.Destination.String()
	}
	switch {
	case what == "":
	case e.Err != nil:
		clear := ""
		if p.bar != nil {
			clear = "\r\033[K" // erase the bar's line first
		}
		// The event's error repeats the operation and key; print the cause.
		cause := e.Err
		var oe *xacct.ObjectError
		if errors.As(cause, &oe) {
			cause = oe.Err
		}
		fmt.Fprintf(p.err, "%s%s failed: %s: %s\n", clear, e.Action, what, errorText(cause))
	case !p.quiet:
		dry := ""
		if e.DryRun {
			dry = "(dryrun) "
		}
		fmt.Fprintf(p.out, "%s%s: %s\n", dry, e.Action, what)
	}
	if p.bar != nil {
		p.done++
		var bytes int64
		if e.Action == xacct.ActionCopy && e.Err == nil {
			p.copied++
			p.copiedBytes += e.Size
			bytes = e.Size
		}
		p.bar.Describe(fmt.Sprintf("objects: %d, copied: %d (%s)", p.done, p.copied, humanize.Size(p.copiedBytes)))
		_ = p.bar.Add64(bytes)
	}
}

// finish clears the progress bar, if any, before the summary is printed.
func (p *syncPrinter) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// lockedWriter serialises writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
