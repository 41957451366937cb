package xacct

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Side is the side of a copy a preflight check or finding concerns.
type Side string

// Sides of a copy. SideCopy is the copy identity of WithCopyClient, which
// reads the source and writes the destination.
const (
	SideSource      Side = "source"
	SideDestination Side = "destination"
	SideCopy        Side = "copy"
)

// PolicyFix is a statement that would grant a missing permission, and
// where it goes. Merge it with MergeStatements: its Sid is stable.
type PolicyFix struct {
	// Kind is PolicyKindIdentity (the caller's identity policy),
	// PolicyKindBucket (the policy of a bucket in another account than
	// the caller's, needed as well as the identity policy),
	// PolicyKindTrust (a role's trust policy) or PolicyKindKey (a KMS key
	// policy, needed as well as the identity policy in any account).
	Kind PolicyKind
	// Target is the principal ARN (role ARN for role sessions) whose
	// identity policy to change, "" when the caller is unknown; the
	// bucket name for a bucket policy; the role ARN for a trust policy;
	// the key ARN for a key policy.
	Target    string
	Statement Statement
}

// String names the policy and gives the statement as JSON.
func (f PolicyFix) String() string {
	target := f.Target
	if target == "" {
		target = "the caller"
	}
	js, err := marshalNoEscape(f.Statement)
	if err != nil {
		js = []byte(err.Error())
	}
	return fmt.Sprintf("%s policy of %s: %s", f.Kind, target, js)
}

// PreflightFinding is one permission a copy needs and does not have. It
// matches ErrAccessDenied (errors.Is) and unwraps to the AWS error.
type PreflightFinding struct {
	Side Side
	// Action is the refused IAM action, such as s3:GetObject or
	// sts:AssumeRole.
	Action string
	// Resource is the ARN the action was refused on.
	Resource string
	// Err is the error AWS returned, usually a smithy.APIError.
	Err error
	// Fixes are the statements that would grant the action: the
	// identity policy statement, plus the bucket policy statement when
	// the bucket is (or may be) in another account than the caller. They
	// grant only what the checked copy uses: no tagging actions when it
	// copies no tags (WithoutTagAccess), no s3:PutObjectAcl when it sends
	// no ACL (WithoutACLAccess).
	Fixes []PolicyFix
	// Hint says what to do when no policy statement fixes the finding.
	Hint string
	// Warning is true for a permission whose absence only costs a
	// property of the copies, such as their tags; such findings are in
	// PreflightReport.Warnings and do not stop a Sync.
	Warning bool
}

// Error names the side, the refused action on its resource, and the cause.
func (f *PreflightFinding) Error() string {
	msg := fmt.Sprintf("%s: %s on %s refused", f.Side, f.Action, f.Resource)
	if f.Warning {
		msg = "warning: " + msg
	}
	if f.Hint != "" {
		msg += " (" + f.Hint + ")"
	}
	return msg + ": " + f.Err.Error()
}

// Unwrap returns ErrAccessDenied and the AWS error.
func (f *PreflightFinding) Unwrap() []error { return []error{ErrAccessDenied, f.Err} }

// CheckResult is the outcome of one preflight probe.
type CheckResult string

// Probe outcomes.
const (
	CheckAllowed CheckResult = "allowed"
	CheckDenied  CheckResult = "denied"
	CheckSkipped CheckResult = "skipped"
)

// PreflightCheck is one probe Preflight ran, or skipped.
type PreflightCheck struct {
	Side     Side
	Action   string
	Resource string
	Result   CheckResult
	// Note says why a check was skipped, or what an allowed check
	// found.
	Note string
}

// PreflightReport is what Preflight found out.
type PreflightReport struct {
	Source, Destination Location
	// SourceIdentity and DestinationIdentity are the principals behind
	// each side's client, when WithIdentityClients made them known.
	SourceIdentity, DestinationIdentity Identity
	// CopyIdentity is the principal behind the copy client
	// (WithCopyClient), when one was given with an identity client and
	// the mode is not ModeStream.
	CopyIdentity Identity
	// Mode is how a Sync with these options would copy: ModeServerSide
	// or ModeStream.
	Mode TransferMode
	// Writer is the side whose client would write the copies: SideCopy
	// when the copy identity copies server-side, otherwise
	// SideDestination. Its write permissions are the ones checked.
	Writer Side
	// Ownership is the destination bucket's object ownership setting,
	// "" when it has none or it could not be read.
	Ownership types.ObjectOwnership
	// ACL is the canned ACL copies will send, "" for none.
	ACL types.ObjectCannedACL
	// SampleKey is the source object the read probes used, "" when the
	// source is empty or could not be listed.
	SampleKey string
	Checks    []PreflightCheck
	// Findings are the missing permissions that block a Sync.
	Findings []*PreflightFinding
	// Warnings are missing permissions a Sync can do without, at the cost
	// of a property of the copies: without s3:GetObjectTagging on the
	// source, objects are copied without their tags (see
	// WarningTagsNotCopied).
	Warnings []*PreflightFinding
}

// Err joins the blocking findings into one error that matches
// ErrAccessDenied, or returns nil when there are none; Warnings are left
// out.
func (r *PreflightReport) Err() error {
	errs := make([]error, len(r.Findings))
	for i, f := range r.Findings {
		errs[i] = f
	}
	return errors.Join(errs...)
}

// Preflight checks, without changing anything visible, that the source
// and destination clients hold every permission a Sync from src to dst
// needs, and names each missing one with the policy statement that would
// grant it. It probes: the callers' identities (WithIdentityClients);
// source s3:ListBucket (a one-key listing) and s3:GetObject (a one-byte
// ranged read of that key, which also needs kms:Decrypt for SSE-KMS);
// when tags are copied (CopyPropsDefault, CopyPropsAll), s3:GetObjectTagging
// on that key by the principal that will read the tags (the source client
// when streaming, the destination client for server-side copies), a
// warning when refused;
// destination s3:ListBucket; the destination bucket's object ownership
// and so the ACL copies will send; destination s3:PutObject and
// s3:AbortMultipartUpload, with a multipart upload created under dst's
// prefix and aborted at once, which leaves no object (a probe upload that
// could not be aborted is named, with its key, in the
// s3:AbortMultipartUpload finding or in err); when tags are
// copied, that upload carries a tag, which needs s3:PutObjectTagging (a
// warning when only the tag is refused: copies go on without tags); with
// WithSSEKMSKeyID, the upload asks for the copies' encryption with that
// key, which needs kms:GenerateDataKey on it (a refusal is a finding on
// the key, with the identity statement of KMSWritePolicy and the key
// policy statement of KeyPolicyStatement, and the rest is probed without
// the key; a kms:Decrypt refusal of the source read gets the same pair
// from KMSReadPolicy); with
// WithDelete, s3:DeleteObject, by deleting a random key that does not
// exist under dst's prefix, only when the bucket is known to be
// unversioned (otherwise the check is skipped: the delete would leave a
// delete marker); and, unless the mode is ModeStream, whether the
// destination client can read the source for server-side copies. With a
// copy client (WithCopyClient) and a mode other than ModeStream, it first
// asks whether the copy client can read the source; when it can (or
// under ModeServerSide) the write probes run with the copy client, named
// SideCopy, instead of the destination client.
//
// Missing permissions are findings (see PreflightReport.Err), not an
// error; err reports a probe that failed for another reason (no such
// bucket, network, cancellation), and the report then holds what was
// learnt until then. Options given here apply to this call only.
func (c *Copier) Preflight(ctx context.Context, src, dst Location, opts ...CopierOption) (*PreflightReport, error) {
	o, src, dst, err := c.call(opts, src, dst)
	if err != nil {
		return nil, err
	}
	return c.preflight(ctx, o, src, dst)
}

