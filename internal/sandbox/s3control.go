package sandbox

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/johannesboyne/gofakes3"
)

const s3ControlNS = "http://awss3control.amazonaws.com/doc/2018-08-20/"

// s3ControlPrefix starts the path of every S3 Control job operation. The
// SDK signs S3 Control requests for service "s3", so the router tells
// them from bucket requests by this path.
const s3ControlPrefix = "/v20180820/"

// isS3Control reports whether a request signed for service is an S3
// Control call.
func isS3Control(r *http.Request, service string) bool {
	switch service {
	case "s3-control", "s3control":
		return true
	case "s3":
		return strings.HasPrefix(r.URL.Path, s3ControlPrefix) && r.Header.Get("X-Amz-Account-Id") != ""
	}
	return false
}

// S3ControlConfig returns an aws.Config for S3 Control clients acting as
// p. The S3 Control client puts the account ID in front of the endpoint's
// host ("111111111111.127.0.0.1"), which does not resolve; this config's
// HTTP client dials the sandbox's listener whatever the host, so the
// requests arrive unchanged.
func (sb *Sandbox) S3ControlConfig(p Principal) aws.Config {
	cfg := sb.Config(p)
	addr := sb.srv.Listener.Addr().String()
	var d net.Dialer
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}}
	return cfg
}

// S3Control returns an S3 Control client acting as p; see S3ControlConfig.
func (sb *Sandbox) S3Control(p Principal) *s3control.Client {
	return s3control.NewFromConfig(sb.S3ControlConfig(p))
}

// Batch Operations job states the sandbox uses. A job starts New; each
// DescribeJob moves it one step: to Preparing, then to Active (the
// manifest is generated and the tasks run, as the job's role), then to
// Complete. A job whose manifest cannot be generated goes from Preparing
// to Failed.
const (
	JobNew       = "New"
	JobPreparing = "Preparing"
	JobActive    = "Active"
	JobComplete  = "Complete"
	JobFailed    = "Failed"
)

// batchJob is an S3 Batch Replication job. CreateJob only records it;
// DescribeJob moves it on (see step), so that a client following the job
// sees the states S3 reports before Complete.
type batchJob struct {
	// id, account, token, roleARN and the manifest generator's fields
	// are set by CreateJob and never change.
	id, account, roleARN, token string
	bucket, expectedOwner       string
	filter                      *manifestFilter
	priority                    int32
	created                     time.Time

	// mu guards the rest and is held while a step runs.
	mu                       sync.Mutex
	status                   string
	finished                 time.Time
	total, succeeded, failed int64
	// failures are the job's FailureReasons, "code: reason".
	failures []string
	// taskFailures say why each failed task failed, "key version:
	// reason": what S3 writes in a completion report.
	taskFailures []string
}

type createJobRequest struct {
	XMLName              xml.Name `xml:"CreateJobRequest"`
	ConfirmationRequired bool     `xml:"ConfirmationRequired"`
	ClientRequestToken   string   `xml:"ClientRequestToken"`
	Priority             int32    `xml:"Priority"`
	RoleArn              string   `xml:"RoleArn"`
	Operation            struct {
		S3ReplicateObject *struct{} `xml:"S3ReplicateObject"`
	} `xml:"Operation"`
	Report struct {
		Enabled bool `xml:"Enabled"`
	} `xml:"Report"`
	ManifestGenerator struct {
		S3JobManifestGenerator *struct {
			ExpectedBucketOwner  string          `xml:"ExpectedBucketOwner"`
			SourceBucket         string          `xml:"SourceBucket"`
			EnableManifestOutput bool            `xml:"EnableManifestOutput"`
			Filter               *manifestFilter `xml:"Filter"`
		} `xml:"S3JobManifestGenerator"`
	} `xml:"ManifestGenerator"`
}

// manifestFilter selects the objects of a generated manifest.
type manifestFilter struct {
	EligibleForReplication    *bool    `xml:"EligibleForReplication"`
	ObjectReplicationStatuses []string `xml:"ObjectReplicationStatuses>member"`
}

type jobFailure struct {
	FailureCode   string `xml:"FailureCode"`
	FailureReason string `xml:"FailureReason"`
}

