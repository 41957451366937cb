// Package sandbox is an in-process, in-memory AWS for tests and demos: one
// HTTP endpoint on 127.0.0.1 that answers S3 (gofakes3 with its memory
// backend, plus what gofakes3 lacks), STS and IAM, for several accounts at
// once.
//
// Every request is attributed to the principal behind its SigV4 access key,
// and the service is taken from the signature's credential scope, so all
// SDK clients share one BaseEndpoint. Signatures are verified as AWS
// does (the key's secret, the signed headers, X-Amz-Date within 15
// minutes of the wall clock, presigned expiry), and so are session tokens
// and their expiry; a bad signature fails with each service's own error
// (SignatureDoesNotMatch, InvalidSignatureException).
//
// # Authorisation
//
// The sandbox holds no policy logic. Each request is turned into one or more
// [AccessRequest] values (action, resource, policies, condition context) and
// handed to the [Authorizer] installed with [Sandbox.SetAuthorizer]; a
// denial fails the request with AccessDenied as AWS would. Without an
// authorizer everything is allowed and no policy is parsed.
//
// # Ownership and ACLs
//
// Each account has a canonical user id ([CanonicalID]). Every object
// version records the account that owns it and its ACL: the writer owns
// it, except in BucketOwnerEnforced buckets (the default; ACLs disabled,
// the bucket owner owns everything) and in BucketOwnerPreferred buckets
// written with bucket-owner-full-control. Canned ACLs and x-amz-grant-*
// headers on PutObject, CopyObject and CreateMultipartUpload, and
// Get/PutObjectAcl and Get/PutBucketAcl are kept and returned.
//
// With an authorizer installed, S3 requests also follow S3's ownership
// rules: on a bucket with ACLs enabled, an object owned by another account
// than the bucket's can be read (GetObject, HeadObject, as a copy source)
// only by its owner's account and accounts its ACL grants READ, whatever
// the policies say (the cross-account copy without
// bucket-owner-full-control that leaves the bucket owner locked out). And
// when the policies deny a cross-account request, an ACL grant of the
// needed permission to the caller's account or to AllUsers or
// AuthenticatedUsers stands in for the resource owner's policy: the
// request is then judged as if it were same-account, so the caller's own
// policies must allow it and explicit denies still apply. Object READ,
// READ_ACP and WRITE_ACP and bucket READ (listings), WRITE (PutObject,
// DeleteObject), READ_ACP and WRITE_ACP are modelled; e-mail grantees,
// anonymous requests, the LogDelivery group's effect and object-lock are
// not.
//
// # KMS keys
//
// There is no KMS endpoint, but [Sandbox.CreateKMSKey] makes customer
// managed keys with key policies that S3 enforces under an authorizer:
// kms:GenerateDataKey for SSE-KMS writes, kms:Decrypt for reads, both for
// multipart parts, with the key policy deciding even within one account.
//
// # Beyond gofakes3
//
// The sandbox serves CopyObject (metadata and tagging directives,
// ?versionId sources, copy-source conditions) and UploadPartCopy itself,
// reports multipart ETags (md5 of the part MD5s, "-N") everywhere and
// answers partNumber reads from the recorded part sizes, keeps SSE,
// storage class and checksum headers, and refuses requests whose
// x-amz-expected-bucket-owner names another account. [Sandbox.InjectFault]
// breaks chosen requests with errors, resets, truncated bodies or latency.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/johannesboyne/gofakes3"
)

// Default account ids: A holds sources, B holds destinations.
const (
	AccountA = "111111111111"
	AccountB = "222222222222"
	// Region is the region every client and bucket uses.
	Region = "us-east-1"
)

// Principal is an identity with long-term or temporary keys.
type Principal struct {
	// ARN is the principal's ARN, e.g. arn:aws:iam::111111111111:root.
	ARN string
	// Account is the 12-digit account id the principal belongs to.
	Account string
	// UserID is what GetCallerIdentity reports as UserId.
	UserID string
	// AccessKeyID is the key id: AKIA… for long-term keys, ASIA… for
	// temporary ones.
	AccessKeyID string
	// SecretAccessKey is the secret half of the key pair.
	SecretAccessKey string
	// SessionToken is set for temporary keys and must accompany them.
	SessionToken string
}

// Credentials returns a static provider for the principal's keys.
func (p Principal) Credentials() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(p.AccessKeyID, p.SecretAccessKey, p.SessionToken)
}

// Sandbox is a running in-memory AWS endpoint.
type Sandbox struct {
	// URL is the endpoint, e.g. http://127.0.0.1:40123.
	URL string

	srv *httptest.Server
	s3  http.Handler
	// smallParts, set by AllowSmallParts, lifts S3's 5 MiB minimum for
	// parts other than the last.
	smallParts atomic.Bool
	backend    *backend
	opts       options
	authorizer atomic.Pointer[Authorizer]
	validator  atomic.Pointer[PolicyValidator]

	mu   sync.RWMutex
	keys map[string]*identity // access key id -> identity
	// bucket name -> owning account
	owners    map[string]string
	tags      map[objectRef]tagging // per object; key "" holds bucket tags
	roots     map[string]Principal
	users     map[string]*user // "account/name" -> user
	roles     map[string]*role // "account/name" -> role
	policies  map[string]string
	ownership map[string]string
	// bucketACLs holds ACLs set with PutBucketAcl or CreateBucket.
	bucketACLs map[string][]grant

	// upMu guards uploads, the multipart uploads in progress by id.
	upMu    sync.Mutex
	uploads map[string]*upload

	faults faults

	// reqMu guards requests alone so counting never waits on sb.mu.
	reqMu    sync.Mutex
	requests map[string]int

	// kms is the KMS keys S3 enforces (kms.go).
	kms kmsState

	// repl is S3 Replication and Batch Replication (replication*.go).
	repl replicationState

	// ds is DataSync (datasync*.go), made on first use.
	dsOnce sync.Once
	ds     *dataSyncService
}

