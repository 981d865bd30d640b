//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
	"github.com/pkg/errors"
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// The provider stand-in does, for the provider-aws managed resources in the API server, what the
// AWS providers would do after AWS answered, and nothing else: it resolves references, "creates"
// each resource (an external name, a finalizer), reports what AWS would report in
// status.atProvider (ids, ARNs, endpoints, and the desired arguments echoed back), marks it Synced
// and Ready, writes connection secrets, generates requested passwords, and on deletion releases the
// finalizer unless AWS would refuse: deletion protection, or a resource that still uses it in AWS
// per deleteRules (awsdeps_test.go). Then, like the provider after an AWS error, it reports the
// error, keeps the finalizer and retries later; where AWS deletes anyway and breaks the user, it
// deletes. Either is recorded (Hits), and so is when it saw each resource's deletion and when the
// resource left the API server (Lifecycle). It never touches a resource's spec. Out-of-band
// changes in "AWS" (a promotion of the DR replica) are made through promote. A lambda
// Invocation is what provider-aws does on its create (lifecycle scope CREATE_ONLY): it invokes
// the function once and records what it returned; for the failover Lambda's switchover the
// stand-in does what the Lambda would (invoke): promote the replica the Lambda is configured for
// and return a SwitchoverResult.
//
// It honours management policies as crossplane-runtime's resolvers do
// (pkg/reconciler/managed/policies.go): a resource whose policies or deletionPolicy say Orphan
// keeps its AWS resource when it is deleted, and a resource that names an orphaned AWS resource by
// its crossplane.io/external-name takes it over (Observe finds it, as provider-aws does by
// external name) instead of creating another; one that may only Observe creates nothing, and
// reports what AWS holds, not its spec.

const (
	finalizer     = "finalizer.managedresource.crossplane.io"
	annExternal   = "crossplane.io/external-name"
	awsAccount    = "123456789012"
	connSecretTyp = "connection.crossplane.io/v1alpha1"
)

// cloudState is what "AWS" holds for one managed resource.
type cloudState struct {
	id         string
	generation int64
	// promoted: a replica promoted, behind Crossplane's back or by a switchover. AWS reports it
	// without a replication source from then on, whatever its spec still says.
	promoted bool
	// result is what the Lambda an Invocation invoked returned; promotes is the instance its
	// switchover promotes, once the result is reported.
	result   string
	promotes *key
	// atProvider is what AWS last reported of it: a resource that takes it over observe-only
	// reports this.
	atProvider map[string]any
}

// cloudCounts are what the stand-in did in "AWS": resources created, taken over by external
// name, orphaned (their managed resource deleted with the AWS resource kept) and deleted.
type cloudCounts struct {
	Created, Adopted, Orphaned, Deleted int
}

// switchover is one switchover the stand-in carried out as the failover Lambda.
type switchover struct {
	invocation string // the Invocation's composition resource name
	region     string
	request    contract.SwitchoverRequest
	result     contract.SwitchoverResult
	instance   string // the RDS identifier it promoted
	at         time.Time
}

type standIn struct {
	dyn   dynamic.Interface
	kube  kubernetes.Interface
	gvrs  map[schema.GroupVersionKind]schema.GroupVersionResource
	kinds map[schema.GroupVersionResource]schema.GroupVersionKind

	factory dynamicinformer.DynamicSharedInformerFactory
	queue   workqueue.TypedRateLimitingInterface[key]

	mu    sync.Mutex
	cloud map[types.UID]*cloudState
	// orphans are AWS resources no managed resource manages, by orphanKey.
	orphans map[string]*cloudState
	counts  cloudCounts
	events  []string
	life    map[types.UID]*lifecycle
	hits    map[string]*ruleHit
	// switched are the switchovers done, by request ID: the Lambda records each on the writer
	// it promoted, and the same request again reports it instead of acting twice.
	switched map[string]*switchover
}

// objRef names one managed resource.
type objRef struct {
	gk, name string
	uid      types.UID
}

func refOf(o *unstructured.Unstructured) objRef {
	return objRef{gk: groupKind(o), name: o.GetName(), uid: o.GetUID()}
}

func (r objRef) String() string { return r.gk + " " + r.name }

// lifecycle is what the stand-in saw of one managed resource's end.
type lifecycle struct {
	objRef
	deleting   time.Time // first reconciled with a deletion timestamp
	awsDeleted time.Time // deleted in AWS, its finalizer released
	gone       time.Time // left the API server: the informer said so, or the patch that released its last finalizer returned
}

// A ruleHit is one of deleteRules applying to a delete: AWS refused it (each retry counts), or
// deleted something that was still used.
type ruleHit struct {
	rule     deleteRule
	of, by   objRef
	field    string
	first    time.Time
	attempts int
}

type key struct {
	gvr  schema.GroupVersionResource
	ns   string // "" for a cluster-scoped kind
	name string
}

// keyOf is an object's key.
func keyOf(gvr schema.GroupVersionResource, o *unstructured.Unstructured) key {
	return key{gvr: gvr, ns: o.GetNamespace(), name: o.GetName()}
}

// storeKey is the informer store's key of an object.
func (k key) storeKey() string {
	if k.ns == "" {
		return k.name
	}
	return k.ns + "/" + k.name
}

// clusterGVK is the cluster-scoped provider-aws kind a namespaced one (*.aws.m.upbound.io) stands
// for: AWS behaves the same whichever API asked, so the stand-in's rules name only the former.
func clusterGVK(gvk schema.GroupVersionKind) schema.GroupVersionKind {
	if svc, ok := strings.CutSuffix(gvk.Group, ".aws.m.upbound.io"); ok {
		gvk.Group = svc + ".aws.upbound.io"
	}
	return gvk
}

// resourceFor is the client of an object's kind, in its namespace when it has one.
func (s *standIn) resourceFor(k key) dynamic.ResourceInterface {
	if k.ns == "" {
		return s.dyn.Resource(k.gvr)
	}
	return s.dyn.Resource(k.gvr).Namespace(k.ns)
}