type describeJobResult struct {
	XMLName xml.Name `xml:"DescribeJobResult"`
	Xmlns   string   `xml:"xmlns,attr"`
	Job     struct {
		JobID                string `xml:"JobId"`
		JobArn               string `xml:"JobArn"`
		ConfirmationRequired bool   `xml:"ConfirmationRequired"`
		Status               string `xml:"Status"`
		Priority             int32  `xml:"Priority"`
		RoleArn              string `xml:"RoleArn"`
		CreationTime         string `xml:"CreationTime"`
		TerminationDate      string `xml:"TerminationDate,omitempty"`
		Operation            struct {
			S3ReplicateObject struct{} `xml:"S3ReplicateObject"`
		} `xml:"Operation"`
		ProgressSummary struct {
			TotalNumberOfTasks     int64 `xml:"TotalNumberOfTasks"`
			NumberOfTasksSucceeded int64 `xml:"NumberOfTasksSucceeded"`
			NumberOfTasksFailed    int64 `xml:"NumberOfTasksFailed"`
		} `xml:"ProgressSummary"`
		FailureReasons []jobFailure `xml:"FailureReasons>member,omitempty"`
	} `xml:"Job"`
}

// serveS3Control answers the S3 Control operations of Batch Replication:
// CreateJob (POST /v20180820/jobs) and DescribeJob (GET
// /v20180820/jobs/ID).
func (sb *Sandbox) serveS3Control(w http.ResponseWriter, r *http.Request, req *request) {
	account := r.Header.Get("X-Amz-Account-Id")
	rest := strings.TrimPrefix(r.URL.Path, s3ControlPrefix)
	var op string
	switch {
	case rest == "jobs" && r.Method == http.MethodPost:
		op = "CreateJob"
	case strings.HasPrefix(rest, "jobs/") && !strings.Contains(rest[len("jobs/"):], "/") && r.Method == http.MethodGet:
		op = "DescribeJob"
	default:
		sb.count("s3control:unsupported")
		writeS3ControlError(w, http.StatusNotImplemented, "NotImplemented", "This S3 Control operation is not served by the sandbox.")
		return
	}
	sb.count(op)
	if account != req.principal.Account {
		writeS3ControlError(w, http.StatusForbidden, "AccessDenied", "The account ID does not match the caller's account.")
		return
	}
	switch op {
	case "CreateJob":
		sb.createJob(w, r, req, account)
	case "DescribeJob":
		sb.describeJob(w, r, req, account, rest[len("jobs/"):])
	}
}

func jobARN(account, id string) string {
	return "arn:aws:s3:" + Region + ":" + account + ":job/" + id
}

