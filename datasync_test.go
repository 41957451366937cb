package xacct_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/datasync/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/xacct/xacct"
)

func dataSyncSpec() xacct.DataSyncSpec {
	return xacct.DataSyncSpec{
		Source:      xacct.DataSyncEndpoint{Bucket: "team-a-data", Account: "111111111111", Region: "us-east-1", Subdirectory: "exports"},
		Destination: xacct.DataSyncEndpoint{Bucket: "team-b-archive", Account: "222222222222", Region: "us-east-1", Subdirectory: "from-a"},
	}
}

func TestDataSyncSpecValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*xacct.DataSyncSpec)
		field string
	}{
		{"valid", func(*xacct.DataSyncSpec) {}, ""},
		{"leading slash subdirectory", func(s *xacct.DataSyncSpec) { s.Source.Subdirectory = "/exports/2024" }, "Source.Subdirectory"},
		{"bad source bucket", func(s *xacct.DataSyncSpec) { s.Source.Bucket = "Team_A" }, "Source.Bucket"},
		{"bad destination bucket", func(s *xacct.DataSyncSpec) { s.Destination.Bucket = "ab" }, "Destination.Bucket"},
		{"bad account", func(s *xacct.DataSyncSpec) { s.Destination.Account = "2222" }, "Destination.Account"},
		{"same account", func(s *xacct.DataSyncSpec) { s.Destination.Account = s.Source.Account }, "Destination.Account"},
		{"bad region", func(s *xacct.DataSyncSpec) { s.Source.Region = "useast1" }, "Source.Region"},
		{"double slash", func(s *xacct.DataSyncSpec) { s.Source.Subdirectory = "photos//2006" }, "Source.Subdirectory"},
		{"dot segment", func(s *xacct.DataSyncSpec) { s.Destination.Subdirectory = "photos/./2006" }, "Destination.Subdirectory"},
		{"dot-dot segment", func(s *xacct.DataSyncSpec) { s.Destination.Subdirectory = "photos/../2006" }, "Destination.Subdirectory"},
		{"subdirectory character", func(s *xacct.DataSyncSpec) { s.Source.Subdirectory = "a*b" }, "Source.Subdirectory"},
		{"subdirectory too long", func(s *xacct.DataSyncSpec) { s.Source.Subdirectory = strings.Repeat("a", 4097) }, "Source.Subdirectory"},
		{"role name", func(s *xacct.DataSyncSpec) { s.RoleName = "bad role" }, "RoleName"},
		{"task name", func(s *xacct.DataSyncSpec) { s.TaskName = "bad\x00name" }, "TaskName"},
		{"operator in other account", func(s *xacct.DataSyncSpec) { s.Operator = "arn:aws:iam::222222222222:user/x" }, "Operator"},
		{"remove with transfer all", func(s *xacct.DataSyncSpec) {
			s.Options.PreserveDeletedFiles = types.PreserveDeletedFilesRemove
			s.Options.TransferMode = types.TransferModeAll
		}, "Options.PreserveDeletedFiles"},
		{"remove with changed", func(s *xacct.DataSyncSpec) {
			s.Options.PreserveDeletedFiles = types.PreserveDeletedFilesRemove
			s.Options.TransferMode = types.TransferModeChanged
		}, ""},
		{"point in time with enhanced", func(s *xacct.DataSyncSpec) {
			s.TaskMode = types.TaskModeEnhanced
			s.Options.VerifyMode = types.VerifyModePointInTimeConsistent
		}, "Options.VerifyMode"},
		{"enhanced defaults are fine", func(s *xacct.DataSyncSpec) { s.TaskMode = types.TaskModeEnhanced }, ""},
		{"point in time to glacier", func(s *xacct.DataSyncSpec) {
			s.StorageClass = types.S3StorageClassGlacier
			s.Options.VerifyMode = types.VerifyModePointInTimeConsistent
		}, "Options.VerifyMode"},
		{"basic default verify to deep archive", func(s *xacct.DataSyncSpec) { s.StorageClass = types.S3StorageClassDeepArchive }, "Options.VerifyMode"},
		{"only files transferred to deep archive", func(s *xacct.DataSyncSpec) {
			s.StorageClass = types.S3StorageClassDeepArchive
			s.Options.VerifyMode = types.VerifyModeOnlyFilesTransferred
		}, ""},
		{"outposts storage class", func(s *xacct.DataSyncSpec) { s.StorageClass = types.S3StorageClassOutposts }, "StorageClass"},
		{"unknown verify mode", func(s *xacct.DataSyncSpec) { s.Options.VerifyMode = "SOMETIMES" }, "Options.VerifyMode"},
		{"atime best effort without mtime", func(s *xacct.DataSyncSpec) { s.Options.Mtime = types.MtimeNone }, "Options.Mtime"},
		{"atime none with mtime preserve", func(s *xacct.DataSyncSpec) { s.Options.Atime = types.AtimeNone }, "Options.Mtime"},
		{"atime none with mtime none", func(s *xacct.DataSyncSpec) {
			s.Options.Atime, s.Options.Mtime = types.AtimeNone, types.MtimeNone
		}, ""},
		{"bytes per second zero", func(s *xacct.DataSyncSpec) { s.Options.BytesPerSecond = aws.Int64(0) }, "Options.BytesPerSecond"},
		{"bytes per second unlimited", func(s *xacct.DataSyncSpec) { s.Options.BytesPerSecond = aws.Int64(-1) }, ""},
		{"log level without group", func(s *xacct.DataSyncSpec) { s.Options.LogLevel = types.LogLevelTransfer }, "CloudWatchLogGroupARN"},
		{"include wildcard last", func(s *xacct.DataSyncSpec) { s.Includes = []string{"/photos*"} }, ""},
		{"include wildcard inside", func(s *xacct.DataSyncSpec) { s.Includes = []string{"/a", "*.jpg"} }, "Includes[1]"},
		{"exclude wildcard anywhere", func(s *xacct.DataSyncSpec) { s.Excludes = []string{"*.tmp", "/cache/*/x"} }, ""},
		{"pipe in a pattern", func(s *xacct.DataSyncSpec) { s.Excludes = []string{"a|b"} }, "Excludes[0]"},
		{"empty pattern", func(s *xacct.DataSyncSpec) { s.Excludes = []string{""} }, "Excludes[0]"},
		{"filter too long", func(s *xacct.DataSyncSpec) {
			s.Excludes = []string{strings.Repeat("a", 60000), strings.Repeat("b", 60000)}
		}, "Excludes"},
		{"hourly rate", func(s *xacct.DataSyncSpec) { s.Schedule = "rate(1 hour)" }, ""},
		{"rate in minutes", func(s *xacct.DataSyncSpec) { s.Schedule = "rate(30 minutes)" }, "Schedule"},
		{"rate of 60 minutes", func(s *xacct.DataSyncSpec) { s.Schedule = "rate(60 minutes)" }, ""},
		{"cron every minute", func(s *xacct.DataSyncSpec) { s.Schedule = "cron(* * * * ? *)" }, "Schedule"},
		{"cron every 15 minutes", func(s *xacct.DataSyncSpec) { s.Schedule = "cron(0/15 * * * ? *)" }, "Schedule"},
		{"cron hourly", func(s *xacct.DataSyncSpec) { s.Schedule = "cron(5 * * * ? *)" }, ""},
		{"cron with five fields", func(s *xacct.DataSyncSpec) { s.Schedule = "cron(0 8 * * 3)" }, "Schedule"},
		{"not an expression", func(s *xacct.DataSyncSpec) { s.Schedule = "hourly" }, "Schedule"},
		{"task mode", func(s *xacct.DataSyncSpec) { s.TaskMode = "TURBO" }, "TaskMode"},
		{"kms key of another account", func(s *xacct.DataSyncSpec) {
			s.DestinationKMSKeyARN = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
		}, "DestinationKMSKeyARN"},
		{"manifest bucket ARN", func(s *xacct.DataSyncSpec) {
			s.Manifest = &types.ManifestConfig{Source: &types.SourceManifestConfig{S3: &types.S3ManifestConfig{
				S3BucketArn: aws.String("arn:aws:s3:::team-a-data/x"), ManifestObjectPath: aws.String("m.csv"),
			}}}
		}, "Manifest.Source.S3.S3BucketArn"},
		{"report bucket ARN", func(s *xacct.DataSyncSpec) {
			s.TaskReport = &types.TaskReportConfig{Destination: &types.ReportDestination{S3: &types.ReportDestinationS3{S3BucketArn: aws.String("team-a-reports")}}}
		}, "TaskReport.Destination.S3.S3BucketArn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := dataSyncSpec()
			tt.edit(&s)
			err := s.Validate()
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			var ve *xacct.ValidationError
			require.True(t, errors.As(err, &ve), "want a *ValidationError, got %v", err)
			assert.Equal(t, tt.field, ve.Field, ve.Error())
			assert.ErrorIs(t, err, xacct.ErrInvalidOption)
			_, perr := xacct.NewDataSyncPlan(s)
			assert.Equal(t, err, perr, "NewDataSyncPlan validates first")
		})
	}
}

