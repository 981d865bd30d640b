package fn

import (
	"fmt"

	"github.com/crossplane/crossplane-runtime/v2/pkg/meta"

	"github.com/crossplane/function-sdk-go/resource"

	iamv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/iam/v1beta1"
	s3v1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/s3/v1beta1"
	s3v1beta2 "github.com/upbound/provider-aws/v2/apis/cluster/s3/v1beta2"
)

// abortMultipartDays is when incomplete multipart uploads of backups are cleaned up.
const abortMultipartDays = 7

// bucketName is the resource name of a region's backup bucket.
func bucketName(r Role) resource.Name { return resourceName(r, "backup-bucket") }

// bucketPart is the resource name of a bucket's configuration resource.
func bucketPart(r Role, part string) resource.Name { return resourceName(r, "backup-bucket", part) }

// bucketAWSName is the name of a region's bucket: the name an observed bucket was created with
// (its external name), else the name Names gives a new one. A bucket cannot be renamed: a new
// name on an existing bucket's resource would make the provider create another bucket, so the
// naming scheme may change without moving any bucket.
func bucketAWSName(p *xrPlan, o observedState, r Role) string {
	if o.Exists(bucketName(r)) {
		if n := o[bucketName(r)].Resource.GetAnnotations()[meta.AnnotationKeyExternalName]; n != "" {
			return n
		}
	}
	return p.Names.Bucket(p.AccountID(), p.Regions[r].Region)
}

// bucketARN is the ARN of a region's bucket: bucket ARNs hold no region or account.
func bucketARN(p *xrPlan, o observedState, r Role) string {
	return "arn:aws:s3:::" + bucketAWSName(p, o, r)
}

// bucketPolicy denies every request to the bucket that is not over TLS.
func bucketPolicy(bucketARN string) policyDocument {
	return policy(statement{
		Sid:       "DenyInsecureTransport",
		Effect:    deny,
		Principal: map[string]any{"AWS": "*"},
		Action:    []string{"s3:*"},
		Resource:  []string{bucketARN, bucketARN + "/*"},
		Condition: map[string]map[string]any{"Bool": {"aws:SecureTransport": "false"}},
	})
}

