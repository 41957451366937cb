package xacct

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// ReplicationSourceS3API is what Apply and Diff need from the source
// account's S3 client; *s3.Client satisfies it.
type ReplicationSourceS3API interface {
	GetBucketVersioning(ctx context.Context, in *s3.GetBucketVersioningInput, optFns ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	PutBucketVersioning(ctx context.Context, in *s3.PutBucketVersioningInput, optFns ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error)
	GetBucketReplication(ctx context.Context, in *s3.GetBucketReplicationInput, optFns ...func(*s3.Options)) (*s3.GetBucketReplicationOutput, error)
	PutBucketReplication(ctx context.Context, in *s3.PutBucketReplicationInput, optFns ...func(*s3.Options)) (*s3.PutBucketReplicationOutput, error)
}

// ReplicationDestinationS3API is what Apply and Diff need from the
// destination account's S3 client; *s3.Client satisfies it.
type ReplicationDestinationS3API interface {
	GetBucketVersioning(ctx context.Context, in *s3.GetBucketVersioningInput, optFns ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	PutBucketVersioning(ctx context.Context, in *s3.PutBucketVersioningInput, optFns ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error)
	GetBucketPolicy(ctx context.Context, in *s3.GetBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	PutBucketPolicy(ctx context.Context, in *s3.PutBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
}

// ReplicationIAMAPI is what Apply and Diff need from the source account's
// IAM client to manage the replication role; *iam.Client satisfies it.
type ReplicationIAMAPI interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	CreateRole(ctx context.Context, in *iam.CreateRoleInput, optFns ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, optFns ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, optFns ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, optFns ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
}

var (
	_ ReplicationSourceS3API      = (*s3.Client)(nil)
	_ ReplicationDestinationS3API = (*s3.Client)(nil)
	_ ReplicationIAMAPI           = (*iam.Client)(nil)
)

// ReplicationClients are the clients Apply and Diff use: each acts in its
// own account.
type ReplicationClients struct {
	// SourceS3 and SourceIAM act in the source account.
	SourceS3  ReplicationSourceS3API
	SourceIAM ReplicationIAMAPI
	// DestinationS3 acts in the destination account. When nil, Apply makes
	// the source account's steps only and reports the destination's as
	// not applied, for its owners to apply from the plan.
	DestinationS3 ReplicationDestinationS3API
}

// ReplicationStepResult is what Apply did with one step.
type ReplicationStepResult struct {
	Step ReplicationStep
	// Changed reports that the step changed something; false means the
	// live state already matched.
	Changed bool
	// Skipped reports that Apply left the step to the account's owners: a
	// manual step, or a destination step without a destination client.
	Skipped bool
}

// ReplicationApplyReport lists the steps Apply made, in the order made.
type ReplicationApplyReport struct {
	Results []ReplicationStepResult
}

// Changed returns how many steps changed something. A second Apply of the
// same plan returns 0.
func (r *ReplicationApplyReport) Changed() int {
	n := 0
	for _, res := range r.Results {
		if res.Changed {
			n++
		}
	}
	return n
}

// ReplicationStepError reports the step that failed.
type ReplicationStepError struct {
	Step ReplicationStep
	Err  error
}

// Error names the step's kind, resource and account, and the cause.
func (e *ReplicationStepError) Error() string {
	return fmt.Sprintf("%s %s in account %s: %v", e.Step.Kind, e.Step.Resource, e.Step.Account, e.Err)
}

// Unwrap returns the cause.
func (e *ReplicationStepError) Unwrap() error { return e.Err }

// Apply makes the plan's changes, each only when the live state differs,
// so that applying twice changes nothing the second time. Steps run in
// dependency order across the accounts: source versioning, the role and
// its policy (a bucket policy may only name a role that exists),
// destination versioning, the destination bucket policy (merged by Sid:
// other statements are kept), and last the replication configuration (S3
// refuses it until both buckets are versioned). Key-policy steps are
// reported as skipped. The report lists what was done even when an error
// stops Apply; the error is a *ReplicationStepError.
func (c *ReplicationConfigurator) Apply(ctx context.Context, clients ReplicationClients) (*ReplicationApplyReport, error) {
	if clients.SourceS3 == nil || clients.SourceIAM == nil {
		return nil, fmt.Errorf("%w: Apply needs SourceS3 and SourceIAM clients", ErrInvalidOption)
	}
	p := c.Plan()
	byKind := func(steps []ReplicationStep, k ReplicationStepKind) []ReplicationStep {
		var out []ReplicationStep
		for _, s := range steps {
			if s.Kind == k {
				out = append(out, s)
			}
		}
		return out
	}
	var order []ReplicationStep
	order = append(order, byKind(p.Source.Steps, StepVersioning)...)
	order = append(order, byKind(p.Source.Steps, StepRole)...)
	order = append(order, byKind(p.Source.Steps, StepRolePolicy)...)
	order = append(order, p.Destination.Steps...)
	order = append(order, byKind(p.Source.Steps, StepReplicationConfiguration)...)

	rep := &ReplicationApplyReport{}
	for _, st := range order {
		res := ReplicationStepResult{Step: st}
		dest := st.Account == c.spec.Destination.Account && st.Kind != StepRole && st.Kind != StepRolePolicy && st.Kind != StepReplicationConfiguration &&
			st.Resource != BucketARN(c.spec.Source.Bucket)
		if st.Manual || (dest && clients.DestinationS3 == nil) {
			res.Skipped = true
			rep.Results = append(rep.Results, res)
			continue
		}
		var err error
		switch st.Kind {
		case StepVersioning:
			var client versioningAPI = clients.SourceS3
			bucket := c.spec.Source.Bucket
			if dest {
				client, bucket = clients.DestinationS3, c.spec.Destination.Bucket
			}
			res.Changed, err = enableVersioning(ctx, client, bucket)
		case StepRole:
			res.Changed, err = c.applyRole(ctx, clients.SourceIAM, *st.Policy)
		case StepRolePolicy:
			res.Changed, err = c.applyRolePolicy(ctx, clients.SourceIAM, *st.Policy)
		case StepBucketPolicy:
			res.Changed, err = c.applyBucketPolicy(ctx, clients.DestinationS3, *st.Policy)
		case StepReplicationConfiguration:
			res.Changed, err = c.applyConfiguration(ctx, clients.SourceS3, st.Configuration)
		}
		if err != nil {
			return rep, &ReplicationStepError{Step: st, Err: err}
		}
		c.log.InfoContext(ctx, "replication step", "op", string(st.Kind), "account", st.Account, "resource", st.Resource, "changed", res.Changed)
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

type versioningAPI interface {
	GetBucketVersioning(ctx context.Context, in *s3.GetBucketVersioningInput, optFns ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error)
	PutBucketVersioning(ctx context.Context, in *s3.PutBucketVersioningInput, optFns ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error)
}

func enableVersioning(ctx context.Context, client versioningAPI, bucket string) (bool, error) {
	out, err := client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil {
		return false, fmt.Errorf("get versioning: %w", err)
	}
	if out.Status == types.BucketVersioningStatusEnabled {
		return false, nil
	}
	_, err = client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
	})
	if err != nil {
		return false, fmt.Errorf("put versioning: %w", err)
	}
	return true, nil
}

func replErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// decodeIAMPolicy reads a policy document as IAM returns it:
// percent-encoded JSON.
func decodeIAMPolicy(doc string) (*Policy, error) {
	if dec, err := url.QueryUnescape(doc); err == nil {
		doc = dec
	}
	return ParsePolicy([]byte(doc))
}

func replSamePolicy(a *Policy, b Policy) bool {
	if a == nil {
		return false
	}
	x, err1 := a.JSON()
	y, err2 := b.JSON()
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// liveRole returns the role's trust policy, or nil when the role does not
// exist.
func (c *ReplicationConfigurator) liveRole(ctx context.Context, client ReplicationIAMAPI) (*Policy, bool, error) {
	out, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(c.spec.RoleName)})
	if replErrorCode(err) == "NoSuchEntity" {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get role: %w", err)
	}
	p, err := decodeIAMPolicy(aws.ToString(out.Role.AssumeRolePolicyDocument))
	if err != nil {
		return nil, true, nil
	}
	return p, true, nil
}

func (c *ReplicationConfigurator) applyRole(ctx context.Context, client ReplicationIAMAPI, trust Policy) (bool, error) {
	live, exists, err := c.liveRole(ctx, client)
	if err != nil {
		return false, err
	}
	doc := trust.String()
	if !exists {
		_, err := client.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName:                 aws.String(c.spec.RoleName),
			AssumeRolePolicyDocument: aws.String(doc),
			Description:              aws.String("S3 Replication from " + c.spec.Source.Bucket + " to " + c.spec.Destination.Bucket + " (xacct)"),
		})
		if err != nil {
			return false, fmt.Errorf("create role: %w", err)
		}
		return true, nil
	}
	if replSamePolicy(live, trust) {
		return false, nil
	}
	if _, err := client.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(c.spec.RoleName), PolicyDocument: aws.String(doc)}); err != nil {
		return false, fmt.Errorf("update trust policy: %w", err)
	}
	return true, nil
}

