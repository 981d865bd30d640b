//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pkg/errors"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

const annCRN = "crossplane.io/composition-resource-name"

// claimRun is one PostgresDRClaim applied from examples/claim.yaml, followed through its life.
type claimRun struct {
	e       *env
	file    string                     // what kubectl applies and deletes
	claim   *unstructured.Unstructured // as in the file
	applied time.Time
	ready   time.Duration // from kubectl apply to the claim's Ready

	xrd                   string // the XRD's name
	xrAPI, xrKind, xrName string
	primary, dr           string

	first map[string]*unstructured.Unstructured // what render says the first pass composes
	uids  map[types.UID]string                  // every composed resource seen, by UID
	rw    *readinessWatch                       // every version of the claim and its XR while it converges
}

// applyClaim does what an application team does: kubectl apply -f examples/claim.yaml.
func applyClaim(ctx context.Context, t *testing.T, e *env) *claimRun {
	return applyClaimFile(ctx, t, e, filepath.Join(e.root, "examples", "claim.yaml"), exampleClaim(t, e))
}

// applyRenamedClaim applies the claim of examples/claim.yaml under another name, its connection
// secret named after it and the given spec fields set, from a copy in the run's directory.
func applyRenamedClaim(ctx context.Context, t *testing.T, e *env, name string, spec map[string]any) *claimRun {
	cl := exampleClaim(t, e)
	cl.SetName(name)
	spec["writeConnectionSecretToRef"] = map[string]any{"name": name + "-conn"}
	for k, v := range spec {
		if err := unstructured.SetNestedField(cl.Object, v, "spec", k); err != nil {
			t.Fatal(err)
		}
	}
	b, err := yaml.Marshal(cl.Object)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(e.run, "claim-"+name+".yaml")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return applyClaimFile(ctx, t, e, f, cl)
}

