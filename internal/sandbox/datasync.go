package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/datasync"
	dstypes "github.com/aws/aws-sdk-go-v2/service/datasync/types"
)

// The DataSync service speaks awsJson1_1: POST / with the operation in
// X-Amz-Target ("FmrsService.CreateTask") and JSON bodies whose members
// are named as in the API, which are also the SDK's Go field names, so
// requests decode straight into the SDK's input types.

const dataSyncTargetPrefix = "FmrsService."

// dataSyncOps are the operations served.
var dataSyncOps = map[string]bool{
	"CreateLocationS3": true, "UpdateLocationS3": true, "DescribeLocationS3": true, "ListLocations": true,
	"CreateTask": true, "DescribeTask": true, "UpdateTask": true, "ListTasks": true,
	"TagResource": true, "ListTagsForResource": true,
	"StartTaskExecution": true, "DescribeTaskExecution": true, "CancelTaskExecution": true,
}

// dataSyncService is the DataSync state of one sandbox.
type dataSyncService struct {
	mu        sync.Mutex
	locations map[string]*dsLocation
	tasks     map[string]*dsTask
	execs     map[string]*dsExecution
	tags      map[string][]dstypes.TagListEntry
}

type dsLocation struct {
	arn, account, bucket, subdirectory, roleARN string
	storageClass                                dstypes.S3StorageClass
	created                                     time.Time
}

// uri is the location as DataSync lists it: s3://bucket/subdirectory/.
func (l *dsLocation) uri() string {
	if l.subdirectory == "" {
		return "s3://" + l.bucket + "/"
	}
	return "s3://" + l.bucket + "/" + l.subdirectory + "/"
}

type dsTask struct {
	arn, account, name string
	src, dst           string
	options            dstypes.Options
	includes, excludes []dstypes.FilterRule
	schedule           *dstypes.TaskSchedule
	mode               dstypes.TaskMode
	logGroup           string
	manifest           *dstypes.ManifestConfig
	report             *dstypes.TaskReportConfig
	created            time.Time
	current            string // the running execution's ARN, "" when none
}

// dataSync returns the sandbox's DataSync state, made on first use.
func (sb *Sandbox) dataSync() *dataSyncService {
	sb.dsOnce.Do(func() {
		sb.ds = &dataSyncService{
			locations: make(map[string]*dsLocation),
			tasks:     make(map[string]*dsTask),
			execs:     make(map[string]*dsExecution),
			tags:      make(map[string][]dstypes.TagListEntry),
		}
	})
	return sb.ds
}

// dsError is a DataSync error: the code goes in __type and
// X-Amzn-Errortype, as awsJson1_1 clients read it.
type dsError struct {
	status        int
	code, message string
}

func (e *dsError) Error() string { return e.code + ": " + e.message }

func dsInvalid(format string, args ...any) *dsError {
	return &dsError{http.StatusBadRequest, "InvalidRequestException", fmt.Sprintf(format, args...)}
}

func writeDataSyncError(w http.ResponseWriter, e *dsError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", e.code)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "message": e.message})
}

func writeDataSyncJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}

// epoch writes a time as awsJson1_1 timestamps are: seconds since the
// epoch, as a number.
func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// serveDataSync answers the DataSync API for the caller's account, in
// the sandbox's region.
func (sb *Sandbox) serveDataSync(w http.ResponseWriter, r *http.Request, req *request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), dataSyncTargetPrefix)
	if r.Method != http.MethodPost || !ok || !dataSyncOps[op] {
		sb.count("datasync:unsupported")
		writeDataSyncError(w, &dsError{http.StatusBadRequest, "UnknownOperationException", "operation " + op + " is not served by the sandbox"})
		return
	}
	sb.count(op)
	w, done := sb.injectFault(w, r, op, "", "datasync")
	if done {
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeDataSyncError(w, dsInvalid("read body: %v", err))
		return
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	out, err := sb.dataSyncCall(r, req, op, body)
	if err != nil {
		e, ok := err.(*dsError)
		if !ok {
			e = &dsError{http.StatusInternalServerError, "InternalException", err.Error()}
		}
		writeDataSyncError(w, e)
		return
	}
	writeDataSyncJSON(w, out)
}

