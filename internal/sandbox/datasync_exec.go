package sandbox

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// A task execution moves one phase per DescribeTaskExecution call, and
// does that phase's work as it enters it, so tests see every phase
// without waiting and nothing runs in the background:
//
//	QUEUED → LAUNCHING (DataSync assumes the location role) →
//	PREPARING (both sides listed, filters applied, work decided) →
//	TRANSFERRING (objects copied, extra ones deleted) →
//	VERIFYING (destination read back) → SUCCESS
//
// Any S3 or STS refusal ends it in ERROR with the AWS error code and
// message. CancelTaskExecution moves it to CANCELLING and the next poll
// to ERROR with ErrorCode "Cancelled": the API has no CANCELLED status.
//
// Every S3 request is made over HTTP to the sandbox itself with the
// temporary keys of a session of the location's role that DataSync
// assumed, so the role's policies and the bucket policies decide exactly
// as they do for any other caller.

const dataSyncPrincipal = "datasync.amazonaws.com"

// ErrorCode of an execution ended by CancelTaskExecution.
const dataSyncCancelledCode = "Cancelled"

type dsExecution struct {
	mu       sync.Mutex
	arn      string
	task     *dsTask
	status   dstypes.TaskExecutionStatus
	options  dstypes.Options
	includes []dstypes.FilterRule
	excludes []dstypes.FilterRule
	manifest *dstypes.ManifestConfig
	report   *dstypes.TaskReportConfig
	// reportResult is how writing the task report went; nil until then.
	reportResult *dstypes.ReportResult
	start        time.Time
	launch       time.Time
	end          time.Time
	result       dstypes.TaskExecutionResultDetail

	src, dst *dsLocation
	client   *s3.Client
	work     []dsObject // objects to copy
	deletes  []string   // destination keys to delete

	estFiles, estBytes, estDeletes      int64
	files, bytes, verified, deleted     int64
	skipped                             int64
	transferStart, verifyStart, prepare time.Time
}

type dsObject struct {
	rel  string
	size int64
	etag string
}

func (sb *Sandbox) startTaskExecution(r *http.Request, req *request, in *datasync.StartTaskExecutionInput, present map[string]json.RawMessage) (any, error) {
	arn := str(in.TaskArn)
	if err := sb.dataSyncAuthorize(r, req, "StartTaskExecution", arn); err != nil {
		return nil, err
	}
	ds := sb.dataSync()
	ds.mu.Lock()
	defer ds.mu.Unlock()
	t, ok := ds.tasks[arn]
	if !ok || t.account != req.principal.Account {
		return nil, dsInvalid("task %s not found", arn)
	}
	if t.current != "" {
		return nil, dsInvalid("task %s is already running execution %s", arn, t.current)
	}
	opts := mergeOptions(t.options, in.OverrideOptions)
	if err := checkOptions(opts, t.mode); err != nil {
		return nil, err
	}
	e := &dsExecution{
		arn:  arn + "/execution/" + dataSyncID("exec-"),
		task: t, status: dstypes.TaskExecutionStatusQueued, options: opts,
		includes: t.includes, excludes: t.excludes, manifest: t.manifest, report: t.report,
		src: ds.locations[t.src], dst: ds.locations[t.dst], start: sb.now(),
	}
	if _, ok := present["Includes"]; ok {
		e.includes = in.Includes
	}
	if _, ok := present["Excludes"]; ok {
		e.excludes = in.Excludes
	}
	if in.ManifestConfig != nil || in.TaskReportConfig != nil {
		manifest, report, err := sb.checkManifestAndReport(r, req, in.ManifestConfig, in.TaskReportConfig)
		if err != nil {
			return nil, err
		}
		if in.ManifestConfig != nil {
			e.manifest = manifest
		}
		if in.TaskReportConfig != nil {
			e.report = report
		}
	}
	t.current = e.arn
	ds.execs[e.arn] = e
	ds.addTags(e.arn, in.Tags)
	return map[string]any{"TaskExecutionArn": e.arn}, nil
}

func (sb *Sandbox) execution(req *request, arn string) (*dsExecution, error) {
	ds := sb.dataSync()
	ds.mu.Lock()
	defer ds.mu.Unlock()
	e, ok := ds.execs[arn]
	if !ok || e.task.account != req.principal.Account {
		return nil, dsInvalid("task execution %s not found", arn)
	}
	return e, nil
}

