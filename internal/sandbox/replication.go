package sandbox

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Replication status values, as S3 reports them in
// x-amz-replication-status.
const (
	ReplicationPending   = "PENDING"
	ReplicationCompleted = "COMPLETED"
	ReplicationFailed    = "FAILED"
	ReplicationReplica   = "REPLICA"
)

func init() {
	// The replication and Object Lock subresources are served by this
	// file; their IAM actions are bucket actions.
	s3Actions["GetBucketReplication"] = struct {
		action string
		object bool
	}{"s3:GetReplicationConfiguration", false}
	s3Actions["PutBucketReplication"] = struct {
		action string
		object bool
	}{"s3:PutReplicationConfiguration", false}
	s3Actions["DeleteBucketReplication"] = struct {
		action string
		object bool
	}{"s3:PutReplicationConfiguration", false}
	s3Actions["GetObjectLockConfiguration"] = struct {
		action string
		object bool
	}{"s3:GetBucketObjectLockConfiguration", false}
	s3Actions["PutObjectLockConfiguration"] = struct {
		action string
		object bool
	}{"s3:PutBucketObjectLockConfiguration", false}
}

// replicationState is the sandbox's replication: configurations, Object
// Lock flags, per-version replication status, the queue
// of versions waiting to be replicated and Batch Replication jobs. The
// zero value is ready to use.
type replicationState struct {
	mu         sync.Mutex
	configs    map[string]*replicationConfig // bucket -> parsed configuration
	raw        map[string][]byte             // bucket -> the document as put
	objectLock map[string][]byte             // bucket -> Object Lock configuration as put
	status     map[versionRef]string
	failures   map[versionRef]string
	queue      []replicationTask
	running    bool
	held       int
	idle       chan struct{} // closed when the queue drains
	jobs       map[string]*batchJob
}

func (st *replicationState) init() {
	if st.configs == nil {
		st.configs = make(map[string]*replicationConfig)
		st.raw = make(map[string][]byte)
		st.objectLock = make(map[string][]byte)
		st.status = make(map[versionRef]string)
		st.failures = make(map[versionRef]string)
		st.jobs = make(map[string]*batchJob)
	}
}

// replicationConfig is a bucket's replication configuration, V1 or V2.
type replicationConfig struct {
	XMLName xml.Name          `xml:"ReplicationConfiguration"`
	Role    string            `xml:"Role"`
	Rules   []replicationRule `xml:"Rule"`
}

type replStatus struct {
	Status string `xml:"Status"`
}

type replTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type replicationRule struct {
	ID       string  `xml:"ID"`
	Priority *int32  `xml:"Priority"`
	Status   string  `xml:"Status"`
	Prefix   *string `xml:"Prefix"`
	Filter   *struct {
		Prefix *string  `xml:"Prefix"`
		Tag    *replTag `xml:"Tag"`
		And    *struct {
			Prefix string    `xml:"Prefix"`
			Tags   []replTag `xml:"Tag"`
		} `xml:"And"`
	} `xml:"Filter"`
	DeleteMarkerReplication   *replStatus `xml:"DeleteMarkerReplication"`
	ExistingObjectReplication *replStatus `xml:"ExistingObjectReplication"`
	SourceSelectionCriteria   *struct {
		SseKmsEncryptedObjects *replStatus `xml:"SseKmsEncryptedObjects"`
		ReplicaModifications   *replStatus `xml:"ReplicaModifications"`
	} `xml:"SourceSelectionCriteria"`
	Destination struct {
		Bucket                   string `xml:"Bucket"`
		Account                  string `xml:"Account"`
		StorageClass             string `xml:"StorageClass"`
		AccessControlTranslation *struct {
			Owner string `xml:"Owner"`
		} `xml:"AccessControlTranslation"`
		EncryptionConfiguration *struct {
			ReplicaKmsKeyID string `xml:"ReplicaKmsKeyID"`
		} `xml:"EncryptionConfiguration"`
		ReplicationTime *replStatus `xml:"ReplicationTime"`
		Metrics         *replStatus `xml:"Metrics"`
	} `xml:"Destination"`
}

