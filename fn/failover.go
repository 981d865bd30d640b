package fn

import (
	"encoding/json"
	"fmt"

	"github.com/crossplane/function-sdk-go/resource"

	lambdav1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/lambda/v1beta1"

	"github.com/pgdr/function-postgres-dr/apis/v1alpha1"
	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

// instanceAs is what the function desires a database instance as. It keeps it on the instance in
// annotationDesiredAs: what it last asked an instance to be is how it tells a promotion it asked
// for from one behind its back.
type instanceAs string

// What an instance is desired as.
const (
	asWriter  instanceAs = "writer"
	asReplica instanceAs = "replica"
	// asPromoted is a replica promoted outside Crossplane (the failover Lambda did it) while the
	// spec still names the other region active.
	asPromoted instanceAs = "promoted"
	// asFenced is an old writer: read-only, closed to clients, deletion-protected, kept.
	asFenced instanceAs = "fenced"
)

// annotationDesiredAs is where an instance keeps what it was last desired as.
const annotationDesiredAs = "pgdr.io/desired-as"

// dbInstance is one database instance the function desires.
type dbInstance struct {
	Role Role
	Gen  int
	As   instanceAs
	// Retire is true once spec.retireInstance names this retained instance and its successor is
	// Ready: deletion protection off, then, once AWS reports it off, deleted.
	Retire bool
}

// Name is the instance's resource name.
func (i dbInstance) Name() resource.Name { return instanceName(i.Role, i.Gen) }

// instanceName is the resource name of a region's database instance of a generation.
func instanceName(r Role, gen int) resource.Name {
	return resource.Name(string(DBInstanceName(r)) + genSuffix(gen))
}

// failoverState is where the database pair stands, from the spec and what is observed. Failover
// is a state the function understands, not an accident it fights.
type failoverState struct {
	// Writer is the role whose current instance takes writes.
	Writer Role
	// PromotedOutOfBand is true when the standby's replica was promoted behind Crossplane's
	// back (the failover Lambda did it) while the spec names the other region active.
	PromotedOutOfBand bool
	// Switching is true while spec.activeRegion names the region of a Ready replica of the
	// writer: the failover Lambda's switchover runs there, started by an Invocation.
	Switching bool
	// Result is the switchover's result, once the Invocation reports it.
	Result *contract.SwitchoverResult
	// Blocked says why spec.activeRegion cannot be honoured now, and what to do.
	Blocked string
	// AwaitResult is true while the XR reports a switchover promoted without its result: the
	// promotion was observed before the Invocation's result, which stays desired until it is read.
	AwaitResult bool
	// Instances are the instances to desire: each region's current one, and an old one kept.
	Instances []dbInstance
}

// Standby is the role of the region that does not hold the writer.
func (st failoverState) Standby() Role { return st.Writer.Peer() }

// Current returns a region's current instance.
func (st failoverState) Current(p *xrPlan, r Role) dbInstance {
	for _, i := range st.Instances {
		if i.Role == r && i.Gen == p.Gen[r] {
			return i
		}
	}
	return dbInstance{Role: r, Gen: p.Gen[r]}
}

// Armed reports whether the standby region's current instance is a replica of the writer: then
// there is replication to monitor, and the failover path lives in the standby region.
func (st failoverState) Armed(p *xrPlan) bool {
	return st.Current(p, st.Standby()).As == asReplica
}

// Retained returns the old instance kept in a region, if any.
func (st failoverState) Retained(p *xrPlan, r Role) (dbInstance, bool) {
	for _, i := range st.Instances {
		if i.Role == r && i.Gen != p.Gen[r] {
			return i, true
		}
	}
	return dbInstance{}, false
}

// desiredAs is what an observed instance was last desired as, "" when it is not observed. An
// instance made before the annotation existed is the first primary (a writer) or a replica.
func desiredAs(o observedState, r Role, gen int) instanceAs {
	name := instanceName(r, gen)
	if !o.Exists(name) {
		return ""
	}
	if a := o[name].Resource.GetAnnotations()[annotationDesiredAs]; a != "" {
		return instanceAs(a)
	}
	if r == RolePrimary && gen == 1 {
		return asWriter
	}
	return asReplica
}

// wasWriter reports whether an instance was desired as a writer of some kind.
func wasWriter(a instanceAs) bool { return a == asWriter || a == asPromoted || a == asFenced }

// promoted reports whether an observed instance reports no replication source.
func promoted(o observedState, name resource.Name) bool {
	at := observedDB(o, name).Status.AtProvider
	return deref(at.Arn) != "" && deref(at.ReplicateSourceDB) == ""
}

// detectFailover reads the failover state.
//
//nolint:gocyclo // One case per state of the round trip, in the order of the README's table.
func detectFailover(p *xrPlan, o observedState) failoverState {
	want := p.RoleOf(p.Spec.ActiveRegion)
	// The writer as last desired; the spec's region first. A new pair's writer is the primary.
	prev := RolePrimary
	for _, r := range []Role{want, want.Peer()} {
		if a := desiredAs(o, r, p.Gen[r]); a == asWriter || a == asPromoted {
			prev = r
			break
		}
	}
	st := failoverState{Writer: prev}
	sb := prev.Peer()
	sbAs := desiredAs(o, sb, p.Gen[sb])
	writerAs := asWriter
	switch {
	case sbAs == asReplica && promoted(o, p.Instance(sb)):
		// The replica takes writes: the switchover promoted it, or the failover Lambda did.
		st.Writer = sb
		if want == sb {
			st.Switching, st.Result = true, switchoverResult(p, o, sb)
		} else {
			st.PromotedOutOfBand, writerAs = true, asPromoted
		}
	case desiredAs(o, prev, p.Gen[prev]) == asPromoted && want != prev:
		st.PromotedOutOfBand, writerAs = true, asPromoted
	case want != prev:
		switch {
		case sbAs == asReplica && o.Ready(p.Instance(sb)):
			st.Switching, st.Result = true, switchoverResult(p, o, sb)
			if st.Result != nil && st.Result.Outcome == contract.SwitchoverPromoted {
				st.Writer = sb
			}
		case wasWriter(sbAs):
			st.Blocked = fmt.Sprintf("the instance in %s (%s) is the fenced old writer, not a replica: raise spec.generations.%s by one to re-seed %s with a replica of %s, then switch over",
				p.Regions[sb].Region, p.InstanceID(sb), sb, p.Regions[sb].Region, p.InstanceID(prev))
		default:
			st.Blocked = fmt.Sprintf("the replica in %s (%s) is not Ready yet: the switchover starts once it is", p.Regions[sb].Region, p.InstanceID(sb))
		}
	}

	w, s := st.Writer, st.Writer.Peer()
	st.Instances = append(st.Instances, dbInstance{Role: w, Gen: p.Gen[w], As: writerAs})
	standby := dbInstance{Role: s, Gen: p.Gen[s], As: asReplica}
	if wasWriter(desiredAs(o, s, p.Gen[s])) {
		standby.As = asFenced
	}
	st.Instances = append(st.Instances, standby)
	for _, r := range roles {
		for g := p.Gen[r] - 1; g >= 1; g-- {
			a := desiredAs(o, r, g)
			if a == "" {
				continue
			}
			old := dbInstance{Role: r, Gen: g, As: asFenced}
			if a == asReplica && !promoted(o, instanceName(r, g)) {
				old.As = asReplica
			}
			cur := st.Current(p, r)
			old.Retire = p.Spec.RetireInstance == p.Names.DBInstance(r, g) && cur.As == asReplica &&
				o.Ready(cur.Name()) && deref(observedDB(o, cur.Name()).Status.AtProvider.ReplicateSourceDB) != ""
			st.Instances = append(st.Instances, old)
			break
		}
	}
	return st
}

// switchoverName is the resource name of the Invocation that runs the switchover to a region.
func switchoverName(to Role) resource.Name { return resourceName(to, "switchover") }

// switchoverID names the switchover to a region's current instance.
func switchoverID(p *xrPlan, to Role) string {
	return fmt.Sprintf("%s-to-%s-g%d", p.Names.Base, p.Regions[to].Region, p.Gen[to])
}

// switchoverResult returns the result the Invocation of the switchover to a region reports, or
// nil while there is none (or it is another switchover's).
func switchoverResult(p *xrPlan, o observedState, to Role) *contract.SwitchoverResult {
	raw := deref(observedAs[lambdav1beta1.Invocation](o, switchoverName(to)).Status.AtProvider.Result)
	if raw == "" {
		return nil
	}
	r := &contract.SwitchoverResult{}
	if json.Unmarshal([]byte(raw), r) != nil || r.ID != switchoverID(p, to) {
		return nil
	}
	return r
}

// Phase is the XR's phase for the failover state and readiness.
func (st failoverState) Phase(p *xrPlan, allReady bool) v1alpha1.Phase {
	_, retained := st.Retained(p, st.Standby())
	switch {
	case st.PromotedOutOfBand:
		return v1alpha1.PhaseFailedOver
	case st.Switching && st.Writer != p.RoleOf(p.Spec.ActiveRegion) && (st.Result == nil || st.Result.Outcome != contract.SwitchoverAborted):
		return v1alpha1.PhaseSwitchingOver
	case !st.Armed(p):
		return v1alpha1.PhaseFailedOver
	case allReady:
		return v1alpha1.PhaseReplicating
	case retained:
		return v1alpha1.PhaseReseeding
	}
	return v1alpha1.PhaseProvisioning
}
