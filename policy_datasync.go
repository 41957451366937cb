package xacct

import (
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/datasync/types"
)

// DataSyncServicePrincipal is the service principal DataSync assumes
// roles as.
const DataSyncServicePrincipal = "datasync.amazonaws.com"

// Sids of the statements the DataSync builders write; stable so that
// MergeStatements replaces them on the next Apply.
const (
	sidDataSyncTrust             = "XacctDataSyncAssumeRole"
	sidDataSyncSourceBucket      = "XacctDataSyncSourceBucket"
	sidDataSyncSourceRead        = "XacctDataSyncSourceRead"
	sidDataSyncDestinationBucket = "XacctDataSyncDestinationBucket"
	sidDataSyncDestinationWrite  = "XacctDataSyncDestinationWrite"
	sidDataSyncDestinationDelete = "XacctDataSyncDestinationDelete"
	sidDataSyncCreateLocation    = "XacctDataSyncCreateLocation"
	sidDataSyncKMS               = "XacctDataSyncKMS"
	sidDataSyncManifest          = "XacctDataSyncManifestRead"
	sidDataSyncReport            = "XacctDataSyncReportWrite"
	sidDataSyncOperatorTasks     = "XacctDataSyncOperatorTasks"
	sidDataSyncOperatorList      = "XacctDataSyncOperatorCreateAndList"
	sidDataSyncOperatorRole      = "XacctDataSyncOperatorRole"
	sidDataSyncOperatorPassRole  = "XacctDataSyncOperatorPassRole"
	sidDataSyncOperatorListDest  = "XacctDataSyncOperatorListBuckets"
)

// Actions DataSync uses on an S3 location, as AWS documents them for the
// location's role: bucket-level ones on the bucket, object-level ones on
// the objects under the subdirectory. Reading tags and writing them are
// only needed when ObjectTags is PRESERVE (the default); deleting only
// when PreserveDeletedFiles is REMOVE. DataSync reads back what it wrote
// to verify it, hence s3:GetObject on the destination.
var (
	dataSyncBucketActions      = []string{"s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"}
	dataSyncSourceObjects      = []string{"s3:GetObject"}
	dataSyncSourceTagActions   = []string{"s3:GetObjectTagging"}
	dataSyncDestinationObjects = []string{"s3:AbortMultipartUpload", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject"}
	dataSyncDestinationTags    = []string{"s3:GetObjectTagging", "s3:PutObjectTagging"}
	dataSyncKMSActions         = []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}
)

// DataSyncRoleTrustPolicy returns the trust policy of the role DataSync
// assumes in the source account: datasync.amazonaws.com, only on behalf
// of that account (aws:SourceAccount) and of its DataSync resources in
// region (aws:SourceArn), which closes the confused-deputy hole.
func DataSyncRoleTrustPolicy(sourceAccount, region string) Policy {
	return NewPolicy(Statement{
		Sid:       sidDataSyncTrust,
		Effect:    EffectAllow,
		Principal: ServicePrincipal(DataSyncServicePrincipal),
		Action:    StringList{"sts:AssumeRole"},
		Condition: Conditions{
			"StringEquals": {"aws:SourceAccount": {sourceAccount}},
			"ArnLike":      {"aws:SourceArn": {"arn:aws:datasync:" + region + ":" + sourceAccount + ":*"}},
		},
	})
}

