package fn

import (
	"fmt"

	"github.com/crossplane/function-sdk-go/resource"

	kmsv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/kms/v1beta1"
)

// keyDeletionWindowDays is how long a deleted key can still be recovered: the most AWS allows.
const keyDeletionWindowDays = 30

// keyName is the resource name of a region's KMS key: the multi-region primary key in the
// primary region, its replica key in the DR region.
func keyName(r Role) resource.Name { return resourceName(r, "kms-key") }

// keyARN returns the observed ARN of a region's key, or "".
func keyARN(o observedState, r Role) string {
	if r == RoleDR {
		return deref(observedAs[kmsv1beta1.ReplicaKey](o, keyName(r)).Status.AtProvider.Arn)
	}
	return deref(observedAs[kmsv1beta1.Key](o, keyName(r)).Status.AtProvider.Arn)
}

// keyPolicy is a region's key policy. The account administers the key (the statement AWS
// requires so that a key never becomes unmanageable, and through which IAM grants the key's use:
// RDS, S3 and Secrets Manager use a key with the caller's permissions, which IAM policies narrow
// with kms:ViaService). Two services act on their own and need the key policy:
//
//   - CloudWatch Logs encrypts the log groups, with the log group's ARN as encryption context
//     (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html);
//   - CloudWatch alarms publish to the encrypted topics
//     (https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns).
//
// The guides' wildcards (kms:Encrypt*, kms:GenerateDataKey*...) are spelt out as the actions they
// cover that these services call, so that no wildcard action is granted.
func keyPolicy(account, region string) policyDocument {
	return policy(
		statement{
			Sid:       "AccountAdministersKey",
			Effect:    allow,
			Principal: map[string]any{"AWS": "arn:aws:iam::" + account + ":root"},
			Action:    []string{"kms:*"},
			Resource:  []string{"*"},
		},
		statement{
			Sid:       "LogsEncryptLogGroups",
			Effect:    allow,
			Principal: map[string]any{"Service": "logs." + region + ".amazonaws.com"},
			Action:    []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"},
			Resource:  []string{"*"},
			Condition: map[string]map[string]any{"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:" + region + ":" + account + ":log-group:*"}},
		},
		statement{
			Sid:       "AlarmsPublishToTopics",
			Effect:    allow,
			Principal: map[string]any{"Service": "cloudwatch.amazonaws.com"},
			Action:    []string{"kms:Decrypt", "kms:GenerateDataKey"},
			Resource:  []string{"*"},
		},
	)
}

// buildKMS adds the multi-region primary key and its alias in the primary region, and, once the
// primary key's ARN is observed, its replica key and alias in the DR region.
func buildKMS(p *xrPlan, o observedState, d *desiredState) {
	pr, dr := p.Regions[RolePrimary], p.Regions[RoleDR]
	d.Add(keyName(RolePrimary), &kmsv1beta1.Key{
		Spec: kmsv1beta1.KeySpec{ForProvider: kmsv1beta1.KeyParameters{
			Region:               &pr.Region,
			Description:          new("PostgreSQL DR pair " + p.Names.Base + ": databases, backups, topics, logs"),
			MultiRegion:          new(true),
			EnableKeyRotation:    new(true),
			DeletionWindowInDays: new(float64(keyDeletionWindowDays)),
			KeyUsage:             new("ENCRYPT_DECRYPT"),
			Policy:               keyPolicy(p.Input.AccountID, pr.Region).JSON(),
			Tags:                 p.Tags(RolePrimary, p.Names.Resource(RolePrimary, "key")),
		}},
	})
	addAlias(p, d, RolePrimary, nil)

	primaryARN := keyARN(o, RolePrimary)
	if primaryARN == "" {
		d.Wait(fmt.Sprintf("the primary KMS key's ARN (%s), to replicate the key to %s", keyName(RolePrimary), dr.Region))
		return
	}
	d.Add(keyName(RoleDR), &kmsv1beta1.ReplicaKey{
		Spec: kmsv1beta1.ReplicaKeySpec{ForProvider: kmsv1beta1.ReplicaKeyParameters{
			Region:               &dr.Region,
			Description:          new("PostgreSQL DR pair " + p.Names.Base + ": replica of the primary region's key"),
			PrimaryKeyArn:        new(primaryARN),
			Enabled:              new(true),
			DeletionWindowInDays: new(float64(keyDeletionWindowDays)),
			Policy:               keyPolicy(p.Input.AccountID, dr.Region).JSON(),
			Tags:                 p.Tags(RoleDR, p.Names.Resource(RoleDR, "key")),
		}},
	})
	// An alias's key selector only finds Keys, not ReplicaKeys: the DR alias names its key by ARN.
	drARN := keyARN(o, RoleDR)
	if drARN == "" {
		d.Wait(fmt.Sprintf("the DR replica key's ARN (%s), to alias it", keyName(RoleDR)))
		return
	}
	addAlias(p, d, RoleDR, &kmsv1beta1.AliasParameters{TargetKeyID: new(drARN)})
}

func addAlias(p *xrPlan, d *desiredState, role Role, params *kmsv1beta1.AliasParameters) {
	if params == nil {
		params = &kmsv1beta1.AliasParameters{TargetKeyIDSelector: d.Select(keyName(role))}
	}
	params.Region = new(p.Regions[role].Region)
	d.Add(resourceName(role, "kms-alias"), named(&kmsv1beta1.Alias{Spec: kmsv1beta1.AliasSpec{ForProvider: *params}}, p.Names.KMSAlias(role)))
}