func (sb *Sandbox) cancelTaskExecution(r *http.Request, req *request, arn string) (any, error) {
	if err := sb.dataSyncAuthorize(r, req, "CancelTaskExecution", arn); err != nil {
		return nil, err
	}
	e, err := sb.execution(req, arn)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.terminal() {
		return nil, dsInvalid("task execution %s has already finished", arn)
	}
	e.status = dstypes.TaskExecutionStatusCancelling
	return map[string]any{}, nil
}

func (e *dsExecution) terminal() bool {
	return e.status == dstypes.TaskExecutionStatusSuccess || e.status == dstypes.TaskExecutionStatusError
}

func (sb *Sandbox) describeTaskExecution(r *http.Request, req *request, arn string) (any, error) {
	if err := sb.dataSyncAuthorize(r, req, "DescribeTaskExecution", arn); err != nil {
		return nil, err
	}
	e, err := sb.execution(req, arn)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.terminal() {
		// The work of a phase must finish even if this poll is abandoned.
		sb.advance(context.WithoutCancel(r.Context()), e)
	}
	out := map[string]any{
		"TaskExecutionArn":         e.arn,
		"Status":                   e.status,
		"TaskMode":                 e.task.mode,
		"Options":                  e.options,
		"StartTime":                epoch(e.start),
		"EstimatedFilesToTransfer": e.estFiles,
		"EstimatedBytesToTransfer": e.estBytes,
		"EstimatedFilesToDelete":   e.estDeletes,
		"FilesTransferred":         e.files,
		"BytesTransferred":         e.bytes,
		"BytesWritten":             e.bytes,
		"FilesVerified":            e.verified,
		"FilesDeleted":             e.deleted,
		"FilesSkipped":             e.skipped,
		"FilesPrepared":            e.estFiles,
		"Result":                   e.result,
	}
	if !e.launch.IsZero() {
		out["LaunchTime"] = epoch(e.launch)
	}
	if !e.end.IsZero() {
		out["EndTime"] = epoch(e.end)
	}
	if e.reportResult != nil {
		out["ReportResult"] = e.reportResult
	}
	if len(e.includes) > 0 {
		out["Includes"] = e.includes
	}
	if len(e.excludes) > 0 {
		out["Excludes"] = e.excludes
	}
	return out, nil
}

// advance moves e one phase on, doing that phase's work.
func (sb *Sandbox) advance(ctx context.Context, e *dsExecution) {
	var err error
	switch e.status {
	case dstypes.TaskExecutionStatusCancelling:
		e.fail(dataSyncCancelledCode, "the execution was cancelled with CancelTaskExecution")
	case dstypes.TaskExecutionStatusQueued:
		e.status, e.launch = dstypes.TaskExecutionStatusLaunching, sb.now()
		err = sb.launch(ctx, e)
	case dstypes.TaskExecutionStatusLaunching:
		e.status, e.prepare = dstypes.TaskExecutionStatusPreparing, sb.now()
		e.result.PrepareStatus = dstypes.PhaseStatusPending
		err = sb.prepare(ctx, e)
		if err == nil {
			e.result.PrepareStatus = dstypes.PhaseStatusSuccess
			e.result.PrepareDuration = aws.Int64(sb.now().Sub(e.prepare).Milliseconds())
		}
	case dstypes.TaskExecutionStatusPreparing:
		e.status, e.transferStart = dstypes.TaskExecutionStatusTransferring, sb.now()
		e.result.TransferStatus = dstypes.PhaseStatusPending
		err = sb.transfer(ctx, e)
		if err == nil {
			e.result.TransferStatus = dstypes.PhaseStatusSuccess
			e.result.TransferDuration = aws.Int64(sb.now().Sub(e.transferStart).Milliseconds())
		}
	case dstypes.TaskExecutionStatusTransferring:
		e.status, e.verifyStart = dstypes.TaskExecutionStatusVerifying, sb.now()
		e.result.VerifyStatus = dstypes.PhaseStatusPending
		err = sb.verify(ctx, e)
		if err == nil {
			e.result.VerifyStatus = dstypes.PhaseStatusSuccess
			e.result.VerifyDuration = aws.Int64(sb.now().Sub(e.verifyStart).Milliseconds())
		}
	case dstypes.TaskExecutionStatusVerifying:
		e.status = dstypes.TaskExecutionStatusSuccess
		e.finish(sb)
	}
	if err != nil {
		code, detail := "InternalError", err.Error()
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			code = apiErr.ErrorCode()
		}
		e.fail(code, detail)
	}
	if e.terminal() {
		sb.writeReport(ctx, e)
		e.finish(sb)
	}
}

