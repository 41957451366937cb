package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/xacct/xacct"
)

// runPreflight checks the permissions a sync from src to dst needs and
// prints the outcome on w: who acts on each side, the transfer mode, and
// each missing permission with the statements that grant it. Missing
// permissions end the command with exit status 1.
func runPreflight(ctx context.Context, c *xacct.Copier, src, dst xacct.Location, w io.Writer) error {
	rep, err := c.Preflight(ctx, src, dst)
	if rep != nil {
		printPreflight(w, rep)
	}
	if err != nil {
		return err
	}
	if len(rep.Findings) > 0 {
		return preflightFailed(rep)
	}
	fmt.Fprintln(w, "preflight: every permission is in place")
	return nil
}

// printPreflight prints the identities, the mode and the findings.
func printPreflight(w io.Writer, rep *xacct.PreflightReport) {
	src, dst := rep.SourceIdentity.ARN, rep.DestinationIdentity.ARN
	switch {
	case src != "" && src == dst:
		fmt.Fprintf(w, "%-12s %s\n", "both sides:", src)
	default:
		for _, id := range []struct{ side, arn string }{{"source:", src}, {"destination:", dst}} {
			if id.arn != "" {
				fmt.Fprintf(w, "%-12s %s\n", id.side, id.arn)
			}
		}
	}
	if cp := rep.CopyIdentity.ARN; cp != "" {
		fmt.Fprintf(w, "%-12s %s\n", "copy:", cp)
	}
	if len(rep.Findings) == 0 {
		by := ""
		if rep.Writer == xacct.SideCopy {
			by = " (by the copy identity)"
		}
		fmt.Fprintf(w, "%-12s %s%s\n", "mode:", rep.Mode, by)
	}
	printFindings(w, rep)
}

// printFindings prints each missing permission: side, action and
// resource, then every statement that grants it and the policy it belongs
// in, as one line of JSON ready to merge.
func printFindings(w io.Writer, rep *xacct.PreflightReport) {
	for _, f := range rep.Findings {
		fmt.Fprintf(w, "missing: %s %s on %s\n", f.Side, f.Action, f.Resource)
		for _, fix := range f.Fixes {
			fmt.Fprintf(w, "  grant in %s:\n    %s\n", policyPlace(fix), statementJSON(fix.Statement))
		}
		if f.Hint != "" {
			fmt.Fprintf(w, "  hint: %s\n", f.Hint)
		}
	}
	printPreflightWarnings(w, rep)
}

// printPreflightWarnings prints what the copy can do without but would
// lose, such as tags it may not read, with the statements that grant it.
func printPreflightWarnings(w io.Writer, rep *xacct.PreflightReport) {
	for _, f := range rep.Warnings {
		fmt.Fprintf(w, "warning: %s %s on %s is refused; the copy goes on without it\n", f.Side, f.Action, f.Resource)
		for _, fix := range f.Fixes {
			fmt.Fprintf(w, "  grant in %s:\n    %s\n", policyPlace(fix), statementJSON(fix.Statement))
		}
	}
}

// policyPlace names the policy a fix belongs in.
func policyPlace(f xacct.PolicyFix) string {
	switch f.Kind {
	case xacct.PolicyKindBucket:
		return "the bucket policy of s3://" + f.Target
	case xacct.PolicyKindTrust:
		return "the trust policy of " + f.Target
	}
	if f.Target == "" {
		return "the caller's identity policy"
	}
	return "the identity policy of " + f.Target
}

// statementJSON renders a statement on one line, with ARNs unescaped.
func statementJSON(s xacct.Statement) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return err.Error()
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// preflightFailed is the command's error for a preflight with findings:
// exit status 1, and it unwraps to the findings, which match
// xacct.ErrAccessDenied.
func preflightFailed(rep *xacct.PreflightReport) error {
	noun := "permissions are"
	if len(rep.Findings) == 1 {
		noun = "permission is"
	}
	msg := fmt.Sprintf("preflight: %d %s missing; nothing was copied", len(rep.Findings), noun)
	return &exitError{code: exitFailed, err: &preflightError{msg: msg, err: rep.Err()}}
}

// preflightError sums up the findings printed above it.
type preflightError struct {
	msg string
	err error
}

func (e *preflightError) Error() string { return e.msg }
func (e *preflightError) Unwrap() error { return e.err }
