package fn

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/request"
	"github.com/crossplane/function-sdk-go/resource"
)

// observedState is the observed state of the XR's composed resources, read by the builders to wire
// what only exists once the cloud has made it (ids, ARNs, endpoints). Builders read a resource
// through its provider-aws type (observedAs), never by a field path.
type observedState map[resource.Name]resource.ObservedComposed

// observedFrom returns the observed composed resources of a request.
func observedFrom(req *fnv1.RunFunctionRequest) (observedState, error) {
	ocs, err := request.GetObservedComposedResources(req)
	return observedState(ocs), err
}

// Exists reports whether the named resource is observed.
func (o observedState) Exists(name resource.Name) bool {
	oc, ok := o[name]
	return ok && oc.Resource != nil
}

// Ready reports whether the named resource is observed with condition Ready=True.
func (o observedState) Ready(name resource.Name) bool {
	if !o.Exists(name) {
		return false
	}
	// Decoded with the unstructured converter: the SDK's GetCondition round-trips the conditions
	// through JSON, a third of a converged reconcile's CPU.
	st, _ := o[name].Resource.Object["status"].(map[string]any)
	var cs xpv1.ConditionedStatus
	if runtime.DefaultUnstructuredConverter.FromUnstructured(st, &cs) != nil {
		return false
	}
	return cs.GetCondition(xpv1.TypeReady).Status == corev1.ConditionTrue
}

// Unreported returns the observed provider-aws managed resources their provider has not reported
// on yet (no Synced condition), sorted: just created, or taken over by external name and not yet
// observed in AWS. What the builders read of them (ids, ARNs, endpoints) is not known yet.
func (o observedState) Unreported() []resource.Name {
	var out []resource.Name
	for name := range o {
		gk := o.GroupKind(name)
		if !strings.HasSuffix(gk.Group, clusterGroupSuffix) {
			continue
		}
		if !o.hasCondition(name, xpv1.TypeSynced) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// ConnectionDetail returns a connection detail of the named resource, or nil.
func (o observedState) ConnectionDetail(name resource.Name, key string) []byte {
	return o[name].ConnectionDetails[key]
}

// GroupKind returns the named resource's API group and kind, empty when it is not observed. A
// namespaced provider-aws kind is reported as its cluster-scoped twin.
func (o observedState) GroupKind(name resource.Name) schema.GroupKind {
	if !o.Exists(name) {
		return schema.GroupKind{}
	}
	return clusterGroupKind(o[name].Resource.GetObjectKind().GroupVersionKind().GroupKind())
}

// hasCondition reports whether the named resource has a condition of the type, without decoding
// its conditions: Unreported asks it of every observed resource on every reconcile.
func (o observedState) hasCondition(name resource.Name, ct xpv1.ConditionType) bool {
	st, _ := o[name].Resource.Object["status"].(map[string]any)
	conds, _ := st["conditions"].([]any)
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == string(ct) {
			return true
		}
	}
	return false
}

// observedAs decodes the named observed resource into its provider-aws type. It returns the zero
// object when the resource is not observed, or does not decode (a provider that reports fields
// of another shape): the builders then treat what they read as not yet known, and withhold what
// needs it.
func observedAs[T any, P interface {
	*T
	runtime.Object
}](o observedState, name resource.Name) P {
	obj := P(new(T))
	if o.Exists(name) {
		_ = runtime.DefaultUnstructuredConverter.FromUnstructured(o[name].Resource.Object, obj)
	}
	return obj
}

// deref returns what p points to, or the zero value.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// orDefault is v, or def when v is empty.
func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
