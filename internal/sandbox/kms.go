package sandbox

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// kmsState holds the sandbox's KMS keys. The sandbox has no KMS endpoint:
// keys are made with [Sandbox.CreateKMSKey] (or named by
// [Sandbox.PutKeyPolicy]) and used only through S3's SSE-KMS headers and
// replication rules.
type kmsState struct {
	mu sync.Mutex
	// policies maps a key ARN to its key policy; "" stands for the
	// default key policy.
	policies map[string]string
	// strict holds "account/region" where CreateKMSKey made a key: there
	// S3 refuses SSE-KMS keys it does not know with KMS.NotFoundException.
	strict map[string]bool
}

var (
	regionRE    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	accountIDRE = regexp.MustCompile(`^[0-9]{12}$`)
)

// DefaultKeyPolicy returns the key policy KMS gives a key created without
// one: the account's root is allowed kms:*, which leaves the decision for
// the account's principals to their identity policies.
func DefaultKeyPolicy(account string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow",` +
		`"Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"kms:*","Resource":"*"}]}`
}

// CreateKMSKey creates a customer managed symmetric KMS key in account and
// region with the given key policy ("" for [DefaultKeyPolicy]) and returns
// its ARN, arn:aws:kms:REGION:ACCOUNT:key/KEY-ID. The policy is checked by
// the installed [PolicyValidator] as a [PolicyKey] document.
//
// With an authorizer installed, S3 then enforces the key as AWS does: a
// write that asks for SSE-KMS (aws:kms or aws:kms:dsse) with this key, by
// ARN or bare key id, needs kms:GenerateDataKey on it; reading an object
// encrypted with it (GetObject, the source of CopyObject and
// UploadPartCopy) needs kms:Decrypt; UploadPart, UploadPartCopy and
// CompleteMultipartUpload of an upload encrypted with it need both. The
// key policy is the resource policy of those checks, and it must allow
// them even within one account: naming the caller grants on its own,
// naming the caller's account root defers to the caller's identity
// policies, and a caller from another account needs both. Once an account
// has a key made here in a region, S3 writes there that name a key the
// sandbox does not know fail with 400 KMS.NotFoundException; keys of other
// accounts and regions, and aliases, are not checked.
func (sb *Sandbox) CreateKMSKey(account, region, keyPolicyJSON string) (keyARN string, err error) {
	if !accountIDRE.MatchString(account) {
		return "", fmt.Errorf("sandbox: create KMS key: account %q: must be 12 digits", account)
	}
	if sb.Root(account).ARN == "" {
		return "", fmt.Errorf("sandbox: create KMS key: account %s does not exist", account)
	}
	if !regionRE.MatchString(region) {
		return "", fmt.Errorf("sandbox: create KMS key: region %q: must look like us-east-1", region)
	}
	if keyPolicyJSON == "" {
		keyPolicyJSON = DefaultKeyPolicy(account)
	}
	if err := sb.checkPolicy(PolicyKey, keyPolicyJSON); err != nil {
		return "", fmt.Errorf("sandbox: create KMS key: %w", err)
	}
	_, random := newKeys("")
	b, _ := hex.DecodeString(random[:32])
	keyID := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	keyARN = "arn:aws:kms:" + region + ":" + account + ":key/" + keyID
	st := &sb.kms
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	st.policies[keyARN] = keyPolicyJSON
	st.strict[account+"/"+region] = true
	return keyARN, nil
}

// UpdateKeyPolicy replaces the key policy of a key made with
// [Sandbox.CreateKMSKey], as kms:PutKeyPolicy does, after the installed
// [PolicyValidator] accepts it.
func (sb *Sandbox) UpdateKeyPolicy(keyARN, keyPolicyJSON string) error {
	if err := sb.checkPolicy(PolicyKey, keyPolicyJSON); err != nil {
		return fmt.Errorf("sandbox: update key policy of %s: %w", keyARN, err)
	}
	st := &sb.kms
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	if _, ok := st.policies[keyARN]; !ok {
		return fmt.Errorf("sandbox: update key policy: key %q does not exist", keyARN)
	}
	st.policies[keyARN] = keyPolicyJSON
	return nil
}

// PutKeyPolicy sets the key policy of a KMS key without checking it,
// making the key known to the sandbox if it was not (see
// [Sandbox.CreateKMSKey] for what S3 then enforces). A key with policy ""
// has the [DefaultKeyPolicy]: its own account's principals are judged by
// their identity policies alone.
func (sb *Sandbox) PutKeyPolicy(keyARN, policy string) {
	st := &sb.kms
	st.mu.Lock()
	defer st.mu.Unlock()
	st.init()
	st.policies[keyARN] = policy
}

func (st *kmsState) init() {
	if st.policies == nil {
		st.policies = make(map[string]string)
		st.strict = make(map[string]bool)
	}
}