func (sb *Sandbox) dataSyncCall(r *http.Request, req *request, op string, body []byte) (any, error) {
	ds := sb.dataSync()
	decode := func(v any) error {
		if err := json.Unmarshal(body, v); err != nil {
			return &dsError{http.StatusBadRequest, "SerializationException", err.Error()}
		}
		return nil
	}
	switch op {
	case "CreateLocationS3":
		var in datasync.CreateLocationS3Input
		if err := decode(&in); err != nil {
			return nil, err
		}
		return sb.createLocationS3(r, req, &in)
	case "UpdateLocationS3":
		var in datasync.UpdateLocationS3Input
		if err := decode(&in); err != nil {
			return nil, err
		}
		return sb.updateLocationS3(r, req, &in)
	case "DescribeLocationS3":
		var in datasync.DescribeLocationS3Input
		if err := decode(&in); err != nil {
			return nil, err
		}
		return sb.describeLocationS3(r, req, str(in.LocationArn))
	case "ListLocations":
		var in datasync.ListLocationsInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		if err := sb.dataSyncAuthorize(r, req, "ListLocations", "*"); err != nil {
			return nil, err
		}
		return ds.listLocations(req.principal.Account, in.NextToken, in.MaxResults)
	case "CreateTask":
		var in datasync.CreateTaskInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return sb.createTask(r, req, &in)
	case "DescribeTask":
		var in datasync.DescribeTaskInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return sb.describeTask(r, req, str(in.TaskArn))
	case "UpdateTask":
		var in datasync.UpdateTaskInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		var present map[string]json.RawMessage
		_ = json.Unmarshal(body, &present)
		return sb.updateTask(r, req, &in, present)
	case "ListTasks":
		var in datasync.ListTasksInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		if err := sb.dataSyncAuthorize(r, req, "ListTasks", "*"); err != nil {
			return nil, err
		}
		return ds.listTasks(req.principal.Account, in.NextToken, in.MaxResults)
	case "TagResource":
		var in datasync.TagResourceInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return sb.tagResource(r, req, str(in.ResourceArn), in.Tags)
	case "ListTagsForResource":
		var in datasync.ListTagsForResourceInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		arn := str(in.ResourceArn)
		if err := sb.dataSyncAuthorize(r, req, op, arn); err != nil {
			return nil, err
		}
		ds.mu.Lock()
		defer ds.mu.Unlock()
		if !ds.exists(arn, req.principal.Account) {
			return nil, dsInvalid("resource %s not found", arn)
		}
		return map[string]any{"Tags": ds.tagList(arn)}, nil
	case "StartTaskExecution":
		var in datasync.StartTaskExecutionInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		var present map[string]json.RawMessage
		_ = json.Unmarshal(body, &present)
		return sb.startTaskExecution(r, req, &in, present)
	case "DescribeTaskExecution":
		var in datasync.DescribeTaskExecutionInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return sb.describeTaskExecution(r, req, str(in.TaskExecutionArn))
	case "CancelTaskExecution":
		var in datasync.CancelTaskExecutionInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		return sb.cancelTaskExecution(r, req, str(in.TaskExecutionArn))
	}
	return nil, dsInvalid("operation %s is not served", op)
}

// dataSyncAuthorize asks the authorizer whether the caller may perform
// datasync:op on resource (a location, task or execution ARN, or "*" for
// the operations that take no resource).
func (sb *Sandbox) dataSyncAuthorize(r *http.Request, req *request, op, resource string) error {
	a := sb.authz()
	if a == nil {
		return nil
	}
	ar := sb.newAccessRequest(r, req.id, "datasync:"+op, resource, req.principal.Account)
	if msg := decide(r.Context(), a, ar); msg != "" {
		return &dsError{http.StatusBadRequest, "AccessDeniedException", msg}
	}
	return nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func dataSyncID(prefix string) string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)[:17]
}

func (sb *Sandbox) dataSyncARN(account, resource string) string {
	return "arn:aws:datasync:" + Region + ":" + account + ":" + resource
}

