//go:build e2e

package e2e

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pkg/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
)

// While the function withholds resources until AWS has answered for what they need (the replica
// until the primary's ARN is known, and so on) it sets Staged=False (WaitingForObservedState) on
// the XR and the claim: DR is not armed, so neither may be Ready. A readinessWatch sees every
// version of the claim and of its XR that the API server sends from before kubectl apply (two
// watches), and the test's own polls of the claim, and checks each object as it was read: never
// Ready=True while Staged=False.
type readinessWatch struct {
	mu      sync.Mutex
	stops   []chan struct{}
	seen    map[string]*readinessCount // by what was read: "claim", "XR", "claim (poll)"
	bad     []string
	stopped bool
}

type readinessCount struct {
	versions, withheld, ready int
}

const (
	typeStaged            = "Staged"
	reasonWaitingObserved = "WaitingForObservedState"
)

// watchReadiness starts watching the claim c is about to apply, and its XR (by the claim labels
// Crossplane puts on it), before c applies it.
func (c *claimRun) watchReadiness(t *testing.T) {
	t.Helper()
	w := &readinessWatch{seen: map[string]*readinessCount{}}
	c.rw = w
	c.e.onTeardown(w.stop)
	claimGVR, err := c.e.gvr(c.claim.GetAPIVersion(), c.claim.GetKind())
	if err != nil {
		t.Fatal(err)
	}
	xrGVR, err := xrResource(readYAML(t, filepath.Join(c.e.root, "apis", "definition.yaml"))[0])
	if err != nil {
		t.Fatal(err)
	}
	ns, name := c.claim.GetNamespace(), c.claim.GetName()
	if err := w.watch(c, claimGVR, ns, "claim", func(o *metav1.ListOptions) { o.FieldSelector = "metadata.name=" + name }); err != nil {
		t.Fatal(err)
	}
	if err := w.watch(c, xrGVR, "", "XR", func(o *metav1.ListOptions) {
		o.LabelSelector = "crossplane.io/claim-name=" + name + ",crossplane.io/claim-namespace=" + ns
	}); err != nil {
		t.Fatal(err)
	}
}

// xrResource is the resource of the XRD's composite kind, in its referenceable version.
func xrResource(xrd *unstructured.Unstructured) (schema.GroupVersionResource, error) {
	gvr := schema.GroupVersionResource{Group: str(xrd, "spec", "group"), Resource: str(xrd, "spec", "names", "plural")}
	vs, _, _ := unstructured.NestedSlice(xrd.Object, "spec", "versions")
	for _, v := range vs {
		if r, _ := asMap(v)["referenceable"].(bool); r {
			gvr.Version = fmt.Sprint(asMap(v)["name"])
		}
	}
	if gvr.Group == "" || gvr.Resource == "" || gvr.Version == "" {
		return gvr, errors.Errorf("cannot find the composite resource of XRD %s: group %q, plural %q, referenceable version %q", xrd.GetName(), gvr.Group, gvr.Resource, gvr.Version)
	}
	return gvr, nil
}

// watch runs an informer of the objects of gvr in ns that tweak selects, observing each version.
func (w *readinessWatch) watch(c *claimRun, gvr schema.GroupVersionResource, ns, what string, tweak dynamicinformer.TweakListOptionsFunc) error {
	inf := dynamicinformer.NewFilteredDynamicInformer(c.e.dyn, gvr, ns, 0, cache.Indexers{}, tweak).Informer()
	see := func(o any) {
		if u, ok := o.(*unstructured.Unstructured); ok {
			w.observe(what, u)
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: see, UpdateFunc: func(_, o any) { see(o) }}); err != nil {
		return errors.Wrapf(err, "cannot watch the %s", what)
	}
	stop := make(chan struct{})
	w.mu.Lock()
	w.stops = append(w.stops, stop)
	w.mu.Unlock()
	go inf.Run(stop)
	if !cache.WaitForCacheSync(stop, inf.HasSynced) {
		return errors.Errorf("cannot sync the watch of the %s", what)
	}
	return nil
}

// observe checks one version of the claim or the XR, both conditions as read together.
func (w *readinessWatch) observe(what string, o *unstructured.Unstructured) {
	if w == nil {
		return
	}
	ready, _ := conditionStatus(o, "Ready")
	staged, why := conditionStatus(o, typeStaged)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	n := w.seen[what]
	if n == nil {
		n = &readinessCount{}
		w.seen[what] = n
	}
	n.versions++
	if staged == "False" {
		n.withheld++
	}
	if ready == "True" {
		n.ready++
	}
	if ready == "True" && staged == "False" {
		w.bad = append(w.bad, fmt.Sprintf("%s %s resourceVersion %s: Ready=True while Staged=False (%s)", what, o.GetName(), o.GetResourceVersion(), why))
	}
}

// stop ends the watches; what they see after is not counted.
func (w *readinessWatch) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	for _, s := range w.stops {
		close(s)
	}
	w.stops = nil
}

// checkReadiness stops the watches and fails t for every version that was Ready while Staged=False; with
// mustWithhold, also if no version of the claim said the function withheld anything (the check
// would then have proven nothing).
func (c *claimRun) checkReadiness(t *testing.T, mustWithhold bool) {
	t.Helper()
	w := c.rw
	if w == nil {
		t.Fatal("the claim's readiness is not watched")
	}
	w.stop()
	w.mu.Lock()
	bad := append([]string(nil), w.bad...)
	seen := map[string]readinessCount{}
	for k, v := range w.seen {
		seen[k] = *v
	}
	w.mu.Unlock()
	whats := make([]string, 0, len(seen))
	for k := range seen {
		whats = append(whats, k)
	}
	sort.Strings(whats)
	var parts []string
	withheld := 0
	for _, k := range whats {
		n := seen[k]
		parts = append(parts, fmt.Sprintf("%s: %d read, Staged=False in %d, Ready=True in %d", k, n.versions, n.withheld, n.ready))
		if strings.HasPrefix(k, "claim") {
			withheld += n.withheld
		}
	}
	c.e.mark("claim %s while converging: %s; Ready while Staged=False: %d", c.claim.GetName(), strings.Join(parts, "; "), len(bad))
	for _, b := range bad {
		t.Errorf("the function withheld resources (%s=False, %s) but the claim or XR was Ready: %s", typeStaged, reasonWaitingObserved, b)
	}
	if mustWithhold && withheld == 0 {
		t.Errorf("no version of claim %s said %s=False while it converged: the function withholds the replica and others until AWS answered", c.claim.GetName(), typeStaged)
	}
}
