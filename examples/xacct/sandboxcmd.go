package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

// sandboxOptions are the flags of the sandbox command.
type sandboxOptions struct {
	port      int
	enforce   bool
	awsConfig string
}

// crossSessionName is the role session name of the cross profile and of
// the demo's role session, so the assumed-role ARN is known in advance.
const crossSessionName = "xacct-cross"

// shutdownTimeout bounds how long requests in flight may finish once the
// sandbox is interrupted.
const shutdownTimeout = 5 * time.Second

func (a *app) sandboxCommand() *cobra.Command {
	o := sandboxOptions{enforce: true}
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Serve an in-memory AWS with two accounts and a cross-account role",
		Long: `Sandbox serves S3, STS, IAM, DataSync and S3 Control for two accounts on 127.0.0.1 until it is
interrupted. Account A (` + sandbox.AccountA + `) owns s3://` + demoSource + ` with sample files and
the role ` + copyRoleName + `; account B (` + sandbox.AccountB + `) owns s3://` + demoDestination + ` and the user
` + operatorName + `, who may assume the role with an external ID. The role may read the
source and write under ` + demoDestPrefix + ` in the destination, whose bucket policy admits it.

Policies are enforced as AWS would (--enforce=false allows everything). Once
serving, it prints READY, then shell export lines for each identity. With
--aws-config DIR it also writes DIR/config and DIR/credentials with the
profiles a and b (the root users), operator, and cross (the role, assumed as
the operator with the external ID).`,
		Example: `  xacct sandbox --port 4566 --aws-config /tmp/xacct-aws
  AWS_CONFIG_FILE=/tmp/xacct-aws/config AWS_SHARED_CREDENTIALS_FILE=/tmp/xacct-aws/credentials \
    xacct --profile cross whoami`,
		Args: argsBetween(0, 0),
		RunE: a.runE(func(ctx context.Context, _ []string) error {
			if o.port < 0 || o.port > 65535 {
				return usageError{fmt.Errorf("--port %d: must be 0 (any free port) to 65535", o.port)}
			}
			return runSandbox(ctx, o, a.out, a.err)
		}),
	}
	f := cmd.Flags()
	f.IntVar(&o.port, "port", 0, "listen on this `PORT` of 127.0.0.1; 0 picks a free one")
	f.BoolVar(&o.enforce, "enforce", o.enforce, "refuse what the IAM, trust and bucket policies do not allow")
	f.StringVar(&o.awsConfig, "aws-config", "", "write AWS shared config and credentials files into `DIR`")
	return cmd
}

// runSandbox serves the sandbox until ctx is done. stdout gets READY and
// the environment; stderr says where it listens.
func runSandbox(ctx context.Context, o sandboxOptions, stdout, stderr io.Writer) error {
	start := sandbox.Start
	if o.enforce {
		start = enforce.Start
	}
	sb, err := start()
	if err != nil {
		return fmt.Errorf("start sandbox: %w", err)
	}
	defer sb.Close()
	// Without access checks, policy documents are still refused when AWS
	// would refuse them.
	sb.SetPolicyValidator(enforce.PolicyValidator())
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(o.port)))
	if err != nil {
		return err
	}
	// The sandbox starts on a port of its own choosing; serving it on the
	// asked one and pointing its URL there makes every client, profile
	// and export line use that port.
	sb.URL = "http://" + ln.Addr().String()
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		<-served
	}()

	c, err := newCrossAccount(ctx, sb)
	if err != nil {
		return fmt.Errorf("set up accounts: %w", err)
	}
	if o.awsConfig != "" {
		if err := writeSandboxProfiles(c, o.awsConfig); err != nil {
			return err
		}
	}
	mode := "enforcing policies"
	if !o.enforce {
		mode = "allowing every request"
	}
	fmt.Fprintf(stderr, "xacct sandbox on %s, %s; interrupt to stop\n", sb.URL, mode)
	fmt.Fprintln(stdout, "READY")
	fmt.Fprint(stdout, sandboxExports(c, o.awsConfig))

	select {
	case <-ctx.Done():
		return nil
	case err := <-served:
		served <- err // for the deferred shutdown
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve: %w", err)
	}
}

// writeSandboxProfiles writes the shared config and credentials files.
func writeSandboxProfiles(c *crossAccount, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("--aws-config: %w", err)
	}
	_, _, err := c.sb.WriteAWSConfig(dir, map[string]sandbox.ProfileSpec{
		"a":          {Principal: c.rootA},
		"b":          {Principal: c.rootB},
		operatorName: {Principal: c.operator},
		"cross": {
			RoleARN: c.roleARN, SourceProfile: operatorName,
			ExternalID: demoExternalID, RoleSessionName: crossSessionName,
		},
	})
	if err != nil {
		return fmt.Errorf("--aws-config: %w", err)
	}
	return nil
}

// sandboxExports renders, per identity, the export lines a shell needs to
// act as it.
func sandboxExports(c *crossAccount, awsConfig string) string {
	var b strings.Builder
	block := func(title string, p sandbox.Principal, extra ...string) {
		fmt.Fprintf(&b, "\n# %s\n", title)
		for _, kv := range append(c.sb.Env(p), extra...) {
			name, value, _ := strings.Cut(kv, "=")
			fmt.Fprintf(&b, "export %s=%s\n", name, shellQuote(value))
		}
	}
	block(fmt.Sprintf("account A (%s), root: owns s3://%s and role %s", sandbox.AccountA, demoSource, copyRoleName),
		c.rootA, "XACCT_ACCOUNT_ID="+sandbox.AccountA)
	block(fmt.Sprintf("account B (%s), root: owns s3://%s", sandbox.AccountB, demoDestination),
		c.rootB, "XACCT_ACCOUNT_ID="+sandbox.AccountB)
	block(fmt.Sprintf("account B (%s), user %s: may assume the role with the external id", sandbox.AccountB, operatorName),
		c.operator, "XACCT_ACCOUNT_ID="+sandbox.AccountB, "XACCT_ROLE_ARN="+c.roleARN, "XACCT_EXTERNAL_ID="+demoExternalID)
	fmt.Fprintf(&b, "\n# then: xacct whoami --role-arn \"$XACCT_ROLE_ARN\" --external-id \"$XACCT_EXTERNAL_ID\"\n")
	if awsConfig != "" {
		fmt.Fprintf(&b, "# or:   export AWS_CONFIG_FILE=%s AWS_SHARED_CREDENTIALS_FILE=%s; xacct --profile cross whoami\n",
			shellQuote(filepath.Join(awsConfig, "config")), shellQuote(filepath.Join(awsConfig, "credentials")))
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=+,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