func (c *ReplicationConfigurator) liveRolePolicy(ctx context.Context, client ReplicationIAMAPI) (*Policy, error) {
	out, err := client.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(c.spec.RoleName), PolicyName: aws.String(ReplicationRolePolicyName)})
	if replErrorCode(err) == "NoSuchEntity" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get role policy: %w", err)
	}
	p, err := decodeIAMPolicy(aws.ToString(out.PolicyDocument))
	if err != nil {
		return nil, nil
	}
	return p, nil
}

func (c *ReplicationConfigurator) applyRolePolicy(ctx context.Context, client ReplicationIAMAPI, perm Policy) (bool, error) {
	live, err := c.liveRolePolicy(ctx, client)
	if err != nil {
		return false, err
	}
	if replSamePolicy(live, perm) {
		return false, nil
	}
	_, err = client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName:       aws.String(c.spec.RoleName),
		PolicyName:     aws.String(ReplicationRolePolicyName),
		PolicyDocument: aws.String(perm.String()),
	})
	if err != nil {
		return false, fmt.Errorf("put role policy: %w", err)
	}
	return true, nil
}

// liveBucketPolicy returns the destination bucket's policy, nil when it
// has none.
func (c *ReplicationConfigurator) liveBucketPolicy(ctx context.Context, client ReplicationDestinationS3API) (*Policy, error) {
	out, err := client.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(c.spec.Destination.Bucket), ExpectedBucketOwner: owner(c.spec.Destination.Account)})
	if replErrorCode(err) == "NoSuchBucketPolicy" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get bucket policy: %w", err)
	}
	p, err := ParsePolicy([]byte(aws.ToString(out.Policy)))
	if err != nil {
		return nil, fmt.Errorf("existing bucket policy: %w", err)
	}
	return p, nil
}