// The plan follows AWS's documented procedure for a cross-account S3
// transfer, element by element.
func TestDataSyncPlanJSON(t *testing.T) {
	spec := dataSyncSpec()
	spec.Operator = "arn:aws:iam::111111111111:role/ops"
	spec.Options = types.Options{
		VerifyMode:           types.VerifyModeOnlyFilesTransferred,
		OverwriteMode:        types.OverwriteModeAlways,
		PreserveDeletedFiles: types.PreserveDeletedFilesRemove,
		TransferMode:         types.TransferModeChanged,
		BytesPerSecond:       aws.Int64(10 << 20),
	}
	spec.Includes = []string{"/2024", "/2025*"}
	spec.Excludes = []string{"*.tmp"}
	spec.Schedule = "rate(12 hours)"
	spec.StorageClass = types.S3StorageClassIntelligentTiering
	spec.DestinationKMSKeyARN = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	plan, err := xacct.NewDataSyncPlan(spec)
	require.NoError(t, err)
	raw, err := plan.JSON()
	require.NoError(t, err)

	var got struct {
		Source struct {
			Account, Region, RoleName, RoleArn, RolePolicyName string
			TrustPolicy, RolePolicy, OperatorPolicy            json.RawMessage
			CreateLocationS3Source                             map[string]any
			CreateLocationS3Destination                        map[string]any
			CreateTask                                         map[string]any
		} `json:"sourceAccount"`
		Destination struct {
			Account, Bucket, ObjectOwnership, KMSKeyArn string
			BucketPolicy                                json.RawMessage
			KMSKeyPolicyStatement                       json.RawMessage
		} `json:"destinationAccount"`
	}
	require.NoError(t, json.Unmarshal(raw, &got), string(raw))
	src, dst := got.Source, got.Destination
	role := "arn:aws:iam::111111111111:role/xacct-datasync"

	// Account A: the role, trusted by DataSync for account A only.
	assert.Equal(t, "111111111111", src.Account)
	assert.Equal(t, role, src.RoleArn)
	assert.JSONEq(t, `{"Version":"2012-10-17","Statement":[{"Sid":"XacctDataSyncAssumeRole","Effect":"Allow",
		"Principal":{"Service":"datasync.amazonaws.com"},"Action":"sts:AssumeRole",
		"Condition":{"StringEquals":{"aws:SourceAccount":"111111111111"},
		"ArnLike":{"aws:SourceArn":"arn:aws:datasync:us-east-1:111111111111:*"}}}]}`, string(src.TrustPolicy))
	inB := `"Condition":{"StringEquals":{"aws:ResourceAccount":"222222222222"}}`
	assert.JSONEq(t, `{"Version":"2012-10-17","Statement":[
		{"Sid":"XacctDataSyncSourceBucket","Effect":"Allow","Action":["s3:GetBucketLocation","s3:ListBucket","s3:ListBucketMultipartUploads"],"Resource":"arn:aws:s3:::team-a-data"},
		{"Sid":"XacctDataSyncSourceRead","Effect":"Allow","Action":["s3:GetObject","s3:GetObjectTagging"],"Resource":"arn:aws:s3:::team-a-data/exports/*"},
		{"Sid":"XacctDataSyncDestinationBucket","Effect":"Allow","Action":["s3:GetBucketLocation","s3:ListBucket","s3:ListBucketMultipartUploads"],"Resource":"arn:aws:s3:::team-b-archive",`+inB+`},
		{"Sid":"XacctDataSyncDestinationWrite","Effect":"Allow","Action":["s3:AbortMultipartUpload","s3:GetObject","s3:GetObjectTagging","s3:ListMultipartUploadParts","s3:PutObject","s3:PutObjectTagging"],"Resource":"arn:aws:s3:::team-b-archive/from-a/*",`+inB+`},
		{"Sid":"XacctDataSyncDestinationDelete","Effect":"Allow","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::team-b-archive/from-a/*",`+inB+`},
		{"Sid":"XacctDataSyncKMS","Effect":"Allow","Action":["kms:Decrypt","kms:Encrypt","kms:GenerateDataKey"],"Resource":"`+spec.DestinationKMSKeyARN+`"}
	]}`, string(src.RolePolicy))

	// Account A: both locations use the role; only the destination has a
	// storage class.
	for kind, loc := range map[string]map[string]any{"source": src.CreateLocationS3Source, "destination": src.CreateLocationS3Destination} {
		assert.Equal(t, map[string]any{"BucketAccessRoleArn": role}, loc["S3Config"], kind)
		assert.Contains(t, loc["Tags"], map[string]any{"Key": "xacct:location", "Value": kind})
	}
	assert.Equal(t, "arn:aws:s3:::team-a-data", src.CreateLocationS3Source["S3BucketArn"])
	assert.Equal(t, "exports", src.CreateLocationS3Source["Subdirectory"])
	assert.NotContains(t, src.CreateLocationS3Source, "S3StorageClass")
	assert.Equal(t, "arn:aws:s3:::team-b-archive", src.CreateLocationS3Destination["S3BucketArn"])
	assert.Equal(t, "from-a", src.CreateLocationS3Destination["Subdirectory"])
	assert.Equal(t, "INTELLIGENT_TIERING", src.CreateLocationS3Destination["S3StorageClass"])

	// Account A: the task.
	task := src.CreateTask
	assert.Equal(t, "xacct-team-a-data-to-team-b-archive", task["Name"])
	assert.Equal(t, "BASIC", task["TaskMode"])
	assert.Equal(t, map[string]any{"VerifyMode": "ONLY_FILES_TRANSFERRED", "OverwriteMode": "ALWAYS", "PreserveDeletedFiles": "REMOVE", "TransferMode": "CHANGED", "BytesPerSecond": float64(10 << 20)}, task["Options"])
	assert.Equal(t, []any{map[string]any{"FilterType": "SIMPLE_PATTERN", "Value": "/2024|/2025*"}}, task["Includes"])
	assert.Equal(t, []any{map[string]any{"FilterType": "SIMPLE_PATTERN", "Value": "*.tmp"}}, task["Excludes"])
	assert.Equal(t, map[string]any{"ScheduleExpression": "rate(12 hours)"}, task["Schedule"])
	assert.NotContains(t, task, "SourceLocationArn", "Apply fills in the location ARNs")

	// Account B: bucket policy admitting the role and the operator,
	// ownership enforced, key policy statement.
	assert.Equal(t, "222222222222", dst.Account)
	assert.Equal(t, "team-b-archive", dst.Bucket)
	assert.Equal(t, "BucketOwnerEnforced", dst.ObjectOwnership)
	pr := `"Principal":{"AWS":"` + role + `"}`
	assert.JSONEq(t, `{"Version":"2012-10-17","Statement":[
		{"Sid":"XacctDataSyncDestinationBucket","Effect":"Allow",`+pr+`,"Action":["s3:GetBucketLocation","s3:ListBucket","s3:ListBucketMultipartUploads"],"Resource":"arn:aws:s3:::team-b-archive"},
		{"Sid":"XacctDataSyncDestinationWrite","Effect":"Allow",`+pr+`,"Action":["s3:AbortMultipartUpload","s3:GetObject","s3:GetObjectTagging","s3:ListMultipartUploadParts","s3:PutObject","s3:PutObjectTagging"],"Resource":"arn:aws:s3:::team-b-archive/from-a/*"},
		{"Sid":"XacctDataSyncDestinationDelete","Effect":"Allow",`+pr+`,"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::team-b-archive/from-a/*"},
		{"Sid":"XacctDataSyncCreateLocation","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/ops"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::team-b-archive"}
	]}`, string(dst.BucketPolicy))
	assert.Equal(t, spec.DestinationKMSKeyARN, dst.KMSKeyArn)
	assert.JSONEq(t, `{"Sid":"XacctDataSyncKMS","Effect":"Allow",`+pr+`,"Action":["kms:Decrypt","kms:Encrypt","kms:GenerateDataKey"],"Resource":"*"}`, string(dst.KMSKeyPolicyStatement))

	text := plan.String()
	for _, want := range []string{"Account 111111111111 (source)", "Account 222222222222 (destination)", "BucketOwnerEnforced", "CreateTask", "XacctDataSyncCreateLocation"} {
		assert.Contains(t, text, want)
	}
}

