package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/pflag"

	"github.com/xacct/xacct"
)

// identityFlags pick the credentials of each side of a copy: a profile per
// side (default --profile) and a role to assume on top of it.
type identityFlags struct {
	sourceProfile, destProfile          string
	roleARN, sourceRoleARN, destRoleARN string
	// externalID is sent for both sides' roles unless sourceExternalID
	// or destExternalID overrides it for one side.
	externalID, sourceExternalID, destExternalID string
	// copyProfile, copyRoleARN and copyExternalID pick a third identity
	// that makes server-side copies (sync only, see registerCopy).
	copyProfile, copyRoleARN, copyExternalID string
}

// register adds the identity flags to fs.
func (f *identityFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.sourceProfile, "source-profile", "", "read the source with profile `NAME` (default: --profile)")
	fs.StringVar(&f.destProfile, "dest-profile", "", "write the destination with profile `NAME` (default: --profile)")
	fs.StringVar(&f.roleARN, "role-arn", "", "assume role `ARN` on both sides, with the profile's credentials")
	fs.StringVar(&f.sourceRoleARN, "source-role-arn", "", "assume role `ARN` for the source (overrides --role-arn)")
	fs.StringVar(&f.destRoleARN, "dest-role-arn", "", "assume role `ARN` for the destination (overrides --role-arn)")
	fs.StringVar(&f.externalID, "external-id", "", "send `ID` as the ExternalId of every role assumed (see --source-external-id, --dest-external-id)")
	fs.StringVar(&f.sourceExternalID, "source-external-id", "", "send `ID` as the ExternalId of the source's role (overrides --external-id)")
	fs.StringVar(&f.destExternalID, "dest-external-id", "", "send `ID` as the ExternalId of the destination's role (overrides --external-id)")
}

// registerCopy adds the flags of the copy identity to fs.
func (f *identityFlags) registerCopy(fs *pflag.FlagSet) {
	fs.StringVar(&f.copyProfile, "copy-profile", "", "copy server-side as profile `NAME` when it can read SRC (default: --profile, with --copy-role-arn)")
	fs.StringVar(&f.copyRoleARN, "copy-role-arn", "", "copy server-side as role `ARN` when it can read SRC, assumed with the copy profile's credentials")
	fs.StringVar(&f.copyExternalID, "copy-external-id", "", "send `ID` as the ExternalId of the copy role (overrides --external-id)")
}

// hasCopy reports whether the flags name a copy identity.
func (f identityFlags) hasCopy() bool { return f.copyProfile != "" || f.copyRoleARN != "" }

// split reports whether any flag sets one side apart from the plain
// --profile, which is when whoami shows both sides.
func (f identityFlags) split() bool {
	return f.sourceProfile != "" || f.destProfile != "" || f.roleARN != "" || f.sourceRoleARN != "" || f.destRoleARN != ""
}

// validate checks the flags before any request: role ARNs must parse, and
// an external ID needs a role on its side.
func (f identityFlags) validate() error {
	for _, r := range []struct{ flag, arn string }{
		{"--role-arn", f.roleARN}, {"--source-role-arn", f.sourceRoleARN}, {"--dest-role-arn", f.destRoleARN}, {"--copy-role-arn", f.copyRoleARN},
	} {
		if r.arn == "" {
			continue
		}
		if _, err := xacct.ParseRoleARN(r.arn); err != nil {
			return usageError{fmt.Errorf("%s: %w", r.flag, err)}
		}
	}
	if f.externalID != "" && f.roleARN == "" && f.sourceRoleARN == "" && f.destRoleARN == "" && f.copyRoleARN == "" {
		return usageError{errors.New("--external-id needs --role-arn, --source-role-arn or --dest-role-arn")}
	}
	if f.copyExternalID != "" && f.copyRoleARN == "" {
		return usageError{fmt.Errorf("--copy-external-id %q needs --copy-role-arn", f.copyExternalID)}
	}
	if f.sourceExternalID != "" && f.roleARN == "" && f.sourceRoleARN == "" {
		return usageError{fmt.Errorf("--source-external-id %q needs a source role: --source-role-arn or --role-arn", f.sourceExternalID)}
	}
	if f.destExternalID != "" && f.roleARN == "" && f.destRoleARN == "" {
		return usageError{fmt.Errorf("--dest-external-id %q needs a destination role: --dest-role-arn or --role-arn", f.destExternalID)}
	}
	return nil
}

// side is the profile and role of one side, and the ExternalId sent when
// assuming the role.
type side struct{ profile, role, externalID string }

func (f identityFlags) source(profile string) side {
	return newSide(first(f.sourceProfile, profile), first(f.sourceRoleARN, f.roleARN), first(f.sourceExternalID, f.externalID))
}

func (f identityFlags) destination(profile string) side {
	return newSide(first(f.destProfile, profile), first(f.destRoleARN, f.roleARN), first(f.destExternalID, f.externalID))
}

// copySide is the copy identity's profile and role; --role-arn, which
// names both sides' role, does not name it.
func (f identityFlags) copySide(profile string) side {
	return newSide(first(f.copyProfile, profile), f.copyRoleARN, first(f.copyExternalID, f.externalID))
}