// newStandIn watches every given managed resource kind.
func newStandIn(dyn dynamic.Interface, kube kubernetes.Interface, kinds map[schema.GroupVersionKind]schema.GroupVersionResource) *standIn {
	s := &standIn{
		dyn:     dyn,
		kube:    kube,
		gvrs:    kinds,
		kinds:   map[schema.GroupVersionResource]schema.GroupVersionKind{},
		factory: dynamicinformer.NewDynamicSharedInformerFactory(dyn, 0),
		queue: workqueue.NewTypedRateLimitingQueue(workqueue.NewTypedItemExponentialFailureRateLimiter[key](
			50*time.Millisecond, 2*time.Second)),
		cloud:    map[types.UID]*cloudState{},
		orphans:  map[string]*cloudState{},
		life:     map[types.UID]*lifecycle{},
		hits:     map[string]*ruleHit{},
		switched: map[string]*switchover{},
	}
	for gvk, gvr := range kinds {
		s.kinds[gvr] = clusterGVK(gvk)
		gvr := gvr
		enqueue := func(o any) {
			if u, ok := o.(*unstructured.Unstructured); ok {
				s.queue.Add(keyOf(gvr, u))
			}
		}
		_, _ = s.factory.ForResource(gvr).Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    enqueue,
			UpdateFunc: func(_, o any) { enqueue(o) },
			DeleteFunc: func(o any) {
				if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
					o = d.Obj
				}
				if u, ok := o.(*unstructured.Unstructured); ok {
					s.lifecycle(u, func(l *lifecycle) {
						if l.gone.IsZero() {
							l.gone = time.Now()
						}
					})
				}
			},
		})
	}
	return s
}

// Start runs the informers and two workers until ctx is done.
func (s *standIn) Start(ctx context.Context) error {
	s.factory.Start(ctx.Done())
	for gvr, ok := range s.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return errors.Errorf("cannot sync informer of %s", gvr)
		}
	}
	go func() { <-ctx.Done(); s.queue.ShutDown() }()
	for range 2 {
		go func() {
			for {
				k, shut := s.queue.Get()
				if shut {
					return
				}
				requeue, err := s.reconcile(ctx, k)
				switch {
				case err != nil:
					s.log("%s %s: %v", k.gvr.Resource, k.name, err)
					s.queue.AddRateLimited(k)
				case requeue:
					s.queue.AddAfter(k, 250*time.Millisecond)
					s.queue.Forget(k)
				default:
					s.queue.Forget(k)
				}
				s.queue.Done(k)
			}
		}()
	}
	return nil
}

func (s *standIn) log(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, fmt.Sprintf(time.Now().Format("15:04:05.000 ")+format, args...))
}

// Events returns what the stand-in did and what failed, for failure output.
func (s *standIn) Events() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.events...)
}

// cached returns the informer's copy of an object, or nil.
func (s *standIn) cached(k key) *unstructured.Unstructured {
	o, exists, err := s.factory.ForResource(k.gvr).Informer().GetStore().GetByKey(k.storeKey())
	if err != nil || !exists {
		return nil
	}
	return o.(*unstructured.Unstructured).DeepCopy()
}

// all returns the cached objects of every watched kind.
func (s *standIn) all() []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for gvr := range s.kinds {
		for _, o := range s.factory.ForResource(gvr).Informer().GetStore().List() {
			out = append(out, o.(*unstructured.Unstructured))
		}
	}
	return out
}

func (s *standIn) reconcile(ctx context.Context, k key) (bool, error) {
	mr := s.cached(k)
	if mr == nil {
		return false, nil
	}
	ri := s.resourceFor(k)
	gvk := s.kinds[k.gvr]

	if mr.GetDeletionTimestamp() != nil {
		s.lifecycle(mr, func(l *lifecycle) {
			if l.deleting.IsZero() {
				l.deleting = time.Now()
			}
		})
		return s.delete(ctx, ri, gvk, mr)
	}

	// References are resolved before anything is created: a provider cannot call AWS with a
	// VPC id it does not know yet.
	resolved, waiting := s.resolve(mr)
	if waiting != "" {
		return true, s.setConditions(ctx, ri, mr, nil, metav1.ConditionFalse, "ReconcileError",
			"cannot resolve references: "+waiting, metav1.ConditionFalse, "Creating")
	}

	s.mu.Lock()
	st, known := s.cloud[mr.GetUID()]
	orphan, adopt := s.orphans[orphanKey(gvk, mr)]
	switch {
	case known:
	case adopt:
		st = orphan
		delete(s.orphans, orphanKey(gvk, mr))
		s.cloud[mr.GetUID()] = st
		s.counts.Adopted++
	case may(mr, "Create"):
		st = &cloudState{id: externalID(gvk, mr)}
		s.cloud[mr.GetUID()] = st
		s.counts.Created++
	}
	s.mu.Unlock()
	switch {
	case st == nil:
		// Observe only, and AWS holds nothing by that external name.
		return true, s.setConditions(ctx, ri, mr, nil, metav1.ConditionFalse, "ReconcileError",
			fmt.Sprintf("cannot observe external resource: %s %q does not exist", gvk.Kind, mr.GetAnnotations()[annExternal]), metav1.ConditionFalse, "Unavailable")
	case adopt:
		s.log("take over %s %s (%s) in AWS: %s", gvk.Kind, mr.GetName(), region(mr), st.id)
	case !known:
		s.log("create %s %s (%s) in AWS as %s", gvk.Kind, mr.GetName(), region(mr), st.id)
	}

	// Create in AWS: the provider records the external name and adds its finalizer.
	if mr.GetAnnotations()[annExternal] == "" || !hasString(mr.GetFinalizers(), finalizer) {
		patch := map[string]any{"metadata": map[string]any{
			"annotations": map[string]any{annExternal: orDefault(mr.GetAnnotations()[annExternal], st.id)},
			"finalizers":  appendUnique(mr.GetFinalizers(), finalizer),
		}}
		if err := mergePatch(ctx, ri, mr.GetName(), patch, ""); err != nil {
			return false, err
		}
		return false, nil // the update event brings it back
	}

	if err := s.generatePassword(ctx, mr); err != nil {
		return false, err
	}

	s.mu.Lock()
	st.generation = mr.GetGeneration()
	promoted := st.promoted
	s.mu.Unlock()
	atp := observe(gvk, mr, mr.GetAnnotations()[annExternal], resolved, promoted, s.zoneName(mr, resolved))
	s.mu.Lock()
	if onlyObserve(mr) && st.atProvider != nil {
		atp = runtime.DeepCopyJSON(st.atProvider)
	}
	st.atProvider = atp
	s.mu.Unlock()
	if gvk.Group+"/"+gvk.Kind == gkInvocation {
		s.mu.Lock()
		result := st.result
		s.mu.Unlock()
		if result == "" {
			res, promotes, err := s.invoke(mr, resolved)
			if err != nil {
				// The Lambda failed: provider-aws reports the create's error and retries it.
				if serr := s.setConditions(ctx, ri, mr, nil, metav1.ConditionFalse, "ReconcileError",
					"cannot invoke: "+err.Error(), metav1.ConditionFalse, "Creating"); serr != nil {
					return false, serr
				}
				return false, errors.Wrapf(err, "invocation %s", mr.GetName())
			}
			s.mu.Lock()
			st.result, st.promotes = res, promotes
			result = res
			s.mu.Unlock()
		}
		atp["result"] = result
	}
	if err := s.setConditions(ctx, ri, mr, atp, metav1.ConditionTrue, "ReconcileSuccess", "",
		metav1.ConditionTrue, "Available"); err != nil {
		return false, err
	}
	if promoted && str(mr, "status", "atProvider", "replicateSourceDb") != "" {
		s.log("report %s promoted (no replicateSourceDb in status.atProvider)", mr.GetName())
	}
	s.promoteInvoked(st)
	return false, s.writeConnectionSecret(ctx, gvk, mr, atp)
}