// exists reports whether arn is a location, task or execution of account.
func (ds *dataSyncService) exists(arn, account string) bool {
	if l, ok := ds.locations[arn]; ok {
		return l.account == account
	}
	if t, ok := ds.tasks[arn]; ok {
		return t.account == account
	}
	if e, ok := ds.execs[arn]; ok {
		return e.task.account == account
	}
	return false
}

func (ds *dataSyncService) tagList(arn string) []map[string]string {
	out := []map[string]string{}
	for _, t := range ds.tags[arn] {
		out = append(out, map[string]string{"Key": str(t.Key), "Value": str(t.Value)})
	}
	return out
}

func (ds *dataSyncService) addTags(arn string, tags []dstypes.TagListEntry) {
	for _, t := range tags {
		list := ds.tags[arn]
		replaced := false
		for i := range list {
			if str(list[i].Key) == str(t.Key) {
				list[i] = t
				replaced = true
			}
		}
		if !replaced {
			list = append(list, t)
		}
		ds.tags[arn] = list
	}
}

func (sb *Sandbox) tagResource(r *http.Request, req *request, arn string, tags []dstypes.TagListEntry) (any, error) {
	if err := sb.dataSyncAuthorize(r, req, "TagResource", arn); err != nil {
		return nil, err
	}
	ds := sb.dataSync()
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if !ds.exists(arn, req.principal.Account) {
		return nil, dsInvalid("resource %s not found", arn)
	}
	ds.addTags(arn, tags)
	return map[string]any{}, nil
}

// createLocationS3 creates an S3 location after the checks DataSync
// makes with the caller's own permissions: passing the role to DataSync
// (iam:PassRole) and listing the bucket (s3:ListBucket), which is what
// makes a cross-account destination need a bucket policy naming the
// caller.
func (sb *Sandbox) createLocationS3(r *http.Request, req *request, in *datasync.CreateLocationS3Input) (any, error) {
	if err := sb.dataSyncAuthorize(r, req, "CreateLocationS3", "*"); err != nil {
		return nil, err
	}
	bucketARN := str(in.S3BucketArn)
	bucket, ok := strings.CutPrefix(bucketARN, "arn:aws:s3:::")
	if !ok || bucket == "" || strings.Contains(bucket, "/") {
		return nil, dsInvalid("S3BucketArn %q is not a bucket ARN", bucketARN)
	}
	if in.S3Config == nil || str(in.S3Config.BucketAccessRoleArn) == "" {
		return nil, dsInvalid("S3Config.BucketAccessRoleArn is required")
	}
	roleARN := str(in.S3Config.BucketAccessRoleArn)
	sub := str(in.Subdirectory)
	if padded := "/" + strings.TrimPrefix(sub, "/") + "/"; strings.Contains(sub, "//") || strings.Contains(padded, "/./") || strings.Contains(padded, "/../") {
		return nil, dsInvalid("Subdirectory %q must not contain //, /./ or /../", sub)
	}
	if err := sb.passRole(r, req, roleARN); err != nil {
		return nil, err
	}
	if sb.BucketOwner(bucket) == "" {
		return nil, dsInvalid("unable to connect to S3 bucket %s: the bucket does not exist", bucket)
	}
	if a := sb.authz(); a != nil {
		list := sb.s3AccessRequest(r, req.id, "s3:ListBucket", bucket, "")
		if msg := decide(r.Context(), a, list); msg != "" {
			return nil, dsInvalid("DataSync could not list bucket %s with the caller's credentials: %s", bucket, msg)
		}
	}
	loc := &dsLocation{
		arn:     sb.dataSyncARN(req.principal.Account, "location/"+dataSyncID("loc-")),
		account: req.principal.Account, bucket: bucket, subdirectory: strings.Trim(sub, "/"), roleARN: roleARN,
		storageClass: in.S3StorageClass, created: sb.now(),
	}
	if loc.storageClass == "" {
		loc.storageClass = dstypes.S3StorageClassStandard
	}
	ds := sb.dataSync()
	ds.mu.Lock()
	defer ds.mu.Unlock()
	ds.locations[loc.arn] = loc
	ds.addTags(loc.arn, in.Tags)
	return map[string]any{"LocationArn": loc.arn}, nil
}

