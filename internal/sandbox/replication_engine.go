package sandbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/johannesboyne/gofakes3"
)

// replicationTask is one source version waiting to be replicated.
type replicationTask struct {
	bucket, key, version string
	deleteMarker         bool
	// tags are the object's tags when it was written: S3 matches tag
	// filters against them, not against later tags.
	tags map[string]string
}

// replicationSession is the name of the role session the engine uses.
const replicationSession = "s3-replication"

// afterWrite is called by the S3 front after a write request: when the
// write succeeded, created a version in a bucket with a replication
// configuration and a rule applies to it, the version is marked PENDING
// and queued. Replication then runs on a goroutine of its own, which ends
// when the queue is empty; WaitReplication waits for it. requestVersion
// is the request's versionId: a DELETE naming a version (removing a
// version or a delete marker) is never replicated, as in S3.
func (sb *Sandbox) afterWrite(op, bucket, key, requestVersion string, rec *statusRecorder) {
	// A handler that writes no body and no status has answered 200.
	if rec.status >= 300 {
		return
	}
	if op == "DeleteObject" && requestVersion != "" {
		return
	}
	version := rec.Header().Get("X-Amz-Version-Id")
	if version == "" {
		return
	}
	if op == "DeleteObject" {
		if rec.Header().Get("X-Amz-Delete-Marker") == "true" {
			sb.queueDeleteMarker(bucket, key, version)
		}
		return
	}
	sb.queueVersion(replicationTask{bucket: bucket, key: key, version: version, tags: sb.objectTags(bucket, key)})
}

// queueDeleteMarker queues a delete marker the source bucket just got,
// when a rule replicates delete markers.
func (sb *Sandbox) queueDeleteMarker(bucket, key, version string) {
	sb.queueVersion(replicationTask{bucket: bucket, key: key, version: version, deleteMarker: true})
}

// queueVersion queues task when the bucket has a configuration with a
// rule that applies to it.
func (sb *Sandbox) queueVersion(task replicationTask) {
	cfg := sb.replicationConfig(task.bucket)
	if cfg == nil {
		return
	}
	rule := cfg.pick(task.key, task.tags, task.deleteMarker)
	if rule == nil || !sb.eligible(&task, rule) {
		return
	}
	sb.enqueue(task)
}

// afterDeleteObjects is called by the S3 front after a successful
// DeleteObjects request with the objects it asked to delete and the
// response body: like DeleteObject, each delete marker it created is
// replicated when a rule says so, and entries naming a version are not.
// The marker's version is the key's latest version, looked up after the
// request.
func (sb *Sandbox) afterDeleteObjects(bucket string, objects []deleteObject, response []byte) {
	if sb.replicationConfig(bucket) == nil {
		return
	}
	var res struct {
		Error []struct{ Key, VersionID string } `xml:"Error"`
	}
	_ = xml.Unmarshal(response, &res)
	failed := map[string]bool{}
	for _, e := range res.Error {
		failed[e.Key] = true
	}
	for _, o := range objects {
		if o.VersionID != "" || failed[o.Key] {
			continue
		}
		if v := sb.latestDeleteMarker(bucket, o.Key); v != "" {
			sb.queueDeleteMarker(bucket, o.Key, v)
		}
	}
}

// latestDeleteMarker returns the version of key's delete marker when that
// marker is the key's latest version, "" otherwise.
func (sb *Sandbox) latestDeleteMarker(bucket, key string) string {
	page := &gofakes3.ListBucketVersionsPage{}
	for {
		res, err := sb.backend.Backend.ListBucketVersions(bucket, &gofakes3.Prefix{HasPrefix: true, Prefix: key}, page)
		if err != nil {
			return ""
		}
		for _, item := range res.Versions {
			if m, ok := item.(*gofakes3.DeleteMarker); ok && m.Key == key && m.IsLatest {
				return string(m.VersionID)
			}
		}
		if !res.IsTruncated {
			return ""
		}
		page = &gofakes3.ListBucketVersionsPage{KeyMarker: res.NextKeyMarker, HasKeyMarker: true, VersionIDMarker: res.NextVersionIDMarker, HasVersionIDMarker: res.NextVersionIDMarker != ""}
	}
}