// writeReport uploads a small JSON summary of the ended execution, as
// the report's role, to
// subdirectory/Summary-Reports/task-id/exec-id/task-id.exec-id-summary.json
// in the report bucket, when the task asks for a report. A refusal does
// not change the execution's status; it shows in ReportResult, as
// DataSync reports it.
func (sb *Sandbox) writeReport(ctx context.Context, e *dsExecution) {
	s3cfg := (*dstypes.ReportDestinationS3)(nil)
	if e.report != nil && e.report.Destination != nil {
		s3cfg = e.report.Destination.S3
	}
	if s3cfg == nil || e.reportResult != nil {
		return
	}
	e.reportResult = &dstypes.ReportResult{Status: dstypes.PhaseStatusPending}
	fail := func(err error) {
		code := "InternalError"
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			code = apiErr.ErrorCode()
		}
		e.reportResult = &dstypes.ReportResult{Status: dstypes.PhaseStatusError, ErrorCode: aws.String(code), ErrorDetail: aws.String(err.Error())}
	}
	p, err := sb.assumeRoleAsService(str(s3cfg.BucketAccessRoleArn), e.task.account, e.task.arn)
	if err != nil {
		fail(err)
		return
	}
	client := s3.NewFromConfig(sb.Config(p), func(o *s3.Options) {
		o.UsePathStyle = true
		o.RetryMaxAttempts = 1
	})
	taskID := e.task.arn[strings.LastIndexByte(e.task.arn, '/')+1:]
	execID := e.arn[strings.LastIndexByte(e.arn, '/')+1:]
	key := "Summary-Reports/" + taskID + "/" + execID + "/" + taskID + "." + execID + "-summary.json"
	if sub := strings.Trim(str(s3cfg.Subdirectory), "/"); sub != "" {
		key = sub + "/" + key
	}
	summary := map[string]any{
		"TaskExecutionArn": e.arn, "Status": e.status, "StartTime": e.start.UTC().Format(time.RFC3339),
		"FilesTransferred": e.files, "BytesTransferred": e.bytes, "FilesVerified": e.verified,
		"FilesDeleted": e.deleted, "FilesSkipped": e.skipped,
	}
	if e.result.ErrorCode != nil {
		summary["ErrorCode"], summary["ErrorDetail"] = e.result.ErrorCode, e.result.ErrorDetail
	}
	body, _ := json.Marshal(summary)
	bucket := strings.TrimPrefix(str(s3cfg.S3BucketArn), "arn:aws:s3:::")
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body), ContentType: aws.String("application/json"),
	}); err != nil {
		fail(fmt.Errorf("write task report s3://%s/%s: %w", bucket, key, err))
		return
	}
	e.reportResult = &dstypes.ReportResult{Status: dstypes.PhaseStatusSuccess}
}

func (e *dsExecution) fail(code, detail string) {
	switch e.status {
	case dstypes.TaskExecutionStatusPreparing:
		e.result.PrepareStatus = dstypes.PhaseStatusError
	case dstypes.TaskExecutionStatusTransferring:
		e.result.TransferStatus = dstypes.PhaseStatusError
	case dstypes.TaskExecutionStatusVerifying:
		e.result.VerifyStatus = dstypes.PhaseStatusError
	}
	e.status = dstypes.TaskExecutionStatusError
	e.result.ErrorCode, e.result.ErrorDetail = aws.String(code), aws.String(detail)
}

// finish records the end of the execution and frees its task.
func (e *dsExecution) finish(sb *Sandbox) {
	if e.end.IsZero() {
		e.end = sb.now()
		e.result.TotalDuration = aws.Int64(e.end.Sub(e.start).Milliseconds())
	}
	ds := sb.dataSync()
	ds.mu.Lock()
	if e.task.current == e.arn {
		e.task.current = ""
	}
	ds.mu.Unlock()
}

