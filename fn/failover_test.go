package fn

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crossplane/function-sdk-go/resource"

	"github.com/pgdr/function-postgres-dr/apis/v1alpha1"
	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

// fxDesiredAs is an observed instance last desired as a, with the atProvider fields.
func fxDesiredAs(t *testing.T, a instanceAs, atProvider map[string]any) resource.ObservedComposed {
	t.Helper()
	oc := fxInstance(t, atProvider)
	if a != "" {
		oc.Resource.SetAnnotations(map[string]string{annotationDesiredAs: string(a)})
	}
	return oc
}

// fxInvocation is the observed Invocation of a switchover with its result.
func fxInvocation(t *testing.T, r contract.SwitchoverResult) resource.ObservedComposed {
	t.Helper()
	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return fxObserved(t, "lambda.aws.upbound.io/v1beta1", "Invocation", map[string]any{"result": string(raw)})
}

func TestDetectFailover(t *testing.T) {
	const (
		east1, east2 = `{"regions":{"primary":"us-east-1","dr":"us-east-2"}`, `,"activeRegion":"us-east-2"`
	)
	primaryActive := testPlan(t, east1+`}`)
	explicitPrimary := testPlan(t, east1+`,"activeRegion":"us-east-1"}`)
	drActive := testPlan(t, east1+east2+`}`)
	reseedPrimary := testPlan(t, east1+east2+`,"generations":{"primary":2}}`)
	reseedRetire := testPlan(t, east1+east2+`,"generations":{"primary":2},"retireInstance":"orders-0c614a-primary-db"}`)
	backToPrimary := testPlan(t, east1+`,"generations":{"primary":2}}`)

	primary := fxDesiredAs(t, "", map[string]any{"arn": fxPrimaryDBARN})
	replica := fxDesiredAs(t, "", map[string]any{"arn": fxDRDBARN, "replicateSourceDb": fxPrimaryDBARN})
	promotedDR := fxDesiredAs(t, "", map[string]any{"arn": fxDRDBARN})
	obs := func(parts map[resource.Name]resource.ObservedComposed) observedState { return observedState(parts) }
	p1, d1 := DBInstanceName(RolePrimary), DBInstanceName(RoleDR)
	p2 := instanceName(RolePrimary, 2)
	p2ARN := "arn:aws:rds:us-east-1:123456789012:db:orders-0c614a-primary-db-g2"
	id := switchoverID(drActive, RoleDR)
	promotedResult := fxInvocation(t, contract.SwitchoverResult{Action: contract.ActionSwitchover, ID: id, Outcome: contract.SwitchoverPromoted, FencedLSN: "0/3000060"})
	abortedResult := fxInvocation(t, contract.SwitchoverResult{Action: contract.ActionSwitchover, ID: id, Outcome: contract.SwitchoverAborted, Reason: "replay paused"})
	otherResult := fxInvocation(t, contract.SwitchoverResult{Action: contract.ActionSwitchover, ID: "another", Outcome: contract.SwitchoverPromoted})

	w := func(r Role, g int) dbInstance { return dbInstance{Role: r, Gen: g, As: asWriter} }
	rep := func(r Role, g int) dbInstance { return dbInstance{Role: r, Gen: g, As: asReplica} }
	fenced := func(r Role, g int) dbInstance { return dbInstance{Role: r, Gen: g, As: asFenced} }
	replicating := failoverState{Writer: RolePrimary, Instances: []dbInstance{w(RolePrimary, 1), rep(RoleDR, 1)}}

	cases := map[string]struct {
		reason   string
		plan     *xrPlan
		observed observedState
		want     failoverState
	}{
		"NothingObserved": {
			reason: "Before anything exists the first primary writes and the DR instance is to be its replica.",
			plan:   primaryActive, observed: observedState{}, want: replicating,
		},
		"Replicating": {
			reason: "Instances made before the desired-as annotation: the first primary writes, the DR instance replicates.",
			plan:   primaryActive, observed: obs(map[resource.Name]resource.ObservedComposed{p1: primary, d1: replica}), want: replicating,
		},
		"ReplicaCreating": {
			reason: "A replica observed without an ARN yet is not known to be promoted.",
			plan:   primaryActive, observed: obs(map[resource.Name]resource.ObservedComposed{p1: primary, d1: fxDesiredAs(t, asReplica, map[string]any{})}), want: replicating,
		},
		"PromotedOutOfBand": {
			reason: "A replica observed without a replication source while the spec names the primary: promoted behind Crossplane's back; the old primary is fenced.",
			plan:   primaryActive, observed: obs(map[resource.Name]resource.ObservedComposed{p1: primary, d1: promotedDR}),
			want: failoverState{Writer: RoleDR, PromotedOutOfBand: true, Instances: []dbInstance{{Role: RoleDR, Gen: 1, As: asPromoted}, fenced(RolePrimary, 1)}},
		},
		"ExplicitPrimaryPromoted": {
			reason: "spec.activeRegion naming the primary region is the same as leaving it out.",
			plan:   explicitPrimary, observed: obs(map[resource.Name]resource.ObservedComposed{p1: primary, d1: promotedDR}),
			want: failoverState{Writer: RoleDR, PromotedOutOfBand: true, Instances: []dbInstance{{Role: RoleDR, Gen: 1, As: asPromoted}, fenced(RolePrimary, 1)}},
		},
		"PromotedOutOfBandRemembered": {
			reason: "Once desired as promoted (and the old writer as fenced) the state holds while the spec still names the primary: no switchover back to a fenced instance.",
			plan:   primaryActive,
			observed: obs(map[resource.Name]resource.ObservedComposed{
				p1: fxDesiredAs(t, asFenced, map[string]any{"arn": fxPrimaryDBARN}), d1: fxDesiredAs(t, asPromoted, map[string]any{"arn": fxDRDBARN}),
			}),
			want: failoverState{Writer: RoleDR, PromotedOutOfBand: true, Instances: []dbInstance{{Role: RoleDR, Gen: 1, As: asPromoted}, fenced(RolePrimary, 1)}},
		},
		"PromotedOutOfBandConfirmed": {
			reason: "spec.activeRegion set to the DR region after an out-of-band promotion makes it permanent: the DR instance writes, the old primary stays fenced.",
			plan:   drActive,
			observed: obs(map[resource.Name]resource.ObservedComposed{
				p1: fxDesiredAs(t, asFenced, map[string]any{"arn": fxPrimaryDBARN}), d1: fxDesiredAs(t, asPromoted, map[string]any{"arn": fxDRDBARN}),
			}),
			want: failoverState{Writer: RoleDR, Instances: []dbInstance{w(RoleDR, 1), fenced(RolePrimary, 1)}},
		},
		"SwitchoverReplicaNotReady": {
			reason: "spec.activeRegion names the DR region before its replica is Ready: nothing is asked; the condition says why.",
			plan:   drActive, observed: obs(map[resource.Name]resource.ObservedComposed{p1: primary}),
			want: failoverState{Writer: RolePrimary, Blocked: "the replica in us-east-2 (orders-0c614a-dr-db) is not Ready yet: the switchover starts once it is", Instances: replicating.Instances},
		},
		"SwitchoverRunning": {
			reason: "spec.activeRegion names the region of a Ready replica: the switchover runs; the primary writes and the replica keeps its source until the runner reports.",
			plan:   drActive, observed: obs(map[resource.Name]resource.ObservedComposed{p1: primary, d1: replica}),
			want: failoverState{Writer: RolePrimary, Switching: true, Instances: replicating.Instances},
		},
		"SwitchoverOtherResult": {
			reason: "The result of another switchover (an earlier generation's) is not this one's.",
			plan:   drActive, observed: obs(map[resource.Name]resource.ObservedComposed{p1: primary, d1: replica, switchoverName(RoleDR): otherResult}),
			want: failoverState{Writer: RolePrimary, Switching: true, Instances: replicating.Instances},
		},
		"SwitchoverAborted": {
			reason: "The runner aborted: nothing was promoted and the primary writes on.",
			plan:   drActive, observed: obs(map[resource.Name]resource.ObservedComposed{p1: primary, d1: replica, switchoverName(RoleDR): abortedResult}),
			want: failoverState{Writer: RolePrimary, Switching: true, Result: &contract.SwitchoverResult{Action: contract.ActionSwitchover, ID: id, Outcome: contract.SwitchoverAborted, Reason: "replay paused"}, Instances: replicating.Instances},
		},
		"SwitchoverPromotedReported": {
			reason: "The runner reports the replica promoted before the provider observes it: it writes, its source is dropped, the old primary is fenced.",
			plan:   drActive, observed: obs(map[resource.Name]resource.ObservedComposed{p1: primary, d1: replica, switchoverName(RoleDR): promotedResult}),
			want: failoverState{Writer: RoleDR, Switching: true, Result: &contract.SwitchoverResult{Action: contract.ActionSwitchover, ID: id, Outcome: contract.SwitchoverPromoted, FencedLSN: "0/3000060"},
				Instances: []dbInstance{w(RoleDR, 1), fenced(RolePrimary, 1)}},
		},
		"SwitchoverPromotedObserved": {
			reason: "The replica observed promoted while the spec names its region: the switchover's promotion, not an out-of-band one.",
			plan:   drActive, observed: obs(map[resource.Name]resource.ObservedComposed{p1: primary, d1: promotedDR}),
			want: failoverState{Writer: RoleDR, Switching: true, Instances: []dbInstance{w(RoleDR, 1), fenced(RolePrimary, 1)}},
		},
		"SwitchedOver": {
			reason: "After the switchover the DR instance is desired as the writer and the old primary as fenced: the state holds.",
			plan:   drActive,
			observed: obs(map[resource.Name]resource.ObservedComposed{
				p1: fxDesiredAs(t, asFenced, map[string]any{"arn": fxPrimaryDBARN}), d1: fxDesiredAs(t, asWriter, map[string]any{"arn": fxDRDBARN}),
			}),
			want: failoverState{Writer: RoleDR, Instances: []dbInstance{w(RoleDR, 1), fenced(RolePrimary, 1)}},
		},
		"SwitchBackToFenced": {
			reason: "spec.activeRegion back to the primary while its instance is the fenced old writer: refused until the region is re-seeded.",
			plan:   primaryActive,
			observed: obs(map[resource.Name]resource.ObservedComposed{
				p1: fxDesiredAs(t, asFenced, map[string]any{"arn": fxPrimaryDBARN}), d1: fxDesiredAs(t, asWriter, map[string]any{"arn": fxDRDBARN}),
			}),
			want: failoverState{Writer: RoleDR, Blocked: "the instance in us-east-1 (orders-0c614a-primary-db) is the fenced old writer, not a replica: raise spec.generations.primary by one to re-seed us-east-1 with a replica of orders-0c614a-dr-db, then switch over",
				Instances: []dbInstance{w(RoleDR, 1), fenced(RolePrimary, 1)}},
		},
		"Reseeding": {
			reason: "Generation 2 in the primary region: a new replica of the DR writer there; the old primary is kept, fenced.",
			plan:   reseedPrimary,
			observed: obs(map[resource.Name]resource.ObservedComposed{
				p1: fxDesiredAs(t, asFenced, map[string]any{"arn": fxPrimaryDBARN}), d1: fxDesiredAs(t, asWriter, map[string]any{"arn": fxDRDBARN}),
			}),
			want: failoverState{Writer: RoleDR, Instances: []dbInstance{w(RoleDR, 1), rep(RolePrimary, 2), fenced(RolePrimary, 1)}},
		},
		"RetireBeforeReady": {
			reason: "spec.retireInstance names the old primary but its successor is not Ready yet: not retired.",
			plan:   reseedRetire,
			observed: obs(map[resource.Name]resource.ObservedComposed{
				p1: fxDesiredAs(t, asFenced, map[string]any{"arn": fxPrimaryDBARN}), d1: fxDesiredAs(t, asWriter, map[string]any{"arn": fxDRDBARN}),
			}),
			want: failoverState{Writer: RoleDR, Instances: []dbInstance{w(RoleDR, 1), rep(RolePrimary, 2), fenced(RolePrimary, 1)}},
		},
		"RetireConfirmed": {
			reason: "spec.retireInstance names the old primary and the new replica is Ready and replicating: retired.",
			plan:   reseedRetire,
			observed: obs(map[resource.Name]resource.ObservedComposed{
				p1: fxDesiredAs(t, asFenced, map[string]any{"arn": fxPrimaryDBARN}), d1: fxDesiredAs(t, asWriter, map[string]any{"arn": fxDRDBARN}),
				p2: fxDesiredAs(t, asReplica, map[string]any{"arn": p2ARN, "replicateSourceDb": fxDRDBARN}),
			}),
			want: failoverState{Writer: RoleDR, Instances: []dbInstance{w(RoleDR, 1), rep(RolePrimary, 2), {Role: RolePrimary, Gen: 1, As: asFenced, Retire: true}}},
		},
		"SwitchoverBack": {
			reason: "Back to the primary region once generation 2 replicates there: the switchover runs in the other direction.",
			plan:   backToPrimary,
			observed: obs(map[resource.Name]resource.ObservedComposed{
				d1: fxDesiredAs(t, asWriter, map[string]any{"arn": fxDRDBARN}),
				p2: fxDesiredAs(t, asReplica, map[string]any{"arn": p2ARN, "replicateSourceDb": fxDRDBARN}),
			}),
			want: failoverState{Writer: RoleDR, Switching: true, Instances: []dbInstance{w(RoleDR, 1), rep(RolePrimary, 2)}},
		},
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
	p := testPlan(t, builderSpec)
	switching := stReplicating
	switching.Switching = true
	drActive := testPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"activeRegion":"us-east-2"}`)
	reseeding := failoverState{Writer: RoleDR, Instances: []dbInstance{{Role: RoleDR, Gen: 1, As: asWriter}, {Role: RolePrimary, Gen: 2, As: asReplica}, {Role: RolePrimary, Gen: 1, As: asFenced}}}
	reseedPlan := testPlan(t, `{"regions":{"primary":"us-east-1","dr":"us-east-2"},"activeRegion":"us-east-2","generations":{"primary":2}}`)
	cases := map[string]struct {
		reason   string
		plan     *xrPlan
		st       failoverState
		allReady bool
		want     v1alpha1.Phase
	}{
		"ReplicatingNotReady": {"While anything is not ready the pair is provisioning.", p, stReplicating, false, v1alpha1.PhaseProvisioning},
		"ReplicatingReady":    {"Everything ready and the primary writing: replicating.", p, stReplicating, true, v1alpha1.PhaseReplicating},
		"Switching":           {"A planned switchover under way.", drActive, switching, true, v1alpha1.PhaseSwitchingOver},
		"SwitchedOver":        {"After a switchover there is no replica until the old region is re-seeded: failed over.", drActive, stSwitchedOver, true, v1alpha1.PhaseFailedOver},
		"PromotedNotReady":    {"An out-of-band promotion has already happened: failed over even while resources converge.", p, stPromotedOutOfBand, false, v1alpha1.PhaseFailedOver},
		"Reseeding":           {"A new replica in the old writer's region, not ready yet: re-seeding.", reseedPlan, reseeding, false, v1alpha1.PhaseReseeding},
		"Reseeded":            {"The new replica ready: replicating the other way.", reseedPlan, reseeding, true, v1alpha1.PhaseReplicating},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.st.Phase(tc.plan, tc.allReady); got != tc.want {
				t.Errorf("\n%s\n%+v.Phase(%v) = %s, want %s", tc.reason, tc.st, tc.allReady, got, tc.want)
			}
		})
	}
}
