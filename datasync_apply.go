package xacct

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	"github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// DataSyncAPI is what a DataSyncPlanner needs from DataSync in the source
// account; *datasync.Client satisfies it.
type DataSyncAPI interface {
	CreateLocationS3(ctx context.Context, in *datasync.CreateLocationS3Input, optFns ...func(*datasync.Options)) (*datasync.CreateLocationS3Output, error)
	DescribeLocationS3(ctx context.Context, in *datasync.DescribeLocationS3Input, optFns ...func(*datasync.Options)) (*datasync.DescribeLocationS3Output, error)
	ListLocations(ctx context.Context, in *datasync.ListLocationsInput, optFns ...func(*datasync.Options)) (*datasync.ListLocationsOutput, error)
	CreateTask(ctx context.Context, in *datasync.CreateTaskInput, optFns ...func(*datasync.Options)) (*datasync.CreateTaskOutput, error)
	DescribeTask(ctx context.Context, in *datasync.DescribeTaskInput, optFns ...func(*datasync.Options)) (*datasync.DescribeTaskOutput, error)
	UpdateTask(ctx context.Context, in *datasync.UpdateTaskInput, optFns ...func(*datasync.Options)) (*datasync.UpdateTaskOutput, error)
	ListTasks(ctx context.Context, in *datasync.ListTasksInput, optFns ...func(*datasync.Options)) (*datasync.ListTasksOutput, error)
	ListTagsForResource(ctx context.Context, in *datasync.ListTagsForResourceInput, optFns ...func(*datasync.Options)) (*datasync.ListTagsForResourceOutput, error)
	StartTaskExecution(ctx context.Context, in *datasync.StartTaskExecutionInput, optFns ...func(*datasync.Options)) (*datasync.StartTaskExecutionOutput, error)
	DescribeTaskExecution(ctx context.Context, in *datasync.DescribeTaskExecutionInput, optFns ...func(*datasync.Options)) (*datasync.DescribeTaskExecutionOutput, error)
	CancelTaskExecution(ctx context.Context, in *datasync.CancelTaskExecutionInput, optFns ...func(*datasync.Options)) (*datasync.CancelTaskExecutionOutput, error)
}

// DataSyncLocationUpdateAPI is the optional part of a DataSyncAPI that
// Apply uses to bring an existing location's storage class and role in
// line with the plan; *datasync.Client satisfies it. A client without it
// still creates resources, but Apply returns a *DataSyncLocationUpdateError
// when a found location differs from the plan.
type DataSyncLocationUpdateAPI interface {
	UpdateLocationS3(ctx context.Context, in *datasync.UpdateLocationS3Input, optFns ...func(*datasync.Options)) (*datasync.UpdateLocationS3Output, error)
}

var _ DataSyncLocationUpdateAPI = (*datasync.Client)(nil)

// DataSyncLocationUpdateError reports that a DataSync location Apply found
// differs from the plan and must be updated, but the planner's DataSync
// client has no UpdateLocationS3 (DataSyncLocationUpdateAPI). It wraps
// errors.ErrUnsupported.
type DataSyncLocationUpdateError struct {
	// Kind is "source" or "destination".
	Kind string
	// LocationARN is the location that must be updated.
	LocationARN string
	// Fields names what differs from the plan, with the planned value,
	// such as "storage class STANDARD_IA" or "role arn:aws:iam::…".
	Fields []string
}

// Error names the location and the fields that must be updated.
func (e *DataSyncLocationUpdateError) Error() string {
	return fmt.Sprintf("%s location %s must be updated (%s), but the DataSync client has no UpdateLocationS3", e.Kind, e.LocationARN, strings.Join(e.Fields, ", "))
}

// Unwrap returns errors.ErrUnsupported.
func (e *DataSyncLocationUpdateError) Unwrap() error { return errors.ErrUnsupported }

// DataSyncRoleAPI is what a DataSyncPlanner needs from IAM in the source
// account to create and update the DataSync role; *iam.Client satisfies
// it.
type DataSyncRoleAPI interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	CreateRole(ctx context.Context, in *iam.CreateRoleInput, optFns ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, optFns ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, optFns ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, optFns ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
}

