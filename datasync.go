package xacct

import (
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/datasync/types"
)

// Defaults of a DataSyncSpec and a DataSyncPlanner.
const (
	// DefaultDataSyncRoleName is the name of the role DataSync assumes
	// when DataSyncSpec.RoleName is empty.
	DefaultDataSyncRoleName = "xacct-datasync"
	// DefaultDataSyncPollInterval is the first wait between two
	// DescribeTaskExecution calls of Run; later waits double up to
	// DefaultDataSyncMaxPollInterval.
	DefaultDataSyncPollInterval = 5 * time.Second
	// DefaultDataSyncMaxPollInterval caps the wait between two polls.
	DefaultDataSyncMaxPollInterval = time.Minute
	// MaxDataSyncFilterLength is the longest filter DataSync accepts:
	// the include (or exclude) patterns joined with "|", in characters.
	MaxDataSyncFilterLength = 102400
	// MaxDataSyncSubdirectoryLength is the longest S3 location
	// subdirectory DataSync accepts, in characters.
	MaxDataSyncSubdirectoryLength = 4096
)

// Tags xacct puts on the locations and the task it creates, so that
// Apply finds them again instead of creating copies.
const (
	// DataSyncTagTask holds the task name on every resource of a plan.
	DataSyncTagTask = "xacct:datasync-task"
	// DataSyncTagRole holds "source" or "destination" on a location.
	DataSyncTagRole = "xacct:location"
)

// DataSyncEndpoint is one side of a DataSync transfer: an S3 bucket, the
// account that owns it and its region, and the subdirectory (key prefix)
// DataSync reads or writes.
type DataSyncEndpoint struct {
	// Bucket is the bucket name.
	Bucket string `json:"bucket"`
	// Account is the 12-digit ID of the account that owns the bucket.
	Account string `json:"account"`
	// Region is the bucket's region, such as "eu-west-1".
	Region string `json:"region"`
	// Subdirectory is the prefix DataSync works under, such as
	// "exports/2024"; "" is the whole bucket. It must not start with "/".
	Subdirectory string `json:"subdirectory,omitempty"`
}

// LocationURI returns the location as DataSync lists it:
// s3://bucket/subdirectory/.
func (e DataSyncEndpoint) LocationURI() string {
	sub := strings.Trim(e.Subdirectory, "/")
	if sub == "" {
		return "s3://" + e.Bucket + "/"
	}
	return "s3://" + e.Bucket + "/" + sub + "/"
}

