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

	"github.com/pkg/errors"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// The namespaced stage's team namespace and provider config.
const (
	teamNamespace   = "team-a"
	teamProviderCfg = "team-aws"
)

// usageGVR is Crossplane's namespaced Usage.
var usageGVR = schema.GroupVersionResource{Group: "protection.crossplane.io", Version: "v1beta1", Resource: "usages"}

// namespacedStage takes a namespaced PostgresDR (examples/namespaced/xr.yaml) through its life
// in a team namespace as the claim stages do the claim: to Ready with a namespaced ProviderConfig,
// every composed resource in that namespace and of a namespaced kind, the composed connection
// Secret, the out-of-band promotion (FailedOver, nothing deleted), and deletion in the Usages'
// order with no AWS rule broken.
func namespacedStage(ctx context.Context, t *testing.T, e *env, s *standIn) string {
	t.Helper()
	if out, err := e.kubectl(ctx, nil, "create", "namespace", teamNamespace); err != nil && !strings.Contains(out, "AlreadyExists") {
		t.Fatalf("%v\n%s", err, out)
	}
	applyTeamProviderConfig(ctx, t, e, teamNamespace)
	xr := readYAML(t, filepath.Join(e.root, "examples", "namespaced", "xr.yaml"))[0]
	_ = unstructured.SetNestedMap(xr.Object, map[string]any{"kind": "ProviderConfig", "name": teamProviderCfg}, "spec", "providerConfigRef")
	b, err := yaml.Marshal(xr.Object)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(e.run, "postgresdr-"+xr.GetName()+".yaml")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	applied := time.Now()
	if out, err := e.kubectl(ctx, nil, "apply", "-f", file); err != nil {
		t.Fatalf("kubectl apply -f %s: %v\n%s", file, err, out)
	}
	get := func(ctx context.Context) (*unstructured.Unstructured, error) {
		return e.get(ctx, xr.GetAPIVersion(), xr.GetKind(), teamNamespace, xr.GetName())
	}
	waitPostgresDRReady(ctx, t, e, teamNamespace, xr.GetName(), 240*time.Second)
	ready := time.Since(applied)
	cur, err := get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	uid := cur.GetUID()
	mrs := s.Controlled(uid)
	var wrong []string
	for _, o := range mrs {
		switch {
		case o.GetNamespace() != teamNamespace:
			wrong = append(wrong, fmt.Sprintf("%s %s in namespace %q", o.GetKind(), o.GetName(), o.GetNamespace()))
		case !strings.HasSuffix(o.GroupVersionKind().Group, ".aws.m.upbound.io"):
			wrong = append(wrong, fmt.Sprintf("%s %s is %s", o.GetKind(), o.GetName(), o.GetAPIVersion()))
		}
		if k := str(o, "spec", "providerConfigRef", "kind") + "/" + str(o, "spec", "providerConfigRef", "name"); k != "ProviderConfig/"+teamProviderCfg {
			wrong = append(wrong, fmt.Sprintf("%s %s uses provider config %s", o.GetKind(), o.GetName(), k))
		}
	}
	sort.Strings(wrong)
	if len(wrong) > 0 {
		t.Errorf("the PostgresDR's managed resources must be namespaced kinds in %s with the team's ProviderConfig:\n  %s", teamNamespace, strings.Join(wrong, "\n  "))
	}
	if len(mrs) < 100 {
		t.Errorf("the PostgresDR composes %d managed resources, want the whole graph", len(mrs))
	}
	// Ordering objects: namespaced Usages, no ClusterUsage.
	usages, err := e.dyn.Resource(usageGVR).Namespace(teamNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mine := 0
	for _, u := range usages.Items {
		if c := metav1.GetControllerOf(&u); c != nil && c.UID == uid {
			mine++
		}
	}
	if mine == 0 {
		t.Error("the PostgresDR composes no Usage")
	}
	cus, err := e.dyn.Resource(clusterUsageGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range cus.Items {
		if c := metav1.GetControllerOf(&u); c != nil && c.UID == uid {
			t.Errorf("the PostgresDR composes the ClusterUsage %s: a namespaced XR cannot", u.GetName())
		}
	}
	// The composed connection Secret, with the password provider-aws generated.
	secretName, _, _ := unstructured.NestedString(xr.Object, "spec", "connectionSecretName")
	if err := eventually(ctx, 60*time.Second, 250*time.Millisecond, func(ctx context.Context) error {
		sec, err := e.kube.CoreV1().Secrets(teamNamespace).Get(ctx, secretName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		var missing []string
		for _, k := range []string{"endpoint", "instanceEndpoint", "readerEndpoint", "port", "username", "password", "database"} {
			if len(sec.Data[k]) == 0 {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			return errors.Errorf("the connection Secret %s/%s has no %v", teamNamespace, secretName, missing)
		}
		if c := metav1.GetControllerOf(sec); c == nil || c.UID != uid {
			return errors.Errorf("the connection Secret is not controlled by the PostgresDR")
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	e.mark("PostgresDR %s/%s Ready after %.1fs: %d namespaced managed resources, %d Usages, connection Secret %s", teamNamespace, xr.GetName(), ready.Seconds(), len(mrs), mine, secretName)

	// The failover Lambda promotes the replica behind Crossplane's back.
	var replica *unstructured.Unstructured
	for _, o := range mrs {
		if o.GetKind() == "Instance" && str(o, "spec", "forProvider", "replicateSourceDb") != "" {
			replica = o
		}
	}
	before := map[types.UID]*unstructured.Unstructured{}
	for _, o := range mrs {
		before[o.GetUID()] = o
	}
	if replica == nil {
		t.Fatal("no replica to promote")
	}
	begin := time.Now()
	if err := s.promoteIn(ctx, s.gvrs[replica.GroupVersionKind()], teamNamespace, replica.GetName()); err != nil {
		t.Fatal(err)
	}
	if err := eventually(ctx, 120*time.Second, 250*time.Millisecond, func(ctx context.Context) error {
		cur, err := get(ctx)
		if err != nil {
			return err
		}
		if p := str(cur, "status", "phase"); p != "FailedOver" {
			return errors.Errorf("PostgresDR phase %q, want FailedOver", p)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	failedOver := time.Since(begin)
	time.Sleep(5 * time.Second) // a few reconciles, to give a deletion the chance to show
	var gone []string
	for _, o := range before {
		c, err := e.get(ctx, o.GetAPIVersion(), o.GetKind(), teamNamespace, o.GetName())
		switch {
		case kerrors.IsNotFound(err):
			gone = append(gone, o.GetKind()+" "+o.GetName()+" (deleted)")
		case err != nil:
			t.Error(err)
		case c.GetDeletionTimestamp() != nil:
			gone = append(gone, o.GetKind()+" "+o.GetName()+" (being deleted)")
		}
	}
	if len(gone) > 0 {
		sort.Strings(gone)
		t.Errorf("after the out-of-band promotion of the PostgresDR's replica, deleted:\n  %s", strings.Join(gone, "\n  "))
	}

	// Every Usage resolved and Ready, what it protects labelled in use: Crossplane's webhook
	// then holds each used resource's delete until its user is gone.
	if err := eventually(ctx, 90*time.Second, 500*time.Millisecond, func(ctx context.Context) error {
		l, err := e.dyn.Resource(usageGVR).Namespace(teamNamespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for i := range l.Items {
			u := &l.Items[i]
			if st, why := conditionStatus(u, "Ready"); st != "True" {
				return errors.Errorf("Usage %s: Ready=%q (%s)", u.GetName(), st, why)
			}
			name := str(u, "spec", "of", "resourceRef", "name")
			of, err := e.get(ctx, str(u, "spec", "of", "apiVersion"), str(u, "spec", "of", "kind"), teamNamespace, name)
			if err != nil {
				return errors.Wrapf(err, "Usage %s: the used %s", u.GetName(), name)
			}
			if of.GetLabels()[labelInUse] != "true" {
				return errors.Errorf("Usage %s: the used %s is not labelled %s=true", u.GetName(), name, labelInUse)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	deleted, brokenRules, refusals := deletePostgresDR(ctx, t, e, s, teamNamespace, xr.GetName(), file, uid)
	return fmt.Sprintf("Ready %.1fs (%d namespaced managed resources in %s, %d Usages, ProviderConfig %s, connection Secret %s); promotion-to-FailedOver %.1fs, nothing deleted; delete-to-gone %.1fs, %d AWS rules broken, %d refused deletes retried",
		ready.Seconds(), len(mrs), teamNamespace, mine, teamProviderCfg, secretName, failedOver.Seconds(), deleted.Seconds(), brokenRules, refusals)
}

// deletePostgresDR deletes a PostgresDR as its team would: deletion protection off, then kubectl
// delete -f file; it waits until the XR and every managed resource it controlled are gone, and
// returns how long that took, how many AWS rules the deletes broke (each an error) and how many
// refused deletes the provider retried.
func deletePostgresDR(ctx context.Context, t *testing.T, e *env, s *standIn, ns, name, file string, uid types.UID) (time.Duration, int, int) {
	t.Helper()
	get := func(ctx context.Context) (*unstructured.Unstructured, error) {
		return e.get(ctx, "pgdr.io/v1alpha1", "PostgresDR", ns, name)
	}
	// Deletion: deletion protection off, kubectl delete, everything gone in the Usages' order.
	hitsBefore := len(s.Hits())
	if out, err := e.kubectl(ctx, nil, "patch", "postgresdr", name, "-n", ns, "--type=merge", "-p", `{"spec":{"deletionProtection":false}}`); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	asked := time.Now()
	if err := eventually(ctx, 120*time.Second, 250*time.Millisecond, func(ctx context.Context) error {
		for _, o := range s.Controlled(uid) {
			if o.GetKind() == "Instance" {
				if p, _, _ := unstructured.NestedBool(o.Object, "spec", "forProvider", "deletionProtection"); p {
					// A burst of watch events (a move's twins taken over) can open the XR's circuit
					// breaker (Responsive=False): the XR's own events are then dropped but one
					// every 30 s. Ask again, as a user would, until one is let through.
					if cur, err := get(ctx); err == nil && time.Since(asked) > 5*time.Second {
						if st, _ := conditionStatus(cur, "Responsive"); st == "False" {
							asked = time.Now()
							_, _ = e.kubectl(ctx, nil, "annotate", "--overwrite", "postgresdr", name, "-n", ns,
								"crossplane.io/reconcile-requested-at="+asked.Format(time.RFC3339Nano))
						}
					}
					return errors.Errorf("%s still has deletion protection", o.GetName())
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	deleteBegin := time.Now()
	if out, err := e.kubectl(ctx, nil, "delete", "-f", file, "--wait=false"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if err := eventually(ctx, 240*time.Second, 500*time.Millisecond, func(ctx context.Context) error {
		if _, err := get(ctx); !kerrors.IsNotFound(err) {
			return errors.Errorf("the PostgresDR is still there (%v)", err)
		}
		if left := s.Controlled(uid); len(left) > 0 {
			return errors.Errorf("%d managed resources left, e.g. %s %s", len(left), left[0].GetKind(), left[0].GetName())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	deleted := time.Since(deleteBegin)
	var brokenRules []string
	refusals := 0
	byRule := map[string]int{}
	for _, h := range s.Hits()[hitsBefore:] {
		if h.rule.outcome == broken {
			brokenRules = append(brokenRules, fmt.Sprintf("%s: %s deleted while %s used it", h.rule.api, h.of, h.by))
		} else {
			refusals += h.attempts
			byRule[fmt.Sprintf("%s of %s by %s", h.rule.api, kindOf(h.of.gk), kindOf(h.by.gk))] += h.attempts
		}
	}
	e.mark("PostgresDR deleted: refused deletes the provider retried, by rule: %v", byRule)
	if len(brokenRules) > 0 {
		t.Errorf("deleting the PostgresDR broke AWS rules:\n  %s", strings.Join(brokenRules, "\n  "))
	}
	return deleted, len(brokenRules), refusals
}

// applyTeamProviderConfig applies the namespaced provider-aws ProviderConfig teamProviderCfg in
// the namespace, as a team would (the stand-in needs no credentials).
func applyTeamProviderConfig(ctx context.Context, t *testing.T, e *env, ns string) {
	t.Helper()
	pc := fmt.Sprintf(`apiVersion: aws.m.upbound.io/v1beta1
kind: ProviderConfig
metadata: {name: %s, namespace: %s}
spec:
  credentials: {source: None}
`, teamProviderCfg, ns)
	if out, err := e.kubectl(ctx, []byte(pc), "apply", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply the team's ProviderConfig: %v\n%s", err, out)
	}
}

// waitPostgresDRReady waits up to timeout for the PostgresDR to be Ready.
func waitPostgresDRReady(ctx context.Context, t *testing.T, e *env, ns, name string, timeout time.Duration) {
	t.Helper()
	if err := eventually(ctx, timeout, 250*time.Millisecond, func(ctx context.Context) error {
		cur, err := e.get(ctx, "pgdr.io/v1alpha1", "PostgresDR", ns, name)
		if err != nil {
			return err
		}
		if st, why := conditionStatus(cur, "Ready"); st != "True" {
			waiting, _, _ := unstructured.NestedFieldNoCopy(cur.Object, "status", "waitingFor")
			return errors.Errorf("PostgresDR Ready=%q (%s); waiting for %v", st, why, waiting)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