// DataSyncBucketAPI is what a DataSyncPlanner needs from S3 in the
// destination account; *s3.Client satisfies it.
type DataSyncBucketAPI interface {
	GetBucketPolicy(ctx context.Context, in *s3.GetBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	PutBucketPolicy(ctx context.Context, in *s3.PutBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
	GetBucketOwnershipControlsAPI
	PutBucketOwnershipControls(ctx context.Context, in *s3.PutBucketOwnershipControlsInput, optFns ...func(*s3.Options)) (*s3.PutBucketOwnershipControlsOutput, error)
}

var (
	_ DataSyncAPI       = (*datasync.Client)(nil)
	_ DataSyncRoleAPI   = (*iam.Client)(nil)
	_ DataSyncBucketAPI = (*s3.Client)(nil)
)

// DataSyncPlanner applies DataSync plans and runs their tasks. It holds
// the clients of the source account (IAM and DataSync, acting as the
// plan's operator) and, optionally, of the destination account (S3).
// It is safe for concurrent use.
type DataSyncPlanner struct {
	iam   DataSyncRoleAPI
	ds    DataSyncAPI
	dstS3 DataSyncBucketAPI
	log   *slog.Logger
	poll  pollBackoff
}

// NewDataSyncPlanner returns a planner using iamClient and dsClient in
// the source account and dstS3 in the destination account. dstS3 may be
// nil when the destination account applies its part itself (see
// DataSyncPlan.Destination); Apply then checks nothing there and
// CreateLocationS3 fails until that part is in place.
func NewDataSyncPlanner(iamClient DataSyncRoleAPI, dsClient DataSyncAPI, dstS3 DataSyncBucketAPI, opts ...DataSyncPlannerOption) (*DataSyncPlanner, error) {
	if iamClient == nil || dsClient == nil {
		return nil, &ValidationError{Field: "clients", Value: "nil", Rule: "the IAM and DataSync clients of the source account are required", Err: ErrInvalidOption}
	}
	o := dataSyncOptions{pollInterval: DefaultDataSyncPollInterval, maxPollInterval: DefaultDataSyncMaxPollInterval}
	for _, f := range opts {
		f(&o)
	}
	if o.pollInterval <= 0 || o.maxPollInterval < o.pollInterval {
		return nil, &ValidationError{Field: "poll interval", Value: o.pollInterval.String() + ".." + o.maxPollInterval.String(), Rule: "must be positive, the longest at least the first", Err: ErrInvalidOption}
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	return &DataSyncPlanner{iam: iamClient, ds: dsClient, dstS3: dstS3, log: o.logger, poll: pollBackoff{first: o.pollInterval, max: o.maxPollInterval}}, nil
}

// NewDataSyncPlannerFromConfigs builds the planner's clients from an
// aws.Config for the source account's operator and one for the
// destination account (whose region should be the destination bucket's).
func NewDataSyncPlannerFromConfigs(source, destination aws.Config, opts ...DataSyncPlannerOption) (*DataSyncPlanner, error) {
	return NewDataSyncPlanner(iam.NewFromConfig(source), datasync.NewFromConfig(source), s3.NewFromConfig(destination), opts...)
}

// Plan validates spec and returns its plan; see NewDataSyncPlan.
func (p *DataSyncPlanner) Plan(spec DataSyncSpec) (*DataSyncPlan, error) {
	return NewDataSyncPlan(spec)
}

// DataSyncApplyResult is what Apply found or made.
type DataSyncApplyResult struct {
	RoleARN                string `json:"roleArn"`
	SourceLocationARN      string `json:"sourceLocationArn"`
	DestinationLocationARN string `json:"destinationLocationArn"`
	TaskARN                string `json:"taskArn"`
	// Changes lists what Apply changed, one line each, in order; empty
	// when everything was already as planned.
	Changes []string `json:"changes"`
}

// Apply makes the plan real, in order: the role and its policies, the
// destination bucket policy (merged by Sid) and ownership controls, the
// two locations, the task. It is idempotent: the role is found by name,
// the locations and the task by their xacct tags, policies are compared
// before they are written, and a second Apply changes nothing. Found
// resources are brought in line with the plan: a location's storage
// class and role with UpdateLocationS3 (when the DataSync client has no
// UpdateLocationS3, see DataSyncLocationUpdateAPI, a location that
// differs is refused with a *DataSyncLocationUpdateError); the task's options (unset ones
// compared with DataSync's defaults), filters, schedule, log group,
// manifest and task report with UpdateTask. A task
// that exists with another TaskMode is refused with a *ValidationError
// (DataSync cannot change a task's mode). The first failing step stops
// Apply; its error names the step and wraps the AWS error.
func (p *DataSyncPlanner) Apply(ctx context.Context, plan *DataSyncPlan) (*DataSyncApplyResult, error) {
	if plan == nil {
		return nil, &ValidationError{Field: "plan", Value: "nil", Rule: "is required", Err: ErrInvalidOption}
	}
	if err := plan.Spec.Validate(); err != nil {
		return nil, err
	}
	res := &DataSyncApplyResult{RoleARN: plan.Source.RoleARN}
	changed := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		res.Changes = append(res.Changes, msg)
		p.log.InfoContext(ctx, "datasync apply", "change", msg, "task", plan.Spec.TaskName)
	}
	if err := p.applyRole(ctx, plan, changed); err != nil {
		return res, err
	}
	if p.dstS3 != nil {
		if err := p.applyDestination(ctx, plan, changed); err != nil {
			return res, err
		}
	}
	var err error
	if res.SourceLocationARN, err = p.applyLocation(ctx, plan, "source", plan.Source.SourceLocation, changed); err != nil {
		return res, err
	}
	if res.DestinationLocationARN, err = p.applyLocation(ctx, plan, "destination", plan.Source.DestinationLocation, changed); err != nil {
		return res, err
	}
	res.TaskARN, err = p.applyTask(ctx, plan, res.SourceLocationARN, res.DestinationLocationARN, changed)
	return res, err
}

func (p *DataSyncPlanner) applyRole(ctx context.Context, plan *DataSyncPlan, changed func(string, ...any)) error {
	src := plan.Source
	trust, err := src.TrustPolicy.JSON()
	if err != nil {
		return err
	}
	got, err := p.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(src.RoleName)})
	switch {
	case errorCode(err) == "NoSuchEntity":
		if _, err := p.iam.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName: aws.String(src.RoleName), AssumeRolePolicyDocument: aws.String(string(trust)),
			Description: aws.String("DataSync role for task " + plan.Spec.TaskName + " (xacct)"),
		}); err != nil {
			return fmt.Errorf("create role %s: %w", src.RoleName, err)
		}
		changed("created role %s", src.RoleARN)
	case err != nil:
		return fmt.Errorf("get role %s: %w", src.RoleName, err)
	default:
		same, err := samePolicy(aws.ToString(got.Role.AssumeRolePolicyDocument), src.TrustPolicy)
		if err != nil {
			return fmt.Errorf("role %s trust policy: %w", src.RoleName, err)
		}
		if !same {
			if _, err := p.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(src.RoleName), PolicyDocument: aws.String(string(trust))}); err != nil {
				return fmt.Errorf("update trust policy of role %s: %w", src.RoleName, err)
			}
			changed("updated the trust policy of role %s", src.RoleARN)
		}
	}
	doc, err := src.RolePolicy.JSON()
	if err != nil {
		return err
	}
	cur, err := p.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(src.RoleName), PolicyName: aws.String(src.RolePolicyName)})
	if err != nil && errorCode(err) != "NoSuchEntity" {
		return fmt.Errorf("get policy %s of role %s: %w", src.RolePolicyName, src.RoleName, err)
	}
	if err == nil {
		if same, err := samePolicy(aws.ToString(cur.PolicyDocument), src.RolePolicy); err != nil || same {
			return err
		}
	}
	if _, err := p.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(src.RoleName), PolicyName: aws.String(src.RolePolicyName), PolicyDocument: aws.String(string(doc))}); err != nil {
		return fmt.Errorf("put policy %s of role %s: %w", src.RolePolicyName, src.RoleName, err)
	}
	changed("put inline policy %s on role %s", src.RolePolicyName, src.RoleARN)
	return nil
}