type objectRef struct{ bucket, key string }

// Start runs a sandbox with AccountA and AccountB and their root users.
// Close it when done.
func Start(opts ...Option) (*Sandbox, error) {
	sb := &Sandbox{
		keys:       make(map[string]*identity),
		owners:     make(map[string]string),
		tags:       make(map[objectRef]tagging),
		roots:      make(map[string]Principal),
		users:      make(map[string]*user),
		roles:      make(map[string]*role),
		policies:   make(map[string]string),
		ownership:  make(map[string]string),
		requests:   make(map[string]int),
		bucketACLs: make(map[string][]grant),
		uploads:    make(map[string]*upload),
	}
	sb.backend = newBackend(sb)
	sb.s3 = gofakes3.New(sb.backend, gofakes3.WithAutoBucket(false), gofakes3.WithLogger(gofakes3.DiscardLog())).Server()
	for _, o := range opts {
		o(&sb.opts)
	}
	for _, acct := range []string{AccountA, AccountB} {
		if _, err := sb.AddAccount(acct); err != nil {
			return nil, err
		}
	}
	sb.srv = httptest.NewServer(sb)
	sb.URL = sb.srv.URL
	return sb, nil
}

// Close stops the endpoint.
func (sb *Sandbox) Close() { sb.srv.Close() }

// AddAccount adds an account with a root user and returns the root.
func (sb *Sandbox) AddAccount(id string) (Principal, error) {
	if len(id) != 12 {
		return Principal{}, fmt.Errorf("sandbox: account id %q: must be 12 digits", id)
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if _, ok := sb.roots[id]; ok {
		return Principal{}, fmt.Errorf("sandbox: account %s exists", id)
	}
	p := Principal{ARN: "arn:aws:iam::" + id + ":root", Account: id, UserID: id}
	p.AccessKeyID, p.SecretAccessKey = newKeys("AKIA")
	sb.keys[p.AccessKeyID] = &identity{Principal: p, kind: kindRoot}
	sb.roots[id] = p
	return p, nil
}

// Root returns the root user of an account.
func (sb *Sandbox) Root(account string) Principal {
	sb.mu.RLock()
	defer sb.mu.RUnlock()
	return sb.roots[account]
}

// Config returns an aws.Config that talks to the sandbox as p.
func (sb *Sandbox) Config(p Principal) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  aws.NewCredentialsCache(p.Credentials()),
		BaseEndpoint: aws.String(sb.URL),
		HTTPClient:   sb.srv.Client(),
	}
}

// S3 returns a path-style S3 client acting as p.
func (sb *Sandbox) S3(p Principal) *s3.Client {
	return s3.NewFromConfig(sb.Config(p), func(o *s3.Options) { o.UsePathStyle = true })
}

// STS returns an STS client acting as p.
func (sb *Sandbox) STS(p Principal) *sts.Client { return sts.NewFromConfig(sb.Config(p)) }

// IAM returns an IAM client acting as p.
func (sb *Sandbox) IAM(p Principal) *iam.Client { return iam.NewFromConfig(sb.Config(p)) }

// Requests returns how many requests the sandbox has received, by
// operation name as the SDK spells it ("PutObject", "AssumeRole",
// "CreateRole"…), whether they succeeded or not.
func (sb *Sandbox) Requests() map[string]int {
	sb.reqMu.Lock()
	defer sb.reqMu.Unlock()
	out := make(map[string]int, len(sb.requests))
	for k, v := range sb.requests {
		out[k] = v
	}
	return out
}

func (sb *Sandbox) count(op string) {
	sb.reqMu.Lock()
	sb.requests[op]++
	sb.reqMu.Unlock()
}

func (sb *Sandbox) now() time.Time {
	if sb.opts.clock != nil {
		return sb.opts.clock()
	}
	return time.Now()
}

// CreateBucket creates a bucket owned by p's account.
func (sb *Sandbox) CreateBucket(ctx context.Context, p Principal, name string) error {
	_, err := sb.S3(p).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	return err
}

// BucketOwner returns the account that owns a bucket, or "" when there is
// no such bucket.
func (sb *Sandbox) BucketOwner(bucket string) string {
	sb.mu.RLock()
	defer sb.mu.RUnlock()
	return sb.owners[bucket]
}

func (sb *Sandbox) identity(accessKey string) (*identity, bool) {
	sb.mu.RLock()
	defer sb.mu.RUnlock()
	id, ok := sb.keys[accessKey]
	return id, ok
}

func newKeys(prefix string) (id, secret string) {
	b := make([]byte, 28)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("sandbox: no randomness: " + err.Error()))
	}
	h := hex.EncodeToString(b)
	return prefix + toUpper(h[:16]), h[16:56]
}

func toUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// newID returns an IAM-style unique id such as AROA followed by 17
// upper-case characters.
func newID(prefix string) string {
	id, _ := newKeys("")
	return prefix + id[:16] + "X"
}

// AllowSmallParts lets CompleteMultipartUpload accept parts under 5 MiB
// that are not the last, which S3 refuses with EntityTooSmall: for tests
// of the sandbox's own part handling that are clearer with parts of a few
// bytes. Nothing that tests xacct against S3's rules should call it.
func (sb *Sandbox) AllowSmallParts() { sb.smallParts.Store(true) }