func (sb *Sandbox) createJob(w http.ResponseWriter, r *http.Request, req *request, account string) {
	raw, err := io.ReadAll(r.Body)
	var in createJobRequest
	if err == nil {
		err = xml.Unmarshal(raw, &in)
	}
	gen := in.ManifestGenerator.S3JobManifestGenerator
	switch {
	case err != nil:
		writeS3ControlError(w, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed.")
		return
	case in.Operation.S3ReplicateObject == nil:
		writeS3ControlError(w, http.StatusBadRequest, "InvalidRequest", "The sandbox runs S3ReplicateObject jobs only.")
		return
	case gen == nil || gen.SourceBucket == "":
		writeS3ControlError(w, http.StatusBadRequest, "InvalidRequest", "Batch Replication jobs need an S3JobManifestGenerator with a SourceBucket.")
		return
	case in.ClientRequestToken == "" || in.RoleArn == "":
		writeS3ControlError(w, http.StatusBadRequest, "InvalidRequest", "ClientRequestToken and RoleArn are required.")
		return
	case in.ConfirmationRequired:
		writeS3ControlError(w, http.StatusBadRequest, "InvalidRequest", "The sandbox runs jobs without confirmation only (ConfirmationRequired false).")
		return
	}
	if a := sb.authz(); a != nil {
		roleAcct, _ := parseRoleARN(in.RoleArn)
		msg := decide(r.Context(), a,
			sb.newAccessRequest(r, req.id, "s3:CreateJob", jobARN(account, "*"), account),
			sb.newAccessRequest(r, req.id, "iam:PassRole", in.RoleArn, roleAcct))
		if msg != "" {
			writeS3ControlError(w, http.StatusForbidden, "AccessDenied", msg)
			return
		}
	}
	st := &sb.repl
	st.mu.Lock()
	st.init()
	var job *batchJob
	for _, j := range st.jobs {
		if j.account == account && j.token == in.ClientRequestToken {
			job = j
			break
		}
	}
	if job == nil {
		job = &batchJob{
			id: strings.ToLower(newID("")[:16]), token: in.ClientRequestToken, account: account, roleARN: in.RoleArn,
			bucket: strings.TrimPrefix(gen.SourceBucket, "arn:aws:s3:::"), expectedOwner: gen.ExpectedBucketOwner,
			filter: gen.Filter, priority: in.Priority, created: sb.now(), status: JobNew,
		}
		st.jobs[account+"/"+job.id] = job
	}
	st.mu.Unlock()
	writeXML(w, http.StatusOK, struct {
		XMLName xml.Name `xml:"CreateJobResult"`
		Xmlns   string   `xml:"xmlns,attr"`
		JobID   string   `xml:"JobId"`
	}{Xmlns: s3ControlNS, JobID: job.id})
}

// step moves the job one state on; the caller holds job.mu. New goes to
// Preparing. Preparing generates the manifest and, when that works, goes
// to Active and runs every task; otherwise it goes to Failed. Active goes
// to Complete, also when tasks failed: S3 reports those in the job's
// progress and completion report, not as a failed job. (S3 also fails a
// job whose tasks fail more than half the time after 1,000 tasks; the
// sandbox's jobs are smaller than that.)
func (sb *Sandbox) step(ctx context.Context, job *batchJob) {
	switch job.status {
	case JobNew:
		job.status = JobPreparing
	case JobPreparing:
		tasks, id, err := sb.generateManifest(ctx, job)
		if err != nil {
			code := "InvalidManifest"
			if errors.Is(err, errJobAccessDenied) {
				code = "AccessDenied"
			}
			job.failures = append(job.failures, code+": "+strings.TrimPrefix(err.Error(), errJobAccessDenied.Error()+": "))
			job.status = JobFailed
			job.finished = sb.now()
			return
		}
		job.status = JobActive
		job.total = int64(len(tasks))
		sb.runTasks(ctx, job, id, tasks)
	case JobActive:
		job.status = JobComplete
		job.finished = sb.now()
	}
}

// errJobAccessDenied marks a manifest generation the job's role is not
// allowed.
var errJobAccessDenied = errors.New("access denied")

// generateManifest does what the S3JobManifestGenerator of a Batch
// Replication job does, acting as the job's role through
// batchoperations.s3.amazonaws.com: it lists every version of the source
// bucket (not only the current ones) that a rule of the bucket's
// replication configuration selects and whose replication status the
// filter names (any status but REPLICA when it names none), oldest first, so that the destination gets a key's
// versions in the order they were written. Delete markers are not
// included. A version's tags are its key's current tags: the sandbox
// keeps tags per key.
func (sb *Sandbox) generateManifest(ctx context.Context, job *batchJob) ([]replicationTask, *identity, error) {
	bucket := job.bucket
	id, err := sb.assumeServiceRole(ctx, "batchoperations.s3.amazonaws.com", job.roleARN)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errJobAccessDenied, err)
	}
	owner := sb.BucketOwner(bucket)
	switch {
	case owner == "":
		return nil, nil, fmt.Errorf("source bucket %s does not exist", bucket)
	case owner != job.account:
		return nil, nil, fmt.Errorf("source bucket %s is not owned by account %s", bucket, job.account)
	case job.expectedOwner != "" && owner != job.expectedOwner:
		return nil, nil, fmt.Errorf("source bucket %s is not owned by the expected bucket owner %s", bucket, job.expectedOwner)
	}
	cfg := sb.replicationConfig(bucket)
	if cfg == nil {
		return nil, nil, fmt.Errorf("source bucket %s has no replication configuration", bucket)
	}
	if a := sb.authz(); a != nil {
		r := serviceRequest(ctx)
		msg := decide(ctx, a,
			sb.s3AccessRequest(r, id, "s3:GetReplicationConfiguration", bucket, ""),
			sb.s3AccessRequest(r, id, "s3:PutInventoryConfiguration", bucket, ""))
		if msg != "" {
			return nil, nil, fmt.Errorf("%w: %s", errJobAccessDenied, msg)
		}
	}
	want := map[string]bool{}
	eligibleOnly := false
	if f := job.filter; f != nil {
		for _, s := range f.ObjectReplicationStatuses {
			want[s] = true
		}
		eligibleOnly = f.EligibleForReplication != nil && *f.EligibleForReplication
	}
	var tasks []replicationTask
	page := &gofakes3.ListBucketVersionsPage{}
	for {
		res, err := sb.backend.Backend.ListBucketVersions(bucket, nil, page)
		if err != nil {
			return nil, nil, fmt.Errorf("list the versions of %s: %w", bucket, err)
		}
		for _, item := range res.Versions {
			v, ok := item.(*gofakes3.Version)
			if !ok {
				continue // a delete marker
			}
			task := replicationTask{bucket: bucket, key: v.Key, version: string(v.VersionID), tags: sb.objectTags(bucket, v.Key)}
			status := sb.versionStatus(bucket, v.Key, task.version)
			if status == "" {
				status = "NONE"
			}
			if len(want) > 0 && !want[status] || len(want) == 0 && status == ReplicationReplica {
				continue
			}
			if eligibleOnly {
				if rule := cfg.pick(task.key, task.tags, false); rule == nil || !sb.eligible(&task, rule) {
					continue
				}
			}
			tasks = append(tasks, task)
		}
		if !res.IsTruncated {
			break
		}
		page = &gofakes3.ListBucketVersionsPage{KeyMarker: res.NextKeyMarker, HasKeyMarker: true, VersionIDMarker: res.NextVersionIDMarker, HasVersionIDMarker: res.NextVersionIDMarker != ""}
	}
	// The backend's version ids sort in the order they were made.
	slices.SortStableFunc(tasks, func(a, b replicationTask) int { return strings.Compare(a.version, b.version) })
	return tasks, id, nil
}

