package xacct

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	"github.com/aws/aws-sdk-go-v2/service/datasync/types"
)

// DataSyncProgress is one progress event of Run: the execution's phase
// and counters as DescribeTaskExecution last reported them.
type DataSyncProgress struct {
	ExecutionARN string
	// Phase is QUEUED, LAUNCHING, PREPARING, TRANSFERRING, VERIFYING,
	// CANCELLING, SUCCESS or ERROR.
	Phase                    types.TaskExecutionStatus
	EstimatedFilesToTransfer int64
	EstimatedBytesToTransfer int64
	FilesTransferred         int64
	BytesTransferred         int64
	FilesVerified            int64
	FilesDeleted             int64
	FilesSkipped             int64
}

// DataSyncRunResult is how an execution ended.
type DataSyncRunResult struct {
	ExecutionARN string                    `json:"executionArn"`
	Status       types.TaskExecutionStatus `json:"status"`
	// Cancelled is true when Run cancelled the execution because its
	// context ended.
	Cancelled        bool          `json:"cancelled,omitempty"`
	FilesTransferred int64         `json:"filesTransferred"`
	BytesTransferred int64         `json:"bytesTransferred"`
	FilesVerified    int64         `json:"filesVerified"`
	FilesDeleted     int64         `json:"filesDeleted"`
	FilesSkipped     int64         `json:"filesSkipped"`
	Duration         time.Duration `json:"duration"`
	// ErrorCode and ErrorDetail are DataSync's account of a failure.
	ErrorCode   string `json:"errorCode,omitempty"`
	ErrorDetail string `json:"errorDetail,omitempty"`
}

// ErrDataSyncExecutionFailed is wrapped by every *DataSyncExecutionError.
var ErrDataSyncExecutionFailed = errors.New("datasync execution failed")

// DataSyncExecutionError reports an execution that ended in ERROR, or
// whose task report could not be written (Phase "TASK_REPORT"): the
// phase it failed in and DataSync's error code and detail (for a refused
// S3 request, the detail names the action and the resource).
type DataSyncExecutionError struct {
	ExecutionARN string
	Phase        string
	Code         string
	Detail       string
}

// Error names the execution, its failed phase, and DataSync's code and detail.
func (e *DataSyncExecutionError) Error() string {
	return fmt.Sprintf("datasync execution %s failed in %s: %s: %s", e.ExecutionARN, e.Phase, e.Code, e.Detail)
}

// Unwrap returns ErrDataSyncExecutionFailed, and ErrAccessDenied too when
// DataSync was refused access.
func (e *DataSyncExecutionError) Unwrap() []error {
	errs := []error{ErrDataSyncExecutionFailed}
	switch e.Code {
	case "AccessDenied", "AccessDeniedException":
		errs = append(errs, ErrAccessDenied)
	}
	return errs
}

// DataSyncRunOption changes one Run.
type DataSyncRunOption func(*dataSyncRun)

type dataSyncRun struct {
	overrides          *types.Options
	includes, excludes []string
	filtersSet         [2]bool
	progress           func(DataSyncProgress)
}

// WithRunOptions overrides task options for this execution only, such as
// a different LogLevel or VerifyMode. Default: the task's options.
func WithRunOptions(o types.Options) DataSyncRunOption {
	return func(r *dataSyncRun) { r.overrides = &o }
}

// WithRunIncludes replaces the task's include patterns for this
// execution. Default: the task's.
func WithRunIncludes(patterns ...string) DataSyncRunOption {
	return func(r *dataSyncRun) { r.includes, r.filtersSet[0] = patterns, true }
}

// WithRunExcludes replaces the task's exclude patterns for this
// execution. Default: the task's.
func WithRunExcludes(patterns ...string) DataSyncRunOption {
	return func(r *dataSyncRun) { r.excludes, r.filtersSet[1] = patterns, true }
}

// WithRunProgress calls f with each poll's counters, synchronously, from
// Run's goroutine; keep it cheap. Default: none.
func WithRunProgress(f func(DataSyncProgress)) DataSyncRunOption {
	return func(r *dataSyncRun) { r.progress = f }
}

// pollBackoff doubles the wait between polls while nothing changes.
type pollBackoff struct{ first, max time.Duration }