// preflight is one Preflight call.
type preflight struct {
	c        *Copier
	o        copierOptions
	rep      *PreflightReport
	src, dst Location
	// dead marks a side whose credentials could not be obtained.
	srcDead, dstDead, copyDead bool
	// writeDeferred is set when the write probes wait for chooseMode to
	// tell which identity will write (see checkWrite).
	writeDeferred bool
	// aclKnown is set once rep.ACL holds the ACL copies will send.
	aclKnown bool
}

func (c *Copier) preflight(ctx context.Context, o copierOptions, src, dst Location) (*PreflightReport, error) {
	p := &preflight{c: c, o: o, src: src, dst: dst, rep: &PreflightReport{Source: src, Destination: dst}}
	err := p.run(ctx)
	for _, f := range append(slices.Clone(p.rep.Findings), p.rep.Warnings...) {
		msg := "preflight: permission missing"
		if f.Warning {
			msg = "preflight: permission missing, copies will lack a property"
		}
		o.logger.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("side", string(f.Side)),
			slog.String("action", f.Action), slog.String("resource", f.Resource), slog.Any("error", f.Err))
	}
	if err != nil {
		return p.rep, fmt.Errorf("preflight: %w", err)
	}
	o.logger.LogAttrs(ctx, slog.LevelInfo, "preflight done", slog.String("mode", p.rep.Mode.String()),
		slog.String("acl", string(p.rep.ACL)), slog.Int("findings", len(p.rep.Findings)), slog.Int("warnings", len(p.rep.Warnings)))
	return p.rep, nil
}

// run probes the source side (identity, listing, read) and the
// destination side (identity, listing, ownership, write, delete) at once:
// neither needs the other's results. Each side probes in its own order
// into a report of its own; the two are then merged in the order a
// sequential run would have produced, so Checks, Findings and Warnings
// do not depend on timing. The transfer mode and the tag read need both
// sides and follow.
func (p *preflight) run(ctx context.Context) error {
	src, dst := p.sub(), p.sub()
	var (
		srcMark, dstMark preflightMark
		srcErr, dstErr   error
		sample           *Object
		wg               sync.WaitGroup
	)
	wg.Go(func() {
		src.rep.SourceIdentity, src.srcDead = src.whoami(ctx, SideSource, p.o.srcSTS)
		srcMark = src.mark()
		sample, srcErr = src.probeSource(ctx)
	})
	wg.Go(func() {
		dst.rep.DestinationIdentity, dst.dstDead = dst.whoami(ctx, SideDestination, p.o.dstSTS)
		dstMark = dst.mark()
		if !dst.dstDead {
			dstErr = dst.checkDestination(ctx)
		}
	})
	wg.Wait()

	// Sequentially, both identities were resolved first, then the source
	// probed, then the destination, stopping at the first hard error.
	p.rep.SourceIdentity, p.rep.DestinationIdentity = src.rep.SourceIdentity, dst.rep.DestinationIdentity
	p.srcDead, p.dstDead = src.srcDead, dst.dstDead
	p.take(src.rep, preflightMark{}, srcMark)
	p.take(dst.rep, preflightMark{}, dstMark)
	p.take(src.rep, srcMark, src.mark())
	p.rep.SampleKey = src.rep.SampleKey
	if srcErr != nil {
		return srcErr
	}
	p.take(dst.rep, dstMark, dst.mark())
	p.rep.Ownership, p.rep.ACL, p.aclKnown = dst.rep.Ownership, dst.rep.ACL, dst.aclKnown
	p.writeDeferred = dst.writeDeferred
	if dstErr != nil {
		return dstErr
	}
	if err := p.chooseMode(ctx, sample); err != nil {
		return err
	}
	return p.checkTagging(ctx, sample)
}

// probeSource lists the source for a sample object and reads it.
func (p *preflight) probeSource(ctx context.Context) (*Object, error) {
	if p.srcDead {
		return nil, nil
	}
	sample, err := p.checkSourceList(ctx)
	switch {
	case err != nil || p.srcDead:
		return nil, err
	case sample == nil:
		p.skip(SideSource, "s3:GetObject", ObjectARN(p.src.Bucket, p.src.Prefix+"*"), "no source object to read")
		return nil, nil
	}
	return sample, p.checkSourceRead(ctx, *sample)
}

// sub returns a preflight with the same options and a report of its own,
// for one side's probes to run concurrently with the other's.
func (p *preflight) sub() *preflight {
	return &preflight{c: p.c, o: p.o, src: p.src, dst: p.dst, rep: &PreflightReport{Source: p.src, Destination: p.dst}}
}

// preflightMark is a position in a report's Checks, Findings and
// Warnings.
type preflightMark struct{ checks, findings, warnings int }

func (p *preflight) mark() preflightMark {
	return preflightMark{len(p.rep.Checks), len(p.rep.Findings), len(p.rep.Warnings)}
}

// take appends the checks, findings and warnings of part between from and
// to. A refused STS action is reported once per action and role, as
// identityFailed does within one report: one already refused here (the
// two sides often share a role) is not added again, nor is its denied
// check.
func (p *preflight) take(part *PreflightReport, from, to preflightMark) {
	type stsRefusal struct{ action, resource string }
	refused := make(map[stsRefusal]bool)
	for _, f := range p.rep.Findings {
		if strings.HasPrefix(f.Action, "sts:") {
			refused[stsRefusal{f.Action, f.Resource}] = true
		}
	}
	for _, f := range part.Findings[from.findings:to.findings] {
		if !strings.HasPrefix(f.Action, "sts:") || !refused[stsRefusal{f.Action, f.Resource}] {
			p.rep.Findings = append(p.rep.Findings, f)
		}
	}
	for _, c := range part.Checks[from.checks:to.checks] {
		if !strings.HasPrefix(c.Action, "sts:") || c.Result != CheckDenied || !refused[stsRefusal{c.Action, c.Resource}] {
			p.rep.Checks = append(p.rep.Checks, c)
		}
	}
	p.rep.Warnings = append(p.rep.Warnings, part.Warnings[from.warnings:to.warnings]...)
}