// applyClaimFile runs kubectl apply -f file, whose claim is cl, and waits for its XR.
func applyClaimFile(ctx context.Context, t *testing.T, e *env, file string, cl *unstructured.Unstructured) *claimRun {
	c := &claimRun{e: e, file: file, claim: cl, uids: map[types.UID]string{}}
	c.xrd = readYAML(t, filepath.Join(e.root, "apis", "definition.yaml"))[0].GetName()
	c.primary, _, _ = unstructured.NestedString(c.claim.Object, "spec", "regions", "primary")
	c.dr, _, _ = unstructured.NestedString(c.claim.Object, "spec", "regions", "dr")
	if c.primary == "" || c.dr == "" {
		t.Fatalf("%s sets no spec.regions.primary and spec.regions.dr", file)
	}
	if ns := c.claim.GetNamespace(); ns != "default" {
		if out, err := e.kubectl(ctx, nil, "create", "namespace", ns); err != nil && !strings.Contains(out, "AlreadyExists") {
			t.Fatal(err)
		}
	}
	c.watchReadiness(t)
	c.applied = time.Now()
	if out, err := e.kubectl(ctx, nil, "apply", "-f", c.file); err != nil {
		t.Fatalf("kubectl apply -f %s: %v\n%s", c.file, err, out)
	}
	if err := eventually(ctx, 60*time.Second, 100*time.Millisecond, func(ctx context.Context) error {
		cl, err := c.get(ctx)
		if err != nil {
			return err
		}
		ref, _, _ := unstructured.NestedStringMap(cl.Object, "spec", "resourceRef")
		if ref["name"] == "" {
			return errors.New("claim has no spec.resourceRef yet")
		}
		c.xrAPI, c.xrKind, c.xrName = ref["apiVersion"], ref["kind"], ref["name"]
		// Crossplane names the XR in the claim before it creates it.
		_, err = c.xr(ctx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	e.mark("claim %s/%s bound to %s %s after %s", c.claim.GetNamespace(), c.claim.GetName(), c.xrKind, c.xrName, since(c.applied))
	return c
}

func since(t time.Time) string { return fmt.Sprintf("%.2fs", time.Since(t).Seconds()) }

func (c *claimRun) get(ctx context.Context) (*unstructured.Unstructured, error) {
	return c.e.get(ctx, c.claim.GetAPIVersion(), c.claim.GetKind(), c.claim.GetNamespace(), c.claim.GetName())
}

func (c *claimRun) xr(ctx context.Context) (*unstructured.Unstructured, error) {
	return c.e.get(ctx, c.xrAPI, c.xrKind, "", c.xrName)
}

// composed returns the XR's composed resources that exist, by composition resource name.
func (c *claimRun) composed(ctx context.Context) (map[string]*unstructured.Unstructured, error) {
	xr, err := c.xr(ctx)
	if err != nil {
		return nil, err
	}
	refs, _, _ := unstructured.NestedSlice(xr.Object, "spec", "resourceRefs")
	if len(refs) == 0 {
		refs, _, _ = unstructured.NestedSlice(xr.Object, "spec", "crossplane", "resourceRefs")
	}
	out := map[string]*unstructured.Unstructured{}
	for _, r := range refs {
		m := asMap(r)
		o, err := c.e.get(ctx, fmt.Sprint(m["apiVersion"]), fmt.Sprint(m["kind"]), "", fmt.Sprint(m["name"]))
		if kerrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		crn := o.GetAnnotations()[annCRN]
		out[crn] = o
		c.uids[o.GetUID()] = crn
	}
	return out, nil
}

// render runs the real `crossplane render` of the XR as it is in the API server, with our
// function (a second process, insecure, as render's Development runtime wants), and returns the
// composed resources of a first reconcile, by composition resource name.
func (c *claimRun) render(ctx context.Context, t *testing.T) map[string]*unstructured.Unstructured {
	t.Helper()
	e := c.e
	xr, err := c.xr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "finalizers"} {
		unstructured.RemoveNestedField(xr.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(xr.Object, "status")
	unstructured.RemoveNestedField(xr.Object, "spec", "resourceRefs")
	dir := filepath.Join(e.run, "render")
	_ = os.MkdirAll(dir, 0o755)
	write := func(name string, o any) string {
		b, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	port := startFunction(t, e, "function-render", "--insecure", "--metrics-address=")
	fns := map[string]any{
		"apiVersion": pkgAPI, "kind": "Function",
		"metadata": map[string]any{"name": fnName, "annotations": map[string]any{
			"render.crossplane.io/runtime":                    "Development",
			"render.crossplane.io/runtime-development-target": fmt.Sprintf("127.0.0.1:%d", port),
		}},
		"spec": map[string]any{"package": "xpkg.crossplane.io/pgdr/" + fnName + ":" + e.version()},
	}
	out, err := e.tool(ctx, "crossplane", "render", write("xr.yaml", xr.Object),
		filepath.Join(e.root, "apis", "composition.yaml"), write("functions.yaml", fns),
		"--crossplane-binary="+filepath.Join(e.bin, "crossplane-core"))
	if err != nil {
		t.Fatalf("crossplane render: %v", err)
	}
	_ = os.WriteFile(filepath.Join(dir, "rendered.yaml"), []byte(out), 0o644)
	objs, err := parseYAML([]byte(out))
	if err != nil {
		t.Fatalf("cannot parse render output: %v", err)
	}
	rendered := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		if crn := o.GetAnnotations()[annCRN]; crn != "" {
			rendered[crn] = o
		}
	}
	if len(rendered) == 0 {
		t.Fatalf("crossplane render composed nothing:\n%s", out)
	}
	return rendered
}

// firstPass waits until every resource of the first pass is in the API server (no provider has
// touched anything yet), and checks each against what `crossplane render` says, its region and its
// wiring.
func (c *claimRun) firstPass(ctx context.Context, t *testing.T) {
	e := c.e
	var got map[string]*unstructured.Unstructured
	var missing []string
	// crossplane render takes seconds, while the first pass is being created: the time to the whole
	// first pass is taken from when each resource appeared, polled meanwhile.
	appeared := map[string]time.Time{}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			c.pollAppeared(ctx, appeared)
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	c.first = c.render(ctx, t)
	if err := eventually(ctx, 120*time.Second, 100*time.Millisecond, func(ctx context.Context) error {
		var err error
		if got, err = c.composed(ctx); err != nil {
			return err
		}
		missing = missing[:0]
		for crn := range c.first {
			if got[crn] == nil {
				missing = append(missing, crn)
			}
		}
		if len(missing) > 0 {
			return errors.Errorf("%d of %d first-pass resources missing: %v", len(missing), len(c.first), missing)
		}
		return nil
	}); err != nil {
		close(stop)
		<-stopped
		t.Fatal(err)
	}
	close(stop)
	<-stopped
	c.pollAppeared(ctx, appeared)
	var last time.Time
	for crn := range c.first {
		if at := appeared[refKey(got[crn].GetKind(), got[crn].GetName())]; at.After(last) {
			last = at
		}
	}
	e.figure("claim-to-first-pass", "%.1fs from kubectl apply to all %d first-pass managed resources in the API server",
		last.Sub(c.applied).Seconds(), len(c.first))

	xr, err := c.xr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for crn, want := range c.first {
		mr := got[crn]
		wfp, _, _ := unstructured.NestedMap(want.Object, "spec", "forProvider")
		gfp, _, _ := unstructured.NestedMap(mr.Object, "spec", "forProvider")
		if diff := cmp.Diff(normalize(wfp), normalize(gfp)); diff != "" {
			t.Errorf("%s (%s): spec.forProvider differs from crossplane render: -render, +API server:\n%s", crn, mr.GetKind(), diff)
		}
		if mr.GetKind() != want.GetKind() || mr.GetAPIVersion() != want.GetAPIVersion() {
			t.Errorf("%s: %s %s in the API server, render says %s %s", crn, mr.GetAPIVersion(), mr.GetKind(), want.GetAPIVersion(), want.GetKind())
		}
		if ctl := metav1.GetControllerOf(mr); ctl == nil || ctl.UID != xr.GetUID() {
			t.Errorf("%s: controller reference %v, want the XR %s (%s): the garbage collector deletes by it", crn, ctl, xr.GetName(), xr.GetUID())
		}
	}
	c.checkRegionsAndWiring(t, got)
}

// pollAppeared records when each of the XR's composed resources first exists, by refKey.
func (c *claimRun) pollAppeared(ctx context.Context, appeared map[string]time.Time) {
	xr, err := c.xr(ctx)
	if err != nil {
		return
	}
	refs, _, _ := unstructured.NestedSlice(xr.Object, "spec", "resourceRefs")
	if len(refs) == 0 {
		refs, _, _ = unstructured.NestedSlice(xr.Object, "spec", "crossplane", "resourceRefs")
	}
	for _, r := range refs {
		m := asMap(r)
		k := refKey(fmt.Sprint(m["kind"]), fmt.Sprint(m["name"]))
		if _, ok := appeared[k]; ok {
			continue
		}
		if _, err := c.e.get(ctx, fmt.Sprint(m["apiVersion"]), fmt.Sprint(m["kind"]), "", fmt.Sprint(m["name"])); err == nil {
			appeared[k] = time.Now()
		}
	}
}

func refKey(kind, name string) string { return kind + "/" + name }

// normalize turns numbers into float64 so that JSON from YAML and from the API server compare.
func normalize(m map[string]any) map[string]any {
	b, _ := jsonMarshal(m)
	out := map[string]any{}
	_ = jsonUnmarshal(b, &out)
	return out
}

// checkRegionsAndWiring checks that every regional resource is in the region its name says
// (primary-* in spec.regions.primary, dr-* in spec.regions.dr; no third region), and that every
// reference and selector in spec.forProvider names a composed resource of the same region.
func (c *claimRun) checkRegionsAndWiring(t *testing.T, got map[string]*unstructured.Unstructured) {
	t.Helper()
	wires := 0
	defer func() {
		c.e.mark("%d resources in %s or %s, %d references and selectors checked", len(got), c.primary, c.dr, wires)
	}()
	var all []*unstructured.Unstructured
	for _, o := range got {
		all = append(all, o)
	}
	names := make([]string, 0, len(got))
	for crn := range got {
		names = append(names, crn)
	}
	sort.Strings(names)
	regional := 0
	for _, crn := range names {
		mr := got[crn]
		rg, hasRegion, _ := unstructured.NestedString(mr.Object, "spec", "forProvider", "region")
		if hasRegion {
			regional++
			switch {
			case strings.HasPrefix(crn, "primary-") && rg != c.primary:
				t.Errorf("%s (%s): region %q, want the primary region %q", crn, mr.GetKind(), rg, c.primary)
			case strings.HasPrefix(crn, "dr-") && rg != c.dr:
				t.Errorf("%s (%s): region %q, want the DR region %q", crn, mr.GetKind(), rg, c.dr)
			case rg != c.primary && rg != c.dr:
				t.Errorf("%s (%s): region %q is neither %q nor %q", crn, mr.GetKind(), rg, c.primary, c.dr)
			}
		}
		fp, _, _ := unstructured.NestedMap(mr.Object, "spec", "forProvider")
		for field, v := range fp {
			var targets []*unstructured.Unstructured
			switch {
			case strings.HasSuffix(field, "SecretRef"):
				continue // a Kubernetes secret holding a sensitive argument
			case strings.HasSuffix(field, "Ref"):
				n, _, _ := unstructured.NestedString(asMap(v), "name")
				targets = named(all, n)
			case strings.HasSuffix(field, "Refs"):
				for _, r := range asSlice(v) {
					n, _, _ := unstructured.NestedString(asMap(r), "name")
					ts := named(all, n)
					if len(ts) == 0 {
						targets = nil
						break
					}
					targets = append(targets, ts...)
				}
			case strings.HasSuffix(field, "Selector"):
				targets = selected(all, mr, asMap(v))
			default:
				continue
			}
			wires++
			if len(targets) == 0 {
				t.Errorf("%s (%s): spec.forProvider.%s matches no composed resource: %v", crn, mr.GetKind(), field, v)
				continue
			}
			for _, tg := range targets {
				trg, ok, _ := unstructured.NestedString(tg.Object, "spec", "forProvider", "region")
				if hasRegion && ok && trg != rg {
					t.Errorf("%s (%s, %s): spec.forProvider.%s points at %s in %s: a reference cannot cross regions",
						crn, mr.GetKind(), rg, field, tg.GetAnnotations()[annCRN], trg)
				}
			}
		}
	}
	if regional == 0 {
		t.Errorf("no composed resource has spec.forProvider.region")
	}
}

func named(all []*unstructured.Unstructured, name string) []*unstructured.Unstructured {
	for _, o := range all {
		if o.GetName() == name {
			return []*unstructured.Unstructured{o}
		}
	}
	return nil
}

func selected(all []*unstructured.Unstructured, from *unstructured.Unstructured, sel map[string]any) []*unstructured.Unstructured {
	labels, _, _ := unstructured.NestedStringMap(sel, "matchLabels")
	mcr, _, _ := unstructured.NestedBool(sel, "matchControllerRef")
	var out []*unstructured.Unstructured
	for _, o := range all {
		if o.GetUID() == from.GetUID() || (mcr && !sameController(o, from)) {
			continue
		}
		ok := true
		for k, v := range labels {
			if o.GetLabels()[k] != v {
				ok = false
			}
		}
		if ok {
			out = append(out, o)
		}
	}
	return out
}

// byKind returns the composed resources of one group and kind.
func byKind(got map[string]*unstructured.Unstructured, group, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range got {
		if o.GroupVersionKind().Group == group && o.GetKind() == kind {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetAnnotations()[annCRN] < out[j].GetAnnotations()[annCRN] })
	return out
}

func str(o *unstructured.Unstructured, path ...string) string {
	s, _, _ := unstructured.NestedString(o.Object, path...)
	return s
}

func conditionStatus(o *unstructured.Unstructured, typ string) (string, string) {
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	if c := findCondition(conds, typ); c != nil {
		return fmt.Sprint(c["status"]), fmt.Sprintf("%v: %v", c["reason"], c["message"])
	}
	return "", ""
}

// converge lets the stand-in make the first pass real, and waits for the staged resources and a
// Ready claim; then checks the cross-region wiring the function could only write once AWS had
// answered, and what the claim reports; and that neither the claim nor its XR was ever Ready
// while the function withheld resources.
func (c *claimRun) converge(ctx context.Context, t *testing.T, s *standIn) {
	e := c.e
	c.waitReady(ctx, t, 240*time.Second)
	got, err := c.composed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var staged []string
	for crn := range got {
		if c.first[crn] == nil {
			staged = append(staged, crn)
		}
	}
	sort.Strings(staged)
	e.mark("%d managed resources, %d of them staged after AWS answered: %v", len(got), len(staged), staged)
	if len(staged) == 0 {
		t.Errorf("no resource appeared after the first pass: the replica, replica key, peering accepter and bucket replication wait for what AWS reports")
	}
	c.checkRegionsAndWiring(t, got)
	c.checkProviderDependencies(t, got)
	c.checkCrossRegion(t, got)
	c.checkClaimStatus(ctx, t, got)
	c.checkConnectionSecret(ctx, t, got)
	if n, m := s.Cloud(), len(managedOnly(got)); n != m {
		t.Errorf("AWS holds %d resources, the XR composes %d managed resources", n, m)
	}
	c.checkReadiness(t, true)
}

// managedOnly returns the provider-aws managed resources among composed resources: not the
// ClusterUsages that order their deletion, which are Crossplane's own.
func managedOnly(got map[string]*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	out := map[string]*unstructured.Unstructured{}
	for crn, o := range got {
		if strings.HasSuffix(o.GroupVersionKind().Group, ".aws.upbound.io") {
			out[crn] = o
		}
	}
	return out
}

// waitReady waits up to timeout for the claim to become Ready and records how long that took from
// kubectl apply.
func (c *claimRun) waitReady(ctx context.Context, t *testing.T, timeout time.Duration) {
	t.Helper()
	if err := eventually(ctx, timeout, 250*time.Millisecond, func(ctx context.Context) error {
		cl, err := c.get(ctx)
		if err != nil {
			return err
		}
		c.rw.observe("claim (poll)", cl)
		if st, why := conditionStatus(cl, "Ready"); st != "True" {
			xr, _ := c.xr(ctx)
			var waiting any
			if xr != nil {
				waiting, _, _ = unstructured.NestedFieldNoCopy(xr.Object, "status", "waitingFor")
			}
			return errors.Errorf("claim Ready=%q (%s); XR waiting for %v", st, why, waiting)
		}
		return nil
	}); err != nil {
		got, _ := c.composed(ctx)
		for crn, o := range got {
			if st, why := conditionStatus(o, "Ready"); st != "True" {
				_, synced := conditionStatus(o, "Synced")
				t.Logf("not ready: %s %s %s: %s; synced: %s", crn, o.GetKind(), o.GetName(), why, synced)
			}
		}
		t.Fatal(err)
	}
	c.ready = time.Since(c.applied)
}

// checkProviderDependencies checks that the Configuration package (crossplane.yaml) depends on
// the provider-aws family provider of every kind the XR composes: without it, installing the
// Configuration installs no controller for those resources.
func (c *claimRun) checkProviderDependencies(t *testing.T, got map[string]*unstructured.Unstructured) {
	t.Helper()
	meta := readYAML(t, filepath.Join(c.e.root, "crossplane.yaml"))[0]
	deps, _, _ := unstructured.NestedSlice(meta.Object, "spec", "dependsOn")
	have := map[string]bool{}
	for _, d := range deps {
		pkg := fmt.Sprint(asMap(d)["package"])
		have[pkg[strings.LastIndex(pkg, "/")+1:]] = true
	}
	need := map[string][]string{}
	for crn, o := range managedOnly(got) {
		svc := strings.TrimSuffix(o.GroupVersionKind().Group, ".aws.upbound.io")
		if p := "provider-aws-" + svc; !have[p] {
			need[p] = append(need[p], crn)
		}
	}
	for p, crns := range need {
		sort.Strings(crns)
		t.Errorf("crossplane.yaml does not depend on %s, whose kinds the XR composes: %v", p, crns)
	}
}

// checkCrossRegion checks the wiring that needs what AWS reported in the other region.
func (c *claimRun) checkCrossRegion(t *testing.T, got map[string]*unstructured.Unstructured) {
	t.Helper()
	insts := byKind(got, "rds.aws.upbound.io", "Instance")
	var primary, replica *unstructured.Unstructured
	for _, i := range insts {
		if str(i, "spec", "forProvider", "replicateSourceDb") != "" {
			replica = i
		} else {
			primary = i
		}
	}
	if primary == nil || replica == nil || len(insts) != 2 {
		t.Fatalf("want one primary DB instance and one replica, got %d instances (primary %v, replica %v)", len(insts), primary != nil, replica != nil)
	}
	if r := str(primary, "spec", "forProvider", "region"); r != c.primary {
		t.Errorf("primary DB instance in %s, want %s", r, c.primary)
	}
	if r := str(replica, "spec", "forProvider", "region"); r != c.dr {
		t.Errorf("replica DB instance in %s, want %s", r, c.dr)
	}
	if got, want := str(replica, "spec", "forProvider", "replicateSourceDb"), str(primary, "status", "atProvider", "arn"); got != want {
		t.Errorf("replica replicateSourceDb %q, want the primary's ARN %q", got, want)
	}
	if kid := str(replica, "spec", "forProvider", "kmsKeyId"); kid != "" {
		if !strings.Contains(kid, ":"+c.dr+":") {
			t.Errorf("replica kmsKeyId %q is not a key of the DR region %s", kid, c.dr)
		}
	}

	keys := byKind(got, "kms.aws.upbound.io", "Key")
	for _, rk := range byKind(got, "kms.aws.upbound.io", "ReplicaKey") {
		if r := str(rk, "spec", "forProvider", "region"); r != c.dr {
			t.Errorf("KMS replica key %s in %s, want %s", rk.GetAnnotations()[annCRN], r, c.dr)
		}
		src := str(rk, "spec", "forProvider", "primaryKeyArn")
		ok := false
		for _, k := range keys {
			if str(k, "status", "atProvider", "arn") == src && str(k, "spec", "forProvider", "region") == c.primary {
				ok = true
			}
		}
		if !ok {
			t.Errorf("KMS replica key %s: primaryKeyArn %q is no primary-region key's ARN", rk.GetAnnotations()[annCRN], src)
		}
	}

	pcs := byKind(got, "ec2.aws.upbound.io", "VPCPeeringConnection")
	accs := byKind(got, "ec2.aws.upbound.io", "VPCPeeringConnectionAccepter")
	if len(pcs) != 1 || len(accs) != 1 {
		t.Errorf("want one VPC peering connection and one accepter, got %d and %d", len(pcs), len(accs))
	} else {
		if got, want := str(accs[0], "spec", "forProvider", "vpcPeeringConnectionId"), str(pcs[0], "status", "atProvider", "id"); got != want {
			t.Errorf("peering accepter vpcPeeringConnectionId %q, want the peering connection's id %q", got, want)
		}
		if r := str(accs[0], "spec", "forProvider", "region"); r != c.dr {
			t.Errorf("peering accepter in %s, want %s", r, c.dr)
		}
		if r := str(pcs[0], "spec", "forProvider", "peerRegion"); r != c.dr {
			t.Errorf("peering connection peerRegion %q, want %s", r, c.dr)
		}
		drVPC := ""
		for _, v := range byKind(got, "ec2.aws.upbound.io", "VPC") {
			if str(v, "spec", "forProvider", "region") == c.dr {
				drVPC = str(v, "status", "atProvider", "id")
			}
		}
		if got := str(pcs[0], "spec", "forProvider", "peerVpcId"); got == "" || got != drVPC {
			t.Errorf("peering connection peerVpcId %q, want the DR VPC's id %q", got, drVPC)
		}
	}

	buckets := byKind(got, "s3.aws.upbound.io", "Bucket")
	repls := byKind(got, "s3.aws.upbound.io", "BucketReplicationConfiguration")
	if len(repls) == 0 {
		t.Errorf("no S3 bucket replication configuration")
	}
	for _, r := range repls {
		rules, _, _ := unstructured.NestedSlice(r.Object, "spec", "forProvider", "rule")
		for _, rule := range rules {
			dests := asSlice(asMap(rule)["destination"]) // a list in v1beta1, an object in v1beta2
			if d, ok := asMap(rule)["destination"].(map[string]any); ok {
				dests = []any{d}
			}
			if len(dests) == 0 {
				t.Errorf("bucket replication %s: a rule without destination", r.GetAnnotations()[annCRN])
			}
			for _, d := range dests {
				dst := fmt.Sprint(asMap(d)["bucket"])
				ok := false
				for _, b := range buckets {
					if str(b, "status", "atProvider", "arn") == dst && str(b, "spec", "forProvider", "region") == c.dr {
						ok = true
					}
				}
				if !ok {
					t.Errorf("bucket replication %s: destination %q is no DR-region bucket's ARN", r.GetAnnotations()[annCRN], dst)
				}
			}
		}
	}
}

// checkClaimStatus checks what the claim reports against what AWS reported.
func (c *claimRun) checkClaimStatus(ctx context.Context, t *testing.T, got map[string]*unstructured.Unstructured) {
	t.Helper()
	cl, err := c.get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range byKind(got, "rds.aws.upbound.io", "Instance") {
		side := "primary"
		if str(i, "spec", "forProvider", "region") == c.dr {
			side = "dr"
		}
		ep := str(cl, "status", side, "endpoint")
		if ep == "" || (ep != str(i, "status", "atProvider", "address") && ep != str(i, "status", "atProvider", "endpoint")) {
			t.Errorf("claim status.%s.endpoint %q, want the %s instance's address %q", side, ep, side, str(i, "status", "atProvider", "address"))
		}
		if arn := str(cl, "status", side, "instanceArn"); arn != str(i, "status", "atProvider", "arn") {
			t.Errorf("claim status.%s.instanceArn %q, want %q", side, arn, str(i, "status", "atProvider", "arn"))
		}
	}
	if r := str(cl, "status", "primary", "region"); r != "" && r != c.primary {
		t.Errorf("claim status.primary.region %q, want %q", r, c.primary)
	}
	if p := str(cl, "status", "phase"); p != "Replicating" {
		t.Errorf("claim status.phase %q, want Replicating", p)
	}
	if a := str(cl, "status", "activeRegion"); a != c.primary {
		t.Errorf("claim status.activeRegion %q, want %q", a, c.primary)
	}
}

// checkConnectionSecret checks the claim's connection secret in its namespace: where the writer
// and the reader are and how to log in, as AWS reported them, and nothing else.
func (c *claimRun) checkConnectionSecret(ctx context.Context, t *testing.T, got map[string]*unstructured.Unstructured) {
	t.Helper()
	name := str(c.claim, "spec", "writeConnectionSecretToRef", "name")
	if name == "" {
		t.Errorf("examples/claim.yaml asks for no connection secret (spec.writeConnectionSecretToRef)")
		return
	}
	var primary, replica *unstructured.Unstructured
	for _, i := range byKind(got, "rds.aws.upbound.io", "Instance") {
		if str(i, "spec", "forProvider", "replicateSourceDb") == "" {
			primary = i
		} else {
			replica = i
		}
	}
	if primary == nil || replica == nil {
		t.Fatal("want a primary and a replica DB instance")
	}
	// The writer's stable name is the PRIMARY failover record's; the RDS certificate names the
	// instance, so verify-full works only against the instance's own address.
	var record string
	for _, r := range byKind(got, "route53.aws.upbound.io", "Record") {
		if str(r, "spec", "forProvider", "failoverRoutingPolicy", "type") == "PRIMARY" {
			record = strings.ToLower(strings.TrimSuffix(str(r, "status", "atProvider", "fqdn"), "."))
		}
	}
	if record == "" {
		t.Fatal("want a PRIMARY failover record that reports its fqdn")
	}
	want := map[string]string{
		"endpoint":                record,
		"endpointSSLMode":         "require",
		"instanceEndpoint":        str(primary, "status", "atProvider", "address"),
		"instanceEndpointSSLMode": "verify-full",
		"readerEndpoint":          str(replica, "status", "atProvider", "address"),
		"port":                    fmt.Sprint(get(primary.Object, "spec", "forProvider", "port")),
		"username":                str(primary, "spec", "forProvider", "username"),
		"database":                str(primary, "spec", "forProvider", "dbName"),
	}
	if want["port"] == "<nil>" {
		want["port"] = "5432"
	}
	// How to log in: the master password itself, or the Secrets Manager secret RDS keeps it in.
	if secs, _, _ := unstructured.NestedSlice(primary.Object, "status", "atProvider", "masterUserSecret"); len(secs) > 0 {
		want["masterUserSecretArn"] = fmt.Sprint(asMap(secs[0])["secretArn"])
	}
	if ref, _, _ := unstructured.NestedStringMap(primary.Object, "spec", "forProvider", "passwordSecretRef"); ref["name"] != "" {
		pw, err := c.e.kube.CoreV1().Secrets(ref["namespace"]).Get(ctx, ref["name"], metav1.GetOptions{})
		if err != nil {
			t.Fatalf("cannot get the primary's master password secret: %v", err)
		}
		want["password"] = string(pw.Data[ref["key"]])
	}
	if want["password"] == "" && want["masterUserSecretArn"] == "" {
		t.Errorf("the primary DB instance has neither a master password nor an RDS-managed secret")
	}
	var data map[string][]byte
	if err := eventually(ctx, 60*time.Second, 250*time.Millisecond, func(ctx context.Context) error {
		sec, err := c.e.kube.CoreV1().Secrets(c.claim.GetNamespace()).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		data = sec.Data
		got := map[string]string{}
		for k, v := range data {
			got[k] = string(v)
		}
		// Secrets never in logs: passwords are compared by their hashes.
		if diff := cmp.Diff(redact(want), redact(got)); diff != "" {
			return errors.Errorf("connection secret %s/%s: -want, +got:\n%s", c.claim.GetNamespace(), name, diff)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c.e.mark("claim connection secret %s/%s has %v", c.claim.GetNamespace(), name, keysOf(data))
}

// redact replaces the password of connection details by its hash.
func redact(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if k == "password" {
			v = "sha256:" + hash(v)[:16]
		}
		out[k] = v
	}
	return out
}

func keysOf(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// immutableRegions tries to move the live claim's primary region: the XRD's transition rule must
// refuse it at admission.
func (c *claimRun) immutableRegions(ctx context.Context, t *testing.T) {
	xrd := readYAML(t, filepath.Join(c.e.root, "apis", "definition.yaml"))[0]
	msg := ruleMessage(xrd, "self == oldSelf")
	if msg == "" {
		t.Fatal("no transition rule (self == oldSelf) in apis/definition.yaml")
	}
	other := "eu-west-1"
	if c.primary == other || c.dr == other {
		other = "ap-southeast-2"
	}
	patch := fmt.Sprintf(`{"spec":{"regions":{"primary":%q}}}`, other)
	out, err := c.e.kubectl(ctx, nil, "patch", strings.ToLower(c.claim.GetKind()), c.claim.GetName(), "-n", c.claim.GetNamespace(), "--type=merge", "-p", patch)
	if err == nil {
		t.Fatalf("moving the primary region of a live claim was accepted:\n%s", out)
	}
	if !strings.Contains(out, "cannot change once set") {
		t.Errorf("moving the primary region was refused, but not by the transition rule (%q):\n%s", msg, out)
	}
}

// failover promotes the DR replica in "AWS" behind Crossplane's back, as the failover Lambda does.
// The function must see it, stop asking for a replica, report FailedOver, and delete nothing.
func (c *claimRun) failover(ctx context.Context, t *testing.T, s *standIn) {
	before, err := c.composed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var replica *unstructured.Unstructured
	for _, i := range byKind(before, "rds.aws.upbound.io", "Instance") {
		if str(i, "spec", "forProvider", "replicateSourceDb") != "" {
			replica = i
		}
	}
	if replica == nil {
		t.Fatal("no replica DB instance to promote")
	}
	gvk := replica.GroupVersionKind()
	gvr := s.gvrs[gvk]
	begin := time.Now()
	if err := s.promote(ctx, gvr, replica.GetName()); err != nil {
		t.Fatal(err)
	}
	if err := eventually(ctx, 120*time.Second, 250*time.Millisecond, func(ctx context.Context) error {
		cl, err := c.get(ctx)
		if err != nil {
			return err
		}
		if p := str(cl, "status", "phase"); p != "FailedOver" {
			return errors.Errorf("claim phase %q, want FailedOver", p)
		}
		r, err := c.e.get(ctx, replica.GetAPIVersion(), replica.GetKind(), "", replica.GetName())
		if err != nil {
			return err
		}
		if src := str(r, "spec", "forProvider", "replicateSourceDb"); src != "" {
			return errors.Errorf("the promoted instance is still asked to replicate %s", src)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c.e.mark("promotion-to-FailedOver: %s", since(begin))
	cl, _ := c.get(ctx)
	if a := str(cl, "status", "activeRegion"); a != c.dr {
		t.Errorf("after failover status.activeRegion %q, want the DR region %q", a, c.dr)
	}
	// Nothing may be deleted: every resource composed before is still there, not being deleted.
	// Three more reconciles of the XR give a deletion the chance to show.
	c.waitReconciles(ctx, t, 3)
	if after, err := c.composed(ctx); err == nil {
		var added []string
		for crn := range after {
			if before[crn] == nil {
				added = append(added, crn)
			}
		}
		sort.Strings(added)
		c.e.mark("after the failover %d managed resources (%d before); new: %v", len(after), len(before), added)
	}
	var gone []string
	for crn, o := range before {
		cur, err := c.e.get(ctx, o.GetAPIVersion(), o.GetKind(), "", o.GetName())
		switch {
		case kerrors.IsNotFound(err):
			gone = append(gone, fmt.Sprintf("%s (%s, deleted)", crn, o.GetKind()))
		case err != nil:
			t.Error(err)
		case cur.GetDeletionTimestamp() != nil:
			gone = append(gone, fmt.Sprintf("%s (%s, being deleted)", crn, o.GetKind()))
		case cur.GetUID() != o.GetUID():
			gone = append(gone, fmt.Sprintf("%s (%s, replaced)", crn, o.GetKind()))
		}
	}
	if len(gone) > 0 {
		sort.Strings(gone)
		t.Errorf("after the out-of-band promotion %d of %d composed resources were deleted, want none:\n  %s",
			len(gone), len(before), strings.Join(gone, "\n  "))
	}
}

// waitReconciles waits until the function has been called n more times for the XR, by the
// XR's resourceVersion changing n times or 3n seconds passing, whichever comes first.
func (c *claimRun) waitReconciles(ctx context.Context, t *testing.T, n int) {
	t.Helper()
	seen := map[string]bool{}
	_ = eventually(ctx, time.Duration(3*n)*time.Second, 200*time.Millisecond, func(ctx context.Context) error {
		xr, err := c.xr(ctx)
		if err != nil {
			return err
		}
		seen[xr.GetResourceVersion()] = true
		if len(seen) > n {
			return nil
		}
		return errors.New("waiting")
	})
}
