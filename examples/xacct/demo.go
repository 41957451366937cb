package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
	"github.com/xacct/xacct/internal/sandbox/enforce"
)

func (a *app) demoCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Copy across two AWS accounts in memory: roles, policies, preflight, no account needed",
		Long: `Demo starts an in-memory S3, STS, IAM, DataSync and S3 Control with two
accounts that enforce their policies, sets up a cross-account copy role with
the library's policy builders, and runs whoami, ls and sync through it, then
a sync between two identities that share no principal, a preflight that
finds a missing grant, S3 Replication set up by both accounts, and a
DataSync task. It prints the command you would type for each step, as if the
profiles of "xacct sandbox --aws-config" were configured. It needs no AWS
account, network or environment, and ignores --profile, --region and
--endpoint-url.`,
		Args: argsBetween(0, 0),
		RunE: a.runE(func(ctx context.Context, _ []string) error {
			return runDemo(ctx, a.out, a.logger(), a.tz)
		}),
	}
}

// demoObject is one sample file.
type demoObject struct {
	key  string
	body []byte
}

// demoObjects returns the sample files: text, CSV, binary of several
// sizes, and an empty folder marker. The bytes are the same on every run.
func demoObjects() []demoObject {
	random := rand.NewChaCha8([32]byte{'x', 'a', 'c', 'c', 't'})
	binary := func(header string, n int) []byte {
		b := make([]byte, n)
		_, _ = random.Read(b)
		return append([]byte(header), b...)
	}
	csv := func(quarter string, rows int) []byte {
		var b bytes.Buffer
		b.WriteString("date,region,orders,revenue\n")
		for i := range rows {
			fmt.Fprintf(&b, "2026-%s-%02d,eu-west-1,%d,%d.%02d\n", quarter, i%28+1, 100+i*7, 2500+i*113, i%100)
		}
		return b.Bytes()
	}
	var log bytes.Buffer
	for i := range 120 {
		fmt.Fprintf(&log, "2026-03-01T08:%02d:%02dZ INFO request served path=/api/orders status=200\n", i/60, i%60)
	}
	return []demoObject{
		{"README.txt", []byte("Sample data for the xacct demo: quarterly reports, images, logs and an\nempty folder marker. Nothing here is real.\n")},
		{"archive/.keep", nil},
		{"images/banner.jpg", binary("\xff\xd8\xff\xe0", 1400<<10)},
		{"images/logo.png", binary("\x89PNG\r\n\x1a\n", 6<<10)},
		{"logs/2026-03-01.log", log.Bytes()},
		{"reports/2025/annual.pdf", binary("%PDF-1.7\n", 180<<10)},
		{"reports/2026/q1.csv", csv("01", 40)},
	}
}