// checkTagging reads the sample object's tags as copies will: with the
// source client when streaming, with the destination client when
// CopyObject and UploadPartCopy read them server-side. A refusal is a
// warning: the objects are then copied without tags.
func (p *preflight) checkTagging(ctx context.Context, sample *Object) error {
	if !p.o.object.props.tags() {
		return nil
	}
	side, client, caller, dead := SideSource, GetObjectTaggingAPI(p.c.src), p.rep.SourceIdentity, p.srcDead
	switch {
	case p.rep.Mode == ModeServerSide && p.rep.Writer == SideCopy:
		side, client, caller, dead = SideCopy, p.o.copy, p.rep.CopyIdentity, p.copyDead
	case p.rep.Mode == ModeServerSide:
		side, client, caller, dead = SideDestination, p.o.dst, p.rep.DestinationIdentity, p.dstDead
	}
	if sample == nil || dead {
		p.skip(side, "s3:GetObjectTagging", ObjectARN(p.src.Bucket, p.src.Prefix+"*"), "no source object to read")
		return nil
	}
	res := ObjectARN(p.src.Bucket, sample.Key)
	_, err := readTags(ctx, client, p.src.Bucket, sample.Key, p.o.srcAccount, &p.o.object)
	_, hard := p.record(side, "s3:GetObjectTagging", res, err, p.sourceFixes(caller, sidSourceRead), true)
	if hard != nil && ctx.Err() == nil {
		// Tags are not worth stopping a sync for: an answer that is not a
		// permission (some S3-compatible servers do not serve ?tagging)
		// leaves the check undecided, and the copies report per object.
		p.skip(side, "s3:GetObjectTagging", res, "could not be checked: "+err.Error())
		p.o.logger.Warn("preflight could not check tag reads", slog.String("resource", res), slog.Any("error", err))
		return nil
	}
	return hard
}

// whoami resolves one side's principal; a refused AssumeRole becomes a
// finding and marks the side dead, other failures leave it unnamed.
func (p *preflight) whoami(ctx context.Context, side Side, client GetCallerIdentityAPI) (Identity, bool) {
	if client == nil {
		return Identity{}, false
	}
	id, err := WhoAmI(ctx, client)
	if err != nil {
		return Identity{}, p.identityFailed(side, err)
	}
	return id, false
}

// identityFailed records a finding when err carries a refused
// AssumeRole, once per refused action and role, and reports whether it
// did.
//
// STS does not say why it refused, and across accounts two policies must
// allow the call: the caller's identity policy (sts:AssumeRole on the
// role) and the role's trust policy (naming the caller, and usually
// requiring an ExternalId). The finding offers a fix on each side. The
// identity statement has a Sid of its own per role and action
// (callerFixSid), so the fixes for two roles merge side by side. The
// trust statement is never weaker than one guarded by the ExternalId that
// was sent, and none is proposed for sts:AssumeRole when no ExternalId was
// sent: a role meant for another account most likely requires one, which
// the caller must then send rather than the trust drop. When the role
// admits the caller but refuses the session's tags or source identity,
// both statements grant only that action: the role's own conditions on
// sts:AssumeRole (MFA, source IP…) keep applying.
func (p *preflight) identityFailed(side Side, err error) bool {
	var are *AssumeRoleError
	if !errors.As(err, &are) || !isAccessDenied(are.Err) {
		return false
	}
	action := refusedSTSAction(are.Err)
	for _, f := range p.rep.Findings {
		if f.Action == action && f.Resource == are.RoleARN {
			return true
		}
	}
	caller := policyPrincipal(are.Caller)
	f := &PreflightFinding{Side: side, Action: action, Resource: are.RoleARN, Err: err,
		Fixes: []PolicyFix{{Kind: PolicyKindIdentity, Target: caller, Statement: Statement{
			Sid:      callerFixSid(are.RoleARN, action),
			Effect:   EffectAllow,
			Action:   StringList{action},
			Resource: StringList{are.RoleARN},
		}}}}
	switch {
	case action != "sts:AssumeRole":
		// The role admits the caller; what it refuses is the session's
		// tags or source identity.
		f.Hint = action + " is needed for the session's " + map[string]string{"sts:TagSession": "tags", "sts:SetSourceIdentity": "source identity"}[action] +
			": the role's trust policy must allow it for the caller and, across accounts, so must the caller's identity policy; " +
			"the statements offered grant only " + action + ", so the role's conditions on sts:AssumeRole still apply"
		if caller != "" {
			trust := Statement{
				Sid:       suggestedTrustSid(caller, are.ExternalID+"\x00"+action),
				Effect:    EffectAllow,
				Principal: AWSPrincipal(caller),
				Action:    StringList{action},
			}
			if are.ExternalID != "" {
				trust.Condition = Conditions{"StringEquals": {"sts:ExternalId": {are.ExternalID}}}
			}
			f.Fixes = append(f.Fixes, PolicyFix{Kind: PolicyKindTrust, Target: are.RoleARN, Statement: trust})
		}
	case are.ExternalID == "":
		f.Hint = "no ExternalId was sent, and the role's trust policy likely requires one: send the ExternalId its sts:ExternalId condition names; " +
			"also check that the trust policy names the caller and that the caller's identity policy allows sts:AssumeRole on the role"
	case caller == "":
		f.Hint = "check that the role's trust policy names the caller and requires this ExternalId, and that the caller's identity policy allows sts:AssumeRole on the role; " +
			"if the trust policy names a different ExternalId, send that one"
	default:
		trust := CopyRoleTrustPolicy(caller, are.ExternalID).Statement[0]
		trust.Sid = suggestedTrustSid(caller, are.ExternalID)
		f.Fixes = append(f.Fixes, PolicyFix{Kind: PolicyKindTrust, Target: are.RoleARN, Statement: trust})
		f.Hint = "across accounts, the caller's identity policy must allow sts:AssumeRole on the role and the role's trust policy must admit the caller with this ExternalId; "
		if arnAccount(caller) == arnAccount(are.RoleARN) {
			f.Hint = "within one account, a trust policy that names the caller with this ExternalId is enough, one that names the account needs the identity statement too; "
		}
		f.Hint += "if the trust policy already names a different ExternalId, send that one instead of adding the trust statement " +
			"(its Sid " + trust.Sid + " leaves the role's other statements in place on merge)"
	}
	p.rep.Findings = append(p.rep.Findings, f)
	p.rep.Checks = append(p.rep.Checks, PreflightCheck{Side: side, Action: action, Resource: are.RoleARN, Result: CheckDenied})
	return true
}

// refusedSTSAction reads which STS action an AssumeRole refusal names
// ("… is not authorized to perform: sts:TagSession on resource: …"):
// sts:TagSession or sts:SetSourceIdentity, or else sts:AssumeRole.
func refusedSTSAction(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		msg := apiErr.ErrorMessage()
		switch {
		case strings.Contains(msg, "perform: sts:TagSession"):
			return "sts:TagSession"
		case strings.Contains(msg, "perform: sts:SetSourceIdentity"):
			return "sts:SetSourceIdentity"
		}
	}
	return "sts:AssumeRole"
}

// arnAccount is the account field of an ARN, "" when arn is not one.
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}

// suggestedTrustSid is the Sid of a trust statement the preflight
// suggests: distinct from the XacctAssumeRole statement CopyRoleTrustPolicy
// writes, so merging it never replaces a statement that works for another
// caller or ExternalId, and stable for one caller and ExternalId, so
// merging it twice does not add a copy.
func suggestedTrustSid(caller, externalID string) string {
	sum := sha256.Sum256([]byte(caller + "\x00" + externalID))
	return sidAssumeRole + "Preflight" + hex.EncodeToString(sum[:6])
}

// callerFixSid is the Sid of the identity statement the preflight suggests
// for a refused STS action on a role: one per role and action, so the
// fixes for the source's and the destination's roles merge side by side
// and neither replaces the XacctCallerAssumeRole statement
// CallerAssumeRolePolicy writes, and stable, so merging it twice does not
// add a copy.
func callerFixSid(roleARN, action string) string {
	sum := sha256.Sum256([]byte(roleARN + "\x00" + action))
	return sidCallerAssume + hex.EncodeToString(sum[:6])
}