// DataSyncRolePolicy returns the permission policy of the DataSync role:
// list and read the source subdirectory; list and write the destination
// subdirectory, each destination statement conditioned on
// aws:ResourceAccount being the destination account so the grant cannot
// be turned on a bucket of the same name elsewhere. Deletion, tagging,
// KMS, manifest and report statements appear only when the spec uses
// them. The spec is taken as given; call Validate first.
func DataSyncRolePolicy(spec DataSyncSpec) Policy {
	s := spec.withDefaults()
	tags := s.Options.ObjectTags != types.ObjectTagsNone
	src, dst := dataSyncLocation(s.Source), dataSyncLocation(s.Destination)
	inDest := Conditions{"StringEquals": {"aws:ResourceAccount": {s.Destination.Account}}}

	srcRead := slices.Clone(dataSyncSourceObjects)
	dstWrite := slices.Clone(dataSyncDestinationObjects)
	if tags {
		srcRead = append(srcRead, dataSyncSourceTagActions...)
		dstWrite = append(dstWrite, dataSyncDestinationTags...)
		slices.Sort(dstWrite)
	}
	stmts := []Statement{
		{Sid: sidDataSyncSourceBucket, Effect: EffectAllow, Action: StringList(slices.Clone(dataSyncBucketActions)), Resource: StringList{BucketARN(src.Bucket)}},
		objectStatement(sidDataSyncSourceRead, src, nil, srcRead...),
		{Sid: sidDataSyncDestinationBucket, Effect: EffectAllow, Action: StringList(slices.Clone(dataSyncBucketActions)), Resource: StringList{BucketARN(dst.Bucket)}, Condition: inDest},
		withCondition(objectStatement(sidDataSyncDestinationWrite, dst, nil, dstWrite...), inDest),
	}
	if s.Options.PreserveDeletedFiles == types.PreserveDeletedFilesRemove {
		stmts = append(stmts, withCondition(objectStatement(sidDataSyncDestinationDelete, dst, nil, "s3:DeleteObject"), inDest))
	}
	if s.DestinationKMSKeyARN != "" {
		stmts = append(stmts, Statement{Sid: sidDataSyncKMS, Effect: EffectAllow, Action: StringList(slices.Clone(dataSyncKMSActions)), Resource: StringList{s.DestinationKMSKeyARN}})
	}
	if b, key, ok := s.manifestObject(); ok {
		stmts = append(stmts, Statement{Sid: sidDataSyncManifest, Effect: EffectAllow, Action: StringList{"s3:GetObject", "s3:GetObjectVersion"}, Resource: StringList{ObjectARN(b, escapePolicyPattern(key))}})
	}
	if loc, ok := s.reportLocation(); ok {
		stmts = append(stmts, objectStatement(sidDataSyncReport, loc, nil, "s3:PutObject"))
	}
	return NewPolicy(stmts...)
}

// DataSyncDestinationBucketPolicy returns the statements the destination
// account merges into its bucket policy: the DataSync role may list and
// write the destination subdirectory (and delete there when
// PreserveDeletedFiles is REMOVE) — the same actions as the role's own
// policy, as cross-account access needs both — and the operator that
// creates the destination location may list the bucket, which
// CreateLocationS3 checks.
func DataSyncDestinationBucketPolicy(spec DataSyncSpec) Policy {
	s := spec.withDefaults()
	dst := dataSyncLocation(s.Destination)
	role := AWSPrincipal(s.RoleARN())
	write := slices.Clone(dataSyncDestinationObjects)
	if s.Options.ObjectTags != types.ObjectTagsNone {
		write = append(write, dataSyncDestinationTags...)
		slices.Sort(write)
	}
	stmts := []Statement{
		{Sid: sidDataSyncDestinationBucket, Effect: EffectAllow, Principal: role, Action: StringList(slices.Clone(dataSyncBucketActions)), Resource: StringList{BucketARN(dst.Bucket)}},
		objectStatement(sidDataSyncDestinationWrite, dst, role, write...),
	}
	if s.Options.PreserveDeletedFiles == types.PreserveDeletedFilesRemove {
		stmts = append(stmts, objectStatement(sidDataSyncDestinationDelete, dst, role, "s3:DeleteObject"))
	}
	stmts = append(stmts, Statement{
		Sid: sidDataSyncCreateLocation, Effect: EffectAllow, Principal: AWSPrincipal(s.Operator),
		Action: StringList{"s3:ListBucket"}, Resource: StringList{BucketARN(dst.Bucket)},
	})
	return NewPolicy(stmts...)
}

// DataSyncKMSKeyPolicyStatement returns the statement the destination
// account adds to the key policy of spec.DestinationKMSKeyARN so that the
// DataSync role may encrypt with it. Key policies name "*" as the
// resource, which means the key itself.
func DataSyncKMSKeyPolicyStatement(spec DataSyncSpec) Statement {
	s := spec.withDefaults()
	return Statement{
		Sid:       sidDataSyncKMS,
		Effect:    EffectAllow,
		Principal: AWSPrincipal(s.RoleARN()),
		Action:    StringList(slices.Clone(dataSyncKMSActions)),
		Resource:  StringList{"*"},
	}
}

