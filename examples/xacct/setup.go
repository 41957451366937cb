package main

import (
	"bytes"
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/xacct/xacct"
	"github.com/xacct/xacct/internal/sandbox"
)

// Names of the cross-account setup that demo and sandbox build.
const (
	demoSource      = "xacct-demo-source"      // in account A
	demoDestination = "xacct-demo-destination" // in account B
	// demoDestPrefix is where the copy role may write in the destination.
	demoDestPrefix = "from-a/"
	copyRoleName   = "xacct-copy"
	operatorName   = "operator"
	// demoExternalID is what the operator presents to assume the role,
	// as a third party would be given by the role's owner.
	demoExternalID = "xacct-demo-5f1c"
)

// crossAccount is the setup in a sandbox: the data and a copy role
// live in account A; an operator user in account B assumes the role with
// an external ID; the destination bucket in B admits the role with a
// bucket policy. Every policy comes from the library's builders.
type crossAccount struct {
	sb                     *sandbox.Sandbox
	rootA, rootB, operator sandbox.Principal
	roleARN                string
	src, dst               xacct.Location
	// trust, rolePolicy and bucketPolicy are the role's trust and
	// permission policies and the destination bucket's policy.
	trust, rolePolicy, bucketPolicy xacct.Policy
}

// newCrossAccount builds the setup in sb, with the sample files in the
// source bucket.
func newCrossAccount(ctx context.Context, sb *sandbox.Sandbox) (*crossAccount, error) {
	c := &crossAccount{
		sb:      sb,
		rootA:   sb.Root(sandbox.AccountA),
		rootB:   sb.Root(sandbox.AccountB),
		roleARN: "arn:aws:iam::" + sandbox.AccountA + ":role/" + copyRoleName,
		src:     xacct.Location{Bucket: demoSource},
		dst:     xacct.Location{Bucket: demoDestination, Prefix: demoDestPrefix},
	}
	var err error
	c.operator, err = sb.AddUser(sandbox.AccountB, operatorName, mustPolicyJSON(xacct.CallerAssumeRolePolicy(c.roleARN)))
	if err != nil {
		return nil, err
	}
	c.trust = xacct.CopyRoleTrustPolicy(c.operator.ARN, demoExternalID)
	c.rolePolicy = xacct.CopyRolePolicy(c.src, c.dst, xacct.WithDeleteAccess())
	c.bucketPolicy = xacct.DestinationBucketPolicy(c.dst, c.roleARN, xacct.WithDeleteAccess())
	if _, err := sb.CreateRole(sandbox.AccountA, copyRoleName, mustPolicyJSON(c.trust),
		map[string]string{copyRoleName: mustPolicyJSON(c.rolePolicy)}); err != nil {
		return nil, err
	}
	if err := sb.CreateBucket(ctx, c.rootA, demoSource); err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", demoSource, err)
	}
	if err := sb.CreateBucket(ctx, c.rootB, demoDestination); err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", demoDestination, err)
	}
	if err := c.putBucketPolicy(ctx, c.bucketPolicy); err != nil {
		return nil, err
	}
	for _, o := range demoObjects() {
		if err := c.put(ctx, c.rootA, demoSource, o.key, o.body); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// putBucketPolicy replaces the destination bucket's policy, as account B.
func (c *crossAccount) putBucketPolicy(ctx context.Context, p xacct.Policy) error {
	_, err := c.sb.S3(c.rootB).PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{
		Bucket: aws.String(demoDestination), Policy: aws.String(mustPolicyJSON(p)),
	})
	if err != nil {
		return fmt.Errorf("put bucket policy of %s: %w", demoDestination, err)
	}
	return nil
}

// put writes one object as p.
func (c *crossAccount) put(ctx context.Context, p sandbox.Principal, bucket, key string, body []byte) error {
	_, err := c.sb.S3(p).PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
	})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// roleConfig is the operator acting as the copy role, as --profile
// operator --role-arn … --external-id … or the cross profile give it.
func (c *crossAccount) roleConfig(sessionName string) (aws.Config, error) {
	return xacct.AssumeRoleConfig(c.sb.Config(c.operator), c.roleARN,
		xacct.WithExternalID(demoExternalID), xacct.WithSessionName(sessionName))
}

// mustPolicyJSON renders a policy the builders made; they always
// marshal.
func mustPolicyJSON(p xacct.Policy) string {
	b, err := p.JSON()
	if err != nil {
		panic(err)
	}
	return string(b)
}