// samePolicy compares a document as IAM returns it (URL-encoded) with
// want, ignoring formatting.
func samePolicy(doc string, want Policy) (bool, error) {
	if dec, err := url.QueryUnescape(doc); err == nil {
		doc = dec
	}
	have, err := ParsePolicy([]byte(doc))
	if err != nil {
		return false, err
	}
	a, err := have.JSON()
	if err != nil {
		return false, err
	}
	b, err := want.JSON()
	if err != nil {
		return false, err
	}
	return bytes.Equal(a, b), nil
}

func (p *DataSyncPlanner) applyDestination(ctx context.Context, plan *DataSyncPlan, changed func(string, ...any)) error {
	dst := plan.Destination
	bucket := aws.String(dst.Bucket)
	var existing *Policy
	out, err := p.dstS3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket, ExpectedBucketOwner: aws.String(dst.Account)})
	switch {
	case errorCode(err) == "NoSuchBucketPolicy":
	case err != nil:
		return fmt.Errorf("get bucket policy of %s: %w", dst.Bucket, err)
	default:
		if existing, err = ParsePolicy([]byte(aws.ToString(out.Policy))); err != nil {
			return fmt.Errorf("bucket policy of %s: %w", dst.Bucket, err)
		}
	}
	base := existing
	if !slices.ContainsFunc(dst.BucketPolicy.Statement, func(s Statement) bool { return s.Sid == sidDataSyncDestinationDelete }) {
		// Deleting was granted by an earlier plan and is no longer.
		base, _ = RemoveStatements(existing, sidDataSyncDestinationDelete)
	}
	merged, _, err := MergeStatements(base, dst.BucketPolicy.Statement...)
	if err != nil {
		return err
	}
	diff := existing == nil
	if !diff {
		before, err1 := existing.JSON()
		after, err2 := merged.JSON()
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		diff = !bytes.Equal(before, after)
	}
	if diff {
		doc, err := merged.JSON()
		if err != nil {
			return err
		}
		if _, err := p.dstS3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String(string(doc)), ExpectedBucketOwner: aws.String(dst.Account)}); err != nil {
			return fmt.Errorf("put bucket policy of %s: %w", dst.Bucket, err)
		}
		changed("merged %d statements into the bucket policy of %s", len(dst.BucketPolicy.Statement), dst.Bucket)
	}
	oc, err := p.dstS3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: bucket, ExpectedBucketOwner: aws.String(dst.Account)})
	if err != nil && errorCode(err) != "OwnershipControlsNotFoundError" {
		return fmt.Errorf("get ownership controls of %s: %w", dst.Bucket, err)
	}
	if err == nil && oc.OwnershipControls != nil && len(oc.OwnershipControls.Rules) == 1 && oc.OwnershipControls.Rules[0].ObjectOwnership == dst.ObjectOwnership {
		return nil
	}
	if _, err := p.dstS3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
		Bucket: bucket, ExpectedBucketOwner: aws.String(dst.Account),
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: dst.ObjectOwnership}}},
	}); err != nil {
		return fmt.Errorf("put ownership controls of %s: %w", dst.Bucket, err)
	}
	changed("set object ownership of %s to %s", dst.Bucket, dst.ObjectOwnership)
	return nil
}

