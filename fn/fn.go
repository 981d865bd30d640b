// Package fn is function-postgres-dr: it expands a PostgresDR XR into the provider-aws managed
// resources of two regions. RunFunction is a pure function of its request.
package fn

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/crossplane/function-sdk-go/errors"
	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/request"
	"github.com/crossplane/function-sdk-go/response"
)

// Condition types the function sets on the XR and its claim.
const (
	// TypeStaged is True when nothing is withheld waiting for observed state.
	TypeStaged = "Staged"

	ReasonAllStaged       = "AllStaged"
	ReasonWaitingObserved = "WaitingForObservedState"

	// TypeFailedOver is True when the DR instance takes writes.
	TypeFailedOver          = "FailedOver"
	ReasonPromotedOutOfBand = "PromotedOutOfBand"
	ReasonPlannedSwitchover = "PlannedSwitchover"
)

// LabelClaimName is the label Crossplane puts on an XR with the name of its claim.
const LabelClaimName = "crossplane.io/claim-name"

// Function expands PostgresDR XRs.
type Function struct {
	fnv1.UnimplementedFunctionRunnerServiceServer

	log logging.Logger
	ttl time.Duration
}

// An Option configures the function.
type Option func(*Function)

// WithTTL sets the TTL of every response: with realtime compositions Crossplane reconciles a
// converged XR again after it. The default is the SDK's, one minute.
func WithTTL(d time.Duration) Option {
	return func(f *Function) { f.ttl = d }
}

// NewFunction returns the function, with the provider-aws kinds it composes registered.
func NewFunction(log logging.Logger, o ...Option) (*Function, error) {
	if err := RegisterScheme(); err != nil {
		return nil, errors.Wrap(err, "cannot register provider-aws kinds")
	}
	f := &Function{log: log, ttl: response.DefaultTTL}
	for _, fn := range o {
		fn(f)
	}
	return f, nil
}

