package fn

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/util/validation"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
)

func TestBuildUsages(t *testing.T) {
	// What AWS refuses to delete while it is used: DeleteDBInstance of a primary with read
	// replicas ("you must delete the read replicas first", InvalidDBInstanceState), DeleteDBSubnetGroup,
	// DeleteDBParameterGroup and DeleteSecurityGroup while an instance uses them (InvalidDBSubnetGroupStateFault,
	// InvalidDBParameterGroupState, DependencyViolation), a key RDS still encrypts with
	// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html and the
	// Delete* pages of the same reference); a Lambda's role is needed until the function is gone.
	// Crossplane holds the delete of a ClusterUsage's "of" while its "by" exists
	// (https://docs.crossplane.io/latest/managed-resources/usages/).
	perInstance := func(role Role) []string {
		db := DBInstanceName(role)
		var out []string
		for _, of := range []string{"db-subnet-group", "db-parameter-group", "sg-database", "kms-key", "db-monitoring-role", "db-log-postgresql", "db-log-upgrade"} {
			out = append(out, string(usageName(resourceName(role, of), db)))
		}
		return out
	}
	lambdas := []string{
		string(usageName(lambdaPart(drLambdas, "replication-lag", "role"), lambdaName(drLambdas, "replication-lag"))),
		string(usageName(lambdaPart(drLambdas, "failover", "role"), lambdaName(drLambdas, "failover"))),
	}
	replicaOfPrimary := string(usageName(DBInstanceName(RolePrimary), DBInstanceName(RoleDR)))
	fencedPrimary := string(usageName(securityGroupName(RolePrimary, sgFenced), DBInstanceName(RolePrimary)))
	cases := map[string]struct {
		reason   string
		spec     string
		passes   int
		promoted bool
		want     []string
	}{
		"FirstPass": {
			reason: "Nothing that uses anything is desired yet (no instance, no Lambda): no usage.",
			spec:   testSpec, passes: -1,
		},
		"Replicating": {
			reason: "Converged: the replica holds the primary; each instance its subnet group, parameter group, security group, key and monitoring role; each Lambda its role.",
			spec:   testSpec,
			want:   slices.Concat([]string{replicaOfPrimary}, perInstance(RolePrimary), perInstance(RoleDR), lambdas),
		},
		"PromotedOutOfBand": {
			reason: "Promoted out of band the graph is kept as it stands until the spec says what is permanent, the usage of the primary included.",
			spec:   testSpec, promoted: true,
			want: slices.Concat([]string{replicaOfPrimary, fencedPrimary}, perInstance(RolePrimary), perInstance(RoleDR), lambdas),
		},
		"SwitchoverRunning": {
			reason: "While the switchover runs the replica still holds the primary.",
			spec:   `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"activeRegion":"us-east-2"}`,
			want:   slices.Concat([]string{replicaOfPrimary}, perInstance(RolePrimary), perInstance(RoleDR), lambdas),
		},
		"Switchover": {
			reason: "Switched over: the DR instance is no replica, so it does not hold the primary; the fenced old primary holds its closed security group; no failover path until re-seeded.",
			spec:   `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"activeRegion":"us-east-2"}`, promoted: true,
			want: slices.DeleteFunc(slices.Concat([]string{fencedPrimary}, perInstance(RolePrimary), perInstance(RoleDR)), func(u string) bool {
				return u == string(usageName(securityGroupName(RolePrimary, sgDatabase), DBInstanceName(RolePrimary)))
			}),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rsp := runFn(t, newRequest(testInput, testXR(tc.spec), observedAfter(t, tc.spec, tc.passes, tc.promoted)))
			var got []string
			for n, r := range rsp.GetDesired().GetResources() {
				obj := r.GetResource().AsMap()
				if obj["kind"] != "ClusterUsage" {
					continue
				}
				got = append(got, n)
				// The name is the value of the pgdr.io/resource label, which the API server
				// refuses over 63 characters (k8s.io/apimachinery validation.IsValidLabelValue).
				if errs := validation.IsValidLabelValue(n); len(errs) > 0 {
					t.Errorf("\n%s\n%s is no label value: %v", tc.reason, n, errs)
				}
				if r.GetReady() != fnv1.Ready_READY_TRUE {
					t.Errorf("\n%s\n%s is %v: a usage does not gate readiness", tc.reason, n, r.GetReady())
				}
				if get(obj, "spec.replayDeletion") != true {
					t.Errorf("\n%s\n%s does not replay the held deletion", tc.reason, n)
				}
			}
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("\n%s\nusages: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}

	rsp := runFn(t, newRequest(testInput, testXR(testSpec), observedAfter(t, testSpec, 0, false)))
	u := rsp.GetDesired().GetResources()[replicaOfPrimary].GetResource().AsMap()
	want := map[string]any{
		"of": map[string]any{"apiVersion": "rds.aws.upbound.io/v1beta3", "kind": "Instance",
			"resourceSelector": map[string]any{"matchControllerRef": true, "matchLabels": map[string]any{labelResource: string(DBInstanceName(RolePrimary))}}},
		"by": map[string]any{"apiVersion": "rds.aws.upbound.io/v1beta3", "kind": "Instance",
			"resourceSelector": map[string]any{"matchControllerRef": true, "matchLabels": map[string]any{labelResource: string(DBInstanceName(RoleDR))}}},
	}
	for k, v := range want {
		if diff := cmp.Diff(v, get(u, "spec."+k)); diff != "" {
			t.Errorf("%s spec.%s: -want, +got:\n%s", replicaOfPrimary, k, diff)
		}
	}
}

func TestUsageName(t *testing.T) {
	cases := map[string]struct {
		reason  string
		of, by  string
		want    string
		wantLen int
	}{
		"Short": {reason: "A name that fits is kept as it is.", of: "dr-kms-key", by: "dr-db-instance", want: "usage-dr-kms-key-by-dr-db-instance"},
		"Long": {
			reason: "A name over 63 characters is cut to 63, ending in a hash of the whole, so that it stays a label value and unique.",
			of:     "dr-lambda-replication-lag-role", by: "dr-lambda-replication-lag", wantLen: 63,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := string(usageName(resource.Name(tc.of), resource.Name(tc.by)))
			if tc.want != "" && got != tc.want {
				t.Errorf("\n%s\nusageName = %q, want %q", tc.reason, got, tc.want)
			}
			if tc.wantLen != 0 && len(got) != tc.wantLen {
				t.Errorf("\n%s\nusageName = %q (%d characters), want %d", tc.reason, got, len(got), tc.wantLen)
			}
			if other := string(usageName(resource.Name(tc.of+"x"), resource.Name(tc.by))); tc.wantLen != 0 && other == got {
				t.Errorf("\n%s\ntwo long names cut to the same %q", tc.reason, got)
			}
		})
	}
}