// refusal returns the error code and message S3 answers a configuration
// it refuses with, "" when it takes it: rules with the same destination
// share a priority, a tag filter with delete marker replication, an owner
// override without the destination account, or Replication Time Control
// without metrics.
func (c *replicationConfig) refusal() (code, msg string) {
	type slot struct {
		bucket   string
		priority int32
	}
	seen := map[slot]string{}
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.v2() && r.Priority != nil {
			k := slot{r.destinationBucket(), *r.Priority}
			if other, ok := seen[k]; ok {
				return "InvalidRequest", fmt.Sprintf("Rules %q and %q have the same priority %d for one destination; priorities must be unique.", other, r.ID, *r.Priority)
			}
			seen[k] = r.ID
		}
		if r.v2() && r.deleteMarkers() && len(r.tags()) > 0 {
			return "InvalidRequest", fmt.Sprintf("Rule %q: delete marker replication cannot be used with a tag filter.", r.ID)
		}
		d := &r.Destination
		if d.AccessControlTranslation != nil && d.Account == "" {
			return "InvalidRequest", fmt.Sprintf("Rule %q: AccessControlTranslation needs the destination Account.", r.ID)
		}
		if d.ReplicationTime != nil && d.ReplicationTime.Status == "Enabled" && (d.Metrics == nil || d.Metrics.Status != "Enabled") {
			return "InvalidRequest", fmt.Sprintf("Rule %q: Replication Time Control needs Metrics enabled too.", r.ID)
		}
	}
	return "", ""
}

// v2 reports whether the rule uses the V2 schema (a Filter).
func (r *replicationRule) v2() bool { return r.Filter != nil }

func (r *replicationRule) prefix() string {
	switch {
	case r.Filter == nil:
		if r.Prefix != nil {
			return *r.Prefix
		}
	case r.Filter.Prefix != nil:
		return *r.Filter.Prefix
	case r.Filter.And != nil:
		return r.Filter.And.Prefix
	}
	return ""
}

func (r *replicationRule) tags() []replTag {
	switch {
	case r.Filter == nil:
	case r.Filter.Tag != nil:
		return []replTag{*r.Filter.Tag}
	case r.Filter.And != nil:
		return r.Filter.And.Tags
	}
	return nil
}

// deleteMarkers reports whether the rule replicates delete markers: V1
// rules always do, V2 rules when DeleteMarkerReplication is Enabled.
func (r *replicationRule) deleteMarkers() bool {
	if !r.v2() {
		return true
	}
	return r.DeleteMarkerReplication != nil && r.DeleteMarkerReplication.Status == "Enabled"
}

func (r *replicationRule) sseKMS() bool {
	c := r.SourceSelectionCriteria
	return c != nil && c.SseKmsEncryptedObjects != nil && c.SseKmsEncryptedObjects.Status == "Enabled"
}

func (r *replicationRule) ownerOverride() bool {
	return r.Destination.AccessControlTranslation != nil && r.Destination.AccessControlTranslation.Owner == "Destination"
}

func (r *replicationRule) replicaKey() string {
	if r.Destination.EncryptionConfiguration == nil {
		return ""
	}
	return r.Destination.EncryptionConfiguration.ReplicaKmsKeyID
}

func (r *replicationRule) destinationBucket() string {
	return strings.TrimPrefix(r.Destination.Bucket, "arn:aws:s3:::")
}

// matches reports whether an object with key and tags (nil for a delete
// marker) falls under the rule.
func (r *replicationRule) matches(key string, tags map[string]string, deleteMarker bool) bool {
	if r.Status != "Enabled" || !strings.HasPrefix(key, r.prefix()) {
		return false
	}
	want := r.tags()
	if deleteMarker {
		return len(want) == 0 && r.deleteMarkers()
	}
	for _, t := range want {
		if v, ok := tags[t.Key]; !ok || v != t.Value {
			return false
		}
	}
	return true
}

// pick returns the rule that applies to an object: the matching enabled
// rule with the highest priority (V1 rules have none and must not
// overlap).
func (c *replicationConfig) pick(key string, tags map[string]string, deleteMarker bool) *replicationRule {
	var best *replicationRule
	for i := range c.Rules {
		r := &c.Rules[i]
		if !r.matches(key, tags, deleteMarker) {
			continue
		}
		if best == nil || priority(r) > priority(best) {
			best = r
		}
	}
	return best
}

func priority(r *replicationRule) int32 {
	if r.Priority == nil {
		return 0
	}
	return *r.Priority
}

// ReplicationConfiguration returns a bucket's replication configuration
// document as put, or nil when it has none.
func (sb *Sandbox) ReplicationConfiguration(bucket string) []byte {
	st := &sb.repl
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	return slices.Clone(st.raw[bucket])
}

func (sb *Sandbox) replicationConfig(bucket string) *replicationConfig {
	st := &sb.repl
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	return st.configs[bucket]
}

