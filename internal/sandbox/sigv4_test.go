package sandbox_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/datasync"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct/internal/sandbox"
)

// tamper is a transport that lets a test change a request after the SDK
// signed it, and keeps the last response body.
type tamper struct {
	next   http.RoundTripper
	change func(*http.Request)

	mu   sync.Mutex
	body string
}

func (t *tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.change != nil {
		t.change(r)
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.body = string(b)
	t.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

func (t *tamper) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.body
}

// withTransport returns cfg whose HTTP client sends through t.
func withTransport(cfg aws.Config, t *tamper) aws.Config {
	next := http.DefaultTransport
	if c, ok := cfg.HTTPClient.(*http.Client); ok && c.Transport != nil {
		next = c.Transport
	}
	t.next = next
	cfg.HTTPClient = &http.Client{Transport: t}
	cfg.RetryMaxAttempts = 1
	return cfg
}

func wrongSecret(cfg aws.Config, p sandbox.Principal) aws.Config {
	cfg.Credentials = credentials.NewStaticCredentialsProvider(p.AccessKeyID, strings.Repeat("x", 40), p.SessionToken)
	return cfg
}

func TestWrongSecretRefused(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	require.NoError(t, sb.CreateBucket(ctx, root, "sig-bucket"))
	roleARN, err := sb.CreateRole(sandbox.AccountA, "sig-role", trustA, nil)
	require.NoError(t, err)
	user, err := sb.AddUser(sandbox.AccountA, "sig-user")
	require.NoError(t, err)
	assumed, err := sb.STS(user).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("sig")})
	require.NoError(t, err)

	calls := []struct {
		name, code string
		call       func(context.Context, aws.Config) error
	}{
		{"s3", "SignatureDoesNotMatch", func(ctx context.Context, cfg aws.Config) error {
			_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).
				PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sig-bucket"), Key: aws.String("k"), Body: strings.NewReader("data")})
			return err
		}},
		{"sts", "SignatureDoesNotMatch", func(ctx context.Context, cfg aws.Config) error {
			_, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}},
		{"iam", "SignatureDoesNotMatch", func(ctx context.Context, cfg aws.Config) error {
			_, err := iam.NewFromConfig(cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("sig-role")})
			return err
		}},
		{"datasync", "InvalidSignatureException", func(ctx context.Context, cfg aws.Config) error {
			_, err := datasync.NewFromConfig(cfg).ListTasks(ctx, &datasync.ListTasksInput{})
			return err
		}},
	}
	for _, who := range []struct {
		name string
		p    sandbox.Principal
	}{{"root", root}, {"user", user}, {"session", session(assumed)}} {
		for _, c := range calls {
			t.Run(who.name+"/"+c.name, func(t *testing.T) {
				require.NoError(t, c.call(ctx, sb.Config(who.p)), "the right secret must be accepted")
				tr := &tamper{}
				err := c.call(ctx, withTransport(wrongSecret(sb.Config(who.p), who.p), tr))
				requireCode(t, err, c.code)
				requireStatus(t, err, http.StatusForbidden)
				assert.NotContains(t, tr.last(), who.p.SecretAccessKey)
			})
		}
	}

	t.Run("s3control", func(t *testing.T) {
		in := &s3control.DescribeJobInput{AccountId: aws.String(sandbox.AccountA), JobId: aws.String("no-such-job")}
		_, err := sb.S3Control(root).DescribeJob(ctx, in)
		// Signed right, it reaches the service, whose errors the S3
		// Control SDK reads by their code.
		requireCode(t, err, "NoSuchJob")
		requireStatus(t, err, http.StatusNotFound)
		_, err = s3control.NewFromConfig(wrongSecret(sb.S3ControlConfig(root), root)).DescribeJob(ctx, in)
		requireCode(t, err, "SignatureDoesNotMatch")
		requireStatus(t, err, http.StatusForbidden)
	})

	t.Run("s3 error document", func(t *testing.T) {
		tr := &tamper{}
		c := s3.NewFromConfig(withTransport(wrongSecret(sb.Config(root), root), tr), func(o *s3.Options) { o.UsePathStyle = true })
		var sig string
		tr.change = func(r *http.Request) {
			_, sig, _ = strings.Cut(r.Header.Get("Authorization"), "Signature=")
		}
		_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("sig-bucket")})
		requireCode(t, err, "SignatureDoesNotMatch")
		body := tr.last()
		assert.Contains(t, body, "<AWSAccessKeyId>"+root.AccessKeyID+"</AWSAccessKeyId>")
		assert.Contains(t, body, "<StringToSign>AWS4-HMAC-SHA256&#xA;"+time.Now().UTC().Format("20060102"))
		require.NotEmpty(t, sig)
		assert.NotContains(t, body, sig, "the provided signature is not echoed")
		assert.NotContains(t, body, root.SecretAccessKey)
	})
}

