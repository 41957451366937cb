package sandbox

import (
	"bytes"
	"crypto/md5"
	"encoding/json"
	"hash"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Internal request headers the front adds before a write reaches
// gofakes3, which stores every X-Amz-* header as metadata. Clients cannot
// send them: the front removes any X-Amz-Sandbox-* header it receives.
const (
	hdrInternal = "X-Amz-Sandbox-"
	// hdrWrite carries the writeInfo of a PutObject or
	// CreateMultipartUpload as JSON.
	hdrWrite = "X-Amz-Sandbox-Write"
	// hdrETag and hdrParts reach the response writer of a GET or HEAD
	// through the object's metadata.
	hdrETag  = "X-Amz-Sandbox-Etag"
	hdrParts = "X-Amz-Sandbox-Parts"
	// metaKey is the single metadata entry the backend stores: s3mem
	// merges an overwritten object's metadata into the new one, so the
	// real metadata is kept in one value that every write replaces.
	metaKey = "X-Sandbox-Object"
)

// objectInfo is what the sandbox knows of a stored object version beyond
// its bytes.
type objectInfo struct {
	// Meta holds the headers a GET or HEAD returns: Content-Type,
	// Last-Modified, X-Amz-Meta-*, SSE, storage class, checksums.
	Meta map[string]string `json:"m,omitempty"`
	// Owner is the owning account as written; ownership controls in force
	// when the object is read may override it (see effectiveOwner).
	Owner  string  `json:"o,omitempty"`
	Grants []grant `json:"g,omitempty"`
	// ETag is md5-of-part-md5s-N for a completed multipart upload, "" for
	// a plain write (the MD5 of the bytes).
	ETag  string  `json:"e,omitempty"`
	Parts []int64 `json:"p,omitempty"`
}

// writeInfo is what the front tells the backend about a write.
type writeInfo struct {
	Owner  string  `json:"o"`
	Grants []grant `json:"g,omitempty"`
	// Upload names the multipart upload whose completion this write is.
	Upload string `json:"u,omitempty"`
	// Headers are the request's persisted headers gofakes3 does not
	// collect itself (Content-Language, Cache-Control, Expires).
	Headers map[string]string `json:"h,omitempty"`
}

// multipartResult is the ETag, part sizes and checksum of a completing
// upload.
type multipartResult struct {
	etag  string
	parts []int64
	// algorithm is the upload's checksum algorithm, "" for none. A
	// composite checksum is known from the parts; a full-object one is
	// computed from the assembled bytes and must equal expected, the
	// value the client gave, if any.
	algorithm  string
	composite  string
	fullObject bool
	expected   string
}

// persisted reports whether a request header becomes object metadata
// returned on GET and HEAD.
func persisted(h string) bool {
	switch h {
	case "Content-Type", "Content-Disposition", "Content-Encoding", "Content-Language", "Cache-Control", "Expires",
		"Last-Modified", "X-Amz-Storage-Class", "X-Amz-Website-Redirect-Location",
		"X-Amz-Object-Lock-Mode", "X-Amz-Object-Lock-Retain-Until-Date", "X-Amz-Object-Lock-Legal-Hold":
		return true
	}
	return strings.HasPrefix(h, "X-Amz-Meta-") || strings.HasPrefix(h, "X-Amz-Server-Side-Encryption") ||
		checksumHeader(h)
}

// checksumHeader reports whether h carries a full-object checksum value.
func checksumHeader(h string) bool {
	switch h {
	case "X-Amz-Checksum-Crc32", "X-Amz-Checksum-Crc32c", "X-Amz-Checksum-Crc64nvme", "X-Amz-Checksum-Sha1", "X-Amz-Checksum-Sha256":
		return true
	}
	return false
}

type versionRef struct{ bucket, key, version string }

type listEntry struct {
	md5   string // the plain ETag gofakes3 lists, to detect a stale entry
	etag  string
	owner string
	class string
}

// backend wraps s3mem so that each object version carries an objectInfo,
// multipart objects keep AWS's ETag and part sizes, and listings show
// owners, storage classes and multipart ETags.
type backend struct {
	*s3mem.Backend
	sb *Sandbox

	mu sync.Mutex
	// versionsMu makes the steps of a version delete one change.
	versionsMu sync.Mutex
	// acls holds ACLs set by PutObjectAcl, by s3mem's internal version id
	// (unique per write even in unversioned buckets).
	acls    map[versionRef][]grant
	pending map[string]multipartResult // upload id -> result, during completion
	// listing caches the current version's listing fields so a listing
	// reads no object; entries are checked against the listed MD5.
	listing map[objectRef]listEntry
}

var (
	_ gofakes3.Backend          = (*backend)(nil)
	_ gofakes3.VersionedBackend = (*backend)(nil)
)

func newBackend(sb *Sandbox) *backend {
	return &backend{
		Backend: s3mem.New(),
		sb:      sb,
		acls:    make(map[versionRef][]grant),
		pending: make(map[string]multipartResult),
		listing: make(map[objectRef]listEntry),
	}
}

func encodeInfo(info *objectInfo) map[string]string {
	b, _ := json.Marshal(info)
	return map[string]string{metaKey: string(b)}
}

// PutObject stores the object with the metadata gofakes3 collected from the
// request headers, turned into an objectInfo.
func (b *backend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, cond *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	info := &objectInfo{Meta: make(map[string]string)}
	for k, v := range meta {
		if persisted(k) {
			info.Meta[k] = v
		}
	}
	var w writeInfo
	if raw := meta[hdrWrite]; raw != "" {
		_ = json.Unmarshal([]byte(raw), &w)
	}
	info.Owner, info.Grants = w.Owner, w.Grants
	for k, v := range w.Headers {
		if persisted(k) {
			info.Meta[k] = v
		}
	}
	if w.Upload != "" {
		b.mu.Lock()
		mp, ok := b.pending[w.Upload]
		delete(b.pending, w.Upload)
		b.mu.Unlock()
		if ok {
			info.ETag, info.Parts = mp.etag, mp.parts
			maps.DeleteFunc(info.Meta, func(k, _ string) bool { return checksumHeader(k) })
			switch {
			case mp.composite != "":
				info.Meta[checksumHeaderOf(mp.algorithm)] = mp.composite
				info.Meta[hdrChecksumType] = checksumComposite
			case mp.fullObject:
				body, err := io.ReadAll(input)
				if err != nil {
					return gofakes3.PutObjectResult{}, err
				}
				v := encodeChecksum(checksumOf(mp.algorithm, body))
				if mp.expected != "" && mp.expected != v {
					return gofakes3.PutObjectResult{}, gofakes3.ErrBadDigest
				}
				info.Meta[checksumHeaderOf(mp.algorithm)] = v
				info.Meta[hdrChecksumType] = checksumFullObject
				input = bytes.NewReader(body)
			}
		}
	}
	return b.put(bucket, key, info, input, size, cond)
}

func (b *backend) put(bucket, key string, info *objectInfo, input io.Reader, size int64, cond *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	if !slices.ContainsFunc(slices.Collect(maps.Keys(info.Meta)), checksumHeader) {
		// S3 gives every object written without a checksum a full-object
		// CRC64NVME.
		body, err := io.ReadAll(input)
		if err != nil {
			return gofakes3.PutObjectResult{}, err
		}
		info.Meta[checksumHeaderOf("CRC64NVME")] = encodeChecksum(checksumOf("CRC64NVME", body))
		input = bytes.NewReader(body)
	}
	if info.Meta[hdrChecksumType] == "" {
		info.Meta[hdrChecksumType] = checksumFullObject
	}
	// Hash while storing, so the listing cache needs no read back.
	h := newMD5Reader(input)
	res, err := b.Backend.PutObject(bucket, key, encodeInfo(info), h, size, cond)
	if err != nil {
		return res, err
	}
	sum := gofakes3.FormatETag(h.Sum())
	e := listEntry{md5: sum, etag: sum, owner: info.Owner, class: info.Meta["X-Amz-Storage-Class"]}
	if info.ETag != "" {
		e.etag = info.ETag
	}
	b.mu.Lock()
	b.listing[objectRef{bucket, key}] = e
	b.mu.Unlock()
	return res, nil
}

// CopyObject is not reached through gofakes3 (the front serves
// CopyObject), but is kept correct for completeness.
func (b *backend) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	return gofakes3.CopyObject(b, srcBucket, srcKey, dstBucket, dstKey, meta)
}