// probe records the outcome of one check. A permission refusal becomes a
// blocking finding with the fixes fix returns; any other error is returned.
func (p *preflight) probe(side Side, action, resource string, err error, fix func() []PolicyFix) (allowed bool, hard error) {
	return p.record(side, action, resource, err, fix, false)
}

// record is probe, with the refusal a warning when warning is true.
func (p *preflight) record(side Side, action, resource string, err error, fix func() []PolicyFix, warning bool) (allowed bool, hard error) {
	if err == nil {
		p.rep.Checks = append(p.rep.Checks, PreflightCheck{Side: side, Action: action, Resource: resource, Result: CheckAllowed})
		return true, nil
	}
	if p.identityFailed(side, err) {
		switch side {
		case SideSource:
			p.srcDead = true
		case SideCopy:
			p.copyDead = true
		default:
			p.dstDead = true
		}
		return false, nil
	}
	if !isAccessDenied(err) {
		return false, fmt.Errorf("%s %s on %s: %w", side, action, resource, err)
	}
	f := &PreflightFinding{Side: side, Action: action, Resource: resource, Err: err, Warning: warning}
	if fix != nil {
		f.Fixes = fix()
	}
	// S3 answers a wrong ExpectedBucketOwner with the same AccessDenied.
	owner := p.o.srcAccount
	if side == SideDestination || side == SideCopy && strings.HasPrefix(resource, ObjectARN(p.dst.Bucket, "")) {
		owner = p.o.dstAccount
	}
	if owner != "" {
		f.Hint = "or the bucket is not owned by the declared account " + owner
	}
	if warning {
		p.rep.Warnings = append(p.rep.Warnings, f)
	} else {
		p.rep.Findings = append(p.rep.Findings, f)
	}
	p.rep.Checks = append(p.rep.Checks, PreflightCheck{Side: side, Action: action, Resource: resource, Result: CheckDenied})
	return false, nil
}

func (p *preflight) skip(side Side, action, resource, why string) {
	p.rep.Checks = append(p.rep.Checks, PreflightCheck{Side: side, Action: action, Resource: resource, Result: CheckSkipped, Note: why})
}

// fixes returns the statement with Sid sid from the identity policy and,
// when the bucket may belong to another account than the caller, from
// the bucket policy for that caller.
func (p *preflight) fixes(caller Identity, bucket, bucketAccount, sid string, identity func() Policy, bucketPolicy func(principal string) Policy) []PolicyFix {
	principal := policyPrincipal(caller.ARN)
	out := []PolicyFix{{Kind: PolicyKindIdentity, Target: principal, Statement: statementBySid(identity(), sid)}}
	if principal != "" && (bucketAccount == "" || bucketAccount != caller.Account) {
		out = append(out, PolicyFix{Kind: PolicyKindBucket, Target: bucket, Statement: statementBySid(bucketPolicy(principal), sid)})
	}
	return out
}

// grantOptions are the builder options that keep fix statements to what
// this copy uses: no tagging actions when copies carry no tags, and no
// s3:PutObjectAcl once the destination is known to be sent no ACL.
func (p *preflight) grantOptions(extra ...PolicyOption) []PolicyOption {
	opts := slices.Clone(extra)
	if !p.o.object.props.tags() {
		opts = append(opts, WithoutTagAccess())
	}
	if p.aclKnown && p.rep.ACL == "" {
		opts = append(opts, WithoutACLAccess())
	}
	return opts
}

func (p *preflight) sourceFixes(caller Identity, sid string) func() []PolicyFix {
	return func() []PolicyFix {
		opts := p.grantOptions()
		return p.fixes(caller, p.src.Bucket, p.o.srcAccount, sid,
			func() Policy { return SourceReadPolicy(p.src, opts...) },
			func(pr string) Policy { return SourceBucketPolicy(p.src, pr, opts...) })
	}
}

func (p *preflight) destinationFixes(sid string) func() []PolicyFix {
	return func() []PolicyFix {
		opts := p.grantOptions()
		return p.fixes(p.rep.DestinationIdentity, p.dst.Bucket, p.o.dstAccount, sid,
			func() Policy { return DestinationWritePolicy(p.dst, opts...) },
			func(pr string) Policy { return DestinationBucketPolicy(p.dst, pr, opts...) })
	}
}

func (p *preflight) checkSourceList(ctx context.Context) (*Object, error) {
	out, err := p.c.src.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket:              aws.String(p.src.Bucket),
		Prefix:              optional(p.src.Prefix),
		MaxKeys:             aws.Int32(1),
		ExpectedBucketOwner: optional(p.o.srcAccount),
		RequestPayer:        p.o.object.payer(),
	})
	if ok, err := p.probe(SideSource, "s3:ListBucket", BucketARN(p.src.Bucket), err, p.sourceFixes(p.rep.SourceIdentity, sidSourceList)); !ok {
		return nil, err
	}
	if len(out.Contents) == 0 {
		return nil, nil
	}
	c := out.Contents[0]
	obj := &Object{Key: aws.ToString(c.Key), Size: aws.ToInt64(c.Size), ETag: strings.Trim(aws.ToString(c.ETag), `"`)}
	p.rep.SampleKey = obj.Key
	return obj, nil
}

func (p *preflight) checkSourceRead(ctx context.Context, obj Object) error {
	res := ObjectARN(p.src.Bucket, obj.Key)
	err := readProbe(ctx, p.c.src, p.src.Bucket, obj, p.o.srcAccount, p.o.object.payer())
	if err != nil && isAccessDenied(err) {
		// Reading needs the object's KMS key as well; metadata does not.
		// A readable head means the key is what is missing.
		head, herr := headThrough(ctx, p.c.src, p.src.Bucket, obj.Key, p.o.srcAccount, p.o.object.payer())
		if herr == nil && (head.ServerSideEncryption == types.ServerSideEncryptionAwsKms || head.ServerSideEncryption == types.ServerSideEncryptionAwsKmsDsse) {
			_, key := refusedKMS(err, aws.ToString(head.SSEKMSKeyId))
			p.rep.Findings = append(p.rep.Findings, &PreflightFinding{Side: SideSource, Action: actionKMSDecrypt, Resource: key, Err: err,
				Fixes: kmsFixes(p.rep.SourceIdentity, key, KMSReadPolicy(key), actionKMSDecrypt),
				Hint:  "allow kms:Decrypt on the key in the caller's identity policy and in the key policy"})
			p.rep.Checks = append(p.rep.Checks, PreflightCheck{Side: SideSource, Action: actionKMSDecrypt, Resource: key, Result: CheckDenied})
			return nil
		}
	}
	_, err = p.probe(SideSource, "s3:GetObject", res, err, p.sourceFixes(p.rep.SourceIdentity, sidSourceRead))
	return err
}