// delete is what the provider does on deletion: delete in AWS, then release the finalizer. AWS
// refuses to delete a database instance that has deletion protection, and whatever deleteRules
// says is still used by a resource that exists in AWS: the provider reports the error and retries
// (rate limited). Where AWS deletes what is still used, the user is broken: recorded, and deleted.
func (s *standIn) delete(ctx context.Context, ri dynamic.ResourceInterface, gvk schema.GroupVersionKind, mr *unstructured.Unstructured) (bool, error) {
	if !hasString(mr.GetFinalizers(), finalizer) {
		return false, nil
	}
	if !shouldDelete(mr) {
		s.mu.Lock()
		if st := s.cloud[mr.GetUID()]; st != nil {
			delete(s.cloud, mr.GetUID())
			s.orphans[orphanKey(gvk, mr)] = st
			s.counts.Orphaned++
		}
		s.mu.Unlock()
		s.log("orphan %s %s: AWS keeps %s", gvk.Kind, mr.GetName(), mr.GetAnnotations()[annExternal])
		return false, s.release(ctx, ri, mr)
	}
	if p, _, _ := unstructured.NestedBool(mr.Object, "spec", "forProvider", "deletionProtection"); p && gvk.Kind == "Instance" {
		return true, s.setConditions(ctx, ri, mr, nil, metav1.ConditionFalse, "ReconcileError",
			"cannot delete: InvalidParameterCombination: Cannot delete protected DB Instance, please disable deletion protection and try again.",
			metav1.ConditionFalse, "Deleting")
	}
	all := s.all()
	var users []*unstructured.Unstructured
	s.mu.Lock()
	for _, o := range all {
		if _, ok := s.cloud[o.GetUID()]; ok {
			users = append(users, o)
		}
	}
	s.mu.Unlock()
	deps := dependents(mr, users, all, func(u *unstructured.Unstructured, field string) bool {
		// A promoted replica no longer replicates its source, whatever its spec says.
		s.mu.Lock()
		defer s.mu.Unlock()
		st := s.cloud[u.GetUID()]
		return field == "replicateSourceDb" && st != nil && st.promoted
	})
	var refusal *dependent
	for i, d := range deps {
		s.hit(mr, d)
		if d.rule.outcome == refused && refusal == nil {
			refusal = &deps[i]
		}
	}
	if refusal != nil {
		msg := fmt.Sprintf("cannot delete: %s: %s (used by %s %s)", refusal.rule.api, refusal.rule.aws, refusal.by.GetKind(), refusal.by.GetName())
		if err := s.setConditions(ctx, ri, mr, nil, metav1.ConditionFalse, "ReconcileError", msg, metav1.ConditionFalse, "Deleting"); err != nil {
			return false, err
		}
		return false, errors.Errorf("%s %s: %s", gvk.Kind, mr.GetName(), msg)
	}
	for _, d := range deps {
		s.log("AWS deletes %s %s although %s %s uses it (%s): %s", gvk.Kind, mr.GetName(), d.by.GetKind(), d.by.GetName(), d.field, d.rule.aws)
	}
	s.log("delete %s %s in AWS", gvk.Kind, mr.GetName())
	s.mu.Lock()
	delete(s.cloud, mr.GetUID())
	s.counts.Deleted++
	s.mu.Unlock()
	// Recorded before the finalizer goes: a test that sees the object gone then finds it deleted.
	s.lifecycle(mr, func(l *lifecycle) { l.awsDeleted = time.Now() })
	return false, s.release(ctx, ri, mr)
}

// release removes the provider's finalizer, as it does once the AWS resource is deleted or
// orphaned.
func (s *standIn) release(ctx context.Context, ri dynamic.ResourceInterface, mr *unstructured.Unstructured) error {
	var keep []string
	for _, f := range mr.GetFinalizers() {
		if f != finalizer {
			keep = append(keep, f)
		}
	}
	if err := mergePatch(ctx, ri, mr.GetName(), map[string]any{
		"metadata": map[string]any{"finalizers": keep, "resourceVersion": mr.GetResourceVersion()},
	}, ""); err != nil {
		return err
	}
	s.lifecycle(mr, func(l *lifecycle) {
		if now := time.Now(); len(keep) == 0 && (l.gone.IsZero() || now.Before(l.gone)) {
			// The API server removes a deleted object with its last finalizer: it was gone
			// when the patch returned, maybe before the informer says so.
			l.gone = now
		}
	})
	return nil
}

// policies are a managed resource's management policies; ["*"] when it sets none.
func policies(mr *unstructured.Unstructured) []string {
	p, _, _ := unstructured.NestedStringSlice(mr.Object, "spec", "managementPolicies")
	if len(p) == 0 {
		return []string{"*"}
	}
	return p
}

// may reports whether the management policies allow an action (Create, Update, Delete...).
func may(mr *unstructured.Unstructured, action string) bool {
	p := policies(mr)
	return hasString(p, "*") || hasString(p, action)
}

// onlyObserve reports whether the management policies are Observe alone.
func onlyObserve(mr *unstructured.Unstructured) bool {
	p := policies(mr)
	return len(p) == 1 && p[0] == "Observe"
}