// DataSyncSpec describes a DataSync transfer from a bucket in one account
// to a bucket in another, set up the way AWS documents it: the role
// DataSync assumes, both locations and the task live in the source
// account; the destination account admits that role in its bucket policy
// and enforces bucket-owner object ownership.
//
// The task settings use the DataSync API's own types, so every value the
// API documents can be given; an empty value means the API's default.
type DataSyncSpec struct {
	// Source is read; Destination is written.
	Source      DataSyncEndpoint `json:"source"`
	Destination DataSyncEndpoint `json:"destination"`
	// Region is where the locations and the task are created. Default:
	// Source.Region.
	Region string `json:"region,omitempty"`
	// RoleName is the IAM role in the source account that DataSync
	// assumes to read and write both buckets. Default:
	// DefaultDataSyncRoleName.
	RoleName string `json:"roleName,omitempty"`
	// TaskName names the task, and tags every resource Apply creates so
	// that a second Apply finds them. Default: "xacct-" followed by the
	// two bucket names.
	TaskName string `json:"taskName,omitempty"`
	// Operator is the ARN of the principal in the source account that
	// runs Apply. It calls CreateLocationS3 for the destination, which
	// DataSync allows only when the caller itself may list the
	// destination bucket, so the destination bucket policy names it.
	// Default: the source account's root.
	Operator string `json:"operator,omitempty"`
	// Options are the task settings: VerifyMode, OverwriteMode,
	// PreserveDeletedFiles, TransferMode, TaskQueueing, LogLevel,
	// BytesPerSecond, ObjectTags, Atime, Mtime…
	Options types.Options `json:"options"`
	// Includes and Excludes are DataSync filter patterns, such as
	// "/photos" or "*.tmp", relative to the source subdirectory. In an
	// include pattern "*" may only be the last character.
	Includes []string `json:"includes,omitempty"`
	Excludes []string `json:"excludes,omitempty"`
	// Schedule is a cron(…) or rate(…) expression; the task may run at
	// most once an hour. Empty: runs only when started.
	Schedule string `json:"schedule,omitempty"`
	// TaskMode is BASIC (the default) or ENHANCED. It cannot change once
	// the task exists.
	TaskMode types.TaskMode `json:"taskMode,omitempty"`
	// Manifest, when set, lists the objects to transfer. A missing
	// BucketAccessRoleArn is filled with the planned role, which is then
	// granted read access to the manifest object.
	Manifest *types.ManifestConfig `json:"manifest,omitempty"`
	// TaskReport, when set, is where DataSync writes its task report. A
	// missing BucketAccessRoleArn is filled with the planned role, which
	// is then granted write access to the report prefix.
	TaskReport *types.TaskReportConfig `json:"taskReport,omitempty"`
	// StorageClass is the storage class of objects DataSync writes to the
	// destination. Default: STANDARD.
	StorageClass types.S3StorageClass `json:"storageClass,omitempty"`
	// CloudWatchLogGroupARN is where a BASIC task logs when LogLevel is
	// not OFF.
	CloudWatchLogGroupARN string `json:"cloudWatchLogGroupArn,omitempty"`
	// DestinationKMSKeyARN is the KMS key (in the destination account)
	// that encrypts the destination bucket by default, if any. The role
	// is then granted its use and the plan carries the key-policy
	// statement the key's owners must add.
	DestinationKMSKeyARN string `json:"destinationKmsKeyArn,omitempty"`
	// Tags are added to the locations and the task.
	Tags map[string]string `json:"tags,omitempty"`
}

// withDefaults returns the spec with empty optional fields filled in.
func (s DataSyncSpec) withDefaults() DataSyncSpec {
	if s.Region == "" {
		s.Region = s.Source.Region
	}
	if s.RoleName == "" {
		s.RoleName = DefaultDataSyncRoleName
	}
	if s.TaskName == "" {
		s.TaskName = "xacct-" + s.Source.Bucket + "-to-" + s.Destination.Bucket
	}
	if s.Operator == "" && isAccountID(s.Source.Account) {
		s.Operator = AccountRootARN(s.Source.Account)
	}
	if s.TaskMode == "" {
		s.TaskMode = types.TaskModeBasic
	}
	s.Tags = maps.Clone(s.Tags)
	return s
}

// RoleARN returns the ARN of the role DataSync assumes.
func (s DataSyncSpec) RoleARN() string {
	d := s.withDefaults()
	return "arn:aws:iam::" + d.Source.Account + ":role/" + d.RoleName
}

// effectiveVerifyMode is the verify mode DataSync uses: the one given,
// or the mode's default (POINT_IN_TIME_CONSISTENT for BASIC tasks,
// ONLY_FILES_TRANSFERRED for ENHANCED ones).
func (s DataSyncSpec) effectiveVerifyMode() types.VerifyMode {
	if s.Options.VerifyMode != "" {
		return s.Options.VerifyMode
	}
	if s.TaskMode == types.TaskModeEnhanced {
		return types.VerifyModeOnlyFilesTransferred
	}
	return types.VerifyModePointInTimeConsistent
}