// readProbe reads the first byte of obj (all of it, when empty), which
// needs s3:GetObject and, for SSE-KMS objects, kms:Decrypt on their key.
func readProbe(ctx context.Context, c GetObjectAPI, bucket string, obj Object, owner string, payer types.RequestPayer) error {
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(obj.Key), ExpectedBucketOwner: optional(owner), RequestPayer: payer}
	if obj.Size > 0 {
		in.Range = aws.String("bytes=0-0")
	}
	out, err := c.GetObject(ctx, in)
	if err != nil {
		return err
	}
	return out.Body.Close()
}

func (p *preflight) checkDestination(ctx context.Context) error {
	_, err := p.o.dst.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket:              aws.String(p.dst.Bucket),
		Prefix:              optional(p.dst.Prefix),
		MaxKeys:             aws.Int32(1),
		ExpectedBucketOwner: optional(p.o.dstAccount),
		RequestPayer:        p.o.object.payer(),
	})
	if _, err := p.probe(SideDestination, "s3:ListBucket", BucketARN(p.dst.Bucket), err, p.destinationFixes(sidDestinationList)); err != nil || p.dstDead {
		return err
	}
	ownership, known, err := readOwnership(ctx, p.o.dst, p.dst.Bucket, p.o.dstAccount)
	if err != nil {
		return fmt.Errorf("destination s3:GetBucketOwnershipControls: %w", err)
	}
	check := PreflightCheck{Side: SideDestination, Action: "s3:GetBucketOwnershipControls", Resource: BucketARN(p.dst.Bucket), Result: CheckAllowed, Note: string(ownership)}
	if !known {
		check.Result, check.Note = CheckDenied, "not needed: bucket-owner-full-control, which every ownership setting accepts, will be sent"
	} else if ownership == "" {
		check.Note = "no ownership controls: ACLs enabled"
	}
	p.rep.Checks = append(p.rep.Checks, check)
	p.rep.Ownership = ownership
	p.rep.ACL, p.aclKnown = objectACL(p.o.acl, ownership, known), true
	if err := p.checkWrite(ctx); err != nil {
		return err
	}
	return p.checkDelete(ctx)
}

// checkWrite probes the destination write permissions of the identity
// that will write the copies. With a copy client that may make them
// (WithCopyClient, mode not ModeStream), which identity that is depends
// on whether the copy client can read the source; chooseMode finds that
// out and then runs the probe (checkDestination, which sets the ACL the
// probe sends, runs before it).
func (p *preflight) checkWrite(ctx context.Context) error {
	if p.copyMayWrite() {
		p.writeDeferred = true
		return nil
	}
	return p.checkWriteAs(ctx, p.destinationWriter())
}

// copyMayWrite reports whether the copy client may write the copies.
func (p *preflight) copyMayWrite() bool { return p.o.copySet && p.o.mode != ModeStream }

// writer is the identity whose requests write the copies, as the write
// probes see it.
type writer struct {
	side   Side
	client interface {
		CreateMultipartUploadAPI
		AbortMultipartUploadAPI
	}
	caller Identity
}

func (p *preflight) destinationWriter() writer {
	return writer{side: SideDestination, client: p.o.dst, caller: p.rep.DestinationIdentity}
}

func (p *preflight) copyWriter() writer {
	return writer{side: SideCopy, client: p.o.copy, caller: p.rep.CopyIdentity}
}

// writeFixes returns the destination write statements for w's principal.
func (p *preflight) writeFixes(w writer, sid string) func() []PolicyFix {
	return func() []PolicyFix {
		opts := p.grantOptions()
		return p.fixes(w.caller, p.dst.Bucket, p.o.dstAccount, sid,
			func() Policy { return DestinationWritePolicy(p.dst, opts...) },
			func(pr string) Policy { return DestinationBucketPolicy(p.dst, pr, opts...) })
	}
}