// passRole checks that roleARN exists and that the caller may pass it
// to DataSync (iam:PassRole with iam:PassedToService).
func (sb *Sandbox) passRole(r *http.Request, req *request, roleARN string) error {
	roleAcct, roleName := parseRoleARN(roleARN)
	if _, found := sb.role(roleAcct, roleName); !found {
		return dsInvalid("role %s does not exist or DataSync cannot assume it", roleARN)
	}
	if a := sb.authz(); a != nil {
		pass := sb.newAccessRequest(r, req.id, "iam:PassRole", roleARN, roleAcct)
		pass.Context["iam:PassedToService"] = []string{dataSyncPrincipal}
		if msg := decide(r.Context(), a, pass); msg != "" {
			return &dsError{http.StatusBadRequest, "AccessDeniedException", msg}
		}
	}
	return nil
}

// updateLocationS3 changes what the request carries of an S3
// location: its role (which the caller must be allowed to pass), its
// storage class and its subdirectory.
func (sb *Sandbox) updateLocationS3(r *http.Request, req *request, in *datasync.UpdateLocationS3Input) (any, error) {
	arn := str(in.LocationArn)
	if err := sb.dataSyncAuthorize(r, req, "UpdateLocationS3", arn); err != nil {
		return nil, err
	}
	ds := sb.dataSync()
	ds.mu.Lock()
	l, ok := ds.locations[arn]
	ds.mu.Unlock()
	if !ok || l.account != req.principal.Account {
		return nil, dsInvalid("location %s not found", arn)
	}
	if in.S3StorageClass != "" {
		valid := false
		for _, c := range in.S3StorageClass.Values() {
			valid = valid || c == in.S3StorageClass
		}
		if !valid {
			return nil, dsInvalid("S3StorageClass %q is not a storage class", in.S3StorageClass)
		}
	}
	role := ""
	if in.S3Config != nil {
		if role = str(in.S3Config.BucketAccessRoleArn); role == "" {
			return nil, dsInvalid("S3Config.BucketAccessRoleArn is required")
		}
		if err := sb.passRole(r, req, role); err != nil {
			return nil, err
		}
	}
	sub := str(in.Subdirectory)
	if padded := "/" + strings.TrimPrefix(sub, "/") + "/"; strings.Contains(sub, "//") || strings.Contains(padded, "/./") || strings.Contains(padded, "/../") {
		return nil, dsInvalid("Subdirectory %q must not contain //, /./ or /../", sub)
	}
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if in.S3StorageClass != "" {
		l.storageClass = in.S3StorageClass
	}
	if role != "" {
		l.roleARN = role
	}
	if in.Subdirectory != nil {
		l.subdirectory = strings.Trim(sub, "/")
	}
	return map[string]any{}, nil
}

func (sb *Sandbox) describeLocationS3(r *http.Request, req *request, arn string) (any, error) {
	if err := sb.dataSyncAuthorize(r, req, "DescribeLocationS3", arn); err != nil {
		return nil, err
	}
	ds := sb.dataSync()
	ds.mu.Lock()
	defer ds.mu.Unlock()
	l, ok := ds.locations[arn]
	if !ok || l.account != req.principal.Account {
		return nil, dsInvalid("location %s not found", arn)
	}
	return map[string]any{
		"LocationArn":    l.arn,
		"LocationUri":    l.uri(),
		"S3Config":       map[string]string{"BucketAccessRoleArn": l.roleARN},
		"S3StorageClass": l.storageClass,
		"CreationTime":   epoch(l.created),
	}, nil
}

// page returns the slice of sorted ARNs a NextToken (an index) starts.
func page(arns []string, token *string, max *int32) (items []string, next string, err error) {
	sort.Strings(arns)
	start := 0
	if token != nil {
		if start, err = strconv.Atoi(*token); err != nil || start < 0 || start > len(arns) {
			return nil, "", dsInvalid("invalid NextToken")
		}
	}
	n := 100
	if max != nil && *max > 0 {
		n = int(*max)
	}
	end := min(start+n, len(arns))
	if end < len(arns) {
		next = strconv.Itoa(end)
	}
	return arns[start:end], next, nil
}