// Before signatures, an unknown key is refused in each protocol's shape.
func TestUnknownKeyPerProtocol(t *testing.T) {
	sb := start(t)
	p := sb.Root(sandbox.AccountA)
	p.AccessKeyID = "AKIANOSUCHKEY0000000"
	_, err := datasync.NewFromConfig(sb.Config(p)).ListTasks(t.Context(), &datasync.ListTasksInput{})
	requireCode(t, err, "UnrecognizedClientException")
	requireStatus(t, err, http.StatusForbidden)
	_, err = sb.S3Control(p).DescribeJob(t.Context(), &s3control.DescribeJobInput{AccountId: aws.String(sandbox.AccountA), JobId: aws.String("j")})
	requireCode(t, err, "InvalidAccessKeyId")
}

// Keys and query values S3 signs without double encoding, and headers
// the SDK signs on some paths only, must all verify.
func TestSignatureEdgesAccepted(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	c := sb.S3(root)
	const bucket = "edge-bucket"
	require.NoError(t, sb.CreateBucket(ctx, root, bucket))
	keys := []string{
		"plain.txt", "dir/a b+c.txt", "ünïcødé/日本語 ファイル", "sp  two  spaces", "100%25 real%", "tilde~and=eq&amp",
		"semi;colon,comma", "q?mark#hash", "dir//double/slash", "star*paren(1)!'", "plus+plus+", "@at$dollar",
	}
	for _, k := range keys {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader("v:" + k),
			Metadata:          map[string]string{"note": "a  b   c"},
			ContentType:       aws.String("text/plain; charset=utf-8"),
			Tagging:           aws.String("team=data&x=a+b%20c"),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		})
		require.NoError(t, err, k)
		got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Range: aws.String("bytes=0-1")})
		require.NoError(t, err, k)
		b, err := io.ReadAll(got.Body)
		require.NoError(t, err)
		_ = got.Body.Close()
		assert.Equal(t, "v:", string(b), k)
		_, err = c.CopyObject(ctx, &s3.CopyObjectInput{
			Bucket: aws.String(bucket), Key: aws.String("copy/" + k),
			CopySource: aws.String(bucket + "/" + escapeCopySource(k)),
		})
		require.NoError(t, err, k)
	}

	// Prefixes, delimiters and continuation tokens travel in the query.
	var listed []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		for _, o := range page.Contents {
			listed = append(listed, aws.ToString(o.Key))
		}
	}
	assert.Len(t, listed, 2*len(keys))
	for _, prefix := range []string{"ünïcødé/", "dir/a b+", "100%25", "q?mark#"} {
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/")})
		require.NoError(t, err, prefix)
		assert.NotZero(t, len(out.Contents)+len(out.CommonPrefixes), prefix)
	}

	// A streamed body goes with UNSIGNED-PAYLOAD and a Content-MD5.
	sum := "XUFAKrxLKna5cZ2REBfFkg==" // md5("hello")
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String("unsigned ü+.txt"), Body: strings.NewReader("hello"),
		ContentMD5: aws.String(sum), ContentLength: aws.Int64(5),
	}, s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware))
	require.NoError(t, err)

	// Multipart: uploadId and partNumber in the query.
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("multi part/ü+")})
	require.NoError(t, err)
	part, err := c.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String(bucket), Key: aws.String("multi part/ü+"), UploadId: mp.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("part"),
	})
	require.NoError(t, err)
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String("multi part/ü+"), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}},
	})
	require.NoError(t, err)

	// A presigned GET verifies from its query alone.
	ps, err := s3.NewPresignClient(c).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("dir/a b+c.txt")})
	require.NoError(t, err)
	resp := rawDo(t, ps.Method, ps.URL, ps.SignedHeader, nil)
	assert.Equal(t, http.StatusOK, resp.status, resp.body)
	assert.Equal(t, "v:dir/a b+c.txt", resp.body)

	// Query protocol bodies with characters form encoding changes.
	_, err = sb.IAM(root).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String("edge+role=1,a@b"),
		Description:              aws.String("spaces  and ünïcødé & symbols ~*'()"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"datasync.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	})
	require.NoError(t, err)
}