// runDemo runs the demo and writes everything to w, with dates in tz.
func runDemo(ctx context.Context, w io.Writer, log *slog.Logger, tz *time.Location) error {
	sb, err := enforce.Start()
	if err != nil {
		return fmt.Errorf("start sandbox: %w", err)
	}
	defer sb.Close()
	c, err := newCrossAccount(ctx, sb)
	if err != nil {
		return fmt.Errorf("set up accounts: %w", err)
	}
	stale := []byte(strings.Repeat("stale,row\n", 20))
	if err := c.put(ctx, c.rootB, demoDestination, demoDestPrefix+"old-export.csv", stale); err != nil {
		return err
	}
	role, err := c.roleConfig(crossSessionName)
	if err != nil {
		return err
	}
	d := demo{w: w, log: log, tz: tz}

	fmt.Fprintf(w, "xacct demo: two AWS accounts in memory, every policy enforced; $ lines are the commands.\n")
	fmt.Fprintf(w, "A %s owns s3://%s and role %s; B %s owns s3://%s and user %s.\n",
		sandbox.AccountA, demoSource, copyRoleName, sandbox.AccountB, demoDestination, operatorName)
	fmt.Fprintf(w, "Profile cross: role_arn %s, source_profile %s, external_id %s.\n", c.roleARN, operatorName, demoExternalID)

	d.section("Policies from the builders")
	fmt.Fprintf(w, "trust policy of %s (CopyRoleTrustPolicy):\n  %s\n", copyRoleName, statementJSON(c.trust.Statement[0]))
	fmt.Fprintf(w, "permissions of %s (CopyRolePolicy): %s\n", copyRoleName, sids(c.rolePolicy))
	fmt.Fprintf(w, "bucket policy of %s (DestinationBucketPolicy): %s\n", demoDestination, sids(c.bucketPolicy))

	d.section("The operator in B, then the role in A it assumes with the external id")
	d.command("xacct whoami --profile " + operatorName)
	if err := runWhoAmI(ctx, newSTS(sb.Config(c.operator)), false, w); err != nil {
		return err
	}
	d.command("xacct whoami --profile cross")
	if err := runWhoAmI(ctx, newSTS(role), false, w); err != nil {
		return err
	}

	src := c.src
	d.section("List the source through the role")
	d.command("xacct ls s3://" + demoSource + " --recursive --human-readable --summarize --profile cross")
	if err := runLs(ctx, newS3(role), &src, lsOptions{recursive: true, human: true, summarize: true}, w, tz); err != nil {
		return err
	}

	syncArgs := "xacct sync s3://" + demoSource + " " + c.dst.String() + " --delete --profile cross"
	d.section("Sync through the role: it may read A and write B, so S3 copies server-side")
	d.command(syncArgs)
	if err := d.sync(ctx, oneSide(role), src, c.dst, syncOptions{delete: true}); err != nil {
		return err
	}
	dst := c.dst
	d.section("List the destination: the copies are there, the stale file is gone")
	d.command("xacct ls " + dst.String() + " --recursive --human-readable --summarize --profile cross")
	if err := runLs(ctx, newS3(role), &dst, lsOptions{recursive: true, human: true, summarize: true}, w, tz); err != nil {
		return err
	}

	if err := d.twoIdentities(ctx, c); err != nil {
		return err
	}

	d.section("B's bucket policy loses its write statement; a new file lands in A")
	broken, _ := xacct.RemoveStatements(&c.bucketPolicy, "XacctDestinationWrite")
	if err := c.putBucketPolicy(ctx, *broken); err != nil {
		return err
	}
	if err := c.put(ctx, c.rootA, demoSource, "reports/2026/q2.csv", []byte("date,region,orders,revenue\n")); err != nil {
		return err
	}
	d.command(syncArgs + " --preflight-only")
	copier, err := newCopier(oneSide(role), xacct.WithLogger(log))
	if err != nil {
		return err
	}
	err = runPreflight(ctx, copier, src, c.dst, w)
	var exit *exitError
	if !errors.As(err, &exit) {
		return fmt.Errorf("the preflight should have found the missing grant: %w", err)
	}
	fmt.Fprintf(w, "xacct: %s (exit status %d)\n", errorText(err), exit.code)

	d.section("B puts the statement back; the sync copies the new file")
	if err := c.putBucketPolicy(ctx, c.bucketPolicy); err != nil {
		return err
	}
	d.command(syncArgs)
	if err := d.sync(ctx, oneSide(role), src, c.dst, syncOptions{delete: true}); err != nil {
		return err
	}
	if err := d.replication(ctx, c); err != nil {
		return err
	}
	return d.dataSync(ctx, c)
}

// demoReplica is the bucket of account B that replication fills.
const demoReplica = "xacct-demo-replica"

// replication sets up S3 Replication of A's reports/ into a new bucket
// of B with the replication commands' code, as each account's root (the
// profiles a and b of "xacct sandbox --aws-config").
func (d demo) replication(ctx context.Context, c *crossAccount) error {
	if err := c.sb.CreateBucket(ctx, c.rootB, demoReplica); err != nil {
		return fmt.Errorf("create bucket %s: %w", demoReplica, err)
	}
	spec := xacct.ReplicationSpec{
		Source:      xacct.ReplicationBucket{Bucket: demoSource, Account: sandbox.AccountA, Region: sandbox.Region},
		Destination: xacct.ReplicationBucket{Bucket: demoReplica, Account: sandbox.AccountB, Region: sandbox.Region},
		RoleName:    defaultReplicationRoleName,
		Rules:       []xacct.ReplicationRule{{ID: "reports", Priority: 1, Filter: xacct.PrefixFilter("reports/")}},
	}
	r, err := xacct.NewReplicationConfigurator(spec, xacct.WithReplicationLogger(d.log))
	if err != nil {
		return err
	}
	cfgA, cfgB := c.sb.Config(c.rootA), c.sb.Config(c.rootB)
	flags := fmt.Sprintf("--source s3://%s --source-account %s --dest s3://%s --dest-account %s --rule reports:reports/",
		demoSource, sandbox.AccountA, demoReplica, sandbox.AccountB)

	d.section("S3 Replication of A's reports/ into " + demoReplica + " in B: each account applies its part")
	d.command("xacct replication plan " + flags + " --summary")
	if err := runReplicationPlan(d.w, r, false, true); err != nil {
		return err
	}
	d.command("xacct replication apply " + flags + " --source-profile a --dest-profile b")
	if err := runReplicationApply(ctx, d.w, r, replicationClients(accounts{src: cfgA, dst: &cfgB})); err != nil {
		return err
	}
	const key = "reports/2026/q3.csv"
	body := "date,region,orders,revenue\n2026-07-01,eu-west-1,131,2874.50\n"
	if err := c.put(ctx, c.rootA, demoSource, key, []byte(body)); err != nil {
		return err
	}
	fmt.Fprintf(d.w, "A writes s3://%s/%s; the files from before stay NONE until a backfill.\n", demoSource, key)
	d.command("xacct replication status " + flags + " --prefix reports/2026/ --wait 1m --source-profile a")
	if err := runReplicationStatus(ctx, d.w, r, newS3(cfgA), xacct.StatusQuery{Prefix: "reports/2026/"}, time.Minute); err != nil {
		return err
	}
	got, err := newS3(cfgB).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(demoReplica), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("read the replica as account B: %w", err)
	}
	defer got.Body.Close()
	replica, err := io.ReadAll(got.Body)
	if err != nil {
		return fmt.Errorf("read the replica as account B: %w", err)
	}
	fmt.Fprintf(d.w, "B reads s3://%s/%s: %d bytes, the same as A's: %t\n", demoReplica, key, len(replica), string(replica) == body)
	return nil
}

