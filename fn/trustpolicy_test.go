package fn

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crossplane/function-sdk-go/resource"

	iamv1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/iam/v1beta1"

	inputv1alpha1 "github.com/pgdr/function-postgres-dr/input/v1alpha1"
)

// TestServiceRoleTrustSourceAccount checks that the roles AWS services assume on the XR's behalf
// trust the service only for this account's resources. RDS User Guide, Setting up and enabling
// Enhanced Monitoring, "Preventing the confused deputy problem"
// (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html): "we
// recommend using the aws:SourceArn and aws:SourceAccount global condition context keys in a
// trust policy for your Enhanced Monitoring role", its example a StringEquals on
// aws:SourceAccount; IAM User Guide, The confused deputy problem
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html). The S3 replication
// guide's trust policy has no condition; the same aws:SourceAccount is the project's hardening of
// the S3 role, to be confirmed end to end against S3.
func TestServiceRoleTrustSourceAccount(t *testing.T) {
	trust := func(service, account string) []statement {
		return []statement{{
			Effect:    allow,
			Principal: map[string]any{"Service": service},
			Action:    []string{"sts:AssumeRole"},
			Condition: map[string]map[string]any{"StringEquals": {"aws:SourceAccount": account}},
		}}
	}
	otherAccount := func(in *inputv1alpha1.Input) { in.AccountID = "210987654321" }
	cases := map[string]struct {
		reason   string
		plan     *xrPlan
		promoted bool
		role     resource.Name
		want     []statement
	}{
		"PrimaryMonitoring": {
			reason: "The primary region's enhanced-monitoring role: RDS monitoring, for this account only.",
			plan:   testPlan(t, builderSpec),
			role:   "primary-db-monitoring-role",
			want:   trust("monitoring.rds.amazonaws.com", "123456789012"),
		},
		"DRMonitoring": {
			reason: "The DR region's enhanced-monitoring role likewise.",
			plan:   testPlan(t, builderSpec),
			role:   "dr-db-monitoring-role",
			want:   trust("monitoring.rds.amazonaws.com", "123456789012"),
		},
		"MonitoringOtherAccount": {
			reason: "The account is the Input's.",
			plan:   testPlan(t, builderSpec, otherAccount),
			role:   "primary-db-monitoring-role",
			want:   trust("monitoring.rds.amazonaws.com", "210987654321"),
		},
		"S3Replication": {
			reason: "The S3 replication role of the primary bucket: S3, for this account only.",
			plan:   testPlan(t, builderSpec),
			role:   "primary-backup-replication-role",
			want:   trust("s3.amazonaws.com", "123456789012"),
		},
		"S3ReplicationAfterFailover": {
			reason:   "The DR bucket's replication role, once the DR instance writes, likewise.",
			plan:     testPlan(t, builderSpec),
			promoted: true,
			role:     "dr-backup-replication-role",
			want:     trust("s3.amazonaws.com", "123456789012"),
		},
		"S3ReplicationOtherAccount": {
			reason: "The account is the Input's.",
			plan:   testPlan(t, builderSpec, otherAccount),
			role:   "primary-backup-replication-role",
			want:   trust("s3.amazonaws.com", "210987654321"),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			o := dataLayer(t, tc.plan, tc.promoted)
			d, _ := settle(t, tc.plan, o, func(o observedState, d *desiredState) {
				buildDatabase(tc.plan, o, detectFailover(tc.plan, o), d)
				buildStorage(tc.plan, o, detectFailover(tc.plan, o), d)
			})
			r, ok := d.Resources[tc.role].(*iamv1beta1.Role)
			if !ok {
				t.Fatalf("%s is not a desired Role", tc.role)
			}
			var doc policyDocument
			if err := json.Unmarshal([]byte(deref(r.Spec.ForProvider.AssumeRolePolicy)), &doc); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, doc.Statement); diff != "" {
				t.Errorf("\n%s\n%s trust policy: -want, +got:\n%s", tc.reason, tc.role, diff)
			}
		})
	}
}