var (
	regionRE       = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`)
	subdirectoryRE = regexp.MustCompile(`^[a-zA-Z0-9_\-+./()\p{Zs}]*$`)
	taskNameRE     = regexp.MustCompile(`^[a-zA-Z0-9\s+=._:@/-]{1,256}$`)
	scheduleRE     = regexp.MustCompile(`^[a-zA-Z0-9 _*?,|^\-/#\s()+]{1,256}$`)
	rateRE         = regexp.MustCompile(`^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$`)
	cronRE         = regexp.MustCompile(`^cron\(([^)]*)\)$`)
	kmsKeyARNRE    = regexp.MustCompile(`^arn:aws:kms:[a-z0-9-]+:\d{12}:(key|alias)/[a-zA-Z0-9/_-]+$`)
	logGroupARNRE  = regexp.MustCompile(`^arn:aws:logs:[a-z0-9-]+:\d{12}:log-group:[^:]+(:\*)?$`)
)

// Validate checks the spec against the rules DataSync and S3 apply before
// any call is made. It reports the first broken rule as a
// *ValidationError wrapping ErrInvalidOption, whose Field names the spec
// field, such as "Options.PreserveDeletedFiles" or "Includes[1]".
func (s DataSyncSpec) Validate() error {
	d := s.withDefaults()
	bad := func(field, value, rule string) error {
		return &ValidationError{Field: field, Value: value, Rule: rule, Err: ErrInvalidOption}
	}
	for _, side := range []struct {
		name string
		e    DataSyncEndpoint
	}{{"Source", d.Source}, {"Destination", d.Destination}} {
		if err := ValidateBucketName(side.e.Bucket); err != nil {
			return bad(side.name+".Bucket", side.e.Bucket, err.(*ValidationError).Rule)
		}
		if !isAccountID(side.e.Account) {
			return bad(side.name+".Account", side.e.Account, "must be exactly 12 digits")
		}
		if !regionRE.MatchString(side.e.Region) {
			return bad(side.name+".Region", side.e.Region, "must be a region name such as us-east-1")
		}
		if err := validateSubdirectory(side.name+".Subdirectory", side.e.Subdirectory); err != nil {
			return err
		}
	}
	if d.Source.Account == d.Destination.Account {
		return bad("Destination.Account", d.Destination.Account, "must differ from the source account; this planner sets up a cross-account transfer")
	}
	if d.Source.Bucket == d.Destination.Bucket {
		return bad("Destination.Bucket", d.Destination.Bucket, "must differ from the source bucket")
	}
	if !regionRE.MatchString(d.Region) {
		return bad("Region", d.Region, "must be a region name such as us-east-1")
	}
	if !iamNameRE.MatchString(d.RoleName) {
		return bad("RoleName", d.RoleName, "must be 1 to 64 characters of letters, digits and +=,.@_-")
	}
	if !taskNameRE.MatchString(d.TaskName) {
		return bad("TaskName", d.TaskName, "must be 1 to 256 characters of letters, digits, spaces and +=._:@/-")
	}
	if d.Operator != AccountRootARN(d.Source.Account) && !strings.HasPrefix(d.Operator, "arn:aws:iam::"+d.Source.Account+":") {
		return bad("Operator", d.Operator, "must be the ARN of a user or role in the source account "+d.Source.Account)
	}
	if err := d.validateOptions(bad); err != nil {
		return err
	}
	if err := validateFilters("Includes", d.Includes, true); err != nil {
		return err
	}
	if err := validateFilters("Excludes", d.Excludes, false); err != nil {
		return err
	}
	if d.Schedule != "" {
		if err := validateSchedule(d.Schedule); err != nil {
			return err
		}
	}
	if !slices.Contains(types.TaskModeBasic.Values(), d.TaskMode) {
		return bad("TaskMode", string(d.TaskMode), "must be BASIC or ENHANCED")
	}
	if d.StorageClass != "" && (!slices.Contains(d.StorageClass.Values(), d.StorageClass) || d.StorageClass == types.S3StorageClassOutposts) {
		return bad("StorageClass", string(d.StorageClass), "must be one of STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER, DEEP_ARCHIVE, GLACIER_INSTANT_RETRIEVAL")
	}
	if glacier := d.StorageClass == types.S3StorageClassGlacier || d.StorageClass == types.S3StorageClassDeepArchive; glacier && d.effectiveVerifyMode() == types.VerifyModePointInTimeConsistent {
		return bad("Options.VerifyMode", string(d.effectiveVerifyMode()), "POINT_IN_TIME_CONSISTENT (the BASIC default) cannot verify objects in "+string(d.StorageClass)+"; use ONLY_FILES_TRANSFERRED or NONE")
	}
	if d.CloudWatchLogGroupARN != "" && !logGroupARNRE.MatchString(d.CloudWatchLogGroupARN) {
		return bad("CloudWatchLogGroupARN", d.CloudWatchLogGroupARN, "must be a CloudWatch Logs log group ARN")
	}
	if d.TaskMode == types.TaskModeBasic && d.Options.LogLevel != "" && d.Options.LogLevel != types.LogLevelOff && d.CloudWatchLogGroupARN == "" {
		return bad("CloudWatchLogGroupARN", "", "a BASIC task with LogLevel "+string(d.Options.LogLevel)+" needs a log group")
	}
	if k := d.DestinationKMSKeyARN; k != "" && (!kmsKeyARNRE.MatchString(k) || strings.Split(k, ":")[4] != d.Destination.Account) {
		return bad("DestinationKMSKeyARN", k, "must be a KMS key ARN in the destination account "+d.Destination.Account)
	}
	if err := d.validateManifest(bad); err != nil {
		return err
	}
	if err := d.validateReport(bad); err != nil {
		return err
	}
	for k, v := range d.Tags {
		if k == "" || len(k) > 256 || len(v) > 256 || strings.HasPrefix(k, "aws:") {
			return bad("Tags", k, "keys must be 1 to 256 characters not starting with aws:, values at most 256")
		}
	}
	return nil
}

func (s DataSyncSpec) validateOptions(bad func(field, value, rule string) error) error {
	o := s.Options
	enums := []struct {
		field, value string
		valid        []string
	}{
		{"Options.VerifyMode", string(o.VerifyMode), strs(o.VerifyMode.Values())},
		{"Options.OverwriteMode", string(o.OverwriteMode), strs(o.OverwriteMode.Values())},
		{"Options.PreserveDeletedFiles", string(o.PreserveDeletedFiles), strs(o.PreserveDeletedFiles.Values())},
		{"Options.TransferMode", string(o.TransferMode), strs(o.TransferMode.Values())},
		{"Options.TaskQueueing", string(o.TaskQueueing), strs(o.TaskQueueing.Values())},
		{"Options.LogLevel", string(o.LogLevel), strs(o.LogLevel.Values())},
		{"Options.ObjectTags", string(o.ObjectTags), strs(o.ObjectTags.Values())},
		{"Options.Atime", string(o.Atime), strs(o.Atime.Values())},
		{"Options.Mtime", string(o.Mtime), strs(o.Mtime.Values())},
	}
	for _, e := range enums {
		if e.value != "" && !slices.Contains(e.valid, e.value) {
			return bad(e.field, e.value, "must be one of "+strings.Join(e.valid, ", "))
		}
	}
	if o.PreserveDeletedFiles == types.PreserveDeletedFilesRemove && o.TransferMode == types.TransferModeAll {
		return bad("Options.PreserveDeletedFiles", string(o.PreserveDeletedFiles), "REMOVE cannot be combined with TransferMode ALL, which does not compare the locations")
	}
	if o.VerifyMode == types.VerifyModePointInTimeConsistent && s.TaskMode == types.TaskModeEnhanced {
		return bad("Options.VerifyMode", string(o.VerifyMode), "POINT_IN_TIME_CONSISTENT is not supported by ENHANCED tasks; use ONLY_FILES_TRANSFERRED or NONE")
	}
	// Atime and Mtime default to BEST_EFFORT and PRESERVE; DataSync
	// needs them to agree.
	atime, mtime := o.Atime, o.Mtime
	if atime == "" {
		atime = types.AtimeBestEffort
	}
	if mtime == "" {
		mtime = types.MtimePreserve
	}
	switch {
	case atime == types.AtimeBestEffort && mtime != types.MtimePreserve:
		return bad("Options.Mtime", string(mtime), "must be PRESERVE when Atime is BEST_EFFORT (its default)")
	case atime == types.AtimeNone && mtime != types.MtimeNone:
		return bad("Options.Mtime", string(mtime), "must be NONE when Atime is NONE")
	}
	if b := o.BytesPerSecond; b != nil && *b != -1 && *b < 1 {
		return bad("Options.BytesPerSecond", strconv.FormatInt(*b, 10), "must be -1 (no limit) or a positive number of bytes per second")
	}
	return nil
}

func (s DataSyncSpec) validateManifest(bad func(field, value, rule string) error) error {
	m := s.Manifest
	if m == nil {
		return nil
	}
	if m.Source == nil || m.Source.S3 == nil || ptrString(m.Source.S3.S3BucketArn) == "" || ptrString(m.Source.S3.ManifestObjectPath) == "" {
		return bad("Manifest.Source.S3", "", "needs S3BucketArn and ManifestObjectPath")
	}
	if _, err := bucketFromARN(ptrString(m.Source.S3.S3BucketArn)); err != nil {
		return bad("Manifest.Source.S3.S3BucketArn", ptrString(m.Source.S3.S3BucketArn), err.Error())
	}
	if p := ptrString(m.Source.S3.ManifestObjectPath); strings.HasPrefix(p, "/") || len(p) > MaxKeyLength {
		return bad("Manifest.Source.S3.ManifestObjectPath", p, "must be an object key, without a leading /")
	}
	return nil
}

func (s DataSyncSpec) validateReport(bad func(field, value, rule string) error) error {
	r := s.TaskReport
	if r == nil {
		return nil
	}
	if r.Destination == nil || r.Destination.S3 == nil || ptrString(r.Destination.S3.S3BucketArn) == "" {
		return bad("TaskReport.Destination.S3.S3BucketArn", "", "is required")
	}
	if _, err := bucketFromARN(ptrString(r.Destination.S3.S3BucketArn)); err != nil {
		return bad("TaskReport.Destination.S3.S3BucketArn", ptrString(r.Destination.S3.S3BucketArn), err.Error())
	}
	return validateSubdirectory("TaskReport.Destination.S3.Subdirectory", ptrString(r.Destination.S3.Subdirectory))
}

// validateSubdirectory applies the CreateLocationS3 rules: a prefix must
// not start with "/" nor hold the //, /./ and /../ sequences, as DataSync
// cannot transfer objects under such prefixes.
func validateSubdirectory(field, sub string) error {
	bad := func(rule string) error {
		return &ValidationError{Field: field, Value: sub, Rule: rule, Err: ErrInvalidOption}
	}
	if len(sub) > MaxDataSyncSubdirectoryLength {
		return bad(fmt.Sprintf("must be at most %d characters", MaxDataSyncSubdirectoryLength))
	}
	if !subdirectoryRE.MatchString(sub) {
		return bad("may contain only letters, digits, spaces and _-+./()")
	}
	if strings.HasPrefix(sub, "/") {
		return bad(`must not start with "/" (write "exports/2024", not "/exports/2024")`)
	}
	if strings.Contains(sub, "//") {
		return bad("must not contain // (DataSync cannot transfer objects under such a prefix)")
	}
	padded := "/" + sub + "/"
	for _, seq := range []string{"/./", "/../"} {
		if strings.Contains(padded, seq) {
			return bad("must not contain " + seq + " (DataSync cannot transfer objects under such a prefix)")
		}
	}
	return nil
}

// validateFilters checks DataSync SIMPLE_PATTERN filters: no empty
// patterns, no "|" inside one (it separates patterns), no NUL, "*" only
// last in include patterns, and the joined filter within
// MaxDataSyncFilterLength.
func validateFilters(field string, patterns []string, include bool) error {
	for i, p := range patterns {
		f := fmt.Sprintf("%s[%d]", field, i)
		bad := func(rule string) error {
			return &ValidationError{Field: f, Value: p, Rule: rule, Err: ErrInvalidOption}
		}
		switch {
		case p == "":
			return bad("must not be empty")
		case strings.ContainsAny(p, "|\x00"):
			return bad("must not contain | (it separates patterns) or NUL")
		case include && strings.Contains(strings.TrimSuffix(p, "*"), "*"):
			return bad("an include pattern may have * only as its last character")
		}
	}
	if n := len(strings.Join(patterns, "|")); n > MaxDataSyncFilterLength {
		return &ValidationError{Field: field, Value: strconv.Itoa(n) + " characters", Rule: fmt.Sprintf("the patterns joined with | must be at most %d characters", MaxDataSyncFilterLength), Err: ErrInvalidOption}
	}
	return nil
}

// validateSchedule accepts rate(N unit) of at least one hour and
// six-field cron(…) expressions that fire at one fixed minute of the
// hour, which is at most hourly.
func validateSchedule(expr string) error {
	bad := func(rule string) error {
		return &ValidationError{Field: "Schedule", Value: expr, Rule: rule, Err: ErrInvalidOption}
	}
	if !scheduleRE.MatchString(expr) {
		return bad("must be a cron(…) or rate(…) expression of at most 256 characters")
	}
	if m := rateRE.FindStringSubmatch(expr); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n < 1 {
			return bad("the rate must be a positive number")
		}
		if strings.HasPrefix(m[2], "minute") && n < 60 {
			return bad("must run at most once an hour: rate(1 hour) or slower")
		}
		if (n == 1) != !strings.HasSuffix(m[2], "s") {
			return bad("use the singular unit for 1 and the plural for more, as in rate(1 hour) and rate(12 hours)")
		}
		return nil
	}
	m := cronRE.FindStringSubmatch(expr)
	if m == nil {
		return bad("must be a cron(…) or rate(…) expression")
	}
	fields := strings.Fields(m[1])
	if len(fields) != 6 {
		return bad("cron takes six fields: minutes hours day-of-month month day-of-week year")
	}
	if n, err := strconv.Atoi(fields[0]); err != nil || n < 0 || n > 59 {
		return bad("must run at most once an hour: the minutes field must be one number from 0 to 59")
	}
	return nil
}

