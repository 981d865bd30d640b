package fn

import (
	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/crossplane/function-sdk-go/resource"
)

// Observed is the observed state of the XR's composed resources, read by the builders to wire
// what only exists once the cloud has made it (ids, ARNs, endpoints).
type Observed map[resource.Name]resource.ObservedComposed

// Exists reports whether the named resource is observed.
func (o Observed) Exists(name resource.Name) bool {
	_, ok := o[name]
	return ok
}

// String returns the string at the field path of the named resource, or "" when the resource
// or the field is not observed.
func (o Observed) String(name resource.Name, path string) string {
	oc, ok := o[name]
	if !ok || oc.Resource == nil {
		return ""
	}
	s, err := oc.Resource.GetString(path)
	if err != nil {
		return ""
	}
	return s
}

// AtProvider returns status.atProvider.<field> of the named resource, or "".
func (o Observed) AtProvider(name resource.Name, field string) string {
	return o.String(name, "status.atProvider."+field)
}

// Ready reports whether the named resource is observed with condition Ready=True. It reads the
// conditions in place: the SDK's GetCondition decodes them through JSON, on every call.
func (o Observed) Ready(name resource.Name) bool {
	oc, ok := o[name]
	if !ok || oc.Resource == nil {
		return false
	}
	status, _ := oc.Resource.Object["status"].(map[string]any)
	conds, _ := status["conditions"].([]any)
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == string(xpv1.TypeReady) {
			return m["status"] == string(corev1.ConditionTrue)
		}
	}
	return false
}

// ConnectionDetail returns a connection detail of the named resource, or nil.
func (o Observed) ConnectionDetail(name resource.Name, key string) []byte {
	oc, ok := o[name]
	if !ok {
		return nil
	}
	return oc.ConnectionDetails[key]
}