func (c *ReplicationConfigurator) applyBucketPolicy(ctx context.Context, client ReplicationDestinationS3API, add Policy) (bool, error) {
	existing, err := c.liveBucketPolicy(ctx, client)
	if err != nil {
		return false, err
	}
	merged, changed, err := MergeStatements(existing, add.Statement...)
	if err != nil || !changed {
		return false, err
	}
	_, err = client.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(c.spec.Destination.Bucket), Policy: aws.String(merged.String()), ExpectedBucketOwner: owner(c.spec.Destination.Account)})
	if err != nil {
		return false, fmt.Errorf("put bucket policy: %w", err)
	}
	return true, nil
}

func owner(account string) *string {
	if account == "" {
		return nil
	}
	return aws.String(account)
}

// liveConfiguration returns the source bucket's replication configuration,
// nil when it has none.
func (c *ReplicationConfigurator) liveConfiguration(ctx context.Context, client ReplicationSourceS3API) (*types.ReplicationConfiguration, error) {
	out, err := client.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String(c.spec.Source.Bucket), ExpectedBucketOwner: owner(c.spec.Source.Account)})
	if replErrorCode(err) == "ReplicationConfigurationNotFoundError" {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get replication configuration: %w", err)
	}
	return out.ReplicationConfiguration, nil
}

func (c *ReplicationConfigurator) applyConfiguration(ctx context.Context, client ReplicationSourceS3API, cfg *types.ReplicationConfiguration) (bool, error) {
	live, err := c.liveConfiguration(ctx, client)
	if err != nil {
		return false, err
	}
	if live != nil && len(diffConfigurations(live, cfg)) == 0 {
		return false, nil
	}
	_, err = client.PutBucketReplication(ctx, &s3.PutBucketReplicationInput{
		Bucket:                   aws.String(c.spec.Source.Bucket),
		ReplicationConfiguration: cfg,
		ExpectedBucketOwner:      owner(c.spec.Source.Account),
	})
	if err != nil {
		return false, fmt.Errorf("put replication configuration: %w", err)
	}
	return true, nil
}