// RunFunction runs the function.
func (f *Function) RunFunction(_ context.Context, req *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error) {
	rsp := response.To(req, f.ttl)

	in, err := ParseInput(req)
	if err != nil {
		response.Fatal(rsp, err)
		return rsp, nil
	}
	oxr, err := request.GetObservedCompositeResource(req)
	if err != nil {
		response.Fatal(rsp, errors.Wrap(err, "cannot get the observed composite resource"))
		return rsp, nil
	}
	log := f.log.WithValues("xr", oxr.Resource.GetName())

	specMap, _ := oxr.Resource.Object["spec"].(map[string]any)
	spec, err := ParseSpec(specMap)
	if err != nil {
		response.Fatal(rsp, errors.Wrap(err, "invalid spec"))
		return rsp, nil
	}
	if errs := ValidateSpec(spec, in); len(errs) > 0 {
		response.Fatal(rsp, errors.Wrap(errs.ToAggregate(), "invalid spec"))
		return rsp, nil
	}
	plan, err := NewPlan(oxr.Resource.GetName(), oxr.Resource.GetLabels()[LabelClaimName], spec, in)
	if err != nil {
		response.Fatal(rsp, errors.Wrap(err, "cannot plan the XR"))
		return rsp, nil
	}
	o := ObservedFrom(req)
	if errs := RefuseReplacement(plan, o); len(errs) > 0 {
		response.Fatal(rsp, errors.Wrap(errs.ToAggregate(), "refusing a change that would replace a database or its network"))
		return rsp, nil
	}
	st := DetectFailover(plan, o)

	d, err := Build(plan, o, st)
	if err != nil {
		response.Fatal(rsp, errors.Wrap(err, "invalid input"))
		return rsp, nil
	}

	// What earlier steps of the pipeline desired stays, unless we desire the same name. The
	// response gets its own State: the request's is not ours to change.
	desired := make(map[string]*fnv1.Resource, len(req.GetDesired().GetResources())+len(d.Order))
	maps.Copy(desired, req.GetDesired().GetResources())
	rsp.Desired = &fnv1.State{Composite: req.GetDesired().GetComposite(), Resources: desired}
	for _, name := range d.Order {
		s, err := ToStruct(d.Resources[name])
		if err != nil {
			response.Fatal(rsp, errors.Wrapf(err, "cannot convert composed resource %q", name))
			return rsp, nil
		}
		desired[string(name)] = &fnv1.Resource{Resource: s, Ready: Readiness(o, name)}
	}
	if st.PromotedOutOfBand {
		if kept := KeepObserved(o, desired, true); len(kept) > 0 {
			response.Normalf(rsp, "The replica was promoted out of band: keeping %d resources of the replicating graph until spec.activeRegion says what is permanent", len(kept)).TargetCompositeAndClaim()
		}
	} else if kept := KeepObserved(o, desired, false); len(kept) > 0 {
		response.Warning(rsp, errors.Errorf("kept observed stateful resources the spec no longer asks for, so that no data is deleted: %v", kept)).TargetCompositeAndClaim()
	}

	dxr, err := request.GetDesiredCompositeResource(req)
	if err != nil {
		response.Fatal(rsp, errors.Wrap(err, "cannot get the desired composite resource"))
		return rsp, nil
	}
	status := BuildStatus(plan, o, st, d)
	sm, err := toMap(status)
	if err != nil {
		response.Fatal(rsp, errors.Wrap(err, "cannot encode the XR's status"))
		return rsp, nil
	}
	dxr.Resource.Object["status"] = sm
	dxr.ConnectionDetails = ConnectionDetails(plan, o, st)
	if err := response.SetDesiredCompositeResource(rsp, dxr); err != nil {
		response.Fatal(rsp, errors.Wrap(err, "cannot set the desired composite resource"))
		return rsp, nil
	}

	if st.PromotedOutOfBand {
		response.ConditionTrue(rsp, TypeFailedOver, ReasonPromotedOutOfBand).
			WithMessage(fmt.Sprintf("The DR replica %s was promoted outside Crossplane and takes writes; Crossplane no longer asks for a replication source and deletes neither instance. To make this permanent set spec.activeRegion to %s.",
				plan.Names.DBInstance(RoleDR), plan.Spec.Regions.DR)).TargetCompositeAndClaim()
	}
	if st.Switchover {
		response.ConditionTrue(rsp, TypeFailedOver, ReasonPlannedSwitchover).
			WithMessage(fmt.Sprintf("spec.activeRegion is %s: the DR instance %s is promoted (its replication source is dropped) and takes writes. "+
				"The old primary %s in %s is kept as it is, deletion-protected, and no longer receives changes: it is not a replica. "+
				"To re-seed %s as a replica, snapshot the old primary for safekeeping, turn off its deletion protection and delete it, then create a read replica of %s there.",
				plan.Spec.Regions.DR, plan.Names.DBInstance(RoleDR), plan.Names.DBInstance(RolePrimary), plan.Spec.Regions.Primary,
				plan.Spec.Regions.Primary, plan.Names.DBInstance(RoleDR))).TargetCompositeAndClaim()
	}
	if len(d.Waiting) > 0 {
		response.ConditionFalse(rsp, TypeStaged, ReasonWaitingObserved).
			WithMessage("Waiting for " + strings.Join(d.Waiting, "; ")).TargetCompositeAndClaim()
	} else {
		response.ConditionTrue(rsp, TypeStaged, ReasonAllStaged).TargetCompositeAndClaim()
	}
	log.Debug("Composed", "resources", len(d.Order), "waiting", len(d.Waiting), "phase", status.Phase)
	return rsp, nil
}

// Build builds the managed resources of both regions for the plan, given what is observed and
// the failover state.
func Build(p *Plan, o Observed, st FailoverState) (*Desired, error) {
	d := NewDesired(ClusterFlavour{}, p.ProviderConfig)
	BuildNetwork(p, o, d)
	BuildKMS(p, o, d)
	BuildDatabase(p, o, st, d)
	BuildStorage(p, o, d)
	BuildSecret(p, o, d)
	BuildMonitoring(p, o, st, d)
	BuildDNS(p, o, st, d)
	if err := BuildLambdas(p, o, st, d); err != nil {
		return nil, err
	}
	return d, nil
}

func toMap(v any) (map[string]any, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if err := json.Unmarshal(j, &out); err != nil {
		return nil, fmt.Errorf("cannot decode %s: %w", j, err)
	}
	return out, nil
}