// bucketFromARN returns the bucket of arn:aws:s3:::bucket.
func bucketFromARN(arn string) (string, error) {
	b, ok := strings.CutPrefix(arn, "arn:aws:s3:::")
	if !ok || strings.Contains(b, "/") {
		return "", fmt.Errorf("must be a bucket ARN, arn:aws:s3:::bucket")
	}
	if err := ValidateBucketName(b); err != nil {
		return "", err
	}
	return b, nil
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

func ptrString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// DataSyncPlannerOption configures NewDataSyncPlanner.
type DataSyncPlannerOption func(*dataSyncOptions)

type dataSyncOptions struct {
	logger          *slog.Logger
	pollInterval    time.Duration
	maxPollInterval time.Duration
}

// WithDataSyncLogger logs what Apply changes and how Run progresses.
// Default: no logging.
func WithDataSyncLogger(l *slog.Logger) DataSyncPlannerOption {
	return func(o *dataSyncOptions) { o.logger = l }
}

// WithDataSyncPollInterval sets the first and the longest wait between
// two DescribeTaskExecution calls of Run; the wait doubles after each
// poll that shows no change. Defaults: DefaultDataSyncPollInterval and
// DefaultDataSyncMaxPollInterval.
func WithDataSyncPollInterval(first, longest time.Duration) DataSyncPlannerOption {
	return func(o *dataSyncOptions) { o.pollInterval, o.maxPollInterval = first, longest }
}