// DataSyncOperatorPolicy returns the identity policy the operator (the
// principal in the source account that applies and runs the plan)
// needs: manage the role and pass it to DataSync; create locations and
// tasks, which DataSync authorizes on "*" as it does its List
// operations; use the task's locations, task and executions in the
// task's region; and list both buckets, which CreateLocationS3 checks
// with the caller's own permissions (the destination bucket policy must
// allow it too).
func DataSyncOperatorPolicy(spec DataSyncSpec) Policy {
	s := spec.withDefaults()
	role := s.RoleARN()
	return NewPolicy(
		Statement{Sid: sidDataSyncOperatorTasks, Effect: EffectAllow, Action: StringList{
			"datasync:CancelTaskExecution", "datasync:DescribeLocationS3", "datasync:DescribeTask", "datasync:DescribeTaskExecution",
			"datasync:ListTagsForResource", "datasync:StartTaskExecution", "datasync:TagResource", "datasync:UpdateLocationS3", "datasync:UpdateTask",
		}, Resource: StringList{"arn:aws:datasync:" + s.Region + ":" + s.Source.Account + ":*"}},
		Statement{Sid: sidDataSyncOperatorList, Effect: EffectAllow, Action: StringList{
			"datasync:CreateLocationS3", "datasync:CreateTask", "datasync:ListLocations", "datasync:ListTasks",
		}, Resource: StringList{"*"}},
		Statement{Sid: sidDataSyncOperatorRole, Effect: EffectAllow, Action: StringList{
			"iam:CreateRole", "iam:GetRole", "iam:GetRolePolicy", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy",
		}, Resource: StringList{role}},
		Statement{Sid: sidDataSyncOperatorPassRole, Effect: EffectAllow, Action: StringList{"iam:PassRole"}, Resource: StringList{role},
			Condition: Conditions{"StringEquals": {"iam:PassedToService": {DataSyncServicePrincipal}}}},
		Statement{Sid: sidDataSyncOperatorListDest, Effect: EffectAllow, Action: StringList{"s3:ListBucket"},
			Resource: StringList{BucketARN(s.Source.Bucket), BucketARN(s.Destination.Bucket)}},
	)
}

// dataSyncLocation is the bucket and the key prefix DataSync works under
// for an endpoint: the subdirectory without its leading "/", as a folder.
func dataSyncLocation(e DataSyncEndpoint) Location {
	sub := strings.Trim(e.Subdirectory, "/")
	if sub != "" {
		sub += "/"
	}
	return Location{Bucket: e.Bucket, Prefix: sub}
}

func withCondition(s Statement, c Conditions) Statement {
	s.Condition = c
	return s
}

// manifestObject is the manifest's bucket and key when the manifest is
// read with the planned role.
func (s DataSyncSpec) manifestObject() (bucket, key string, ok bool) {
	m := s.Manifest
	if m == nil || m.Source == nil || m.Source.S3 == nil {
		return "", "", false
	}
	if r := ptrString(m.Source.S3.BucketAccessRoleArn); r != "" && r != s.RoleARN() {
		return "", "", false
	}
	b, err := bucketFromARN(ptrString(m.Source.S3.S3BucketArn))
	if err != nil {
		return "", "", false
	}
	return b, ptrString(m.Source.S3.ManifestObjectPath), true
}

// reportLocation is where the task report goes when it is written with
// the planned role.
func (s DataSyncSpec) reportLocation() (Location, bool) {
	r := s.TaskReport
	if r == nil || r.Destination == nil || r.Destination.S3 == nil {
		return Location{}, false
	}
	if role := ptrString(r.Destination.S3.BucketAccessRoleArn); role != "" && role != s.RoleARN() {
		return Location{}, false
	}
	b, err := bucketFromARN(ptrString(r.Destination.S3.S3BucketArn))
	if err != nil {
		return Location{}, false
	}
	return dataSyncLocation(DataSyncEndpoint{Bucket: b, Subdirectory: ptrString(r.Destination.S3.Subdirectory)}), true
}