// escapeCopySource escapes a key for X-Amz-Copy-Source as the SDK
// expects callers to.
func escapeCopySource(k string) string {
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		ch := k[i]
		if ch == '/' || ('A' <= ch && ch <= 'Z') || ('a' <= ch && ch <= 'z') || ('0' <= ch && ch <= '9') || strings.IndexByte("-_.~", ch) >= 0 {
			b.WriteByte(ch)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", ch)
	}
	return b.String()
}

type rawResponse struct {
	status int
	body   string
}

func rawDo(t *testing.T, method, url string, h http.Header, body []byte) rawResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return rawResponse{resp.StatusCode, string(b)}
}

func TestTamperedRequestRefused(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	require.NoError(t, sb.CreateBucket(ctx, root, "tamper-bucket"))

	t.Run("s3 signed header changed", func(t *testing.T) {
		tr := &tamper{change: func(r *http.Request) { r.Header.Set("X-Amz-Meta-Owner", "mallory") }}
		c := s3.NewFromConfig(withTransport(sb.Config(root), tr), func(o *s3.Options) { o.UsePathStyle = true })
		_, err := c.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String("tamper-bucket"), Key: aws.String("k"), Body: strings.NewReader("x"),
			Metadata: map[string]string{"owner": "alice"},
		})
		requireCode(t, err, "SignatureDoesNotMatch")
		requireStatus(t, err, http.StatusForbidden)
		_, err = sb.S3(root).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("tamper-bucket"), Key: aws.String("k")})
		requireCode(t, err, "NotFound")
	})

	t.Run("s3 path changed", func(t *testing.T) {
		tr := &tamper{change: func(r *http.Request) {
			r.URL.RawPath = ""
			r.URL.Path = strings.Replace(r.URL.Path, "/k", "/other", 1)
		}}
		c := s3.NewFromConfig(withTransport(sb.Config(root), tr), func(o *s3.Options) { o.UsePathStyle = true })
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tamper-bucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
		requireCode(t, err, "SignatureDoesNotMatch")
	})

	t.Run("unsigned header added", func(t *testing.T) {
		tr := &tamper{change: func(r *http.Request) { r.Header.Set("X-Forwarded-For", "10.0.0.1") }}
		c := s3.NewFromConfig(withTransport(sb.Config(root), tr), func(o *s3.Options) { o.UsePathStyle = true })
		_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("tamper-bucket")})
		require.NoError(t, err, "headers added after signing are not part of the signature")
	})

	t.Run("s3 body changed, content sha256 kept", func(t *testing.T) {
		var sent string
		tr := &tamper{change: func(r *http.Request) {
			sent = r.Header.Get("X-Amz-Content-Sha256")
			b, err := io.ReadAll(r.Body)
			require.NoError(t, err)
			b[0] ^= 0xff
			r.Body = io.NopCloser(bytes.NewReader(b))
		}}
		c := s3.NewFromConfig(withTransport(sb.Config(root), tr), func(o *s3.Options) { o.UsePathStyle = true })
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tamper-bucket"), Key: aws.String("body"), Body: strings.NewReader("the signed body")})
		require.Len(t, sent, 64, "the SDK signed a hex payload digest: %q", sent)
		requireCode(t, err, "XAmzContentSHA256Mismatch")
		requireStatus(t, err, http.StatusBadRequest)
		assert.Contains(t, tr.last(), "<ClientComputedContentSHA256>"+sent+"</ClientComputedContentSHA256>")
		assert.Contains(t, tr.last(), "<S3ComputedContentSHA256>")
		_, err = sb.S3(root).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("tamper-bucket"), Key: aws.String("body")})
		requireCode(t, err, "NotFound")

		// The same body unchanged is stored.
		c = s3.NewFromConfig(withTransport(sb.Config(root), &tamper{}), func(o *s3.Options) { o.UsePathStyle = true })
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tamper-bucket"), Key: aws.String("body"), Body: strings.NewReader("the signed body")})
		require.NoError(t, err)
	})

	t.Run("sts body changed", func(t *testing.T) {
		tr := &tamper{change: func(r *http.Request) {
			b, err := io.ReadAll(r.Body)
			require.NoError(t, err)
			b = bytes.Replace(b, []byte("RoleSessionName=a"), []byte("RoleSessionName=b"), 1)
			r.Body = io.NopCloser(bytes.NewReader(b))
		}}
		_, err := sts.NewFromConfig(withTransport(sb.Config(root), tr)).AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::111111111111:role/none"), RoleSessionName: aws.String("a"),
		})
		requireCode(t, err, "SignatureDoesNotMatch")
	})

	t.Run("datasync signed header changed", func(t *testing.T) {
		tr := &tamper{change: func(r *http.Request) { r.Header.Set("X-Amz-Target", "FmrsService.ListAgents") }}
		_, err := datasync.NewFromConfig(withTransport(sb.Config(root), tr)).ListTasks(ctx, &datasync.ListTasksInput{})
		requireCode(t, err, "InvalidSignatureException")
		requireStatus(t, err, http.StatusForbidden)
	})
}