// shouldDelete is crossplane-runtime's decision to delete the AWS resource with the managed
// resource (pkg/reconciler/managed/policies.go): a namespaced one by its management policies
// alone (ManagementPoliciesResolver); a cluster-scoped one also by its deletionPolicy, default
// Delete (LegacyManagementPoliciesResolver: Orphan wins over the default ["*"]; an explicit
// Delete policy wins over Orphan).
func shouldDelete(mr *unstructured.Unstructured) bool {
	if mr.GetNamespace() != "" {
		return may(mr, "Delete")
	}
	dp, _, _ := unstructured.NestedString(mr.Object, "spec", "deletionPolicy")
	p := policies(mr)
	if dp != "Orphan" && may(mr, "Delete") {
		return true
	}
	return !(len(p) == 1 && p[0] == "*") && hasString(p, "Delete")
}

// orphanKey is how an orphaned AWS resource is found again: its kind (of either API) and its
// external name.
func orphanKey(gvk schema.GroupVersionKind, mr *unstructured.Unstructured) string {
	return gvk.GroupKind().String() + "/" + mr.GetAnnotations()[annExternal]
}

// resolve finds the target of every reference and selector in spec.forProvider, as upjet's
// resolvers would: a *Ref names a managed resource, a *Selector matches labels (and the
// controller, with matchControllerRef). It returns the resolved external names by field, or what
// it still waits for.
func (s *standIn) resolve(mr *unstructured.Unstructured) (map[string]any, string) {
	fp, _, _ := unstructured.NestedMap(mr.Object, "spec", "forProvider")
	out := map[string]any{}
	var waiting []string
	all := s.all()
	for field, v := range fp {
		switch {
		case strings.HasSuffix(field, "SecretRef"):
			// A Kubernetes secret holding a sensitive argument, not a reference to a resource.
		case strings.HasSuffix(field, "Ref"):
			name, _, _ := unstructured.NestedString(asMap(v), "name")
			if t := byName(all, name); t != nil {
				out[strings.TrimSuffix(field, "Ref")] = t.GetAnnotations()[annExternal]
			} else {
				waiting = append(waiting, field+"="+name)
			}
		case strings.HasSuffix(field, "Refs"):
			var ids []any
			for _, r := range asSlice(v) {
				name, _, _ := unstructured.NestedString(asMap(r), "name")
				if t := byName(all, name); t != nil {
					ids = append(ids, t.GetAnnotations()[annExternal])
				} else {
					waiting = append(waiting, field+"="+name)
				}
			}
			out[strings.TrimSuffix(field, "Refs")] = ids
		case strings.HasSuffix(field, "Selector"):
			ts := bySelector(all, mr, asMap(v))
			if len(ts) == 0 {
				waiting = append(waiting, field)
				continue
			}
			out[strings.TrimSuffix(field, "Selector")] = ts[0].GetAnnotations()[annExternal]
		}
	}
	if len(waiting) > 0 {
		return nil, strings.Join(waiting, ", ")
	}
	return out, ""
}

// zoneName returns the DNS name of the hosted zone a Route53 record is in, if that zone is one of
// the managed resources.
func (s *standIn) zoneName(mr *unstructured.Unstructured, resolved map[string]any) string {
	if mr.GetKind() != "Record" {
		return ""
	}
	id := str(mr, "spec", "forProvider", "zoneId")
	if id == "" {
		id, _ = resolved["zoneId"].(string)
	}
	for _, o := range s.all() {
		if o.GetKind() == "Zone" && o.GetAnnotations()[annExternal] == id {
			return str(o, "spec", "forProvider", "name")
		}
	}
	return ""
}

func byName(all []*unstructured.Unstructured, name string) *unstructured.Unstructured {
	for _, o := range all {
		if o.GetName() == name && o.GetAnnotations()[annExternal] != "" {
			return o
		}
	}
	return nil
}

func bySelector(all []*unstructured.Unstructured, from *unstructured.Unstructured, sel map[string]any) []*unstructured.Unstructured {
	labels, _, _ := unstructured.NestedStringMap(sel, "matchLabels")
	mcr, _, _ := unstructured.NestedBool(sel, "matchControllerRef")
	var out []*unstructured.Unstructured
	for _, o := range all {
		if o.GetUID() == from.GetUID() || o.GetAnnotations()[annExternal] == "" {
			continue
		}
		if mcr && !sameController(o, from) {
			continue
		}
		if o.GetNamespace() != from.GetNamespace() {
			// A namespaced resource selects in its own namespace; a cluster-scoped one, cluster-scoped ones.
			continue
		}
		match := true
		for k, v := range labels {
			if o.GetLabels()[k] != v {
				match = false
				break
			}
		}
		if match {
			out = append(out, o)
		}
	}
	return out
}

func sameController(a, b *unstructured.Unstructured) bool {
	ca, cb := metav1.GetControllerOf(a), metav1.GetControllerOf(b)
	return ca != nil && cb != nil && ca.UID == cb.UID
}

