package fn

import (
	"github.com/pgdr/function-postgres-dr/apis/v1alpha1"
)

// failoverState is where the database pair stands, from the spec and what is observed. Failover
// is a state the function understands, not an accident it fights.
type failoverState struct {
	// Writer is the role whose instance takes writes.
	Writer Role
	// PromotedOutOfBand is true when the DR replica was promoted behind Crossplane's back (the
	// failover Lambda did it) while the spec still names the primary region active.
	PromotedOutOfBand bool
	// Switchover is true when the spec names the DR region active: a planned switch.
	Switchover bool
}

// detectFailover reads the failover state. The DR instance is a replica while it is observed
// with a replication source; once it is observed without one it has been promoted.
func detectFailover(p *xrPlan, o observedState) failoverState {
	st := failoverState{Writer: RolePrimary}
	if p.Spec.ActiveRegion == p.Spec.Regions.DR {
		st.Writer, st.Switchover = RoleDR, true
		return st
	}
	if dr := observedInstance(o, RoleDR).Status.AtProvider; deref(dr.Arn) != "" && deref(dr.ReplicateSourceDB) == "" {
		st.Writer, st.PromotedOutOfBand = RoleDR, true
	}
	return st
}

// Phase is the XR's phase for the failover state and readiness.
func (st failoverState) Phase(allReady bool) v1alpha1.Phase {
	switch {
	case st.PromotedOutOfBand, st.Switchover && allReady:
		return v1alpha1.PhaseFailedOver
	case st.Switchover:
		return v1alpha1.PhaseFailingOver
	case allReady:
		return v1alpha1.PhaseReplicating
	}
	return v1alpha1.PhaseProvisioning
}