func TestSigningTimeChecked(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	require.NoError(t, sb.CreateBucket(ctx, root, "time-bucket"))
	creds := aws.Credentials{AccessKeyID: root.AccessKeyID, SecretAccessKey: root.SecretAccessKey}
	empty := sha256.Sum256(nil)

	signed := func(service string, at time.Time) rawResponse {
		url := sb.URL + "/time-bucket"
		var body []byte
		if service == "sts" {
			url = sb.URL + "/"
			body = []byte("Action=GetCallerIdentity&Version=2011-06-15")
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		require.NoError(t, err)
		if service == "s3" {
			req.Method = http.MethodGet
			req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(empty[:]))
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		sum := sha256.Sum256(body)
		err = v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" }).
			SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), service, sandbox.Region, at)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return rawResponse{resp.StatusCode, string(b)}
	}

	now := time.Now()
	assert.Equal(t, http.StatusOK, signed("s3", now.Add(-10*time.Minute)).status, "within 15 minutes")
	assert.Equal(t, http.StatusOK, signed("sts", now.Add(10*time.Minute)).status, "within 15 minutes")
	r := signed("s3", now.Add(-20*time.Minute))
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Contains(t, r.body, "<Code>RequestTimeTooSkewed</Code>")
	r = signed("sts", now.Add(20*time.Minute))
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Contains(t, r.body, "<Code>SignatureDoesNotMatch</Code>")
	assert.Contains(t, r.body, "Signature expired")

	// A presigned URL past its expiry is refused.
	ps, err := s3.NewPresignClient(sb.S3(root)).PresignGetObject(ctx,
		&s3.GetObjectInput{Bucket: aws.String("time-bucket"), Key: aws.String("k")},
		func(o *s3.PresignOptions) {
			o.Expires = time.Second
			o.Presigner = presignAt{v4.NewSigner(), now.Add(-time.Minute)}
		})
	require.NoError(t, err)
	r = rawDo(t, ps.Method, ps.URL, ps.SignedHeader, nil)
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Contains(t, r.body, "<Code>AccessDenied</Code>")
	assert.Contains(t, r.body, "Request has expired")
}

// presignAt presigns as of a fixed time.
type presignAt struct {
	s  *v4.Signer
	at time.Time
}

func (p presignAt) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return p.s.PresignHTTP(ctx, creds, r, payloadHash, service, region, p.at, optFns...)
}