// observe returns the status.atProvider AWS would give: the arguments echoed back (without
// references, selectors and secrets), resolved references, and what AWS assigns.
func observe(gvk schema.GroupVersionKind, mr *unstructured.Unstructured, id string, resolved map[string]any, promoted bool, zoneName string) map[string]any {
	fp, _, _ := unstructured.NestedMap(mr.Object, "spec", "forProvider")
	atp := map[string]any{}
	for k, v := range fp {
		if strings.HasSuffix(k, "Ref") || strings.HasSuffix(k, "Refs") || strings.HasSuffix(k, "Selector") ||
			strings.HasSuffix(k, "SecretRef") || k == "autoGeneratePassword" {
			continue
		}
		atp[k] = v
	}
	for k, v := range resolved {
		if _, set := atp[k]; !set {
			atp[k] = v
		}
	}
	svc := strings.TrimSuffix(gvk.Group, ".aws.upbound.io")
	rg := region(mr)
	atp["id"] = id
	switch svc {
	case "cloudwatchevents":
		svc = "events"
	case "cloudwatchlogs":
		svc = "logs"
	}
	arn := fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", svc, rg, awsAccount, strings.ToLower(gvk.Kind), id)
	switch gvk.Group + "/" + gvk.Kind {
	case "rds.aws.upbound.io/Instance":
		host := fmt.Sprintf("%s.%s.%s.rds.amazonaws.com", id, hash(awsAccount + rg)[:12], rg)
		port := int64(5432)
		if p, ok, _ := unstructured.NestedInt64(fp, "port"); ok {
			port = p
		}
		arn = fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", rg, awsAccount, id)
		atp["identifier"] = id
		atp["address"] = host
		atp["endpoint"] = fmt.Sprintf("%s:%d", host, port)
		atp["port"] = port
		atp["resourceId"] = "db-" + strings.ToUpper(hash(string(mr.GetUID()))[:26])
		atp["hostedZoneId"] = "Z2R2ITUGPM61AM"
		atp["status"] = "available"
		if m, _, _ := unstructured.NestedBool(fp, "manageMasterUserPassword"); m {
			// RDS keeps the master password in Secrets Manager and reports the secret.
			atp["masterUserSecret"] = []any{map[string]any{
				"secretArn":    fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:rds!db-%s-%s", rg, awsAccount, uuid(string(mr.GetUID())), hash(id)[:6]),
				"secretStatus": "active",
			}}
		}
		if promoted {
			delete(atp, "replicateSourceDb")
		}
	case "rds.aws.upbound.io/ParameterGroup", "rds.aws.upbound.io/SubnetGroup":
		arn = fmt.Sprintf("arn:aws:rds:%s:%s:%s:%s", rg, awsAccount, map[string]string{"ParameterGroup": "pg", "SubnetGroup": "subgrp"}[gvk.Kind], id)
	case "kms.aws.upbound.io/Key", "kms.aws.upbound.io/ReplicaKey":
		atp["keyId"] = id
		arn = fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", rg, awsAccount, id)
	case "kms.aws.upbound.io/Alias":
		arn = fmt.Sprintf("arn:aws:kms:%s:%s:%s", rg, awsAccount, id)
	case "s3.aws.upbound.io/Bucket":
		arn = "arn:aws:s3:::" + id
		atp["bucket"] = id
		atp["bucketDomainName"] = id + ".s3.amazonaws.com"
		atp["bucketRegionalDomainName"] = fmt.Sprintf("%s.s3.%s.amazonaws.com", id, rg)
		atp["hostedZoneId"] = "Z3AQBSTGFYJSTF"
	case "sns.aws.upbound.io/Topic":
		arn = fmt.Sprintf("arn:aws:sns:%s:%s:%s", rg, awsAccount, id)
	case "iam.aws.upbound.io/Role", "iam.aws.upbound.io/Policy":
		arn = fmt.Sprintf("arn:aws:iam::%s:%s/%s", awsAccount, strings.ToLower(gvk.Kind), id)
		atp["uniqueId"] = "AROA" + strings.ToUpper(hash(id)[:17])
	case "lambda.aws.upbound.io/Function":
		arn = fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", rg, awsAccount, id)
		atp["invokeArn"] = fmt.Sprintf("arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", rg, arn)
		atp["qualifiedArn"] = arn + ":$LATEST"
		atp["version"] = "$LATEST"
	case "cloudwatch.aws.upbound.io/MetricAlarm", "cloudwatch.aws.upbound.io/CompositeAlarm":
		arn = fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", rg, awsAccount, id)
	case "secretsmanager.aws.upbound.io/Secret":
		arn = id
		var replicas []any
		for _, r := range asSlice(fp["replica"]) {
			rm := map[string]any{}
			for k, v := range asMap(r) {
				rm[k] = v
			}
			rm["status"] = "InSync"
			replicas = append(replicas, rm)
		}
		if replicas != nil {
			atp["replica"] = replicas
		}
	case "secretsmanager.aws.upbound.io/SecretVersion":
		secret := orDefault(str(mr, "spec", "forProvider", "secretId"), fmt.Sprint(resolved["secretId"]))
		atp["versionId"] = uuid(string(mr.GetUID()) + "/version")
		atp["id"] = secret + "|" + fmt.Sprint(atp["versionId"])
		arn = secret
	case "cloudwatchevents.aws.upbound.io/Rule":
		arn = fmt.Sprintf("arn:aws:events:%s:%s:rule/%s", rg, awsAccount, id)
	case "cloudwatchlogs.aws.upbound.io/Group":
		arn = fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", rg, awsAccount, id)
	case "route53.aws.upbound.io/Record":
		if zone := str(mr, "spec", "forProvider", "zoneId"); zone != "" || resolved["zoneId"] != nil {
			atp["zoneId"] = orDefault(zone, fmt.Sprint(resolved["zoneId"]))
		}
		atp["fqdn"] = fqdn(fmt.Sprint(fp["name"]), zoneName)
	case "route53.aws.upbound.io/Zone":
		atp["zoneId"] = id
		atp["nameServers"] = []any{"ns-1.awsdns-00.org", "ns-2.awsdns-00.net"}
		arn = "arn:aws:route53:::hostedzone/" + id
	case "ec2.aws.upbound.io/VPCPeeringConnection", "ec2.aws.upbound.io/VPCPeeringConnectionAccepter":
		atp["acceptStatus"] = "active"
	case "ec2.aws.upbound.io/NATGateway":
		atp["publicIp"] = "203.0.113." + fmt.Sprint(int(hash(id)[0])%200+1)
	case "ec2.aws.upbound.io/EIP":
		atp["allocationId"] = id
		atp["publicIp"] = "198.51.100." + fmt.Sprint(int(hash(id)[0])%200+1)
	}
	atp["arn"] = arn
	return atp
}

// externalID is the id AWS assigns: ec2 resources get prefixed hex ids, KMS keys UUIDs, Route53
// zones Z-ids, and the rest use the external name Crossplane asked for, or the object's name.
func externalID(gvk schema.GroupVersionKind, mr *unstructured.Unstructured) string {
	if en := mr.GetAnnotations()[annExternal]; en != "" {
		return en
	}
	h := hash(string(mr.GetUID()))
	prefix := map[string]string{
		"VPC": "vpc", "Subnet": "subnet", "InternetGateway": "igw", "NATGateway": "nat", "EIP": "eipalloc",
		"RouteTable": "rtb", "Route": "r-rtb", "RouteTableAssociation": "rtbassoc", "SecurityGroup": "sg",
		"SecurityGroupIngressRule": "sgr", "SecurityGroupEgressRule": "sgr", "VPCPeeringConnection": "pcx",
		"VPCPeeringConnectionAccepter": "pcx", "VPCEndpoint": "vpce", "NetworkACL": "acl", "FlowLog": "fl",
	}
	if gvk.Group == "ec2.aws.upbound.io" {
		if p, ok := prefix[gvk.Kind]; ok {
			return p + "-" + h[:17]
		}
	}
	switch gvk.Group + "/" + gvk.Kind {
	case "kms.aws.upbound.io/Key":
		if mrk, _, _ := unstructured.NestedBool(mr.Object, "spec", "forProvider", "multiRegion"); mrk {
			return "mrk-" + h[:32]
		}
		return uuid(string(mr.GetUID()))
	case "kms.aws.upbound.io/ReplicaKey":
		// A replica of a multi-Region key has the primary key's id; only the ARN's region differs.
		if src := str(mr, "spec", "forProvider", "primaryKeyArn"); strings.Contains(src, ":key/") {
			return src[strings.LastIndex(src, "/")+1:]
		}
		return uuid(string(mr.GetUID()))
	case "route53.aws.upbound.io/HealthCheck":
		return uuid(string(mr.GetUID()))
	case "secretsmanager.aws.upbound.io/Secret":
		// A secret's id is its ARN: the name and six random characters.
		name := orDefault(str(mr, "spec", "forProvider", "name"), mr.GetName())
		return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", region(mr), awsAccount, name, h[:6])
	case "route53.aws.upbound.io/Zone":
		return "Z" + strings.ToUpper(h[:20])
	}
	return mr.GetName()
}

