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
	corev1 "k8s.io/api/core/v1"
	kerrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// The move stage's claim, and the namespace its PostgresDR goes to.
const (
	moveClaim     = "orders-move"
	moveNamespace = "team-move"
)

// claimOnlyFields are the claim's spec fields a PostgresDR does not have.
var claimOnlyFields = []string{"writeConnectionSecretToRef", "compositionRef", "compositionSelector", "compositionRevisionRef", //nolint:gochecknoglobals // A constant list.
	"compositionRevisionSelector", "compositionUpdatePolicy", "compositeDeletePolicy", "resourceRef", "providerConfigName"}

// moveStage moves a claim to a namespaced PostgresDR without replacing anything in AWS, by the
// README's procedure: a claim to Ready; its master password copied into the team's namespace;
// every managed resource it composes set to deletionPolicy Orphan and the claim deleted (AWS
// keeps everything); an observe-only namespaced twin of each, named in the new PostgresDR's
// spec.crossplane.resourceRefs, the PostgresDR with the claim's spec and its AWS name base. It
// checks that the PostgresDR becomes Ready with the twins alone (no managed resource made, none
// deleted, nothing created or deleted in AWS, the same password), that it stays so once each twin
// is given full management, and deletes it.
func moveStage(ctx context.Context, t *testing.T, e *env, s *standIn) string {
	t.Helper()
	c := applyRenamedClaim(ctx, t, e, moveClaim, map[string]any{})
	c.waitReady(ctx, t, 240*time.Second)
	got, err := c.composed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	old := managedOnly(got)
	xr, err := c.xr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	base, ok := strings.CutSuffix(str(xr, "status", "primary", "instance"), "-primary-db")
	if !ok || base == "" {
		t.Fatalf("the XR's status.primary.instance is %q, want <base>-primary-db", str(xr, "status", "primary", "instance"))
	}
	cloud, counts := s.Cloud(), s.Counts()
	e.mark("move: claim %s Ready after %.1fs: %d managed resources, AWS name base %s; AWS holds %d", moveClaim, c.ready.Seconds(), len(old), base, cloud)

	// 1. The master password, into the team's namespace under the name the PostgresDR reads:
	// without it provider-aws would generate a new one and set it on the database.
	if out, err := e.kubectl(ctx, nil, "create", "namespace", moveNamespace); err != nil && !strings.Contains(out, "AlreadyExists") {
		t.Fatalf("%v\n%s", err, out)
	}
	pwName := base + "-master-password"
	pw, err := e.kube.CoreV1().Secrets("crossplane-system").Get(ctx, pwName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the claim's master password: %v", err)
	}
	password := string(pw.Data["password"])
	if password == "" {
		t.Fatalf("the master password secret %s has no password", pwName)
	}
	if _, err := e.kube.CoreV1().Secrets(moveNamespace).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: pwName, Namespace: moveNamespace},
		Data:       map[string][]byte{"password": pw.Data["password"]},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// 2. The XR paused, so that Crossplane sets nothing back; every managed resource orphaned;
	// the claim deleted; the XR, now being deleted, let go: AWS keeps everything.
	begin := time.Now()
	xrRes := strings.ToLower(c.xrKind) + "." + strings.SplitN(c.xrAPI, "/", 2)[0]
	if out, err := e.kubectl(ctx, nil, "annotate", xrRes, c.xrName, "crossplane.io/paused=true"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for crn, o := range old {
		ri, _, err := e.resource(o.GetAPIVersion(), o.GetKind())
		if err != nil {
			t.Fatal(err)
		}
		patch := map[string]any{"deletionPolicy": "Orphan"}
		// provider-aws deletes a resource whose management policies are not the default ["*"] and
		// include Delete, whatever its deletionPolicy (crossplane-runtime,
		// pkg/reconciler/managed/policies.go, LegacyManagementPoliciesResolver.ShouldDelete): the
		// replica's are the function's own, without LateInitialize.
		if p, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "managementPolicies"); len(p) > 0 && (len(p) != 1 || p[0] != "*") {
			var keep []any
			for _, a := range p {
				if a != "Delete" {
					keep = append(keep, a)
				}
			}
			patch["managementPolicies"] = keep
		}
		b, _ := jsonMarshal(map[string]any{"spec": patch})
		if _, err := ri.Patch(ctx, o.GetName(), types.MergePatchType, b, metav1.PatchOptions{}); err != nil {
			t.Fatalf("cannot orphan %s: %v", crn, err)
		}
	}
	if out, err := e.kubectl(ctx, nil, "delete", "-f", c.file, "--wait=false"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// Crossplane does not delete a paused XR: once it is being deleted, unpaused, it lets go of
	// its resources without composing them again.
	if err := eventually(ctx, 60*time.Second, 250*time.Millisecond, func(ctx context.Context) error {
		x, err := c.xr(ctx)
		if err != nil {
			return err
		}
		if x.GetDeletionTimestamp() == nil {
			return errors.New("the XR is not being deleted yet")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if out, err := e.kubectl(ctx, nil, "annotate", xrRes, c.xrName, "crossplane.io/paused-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if err := eventually(ctx, 180*time.Second, 500*time.Millisecond, func(ctx context.Context) error {
		var left []string
		if _, err := c.xr(ctx); !kerrors.IsNotFound(err) {
			left = append(left, "XR")
		}
		for crn, o := range old {
			if _, err := e.get(ctx, o.GetAPIVersion(), o.GetKind(), "", o.GetName()); !kerrors.IsNotFound(err) {
				left = append(left, crn)
			}
		}
		if len(left) > 0 {
			sort.Strings(left)
			return errors.Errorf("%d left: %v", len(left), left)
		}
		return nil
	}); err != nil {
		for crn, o := range old {
			if cur, gerr := e.get(ctx, o.GetAPIVersion(), o.GetKind(), "", o.GetName()); gerr == nil {
				_, why := conditionStatus(cur, "Synced")
				t.Logf("left: %s %s: deletionPolicy %q, deleting since %v, finalizers %v; Synced: %s", crn, cur.GetName(),
					str(cur, "spec", "deletionPolicy"), cur.GetDeletionTimestamp(), cur.GetFinalizers(), why)
			}
		}
		if l, lerr := e.dyn.Resource(clusterUsageGVR).List(ctx, metav1.ListOptions{LabelSelector: labelComposite + "=" + c.xrName}); lerr == nil {
			for i := range l.Items {
				u := &l.Items[i]
				_, why := conditionStatus(u, "Ready")
				t.Logf("left: ClusterUsage %s of %s by %s, deleting since %v: %s", u.GetName(), str(u, "spec", "of", "resourceRef", "name"),
					str(u, "spec", "by", "resourceRef", "name"), u.GetDeletionTimestamp(), why)
			}
		}
		for _, ev := range s.Events() {
			if strings.Contains(ev, moveClaim) {
				t.Log("stand-in: " + ev)
			}
		}
		t.Fatal(err)
	}
	orphaned := time.Since(begin)
	now := s.Counts()
	orphanDeletes, orphanedN := now.Deleted-counts.Deleted, now.Orphaned-counts.Orphaned
	if orphanDeletes != 0 {
		t.Errorf("deleting the orphaned claim deleted %d resources in AWS, want none", orphanDeletes)
	}
	if orphanedN != len(old) {
		t.Errorf("deleting the claim orphaned %d resources in AWS, want its %d", orphanedN, len(old))
	}
	if n := s.Cloud(); n != cloud {
		t.Errorf("AWS holds %d resources after the claim was deleted with its resources orphaned, want the %d it held", n, cloud)
	}

	// 3. The twins, observe-only, and the PostgresDR that names them.
	var refs []any
	twins := map[types.UID]string{}
	for crn, o := range old {
		gv := strings.SplitN(o.GetAPIVersion(), "/", 2)
		api := strings.Replace(gv[0], ".aws.upbound.io", ".aws.m.upbound.io", 1) + "/v1beta1"
		ann := map[string]string{}
		for k, v := range o.GetAnnotations() {
			if k == annExternal || k == annCRN || strings.HasPrefix(k, "pgdr.io/") {
				ann[k] = v
			}
		}
		twin := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": api, "kind": o.GetKind(),
			"metadata": map[string]any{"name": o.GetName(), "namespace": moveNamespace},
			"spec": map[string]any{
				"managementPolicies": []any{"Observe"},
				"providerConfigRef":  map[string]any{"kind": "ProviderConfig", "name": teamProviderCfg},
				"forProvider":        map[string]any{}, // required, even where nothing else is
			},
		}}
		twin.SetAnnotations(ann)
		if r := str(o, "spec", "forProvider", "region"); r != "" {
			_ = unstructured.SetNestedField(twin.Object, r, "spec", "forProvider", "region")
		}
		ri, _, err := e.resource(api, o.GetKind())
		if err != nil {
			t.Fatalf("%s (%s): no namespaced kind %s %s: %v", crn, o.GetKind(), api, o.GetKind(), err)
		}
		created, err := ri.Namespace(moveNamespace).Create(ctx, twin, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("cannot create the twin of %s: %v", crn, err)
		}
		twins[created.GetUID()] = crn
		refs = append(refs, map[string]any{"apiVersion": api, "kind": o.GetKind(), "name": o.GetName()})
	}
	applyTeamProviderConfig(ctx, t, e, moveNamespace)
	spec, _, _ := unstructured.NestedMap(c.claim.Object, "spec")
	for _, f := range claimOnlyFields {
		delete(spec, f)
	}
	spec["awsNameBase"] = base
	spec["providerConfigRef"] = map[string]any{"kind": "ProviderConfig", "name": teamProviderCfg}
	spec["crossplane"] = map[string]any{"resourceRefs": refs}
	dr := map[string]any{
		"apiVersion": "pgdr.io/v1alpha1", "kind": "PostgresDR",
		"metadata": map[string]any{"name": moveClaim, "namespace": moveNamespace},
		"spec":     spec,
	}
	b, err := yaml.Marshal(dr)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(e.run, "postgresdr-"+moveClaim+".yaml")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	applied := time.Now()
	if out, err := e.kubectl(ctx, nil, "apply", "-f", file); err != nil {
		t.Fatalf("kubectl apply -f %s: %v\n%s", file, err, out)
	}
	get := func(ctx context.Context) (*unstructured.Unstructured, error) {
		return e.get(ctx, "pgdr.io/v1alpha1", "PostgresDR", moveNamespace, moveClaim)
	}
	waitPostgresDRReady(ctx, t, e, moveNamespace, moveClaim, 240*time.Second)
	tookOver := time.Since(applied)
	cur, err := get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	uid := cur.GetUID()
	// Nothing made, nothing deleted: every managed resource of the PostgresDR is a twin, every
	// twin is still there, and AWS created and deleted nothing.
	check := func(when string) (created, deleted int) {
		t.Helper()
		mine := map[types.UID]bool{}
		var made []string
		for _, o := range s.Controlled(uid) {
			mine[o.GetUID()] = true
			if _, ok := twins[o.GetUID()]; !ok {
				made = append(made, fmt.Sprintf("%s %s (%s)", o.GetKind(), o.GetName(), o.GetAnnotations()[annCRN]))
			}
		}
		var lost []string
		for u, crn := range twins {
			if !mine[u] {
				lost = append(lost, crn)
			}
		}
		sort.Strings(made)
		sort.Strings(lost)
		if len(made) > 0 {
			t.Errorf("%s: the PostgresDR made %d managed resources of its own, want only the twins: %v", when, len(made), made)
		}
		if len(lost) > 0 {
			t.Errorf("%s: %d twins are no longer the PostgresDR's (deleted, or never taken): %v", when, len(lost), lost)
		}
		n := s.Counts()
		created, deleted = n.Created-counts.Created, n.Deleted-counts.Deleted
		if created != 0 {
			t.Errorf("%s: AWS created %d resources, want none", when, created)
		}
		if deleted != 0 {
			t.Errorf("%s: AWS deleted %d resources, want none", when, deleted)
		}
		if n := s.Cloud(); n != cloud {
			t.Errorf("%s: AWS holds %d resources, want the %d it held", when, n, cloud)
		}
		return created, deleted
	}
	created, deleted := check("taken over")
	adopted := s.Counts().Adopted - counts.Adopted
	if adopted != len(old) {
		t.Errorf("%d AWS resources taken over by external name, want the claim's %d", adopted, len(old))
	}
	conn := str(cur, "spec", "connectionSecretName")
	if conn == "" {
		conn = moveClaim + "-conn"
	}
	if err := eventually(ctx, 60*time.Second, 250*time.Millisecond, func(ctx context.Context) error {
		sec, err := e.kube.CoreV1().Secrets(moveNamespace).Get(ctx, conn, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if string(sec.Data["password"]) != password {
			return errors.Errorf("the connection Secret %s/%s has another password than the claim's database", moveNamespace, conn)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	e.mark("move: PostgresDR %s/%s Ready %.1fs after kubectl apply, with the %d twins taken over", moveNamespace, moveClaim, tookOver.Seconds(), len(twins))

	// 4. Full management for each twin: the function's spec now reaches AWS.
	for _, o := range s.Controlled(uid) {
		ri, _, err := e.resource(o.GetAPIVersion(), o.GetKind())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ri.Namespace(moveNamespace).Patch(ctx, o.GetName(), types.MergePatchType, []byte(`{"spec":{"managementPolicies":["*"]}}`), metav1.PatchOptions{}); err != nil {
			t.Fatalf("cannot give %s full management: %v", o.GetName(), err)
		}
	}
	managedAt := time.Now()
	if err := eventually(ctx, 120*time.Second, 500*time.Millisecond, func(ctx context.Context) error {
		var behind []string
		for _, o := range s.Controlled(uid) {
			// The replica's policies are the function's own, which Crossplane applies over the patch.
			if p, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "managementPolicies"); !hasString(p, "*") && !hasString(p, "Update") {
				behind = append(behind, fmt.Sprintf("%s %v", o.GetName(), p))
			}
			if st, _ := conditionStatus(o, "Synced"); st != "True" {
				behind = append(behind, o.GetName()+" not Synced")
			}
		}
		if len(behind) > 0 {
			return errors.Errorf("%d twins not yet fully managed: %v", len(behind), behind[:min(len(behind), 5)])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	waitPostgresDRReady(ctx, t, e, moveNamespace, moveClaim, 120*time.Second)
	time.Sleep(5 * time.Second) // a few reconciles, to give a replacement the chance to show
	createdLater, deletedLater := check("fully managed")
	e.mark("move: every twin fully managed and the PostgresDR Ready %.1fs after the patch", time.Since(managedAt).Seconds())

	gone, broken, refusals := deletePostgresDR(ctx, t, e, s, moveNamespace, moveClaim, file, uid)
	return fmt.Sprintf("%d managed resources moved: claim orphaned and gone in %.1fs (%d orphaned, %d AWS deletes); PostgresDR Ready %.1fs after apply, "+
		"%d AWS resources taken over by external name (%d AWS creates, %d deletes); fully managed: %d creates, %d deletes; PostgresDR delete-to-gone %.1fs, %d AWS rules broken, %d refused deletes retried",
		len(old), orphaned.Seconds(), orphanedN, orphanDeletes, tookOver.Seconds(), adopted, created, deleted, createdLater, deletedLater, gone.Seconds(), broken, refusals)
}