// dataSync sets up and runs a DataSync task from A's reports/2026/ to
// B's destination bucket with the datasync run command's code.
func (d demo) dataSync(ctx context.Context, c *crossAccount) error {
	spec := xacct.DataSyncSpec{
		Source:      xacct.DataSyncEndpoint{Bucket: demoSource, Account: sandbox.AccountA, Region: sandbox.Region, Subdirectory: "reports/2026"},
		Destination: xacct.DataSyncEndpoint{Bucket: demoDestination, Account: sandbox.AccountB, Region: sandbox.Region, Subdirectory: "datasync"},
	}
	p, err := xacct.NewDataSyncPlan(spec)
	if err != nil {
		return err
	}
	cfgB := c.sb.Config(c.rootB)
	// The sandbox moves an execution one phase per poll: no need to wait.
	planner, err := newDataSyncPlanner(accounts{src: c.sb.Config(c.rootA), dst: &cfgB}, time.Millisecond, d.log)
	if err != nil {
		return err
	}
	d.section("DataSync from A's reports/2026/ to B: apply the task in A, then run it")
	d.command(fmt.Sprintf("xacct datasync run --source s3://%s/reports/2026 --source-account %s --dest s3://%s/datasync --dest-account %s --source-profile a --dest-profile b",
		demoSource, sandbox.AccountA, demoDestination, sandbox.AccountB))
	res, err := runDataSyncApply(ctx, d.w, planner, p, true)
	if err != nil {
		return err
	}
	if err := runDataSync(ctx, streams{out: d.w, err: d.w}, planner, res.TaskARN, false); err != nil {
		return err
	}
	dst := xacct.Location{Bucket: demoDestination, Prefix: "datasync/"}
	d.command("xacct ls " + dst.String() + " --recursive --profile b")
	return runLs(ctx, newS3(cfgB), &dst, lsOptions{recursive: true}, d.w, d.tz)
}

// twoIdentities syncs between account A's root, which reads, and account
// B's root, which writes (the profiles a and b of "xacct sandbox
// --aws-config"): neither may touch the other's bucket, so the bytes
// stream through the process.
func (d demo) twoIdentities(ctx context.Context, c *crossAccount) error {
	src := xacct.Location{Bucket: demoSource, Prefix: "reports/"}
	dst := xacct.Location{Bucket: demoDestination, Prefix: "streamed/"}
	d.section("Two identities with no common principal: A's root reads, B's root writes, neither may touch the other's bucket")
	d.command("xacct sync " + src.String() + " " + dst.String() + " --source-profile a --dest-profile b")
	return d.sync(ctx, sides{src: c.sb.Config(c.rootA), dst: c.sb.Config(c.rootB)}, src, dst, syncOptions{})
}

// demo prints the demo's steps.
type demo struct {
	w   io.Writer
	log *slog.Logger
	tz  *time.Location
}

// section prints a section header.
func (d demo) section(title string) { fmt.Fprintf(d.w, "\n== %s\n", title) }

// command prints the command a step runs.
func (d demo) command(line string) { fmt.Fprintf(d.w, "$ %s\n", line) }

// sync runs the sync command's code with o's flags and the defaults of
// the rest.
func (d demo) sync(ctx context.Context, s sides, src, dst xacct.Location, o syncOptions) error {
	o.concurrency, o.maxDelete, o.transfer = xacct.DefaultConcurrency, xacct.NoDeleteCap, newTransferFlags()
	return runSync(ctx, s, src, dst, o, streams{out: d.w, err: d.w}, d.log)
}

// sids lists the Sids of a policy's statements.
func sids(p xacct.Policy) string {
	names := make([]string, len(p.Statement))
	for i, s := range p.Statement {
		names[i] = s.Sid
	}
	return strings.Join(names, ", ")
}