func (ds *dataSyncService) listLocations(account string, token *string, max *int32) (any, error) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	var arns []string
	for arn, l := range ds.locations {
		if l.account == account {
			arns = append(arns, arn)
		}
	}
	items, next, err := page(arns, token, max)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	list := []map[string]string{}
	for _, arn := range items {
		list = append(list, map[string]string{"LocationArn": arn, "LocationUri": ds.locations[arn].uri()})
	}
	out["Locations"] = list
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (ds *dataSyncService) listTasks(account string, token *string, max *int32) (any, error) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	var arns []string
	for arn, t := range ds.tasks {
		if t.account == account {
			arns = append(arns, arn)
		}
	}
	items, next, err := page(arns, token, max)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	list := []map[string]string{}
	for _, arn := range items {
		t := ds.tasks[arn]
		list = append(list, map[string]string{"TaskArn": arn, "Name": t.name, "Status": string(t.status()), "TaskMode": string(t.mode)})
	}
	out["Tasks"] = list
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (t *dsTask) status() dstypes.TaskStatus {
	if t.current != "" {
		return dstypes.TaskStatusRunning
	}
	return dstypes.TaskStatusAvailable
}

// checkOptions refuses the option combinations DataSync refuses.
func checkOptions(o dstypes.Options, mode dstypes.TaskMode) error {
	if o.PreserveDeletedFiles == dstypes.PreserveDeletedFilesRemove && o.TransferMode == dstypes.TransferModeAll {
		return dsInvalid("PreserveDeletedFiles REMOVE cannot be used with TransferMode ALL")
	}
	if o.VerifyMode == dstypes.VerifyModePointInTimeConsistent && mode == dstypes.TaskModeEnhanced {
		return dsInvalid("VerifyMode POINT_IN_TIME_CONSISTENT is not supported for Enhanced mode tasks")
	}
	return nil
}

// defaultOptions are the values DataSync reports for options not set.
func defaultOptions(mode dstypes.TaskMode) dstypes.Options {
	bps := int64(-1)
	verify := dstypes.VerifyModePointInTimeConsistent
	if mode == dstypes.TaskModeEnhanced {
		verify = dstypes.VerifyModeOnlyFilesTransferred
	}
	return dstypes.Options{
		Atime: dstypes.AtimeBestEffort, BytesPerSecond: &bps, Gid: dstypes.GidIntValue, LogLevel: dstypes.LogLevelOff,
		Mtime: dstypes.MtimePreserve, ObjectTags: dstypes.ObjectTagsPreserve, OverwriteMode: dstypes.OverwriteModeAlways,
		PosixPermissions: dstypes.PosixPermissionsPreserve, PreserveDeletedFiles: dstypes.PreserveDeletedFilesPreserve,
		PreserveDevices: dstypes.PreserveDevicesNone, SecurityDescriptorCopyFlags: dstypes.SmbSecurityDescriptorCopyFlagsOwnerDacl,
		TaskQueueing: dstypes.TaskQueueingEnabled, TransferMode: dstypes.TransferModeChanged, Uid: dstypes.UidIntValue,
		VerifyMode: verify,
	}
}