// applyLocation finds the location tagged for this task and kind, or
// creates it.
func (p *DataSyncPlanner) applyLocation(ctx context.Context, plan *DataSyncPlan, kind string, in *datasync.CreateLocationS3Input, changed func(string, ...any)) (string, error) {
	e := plan.Spec.Source
	if kind == "destination" {
		e = plan.Spec.Destination
	}
	uri := e.LocationURI()
	var token *string
	for {
		out, err := p.ds.ListLocations(ctx, &datasync.ListLocationsInput{NextToken: token})
		if err != nil {
			return "", fmt.Errorf("list locations: %w", err)
		}
		for _, l := range out.Locations {
			if aws.ToString(l.LocationUri) != uri {
				continue
			}
			ok, err := p.tagged(ctx, aws.ToString(l.LocationArn), plan.Spec.TaskName, kind)
			if err != nil {
				return "", err
			}
			if ok {
				arn := aws.ToString(l.LocationArn)
				return arn, p.updateLocation(ctx, kind, arn, in, changed)
			}
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	out, err := p.ds.CreateLocationS3(ctx, in)
	if err != nil {
		return "", fmt.Errorf("create %s location %s: %w", kind, uri, err)
	}
	changed("created %s location %s (%s)", kind, uri, aws.ToString(out.LocationArn))
	return aws.ToString(out.LocationArn), nil
}

// updateLocation brings an existing location's storage class and role
// in line with in, with UpdateLocationS3; its bucket and subdirectory
// already match, as the location was found by its URI.
func (p *DataSyncPlanner) updateLocation(ctx context.Context, kind, arn string, in *datasync.CreateLocationS3Input, changed func(string, ...any)) error {
	cur, err := p.ds.DescribeLocationS3(ctx, &datasync.DescribeLocationS3Input{LocationArn: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("describe %s location %s: %w", kind, arn, err)
	}
	up := &datasync.UpdateLocationS3Input{LocationArn: aws.String(arn)}
	var what []string
	if wantClass := storageClassOrDefault(in.S3StorageClass); storageClassOrDefault(cur.S3StorageClass) != wantClass {
		up.S3StorageClass, what = wantClass, append(what, "storage class "+string(wantClass))
	}
	wantRole := ""
	if in.S3Config != nil {
		wantRole = aws.ToString(in.S3Config.BucketAccessRoleArn)
	}
	curRole := ""
	if cur.S3Config != nil {
		curRole = aws.ToString(cur.S3Config.BucketAccessRoleArn)
	}
	if curRole != wantRole {
		up.S3Config, what = &types.S3Config{BucketAccessRoleArn: aws.String(wantRole)}, append(what, "role "+wantRole)
	}
	if len(what) == 0 {
		return nil
	}
	updater, ok := p.ds.(DataSyncLocationUpdateAPI)
	if !ok {
		return &DataSyncLocationUpdateError{Kind: kind, LocationARN: arn, Fields: what}
	}
	if _, err := updater.UpdateLocationS3(ctx, up); err != nil {
		return fmt.Errorf("update %s location %s: %w", kind, arn, err)
	}
	changed("updated %s of %s location %s", strings.Join(what, ", "), kind, arn)
	return nil
}

// storageClassOrDefault is the storage class DataSync uses for c: c, or
// STANDARD when unset.
func storageClassOrDefault(c types.S3StorageClass) types.S3StorageClass {
	if c == "" {
		return types.S3StorageClassStandard
	}
	return c
}

// tagged reports whether a resource carries the task's tag (and, for a
// location, its kind).
func (p *DataSyncPlanner) tagged(ctx context.Context, arn, task, kind string) (bool, error) {
	out, err := p.ds.ListTagsForResource(ctx, &datasync.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil {
		return false, fmt.Errorf("list tags of %s: %w", arn, err)
	}
	var taskOK, kindOK bool
	for _, t := range out.Tags {
		switch aws.ToString(t.Key) {
		case DataSyncTagTask:
			taskOK = aws.ToString(t.Value) == task
		case DataSyncTagRole:
			kindOK = aws.ToString(t.Value) == kind
		}
	}
	return taskOK && (kind == "" || kindOK), nil
}

func (p *DataSyncPlanner) applyTask(ctx context.Context, plan *DataSyncPlan, srcARN, dstARN string, changed func(string, ...any)) (string, error) {
	want := *plan.Source.Task
	want.SourceLocationArn, want.DestinationLocationArn = aws.String(srcARN), aws.String(dstARN)
	var token *string
	for {
		out, err := p.ds.ListTasks(ctx, &datasync.ListTasksInput{NextToken: token})
		if err != nil {
			return "", fmt.Errorf("list tasks: %w", err)
		}
		for _, t := range out.Tasks {
			if aws.ToString(t.Name) != aws.ToString(want.Name) {
				continue
			}
			ok, err := p.tagged(ctx, aws.ToString(t.TaskArn), plan.Spec.TaskName, "")
			if err != nil {
				return "", err
			}
			if ok {
				return aws.ToString(t.TaskArn), p.updateTask(ctx, aws.ToString(t.TaskArn), &want, changed)
			}
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	out, err := p.ds.CreateTask(ctx, &want)
	if err != nil {
		return "", fmt.Errorf("create task %s: %w", aws.ToString(want.Name), err)
	}
	changed("created task %s (%s)", aws.ToString(want.Name), aws.ToString(out.TaskArn))
	return aws.ToString(out.TaskArn), nil
}

// updateTask brings an existing task in line with want, changing only
// what differs: every option (an option the plan leaves unset is
// compared with DataSync's default, so dropping one from the spec
// restores the default), the filters, the schedule, the log group, the
// manifest and the task report (removed with an empty value, as the API
// documents).
func (p *DataSyncPlanner) updateTask(ctx context.Context, arn string, want *datasync.CreateTaskInput, changed func(string, ...any)) error {
	cur, err := p.ds.DescribeTask(ctx, &datasync.DescribeTaskInput{TaskArn: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("describe task %s: %w", arn, err)
	}
	if cur.TaskMode != "" && cur.TaskMode != want.TaskMode {
		return &ValidationError{Field: "TaskMode", Value: string(want.TaskMode), Rule: fmt.Sprintf("task %s exists with TaskMode %s, which DataSync cannot change; create a task with another name", arn, cur.TaskMode), Err: ErrInvalidOption}
	}
	if aws.ToString(cur.SourceLocationArn) != aws.ToString(want.SourceLocationArn) || aws.ToString(cur.DestinationLocationArn) != aws.ToString(want.DestinationLocationArn) {
		return &ValidationError{Field: "TaskName", Value: aws.ToString(want.Name), Rule: fmt.Sprintf("task %s exists with other locations; DataSync cannot change a task's locations", arn), Err: ErrInvalidOption}
	}
	up := &datasync.UpdateTaskInput{TaskArn: aws.String(arn)}
	var what []string
	diff, err := optionsDiff(cur.Options, want.Options, want.TaskMode)
	if err != nil {
		return fmt.Errorf("task %s options: %w", arn, err)
	}
	if diff != nil {
		up.Options, what = diff, append(what, "options")
	}
	if filterValue(cur.Includes) != filterValue(want.Includes) {
		up.Includes, what = nonNilRules(want.Includes), append(what, "includes")
	}
	if filterValue(cur.Excludes) != filterValue(want.Excludes) {
		up.Excludes, what = nonNilRules(want.Excludes), append(what, "excludes")
	}
	curSched, wantSched := "", ""
	if cur.Schedule != nil {
		curSched = aws.ToString(cur.Schedule.ScheduleExpression)
	}
	if want.Schedule != nil {
		wantSched = aws.ToString(want.Schedule.ScheduleExpression)
	}
	if curSched != wantSched {
		up.Schedule, what = &types.TaskSchedule{ScheduleExpression: aws.String(wantSched)}, append(what, "schedule")
	}
	if aws.ToString(cur.CloudWatchLogGroupArn) != aws.ToString(want.CloudWatchLogGroupArn) {
		up.CloudWatchLogGroupArn, what = aws.String(aws.ToString(want.CloudWatchLogGroupArn)), append(what, "log group")
	}
	same, err := sameAPIValue(normalManifest(cur.ManifestConfig), normalManifest(want.ManifestConfig))
	if err != nil {
		return fmt.Errorf("task %s manifest: %w", arn, err)
	}
	if !same {
		// An empty ManifestConfig is how UpdateTask removes one.
		up.ManifestConfig, what = &types.ManifestConfig{}, append(what, "manifest")
		if want.ManifestConfig != nil {
			up.ManifestConfig = want.ManifestConfig
		}
	}
	if same, err = sameAPIValue(normalReport(cur.TaskReportConfig), normalReport(want.TaskReportConfig)); err != nil {
		return fmt.Errorf("task %s report: %w", arn, err)
	}
	if !same {
		up.TaskReportConfig, what = &types.TaskReportConfig{}, append(what, "task report")
		if want.TaskReportConfig != nil {
			up.TaskReportConfig = want.TaskReportConfig
		}
	}
	if len(what) == 0 {
		return nil
	}
	if _, err := p.ds.UpdateTask(ctx, up); err != nil {
		return fmt.Errorf("update task %s: %w", arn, err)
	}
	changed("updated %s of task %s", strings.Join(what, ", "), arn)
	return nil
}

// dataSyncDefaultOptions are the values DataSync gives the options a
// task does not set.
func dataSyncDefaultOptions(mode types.TaskMode) types.Options {
	verify := types.VerifyModePointInTimeConsistent
	if mode == types.TaskModeEnhanced {
		verify = types.VerifyModeOnlyFilesTransferred
	}
	return types.Options{
		Atime: types.AtimeBestEffort, BytesPerSecond: aws.Int64(-1), Gid: types.GidIntValue, LogLevel: types.LogLevelOff,
		Mtime: types.MtimePreserve, ObjectTags: types.ObjectTagsPreserve, OverwriteMode: types.OverwriteModeAlways,
		PosixPermissions: types.PosixPermissionsPreserve, PreserveDeletedFiles: types.PreserveDeletedFilesPreserve,
		PreserveDevices: types.PreserveDevicesNone, SecurityDescriptorCopyFlags: types.SmbSecurityDescriptorCopyFlagsOwnerDacl,
		TaskQueueing: types.TaskQueueingEnabled, TransferMode: types.TransferModeChanged, Uid: types.UidIntValue,
		VerifyMode: verify,
	}
}

// optionsMap is o over DataSync's defaults for mode, as API members.
func optionsMap(o *types.Options, mode types.TaskMode) (map[string]any, error) {
	out := map[string]any{}
	for _, v := range []*types.Options{ptrTo(dataSyncDefaultOptions(mode)), o} {
		if v == nil {
			continue
		}
		raw, err := apiJSON(v)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber() // keeps BytesPerSecond an integer
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("decode options: %w", err)
		}
		maps.Copy(out, m)
	}
	return out, nil
}

// optionsDiff returns the options whose value in have (as DescribeTask
// reports them) differs from want, each over DataSync's defaults, so an
// option the spec no longer sets goes back to its default; nil when
// none differs.
func optionsDiff(have, want *types.Options, mode types.TaskMode) (*types.Options, error) {
	hm, err := optionsMap(have, mode)
	if err != nil {
		return nil, err
	}
	wm, err := optionsMap(want, mode)
	if err != nil {
		return nil, err
	}
	diff := map[string]any{}
	for k, v := range wm {
		if fmt.Sprint(hm[k]) != fmt.Sprint(v) {
			diff[k] = v
		}
	}
	if len(diff) == 0 {
		return nil, nil
	}
	raw, err := json.Marshal(diff)
	if err != nil {
		return nil, fmt.Errorf("encode options: %w", err)
	}
	var out types.Options
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("decode options: %w", err)
	}
	return &out, nil
}

func ptrTo[T any](v T) *T { return &v }

// normalManifest fills the defaults DataSync reports for a manifest
// (Action TRANSFER, Format CSV); nil for none.
func normalManifest(m *types.ManifestConfig) *types.ManifestConfig {
	if m == nil || m.Source == nil {
		return nil
	}
	c := *m
	if c.Action == "" {
		c.Action = types.ManifestActionTransfer
	}
	if c.Format == "" {
		c.Format = types.ManifestFormatCsv
	}
	return &c
}

// normalReport fills the defaults DataSync reports for a task report
// (ObjectVersionIds INCLUDE, ReportLevel ERRORS_ONLY); nil for none.
func normalReport(r *types.TaskReportConfig) *types.TaskReportConfig {
	if r == nil || r.Destination == nil {
		return nil
	}
	c := *r
	if c.ObjectVersionIds == "" {
		c.ObjectVersionIds = types.ObjectVersionIdsInclude
	}
	if c.ReportLevel == "" {
		c.ReportLevel = types.ReportLevelErrorsOnly
	}
	return &c
}

// sameAPIValue compares two API values as the API carries them.
func sameAPIValue[T any](a, b *T) (bool, error) {
	if a == nil || b == nil {
		return a == nil && b == nil, nil
	}
	x, err := apiJSON(a)
	if err != nil {
		return false, err
	}
	y, err := apiJSON(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(x, y), nil
}

func filterValue(rules []types.FilterRule) string {
	var parts []string
	for _, r := range rules {
		parts = append(parts, aws.ToString(r.Value))
	}
	return strings.Join(parts, "|")
}

// nonNilRules makes "no filter" an empty list, which UpdateTask reads as
// "clear the filter" where a missing member means "keep it".
func nonNilRules(rules []types.FilterRule) []types.FilterRule {
	if rules == nil {
		return []types.FilterRule{}
	}
	return rules
}

// errorCode returns the AWS error code in err's chain, or "".
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}