// generatePassword does what the RDS provider does for autoGeneratePassword: it writes a random
// password into the referenced secret if that has none.
func (s *standIn) generatePassword(ctx context.Context, mr *unstructured.Unstructured) error {
	if gen, _, _ := unstructured.NestedBool(mr.Object, "spec", "forProvider", "autoGeneratePassword"); !gen {
		return nil
	}
	ref, ok, _ := unstructured.NestedStringMap(mr.Object, "spec", "forProvider", "passwordSecretRef")
	ref = localRef(ref, mr)
	if !ok || ref["name"] == "" || ref["namespace"] == "" || ref["key"] == "" {
		return nil
	}
	sec, err := s.kube.CoreV1().Secrets(ref["namespace"]).Get(ctx, ref["name"], metav1.GetOptions{})
	switch {
	case kerrors.IsNotFound(err):
		sec = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: ref["name"], Namespace: ref["namespace"]},
			Data: map[string][]byte{ref["key"]: []byte(randomPassword())}}
		_, err = s.kube.CoreV1().Secrets(ref["namespace"]).Create(ctx, sec, metav1.CreateOptions{})
		return errors.Wrap(err, "cannot create generated password secret")
	case err != nil:
		return errors.Wrap(err, "cannot get password secret")
	case len(sec.Data[ref["key"]]) == 0:
		if sec.Data == nil {
			sec.Data = map[string][]byte{}
		}
		sec.Data[ref["key"]] = []byte(randomPassword())
		_, err = s.kube.CoreV1().Secrets(ref["namespace"]).Update(ctx, sec, metav1.UpdateOptions{})
		return errors.Wrap(err, "cannot update generated password secret")
	}
	return nil
}

// writeConnectionSecret writes the connection details the provider publishes, owned by the
// managed resource.
func (s *standIn) writeConnectionSecret(ctx context.Context, gvk schema.GroupVersionKind, mr *unstructured.Unstructured, atp map[string]any) error {
	ref, ok, _ := unstructured.NestedStringMap(mr.Object, "spec", "writeConnectionSecretToRef")
	ref = localRef(ref, mr)
	if !ok || ref["name"] == "" || ref["namespace"] == "" {
		return nil
	}
	// The keys provider-aws publishes (its config's AdditionalConnectionDetailsFn).
	data := map[string][]byte{}
	switch gvk.Group + "/" + gvk.Kind {
	case "rds.aws.upbound.io/Instance":
		data["address"] = []byte(fmt.Sprint(atp["address"]))
		data["host"] = []byte(fmt.Sprint(atp["address"]))
		data["endpoint"] = []byte(fmt.Sprint(atp["endpoint"]))
		data["port"] = []byte(fmt.Sprint(atp["port"]))
		if u, ok := atp["username"].(string); ok {
			data["username"] = []byte(u)
		}
		if pw, err := s.password(ctx, mr); err != nil {
			return err
		} else if pw != nil {
			data["password"] = pw
		}
	}
	if len(data) == 0 {
		return nil
	}
	t := true
	want := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: ref["name"], Namespace: ref["namespace"],
			OwnerReferences: []metav1.OwnerReference{{APIVersion: mr.GetAPIVersion(), Kind: mr.GetKind(),
				Name: mr.GetName(), UID: mr.GetUID(), Controller: &t}}},
		Type: connSecretTyp,
		Data: data,
	}
	cur, err := s.kube.CoreV1().Secrets(ref["namespace"]).Get(ctx, ref["name"], metav1.GetOptions{})
	switch {
	case kerrors.IsNotFound(err):
		_, err = s.kube.CoreV1().Secrets(ref["namespace"]).Create(ctx, want, metav1.CreateOptions{})
		return errors.Wrap(err, "cannot create connection secret")
	case err != nil:
		return errors.Wrap(err, "cannot get connection secret")
	case reflect.DeepEqual(cur.Data, want.Data):
		return nil
	}
	cur.Data = want.Data
	_, err = s.kube.CoreV1().Secrets(ref["namespace"]).Update(ctx, cur, metav1.UpdateOptions{})
	return errors.Wrap(err, "cannot update connection secret")
}

func (s *standIn) password(ctx context.Context, mr *unstructured.Unstructured) ([]byte, error) {
	ref, ok, _ := unstructured.NestedStringMap(mr.Object, "spec", "forProvider", "passwordSecretRef")
	ref = localRef(ref, mr)
	if !ok || ref["name"] == "" {
		return nil, nil
	}
	sec, err := s.kube.CoreV1().Secrets(ref["namespace"]).Get(ctx, ref["name"], metav1.GetOptions{})
	if kerrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, errors.Wrap(err, "cannot get password secret")
	}
	return sec.Data[ref["key"]], nil
}

// setConditions writes status.atProvider (when given) and the Synced and Ready conditions, if
// they differ from what the resource has.
func (s *standIn) setConditions(ctx context.Context, ri dynamic.ResourceInterface, mr *unstructured.Unstructured,
	atp map[string]any, synced metav1.ConditionStatus, syncedReason, msg string, ready metav1.ConditionStatus, readyReason string) error {
	now := time.Now().UTC().Format(time.RFC3339)
	conds := []any{
		map[string]any{"type": "Synced", "status": string(synced), "reason": syncedReason, "lastTransitionTime": now},
		map[string]any{"type": "Ready", "status": string(ready), "reason": readyReason, "lastTransitionTime": now},
	}
	if msg != "" {
		conds[0].(map[string]any)["message"] = msg
	}
	cur, _, _ := unstructured.NestedSlice(mr.Object, "status", "conditions")
	curAtp, hasAtp, _ := unstructured.NestedMap(mr.Object, "status", "atProvider")
	if sameConditions(cur, conds) && (atp == nil || (hasAtp && jsonEqual(curAtp, atp))) {
		return nil
	}
	for i, c := range conds {
		if old := findCondition(cur, c.(map[string]any)["type"].(string)); old != nil && old["status"] == c.(map[string]any)["status"] {
			conds[i].(map[string]any)["lastTransitionTime"] = old["lastTransitionTime"]
		}
	}
	u := mr.DeepCopy()
	_ = unstructured.SetNestedSlice(u.Object, conds, "status", "conditions")
	if atp != nil {
		_ = unstructured.SetNestedMap(u.Object, atp, "status", "atProvider")
	}
	_, err := ri.UpdateStatus(ctx, u, metav1.UpdateOptions{})
	return errors.Wrapf(err, "cannot update status of %s", mr.GetName())
}

