package xacct

import (
	"slices"
)

// Service principals of S3 Replication and S3 Batch Operations.
const (
	ServiceS3              = "s3.amazonaws.com"
	ServiceBatchOperations = "batchoperations.s3.amazonaws.com"
)

// Sids of the statements the replication builders write, stable so that
// MergeStatements replaces them on the next apply.
const (
	sidReplicationTrustS3          = "XacctReplicationTrustS3"
	sidReplicationTrustBatch       = "XacctReplicationTrustBatchOperations"
	sidReplicationSourceBucket     = "XacctReplicationSourceBucket"
	sidReplicationSourceRead       = "XacctReplicationSourceRead"
	sidReplicationSourceObjectLock = "XacctReplicationSourceObjectLock"
	sidReplicationDestination      = "XacctReplicationDestinationWrite"
	sidReplicationBatch            = "XacctReplicationBatchInitiate"
	sidReplicationBatchBucket      = "XacctReplicationBatchManifest"
	sidReplicationKMSDecrypt       = "XacctReplicationSourceKeyDecrypt"
	sidReplicationKMSEncrypt       = "XacctReplicationReplicaKeyEncrypt"
	sidReplicationReplicaKey       = "XacctReplicationReplicaKey"
)

// Actions the replication role uses. S3 reads the source version with
// GetObjectVersionForReplication, its ACL and tags, and writes the replica
// with ReplicateObject (ReplicateTags for its tags, ReplicateDelete for
// delete markers, ObjectOwnerOverrideToBucketOwner to hand it to the
// destination account); it reads the configuration and lists the source
// bucket. Object Lock adds the retention and legal hold reads.
var (
	replicationSourceBucketActions = []string{"s3:GetReplicationConfiguration", "s3:ListBucket"}
	replicationSourceReadActions   = []string{"s3:GetObjectVersionAcl", "s3:GetObjectVersionForReplication", "s3:GetObjectVersionTagging"}
	replicationObjectLockActions   = []string{"s3:GetObjectLegalHold", "s3:GetObjectRetention"}
	replicationKMSEncryptActions   = []string{"kms:Encrypt", "kms:GenerateDataKey"}
)

// ReplicationRoleTrustPolicy returns the trust policy of the replication
// role: s3.amazonaws.com may assume it and, when the spec backfills, so
// may batchoperations.s3.amazonaws.com.
//
// The statements carry no aws:SourceAccount or aws:SourceArn condition.
// AWS's trust policies for live replication and for Batch Replication
// have none, and AWS does not document that S3 or S3 Batch Operations
// send those keys when they assume the role; were they absent, a
// condition on them would make every replication fail. The confused
// deputy is guarded instead by iam:PassRole: only principals of the
// role's own account can name it in a replication configuration or a
// job, as a role cannot be passed to another account.
func ReplicationRoleTrustPolicy(spec ReplicationSpec) Policy {
	stmts := []Statement{{
		Sid:       sidReplicationTrustS3,
		Effect:    EffectAllow,
		Principal: ServicePrincipal(ServiceS3),
		Action:    StringList{"sts:AssumeRole"},
	}}
	if spec.Backfill {
		stmts = append(stmts, Statement{
			Sid:       sidReplicationTrustBatch,
			Effect:    EffectAllow,
			Principal: ServicePrincipal(ServiceBatchOperations),
			Action:    StringList{"sts:AssumeRole"},
		})
	}
	return NewPolicy(stmts...)
}

// BatchJobARN returns the ARN of an S3 Batch Operations job; id may be
// "*".
func BatchJobARN(region, account, id string) string {
	return "arn:aws:s3:" + region + ":" + account + ":job/" + id
}