// Run starts an execution of taskARN and follows it until it ends,
// calling the progress function after every DescribeTaskExecution. The
// wait between polls starts at the planner's first poll interval,
// doubles while the execution shows no change, and returns to the first
// after a change. It returns the result and, when the execution ended in
// ERROR, a *DataSyncExecutionError; also when it succeeded but DataSync
// could not write the task report the task asks for (Phase
// "TASK_REPORT", Status SUCCESS in the result). When ctx ends first, Run cancels the
// execution with CancelTaskExecution (within 30 seconds, even though ctx
// is done) and returns the result so far with ctx's error.
func (p *DataSyncPlanner) Run(ctx context.Context, taskARN string, opts ...DataSyncRunOption) (*DataSyncRunResult, error) {
	var o dataSyncRun
	for _, f := range opts {
		f(&o)
	}
	if o.overrides != nil {
		spec := DataSyncSpec{Options: *o.overrides}
		bad := func(field, value, rule string) error {
			return &ValidationError{Field: field, Value: value, Rule: rule, Err: ErrInvalidOption}
		}
		if err := spec.validateOptions(bad); err != nil {
			return nil, err
		}
	}
	if err := validateFilters("Includes", o.includes, true); err != nil {
		return nil, err
	}
	if err := validateFilters("Excludes", o.excludes, false); err != nil {
		return nil, err
	}
	in := &datasync.StartTaskExecutionInput{TaskArn: aws.String(taskARN), OverrideOptions: o.overrides}
	if o.filtersSet[0] {
		in.Includes = nonNilRules(filterRules(o.includes))
	}
	if o.filtersSet[1] {
		in.Excludes = nonNilRules(filterRules(o.excludes))
	}
	started := time.Now()
	out, err := p.ds.StartTaskExecution(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("start execution of %s: %w", taskARN, err)
	}
	arn := aws.ToString(out.TaskExecutionArn)
	log := p.log.With("execution", arn)
	log.InfoContext(ctx, "datasync execution started", "task", taskARN)
	res := &DataSyncRunResult{ExecutionARN: arn, Status: types.TaskExecutionStatusQueued}
	wait := p.poll.first
	var last DataSyncProgress
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return p.cancel(ctx, res, started)
		case <-timer.C:
		}
		d, err := p.ds.DescribeTaskExecution(ctx, &datasync.DescribeTaskExecutionInput{TaskExecutionArn: aws.String(arn)})
		if err != nil {
			if ctx.Err() != nil {
				return p.cancel(ctx, res, started)
			}
			return res, fmt.Errorf("describe execution %s: %w", arn, err)
		}
		prog := DataSyncProgress{
			ExecutionARN: arn, Phase: d.Status,
			EstimatedFilesToTransfer: d.EstimatedFilesToTransfer, EstimatedBytesToTransfer: d.EstimatedBytesToTransfer,
			FilesTransferred: d.FilesTransferred, BytesTransferred: d.BytesTransferred,
			FilesVerified: d.FilesVerified, FilesDeleted: d.FilesDeleted, FilesSkipped: d.FilesSkipped,
		}
		res.Status = d.Status
		res.FilesTransferred, res.BytesTransferred, res.FilesVerified = d.FilesTransferred, d.BytesTransferred, d.FilesVerified
		res.FilesDeleted, res.FilesSkipped = d.FilesDeleted, d.FilesSkipped
		res.Duration = time.Since(started)
		if o.progress != nil {
			o.progress(prog)
		}
		if prog != last {
			log.DebugContext(ctx, "datasync progress", "phase", d.Status, "files", d.FilesTransferred, "bytes", d.BytesTransferred)
			last, wait = prog, p.poll.first
		} else {
			wait = min(wait*2, p.poll.max)
		}
		switch d.Status {
		case types.TaskExecutionStatusSuccess:
			if r := d.ReportResult; r != nil && r.Status == types.PhaseStatusError {
				// The data moved, but the task report the task asks
				// for is missing: report it, as a run without its
				// report is not what was planned.
				e := &DataSyncExecutionError{ExecutionARN: arn, Phase: "TASK_REPORT", Code: aws.ToString(r.ErrorCode), Detail: aws.ToString(r.ErrorDetail)}
				res.ErrorCode, res.ErrorDetail = e.Code, e.Detail
				log.WarnContext(ctx, "datasync task report failed", "code", e.Code, "detail", e.Detail)
				return res, e
			}
			log.InfoContext(ctx, "datasync execution succeeded", "files", res.FilesTransferred, "bytes", res.BytesTransferred)
			return res, nil
		case types.TaskExecutionStatusError:
			e := &DataSyncExecutionError{ExecutionARN: arn, Phase: failedPhase(d.Result)}
			if r := d.Result; r != nil {
				e.Code, e.Detail = aws.ToString(r.ErrorCode), aws.ToString(r.ErrorDetail)
			}
			res.ErrorCode, res.ErrorDetail = e.Code, e.Detail
			log.WarnContext(ctx, "datasync execution failed", "code", e.Code, "detail", e.Detail)
			return res, e
		}
		timer.Reset(wait)
	}
}

// cancel stops the execution after ctx ended.
func (p *DataSyncPlanner) cancel(ctx context.Context, res *DataSyncRunResult, started time.Time) (*DataSyncRunResult, error) {
	cctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer stop()
	res.Duration = time.Since(started)
	if _, err := p.ds.CancelTaskExecution(cctx, &datasync.CancelTaskExecutionInput{TaskExecutionArn: aws.String(res.ExecutionARN)}); err != nil {
		return res, errors.Join(ctx.Err(), fmt.Errorf("cancel execution %s: %w", res.ExecutionARN, err))
	}
	res.Cancelled = true
	res.Status = types.TaskExecutionStatusCancelling
	p.log.InfoContext(cctx, "datasync execution cancelled", "execution", res.ExecutionARN)
	return res, fmt.Errorf("execution %s cancelled: %w", res.ExecutionARN, ctx.Err())
}

func failedPhase(r *types.TaskExecutionResultDetail) string {
	switch {
	case r == nil:
		return "an unknown phase"
	case r.VerifyStatus == types.PhaseStatusError:
		return "VERIFYING"
	case r.TransferStatus == types.PhaseStatusError:
		return "TRANSFERRING"
	case r.PrepareStatus == types.PhaseStatusError:
		return "PREPARING"
	}
	return "LAUNCHING"
}