// replicationPolicy lets S3 replicate the source bucket's objects, KMS-encrypted with the source
// region's key, into the destination bucket under the destination region's key: these buckets,
// these keys, nothing else.
func replicationPolicy(srcBucket, dstBucket, srcKey, dstKey, srcRegion, dstRegion string) policyDocument {
	return policy(
		statement{Sid: "ReadSourceConfiguration", Effect: allow,
			Action:   []string{"s3:GetReplicationConfiguration", "s3:ListBucket"},
			Resource: []string{srcBucket}},
		statement{Sid: "ReadSourceObjects", Effect: allow,
			Action:   []string{"s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"},
			Resource: []string{srcBucket + "/*"}},
		statement{Sid: "WriteReplicas", Effect: allow,
			Action:   []string{"s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"},
			Resource: []string{dstBucket + "/*"}},
		statement{Sid: "DecryptSource", Effect: allow,
			Action:    []string{"kms:Decrypt"},
			Resource:  []string{srcKey},
			Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": "s3." + srcRegion + ".amazonaws.com"}}},
		statement{Sid: "EncryptReplicas", Effect: allow,
			Action:    []string{"kms:Encrypt", "kms:GenerateDataKey"},
			Resource:  []string{dstKey},
			Condition: map[string]map[string]any{"StringEquals": {"kms:ViaService": "s3." + dstRegion + ".amazonaws.com"}}},
	)
}

// buildStorage adds a backup bucket per region, versioned, SSE-KMS with the region's key and
// bucket keys, public access blocked, owner-enforced, TLS only, old versions expiring; and the
// replication of the writer's bucket into the other region's once both are observed versioned.
func buildStorage(p *xrPlan, o observedState, st failoverState, d *desiredState) {
	for _, role := range roles {
		buildBucket(p, o, d, role)
	}
	if *p.Spec.Backups.ReplicateToDR {
		buildBucketReplication(p, o, st, d)
	}
}

func buildBucket(p *xrPlan, o observedState, d *desiredState, role Role) {
	region := p.Regions[role].Region
	name := bucketAWSName(p, o, role)
	b := bucketName(role)
	d.Add(b, named(&s3v1beta2.Bucket{
		Spec: s3v1beta2.BucketSpec{ForProvider: s3v1beta2.BucketParameters{
			Region:       &region,
			ForceDestroy: new(false),
			Tags:         p.Tags(role, name),
		}},
	}, name))
	d.Add(bucketPart(role, "versioning"), &s3v1beta2.BucketVersioning{
		Spec: s3v1beta2.BucketVersioningSpec{ForProvider: s3v1beta2.BucketVersioningParameters{
			Region:                  &region,
			BucketSelector:          d.Select(b),
			VersioningConfiguration: &s3v1beta2.VersioningConfigurationParameters{Status: new("Enabled")},
		}},
	})
	d.Add(bucketPart(role, "public-access-block"), &s3v1beta1.BucketPublicAccessBlock{
		Spec: s3v1beta1.BucketPublicAccessBlockSpec{ForProvider: s3v1beta1.BucketPublicAccessBlockParameters{
			Region:                &region,
			BucketSelector:        d.Select(b),
			BlockPublicAcls:       new(true),
			BlockPublicPolicy:     new(true),
			IgnorePublicAcls:      new(true),
			RestrictPublicBuckets: new(true),
		}},
	})
	d.Add(bucketPart(role, "ownership"), &s3v1beta2.BucketOwnershipControls{
		Spec: s3v1beta2.BucketOwnershipControlsSpec{ForProvider: s3v1beta2.BucketOwnershipControlsParameters{
			Region:         &region,
			BucketSelector: d.Select(b),
			Rule:           &s3v1beta2.BucketOwnershipControlsRuleParameters{ObjectOwnership: new("BucketOwnerEnforced")},
		}},
	})
	d.Add(bucketPart(role, "policy"), &s3v1beta1.BucketPolicy{
		Spec: s3v1beta1.BucketPolicySpec{ForProvider: s3v1beta1.BucketPolicyParameters{
			Region:         &region,
			BucketSelector: d.Select(b),
			Policy:         bucketPolicy(bucketARN(p, o, role)).JSON(),
		}},
	})
	d.Add(bucketPart(role, "lifecycle"), &s3v1beta2.BucketLifecycleConfiguration{
		Spec: s3v1beta2.BucketLifecycleConfigurationSpec{ForProvider: s3v1beta2.BucketLifecycleConfigurationParameters{
			Region:         &region,
			BucketSelector: d.Select(b),
			Rule: []s3v1beta2.BucketLifecycleConfigurationRuleParameters{{
				ID:     new("expire-old-versions"),
				Status: new("Enabled"),
				Filter: []s3v1beta2.RuleFilterParameters{{Prefix: new("")}},
				NoncurrentVersionExpiration: []s3v1beta2.RuleNoncurrentVersionExpirationParameters{{
					NoncurrentDays: new(float64(p.Spec.Backups.NoncurrentVersionDays)),
				}},
				AbortIncompleteMultipartUpload: []s3v1beta2.AbortIncompleteMultipartUploadParameters{{
					DaysAfterInitiation: new(float64(abortMultipartDays)),
				}},
			}},
		}},
	})

	// The DR key is a ReplicaKey, which the encryption's key selector (Keys only) cannot find.
	sse := &s3v1beta2.RuleApplyServerSideEncryptionByDefaultParameters{SseAlgorithm: new("aws:kms")}
	if role == RolePrimary {
		sse.KMSMasterKeyIDSelector = d.Select(keyName(role))
	} else {
		arn := keyARN(o, role)
		if arn == "" {
			d.Wait(fmt.Sprintf("the DR KMS key's ARN (%s), to encrypt the DR backup bucket", keyName(role)))
			return
		}
		sse.KMSMasterKeyID = new(arn)
	}
	d.Add(bucketPart(role, "encryption"), &s3v1beta2.BucketServerSideEncryptionConfiguration{
		Spec: s3v1beta2.BucketServerSideEncryptionConfigurationSpec{ForProvider: s3v1beta2.BucketServerSideEncryptionConfigurationParameters{
			Region:         &region,
			BucketSelector: d.Select(b),
			Rule: []s3v1beta2.BucketServerSideEncryptionConfigurationRuleParameters{{
				ApplyServerSideEncryptionByDefault: sse,
				BucketKeyEnabled:                   new(true),
			}},
		}},
	})
}

// versioned reports whether a region's bucket versioning is observed ready and enabled: S3
// refuses a replication configuration on a bucket, or to a bucket, without it.
func versioned(o observedState, role Role) bool {
	v := bucketPart(role, "versioning")
	vc := observedAs[s3v1beta2.BucketVersioning](o, v).Status.AtProvider.VersioningConfiguration
	return o.Ready(v) && vc != nil && deref(vc.Status) == "Enabled"
}

// buildBucketReplication replicates the writer's bucket into the other region's: the primary
// bucket into the DR bucket while the primary writes, the DR bucket into the primary bucket once
// the DR instance does. Each direction has its own resources, named by the source role (the
// configuration lives on the source bucket, in its region), and its own IAM role: turning the
// direction around creates the new ones beside the old, never renames an AWS resource in place.
// None holds data: S3 keeps the replicas already made when a replication configuration goes.
func buildBucketReplication(p *xrPlan, o observedState, st failoverState, d *desiredState) {
	src, dst := st.Writer, st.Writer.Peer()
	sr, dr := p.Regions[src], p.Regions[dst]
	srcKey, dstKey := keyARN(o, src), keyARN(o, dst)
	var waits []string
	for _, role := range roles {
		if !versioned(o, role) {
			waits = append(waits, fmt.Sprintf("the %s bucket's versioning to be enabled (%s)", role, bucketPart(role, "versioning")))
		}
	}
	if srcKey == "" || dstKey == "" {
		waits = append(waits, "both KMS keys' ARNs, to grant the replication role their use")
	}
	if len(waits) > 0 {
		for _, w := range waits {
			d.Wait(fmt.Sprintf("%s, to replicate backups to the %s bucket", w, roleTitle(dst)))
		}
		return
	}
	srcBucket, dstBucket := bucketAWSName(p, o, src), bucketAWSName(p, o, dst)
	role := resourceName(src, "backup-replication-role")
	d.Add(role, named(&iamv1beta1.Role{
		Spec: iamv1beta1.RoleSpec{ForProvider: iamv1beta1.RoleParameters{
			Description:      new("S3 replication of " + srcBucket + " to " + dstBucket),
			AssumeRolePolicy: assumeRoleFor("s3.amazonaws.com", p.AccountID()).JSON(),
			Tags:             p.Tags(src, p.Names.IAM(src, "s3-replication")),
		}},
	}, p.Names.IAM(src, "s3-replication")))
	d.Add(resourceName(src, "backup-replication-policy"), named(&iamv1beta1.RolePolicy{
		Spec: iamv1beta1.RolePolicySpec{ForProvider: iamv1beta1.RolePolicyParameters{
			RoleSelector: d.Select(role),
			Policy:       replicationPolicy(bucketARN(p, o, src), bucketARN(p, o, dst), srcKey, dstKey, sr.Region, dr.Region).JSON(),
		}},
	}, "s3-replication"))
	d.Add(bucketPart(src, "replication"), &s3v1beta2.BucketReplicationConfiguration{
		Spec: s3v1beta2.BucketReplicationConfigurationSpec{ForProvider: s3v1beta2.BucketReplicationConfigurationParameters{
			Region:         new(sr.Region),
			BucketSelector: d.Select(bucketName(src)),
			RoleSelector:   d.Select(role),
			Rule: []s3v1beta2.BucketReplicationConfigurationRuleParameters{{
				ID:                      new("backups-to-" + string(dst)),
				Status:                  new("Enabled"),
				Priority:                new(float64(1)),
				DeleteMarkerReplication: &s3v1beta2.DeleteMarkerReplicationParameters{Status: new("Enabled")},
				SourceSelectionCriteria: &s3v1beta2.RuleSourceSelectionCriteriaParameters{
					SseKMSEncryptedObjects: &s3v1beta2.SourceSelectionCriteriaSseKMSEncryptedObjectsParameters{Status: new("Enabled")},
				},
				Destination: &s3v1beta2.RuleDestinationParameters{
					Bucket:                  new(bucketARN(p, o, dst)),
					StorageClass:            new("STANDARD"),
					EncryptionConfiguration: &s3v1beta2.EncryptionConfigurationParameters{ReplicaKMSKeyID: new(dstKey)},
				},
			}},
		}},
	})
	// An empty filter, the rule for every object in the V2 schema: without a filter Terraform
	// sends a V1 rule, and S3 refuses DeleteMarkerReplication in it.
	d.SetEmpty(bucketPart(src, "replication"), "spec.forProvider.rule[0].filter")
}
