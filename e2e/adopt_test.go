//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/errors"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// adoptNamespace is where the adoption stage moves a claim's databases to.
const adoptNamespace = "team-b"

// adoptStage moves a claim to a namespaced PostgresDR without replacing anything in AWS, as the
// README says: every managed resource of the claim's XR set to deletionPolicy Orphan, the claim
// deleted (nothing deleted in AWS), each one's namespaced twin created observe-only under its
// external name, and a PostgresDR with the claim's spec, spec.awsNameBase the claim's base and
// spec.crossplane.resourceRefs naming the twins. The PostgresDR must take every twin over, become
// Ready and make nothing new in AWS.
func adoptStage(ctx context.Context, t *testing.T, e *env, s *standIn) string {
	t.Helper()
	c := applyRenamedClaim(ctx, t, e, "orders-db-mv", map[string]any{})
	c.waitReady(ctx, t, 240*time.Second)
	xr, err := c.xr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSuffix(str(xr, "status", "primary", "instance"), "-primary-db")
	old := s.Controlled(xr.GetUID())
	if len(old) < 100 || base == "" {
		t.Fatalf("the claim composes %d managed resources, base %q", len(old), base)
	}
	ext := map[string]bool{}
	for _, o := range old {
		gvr := s.gvrs[o.GroupVersionKind()]
		if _, err := e.dyn.Resource(gvr).Patch(ctx, o.GetName(), types.MergePatchType, []byte(`{"spec":{"deletionPolicy":"Orphan"}}`), metav1.PatchOptions{}); err != nil {
			t.Fatalf("cannot set deletionPolicy Orphan on %s %s: %v", o.GetKind(), o.GetName(), err)
		}
		ext[o.GetAnnotations()[annExternal]] = true
	}
	// The stand-in must see Orphan before the delete comes.
	if err := eventually(ctx, 30*time.Second, 200*time.Millisecond, func(context.Context) error {
		for _, o := range s.Controlled(xr.GetUID()) {
			if str(o, "spec", "deletionPolicy") != "Orphan" {
				return errors.Errorf("%s not Orphan yet", o.GetName())
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	inCloud := s.Cloud()
	begin := time.Now()
	if out, err := e.kubectl(ctx, nil, "delete", "-f", c.file, "--wait=false"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if err := eventually(ctx, 180*time.Second, 500*time.Millisecond, func(ctx context.Context) error {
		if left := s.Controlled(xr.GetUID()); len(left) > 0 {
			return errors.Errorf("%d managed resources of the claim left", len(left))
		}
		if _, err := c.xr(ctx); !kerrors.IsNotFound(err) {
			return errors.Errorf("the claim's XR is still there (%v)", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := s.Orphaned(); n != len(old) {
		t.Errorf("after deleting the claim %d AWS resources are orphaned, want all %d kept", n, len(old))
	}
	e.mark("adopt: claim %s deleted after %s, its %d AWS resources kept (deletionPolicy Orphan)", c.claim.GetName(), since(begin), s.Orphaned())

	if out, err := e.kubectl(ctx, nil, "create", "namespace", adoptNamespace); err != nil && !strings.Contains(out, "AlreadyExists") {
		t.Fatalf("%v\n%s", err, out)
	}
	var refs []any
	for _, o := range old {
		gvk := o.GroupVersionKind()
		nsGVK := schema.GroupVersionKind{Group: strings.Replace(gvk.Group, ".aws.upbound.io", ".aws.m.upbound.io", 1), Version: "v1beta1", Kind: gvk.Kind}
		fp := map[string]any{}
		if r := str(o, "spec", "forProvider", "region"); r != "" {
			fp["region"] = r
		}
		twin := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": nsGVK.GroupVersion().String(),
			"kind":       gvk.Kind,
			"metadata": map[string]any{
				"name":      o.GetName(),
				"namespace": adoptNamespace,
				"annotations": map[string]any{
					annExternal: o.GetAnnotations()[annExternal],
					"crossplane.io/composition-resource-name": o.GetAnnotations()[annCRN],
				},
			},
			"spec": map[string]any{"managementPolicies": []any{"Observe"}, "forProvider": fp},
		}}
		gvr, ok := s.gvrs[nsGVK]
		if !ok {
			t.Fatalf("no namespaced CRD for %s (is it in apis/activation.yaml?)", nsGVK)
		}
		if _, err := e.dyn.Resource(gvr).Namespace(adoptNamespace).Create(ctx, twin, metav1.CreateOptions{}); err != nil {
			t.Fatalf("cannot create the observe-only twin of %s %s: %v", gvk.Kind, o.GetName(), err)
		}
		refs = append(refs, map[string]any{"apiVersion": nsGVK.GroupVersion().String(), "kind": gvk.Kind, "name": o.GetName()})
	}
	spec, _, _ := unstructured.NestedMap(c.claim.Object, "spec")
	delete(spec, "writeConnectionSecretToRef")
	spec["awsNameBase"] = base
	spec["crossplane"] = map[string]any{"resourceRefs": refs}
	pdr := map[string]any{
		"apiVersion": "pgdr.io/v1alpha1", "kind": "PostgresDR",
		"metadata": map[string]any{"name": "orders-db", "namespace": adoptNamespace},
		"spec":     spec,
	}
	b, err := yaml.Marshal(pdr)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(e.run, "postgresdr-adopt.yaml")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	begin = time.Now()
	if out, err := e.kubectl(ctx, nil, "apply", "-f", file); err != nil {
		t.Fatalf("kubectl apply -f %s: %v\n%s", file, err, out)
	}
	get := func(ctx context.Context) (*unstructured.Unstructured, error) {
		return e.get(ctx, "pgdr.io/v1alpha1", "PostgresDR", adoptNamespace, "orders-db")
	}
	var uid types.UID
	if err := eventually(ctx, 240*time.Second, 500*time.Millisecond, func(ctx context.Context) error {
		cur, err := get(ctx)
		if err != nil {
			return err
		}
		uid = cur.GetUID()
		if st, why := conditionStatus(cur, "Ready"); st != "True" {
			waiting, _, _ := unstructured.NestedFieldNoCopy(cur.Object, "status", "waitingFor")
			return errors.Errorf("PostgresDR Ready=%q (%s); waiting for %v; %d of %d adopted", st, why, waiting, s.Adopted(), len(old))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ready := time.Since(begin)
	adopted := s.Controlled(uid)
	var made []string
	for _, o := range adopted {
		if !ext[o.GetAnnotations()[annExternal]] {
			made = append(made, o.GetKind()+" "+o.GetName())
		}
		if mp, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "managementPolicies"); len(mp) == 1 && mp[0] == "Observe" {
			made = append(made, o.GetKind()+" "+o.GetName()+" still observe-only")
		}
	}
	if len(made) > 0 {
		t.Errorf("the PostgresDR made or left these, want every one of the claim's AWS resources taken over:\n  %s", strings.Join(made, "\n  "))
	}
	if n := s.Orphaned(); n != 0 || s.Cloud() != inCloud {
		t.Errorf("after the adoption %d AWS resources are left orphaned and AWS holds %d, want 0 and %d as before", n, s.Cloud(), inCloud)
	}
	fig := fmt.Sprintf("claim orders-db-mv (%d managed resources) moved to PostgresDR %s/orders-db: Ready %.1fs after apply, %d taken over by external name, %d made anew in AWS",
		len(old), adoptNamespace, ready.Seconds(), s.Adopted(), len(made))
	e.mark("adopt: %s", fig)

	// Out of the way of the stages after this one.
	_, _ = e.kubectl(ctx, nil, "patch", "postgresdr", "orders-db", "-n", adoptNamespace, "--type=merge", "-p", `{"spec":{"deletionProtection":false}}`)
	_ = eventually(ctx, 60*time.Second, 500*time.Millisecond, func(context.Context) error {
		for _, o := range s.Controlled(uid) {
			if p, _, _ := unstructured.NestedBool(o.Object, "spec", "forProvider", "deletionProtection"); p && o.GetKind() == "Instance" {
				return errors.New("protected")
			}
		}
		return nil
	})
	_, _ = e.kubectl(ctx, nil, "delete", "-f", file, "--wait=false")
	_ = eventually(ctx, 180*time.Second, 500*time.Millisecond, func(context.Context) error {
		if left := s.Controlled(uid); len(left) > 0 {
			return errors.Errorf("%d left", len(left))
		}
		return nil
	})
	return fig
}