// checkWriteAs creates a multipart upload under the destination prefix
// as w, with the ACL and tags copies will send, and aborts it: that needs
// s3:PutObject and s3:AbortMultipartUpload (plus s3:PutObjectAcl for the
// ACL and s3:PutObjectTagging for the tags) and leaves no object behind.
// S3 refuses the whole request when the ACL or the tags are not allowed,
// so a refusal is retried without them to tell which permission is
// missing; a retry that fails for another reason is the preflight's
// error. Every probe upload whose abort fails is named, with its key, in
// the s3:AbortMultipartUpload finding or in the returned error.
func (p *preflight) checkWriteAs(ctx context.Context, w writer) error {
	key := p.dst.Prefix + ".xacct-preflight-" + randomHex()
	res := ObjectARN(p.dst.Bucket, key)
	// The probe asks for the encryption copies will ask for, so a KMS key
	// the writer may not use is found here.
	sse, kmsKey := p.o.object.encryption(), p.o.object.kmsKeyID
	create := func(acl types.ObjectCannedACL, tagging string) (*s3.CreateMultipartUploadOutput, error) {
		return w.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
			Bucket:               aws.String(p.dst.Bucket),
			Key:                  aws.String(key),
			ACL:                  acl,
			Tagging:              optional(tagging),
			ServerSideEncryption: sse,
			SSEKMSKeyId:          optional(kmsKey),
			ExpectedBucketOwner:  optional(p.o.dstAccount),
			RequestPayer:         p.o.object.payer(),
		})
	}
	// stranded are the probe uploads whose abort failed, abortErrs why.
	var (
		stranded  []string
		abortErrs []error
	)
	abort := func(uploadID *string) error {
		abortCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
		defer cancel()
		_, err := w.client.AbortMultipartUpload(abortCtx, &s3.AbortMultipartUploadInput{
			Bucket:              aws.String(p.dst.Bucket),
			Key:                 aws.String(key),
			UploadId:            uploadID,
			ExpectedBucketOwner: optional(p.o.dstAccount),
			RequestPayer:        p.o.object.payer(),
		})
		if err != nil {
			stranded = append(stranded, aws.ToString(uploadID))
			abortErrs = append(abortErrs, err)
		}
		return err
	}
	// refused reports whether one upload with acl and tagging, which
	// checks action, is refused for lack of permission, aborting it when
	// it is not. Any other failure to create it is returned.
	refused := func(action string, acl types.ObjectCannedACL, tagging string) (bool, error) {
		out, err := create(acl, tagging)
		switch {
		case err != nil && isAccessDenied(err):
			return true, nil
		case err != nil:
			return false, fmt.Errorf("%s %s on %s: %w", w.side, action, res, err)
		}
		_ = abort(out.UploadId) // a failure is reported with the abort check
		return false, nil
	}
	// Copies that carry tags write them with the object, which needs
	// s3:PutObjectTagging as well as s3:PutObject.
	tagging := ""
	if p.o.object.props.tags() {
		tagging = preflightTagging
	}
	acl := p.rep.ACL
	out, err := create(acl, tagging)
	if kmsKey != "" {
		if action, keyARN := refusedKMS(err, kmsKey); action != "" {
			// The key is what is missing; the rest is probed without it.
			p.rep.Findings = append(p.rep.Findings, &PreflightFinding{Side: w.side, Action: action, Resource: keyARN, Err: err,
				Fixes: kmsFixes(w.caller, keyARN, KMSWritePolicy(keyARN), actionKMSDecrypt, actionKMSGenerateDataKey),
				Hint:  "copies are encrypted with this key: its key policy must allow the writer as well as the writer's identity policy"})
			p.rep.Checks = append(p.rep.Checks, PreflightCheck{Side: w.side, Action: action, Resource: keyARN, Result: CheckDenied})
			sse, kmsKey = "", ""
			out, err = create(acl, tagging)
		} else if err == nil {
			p.rep.Checks = append(p.rep.Checks, PreflightCheck{Side: w.side, Action: actionKMSGenerateDataKey, Resource: kmsKey, Result: CheckAllowed})
		}
	}
	if acl != "" && aclRefused(err) {
		p.rep.Findings = append(p.rep.Findings, &PreflightFinding{
			Side: w.side, Action: "s3:PutObjectAcl", Resource: res, Err: err,
			Hint: fmt.Sprintf("the bucket has ACLs disabled (BucketOwnerEnforced) and refuses the %s ACL: drop WithObjectACL or use bucket-owner-full-control", acl),
		})
		p.rep.Checks = append(p.rep.Checks, PreflightCheck{Side: w.side, Action: "s3:PutObjectAcl", Resource: res, Result: CheckDenied, Note: "ACL " + string(acl)})
		acl = ""
		out, err = create(acl, tagging)
	}
	var are *AssumeRoleError
	tagsRefused := false
	if (acl != "" || tagging != "") && isAccessDenied(err) && !errors.As(err, &are) {
		// Refused: if s3:PutObject alone is allowed, the ACL, the tags or
		// both are what is missing.
		bare, berr := create("", "")
		if berr == nil {
			aclRefusedToo, tagsAlone := acl != "", tagging != ""
			if acl != "" && tagging != "" {
				var cerr error
				aclRefusedToo, cerr = refused("s3:PutObjectAcl", acl, "")
				if cerr == nil {
					tagsAlone, cerr = refused("s3:PutObjectTagging", "", tagging)
				}
				if cerr != nil {
					// Undecided: the permissions are not guessed.
					_ = abort(bare.UploadId)
					return p.strandedErr(cerr, key, stranded)
				}
			}
			if aclRefusedToo {
				hint := fmt.Sprintf("copies send the %s ACL, which needs s3:PutObjectAcl as well as s3:PutObject", acl)
				if p.ownershipUnknown() {
					hint += "; or allow the destination identity s3:GetBucketOwnershipControls: a bucket that enforces bucket-owner ownership is then sent no ACL"
				}
				p.rep.Findings = append(p.rep.Findings, &PreflightFinding{
					Side: w.side, Action: "s3:PutObjectAcl", Resource: res, Err: err, Fixes: p.writeFixes(w, sidDestinationWrite)(), Hint: hint,
				})
				p.rep.Checks = append(p.rep.Checks, PreflightCheck{Side: w.side, Action: "s3:PutObjectAcl", Resource: res, Result: CheckDenied, Note: "ACL " + string(acl)})
			}
			if tagsAlone {
				tagsRefused = true
				p.record(w.side, "s3:PutObjectTagging", res, err, p.writeFixes(w, sidDestinationWrite), true)
				f := p.rep.Warnings[len(p.rep.Warnings)-1]
				f.Hint = strings.TrimSuffix("copies go on without their tags; "+f.Hint, "; ")
			}
		}
		out, err = bare, berr
	}
	if tagging != "" && !tagsRefused && err == nil {
		p.rep.Checks = append(p.rep.Checks, PreflightCheck{Side: w.side, Action: "s3:PutObjectTagging", Resource: res, Result: CheckAllowed,
			Note: "copies will carry their tags"})
	}
	if ok, err := p.probe(w.side, "s3:PutObject", res, err, p.writeFixes(w, sidDestinationWrite)); !ok {
		if err == nil {
			p.skip(w.side, "s3:AbortMultipartUpload", res, "no upload to abort")
		}
		return p.strandedErr(err, key, stranded)
	}
	// The abort check fails when any probe upload could not be aborted:
	// the last one, or else the first that failed before it.
	err = abort(out.UploadId)
	if err == nil && len(abortErrs) > 0 {
		err = abortErrs[0]
	}
	allowed, err := p.probe(w.side, "s3:AbortMultipartUpload", res, err, p.writeFixes(w, sidDestinationWrite))
	if allowed || err != nil || len(stranded) == 0 {
		return p.strandedErr(err, key, stranded)
	}
	if f := p.rep.Findings[len(p.rep.Findings)-1]; f.Action == "s3:AbortMultipartUpload" && f.Resource == res {
		f.Hint = p.strandedHint(key, stranded)
		return nil
	}
	// The refusal was the caller's role, already reported.
	p.o.logger.Warn("preflight could not abort probe uploads", slog.String("uploads", p.strandedHint(key, stranded)))
	return nil
}

// strandedHint names the probe uploads of key in the destination bucket
// that could not be aborted, and how to have them removed.
func (p *preflight) strandedHint(key string, uploadIDs []string) string {
	ids := make([]string, len(uploadIDs))
	for i, id := range uploadIDs {
		ids[i] = fmt.Sprintf("%q", id)
	}
	what := "the probe upload " + ids[0] + " of s3://" + p.dst.Bucket + "/" + key + " remains; abort it"
	if len(ids) > 1 {
		what = "the probe uploads " + strings.Join(ids, ", ") + " of s3://" + p.dst.Bucket + "/" + key + " remain; abort them"
	}
	return what + ", or a lifecycle rule with AbortIncompleteMultipartUpload removes such uploads"
}

// strandedErr is err, naming the probe uploads left behind, if any.
func (p *preflight) strandedErr(err error, key string, uploadIDs []string) error {
	if err == nil || len(uploadIDs) == 0 {
		return err
	}
	return fmt.Errorf("%w (%s)", err, p.strandedHint(key, uploadIDs))
}

// ownershipUnknown reports whether the destination's object ownership
// could not be read, so that the ACL was sent on the safe assumption.
func (p *preflight) ownershipUnknown() bool {
	for _, c := range p.rep.Checks {
		if c.Action == "s3:GetBucketOwnershipControls" {
			return c.Result == CheckDenied
		}
	}
	return false
}

// preflightTagging is the tag set the write probe sends when copies will
// carry tags.
const preflightTagging = "xacct-preflight=1"