// launch assumes the source location's role as datasync.amazonaws.com,
// with aws:SourceAccount and aws:SourceArn set to the task's account and
// ARN, and keeps an S3 client acting as the new session.
func (sb *Sandbox) launch(_ context.Context, e *dsExecution) error {
	if e.src == nil || e.dst == nil {
		return errors.New("a location of the task no longer exists")
	}
	if e.src.roleARN != e.dst.roleARN {
		// Each location has its role; the sandbox uses one session, so
		// it needs both to be the same, as the documented setup has.
		return fmt.Errorf("the source and destination locations use different roles (%s, %s)", e.src.roleARN, e.dst.roleARN)
	}
	p, err := sb.assumeRoleAsService(e.src.roleARN, e.task.account, e.task.arn)
	if err != nil {
		return err
	}
	e.client = s3.NewFromConfig(sb.Config(p), func(o *s3.Options) {
		o.UsePathStyle = true
		o.RetryMaxAttempts = 1
	})
	return nil
}

// dsAPIError is an error with an AWS code, for refusals decided here
// rather than by an S3 call.
type dsAPIError struct{ code, message string }

func (e *dsAPIError) Error() string                 { return e.code + ": " + e.message }
func (e *dsAPIError) ErrorCode() string             { return e.code }
func (e *dsAPIError) ErrorMessage() string          { return e.message }
func (e *dsAPIError) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }

// assumeRoleAsService issues a session of roleARN to DataSync after the
// authorizer has checked the role's trust policy against the service
// principal and the confused-deputy keys.
func (sb *Sandbox) assumeRoleAsService(roleARN, sourceAccount, sourceARN string) (Principal, error) {
	acct, name := parseRoleARN(roleARN)
	v, found := sb.role(acct, name)
	if !found || v.arn() != roleARN {
		return Principal{}, &dsAPIError{"AccessDenied", "DataSync cannot assume role " + roleARN + ": the role does not exist"}
	}
	if a := sb.authz(); a != nil {
		ar := &AccessRequest{
			PrincipalService: dataSyncPrincipal,
			Action:           "sts:AssumeRole",
			Resource:         roleARN,
			ResourceAccount:  acct,
			ResourcePolicy:   v.trust,
			Context: map[string][]string{
				"aws:SourceAccount":        {sourceAccount},
				"aws:SourceArn":            {sourceARN},
				"aws:PrincipalServiceName": {dataSyncPrincipal},
				"aws:CurrentTime":          {sb.now().UTC().Format(time.RFC3339)},
			},
		}
		if ok, reason := a(context.Background(), ar); !ok {
			return Principal{}, &dsAPIError{"AccessDenied", "DataSync (" + dataSyncPrincipal + ") is not authorized to perform: sts:AssumeRole on resource: " + roleARN + " because " + reason}
		}
	}
	session := "AWS-DataSync-" + strings.TrimPrefix(sourceARN[strings.LastIndexByte(sourceARN, '/')+1:], "task-")
	p := Principal{
		ARN:     "arn:aws:sts::" + acct + ":assumed-role/" + name + "/" + session,
		Account: acct,
		UserID:  v.id + ":" + session,
	}
	p.AccessKeyID, p.SecretAccessKey = newKeys("ASIA")
	tok, _ := newKeys("")
	p.SessionToken = base64.StdEncoding.EncodeToString([]byte("sandbox-datasync:" + tok))
	sb.mu.Lock()
	sb.keys[p.AccessKeyID] = &identity{Principal: p, kind: kindSession, name: name, roleARN: v.arn(), expires: sb.now().Add(time.Hour)}
	sb.mu.Unlock()
	return p, nil
}

func prefixOf(l *dsLocation) string {
	if l.subdirectory == "" {
		return ""
	}
	return l.subdirectory + "/"
}