// ReplicationRolePolicy returns the permission policy of the replication
// role. Object actions are limited to the rules' prefixes when every
// enabled rule has one. Parts only some setups need are added only then:
// ReplicateDelete with delete marker replication,
// ObjectOwnerOverrideToBucketOwner with owner override, the Object Lock
// reads with Object Lock, the Batch Replication actions with backfill, and
// KMS decrypt and encrypt (limited to S3 in each region and to the
// buckets' objects by encryption context) with SSE-KMS.
func ReplicationRolePolicy(spec ReplicationSpec) Policy {
	src := replicationObjects(spec.Source.Bucket, spec.Rules)
	dst := replicationObjects(spec.Destination.Bucket, spec.Rules)
	stmts := []Statement{
		{Sid: sidReplicationSourceBucket, Effect: EffectAllow, Action: StringList(slices.Clone(replicationSourceBucketActions)), Resource: StringList{BucketARN(spec.Source.Bucket)}},
		{Sid: sidReplicationSourceRead, Effect: EffectAllow, Action: StringList(slices.Clone(replicationSourceReadActions)), Resource: src},
	}
	if spec.Source.ObjectLock {
		stmts = append(stmts, Statement{Sid: sidReplicationSourceObjectLock, Effect: EffectAllow, Action: StringList(slices.Clone(replicationObjectLockActions)), Resource: slices.Clone(src)})
	}
	stmts = append(stmts, Statement{Sid: sidReplicationDestination, Effect: EffectAllow, Action: replicaWriteActions(spec), Resource: dst})
	if spec.Backfill {
		stmts = append(stmts,
			Statement{Sid: sidReplicationBatch, Effect: EffectAllow, Action: StringList{"s3:InitiateReplication"}, Resource: slices.Clone(src)},
			Statement{Sid: sidReplicationBatchBucket, Effect: EffectAllow, Action: StringList{"s3:PutInventoryConfiguration"}, Resource: StringList{BucketARN(spec.Source.Bucket)}},
		)
	}
	if spec.usesKMS() {
		stmts = append(stmts,
			Statement{
				Sid: sidReplicationKMSDecrypt, Effect: EffectAllow, Action: StringList{"kms:Decrypt"},
				Resource:  StringList(slices.Sorted(slices.Values(spec.SourceKMSKeyARNs))),
				Condition: kmsConditions(spec.Source),
			},
			Statement{
				Sid: sidReplicationKMSEncrypt, Effect: EffectAllow, Action: StringList(slices.Clone(replicationKMSEncryptActions)),
				Resource:  StringList(spec.replicaKeys()),
				Condition: kmsConditions(spec.Destination),
			},
		)
	}
	return NewPolicy(stmts...)
}

// ReplicationDestinationBucketPolicy returns the statements to merge into
// the destination bucket's policy so that the replication role, from the
// source account, may write replicas: the same replica actions as the
// role's own policy, on the same objects.
func ReplicationDestinationBucketPolicy(spec ReplicationSpec) Policy {
	return NewPolicy(Statement{
		Sid:       sidReplicationDestination,
		Effect:    EffectAllow,
		Principal: AWSPrincipal(spec.RoleARN()),
		Action:    replicaWriteActions(spec),
		Resource:  replicationObjects(spec.Destination.Bucket, spec.Rules),
	})
}

// ReplicationReplicaKeyPolicy returns the statement to add to the key
// policy of each replica KMS key, so that the replication role from the
// source account may encrypt replicas with it. It is empty when no rule
// uses SSE-KMS.
func ReplicationReplicaKeyPolicy(spec ReplicationSpec) Policy {
	if !spec.usesKMS() {
		return NewPolicy()
	}
	return NewPolicy(Statement{
		Sid:       sidReplicationReplicaKey,
		Effect:    EffectAllow,
		Principal: AWSPrincipal(spec.RoleARN()),
		Action:    StringList(slices.Clone(replicationKMSEncryptActions)),
		Resource:  StringList(spec.replicaKeys()),
		Condition: kmsConditions(spec.Destination),
	})
}

func replicaWriteActions(spec ReplicationSpec) StringList {
	actions := StringList{"s3:ReplicateObject", "s3:ReplicateTags"}
	if spec.usesDeleteMarkers() {
		actions = append(actions, "s3:ReplicateDelete")
	}
	if spec.usesOwnerOverride() {
		actions = append(actions, "s3:ObjectOwnerOverrideToBucketOwner")
	}
	slices.Sort(actions)
	return actions
}

// kmsConditions limits KMS use to S3 in the bucket's region, for the
// bucket's objects.
func kmsConditions(b ReplicationBucket) Conditions {
	return Conditions{
		"StringEquals": {"kms:ViaService": {"s3." + b.Region + ".amazonaws.com"}},
		"StringLike":   {"kms:EncryptionContext:aws:s3:arn": {ObjectARN(b.Bucket, "*")}},
	}
}

// replicationObjects returns the object ARNs the enabled rules cover: one
// per distinct prefix when every enabled rule has a prefix, otherwise
// every object of the bucket.
func replicationObjects(bucket string, rules []ReplicationRule) StringList {
	var out StringList
	for _, r := range rules {
		if r.Disabled {
			continue
		}
		p := r.Filter.prefix()
		if p == "" {
			return StringList{ObjectARN(bucket, "*")}
		}
		arn := ObjectARN(bucket, escapePolicyPattern(p)+"*")
		if !slices.Contains(out, arn) {
			out = append(out, arn)
		}
	}
	if len(out) == 0 {
		return StringList{ObjectARN(bucket, "*")}
	}
	slices.Sort(out)
	return out
}