// The generated documents are Lint-clean for their kinds; the operator's
// only finding is the "*" that DataSync's List operations require.
func TestDataSyncPoliciesLintClean(t *testing.T) {
	spec := dataSyncSpec()
	spec.Options.PreserveDeletedFiles = types.PreserveDeletedFilesRemove
	plan, err := xacct.NewDataSyncPlan(spec)
	require.NoError(t, err)
	assert.Empty(t, xacct.Lint(plan.Source.TrustPolicy, xacct.PolicyKindTrust))
	assert.Empty(t, xacct.Lint(plan.Source.RolePolicy, xacct.PolicyKindIdentity))
	assert.Empty(t, xacct.Lint(plan.Destination.BucketPolicy, xacct.PolicyKindBucket))
	findings := xacct.Lint(plan.Source.OperatorPolicy, xacct.PolicyKindIdentity)
	require.Len(t, findings, 1)
	assert.Equal(t, "XacctDataSyncOperatorCreateAndList", findings[0].Statement)

	// Without the confused-deputy conditions Lint objects.
	trust := plan.Source.TrustPolicy
	trust.Statement[0].Condition = nil
	assert.NotEmpty(t, xacct.Lint(trust, xacct.PolicyKindTrust))
}

func TestDataSyncPlanWithoutTags(t *testing.T) {
	spec := dataSyncSpec()
	spec.Options.ObjectTags = types.ObjectTagsNone
	plan, err := xacct.NewDataSyncPlan(spec)
	require.NoError(t, err)
	for _, p := range []xacct.Policy{plan.Source.RolePolicy, plan.Destination.BucketPolicy} {
		assert.NotContains(t, p.String(), "Tagging", "tags are not copied, so not granted")
	}
}