// promote does in "AWS" what the failover Lambda does: it promotes the read replica managed by
// the named resource to a standalone instance. Crossplane is not told.
func (s *standIn) promote(ctx context.Context, gvr schema.GroupVersionResource, name string) error {
	return s.promoteIn(ctx, gvr, "", name)
}

// promoteIn is promote of a namespaced instance.
func (s *standIn) promoteIn(ctx context.Context, gvr schema.GroupVersionResource, ns, name string) error {
	mr := s.cached(key{gvr: gvr, ns: ns, name: name})
	if mr == nil {
		return errors.Errorf("cannot promote %s: not found", name)
	}
	s.mu.Lock()
	st, ok := s.cloud[mr.GetUID()]
	if ok {
		st.promoted = true
	}
	s.mu.Unlock()
	if !ok {
		return errors.Errorf("cannot promote %s: not created in AWS yet", name)
	}
	s.log("promote %s in AWS (out of band)", name)
	s.queue.Add(key{gvr: gvr, ns: ns, name: name})
	return nil
}

// gkInvocation is provider-aws's lambda Invocation: creating it invokes the function.
const gkInvocation = "lambda.aws.upbound.io/Invocation"

// invoke is the failover Lambda's switchover (lambda/failover) as AWS carries it out when
// provider-aws creates the Invocation: it reads the SwitchoverRequest from
// spec.forProvider.input, finds the replica the Lambda is configured for (REPLICA_INSTANCE_ID of
// the function the Invocation selects), a composed DB instance in the Invocation's region desired
// as a replica and still replicating in AWS, fences the writer, waits for the replica to replay
// its last WAL and promotes it. It returns the SwitchoverResult (Promoted) and the instance to
// report promoted once the result is reported: AWS's PromoteReadReplica is done before the Lambda
// returns, but provider-aws records the result when the invocation returns and observes the
// instance on its next poll, so the result is seen first. The same request ID again returns the
// recorded result and promotes nothing (the Lambda's pgdr_switchover table).
func (s *standIn) invoke(inv *unstructured.Unstructured, resolved map[string]any) (string, *key, error) {
	var req contract.SwitchoverRequest
	if err := jsonUnmarshal([]byte(str(inv, "spec", "forProvider", "input")), &req); err != nil {
		return "", nil, errors.Wrap(err, "the input is no SwitchoverRequest")
	}
	if req.Action != contract.ActionSwitchover || req.ID == "" {
		return "", nil, errors.Errorf("the failover Lambda refuses action %q (id %q): want %q with an id", req.Action, req.ID, contract.ActionSwitchover)
	}
	s.mu.Lock()
	done := s.switched[req.ID]
	s.mu.Unlock()
	if done != nil {
		b, err := jsonMarshal(done.result)
		return string(b), nil, err
	}
	rg := region(inv)
	fnName, _ := resolved["functionName"].(string)
	var replicaID string
	for _, o := range s.all() {
		if groupKind(o) == gkLambdaFunction && o.GetAnnotations()[annExternal] == fnName && region(o) == rg && sameController(o, inv) {
			replicaID = lambdaEnv(o)[contract.EnvReplicaInstanceID]
		}
	}
	if replicaID == "" {
		return "", nil, errors.Errorf("no Lambda function %q in %s with %s", fnName, rg, contract.EnvReplicaInstanceID)
	}
	var target *unstructured.Unstructured
	var tk key
	for gvr := range s.kinds {
		if s.kinds[gvr].Group != "rds.aws.upbound.io" || gvr.Resource != "instances" {
			continue
		}
		for _, x := range s.factory.ForResource(gvr).Informer().GetStore().List() {
			o := x.(*unstructured.Unstructured)
			if identifier(o) == replicaID && region(o) == rg && sameController(o, inv) {
				target, tk = o, keyOf(gvr, o)
			}
		}
	}
	if target == nil {
		return "", nil, errors.Errorf("DBInstanceNotFound: %s in %s", replicaID, rg)
	}
	s.mu.Lock()
	st := s.cloud[target.GetUID()]
	promoted := st != nil && st.promoted
	s.mu.Unlock()
	switch {
	case st == nil:
		return "", nil, errors.Errorf("DBInstanceNotFound: %s in %s (not created in AWS yet)", replicaID, rg)
	case promoted || str(target, "spec", "forProvider", "replicateSourceDb") == "":
		return "", nil, errors.Errorf("%s in %s is no read replica: nothing to switch over to", replicaID, rg)
	case target.GetAnnotations()["pgdr.io/desired-as"] != "replica":
		return "", nil, errors.Errorf("%s in %s is desired as %q, not as a replica", replicaID, rg, target.GetAnnotations()["pgdr.io/desired-as"])
	}
	// The fenced writer's last WAL position, which the replica replays before its promotion.
	lsn := fmt.Sprintf("0/%X", 0x5000000+len(s.Switchovers())*0x1000+0x60)
	res := contract.SwitchoverResult{
		Action: req.Action, ID: req.ID, Outcome: contract.SwitchoverPromoted,
		FencedLSN: lsn, ReplicaLSN: lsn, WriteUnavailableMs: 4200, CatchUpMs: 150,
		Endpoint: str(target, "status", "atProvider", "address"),
	}
	b, err := jsonMarshal(res)
	if err != nil {
		return "", nil, err
	}
	s.mu.Lock()
	s.switched[req.ID] = &switchover{invocation: inv.GetAnnotations()[annCRN], region: rg, request: req, result: res, instance: replicaID, at: time.Now()}
	s.mu.Unlock()
	s.log("invoke %s (%s): switchover %s fences the writer, promotes %s in %s", inv.GetName(), inv.GetAnnotations()[annCRN], req.ID, replicaID, rg)
	return string(b), &tk, nil
}