// decode replaces obj.Metadata with the object's visible headers plus the
// internal ones the front's response writer consumes, and returns the
// objectInfo.
func (b *backend) decode(bucket, key string, obj *gofakes3.Object) *objectInfo {
	info := &objectInfo{}
	if raw, ok := obj.Metadata[metaKey]; ok {
		_ = json.Unmarshal([]byte(raw), info)
	} else {
		info.Meta = obj.Metadata
	}
	b.mu.Lock()
	if g, ok := b.acls[versionRef{bucket, key, string(obj.VersionID)}]; ok {
		info.Grants = g
	}
	b.mu.Unlock()
	meta := make(map[string]string, len(info.Meta)+2)
	maps.Copy(meta, info.Meta)
	if info.ETag != "" {
		meta[hdrETag] = info.ETag
		meta[hdrParts] = strconv.Itoa(len(info.Parts))
	}
	obj.Metadata = meta
	return info
}

// GetObject reads the current version.
func (b *backend) GetObject(bucket, key string, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	obj, err := b.Backend.GetObject(bucket, key, rng)
	if err == nil {
		b.decode(bucket, key, obj)
	}
	return obj, err
}

// HeadObject reads the current version's metadata.
func (b *backend) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	obj, err := b.Backend.HeadObject(bucket, key)
	if err == nil {
		b.decode(bucket, key, obj)
	}
	return obj, err
}