// eligible reports whether S3 replicates a version under rule: SSE-KMS
// objects only when the rule selects them and names a replica key.
func (sb *Sandbox) eligible(task *replicationTask, rule *replicationRule) bool {
	if task.deleteMarker {
		return true
	}
	_, info, err := sb.backend.info(task.bucket, task.key, task.version)
	if err != nil {
		return false
	}
	if info.Meta["X-Amz-Server-Side-Encryption"] == "aws:kms" {
		return rule.sseKMS() && rule.replicaKey() != ""
	}
	return true
}

func (sb *Sandbox) objectTags(bucket, key string) map[string]string {
	sb.mu.RLock()
	defer sb.mu.RUnlock()
	t, ok := sb.tags[objectRef{bucket, key}]
	if !ok {
		return nil
	}
	out := make(map[string]string, len(t.TagSet.Tag))
	for _, tag := range t.TagSet.Tag {
		out[tag.Key] = tag.Value
	}
	return out
}

func (sb *Sandbox) enqueue(task replicationTask) {
	st := &sb.repl
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	if !task.deleteMarker {
		st.status[versionRef{task.bucket, task.key, task.version}] = ReplicationPending
	}
	st.queue = append(st.queue, task)
	sb.startWorkerLocked()
}

func (sb *Sandbox) startWorkerLocked() {
	st := &sb.repl
	if st.running || st.held > 0 || len(st.queue) == 0 {
		return
	}
	st.running = true
	if st.idle == nil {
		st.idle = make(chan struct{})
	}
	go sb.drainReplication()
}

func (sb *Sandbox) drainReplication() {
	st := &sb.repl
	for {
		st.mu.Lock()
		if len(st.queue) == 0 || st.held > 0 {
			st.running = false
			if st.idle != nil {
				close(st.idle)
				st.idle = nil
			}
			st.mu.Unlock()
			return
		}
		task := st.queue[0]
		st.queue = st.queue[1:]
		st.mu.Unlock()
		sb.replicate(context.Background(), task)
	}
}