// identifier is a DB instance's RDS identifier, as the function names it (REPLICA_INSTANCE_ID,
// spec.retireInstance).
func identifier(o *unstructured.Unstructured) string {
	return orDefault(str(o, "spec", "forProvider", "identifier"), o.GetAnnotations()[annExternal])
}

// promoteInvoked reports the instance an Invocation's switchover promoted as promoted, once the
// Invocation reports its result.
func (s *standIn) promoteInvoked(inv *cloudState) {
	s.mu.Lock()
	k := inv.promotes
	inv.promotes = nil
	s.mu.Unlock()
	if k == nil {
		return
	}
	mr := s.cached(*k)
	if mr == nil {
		return
	}
	s.mu.Lock()
	if st := s.cloud[mr.GetUID()]; st != nil {
		st.promoted = true
	}
	s.mu.Unlock()
	s.log("promote %s in AWS (switchover; its result reported)", k.name)
	s.queue.Add(*k)
}

// lambdaEnv returns a Lambda function's environment variables: spec.forProvider.environment is
// an object in lambda v1beta2, a list of one in v1beta1.
func lambdaEnv(fn *unstructured.Unstructured) map[string]string {
	env, _, _ := unstructured.NestedFieldNoCopy(fn.Object, "spec", "forProvider", "environment")
	if l := asSlice(env); len(l) > 0 {
		env = l[0]
	}
	out := map[string]string{}
	for k, v := range asMap(asMap(env)["variables"]) {
		out[k] = fmt.Sprint(v)
	}
	return out
}

// Switchovers returns the switchovers the stand-in carried out as the failover Lambda, in order.
func (s *standIn) Switchovers() []switchover {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]switchover, 0, len(s.switched))
	for _, sw := range s.switched {
		out = append(out, *sw)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

// Controlled returns the cached managed resources whose controller has the UID.
func (s *standIn) Controlled(uid types.UID) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range s.all() {
		if c := metav1.GetControllerOf(o); c != nil && c.UID == uid {
			out = append(out, o)
		}
	}
	return out
}

// lifecycle updates what the stand-in saw of o's end.
func (s *standIn) lifecycle(o *unstructured.Unstructured, fn func(l *lifecycle)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.life[o.GetUID()]
	if l == nil {
		l = &lifecycle{objRef: refOf(o)}
		s.life[o.GetUID()] = l
	}
	fn(l)
}

// Lifecycle returns what the stand-in saw of the end of the managed resource of the group/kind
// and name, if it saw any.
//
// Crossplane names a composed resource after its XR and composition-resource name, so one that
// goes and comes back (the failover path moving) has the same name each time: the latest to be
// deleted is the one asked about.
func (s *standIn) Lifecycle(gk, name string) (lifecycle, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var found *lifecycle
	for _, l := range s.life {
		if l.gk == gk && l.name == name && (found == nil || l.deleting.After(found.deleting)) {
			found = l
		}
	}
	if found == nil {
		return lifecycle{}, false
	}
	return *found, true
}

// hit records that a rule applied to deleting of.
func (s *standIn) hit(of *unstructured.Unstructured, d dependent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := d.rule.api + "/" + string(of.GetUID()) + "/" + string(d.by.GetUID()) + "/" + d.field
	h := s.hits[k]
	if h == nil {
		h = &ruleHit{rule: d.rule, of: refOf(of), by: refOf(d.by), field: d.field, first: time.Now()}
		s.hits[k] = h
	}
	h.attempts++
}

// Hits returns every rule that applied to a delete so far, in the order they first did.
func (s *standIn) Hits() []ruleHit {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ruleHit, 0, len(s.hits))
	for _, h := range s.hits {
		out = append(out, *h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].first.Before(out[j].first) })
	return out
}

// InCloud returns how many of the resources with the given UIDs "AWS" still holds.
func (s *standIn) InCloud(uids map[types.UID]bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for uid := range s.cloud {
		if uids[uid] {
			n++
		}
	}
	return n
}

// Cloud returns how many resources "AWS" holds: managed, and orphaned.
func (s *standIn) Cloud() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cloud) + len(s.orphans)
}

// Counts returns what the stand-in did in "AWS" so far.
func (s *standIn) Counts() cloudCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// localRef is a secret reference with its namespace: a namespaced resource's secrets are in
// its own namespace.
func localRef(ref map[string]string, mr *unstructured.Unstructured) map[string]string {
	if ref != nil && ref["namespace"] == "" && mr.GetNamespace() != "" {
		ref["namespace"] = mr.GetNamespace()
	}
	return ref
}

func mergePatch(ctx context.Context, ri dynamic.ResourceInterface, name string, patch map[string]any, sub string) error {
	b, err := jsonMarshal(patch)
	if err != nil {
		return err
	}
	var subs []string
	if sub != "" {
		subs = append(subs, sub)
	}
	_, err = ri.Patch(ctx, name, types.MergePatchType, b, metav1.PatchOptions{}, subs...)
	return errors.Wrapf(err, "cannot patch %s", name)
}

func region(mr *unstructured.Unstructured) string {
	r, _, _ := unstructured.NestedString(mr.Object, "spec", "forProvider", "region")
	if r == "" {
		return "us-east-1" // global services (IAM, Route53) live in us-east-1's partition endpoint
	}
	return r
}

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// uuid returns a UUID-shaped id derived from s.
func uuid(s string) string {
	h := hash(s)
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[:8], h[8:12], h[12:16], h[16:20], h[20:32])
}

// fqdn is the name Route53 reports for a record: relative names are completed with the zone's.
func fqdn(name, zone string) string {
	if zone == "" || strings.HasSuffix(name, zone) || strings.HasSuffix(name, zone+".") {
		return name
	}
	return name + "." + zone
}

func randomPassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func hasString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func appendUnique(ss []string, s string) []string {
	if hasString(ss, s) {
		return ss
	}
	return append(append([]string(nil), ss...), s)
}

func orDefault(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func findCondition(conds []any, typ string) map[string]any {
	for _, c := range conds {
		if m := asMap(c); m["type"] == typ {
			return m
		}
	}
	return nil
}

func sameConditions(cur, want []any) bool {
	for _, w := range want {
		wm := asMap(w)
		c := findCondition(cur, wm["type"].(string))
		if c == nil || c["status"] != wm["status"] || c["reason"] != wm["reason"] || fmt.Sprint(c["message"]) != fmt.Sprint(wm["message"]) {
			return false
		}
	}
	return true
}