// mergeOptions returns base with every option set in over replaced.
func mergeOptions(base dstypes.Options, over *dstypes.Options) dstypes.Options {
	if over == nil {
		return base
	}
	o := *over
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	out := base
	set((*string)(&out.Atime), string(o.Atime))
	set((*string)(&out.Gid), string(o.Gid))
	set((*string)(&out.LogLevel), string(o.LogLevel))
	set((*string)(&out.Mtime), string(o.Mtime))
	set((*string)(&out.ObjectTags), string(o.ObjectTags))
	set((*string)(&out.OverwriteMode), string(o.OverwriteMode))
	set((*string)(&out.PosixPermissions), string(o.PosixPermissions))
	set((*string)(&out.PreserveDeletedFiles), string(o.PreserveDeletedFiles))
	set((*string)(&out.PreserveDevices), string(o.PreserveDevices))
	set((*string)(&out.SecurityDescriptorCopyFlags), string(o.SecurityDescriptorCopyFlags))
	set((*string)(&out.TaskQueueing), string(o.TaskQueueing))
	set((*string)(&out.TransferMode), string(o.TransferMode))
	set((*string)(&out.Uid), string(o.Uid))
	set((*string)(&out.VerifyMode), string(o.VerifyMode))
	if o.BytesPerSecond != nil {
		v := *o.BytesPerSecond
		out.BytesPerSecond = &v
	}
	return out
}

// checkManifestAndReport normalises a task's manifest and report
// configurations: an empty one (how UpdateTask removes it) becomes nil;
// others must name their bucket, object or prefix and a role the caller
// may pass, as DataSync requires.
func (sb *Sandbox) checkManifestAndReport(r *http.Request, req *request, m *dstypes.ManifestConfig, rep *dstypes.TaskReportConfig) (*dstypes.ManifestConfig, *dstypes.TaskReportConfig, error) {
	if m != nil && m.Source == nil && m.Action == "" && m.Format == "" {
		m = nil
	}
	if m != nil {
		if m.Source == nil || m.Source.S3 == nil || str(m.Source.S3.S3BucketArn) == "" || str(m.Source.S3.ManifestObjectPath) == "" || str(m.Source.S3.BucketAccessRoleArn) == "" {
			return nil, nil, &dsError{http.StatusBadRequest, "ValidationException", "ManifestConfig.Source.S3 needs S3BucketArn, ManifestObjectPath and BucketAccessRoleArn"}
		}
		if err := sb.passRole(r, req, str(m.Source.S3.BucketAccessRoleArn)); err != nil {
			return nil, nil, err
		}
		c := *m
		if c.Action == "" {
			c.Action = dstypes.ManifestActionTransfer
		}
		if c.Format == "" {
			c.Format = dstypes.ManifestFormatCsv
		}
		m = &c
	}
	if rep != nil && rep.Destination == nil && rep.OutputType == "" && rep.ReportLevel == "" && rep.ObjectVersionIds == "" && rep.Overrides == nil {
		rep = nil
	}
	if rep != nil {
		if rep.Destination == nil || rep.Destination.S3 == nil || str(rep.Destination.S3.S3BucketArn) == "" || str(rep.Destination.S3.BucketAccessRoleArn) == "" {
			return nil, nil, &dsError{http.StatusBadRequest, "ValidationException", "TaskReportConfig.Destination.S3 needs S3BucketArn and BucketAccessRoleArn"}
		}
		if err := sb.passRole(r, req, str(rep.Destination.S3.BucketAccessRoleArn)); err != nil {
			return nil, nil, err
		}
		c := *rep
		if c.ObjectVersionIds == "" {
			c.ObjectVersionIds = dstypes.ObjectVersionIdsInclude
		}
		if c.ReportLevel == "" {
			c.ReportLevel = dstypes.ReportLevelErrorsOnly
		}
		rep = &c
	}
	return m, rep, nil
}

func (sb *Sandbox) createTask(r *http.Request, req *request, in *datasync.CreateTaskInput) (any, error) {
	if err := sb.dataSyncAuthorize(r, req, "CreateTask", "*"); err != nil {
		return nil, err
	}
	mode := in.TaskMode
	if mode == "" {
		mode = dstypes.TaskModeBasic
	}
	opts := mergeOptions(defaultOptions(mode), in.Options)
	if err := checkOptions(opts, mode); err != nil {
		return nil, err
	}
	manifest, report, err := sb.checkManifestAndReport(r, req, in.ManifestConfig, in.TaskReportConfig)
	if err != nil {
		return nil, err
	}
	ds := sb.dataSync()
	ds.mu.Lock()
	defer ds.mu.Unlock()
	acct := req.principal.Account
	for _, arn := range []string{str(in.SourceLocationArn), str(in.DestinationLocationArn)} {
		if l, ok := ds.locations[arn]; !ok || l.account != acct {
			return nil, dsInvalid("location %q not found", arn)
		}
	}
	t := &dsTask{
		arn: sb.dataSyncARN(acct, "task/"+dataSyncID("task-")), account: acct, name: str(in.Name),
		src: str(in.SourceLocationArn), dst: str(in.DestinationLocationArn),
		options: opts, includes: in.Includes, excludes: in.Excludes, schedule: in.Schedule, mode: mode,
		logGroup: str(in.CloudWatchLogGroupArn), manifest: manifest, report: report,
		created: sb.now(),
	}
	ds.tasks[t.arn] = t
	ds.addTags(t.arn, in.Tags)
	return map[string]any{"TaskArn": t.arn}, nil
}

