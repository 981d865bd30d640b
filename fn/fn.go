// Package fn is function-postgres-dr: it expands a PostgresDR XR into the provider-aws managed
// resources of two regions. RunFunction is a pure function of its request.
package fn

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/crossplane/function-sdk-go/errors"
	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/request"
	"github.com/crossplane/function-sdk-go/resource"
	"github.com/crossplane/function-sdk-go/response"
)

// Condition types the function sets on the XR and its claim.
const (
	// typeStaged is True when nothing is withheld waiting for observed state.
	typeStaged = "Staged"

	reasonAllStaged       = "AllStaged"
	reasonWaitingObserved = "WaitingForObservedState"

	// typeFailedOver is True when the DR instance takes writes.
	typeFailedOver          = "FailedOver"
	reasonPromotedOutOfBand = "PromotedOutOfBand"
	reasonPlannedSwitchover = "PlannedSwitchover"
)

// labelClaimName is the label Crossplane puts on an XR with the name of its claim.
const labelClaimName = "crossplane.io/claim-name"

// Function expands PostgresDR XRs.
type Function struct {
	fnv1.UnimplementedFunctionRunnerServiceServer

	log                     logging.Logger
	readyTTL, convergingTTL time.Duration
}

// An Option configures the function.
type Option func(*Function)

// WithTTLs sets the TTL of a response once the whole graph is Ready and nothing is withheld, and
// while anything is not. With realtime compositions Crossplane reconciles the XR again after the
// TTL; a composed resource's change triggers a reconcile at once whatever the TTL. The defaults
// are DefaultReadyTTL and DefaultConvergingTTL.
func WithTTLs(ready, converging time.Duration) Option {
	return func(f *Function) { f.readyTTL, f.convergingTTL = ready, converging }
}

// Default TTLs.
const (
	DefaultReadyTTL      = 10 * time.Minute
	DefaultConvergingTTL = 30 * time.Second
)

// NewFunction returns the function, with the provider-aws kinds it composes registered.
func NewFunction(log logging.Logger, o ...Option) (*Function, error) {
	if err := registerScheme(); err != nil {
		return nil, errors.Wrap(err, "cannot register provider-aws kinds")
	}
	f := &Function{log: log, readyTTL: DefaultReadyTTL, convergingTTL: DefaultConvergingTTL}
	for _, fn := range o {
		fn(f)
	}
	return f, nil
}

