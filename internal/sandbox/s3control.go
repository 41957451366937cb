package sandbox

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
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

// Batch Operations job states the sandbox uses.
const (
	JobComplete = "Complete"
	JobFailed   = "Failed"
)

// batchJob is an S3 Batch Replication job. The sandbox runs it to the end
// while CreateJob is answered, so DescribeJob always finds it finished.
type batchJob struct {
	id, account, roleARN, status string
	token                        string
	priority                     int32
	created, finished            time.Time
	total, succeeded, failed     int64
	failures                     []string
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
	for _, j := range st.jobs {
		if j.account == account && j.token == in.ClientRequestToken {
			st.mu.Unlock()
			writeXML(w, http.StatusOK, struct {
				XMLName xml.Name `xml:"CreateJobResult"`
				Xmlns   string   `xml:"xmlns,attr"`
				JobID   string   `xml:"JobId"`
			}{Xmlns: s3ControlNS, JobID: j.id})
			return
		}
	}
	st.mu.Unlock()
	id := strings.ToLower(newID("")[:16])
	job := &batchJob{id: id, token: in.ClientRequestToken, account: account, roleARN: in.RoleArn, priority: in.Priority, created: sb.now()}
	sb.runBatchReplication(r.Context(), job, strings.TrimPrefix(gen.SourceBucket, "arn:aws:s3:::"), gen.Filter)
	job.finished = sb.now()
	st.mu.Lock()
	st.jobs[account+"/"+id] = job
	st.mu.Unlock()
	writeXML(w, http.StatusOK, struct {
		XMLName xml.Name `xml:"CreateJobResult"`
		Xmlns   string   `xml:"xmlns,attr"`
		JobID   string   `xml:"JobId"`
	}{Xmlns: s3ControlNS, JobID: id})
}

// runBatchReplication generates the manifest of a Batch Replication job
// (current versions of the source bucket that a rule selects, filtered by
// their replication status) and replicates each, acting as the job's role
// through batchoperations.s3.amazonaws.com.
func (sb *Sandbox) runBatchReplication(ctx context.Context, job *batchJob, bucket string, filter *manifestFilter) {
	fail := func(code string, err error) {
		job.status = JobFailed
		job.failures = append(job.failures, code+": "+err.Error())
	}
	id, err := sb.assumeServiceRole(ctx, "batchoperations.s3.amazonaws.com", job.roleARN)
	if err != nil {
		fail("AccessDenied", err)
		return
	}
	if sb.BucketOwner(bucket) != job.account {
		fail("InvalidManifest", fmt.Errorf("source bucket %s is not owned by account %s", bucket, job.account))
		return
	}
	cfg := sb.replicationConfig(bucket)
	if cfg == nil {
		fail("InvalidManifest", fmt.Errorf("source bucket %s has no replication configuration", bucket))
		return
	}
	r := serviceRequest(ctx)
	if a := sb.authz(); a != nil {
		msg := decide(ctx, a,
			sb.s3AccessRequest(r, id, "s3:GetReplicationConfiguration", bucket, ""),
			sb.s3AccessRequest(r, id, "s3:PutInventoryConfiguration", bucket, ""))
		if msg != "" {
			fail("AccessDenied", errors.New(msg))
			return
		}
	}
	list, err := sb.backend.Backend.ListBucket(bucket, nil, gofakes3.ListBucketPage{})
	if err != nil {
		fail("InvalidManifest", err)
		return
	}
	want := map[string]bool{}
	if filter != nil {
		for _, s := range filter.ObjectReplicationStatuses {
			want[s] = true
		}
	}
	for _, c := range list.Contents {
		obj, err := sb.backend.Backend.HeadObjectVersion(bucket, c.Key, "")
		if err != nil {
			continue
		}
		task := replicationTask{bucket: bucket, key: c.Key, version: string(obj.VersionID), tags: sb.objectTags(bucket, c.Key)}
		status := sb.ReplicationStatus(bucket, c.Key, task.version)
		if status == ReplicationReplica {
			continue
		}
		if status == "" {
			status = "NONE"
		}
		if len(want) > 0 && !want[status] {
			continue
		}
		rule := cfg.pick(task.key, task.tags, false)
		if filter != nil && filter.EligibleForReplication != nil && *filter.EligibleForReplication && (rule == nil || !sb.eligible(&task, rule)) {
			continue
		}
		job.total++
		if a := sb.authz(); a != nil {
			if msg := decide(ctx, a, sb.s3AccessRequest(r, id, "s3:InitiateReplication", bucket, task.key)); msg != "" {
				job.failed++
				job.failures = append(job.failures, "AccessDenied: "+msg)
				continue
			}
		}
		err = sb.replicateVersion(ctx, task)
		sb.setReplicationResult(task, err)
		if err != nil {
			job.failed++
			continue
		}
		job.succeeded++
	}
	job.status = JobComplete
}

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
	var out describeJobResult
	if job != nil {
		out.Xmlns = s3ControlNS
		j := &out.Job
		j.JobID, j.JobArn, j.Status, j.Priority, j.RoleArn = job.id, jobARN(account, job.id), job.status, job.priority, job.roleARN
		j.CreationTime = job.created.UTC().Format(time.RFC3339)
		j.TerminationDate = job.finished.UTC().Format(time.RFC3339)
		j.ProgressSummary.TotalNumberOfTasks = job.total
		j.ProgressSummary.NumberOfTasksSucceeded = job.succeeded
		j.ProgressSummary.NumberOfTasksFailed = job.failed
		for _, f := range job.failures {
			code, reason, _ := strings.Cut(f, ": ")
			j.FailureReasons = append(j.FailureReasons, jobFailure{code, reason})
		}
	}
	st.mu.Unlock()
	if job == nil {
		writeS3ControlError(w, http.StatusNotFound, "NoSuchJob", "The specified job does not exist.")
		return
	}
	writeXML(w, http.StatusOK, out)
}
