package fn

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"

	"github.com/crossplane/function-sdk-go/resource"

	rdsv1beta3 "github.com/upbound/provider-aws/v2/apis/cluster/rds/v1beta3"
	secretsmanagerv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/secretsmanager/v1beta1"

	inputv1alpha1 "github.com/pgdr/function-postgres-dr/input/v1alpha1"
)

// secretSpec names a master user, so that the secret's description shows it comes from the spec.
const secretSpec = `{"regions":{"primary":"eu-west-1","dr":"eu-central-1"},"postgres":{"username":"ordersadmin"}}`

func secretVersionName() resource.Name { return resourceName(RolePrimary, "db-master-secret-version") }

func TestBuildSecret(t *testing.T) {
	p := testPlan(t, secretSpec, withAccount)
	both := observedKeys(t, p, primaryKeyARN, drKeyARN)
	drOnly := observedState{keyName(RoleDR): both[keyName(RoleDR)]}
	waitKeys := []string{"both KMS keys' ARNs (primary-kms-key, dr-kms-key), to keep the master password in Secrets Manager in both regions"}

	cases := map[string]struct {
		reason      string
		observed    observedState
		want        []string
		wantWaiting []string
	}{
		"NothingObserved": {
			reason:      "The secret is encrypted under the primary key and its replica under the DR key, by ARN: nothing until both are observed.",
			observed:    observedState{},
			wantWaiting: waitKeys,
		},
		"PrimaryKeyOnly": {
			reason:      "The primary key alone is not enough: the replica needs the DR key.",
			observed:    observedKeys(t, p, primaryKeyARN, ""),
			wantWaiting: waitKeys,
		},
		"DRKeyOnly": {
			reason:      "The DR key alone is not enough: the secret needs the primary key.",
			observed:    drOnly,
			wantWaiting: waitKeys,
		},
		"BothKeys": {
			reason:   "With both keys, the secret and the version that copies the password into it.",
			observed: both,
			want:     []string{string(masterSecretName()), string(secretVersionName())},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := newDesired(clusterFlavour{}, p.ProviderConfig)
			buildSecret(p, tc.observed, d)
			if err := d.Err(); err != nil {
				t.Fatalf("\n%s\nbuildSecret: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, names(d, "primary-", "dr-")); diff != "" {
				t.Errorf("\n%s\ndesired resources: -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantWaiting, d.Waiting); diff != "" {
				t.Errorf("\n%s\nwaiting: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestSecretParameters(t *testing.T) {
	cases := map[string]struct {
		reason        string
		mutate        func(*inputv1alpha1.Input)
		wantNamespace string
	}{
		"DefaultNamespace": {
			reason:        "Without a namespace in the Input the generated password is read from crossplane-system.",
			mutate:        withAccount,
			wantNamespace: "crossplane-system",
		},
		"InputNamespace": {
			reason:        "The Input's secrets namespace is where the password is read from.",
			mutate:        func(in *inputv1alpha1.Input) { withAccount(in); in.SecretsNamespace = "pgdr-secrets" },
			wantNamespace: "pgdr-secrets",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := testPlan(t, secretSpec, tc.mutate)
			o := observedKeys(t, p, primaryKeyARN, drKeyARN)
			d := newDesired(clusterFlavour{}, p.ProviderConfig)
			buildSecret(p, o, d)

			s, ok := d.Resources[masterSecretName()].(*secretsmanagerv1beta1.Secret)
			if !ok {
				t.Fatalf("\n%s\n%s is not a desired Secret", tc.reason, masterSecretName())
			}
			type replica struct{ Region, Key string }
			type secret struct {
				Region, Name, Key string
				RecoveryDays      float64
				Replicas          []replica
			}
			fp := s.Spec.ForProvider
			got := secret{Region: deref(fp.Region), Name: deref(fp.Name), Key: deref(fp.KMSKeyID), RecoveryDays: deref(fp.RecoveryWindowInDays)}
			for _, r := range fp.Replica {
				got.Replicas = append(got.Replicas, replica{deref(r.Region), deref(r.KMSKeyID)})
			}
			want := secret{
				Region: "eu-west-1", Name: p.Names.Base + "-primary-db-master", Key: primaryKeyARN, RecoveryDays: 30,
				Replicas: []replica{{"eu-central-1", drKeyARN}},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("\n%s\nthe master password secret: in the primary region under the primary key, replicated to the DR region under the DR key, recoverable for 30 days: -want, +got:\n%s", tc.reason, diff)
			}
			if desc := deref(fp.Description); !strings.Contains(desc, "user ordersadmin") || !strings.Contains(desc, p.Names.DBInstance(RolePrimary, 1)) {
				t.Errorf("\n%s\ndescription %q does not name the spec's master user and the primary instance", tc.reason, desc)
			}

			v, ok := d.Resources[secretVersionName()].(*secretsmanagerv1beta1.SecretVersion)
			if !ok {
				t.Fatalf("\n%s\n%s is not a desired SecretVersion", tc.reason, secretVersionName())
			}
			vp := v.Spec.ForProvider
			wantRef := &xpv1.SecretKeySelector{
				SecretReference: xpv1.SecretReference{Name: p.Names.Base + "-master-password", Namespace: tc.wantNamespace},
				Key:             "password",
			}
			if diff := cmp.Diff(wantRef, vp.SecretStringSecretRef); diff != "" {
				t.Errorf("\n%s\nthe version's secret string is read from the generated password's Kubernetes Secret: -want, +got:\n%s", tc.reason, diff)
			}
			if got := deref(vp.Region); got != "eu-west-1" {
				t.Errorf("\n%s\nthe version is in %q, want the secret's region eu-west-1", tc.reason, got)
			}
			if got := selectorTarget(vp.SecretIDSelector); got != string(masterSecretName()) {
				t.Errorf("\n%s\nthe version selects secret %q, want %q", tc.reason, got, masterSecretName())
			}
			if vp.SecretBinarySecretRef != nil || vp.SecretStringWoSecretRef != nil {
				t.Errorf("\n%s\nthe version has a second source besides the generated password: binary %v, write-only %v", tc.reason, vp.SecretBinarySecretRef, vp.SecretStringWoSecretRef)
			}

			// The password the version copies is the one the primary instance has provider-aws
			// generate: the two builders must name the same Kubernetes Secret and key.
			dd := databaseWithLogGroups(t, p, o, RolePrimary)
			i, ok := dd.Resources[DBInstanceName(RolePrimary)].(*rdsv1beta3.Instance)
			if !ok {
				t.Fatalf("\n%s\n%s is not a desired Instance once the primary key and its log groups are observed", tc.reason, DBInstanceName(RolePrimary))
			}
			if diff := cmp.Diff(i.Spec.ForProvider.PasswordSecretRef, vp.SecretStringSecretRef); diff != "" {
				t.Errorf("\n%s\nthe version reads another Secret than the one the primary instance writes its generated password to: -instance, +version:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestSecretARN(t *testing.T) {
	const arn = "arn:aws:secretsmanager:eu-west-1:210987654321:secret:orders-3f2a1b-primary-db-master-AbC123"
	secret := func(arn string, replicas ...any) resource.ObservedComposed {
		fp := map[string]any{"region": "eu-west-1"}
		if replicas != nil {
			fp["replica"] = replicas
		}
		at := map[string]any{}
		if arn != "" {
			at["arn"] = arn
		}
		return observedResource(t, map[string]any{
			"apiVersion": "secretsmanager.aws.upbound.io/v1beta1", "kind": "Secret",
			"spec":   map[string]any{"forProvider": fp},
			"status": map[string]any{"atProvider": at},
		})
	}
	dr := map[string]any{"region": "eu-central-1", "kmsKeyId": drKeyARN}

	cases := map[string]struct {
		reason   string
		observed observedState
		want     string
	}{
		"NotObserved": {"No secret observed: no ARN.", observedState{}, ""},
		"Replicated": {
			reason:   "The Lambdas read the replica in the DR region: the observed ARN with its region swapped, name and suffix kept.",
			observed: observedState{masterSecretName(): secret(arn, dr)},
			want:     "arn:aws:secretsmanager:eu-central-1:210987654321:secret:orders-3f2a1b-primary-db-master-AbC123",
		},
		"NoARNYet": {
			reason:   "Observed but without an ARN: not yet made.",
			observed: observedState{masterSecretName(): secret("", dr)},
		},
		"NoReplica": {
			reason:   "A secret without a replica has no DR copy to point at.",
			observed: observedState{masterSecretName(): secret(arn)},
		},
		"ReplicaWithoutRegion": {
			reason:   "A replica entry without a region names no region to swap in.",
			observed: observedState{masterSecretName(): secret(arn, map[string]any{"kmsKeyId": drKeyARN})},
		},
		"NotAnARN": {
			reason:   "An ARN of fewer than six parts is not used.",
			observed: observedState{masterSecretName(): secret("arn:aws:secretsmanager:eu-west-1", dr)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := dbSecretARN(tc.observed); got != tc.want {
				t.Errorf("\n%s\ndbSecretARN: got %q, want %q", tc.reason, got, tc.want)
			}
		})
	}

	t.Run("FromTheBuilder", func(t *testing.T) {
		p := testPlan(t, secretSpec, withAccount)
		d, o := settle(t, p, observedKeys(t, p, primaryKeyARN, drKeyARN), func(o observedState, d *desiredState) { buildSecret(p, o, d) })
		if len(d.Waiting) > 0 {
			t.Fatalf("still waiting once both keys are observed:\n%s", strings.Join(d.Waiting, "\n"))
		}
		primary := deref(observedAs[secretsmanagerv1beta1.Secret](o, masterSecretName()).Status.AtProvider.Arn)
		if !strings.HasPrefix(primary, "arn:aws:secretsmanager:eu-west-1:") {
			t.Fatalf("the stand-in reports the secret at %q, want an ARN in eu-west-1", primary)
		}
		want := strings.Replace(primary, ":eu-west-1:", ":eu-central-1:", 1)
		if got := dbSecretARN(o); got != want {
			t.Errorf("dbSecretARN of the secret buildSecret desires: got %q, want the DR replica's ARN %q", got, want)
		}
	})
}
