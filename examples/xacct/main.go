package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/aws/smithy-go"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/xacct/xacct"
)

// Exit statuses of the program.
const (
	exitOK = 0
	// exitFailed: an object failed, access was denied, a delete was
	// refused, or AWS could not be reached.
	exitFailed = 1
	// exitUsage: the command line or an input value is invalid.
	exitUsage = 2
	// exitInterrupted: SIGINT or SIGTERM stopped the command (128 +
	// SIGINT, as shells report it); nothing the command left is lost: a
	// sync deletes nothing and aborts its uploads, a DataSync execution is
	// cancelled.
	exitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return newApp(stdout, stderr).execute(ctx, args)
}

// newApp returns an app writing to stdout and stderr, with dates in local
// time.
func newApp(stdout, stderr io.Writer) *app {
	return &app{streams: streams{out: stdout, err: stderr, tty: isTerminal(stderr)}, tz: time.Local}
}

// execute runs one command line and returns the exit code. Output goes
// to the app's streams only, so tests run it in-process.
func (a *app) execute(ctx context.Context, args []string) int {
	root := a.rootCommand()
	root.SetArgs(joinOptionalValues(args))
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	code := exitCode(err, a.running)
	if ctx.Err() != nil {
		code = exitInterrupted
	}
	if msg := errorText(err); msg != "" {
		if !a.running {
			msg += fmt.Sprintf(" (see %q)", cmd.CommandPath()+" --help")
		}
		fmt.Fprintln(a.err, "xacct: "+msg)
	}
	return code
}

// optionalValues are the values of the flags that may also be given
// alone (--sse means --sse AES256), as aws-cli allows. pflag never takes
// the next argument as the value of such a flag, so the argument after it
// is joined to it first when it is the flag's value: not another flag
// and not a location (locations start with s3://). A value that is none
// of these listed is joined too, so that the flag's check names it
// instead of the command counting it as a stray argument.
var optionalValues = map[string][]string{
	"--sse":           {"AES256", "aws:kms", "aws:kms:dsse"},
	"--request-payer": {"requester"},
}

// joinOptionalValues rewrites "--sse aws:kms" as "--sse=aws:kms", up to
// a "--" that ends the flags.
func joinOptionalValues(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if _, ok := optionalValues[a]; ok && i+1 < len(args) && takesValue(args[i+1]) {
			a += "=" + args[i+1]
			i++
		}
		out = append(out, a)
	}
	return out
}

// takesValue reports whether arg, after a flag of optionalValues, is
// the flag's value rather than a flag or a location.
func takesValue(arg string) bool {
	return arg != "" && !strings.HasPrefix(arg, "-") && !strings.HasPrefix(arg, "s3://")
}

// streams is where a command writes.
type streams struct {
	out, err io.Writer
	// tty reports whether err is a terminal, which a progress bar needs.
	tty bool
}

// app is one invocation of the program.
type app struct {
	streams
	flags globalFlags
	// tz is the time zone ls shows dates in.
	tz *time.Location
	// running is set when a command's own code starts; an error before
	// that comes from parsing the command line.
	running bool
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "xacct",
		Short: "Move S3 data across AWS accounts",
		Long: `xacct copies, syncs and lists S3 data, also between buckets of different
AWS accounts. Credentials, region and endpoint come from the flags below or
from the usual AWS environment variables and shared config files.`,
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.flags.profile, "profile", "", "use profile `NAME` of the shared config files instead of $AWS_PROFILE")
	pf.StringVar(&a.flags.region, "region", "", "send requests to `REGION` (default: $AWS_REGION, the profile's region, or us-east-1)")
	pf.StringVar(&a.flags.endpointURL, "endpoint-url", "", "send requests to this `URL` instead of AWS, with path-style bucket addressing")
	pf.BoolVar(&a.flags.debug, "debug", false, "log debug messages to stderr")
	root.SetOut(a.out)
	root.SetErr(a.err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(a.syncCommand(), a.lsCommand(), a.whoamiCommand(), a.verifyCommand(), a.replicationCommand(), a.dataSyncCommand(),
		a.demoCommand(), a.sandboxCommand())
	return root
}

// runE marks the command as running before fn, so errors fn returns are
// not taken for command-line mistakes.
func (a *app) runE(fn func(ctx context.Context, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a.running = true
		return fn(cmd.Context(), args)
	}
}

// logger returns the --debug logger.
func (a *app) logger() *slog.Logger { return newLogger(a.err, a.flags.debug) }

// argsBetween accepts min to max positional arguments.
func argsBetween(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case min == max && len(args) != min:
			return fmt.Errorf("%s takes %d arguments, got %d", cmd.Name(), min, len(args))
		case len(args) < min || len(args) > max:
			return fmt.Errorf("%s takes %d to %d arguments, got %d", cmd.Name(), min, max, len(args))
		}
		return nil
	}
}

// usageError is a command-line mistake found after parsing.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitError ends the program with a given code. A nil err prints
// nothing, as when ls finds no objects.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// exitCode maps a command's error to the exit status: 2 for anything the
// user must fix in the command line (flags, arguments, locations, option
// values, replication and DataSync specs), 1 for everything that went wrong talking to AWS (a failed
// object, access denied, a refused delete, a missing bucket).
func exitCode(err error, running bool) int {
	var exit *exitError
	var usage usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &exit):
		return exit.code
	case !running, errors.As(err, &usage),
		errors.Is(err, xacct.ErrInvalidLocation), errors.Is(err, xacct.ErrInvalidOption),
		errors.Is(err, xacct.ErrInvalidReplication):
		return exitUsage
	}
	return exitFailed
}

// errorText renders err on one line. The SDK's "operation error S3:
// CopyObject, https response error StatusCode: 403, RequestID: …" preamble
// is replaced by the service's code and message.
func errorText(err error) string {
	var exit *exitError
	if errors.As(err, &exit) && exit.err == nil {
		return ""
	}
	s := err.Error()
	var op *smithy.OperationError
	var api smithy.APIError
	if errors.As(err, &op) && errors.As(op, &api) {
		short := api.ErrorCode()
		if m := api.ErrorMessage(); m != "" {
			short += ": " + m
		}
		// A refused AssumeRole hides inside the error of the request
		// that needed credentials; the role is what to look at.
		var assume *xacct.AssumeRoleError
		if errors.As(op, &assume) {
			short = "assume role " + assume.RoleARN + ": " + short
		}
		s = strings.Replace(s, op.Error(), short, 1)
	}
	// errors.Join and cobra's suggestions span lines.
	var parts []string
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, "; ")
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// version is the module version the binary was built from, as go install
// records it.
func version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}