// versionStatus returns the replication status of one version.
func (sb *Sandbox) versionStatus(bucket, key, version string) string {
	st := &sb.repl
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	return st.status[versionRef{bucket, key, version}]
}

// runTasks replicates each version of the manifest: the job's role needs
// s3:InitiateReplication on it, then the replication itself runs as the
// replication role, as S3 Replication does.
func (sb *Sandbox) runTasks(ctx context.Context, job *batchJob, id *identity, tasks []replicationTask) {
	r := serviceRequest(ctx)
	for _, task := range tasks {
		if a := sb.authz(); a != nil {
			ar := sb.s3AccessRequest(r, id, "s3:InitiateReplication", task.bucket, task.key)
			ar.Context["s3:versionid"] = []string{task.version}
			if msg := decide(ctx, a, ar); msg != "" {
				job.failed++
				job.taskFailures = append(job.taskFailures, task.key+" "+task.version+": AccessDenied: "+msg)
				continue
			}
		}
		err := sb.replicateVersion(ctx, task)
		sb.setReplicationResult(task, err)
		if err != nil {
			job.failed++
			job.taskFailures = append(job.taskFailures, task.key+" "+task.version+": "+err.Error())
			continue
		}
		job.succeeded++
	}
}

// BatchJobTaskFailures returns why each failed task of a Batch
// Replication job failed, "key version: reason", in the order the tasks
// ran: what S3 writes in the job's completion report. It is nil for an
// unknown job.
func (sb *Sandbox) BatchJobTaskFailures(account, jobID string) []string {
	st := &sb.repl
	st.mu.Lock()
	st.init()
	job := st.jobs[account+"/"+jobID]
	st.mu.Unlock()
	if job == nil {
		return nil
	}
	job.mu.Lock()
	defer job.mu.Unlock()
	return slices.Clone(job.taskFailures)
}

// describeJob answers DescribeJob, moving the job one step on first (see
// step). The step runs in the background of the request, so a client
// that gives up on its DescribeJob does not cut a step short.
func (sb *Sandbox) describeJob(w http.ResponseWriter, r *http.Request, req *request, account, id string) {
	if a := sb.authz(); a != nil {
		if msg := decide(r.Context(), a, sb.newAccessRequest(r, req.id, "s3:DescribeJob", jobARN(account, id), account)); msg != "" {
			writeS3ControlError(w, http.StatusForbidden, "AccessDenied", msg)
			return
		}
	}
	st := &sb.repl
	st.mu.Lock()
	st.init()
	job := st.jobs[account+"/"+id]
	st.mu.Unlock()
	if job == nil {
		writeS3ControlError(w, http.StatusNotFound, "NoSuchJob", "The specified job does not exist.")
		return
	}
	job.mu.Lock()
	sb.step(context.WithoutCancel(r.Context()), job)
	var out describeJobResult
	out.Xmlns = s3ControlNS
	j := &out.Job
	j.JobID, j.JobArn, j.Status, j.Priority, j.RoleArn = job.id, jobARN(account, job.id), job.status, job.priority, job.roleARN
	j.CreationTime = job.created.UTC().Format(time.RFC3339)
	if !job.finished.IsZero() {
		j.TerminationDate = job.finished.UTC().Format(time.RFC3339)
	}
	j.ProgressSummary.TotalNumberOfTasks = job.total
	j.ProgressSummary.NumberOfTasksSucceeded = job.succeeded
	j.ProgressSummary.NumberOfTasksFailed = job.failed
	for _, f := range job.failures {
		code, reason, _ := strings.Cut(f, ": ")
		j.FailureReasons = append(j.FailureReasons, jobFailure{code, reason})
	}
	job.mu.Unlock()
	writeXML(w, http.StatusOK, out)
}