// list returns the objects under a location, keyed by path relative to it.
func (e *dsExecution) list(ctx context.Context, l *dsLocation) (map[string]dsObject, []string, error) {
	prefix := prefixOf(l)
	out := map[string]dsObject{}
	var order []string
	p := s3.NewListObjectsV2Paginator(e.client, &s3.ListObjectsV2Input{Bucket: aws.String(l.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("list s3://%s/%s: %w", l.bucket, prefix, err)
		}
		for _, o := range page.Contents {
			rel := strings.TrimPrefix(aws.ToString(o.Key), prefix)
			out[rel] = dsObject{rel: rel, size: aws.ToInt64(o.Size), etag: aws.ToString(o.ETag)}
			order = append(order, rel)
		}
	}
	return out, order, nil
}

// prepare lists both locations and decides what to copy and delete.
func (sb *Sandbox) prepare(ctx context.Context, e *dsExecution) error {
	src, order, err := e.list(ctx, e.src)
	if err != nil {
		return err
	}
	dst, dstOrder, err := e.list(ctx, e.dst)
	if err != nil {
		return err
	}
	var manifest map[string]bool
	if m := e.manifest; m != nil && m.Source != nil && m.Source.S3 != nil {
		if manifest, err = e.readManifest(ctx, m.Source.S3); err != nil {
			return err
		}
	}
	f := newDataSyncFilter(e.includes, e.excludes)
	o := e.options
	for _, rel := range order {
		s := src[rel]
		if !f.match(rel) || manifest != nil && !manifest[rel] {
			continue
		}
		d, exists := dst[rel]
		switch {
		case exists && o.OverwriteMode == dstypes.OverwriteModeNever:
			e.skipped++
		case exists && o.TransferMode != dstypes.TransferModeAll && d.size == s.size && d.etag == s.etag:
			e.skipped++
		default:
			e.work = append(e.work, s)
			e.estFiles++
			e.estBytes += s.size
		}
	}
	if o.PreserveDeletedFiles == dstypes.PreserveDeletedFilesRemove && manifest == nil {
		for _, rel := range dstOrder {
			if _, ok := src[rel]; !ok && f.match(rel) {
				e.deletes = append(e.deletes, rel)
			}
		}
		e.estDeletes = int64(len(e.deletes))
	}
	return nil
}

// readManifest reads a CSV manifest whose first column is an object path
// relative to the source location.
func (e *dsExecution) readManifest(ctx context.Context, m *dstypes.S3ManifestConfig) (map[string]bool, error) {
	bucket := strings.TrimPrefix(str(m.S3BucketArn), "arn:aws:s3:::")
	out, err := e.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: m.ManifestObjectPath})
	if err != nil {
		return nil, fmt.Errorf("read manifest s3://%s/%s: %w", bucket, str(m.ManifestObjectPath), err)
	}
	defer out.Body.Close()
	raw, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	keys := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		key, _, _ := strings.Cut(strings.TrimSpace(line), ",")
		if key != "" {
			keys[strings.TrimPrefix(key, "/")] = true
		}
	}
	return keys, nil
}

// transfer copies the decided objects with their metadata and, unless
// ObjectTags is NONE, their tags, and deletes extra destination objects.
func (sb *Sandbox) transfer(ctx context.Context, e *dsExecution) error {
	srcPrefix, dstPrefix := prefixOf(e.src), prefixOf(e.dst)
	for _, o := range e.work {
		srcKey, dstKey := srcPrefix+o.rel, dstPrefix+o.rel
		get, err := e.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(e.src.bucket), Key: aws.String(srcKey)})
		if err != nil {
			return fmt.Errorf("read s3://%s/%s: %w", e.src.bucket, srcKey, err)
		}
		body, err := io.ReadAll(get.Body)
		get.Body.Close()
		if err != nil {
			return fmt.Errorf("read s3://%s/%s: %w", e.src.bucket, srcKey, err)
		}
		put := &s3.PutObjectInput{
			Bucket: aws.String(e.dst.bucket), Key: aws.String(dstKey), Body: bytes.NewReader(body),
			ContentType: get.ContentType, Metadata: get.Metadata,
			StorageClass: s3types.StorageClass(e.dst.storageClass),
		}
		if e.options.ObjectTags != dstypes.ObjectTagsNone {
			tags, err := e.client.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(e.src.bucket), Key: aws.String(srcKey)})
			if err != nil {
				return fmt.Errorf("read tags of s3://%s/%s: %w", e.src.bucket, srcKey, err)
			}
			if len(tags.TagSet) > 0 {
				v := url.Values{}
				for _, t := range tags.TagSet {
					v.Add(aws.ToString(t.Key), aws.ToString(t.Value))
				}
				put.Tagging = aws.String(v.Encode())
			}
		}
		if _, err := e.client.PutObject(ctx, put); err != nil {
			return fmt.Errorf("write s3://%s/%s: %w", e.dst.bucket, dstKey, err)
		}
		e.files++
		e.bytes += int64(len(body))
	}
	for _, rel := range e.deletes {
		key := dstPrefix + rel
		if _, err := e.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(e.dst.bucket), Key: aws.String(key)}); err != nil {
			return fmt.Errorf("delete s3://%s/%s: %w", e.dst.bucket, key, err)
		}
		e.deleted++
	}
	return nil
}