// A body sent in signed aws-chunked encoding is verified by its seed
// signature, the one in the Authorization header, whose payload hash is
// the literal STREAMING-AWS4-HMAC-SHA256-PAYLOAD.
func TestStreamingSeedSignature(t *testing.T) {
	sb := start(t)
	ctx := t.Context()
	root := sb.Root(sandbox.AccountA)
	require.NoError(t, sb.CreateBucket(ctx, root, "chunk-bucket"))
	const streaming = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"

	put := func(secret string) rawResponse {
		data := []byte("hello, chunked world")
		at := time.Now().UTC()
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, sb.URL+"/chunk-bucket/chunked%20k%C3%BC", nil)
		require.NoError(t, err)
		req.Header.Set("X-Amz-Content-Sha256", streaming)
		req.Header.Set("Content-Encoding", "aws-chunked")
		req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(data)))
		creds := aws.Credentials{AccessKeyID: root.AccessKeyID, SecretAccessKey: secret}
		// The encoded length is signed, so it is set before signing:
		// two chunks of one signature each.
		encoded := func(seed string) []byte {
			scope := at.Format("20060102") + "/" + sandbox.Region + "/s3/aws4_request"
			key := []byte("AWS4" + secret)
			for _, part := range []string{at.Format("20060102"), sandbox.Region, "s3", "aws4_request"} {
				key = hmacSum(key, part)
			}
			empty := sha256.Sum256(nil)
			prev := seed
			var b bytes.Buffer
			for _, chunk := range [][]byte{data, nil} {
				sum := sha256.Sum256(chunk)
				sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + at.Format("20060102T150405Z") + "\n" + scope + "\n" + prev + "\n" + hex.EncodeToString(empty[:]) + "\n" + hex.EncodeToString(sum[:])
				prev = hex.EncodeToString(hmacSum(key, sts))
				fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n%s\r\n", len(chunk), prev, chunk)
			}
			return b.Bytes()
		}
		req.ContentLength = int64(len(encoded(strings.Repeat("0", 64))))
		require.NoError(t, v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).
			SignHTTP(ctx, creds, req, streaming, "s3", sandbox.Region, at))
		_, seed, _ := strings.Cut(req.Header.Get("Authorization"), "Signature=")
		body := encoded(seed)
		req.Body = io.NopCloser(bytes.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return rawResponse{resp.StatusCode, string(b)}
	}

	r := put(strings.Repeat("x", 40))
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Contains(t, r.body, "<Code>SignatureDoesNotMatch</Code>")
	r = put(root.SecretAccessKey)
	require.Equal(t, http.StatusOK, r.status, r.body)
	got, err := sb.S3(root).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("chunk-bucket"), Key: aws.String("chunked kü")})
	require.NoError(t, err)
	b, err := io.ReadAll(got.Body)
	require.NoError(t, err)
	assert.Equal(t, "hello, chunked world", string(b))
}

func hmacSum(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// FuzzAuthorizationHeader feeds the front forged Authorization headers
// and dates for a real key id: each must be refused with a 4xx, never
// served, never a panic or a 5xx, and the secret never echoed. "{AKID}"
// in the header stands for the key id.
func FuzzAuthorizationHeader(f *testing.F) {
	today := time.Now().UTC().Format("20060102T150405Z")
	f.Add("AWS4-HMAC-SHA256 Credential={AKID}/"+today[:8]+"/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", today, "s3")
	f.Add("AWS4-HMAC-SHA256 Credential={AKID}/"+today[:8]+"/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=", today, "sts")
	f.Add("AWS4-HMAC-SHA256 Credential={AKID}/x/y/datasync/aws4_request,SignedHeaders=;;,Signature=zz", "2026", "datasync")
	f.Add("AWS4-HMAC-SHA256 Credential={AKID}/"+today[:8]+"/us-east-1/s3/aws4_request, SignedHeaders=HOST, Signature=0", today+"x", "s3")
	f.Add("AWS {AKID}:c2lnbmF0dXJl", "", "s3")
	sb, err := sandbox.Start()
	require.NoError(f, err)
	f.Cleanup(sb.Close)
	root := sb.Root(sandbox.AccountA)
	f.Fuzz(func(t *testing.T, auth, date, target string) {
		req, err := http.NewRequest(http.MethodPost, sb.URL+"/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
		if err != nil {
			t.Skip()
		}
		if target == "s3" {
			req, _ = http.NewRequest(http.MethodGet, sb.URL+"/fuzz-bucket", nil)
			req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		}
		req.Header.Set("Authorization", strings.ReplaceAll(auth, "{AKID}", root.AccessKeyID))
		req.Header.Set("X-Amz-Date", date)
		req.Header.Set("X-Amz-Target", "FmrsService.ListTasks")
		req.RequestURI = req.URL.RequestURI()
		req.Host = req.URL.Host
		rec := httptest.NewRecorder()
		sb.ServeHTTP(rec, req)
		assert.True(t, rec.Code >= 400 && rec.Code < 500, "status %d for %q: %s", rec.Code, auth, rec.Body)
		assert.NotContains(t, rec.Body.String(), root.SecretAccessKey)
	})
}
