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

	"github.com/pgdr/function-postgres-dr/apis/v1alpha1"
	"github.com/pgdr/function-postgres-dr/lambda/contract"
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
	reasonReplicating       = "Replicating"

	// typeSwitchover says where a planned switchover stands.
	typeSwitchover           = "Switchover"
	reasonSwitchoverRunning  = "Running"
	reasonSwitchoverDone     = "Promoted"
	reasonSwitchoverAborted  = "Aborted"
	reasonSwitchoverBlocked  = "Blocked"
	reasonSwitchoverNotAsked = "NotRequested"
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

// awaitResultTTL is the TTL while a switchover's result is still to be read.
const awaitResultTTL = 5 * time.Second

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
	errs := validateSpec(spec, in)
	var nsSpec v1alpha1.PostgresDRSpec
	if isNamespaced(oxr.Resource) {
		if nsSpec, err = parseNamespaced(specMap); err != nil {
			response.Fatal(rsp, errors.Wrap(err, "invalid spec"))
			return rsp, nil
		}
		errs = append(errs, validateNamespaced(nsSpec)...)
	}
	if len(errs) > 0 {
		response.Fatal(rsp, errors.Wrap(errs.ToAggregate(), "invalid spec"))
		return rsp, nil
	}
	plan, err := newPlan(oxr.Resource.GetName(), oxr.Resource.GetLabels()[labelClaimName], spec, in)
	if err != nil {
		response.Fatal(rsp, errors.Wrap(err, "cannot plan the XR"))
		return rsp, nil
	}
	if isNamespaced(oxr.Resource) {
		namespacedPlan(plan, oxr.Resource.GetNamespace(), oxr.Resource.GetName(), nsSpec, in)
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
	plan.LambdaRole, plan.PathArmed = st.Standby(), st.Armed(plan)
	var last v1alpha1.XPostgresDRStatus
	if sm, ok := oxr.Resource.Object["status"].(map[string]any); ok {
		_ = runtime.DefaultUnstructuredConverter.FromUnstructured(sm, &last)
	}
	st.AwaitResult = awaitingResult(plan, st, last.Switchover)

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
	details := connectionDetails(plan, o, st)
	cs := plan.Flavour.ConnectionSecret(details)
	if cs != nil {
		desired[connectionSecretResource] = cs
	}
	switch unreported := o.Unreported(); {
	case st.PromotedOutOfBand:
		if kept := keepObserved(o, desired, true, d.Retired); len(kept) > 0 {
			response.Normalf(rsp, "The replica was promoted out of band: keeping %d resources of the replicating graph until spec.activeRegion says what is permanent", len(kept)).TargetCompositeAndClaim()
		}
	case len(unreported) > 0:
		// What the build withholds for want of an id or ARN it cannot read yet may exist in AWS
		// (a resource taken over by external name): nothing observed goes until every observed
		// resource has been reported on.
		if kept := keepObserved(o, desired, true, d.Retired); len(kept) > 0 {
			response.Normalf(rsp, "Keeping %d observed resources the build does not ask for (%s) until their provider has reported on %d resources (%s)",
				len(kept), shortList(kept), len(unreported), shortList(unreported)).TargetCompositeAndClaim()
		}
	default:
		if kept := keepObserved(o, desired, false, d.Retired); len(kept) > 0 {
			response.Warning(rsp, errors.Errorf("kept observed stateful resources the spec no longer asks for, so that no data is deleted: %v", kept)).TargetCompositeAndClaim()
		}
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
	status := buildStatus(plan, o, st, d, last.Switchover)
	sm, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&status)
	if err != nil {
		response.Fatal(rsp, errors.Wrap(err, "cannot encode the XR's status"))
		return rsp, nil
	}
	dxr.Resource.Object["status"] = sm
	if cs == nil {
		dxr.ConnectionDetails = details
	}
	if len(d.Waiting) > 0 && composedReady(o, d) {
		// Ready means DR is armed: not while anything is withheld, even when all that is desired
		// is Ready. (While some are not, Crossplane says which.)
		dxr.Ready = resource.ReadyFalse
	}
	if err := response.SetDesiredCompositeResource(rsp, dxr); err != nil {
		response.Fatal(rsp, errors.Wrap(err, "cannot set the desired composite resource"))
		return rsp, nil
	}
	switch {
	case st.AwaitResult:
		// The switchover's result may already be observed in Crossplane's cache, with no change
		// left to trigger a reconcile: come back soon to read it.
		rsp.Meta.Ttl = durationpb.New(min(awaitResultTTL, f.convergingTTL))
	case allReady:
		rsp.Meta.Ttl = durationpb.New(f.readyTTL)
	}

	failoverConditions(rsp, plan, st)
	for _, name := range d.Retired {
		response.Normalf(rsp, "Retiring %s as spec.retireInstance confirms: AWS reports its deletion protection off; Crossplane deletes it, with a final snapshot", name).TargetCompositeAndClaim()
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
	d := newDesired(p.Flavour, p.ProviderConfig)
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
	buildUsages(p, st, d)
	return d, d.Err()
}

// failoverConditions say which instance takes writes and where a switchover stands.
func failoverConditions(rsp *fnv1.RunFunctionResponse, p *xrPlan, st failoverState) {
	want := p.RoleOf(p.Spec.ActiveRegion)
	writer := p.InstanceID(st.Writer)
	switch {
	case st.PromotedOutOfBand:
		response.ConditionTrue(rsp, typeFailedOver, reasonPromotedOutOfBand).
			WithMessage(fmt.Sprintf("The replica %s in %s was promoted outside Crossplane and takes writes; the old writer %s is fenced (read-only, closed to clients) and kept. To make this permanent set spec.activeRegion to %s.",
				writer, p.Regions[st.Writer].Region, p.InstanceID(st.Standby()), p.Regions[st.Writer].Region)).TargetCompositeAndClaim()
	case st.Writer != RolePrimary || !st.Armed(p):
		response.ConditionTrue(rsp, typeFailedOver, reasonPlannedSwitchover).
			WithMessage(fmt.Sprintf("%s in %s takes writes. %s", writer, p.Regions[st.Writer].Region, standbyMessage(p, st))).TargetCompositeAndClaim()
	default:
		response.ConditionFalse(rsp, typeFailedOver, reasonReplicating).
			WithMessage(fmt.Sprintf("%s in %s takes writes; %s", writer, p.Regions[st.Writer].Region, standbyMessage(p, st))).TargetCompositeAndClaim()
	}
	switch {
	case st.Blocked != "":
		response.ConditionFalse(rsp, typeSwitchover, reasonSwitchoverBlocked).
			WithMessage(fmt.Sprintf("spec.activeRegion is %s but %s", p.Spec.ActiveRegion, st.Blocked)).TargetCompositeAndClaim()
	case st.Switching && st.Result == nil && st.Writer != want:
		response.ConditionFalse(rsp, typeSwitchover, reasonSwitchoverRunning).
			WithMessage(fmt.Sprintf("Switching over to %s: fencing %s, waiting for %s to replay its WAL (up to %d s), then promoting it", p.Spec.ActiveRegion, writer, p.InstanceID(want), p.Spec.Switchover.CatchUpTimeoutSeconds)).TargetCompositeAndClaim()
	case st.Switching && st.Result != nil && st.Result.Outcome == contract.SwitchoverAborted:
		response.ConditionFalse(rsp, typeSwitchover, reasonSwitchoverAborted).
			WithMessage(fmt.Sprintf("The switchover to %s aborted: %s. %s still takes writes and nothing was promoted. To try again set spec.activeRegion back to %s, wait for status.switchover to clear, then set it to %s again.",
				p.Spec.ActiveRegion, st.Result.Reason, writer, p.Regions[st.Writer].Region, p.Spec.ActiveRegion)).TargetCompositeAndClaim()
	case st.Switching && st.Writer == want:
		response.ConditionTrue(rsp, typeSwitchover, reasonSwitchoverDone).
			WithMessage(fmt.Sprintf("%s was promoted after replaying the fenced writer's WAL; the old writer is fenced and kept", writer)).TargetCompositeAndClaim()
	default:
		response.ConditionFalse(rsp, typeSwitchover, reasonSwitchoverNotAsked).TargetCompositeAndClaim()
	}
}

// standbyMessage says what the region without the writer holds.
func standbyMessage(p *xrPlan, st failoverState) string {
	sb := st.Standby()
	cur := st.Current(p, sb)
	region := p.Regions[sb].Region
	if cur.As == asReplica {
		return fmt.Sprintf("%s in %s replicates it.", p.InstanceID(sb), region)
	}
	return fmt.Sprintf("The old writer %s in %s is fenced (read-only, closed to clients) and kept. To fail back raise spec.generations.%s to %d: a new replica of %s is created in %s; then spec.activeRegion switches over back.",
		p.InstanceID(sb), region, sb, p.Gen[sb]+1, p.InstanceID(st.Writer), region)
}