// serveReplicationSubresource answers ?replication and ?object-lock on a
// bucket. Only the bucket owner's account may use them.
func (sb *Sandbox) serveReplicationSubresource(w http.ResponseWriter, r *http.Request, req *request, op, bucket string) {
	owner, ok := sb.bucketOwner(w, bucket)
	if !ok {
		return
	}
	if owner != req.principal.Account {
		writeS3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied")
		return
	}
	st := &sb.repl
	switch op {
	case "GetBucketReplication":
		if raw := sb.ReplicationConfiguration(bucket); raw != nil {
			w.Header().Set("Content-Type", "application/xml")
			_, _ = w.Write(raw)
			return
		}
		writeS3Error(w, http.StatusNotFound, "ReplicationConfigurationNotFoundError", "The replication configuration was not found")
	case "DeleteBucketReplication":
		st.mu.Lock()
		st.init()
		delete(st.configs, bucket)
		delete(st.raw, bucket)
		st.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case "PutBucketReplication":
		sb.putBucketReplication(w, r, req, bucket)
	case "GetObjectLockConfiguration":
		st.mu.Lock()
		st.init()
		raw := st.objectLock[bucket]
		st.mu.Unlock()
		if raw == nil {
			writeS3Error(w, http.StatusNotFound, "ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket")
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		_, _ = w.Write(raw)
	case "PutObjectLockConfiguration":
		raw, err := io.ReadAll(r.Body)
		var in struct {
			ObjectLockEnabled string `xml:"ObjectLockEnabled"`
		}
		if err != nil || xml.Unmarshal(raw, &in) != nil || in.ObjectLockEnabled != "Enabled" {
			writeS3Error(w, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
			return
		}
		if !sb.versioned(bucket) {
			writeS3Error(w, http.StatusConflict, "InvalidBucketState", "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
			return
		}
		st.mu.Lock()
		st.init()
		st.objectLock[bucket] = raw
		st.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}
}

// ObjectLockEnabled reports whether a bucket has Object Lock enabled.
func (sb *Sandbox) ObjectLockEnabled(bucket string) bool {
	st := &sb.repl
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	return st.objectLock[bucket] != nil
}

// putBucketReplication checks a configuration as S3 does (versioning on
// both buckets, the V2 elements, the caller may pass the role) and stores
// it.
func (sb *Sandbox) putBucketReplication(w http.ResponseWriter, r *http.Request, req *request, bucket string) {
	raw, err := io.ReadAll(r.Body)
	var cfg replicationConfig
	if err == nil {
		err = xml.Unmarshal(raw, &cfg)
	}
	if err != nil {
		writeS3Error(w, http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
		return
	}
	invalid := func(code, msg string) {
		writeS3Error(w, http.StatusBadRequest, code, msg)
	}
	if !sb.versioned(bucket) {
		invalid("InvalidRequest", "Versioning must be 'Enabled' on the bucket to apply a replication configuration")
		return
	}
	if cfg.Role == "" || len(cfg.Rules) == 0 || len(cfg.Rules) > 1000 {
		invalid("MalformedXML", "A replication configuration needs a Role and 1 to 1000 rules.")
		return
	}
	ids := map[string]bool{}
	for _, rule := range cfg.Rules {
		if ids[rule.ID] && rule.ID != "" {
			invalid("InvalidArgument", "Rule Id must be unique")
			return
		}
		ids[rule.ID] = true
		if rule.v2() && (rule.Priority == nil || rule.DeleteMarkerReplication == nil) {
			invalid("InvalidArgument", "Priority and DeleteMarkerReplication must be specified when Filter is used")
			return
		}
		if rule.ExistingObjectReplication != nil && rule.ExistingObjectReplication.Status == "Enabled" {
			invalid("InvalidRequest", "Existing object replication is not enabled for this account")
			return
		}
		dst := rule.destinationBucket()
		if sb.BucketOwner(dst) == "" {
			invalid("InvalidRequest", "Destination bucket must exist")
			return
		}
		if !sb.versioned(dst) {
			invalid("InvalidRequest", "Destination bucket must have versioning enabled.")
			return
		}
	}
	if code, msg := cfg.refusal(); code != "" {
		invalid(code, msg)
		return
	}
	if a := sb.authz(); a != nil {
		acct, _ := parseRoleARN(cfg.Role)
		if msg := decide(r.Context(), a, sb.newAccessRequest(r, req.id, "iam:PassRole", cfg.Role, acct)); msg != "" {
			writeS3Error(w, http.StatusForbidden, "AccessDenied", msg)
			return
		}
	}
	st := &sb.repl
	st.mu.Lock()
	st.init()
	st.configs[bucket] = &cfg
	st.raw[bucket] = raw
	st.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}