// GetObjectVersion reads one version ("" for the current one).
func (b *backend) GetObjectVersion(bucket, key string, v gofakes3.VersionID, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	obj, err := b.Backend.GetObjectVersion(bucket, key, v, rng)
	if err == nil {
		b.decode(bucket, key, obj)
	}
	return obj, err
}

// HeadObjectVersion reads one version's metadata.
func (b *backend) HeadObjectVersion(bucket, key string, v gofakes3.VersionID) (*gofakes3.Object, error) {
	obj, err := b.Backend.HeadObjectVersion(bucket, key, v)
	if err == nil {
		b.decode(bucket, key, obj)
	}
	return obj, err
}

// info returns an object version's metadata and objectInfo; version ""
// means the current version.
func (b *backend) info(bucket, key, version string) (*gofakes3.Object, *objectInfo, error) {
	obj, err := b.Backend.HeadObjectVersion(bucket, key, gofakes3.VersionID(version))
	if err != nil {
		return nil, nil, err
	}
	if obj.IsDeleteMarker {
		return nil, nil, gofakes3.KeyNotFound(key)
	}
	return obj, b.decode(bucket, key, obj), nil
}

// setACL replaces the ACL of the version obj (as returned by info).
func (b *backend) setACL(bucket, key string, obj *gofakes3.Object, grants []grant) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.acls[versionRef{bucket, key, string(obj.VersionID)}] = grants
}

// ListBucket lists with AWS's ETags, owners and storage classes.
func (b *backend) ListBucket(bucket string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	list, err := b.Backend.ListBucket(bucket, prefix, page)
	if err != nil {
		return list, err
	}
	for _, c := range list.Contents {
		b.mu.Lock()
		e, ok := b.listing[objectRef{bucket, c.Key}]
		b.mu.Unlock()
		if !ok || e.md5 != c.ETag {
			_, info, err := b.info(bucket, c.Key, "")
			if err != nil {
				continue
			}
			e = listEntry{md5: c.ETag, etag: c.ETag, owner: info.Owner, class: info.Meta["X-Amz-Storage-Class"]}
			if info.ETag != "" {
				e.etag = info.ETag
			}
		}
		c.ETag = e.etag
		c.StorageClass = storageClass(e.class)
		c.Owner = b.sb.ownerInfo(bucket, e.owner)
	}
	return list, nil
}