// bucketVersioningAPI and deleteObjectAPI are what the delete probe needs
// beyond DestinationAPI; *s3.Client has both.
type bucketVersioningAPI interface {
	GetBucketVersioning(ctx context.Context, in *s3.GetBucketVersioningInput, optFns ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
}

type deleteObjectAPI interface {
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// checkDelete probes s3:DeleteObject under the destination prefix for a
// sync with WithDelete, by deleting a random key that does not exist. It
// does so only in a bucket known to be unversioned: there, deleting a
// missing key changes nothing, while in a versioned (or suspended) bucket
// it would leave a delete marker, so the check is skipped.
func (p *preflight) checkDelete(ctx context.Context) error {
	if !p.o.delete || p.dstDead {
		return nil
	}
	key := p.dst.Prefix + ".xacct-preflight-delete-" + randomHex()
	res := ObjectARN(p.dst.Bucket, key)
	vc, vok := p.o.dst.(bucketVersioningAPI)
	dc, dok := p.o.dst.(deleteObjectAPI)
	if !vok || !dok {
		p.skip(SideDestination, "s3:DeleteObject", res, "the destination client offers no GetBucketVersioning or DeleteObject to probe with")
		return nil
	}
	v, err := vc.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(p.dst.Bucket), ExpectedBucketOwner: optional(p.o.dstAccount)})
	switch {
	case err != nil && isAccessDenied(err):
		p.skip(SideDestination, "s3:DeleteObject", res, "not probed: the bucket's versioning is unknown (s3:GetBucketVersioning refused), and in a versioned bucket a probe would leave a delete marker")
		return nil
	case err != nil:
		return fmt.Errorf("destination s3:GetBucketVersioning on %s: %w", BucketARN(p.dst.Bucket), err)
	case v.Status != "":
		p.skip(SideDestination, "s3:DeleteObject", res, "not probed: versioning is "+string(v.Status)+", and a probe would leave a delete marker")
		return nil
	}
	_, err = dc.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket:              aws.String(p.dst.Bucket),
		Key:                 aws.String(key),
		ExpectedBucketOwner: optional(p.o.dstAccount),
		RequestPayer:        p.o.object.payer(),
	})
	_, err = p.probe(SideDestination, "s3:DeleteObject", res, err, func() []PolicyFix {
		opts := p.grantOptions(WithDeleteAccess())
		return p.fixes(p.rep.DestinationIdentity, p.dst.Bucket, p.o.dstAccount, sidDestinationDelete,
			func() Policy { return DestinationWritePolicy(p.dst, opts...) },
			func(pr string) Policy { return DestinationBucketPolicy(p.dst, pr, opts...) })
	})
	return err
}

func randomHex() string {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	return hex.EncodeToString(rnd[:])
}

// chooseMode decides how a sync would copy, and who writes. With a copy
// client that may copy (copyMayWrite), it first reads the sample source
// object's metadata through the copy client: if it can, so can
// CopyObject, and the copy identity copies server-side. Otherwise, or
// without a copy client, ModeAuto does the same through the destination
// client. The write probes checkWrite left to it then run as the writer.
// It runs after checkDestination, whose ACL the write probes send.
func (p *preflight) chooseMode(ctx context.Context, sample *Object) error {
	p.rep.Writer = SideDestination
	if p.copyMayWrite() {
		reads, err := p.copyReads(ctx, sample)
		if err != nil {
			return err
		}
		if reads || p.o.mode == ModeServerSide {
			p.rep.Mode, p.rep.Writer = ModeServerSide, SideCopy
			return p.deferredWrite(ctx, p.copyWriter())
		}
	}
	if err := p.chooseDestinationMode(ctx, sample); err != nil {
		return err
	}
	return p.deferredWrite(ctx, p.destinationWriter())
}

// deferredWrite runs the write probes as w when checkWrite left them to
// chooseMode.
func (p *preflight) deferredWrite(ctx context.Context, w writer) error {
	if !p.writeDeferred {
		return nil
	}
	p.writeDeferred = false
	if p.dead(w.side) {
		p.skip(w.side, "s3:PutObject", ObjectARN(p.dst.Bucket, p.dst.Prefix+"*"), "the identity's credentials could not be obtained")
		return nil
	}
	return p.checkWriteAs(ctx, w)
}

func (p *preflight) dead(side Side) bool {
	switch side {
	case SideSource:
		return p.srcDead
	case SideCopy:
		return p.copyDead
	}
	return p.dstDead
}

// copyReads names the copy identity and reports whether it can read the
// sample source object, as server-side copies need. Under ModeServerSide
// a refusal is a finding; under ModeAuto it only sends the sync back to
// the destination client.
func (p *preflight) copyReads(ctx context.Context, sample *Object) (bool, error) {
	p.rep.CopyIdentity, p.copyDead = p.whoami(ctx, SideCopy, p.o.copySTS)
	if p.copyDead {
		return false, nil
	}
	if sample == nil {
		p.skip(SideCopy, "s3:GetObject", ObjectARN(p.src.Bucket, p.src.Prefix+"*"), "no source object to read")
		return false, nil
	}
	res := ObjectARN(p.src.Bucket, sample.Key)
	// HeadObject needs the same s3:GetObject a CopyObject source does.
	_, err := headThrough(ctx, p.o.copy, p.src.Bucket, sample.Key, p.o.srcAccount, p.o.object.payer())
	if p.o.mode == ModeServerSide || p.identityFailed(SideCopy, err) {
		return p.probe(SideCopy, "s3:GetObject", res, err, p.sourceFixes(p.rep.CopyIdentity, sidSourceRead))
	}
	note := "the copy identity copies server-side"
	if err != nil {
		note = "the copy identity cannot read the source; the destination identity copies"
	}
	p.rep.Checks = append(p.rep.Checks, PreflightCheck{Side: SideCopy, Action: "s3:GetObject", Resource: res, Result: checkResult(err), Note: note})
	return err == nil, nil
}

// chooseDestinationMode decides how a sync would copy without the copy
// identity. ModeAuto reads the sample source object's metadata through
// the destination client: if it can, so can CopyObject.
func (p *preflight) chooseDestinationMode(ctx context.Context, sample *Object) error {
	mode := p.o.mode
	switch {
	case mode == ModeStream:
		p.rep.Mode = ModeStream
		return nil
	case !p.o.dstSet:
		// One client reads and writes: the source checks above were
		// made with the principal that will copy.
		p.rep.Mode = ModeServerSide
		return nil
	case sample == nil || p.dstDead:
		p.skip(SideDestination, "s3:GetObject", ObjectARN(p.src.Bucket, p.src.Prefix+"*"), "no source object to read")
		p.rep.Mode = ModeServerSide
		if mode == ModeAuto {
			p.rep.Mode = ModeStream
		}
		return nil
	}
	res := ObjectARN(p.src.Bucket, sample.Key)
	// HeadObject needs the same s3:GetObject a CopyObject source does.
	_, err := headThrough(ctx, p.o.dst, p.src.Bucket, sample.Key, p.o.srcAccount, p.o.object.payer())
	if mode == ModeAuto {
		if err == nil {
			p.rep.Mode = ModeServerSide
		} else {
			p.rep.Mode = ModeStream
		}
		p.rep.Checks = append(p.rep.Checks, PreflightCheck{Side: SideDestination, Action: "s3:GetObject", Resource: res, Result: checkResult(err),
			Note: "server-side copies need the destination principal to read the source; mode " + p.rep.Mode.String()})
		return nil
	}
	p.rep.Mode = ModeServerSide
	_, hard := p.probe(SideDestination, "s3:GetObject", res, err, func() []PolicyFix {
		opts := p.grantOptions()
		return p.fixes(p.rep.DestinationIdentity, p.src.Bucket, p.o.srcAccount, sidSourceRead,
			func() Policy { return SourceReadPolicy(p.src, opts...) },
			func(pr string) Policy { return SourceBucketPolicy(p.src, pr, opts...) })
	})
	return hard
}

func checkResult(err error) CheckResult {
	if err == nil {
		return CheckAllowed
	}
	return CheckDenied
}

func headThrough(ctx context.Context, c HeadObjectAPI, bucket, key, owner string, payer types.RequestPayer) (*s3.HeadObjectOutput, error) {
	return c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ExpectedBucketOwner: optional(owner), RequestPayer: payer})
}