// WaitReplication blocks until every queued version has been replicated
// or has failed, or ctx ends. Versions held back by HoldReplication are
// not waited for.
func (sb *Sandbox) WaitReplication(ctx context.Context) error {
	st := &sb.repl
	for {
		st.mu.Lock()
		if !st.running {
			st.mu.Unlock()
			return nil
		}
		idle := st.idle
		st.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// HoldReplication stops the engine from replicating, so tests can see
// versions PENDING; the returned function lets it go on. Holds nest.
func (sb *Sandbox) HoldReplication() (release func()) {
	st := &sb.repl
	st.mu.Lock()
	st.held++
	st.mu.Unlock()
	var once bool
	return func() {
		st.mu.Lock()
		defer st.mu.Unlock()
		if once {
			return
		}
		once = true
		st.held--
		sb.startWorkerLocked()
	}
}

// ReplicationStatus returns the replication status of an object version
// ("" for the current version): PENDING, COMPLETED, FAILED, REPLICA, or
// "" when it has none.
func (sb *Sandbox) ReplicationStatus(bucket, key, version string) string {
	if version == "" {
		obj, err := sb.backend.Backend.HeadObjectVersion(bucket, key, "")
		if err != nil {
			return ""
		}
		version = string(obj.VersionID)
	}
	st := &sb.repl
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	return st.status[versionRef{bucket, key, version}]
}

// ReplicationFailure returns why a version's replication failed ("" for
// the current version), or "" when it did not.
func (sb *Sandbox) ReplicationFailure(bucket, key, version string) string {
	if version == "" {
		obj, err := sb.backend.Backend.HeadObjectVersion(bucket, key, "")
		if err != nil {
			return ""
		}
		version = string(obj.VersionID)
	}
	st := &sb.repl
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	return st.failures[versionRef{bucket, key, version}]
}

// replicationStatusHeader sets x-amz-replication-status on a GET or HEAD
// of a version that has a replication status.
func (sb *Sandbox) replicationStatusHeader(w http.ResponseWriter, bucket, key, version string) {
	st := &sb.repl
	st.mu.Lock()
	st.init()
	none := len(st.status) == 0
	st.mu.Unlock()
	if none {
		return
	}
	if s := sb.ReplicationStatus(bucket, key, version); s != "" {
		w.Header().Set("X-Amz-Replication-Status", s)
	}
}

func (sb *Sandbox) setReplicationResult(task replicationTask, err error) {
	st := &sb.repl
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	ref := versionRef{task.bucket, task.key, task.version}
	if task.deleteMarker {
		if err != nil {
			st.failures[ref] = err.Error()
		}
		return
	}
	if err != nil {
		st.status[ref] = ReplicationFailed
		st.failures[ref] = err.Error()
		return
	}
	st.status[ref] = ReplicationCompleted
	delete(st.failures, ref)
}

// replicate copies one version as the replication role and records the
// outcome on the source version.
func (sb *Sandbox) replicate(ctx context.Context, task replicationTask) {
	err := sb.replicateVersion(ctx, task)
	sb.setReplicationResult(task, err)
}

// serviceRequest is the request context of calls a service makes on its
// own: over TLS, from no client address.
func serviceRequest(ctx context.Context) *http.Request {
	r := (&http.Request{Header: http.Header{}, TLS: &tls.ConnectionState{}}).WithContext(ctx)
	return r
}

// assumeServiceRole checks that service may assume roleARN and returns
// the role session's identity. The request context has no
// aws:SourceAccount or aws:SourceArn: AWS does not document that S3
// Replication or S3 Batch Operations send them, so a trust policy that
// needs them fails here as it may in AWS.
func (sb *Sandbox) assumeServiceRole(ctx context.Context, service, roleARN string) (*identity, error) {
	acct, name := parseRoleARN(roleARN)
	v, ok := sb.role(acct, name)
	if !ok || v.arn() != roleARN {
		return nil, fmt.Errorf("%s cannot assume role %s: the role does not exist", service, roleARN)
	}
	if a := sb.authz(); a != nil {
		ar := &AccessRequest{
			PrincipalARN:     service,
			PrincipalService: service,
			Action:           "sts:AssumeRole",
			Resource:         roleARN,
			ResourceAccount:  acct,
			ResourcePolicy:   v.trust,
			Context: map[string][]string{
				"aws:PrincipalServiceName": {service},
				"aws:SecureTransport":      {"true"},
			},
		}
		if msg := decide(ctx, a, ar); msg != "" {
			return nil, errors.New(msg)
		}
	}
	p := Principal{ARN: "arn:aws:sts::" + acct + ":assumed-role/" + name + "/" + replicationSession, Account: acct, UserID: v.id + ":" + replicationSession}
	return &identity{Principal: p, kind: kindSession, name: name, roleARN: roleARN}, nil
}

// replicateVersion does what S3 Replication does for one version: assume
// the role, check each permission the copy needs through the authorizer
// (the role's identity policies, the buckets' policies, the keys'
// policies), and write the replica or the delete marker.
func (sb *Sandbox) replicateVersion(ctx context.Context, task replicationTask) error {
	cfg := sb.replicationConfig(task.bucket)
	if cfg == nil {
		return errors.New("the bucket no longer has a replication configuration")
	}
	rule := cfg.pick(task.key, task.tags, task.deleteMarker)
	if rule == nil {
		return errors.New("no replication rule applies any more")
	}
	srcOwner := sb.BucketOwner(task.bucket)
	id, err := sb.assumeServiceRole(ctx, "s3.amazonaws.com", cfg.Role)
	if err != nil {
		return err
	}
	dst := rule.destinationBucket()
	dstOwner := sb.BucketOwner(dst)
	switch {
	case dstOwner == "":
		return fmt.Errorf("destination bucket %s does not exist", dst)
	case !sb.versioned(dst):
		return fmt.Errorf("destination bucket %s does not have versioning enabled", dst)
	case rule.Destination.Account != "" && rule.Destination.Account != dstOwner:
		return fmt.Errorf("destination bucket %s is not owned by account %s", dst, rule.Destination.Account)
	case sb.ObjectLockEnabled(task.bucket) && !sb.ObjectLockEnabled(dst):
		return fmt.Errorf("source bucket %s has Object Lock but destination bucket %s does not", task.bucket, dst)
	}
	r := serviceRequest(ctx)
	var checks []*AccessRequest
	object := func(action, bucket, key string) *AccessRequest {
		ar := sb.s3AccessRequest(r, id, action, bucket, key)
		if bucket == task.bucket && key != "" {
			ar.Context["s3:versionid"] = []string{task.version}
		}
		return ar
	}
	checks = append(checks,
		object("s3:GetReplicationConfiguration", task.bucket, ""),
		object("s3:ListBucket", task.bucket, ""),
		object("s3:GetObjectVersionForReplication", task.bucket, task.key),
	)
	var info *objectInfo
	var body []byte
	if task.deleteMarker {
		checks = append(checks, object("s3:ReplicateDelete", dst, task.key))
	} else {
		var obj *gofakes3.Object
		obj, info, err = sb.backend.info(task.bucket, task.key, task.version)
		if err != nil {
			return fmt.Errorf("read source version: %w", err)
		}
		checks = append(checks,
			object("s3:GetObjectVersionAcl", task.bucket, task.key),
			object("s3:GetObjectVersionTagging", task.bucket, task.key),
		)
		if sb.ObjectLockEnabled(task.bucket) {
			checks = append(checks,
				object("s3:GetObjectRetention", task.bucket, task.key),
				object("s3:GetObjectLegalHold", task.bucket, task.key),
			)
		}
		if info.Meta["X-Amz-Server-Side-Encryption"] == "aws:kms" {
			srcKey := info.Meta["X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"]
			checks = append(checks, sb.kmsRequest(r, id, "kms:Decrypt", srcKey, "arn:aws:s3:::"+task.bucket+"/"+task.key))
			for _, action := range []string{"kms:Encrypt", "kms:GenerateDataKey"} {
				checks = append(checks, sb.kmsRequest(r, id, action, rule.replicaKey(), "arn:aws:s3:::"+dst+"/"+task.key))
			}
		}
		checks = append(checks, object("s3:ReplicateObject", dst, task.key))
		if len(task.tags) > 0 {
			checks = append(checks, object("s3:ReplicateTags", dst, task.key))
		}
		if rule.ownerOverride() {
			checks = append(checks, object("s3:ObjectOwnerOverrideToBucketOwner", dst, task.key))
		}
		full, err := sb.backend.Backend.GetObjectVersion(task.bucket, task.key, obj.VersionID, nil)
		if err == nil {
			body, err = readAll(full)
		}
		if err != nil {
			return fmt.Errorf("read source version: %w", err)
		}
	}
	if a := sb.authz(); a != nil {
		if msg := decide(ctx, a, checks...); msg != "" {
			return errors.New(msg)
		}
	}
	if task.deleteMarker {
		if _, err := sb.backend.DeleteObject(dst, task.key); err != nil {
			return fmt.Errorf("replicate delete marker: %w", err)
		}
		sb.setTags(dst, task.key, nil)
		return nil
	}
	meta := maps.Clone(info.Meta)
	if rule.Destination.StorageClass != "" {
		meta["X-Amz-Storage-Class"] = rule.Destination.StorageClass
	}
	if meta["X-Amz-Server-Side-Encryption"] == "aws:kms" {
		meta["X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"] = rule.replicaKey()
	}
	owner := info.Owner
	if owner == "" {
		owner = srcOwner
	}
	if rule.ownerOverride() {
		owner = dstOwner
	}
	res, err := sb.backend.put(dst, task.key, &objectInfo{Meta: meta, Owner: owner, ETag: info.ETag, Parts: info.Parts}, bytes.NewReader(body), int64(len(body)), nil)
	if err != nil {
		return fmt.Errorf("write replica: %w", err)
	}
	var tags *tagging
	if len(task.tags) > 0 {
		tags = &tagging{Xmlns: s3NS}
		for _, k := range slices.Sorted(maps.Keys(task.tags)) {
			tags.TagSet.Tag = append(tags.TagSet.Tag, struct {
				Key   string
				Value string
			}{k, task.tags[k]})
		}
	}
	sb.setTags(dst, task.key, tags)
	st := &sb.repl
	st.mu.Lock()
	st.init()
	st.status[versionRef{dst, task.key, string(res.VersionID)}] = ReplicationReplica
	st.mu.Unlock()
	return nil
}

// kmsRequest asks whether id may use a KMS key for S3 on object, with the
// key's policy as the resource policy.
func (sb *Sandbox) kmsRequest(r *http.Request, id *identity, action, keyARN, object string) *AccessRequest {
	acct := ""
	if parts := strings.SplitN(keyARN, ":", 6); len(parts) == 6 {
		acct = parts[4]
	}
	ar := sb.newAccessRequest(r, id, action, keyARN, acct)
	ar.ResourcePolicy = sb.keyPolicy(keyARN)
	ar.Context["kms:ViaService"] = []string{"s3." + Region + ".amazonaws.com"}
	ar.Context["kms:EncryptionContext:aws:s3:arn"] = []string{object}
	return ar
}