// ListBucketVersions lists versions with AWS's ETags and owners.
func (b *backend) ListBucketVersions(bucket string, prefix *gofakes3.Prefix, page *gofakes3.ListBucketVersionsPage) (*gofakes3.ListBucketVersionsResult, error) {
	res, err := b.Backend.ListBucketVersions(bucket, prefix, page)
	if err != nil {
		return res, err
	}
	for _, item := range res.Versions {
		v, ok := item.(*gofakes3.Version)
		if !ok {
			continue
		}
		_, info, err := b.info(bucket, v.Key, string(v.VersionID))
		if err != nil {
			continue
		}
		if info.ETag != "" {
			v.ETag = info.ETag
		}
		v.StorageClass = storageClass(info.Meta["X-Amz-Storage-Class"])
		v.Owner = b.sb.ownerInfo(bucket, info.Owner)
	}
	return res, nil
}

func storageClass(s string) gofakes3.StorageClass {
	if s == "" {
		return gofakes3.StorageStandard
	}
	return gofakes3.StorageClass(s)
}

// forget drops cached listing entries of deleted objects.
func (b *backend) forget(bucket string, keys ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range keys {
		delete(b.listing, objectRef{bucket, k})
	}
}

// forgetBucket drops everything cached for a deleted bucket.
func (b *backend) forgetBucket(bucket string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ref := range b.listing {
		if ref.bucket == bucket {
			delete(b.listing, ref)
		}
	}
	for ref := range b.acls {
		if ref.bucket == bucket {
			delete(b.acls, ref)
		}
	}
}

// DeleteObject deletes the current version.
func (b *backend) DeleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	b.forget(bucket, key)
	return b.Backend.DeleteObject(bucket, key)
}

// DeleteMulti deletes current versions.
func (b *backend) DeleteMulti(bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	b.forget(bucket, keys...)
	return b.Backend.DeleteMulti(bucket, keys...)
}

// readAll reads an object's body and closes it.
func readAll(obj *gofakes3.Object) ([]byte, error) {
	defer obj.Contents.Close()
	var buf bytes.Buffer
	if obj.Size > 0 {
		buf.Grow(int(obj.Size))
	}
	_, err := io.Copy(&buf, obj.Contents)
	return buf.Bytes(), err
}

// contentHeaders are the request headers CopyObject with REPLACE takes as
// the new object's metadata.
func contentHeaders(h http.Header) map[string]string {
	out := make(map[string]string)
	for k, v := range h {
		if len(v) > 0 && persisted(k) && !checksumHeader(k) && k != "Last-Modified" {
			out[k] = v[0]
		}
	}
	return out
}

