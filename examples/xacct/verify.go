package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/xacct/xacct"
)

// verifyOptions are the flags of the verify command.
type verifyOptions struct {
	json         bool
	filters      []xacct.Filter
	concurrency  int
	requestPayer string
	ids          identityFlags
	accounts     accountFlags
}

func (a *app) verifyCommand() *cobra.Command {
	o := verifyOptions{concurrency: xacct.DefaultConcurrency}
	cmd := &cobra.Command{
		Use:   "verify SRC DST",
		Short: "Compare two S3 locations and print every difference",
		Long: `Verify lists SRC and DST side by side, as rclone check does, and prints one
line per key that differs: missing-on-destination, missing-on-source, size or
content (ETags, or checksums where ETags cannot be compared). It copies
nothing and exits with status 1 when any key differs. --exclude, --include
and the identity flags work as in sync.`,
		Example: `  xacct verify s3://source-bucket/data/ s3://backup-bucket/data/
  xacct verify s3://src s3://dst --source-profile a --dest-profile b --json`,
		Args: argsBetween(2, 2),
		RunE: a.runE(func(ctx context.Context, args []string) error {
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
			return runVerify(ctx, s, src, dst, o, a.streams)
		}),
	}
	f := cmd.Flags()
	f.Var(&filterFlag{rules: &o.filters}, "exclude", "leave out keys matching `PATTERN` (repeatable)")
	f.Var(&filterFlag{rules: &o.filters, include: true}, "include", "take back keys matching `PATTERN` an earlier --exclude left out (repeatable)")
	f.IntVar(&o.concurrency, "concurrency", o.concurrency, fmt.Sprintf("objects to compare at once, 1 to %d", xacct.MaxConcurrency))
	registerRequestPayer(f, &o.requestPayer)
	f.BoolVar(&o.json, "json", false, "print the report as JSON on stdout")
	o.ids.register(f)
	o.accounts.register(f)
	return cmd
}

// runVerify compares src and dst and prints the differences on out.out,
// one per line, and a summary on out.err.
func runVerify(ctx context.Context, s sides, src, dst xacct.Location, o verifyOptions, out streams) error {
	payer, err := requestPayerOption(o.requestPayer)
	if err != nil {
		return err
	}
	accounts, err := o.accounts.options()
	if err != nil {
		return err
	}
	copier, err := newCopier(s, append(accounts,
		xacct.WithConcurrency(o.concurrency),
		xacct.WithFilters(o.filters...),
		payer,
	)...)
	if err != nil {
		return err
	}
	report, err := copier.Verify(ctx, src, dst)
	if report == nil {
		return err
	}
	if o.json {
		if werr := writeJSON(out.out, newJSONVerifyReport(report)); werr != nil {
			return fmt.Errorf("write report: %w", werr)
		}
	} else {
		printDifferences(out.out, report)
		fmt.Fprintln(out.err, verifySummary(report))
	}
	return err
}

// printDifferences prints one line per difference: kind, key, detail.
func printDifferences(w io.Writer, r *xacct.VerifyReport) {
	for _, d := range r.Differences {
		line := d.Kind.String() + ": " + d.Key
		if d.Detail != "" {
			line += " (" + d.Detail + ")"
		}
		fmt.Fprintln(w, line)
	}
	if n := r.Differ + r.MissingOnDestination + r.MissingOnSource; n > int64(len(r.Differences)) {
		fmt.Fprintf(w, "… and %d more\n", n-int64(len(r.Differences)))
	}
}

// verifySummary is the one-line account of a verify.
func verifySummary(r *xacct.VerifyReport) string {
	s := fmt.Sprintf("matched %d, differ %d, missing on destination %d, missing on source %d",
		r.Matched+r.SizeOnly, r.Differ, r.MissingOnDestination, r.MissingOnSource)
	if r.SizeOnly > 0 {
		s += fmt.Sprintf(" (%d compared by size only)", r.SizeOnly)
	}
	if r.Excluded > 0 {
		s += fmt.Sprintf(", excluded %d", r.Excluded)
	}
	return s + " in " + r.Duration.Round(time.Millisecond).String()
}

// jsonVerifyReport is the --json form of a VerifyReport: kinds as
// strings, the duration in seconds.
type jsonVerifyReport struct {
	Source               string           `json:"source"`
	Destination          string           `json:"destination"`
	OK                   bool             `json:"ok"`
	Matched              int64            `json:"matched"`
	SizeOnly             int64            `json:"sizeOnly"`
	Differ               int64            `json:"differ"`
	MissingOnDestination int64            `json:"missingOnDestination"`
	MissingOnSource      int64            `json:"missingOnSource"`
	Excluded             int64            `json:"excluded"`
	Differences          []jsonDifference `json:"differences"`
	Duration             float64          `json:"duration"`
}

type jsonDifference struct {
	Key    string `json:"key"`
	Kind   string `json:"kind"`
	Detail string `json:"detail,omitempty"`
}

func newJSONVerifyReport(r *xacct.VerifyReport) jsonVerifyReport {
	j := jsonVerifyReport{
		Source:               r.Source.String(),
		Destination:          r.Destination.String(),
		OK:                   r.OK(),
		Matched:              r.Matched,
		SizeOnly:             r.SizeOnly,
		Differ:               r.Differ,
		MissingOnDestination: r.MissingOnDestination,
		MissingOnSource:      r.MissingOnSource,
		Excluded:             r.Excluded,
		Differences:          make([]jsonDifference, 0, len(r.Differences)),
		Duration:             r.Duration.Seconds(),
	}
	for _, d := range r.Differences {
		j.Differences = append(j.Differences, jsonDifference{Key: d.Key, Kind: d.Kind.String(), Detail: d.Detail})
	}
	return j
}