// readOwnership returns the bucket's object ownership setting: known is
// false when it could not be read for lack of permission; "" with known
// true means the bucket has no ownership controls (ACLs enabled).
func readOwnership(ctx context.Context, c GetBucketOwnershipControlsAPI, bucket, owner string) (o types.ObjectOwnership, known bool, err error) {
	out, err := c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(bucket), ExpectedBucketOwner: optional(owner)})
	if err != nil {
		var apiErr smithy.APIError
		switch {
		case errors.As(err, &apiErr) && apiErr.ErrorCode() == "OwnershipControlsNotFoundError":
			return "", true, nil
		case isAccessDenied(err):
			return "", false, nil
		}
		return "", false, err
	}
	if out.OwnershipControls != nil && len(out.OwnershipControls.Rules) > 0 {
		return out.OwnershipControls.Rules[0].ObjectOwnership, true, nil
	}
	return "", true, nil
}

// objectACL is the canned ACL copies send: the one asked for, or
// bucket-owner-full-control unless the bucket is known to have ACLs
// disabled. Every ownership setting accepts bucket-owner-full-control, so
// it is also the safe choice when the setting cannot be read.
func objectACL(asked types.ObjectCannedACL, o types.ObjectOwnership, known bool) types.ObjectCannedACL {
	switch {
	case asked != "":
		return asked
	case known && o == types.ObjectOwnershipBucketOwnerEnforced:
		return ""
	}
	return types.ObjectCannedACLBucketOwnerFullControl
}

func aclRefused(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode() == "AccessControlListNotSupported" || apiErr.ErrorCode() == "InvalidBucketAclWithObjectOwnership")
}

// policyPrincipal is the ARN to name in policies for a caller: the role
// for a role session (arn:aws:sts::A:assumed-role/R/S →
// arn:aws:iam::A:role/R), the ARN itself otherwise.
func policyPrincipal(arn string) string {
	rest, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return arn
	}
	parts := strings.SplitN(rest, ":", 5)
	if len(parts) != 5 || parts[1] != "sts" {
		return arn
	}
	res, ok := strings.CutPrefix(parts[4], "assumed-role/")
	if !ok {
		return arn
	}
	role, _, _ := strings.Cut(res, "/")
	return "arn:" + parts[0] + ":iam::" + parts[3] + ":role/" + role
}

// refusedKMS reports which KMS action an AccessDenied names
// (kms:GenerateDataKey or kms:Decrypt, as S3 words a refused key) and the
// key it names, keyID when the message names none; "" when err is not
// such a refusal.
func refusedKMS(err error, keyID string) (action, keyARN string) {
	if err == nil || !isAccessDenied(err) {
		return "", keyID
	}
	msg := err.Error()
	for _, a := range []string{actionKMSGenerateDataKey, actionKMSDecrypt} {
		if strings.Contains(msg, "perform: "+a+" ") {
			action = a
			break
		}
	}
	if action == "" {
		return "", keyID
	}
	if _, rest, ok := strings.Cut(msg, "on resource: "); ok {
		rest = strings.TrimPrefix(rest, `"`)
		if end := strings.IndexAny(rest, `" `); end > 0 && strings.HasPrefix(rest, "arn:aws:kms:") {
			return action, rest[:end]
		}
	}
	return action, keyID
}

// kmsFixes returns the statements that let caller use the KMS key keyARN
// for actions: the statement of identity (KMSWritePolicy or
// KMSReadPolicy) for the caller's identity policy, and, when the caller
// is known, a statement naming it for the key policy, which must allow it
// as well.
func kmsFixes(caller Identity, keyARN string, identity Policy, actions ...string) []PolicyFix {
	principal := policyPrincipal(caller.ARN)
	out := []PolicyFix{{Kind: PolicyKindIdentity, Target: principal, Statement: identity.Statement[0]}}
	if principal != "" {
		out = append(out, PolicyFix{Kind: PolicyKindKey, Target: keyARN, Statement: KeyPolicyStatement(principal, actions...)})
	}
	return out
}

func statementBySid(p Policy, sid string) Statement {
	for _, s := range p.Statement {
		if s.Sid == sid {
			return s
		}
	}
	return Statement{}
}

// prepare runs the preflight (or, without it, the probes that decide the
// transfer mode and the ACL) before a sync moves anything. It runs while
// the sync lists (see syncRun.run); a dry run's findings are recorded
// ahead of any listing error.
func (r *syncRun) prepare(ctx context.Context) error {
	if r.o.preflight {
		rep, err := r.c.preflight(ctx, r.o, r.src, r.dst)
		r.report.Preflight = rep
		if err != nil {
			return err
		}
		if err := rep.Err(); err != nil {
			if !r.o.dryRun {
				return fmt.Errorf("preflight: %w", err)
			}
			// A dry run changes nothing, so it still shows the whole
			// plan; the missing permissions come with it.
			r.fail(fmt.Errorf("preflight: %w", err))
		}
		r.mode, r.acl, r.writer = rep.Mode, rep.ACL, rep.Writer
	} else {
		if err := r.decide(ctx); err != nil {
			return err
		}
	}
	r.report.Mode = r.mode
	r.report.Writer, r.cp = SideDestination, r.o.dst
	if r.writer == SideCopy {
		r.report.Writer, r.cp = SideCopy, r.o.copy
	}
	if r.mode == ModeStream {
		r.bufs = newBufferPool(r.o.concurrency, max(r.o.partSize, r.o.threshold))
	}
	r.o.logger.LogAttrs(ctx, slog.LevelInfo, "transfer mode", slog.String("mode", r.mode.String()), slog.String("acl", string(r.acl)))
	return nil
}

// decide picks the mode, the writer and the ACL as Preflight would,
// without the permission probes.
func (r *syncRun) decide(ctx context.Context) error {
	ownership, known, err := readOwnership(ctx, r.o.dst, r.dst.Bucket, r.o.dstAccount)
	if err != nil {
		return fmt.Errorf("read destination ownership controls: %w", err)
	}
	r.acl = objectACL(r.o.acl, ownership, known)
	r.writer = SideDestination
	copyFirst := r.o.copySet && r.o.mode != ModeStream
	switch {
	case copyFirst && r.o.mode == ModeServerSide:
		r.mode, r.writer = ModeServerSide, SideCopy
		return nil
	case r.o.mode != ModeAuto:
		r.mode = r.o.mode
		return nil
	case !r.o.dstSet && !copyFirst:
		r.mode = ModeServerSide
		return nil
	}
	out, err := r.c.src.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket: aws.String(r.src.Bucket), Prefix: optional(r.src.Prefix), MaxKeys: aws.Int32(1), ExpectedBucketOwner: optional(r.o.srcAccount),
		RequestPayer: r.o.object.payer(),
	})
	if err != nil {
		return fmt.Errorf("list source: %w", err)
	}
	reads := func(c HeadObjectAPI) bool {
		if len(out.Contents) == 0 {
			return false
		}
		_, err := headThrough(ctx, c, r.src.Bucket, aws.ToString(out.Contents[0].Key), r.o.srcAccount, r.o.object.payer())
		return err == nil
	}
	switch {
	case copyFirst && reads(r.o.copy):
		r.mode, r.writer = ModeServerSide, SideCopy
	case !r.o.dstSet || reads(r.o.dst):
		r.mode = ModeServerSide
	default:
		r.mode = ModeStream
	}
	return nil
}