// DeleteObjectVersion deletes one version. s3mem leaves a key whose
// current version is deleted with no current version at all (and then
// fails on the next read or listing of it), so when the current version
// goes and older ones remain, the newest of those is made current again,
// as S3 does. It comes back under a new version id: s3mem cannot promote
// a version in place.
func (b *backend) DeleteObjectVersion(bucket, key string, v gofakes3.VersionID) (gofakes3.ObjectDeleteResult, error) {
	b.forget(bucket, key)
	b.versionsMu.Lock()
	defer b.versionsMu.Unlock()
	latest, next, err := b.latestVersions(bucket, key)
	if err != nil || latest == nil || latest.GetVersionID() != v || next == nil {
		return b.Backend.DeleteObjectVersion(bucket, key, v)
	}
	var restore *gofakes3.Object
	if _, marker := next.(*gofakes3.DeleteMarker); !marker {
		if restore, err = b.Backend.GetObjectVersion(bucket, key, next.GetVersionID(), nil); err != nil {
			return gofakes3.ObjectDeleteResult{}, err
		}
		defer restore.Contents.Close()
	}
	// The version to restore is written first, so the key always has a
	// current version (s3mem reads it while writing); then the deleted
	// version and the restored one's old copy go.
	var newID gofakes3.VersionID
	if restore == nil {
		// A delete in a versioned bucket sets a new delete marker.
		r, err := b.Backend.DeleteObject(bucket, key)
		if err != nil {
			return gofakes3.ObjectDeleteResult{}, err
		}
		newID = r.VersionID
	} else {
		r, err := b.Backend.PutObject(bucket, key, restore.Metadata, restore.Contents, restore.Size, nil)
		if err != nil {
			return gofakes3.ObjectDeleteResult{}, err
		}
		newID = r.VersionID
	}
	b.mu.Lock()
	if g, ok := b.acls[versionRef{bucket, key, string(next.GetVersionID())}]; ok {
		b.acls[versionRef{bucket, key, string(newID)}] = g
	}
	b.mu.Unlock()
	res, err := b.Backend.DeleteObjectVersion(bucket, key, v)
	if err != nil {
		return res, err
	}
	if _, err := b.Backend.DeleteObjectVersion(bucket, key, next.GetVersionID()); err != nil {
		return res, err
	}
	return res, nil
}

// latestVersions returns the current version of key (nil when the key
// has none) and the newest of the others (nil when there is none).
func (b *backend) latestVersions(bucket, key string) (latest, next gofakes3.VersionItem, err error) {
	page := &gofakes3.ListBucketVersionsPage{}
	prefix := &gofakes3.Prefix{Prefix: key, HasPrefix: true}
	var newest time.Time
	for {
		res, err := b.Backend.ListBucketVersions(bucket, prefix, page)
		if err != nil {
			return nil, nil, err
		}
		for _, item := range res.Versions {
			var isLatest bool
			var name string
			var modified time.Time
			switch it := item.(type) {
			case *gofakes3.Version:
				isLatest, name, modified = it.IsLatest, it.Key, it.LastModified.Time
			case *gofakes3.DeleteMarker:
				isLatest, name, modified = it.IsLatest, it.Key, it.LastModified.Time
			}
			switch {
			case name != key:
			case isLatest:
				latest = item
			case next == nil || !modified.Before(newest):
				next, newest = item, modified
			}
		}
		if !res.IsTruncated {
			return latest, next, nil
		}
		page.KeyMarker, page.VersionIDMarker = res.NextKeyMarker, res.NextVersionIDMarker
	}
}

// DeleteMultiVersions deletes versions, one at a time so that each gets
// DeleteObjectVersion's handling of the current version.
func (b *backend) DeleteMultiVersions(bucket string, objects ...gofakes3.ObjectID) (gofakes3.MultiDeleteResult, error) {
	var out gofakes3.MultiDeleteResult
	for _, o := range objects {
		if o.VersionID == "" {
			r, err := b.DeleteMulti(bucket, o.Key)
			if err != nil {
				return out, err
			}
			out.Deleted = append(out.Deleted, r.Deleted...)
			out.Error = append(out.Error, r.Error...)
			continue
		}
		if _, err := b.DeleteObjectVersion(bucket, o.Key, gofakes3.VersionID(o.VersionID)); err != nil {
			out.Error = append(out.Error, gofakes3.ErrorResultFromError(err))
			continue
		}
		out.Deleted = append(out.Deleted, o)
	}
	return out, nil
}

type md5Reader struct {
	r io.Reader
	h hash.Hash
}

func newMD5Reader(r io.Reader) *md5Reader { return &md5Reader{r: r, h: md5.New()} }

func (m *md5Reader) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	m.h.Write(p[:n])
	return n, err
}

func (m *md5Reader) Sum() []byte { return m.h.Sum(nil) }
