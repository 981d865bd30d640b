package fn

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pgdr/function-postgres-dr/apis/v1alpha1"
)

func TestDetectFailover(t *testing.T) {
	primaryActive := testPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"}}`)
	explicitPrimary := testPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"activeRegion":"us-east-1"}`)
	drActive := testPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"activeRegion":"us-east-2"}`)
	dr := func(atProvider map[string]any) observedState {
		return observedState{
			DBInstanceName(RolePrimary): fxInstance(t, map[string]any{"arn": fxPrimaryDBARN}),
			DBInstanceName(RoleDR):      fxInstance(t, atProvider),
		}
	}
	replica := dr(map[string]any{"arn": fxDRDBARN, "replicateSourceDb": fxPrimaryDBARN})
	promoted := dr(map[string]any{"arn": fxDRDBARN})
	emptySource := dr(map[string]any{"arn": fxDRDBARN, "replicateSourceDb": ""})
	creating := dr(map[string]any{})
	notObserved := observedState{DBInstanceName(RolePrimary): fxInstance(t, map[string]any{"arn": fxPrimaryDBARN})}

	replicating := failoverState{Writer: RolePrimary}
	outOfBand := failoverState{Writer: RoleDR, PromotedOutOfBand: true}
	switchover := failoverState{Writer: RoleDR, Switchover: true}

	cases := map[string]struct {
		reason   string
		plan     *xrPlan
		observed observedState
		want     failoverState
	}{
		"PrimaryActiveNothingObserved": {"Before anything exists the primary writes.", primaryActive, observedState{}, replicating},
		"PrimaryActiveReplicaNotYet":   {"Before the replica is observed the primary writes.", primaryActive, notObserved, replicating},
		"PrimaryActiveReplicaCreating": {"A replica observed without an ARN yet is not known to be promoted.", primaryActive, creating, replicating},
		"PrimaryActiveReplicating":     {"A replica observed with a replication source: the primary writes.", primaryActive, replica, replicating},
		"PrimaryActivePromoted":        {"A replica observed without a replication source was promoted behind Crossplane's back.", primaryActive, promoted, outOfBand},
		"PrimaryActiveEmptySource":     {"An empty replication source is none.", primaryActive, emptySource, outOfBand},
		"ExplicitPrimaryPromoted":      {"spec.activeRegion naming the primary region is the same as leaving it out.", explicitPrimary, promoted, outOfBand},
		"DRActiveNothingObserved":      {"spec.activeRegion naming the DR region is a planned switchover, whatever is observed.", drActive, observedState{}, switchover},
		"DRActiveReplicating":          {"A switchover while the replica still replicates: the spec decides, the DR instance is to write.", drActive, replica, switchover},
		"DRActivePromoted":             {"A switchover after the promotion is a switchover, not an out-of-band promotion.", drActive, promoted, switchover},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, detectFailover(tc.plan, tc.observed)); diff != "" {
				t.Errorf("\n%s\ndetectFailover: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestPhase(t *testing.T) {
	cases := map[string]struct {
		reason   string
		st       failoverState
		allReady bool
		want     v1alpha1.Phase
	}{
		"ReplicatingNotReady": {"While anything is not ready the pair is provisioning.", failoverState{Writer: RolePrimary}, false, v1alpha1.PhaseProvisioning},
		"ReplicatingReady":    {"Everything ready and the primary writing: replicating.", failoverState{Writer: RolePrimary}, true, v1alpha1.PhaseReplicating},
		"SwitchoverNotReady":  {"A planned switchover under way is failing over.", failoverState{Writer: RoleDR, Switchover: true}, false, v1alpha1.PhaseFailingOver},
		"SwitchoverReady":     {"A planned switchover done is failed over.", failoverState{Writer: RoleDR, Switchover: true}, true, v1alpha1.PhaseFailedOver},
		"PromotedNotReady":    {"An out-of-band promotion has already happened: failed over even while resources converge.", failoverState{Writer: RoleDR, PromotedOutOfBand: true}, false, v1alpha1.PhaseFailedOver},
		"PromotedReady":       {"An out-of-band promotion with everything ready is failed over.", failoverState{Writer: RoleDR, PromotedOutOfBand: true}, true, v1alpha1.PhaseFailedOver},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.st.Phase(tc.allReady); got != tc.want {
				t.Errorf("\n%s\n%+v.Phase(%v) = %s, want %s", tc.reason, tc.st, tc.allReady, got, tc.want)
			}
		})
	}
}