// verify reads back what was written (ONLY_FILES_TRANSFERRED) or checks
// that the destination matches the source (POINT_IN_TIME_CONSISTENT).
func (sb *Sandbox) verify(ctx context.Context, e *dsExecution) error {
	switch e.options.VerifyMode {
	case dstypes.VerifyModeNone:
		return nil
	case dstypes.VerifyModePointInTimeConsistent:
		dst, _, err := e.list(ctx, e.dst)
		if err != nil {
			return err
		}
		for _, o := range e.work {
			d, ok := dst[o.rel]
			if !ok || d.size != o.size {
				return &dsAPIError{"VerificationFailed", "the destination does not match the source at " + o.rel}
			}
			e.verified++
		}
		return nil
	}
	dstPrefix := prefixOf(e.dst)
	for _, o := range e.work {
		h, err := e.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(e.dst.bucket), Key: aws.String(dstPrefix + o.rel)})
		if err != nil {
			return fmt.Errorf("verify s3://%s/%s: %w", e.dst.bucket, dstPrefix+o.rel, err)
		}
		if aws.ToInt64(h.ContentLength) != o.size {
			return &dsAPIError{"VerificationFailed", "size of " + o.rel + " differs at the destination"}
		}
		e.verified++
	}
	return nil
}

// dataSyncFilter applies DataSync SIMPLE_PATTERN filters to paths
// relative to the location: an object is transferred when it matches an
// include pattern (or there are none) and no exclude pattern. A pattern
// starting with "/" is anchored at the location; others match at any
// folder boundary. "*" matches any characters; a pattern matching a
// folder matches everything in it.
type dataSyncFilter struct{ includes, excludes []string }

func newDataSyncFilter(includes, excludes []dstypes.FilterRule) dataSyncFilter {
	split := func(rules []dstypes.FilterRule) []string {
		var out []string
		for _, r := range rules {
			for _, p := range strings.Split(str(r.Value), "|") {
				if p != "" {
					out = append(out, p)
				}
			}
		}
		return out
	}
	return dataSyncFilter{split(includes), split(excludes)}
}

func (f dataSyncFilter) match(rel string) bool {
	path := "/" + rel
	if len(f.includes) > 0 && !anyPattern(f.includes, path) {
		return false
	}
	return !anyPattern(f.excludes, path)
}

func anyPattern(patterns []string, path string) bool {
	for _, p := range patterns {
		if patternMatches(strings.TrimSuffix(p, "/"), path) {
			return true
		}
	}
	return false
}

// patternMatches tries the pattern against path and each of its parent
// folders; unanchored patterns also against every suffix starting after
// a "/".
func patternMatches(pattern, path string) bool {
	candidates := []string{path}
	for i := len(path) - 1; i > 0; i-- {
		if path[i] == '/' {
			candidates = append(candidates, path[:i])
		}
	}
	for _, c := range candidates {
		if strings.HasPrefix(pattern, "/") {
			if wildcard(pattern, c) {
				return true
			}
			continue
		}
		for i := 0; i < len(c); i++ {
			if c[i] == '/' && wildcard(pattern, c[i+1:]) {
				return true
			}
		}
	}
	return false
}

// wildcard matches s against a pattern where "*" stands for any run of
// characters.
func wildcard(pattern, s string) bool {
	star, match := -1, 0
	p, i := 0, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, match = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			match++
			i = match
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
