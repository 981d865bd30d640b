package fn

import (
	"fmt"
	"strings"

	"github.com/crossplane/function-sdk-go/resource"

	secretsmanagerv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/secretsmanager/v1beta1"
)

// secretRecoveryDays is how long a deleted master password secret can be restored: the most
// AWS allows.
const secretRecoveryDays = 30

// masterSecretName is the resource name of the Secrets Manager secret holding the master password.
func masterSecretName() resource.Name { return resourceName(RolePrimary, "db-master-secret") }

// dbSecretARN returns the ARN of the master password secret's replica in the DR region, where the
// Lambdas read it (it stays readable when the primary region is gone), or "".
func dbSecretARN(o observedState) string {
	s := observedAs[secretsmanagerv1beta1.Secret](o, masterSecretName())
	parts := strings.SplitN(deref(s.Status.AtProvider.Arn), ":", 6)
	if len(parts) != 6 {
		return ""
	}
	// The replica's region as AWS reports it: a secret taken over observe-only has no spec yet.
	var region string
	for _, r := range s.Status.AtProvider.Replica {
		region = orDefault(region, deref(r.Region))
	}
	for _, r := range s.Spec.ForProvider.Replica {
		region = orDefault(region, deref(r.Region))
	}
	if region == "" {
		return ""
	}
	parts[3] = region
	return strings.Join(parts, ":")
}

// buildSecret copies the generated master password into a Secrets Manager secret in the primary
// region, encrypted with the primary key and replicated to the DR region under the DR key, for
// the Lambdas. It waits for both keys' ARNs.
func buildSecret(p *xrPlan, o observedState, d *desiredState) {
	pk, dk := keyARN(o, RolePrimary), keyARN(o, RoleDR)
	if pk == "" || dk == "" {
		d.Wait(fmt.Sprintf("both KMS keys' ARNs (%s, %s), to keep the master password in Secrets Manager in both regions", keyName(RolePrimary), keyName(RoleDR)))
		return
	}
	pr, dr := p.Regions[RolePrimary], p.Regions[RoleDR]
	name := p.Names.Resource(RolePrimary, "db-master")
	d.Add(masterSecretName(), &secretsmanagerv1beta1.Secret{
		Spec: secretsmanagerv1beta1.SecretSpec{ForProvider: secretsmanagerv1beta1.SecretParameters{
			Region:               &pr.Region,
			Name:                 new(name),
			Description:          new("Master password of " + p.Names.DBInstance(RolePrimary, 1) + " (user " + p.Spec.Postgres.Username + "), for the replication-lag and failover Lambdas"),
			KMSKeyID:             new(pk),
			RecoveryWindowInDays: new(float64(secretRecoveryDays)),
			Replica:              []secretsmanagerv1beta1.ReplicaParameters{{Region: &dr.Region, KMSKeyID: new(dk)}},
			Tags:                 p.Tags(RolePrimary, name),
		}},
	})
	ref := p.PasswordSecretRef()
	d.Add(resourceName(RolePrimary, "db-master-secret-version"), &secretsmanagerv1beta1.SecretVersion{
		Spec: secretsmanagerv1beta1.SecretVersionSpec{ForProvider: secretsmanagerv1beta1.SecretVersionParameters{
			Region:                &pr.Region,
			SecretIDSelector:      d.Select(masterSecretName()),
			SecretStringSecretRef: ref,
		}},
	})
}