// keyPolicy returns a key's policy; a key the sandbox does not know, or
// whose policy is "", has its account's default key policy.
func (sb *Sandbox) keyPolicy(keyARN string) string {
	st := &sb.kms
	st.mu.Lock()
	doc := st.policies[keyARN]
	st.mu.Unlock()
	if doc == "" {
		if parts := strings.SplitN(keyARN, ":", 6); len(parts) == 6 {
			return DefaultKeyPolicy(parts[4])
		}
	}
	return doc
}

// resolveKMSKey turns an SSE-KMS key id as S3 received it (a key ARN or a
// bare key id, resolved in account) into the ARN of a key the sandbox
// knows. It returns "" and whether the miss should be refused as
// KMS.NotFoundException.
func (sb *Sandbox) resolveKMSKey(id, account string) (keyARN string, notFound bool) {
	arn := id
	if !strings.HasPrefix(id, "arn:") {
		if id == "" || strings.ContainsAny(id, ":/") {
			return "", false // an alias or nothing: not modelled
		}
		arn = "arn:aws:kms:" + Region + ":" + account + ":key/" + id
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "kms" || !strings.HasPrefix(parts[5], "key/") {
		return "", false
	}
	st := &sb.kms
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.policies[arn]; ok {
		return arn, false
	}
	return "", st.strict[parts[4]+"/"+parts[3]]
}

// isKMS reports whether an SSE header value asks for a KMS key.
func isKMS(sse string) bool { return sse == "aws:kms" || sse == "aws:kms:dsse" }

// requestedKMSKey returns the ARN of the known key a write request asks
// for, or "".
func (sb *Sandbox) requestedKMSKey(h http.Header, account string) string {
	if !isKMS(h.Get("X-Amz-Server-Side-Encryption")) {
		return ""
	}
	arn, _ := sb.resolveKMSKey(h.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"), account)
	return arn
}

// storedKMSKey returns the ARN of the known key an object version is
// encrypted with, or "".
func (sb *Sandbox) storedKMSKey(bucket, key, version string) string {
	_, info, err := sb.backend.info(bucket, key, version)
	if err != nil || !isKMS(info.Meta["X-Amz-Server-Side-Encryption"]) {
		return ""
	}
	account := info.Owner
	if account == "" {
		account = sb.BucketOwner(bucket)
	}
	arn, _ := sb.resolveKMSKey(info.Meta["X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"], account)
	return arn
}

func (sb *Sandbox) uploadKMSKey(id string) string {
	sb.upMu.Lock()
	defer sb.upMu.Unlock()
	if u := sb.uploads[id]; u != nil {
		return u.kmsKey
	}
	return ""
}

// kmsDecide checks the KMS permissions an S3 request needs (see
// [Sandbox.CreateKMSKey]) and returns the HTTP status, error code and
// message of a refusal, or status 0.
func (sb *Sandbox) kmsDecide(ctx context.Context, r *http.Request, id *identity, a Authorizer, op, bucket, key string, q url.Values) (int, string, string) {
	object := "arn:aws:s3:::" + bucket + "/" + key
	var reqs []*AccessRequest
	add := func(keyARN, res string, actions ...string) {
		for _, action := range actions {
			reqs = append(reqs, sb.kmsRequest(r, id, action, keyARN, res))
		}
	}
	switch op {
	case "PutObject", "CopyObject", "CreateMultipartUpload":
		if isKMS(r.Header.Get("X-Amz-Server-Side-Encryption")) {
			keyID := r.Header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id")
			arn, notFound := sb.resolveKMSKey(keyID, id.Account)
			if notFound {
				return http.StatusBadRequest, "KMS.NotFoundException", "Invalid keyId '" + keyID + "': the key does not exist"
			}
			if arn != "" {
				add(arn, object, "kms:GenerateDataKey")
			}
		}
	case "GetObject":
		if arn := sb.storedKMSKey(bucket, key, q.Get("versionId")); arn != "" {
			add(arn, object, "kms:Decrypt")
		}
	case "UploadPart", "UploadPartCopy", "CompleteMultipartUpload":
		if arn := sb.uploadKMSKey(q.Get("uploadId")); arn != "" {
			add(arn, object, "kms:Decrypt", "kms:GenerateDataKey")
		}
	}
	if op == "CopyObject" || op == "UploadPartCopy" {
		if src, ok := parseCopySource(r.Header.Get("X-Amz-Copy-Source")); ok {
			if arn := sb.storedKMSKey(src.bucket, src.key, src.versionID); arn != "" {
				add(arn, "arn:aws:s3:::"+src.bucket+"/"+src.key, "kms:Decrypt")
			}
		}
	}
	if msg := decide(ctx, a, reqs...); msg != "" {
		return http.StatusForbidden, "AccessDenied", msg
	}
	return 0, "", ""
}