// RunFunction runs the function.
//
//nolint:gocyclo // A sequence of steps, each a Fatal when it fails, as in Crossplane's own functions.
func (f *Function) RunFunction(_ context.Context, req *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error) {
	rsp := response.To(req, f.convergingTTL)

	in, err := parseInput(req)
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
	spec, err := parseSpec(specMap)
	if err != nil {
		response.Fatal(rsp, errors.Wrap(err, "invalid spec"))
		return rsp, nil
	}
	if errs := validateSpec(spec, in); len(errs) > 0 {
		response.Fatal(rsp, errors.Wrap(errs.ToAggregate(), "invalid spec"))
		return rsp, nil
	}
	plan, err := newPlan(oxr.Resource.GetName(), oxr.Resource.GetLabels()[labelClaimName], spec, in)
	if err != nil {
		response.Fatal(rsp, errors.Wrap(err, "cannot plan the XR"))
		return rsp, nil
	}
	o, err := observedFrom(req)
	if err != nil {
		response.Fatal(rsp, errors.Wrap(err, "cannot get the observed composed resources"))
		return rsp, nil
	}
	if errs := refuseReplacement(plan, o); len(errs) > 0 {
		response.Fatal(rsp, errors.Wrap(errs.ToAggregate(), "refusing a change that would replace a database or its network"))
		return rsp, nil
	}
	st := detectFailover(plan, o)

	d, err := buildAll(plan, o, st)
	if err != nil {
		response.Fatal(rsp, errors.Wrap(err, "invalid input"))
		return rsp, nil
	}

	// What earlier steps of the pipeline desired stays, unless we desire the same name.
	desired, err := request.GetDesiredComposedResources(req)
	if err != nil {
		response.Fatal(rsp, errors.Wrap(err, "cannot get the desired composed resources"))
		return rsp, nil
	}
	built, err := d.toComposed(o)
	if err != nil {
		response.Fatal(rsp, err)
		return rsp, nil
	}
	maps.Copy(desired, built)
	if st.PromotedOutOfBand {
		if kept := keepObserved(o, desired, true); len(kept) > 0 {
			response.Normalf(rsp, "The replica was promoted out of band: keeping %d resources of the replicating graph until spec.activeRegion says what is permanent", len(kept)).TargetCompositeAndClaim()
		}
	} else if kept := keepObserved(o, desired, false); len(kept) > 0 {
		response.Warning(rsp, errors.Errorf("kept observed stateful resources the spec no longer asks for, so that no data is deleted: %v", kept)).TargetCompositeAndClaim()
	}
	if err := response.SetDesiredComposedResources(rsp, desired); err != nil {
		response.Fatal(rsp, errors.Wrap(err, "cannot set the desired composed resources"))
		return rsp, nil
	}

	dxr, err := request.GetDesiredCompositeResource(req)
	if err != nil {
		response.Fatal(rsp, errors.Wrap(err, "cannot get the desired composite resource"))
		return rsp, nil
	}
	allReady := allReady(o, d)
	status := buildStatus(plan, o, st, d)
	sm, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&status)
	if err != nil {
		response.Fatal(rsp, errors.Wrap(err, "cannot encode the XR's status"))
		return rsp, nil
	}
	dxr.Resource.Object["status"] = sm
	dxr.ConnectionDetails = connectionDetails(plan, o, st)
	if len(d.Waiting) > 0 && composedReady(o, d) {
		// Ready means DR is armed: not while anything is withheld, even when all that is desired
		// is Ready. (While some are not, Crossplane says which.)
		dxr.Ready = resource.ReadyFalse
	}
	if err := response.SetDesiredCompositeResource(rsp, dxr); err != nil {
		response.Fatal(rsp, errors.Wrap(err, "cannot set the desired composite resource"))
		return rsp, nil
	}
	if allReady {
		rsp.Meta.Ttl = durationpb.New(f.readyTTL)
	}

	if st.PromotedOutOfBand {
		response.ConditionTrue(rsp, typeFailedOver, reasonPromotedOutOfBand).
			WithMessage(fmt.Sprintf("The DR replica %s was promoted outside Crossplane and takes writes; Crossplane no longer asks for a replication source and deletes neither instance. To make this permanent set spec.activeRegion to %s.",
				plan.Names.DBInstance(RoleDR), plan.Spec.Regions.DR)).TargetCompositeAndClaim()
	}
	if st.Switchover {
		response.ConditionTrue(rsp, typeFailedOver, reasonPlannedSwitchover).
			WithMessage(fmt.Sprintf("spec.activeRegion is %s: the DR instance %s is promoted (its replication source is dropped) and takes writes. "+
				"The old primary %s in %s is kept as it is, deletion-protected, and no longer receives changes: it is not a replica. "+
				"To re-seed %s as a replica, snapshot the old primary for safekeeping, turn off its deletion protection and delete it, then create a read replica of %s there.",
				plan.Spec.Regions.DR, plan.Names.DBInstance(RoleDR), plan.Names.DBInstance(RolePrimary), plan.Spec.Regions.Primary,
				plan.Spec.Regions.Primary, plan.Names.DBInstance(RoleDR))).TargetCompositeAndClaim()
	}
	if len(d.Waiting) > 0 {
		response.ConditionFalse(rsp, typeStaged, reasonWaitingObserved).
			WithMessage("Waiting for " + strings.Join(d.Waiting, "; ")).TargetCompositeAndClaim()
	} else {
		response.ConditionTrue(rsp, typeStaged, reasonAllStaged).TargetCompositeAndClaim()
	}
	log.Debug("Composed", "resources", len(d.Order), "waiting", len(d.Waiting), "phase", status.Phase)
	return rsp, nil
}

// buildAll builds the managed resources of both regions for the plan, given what is observed and
// the failover state.
func buildAll(p *xrPlan, o observedState, st failoverState) (*desiredState, error) {
	d := newDesired(clusterFlavour{}, p.ProviderConfig)
	buildNetwork(p, o, d)
	buildKMS(p, o, d)
	buildDatabase(p, o, st, d)
	buildStorage(p, o, st, d)
	buildSecret(p, o, d)
	buildMonitoring(p, o, st, d)
	buildDNS(p, o, st, d)
	if err := buildLambdas(p, o, st, d); err != nil {
		return nil, err
	}
	buildUsages(st, d)
	return d, d.Err()
}