// newSide drops the ExternalId of a side without a role, so that it does
// not keep two sides with the same profile apart.
func newSide(profile, role, externalID string) side {
	if role == "" {
		externalID = ""
	}
	return side{profile: profile, role: role, externalID: externalID}
}

// first returns the first non-empty string.
func first(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// sides holds the AWS configuration of each side of a copy. When both
// sides resolve to the same profile and role, they share one
// configuration, and so one credentials cache and one AssumeRole.
type sides struct {
	src, dst aws.Config
	// same is set when one principal reads and writes.
	same bool
	// cp is the copy identity's configuration (--copy-profile,
	// --copy-role-arn), nil without one.
	cp *aws.Config
}

// oneSide returns sides that both use cfg.
func oneSide(cfg aws.Config) sides { return sides{src: cfg, dst: cfg, same: true} }

// sides loads the configuration of both sides for a command running up to
// conns requests at once.
func (a *app) sides(ctx context.Context, f identityFlags, conns int) (sides, error) {
	if err := f.validate(); err != nil {
		return sides{}, err
	}
	srcSide, dstSide := f.source(a.flags.profile), f.destination(a.flags.profile)
	src, err := a.sideConfig(ctx, srcSide, conns)
	if err != nil {
		return sides{}, fmt.Errorf("source: %w", err)
	}
	s := oneSide(src)
	if srcSide != dstSide {
		dst, err := a.sideConfig(ctx, dstSide, conns)
		if err != nil {
			return sides{}, fmt.Errorf("destination: %w", err)
		}
		s = sides{src: src, dst: dst}
	}
	if f.hasCopy() {
		cp, err := a.sideConfig(ctx, f.copySide(a.flags.profile), conns)
		if err != nil {
			return sides{}, fmt.Errorf("copy identity: %w", err)
		}
		s.cp = &cp
	}
	return s, nil
}

// sideConfig loads one side's profile and assumes its role, if any, with
// the side's ExternalId.
func (a *app) sideConfig(ctx context.Context, s side, conns int) (aws.Config, error) {
	g := a.flags
	g.profile = s.profile
	cfg, err := a.configFor(ctx, g, conns)
	if err != nil || s.role == "" {
		return cfg, err
	}
	return assumeRole(cfg, s.role, s.externalID)
}

// assumeRole returns cfg acting as roleARN, assumed with cfg's
// credentials and externalID, if any.
func assumeRole(cfg aws.Config, roleARN, externalID string) (aws.Config, error) {
	var opts []xacct.AssumeRoleOption
	if externalID != "" {
		opts = append(opts, xacct.WithExternalID(externalID))
	}
	out, err := xacct.AssumeRoleConfig(cfg, roleARN, opts...)
	if err != nil {
		return aws.Config{}, usageError{err}
	}
	return out, nil
}

// newCopier returns a Copier that reads with s.src and writes with s.dst
// (and, with s.cp, copies server-side as the copy identity when it can
// read the source), naming every principal in preflight findings.
func newCopier(s sides, opts ...xacct.CopierOption) (*xacct.Copier, error) {
	srcS3, srcSTS := newS3(s.src), newSTS(s.src)
	base := []xacct.CopierOption{xacct.WithIdentityClients(srcSTS, srcSTS)}
	if !s.same {
		base = []xacct.CopierOption{
			xacct.WithDestinationClient(newS3(s.dst)),
			xacct.WithIdentityClients(srcSTS, newSTS(s.dst)),
		}
	}
	if s.cp != nil {
		base = append(base, xacct.WithCopyClient(newS3(*s.cp), newSTS(*s.cp)))
	}
	return xacct.NewCopier(srcS3, append(base, opts...)...)
}

// accountFlags declare the accounts that own the two buckets of a sync or
// verify; each side's requests then carry its account as
// ExpectedBucketOwner, so S3 refuses them if the bucket has another owner.
type accountFlags struct{ source, dest string }

// register adds --source-account and --dest-account to fs.
func (f *accountFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.source, "source-account", "", "expect the source bucket to be owned by account `ID` (12 digits): S3 refuses every request otherwise")
	fs.StringVar(&f.dest, "dest-account", "", "expect the destination bucket to be owned by account `ID` (12 digits): S3 refuses every request otherwise")
}

// options checks the account ids and turns them into Copier options.
func (f accountFlags) options() ([]xacct.CopierOption, error) {
	var opts []xacct.CopierOption
	for _, a := range []struct {
		flag, id string
		opt      func(string) xacct.CopierOption
	}{{"--source-account", f.source, xacct.WithSourceAccount}, {"--dest-account", f.dest, xacct.WithDestinationAccount}} {
		if a.id == "" {
			continue
		}
		if err := xacct.ValidateAccountID(a.id); err != nil {
			return nil, usageError{fmt.Errorf("%s: %w", a.flag, err)}
		}
		opts = append(opts, a.opt(a.id))
	}
	return opts, nil
}