func (sb *Sandbox) describeTask(r *http.Request, req *request, arn string) (any, error) {
	if err := sb.dataSyncAuthorize(r, req, "DescribeTask", arn); err != nil {
		return nil, err
	}
	ds := sb.dataSync()
	ds.mu.Lock()
	defer ds.mu.Unlock()
	t, ok := ds.tasks[arn]
	if !ok || t.account != req.principal.Account {
		return nil, dsInvalid("task %s not found", arn)
	}
	out := map[string]any{
		"TaskArn": t.arn, "Name": t.name, "Status": t.status(), "TaskMode": t.mode,
		"SourceLocationArn": t.src, "DestinationLocationArn": t.dst,
		"Options": t.options, "CreationTime": epoch(t.created),
	}
	if len(t.includes) > 0 {
		out["Includes"] = t.includes
	}
	if len(t.excludes) > 0 {
		out["Excludes"] = t.excludes
	}
	if t.schedule != nil && str(t.schedule.ScheduleExpression) != "" {
		out["Schedule"] = t.schedule
	}
	if t.logGroup != "" {
		out["CloudWatchLogGroupArn"] = t.logGroup
	}
	if t.manifest != nil {
		out["ManifestConfig"] = t.manifest
	}
	if t.report != nil {
		out["TaskReportConfig"] = t.report
	}
	if t.current != "" {
		out["CurrentTaskExecutionArn"] = t.current
	}
	return out, nil
}

// updateTask changes what the request carries; present says which
// members it carries, since an empty Includes list clears the filter.
func (sb *Sandbox) updateTask(r *http.Request, req *request, in *datasync.UpdateTaskInput, present map[string]json.RawMessage) (any, error) {
	arn := str(in.TaskArn)
	if err := sb.dataSyncAuthorize(r, req, "UpdateTask", arn); err != nil {
		return nil, err
	}
	if _, ok := present["TaskMode"]; ok {
		return nil, dsInvalid("TaskMode cannot be changed once a task is created")
	}
	manifest, report, err := sb.checkManifestAndReport(r, req, in.ManifestConfig, in.TaskReportConfig)
	if err != nil {
		return nil, err
	}
	ds := sb.dataSync()
	ds.mu.Lock()
	defer ds.mu.Unlock()
	t, ok := ds.tasks[arn]
	if !ok || t.account != req.principal.Account {
		return nil, dsInvalid("task %s not found", arn)
	}
	opts := mergeOptions(t.options, in.Options)
	if err := checkOptions(opts, t.mode); err != nil {
		return nil, err
	}
	t.options = opts
	if _, ok := present["Includes"]; ok {
		t.includes = in.Includes
	}
	if _, ok := present["Excludes"]; ok {
		t.excludes = in.Excludes
	}
	if _, ok := present["Schedule"]; ok {
		t.schedule = in.Schedule
	}
	if in.Name != nil {
		t.name = *in.Name
	}
	if in.CloudWatchLogGroupArn != nil {
		t.logGroup = *in.CloudWatchLogGroupArn
	}
	// A member left out keeps its value; an empty one removes it.
	if _, ok := present["ManifestConfig"]; ok {
		t.manifest = manifest
	}
	if _, ok := present["TaskReportConfig"]; ok {
		t.report = report
	}
	return map[string]any{}, nil
}
