//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
)

// providerGroups returns the cluster-scoped provider-aws API groups the function composes: the
// ones whose Go API packages it imports, as make e2e lists them in E2E_PROVIDER_GROUPS.
func providerGroups() []string {
	if g := strings.Fields(os.Getenv("E2E_PROVIDER_GROUPS")); len(g) > 0 {
		return g
	}
	return []string{"ec2", "kms", "rds", "s3", "iam", "sns", "secretsmanager", "cloudwatch", "cloudwatchevents", "cloudwatchlogs", "lambda", "route53"}
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// installProviderCRDs creates the CRDs of providerGroups from provider-aws' module and returns,
// for each kind, the newest version and its resource, which the function writes and the
// stand-in watches.
//
// The providers serve older versions of a kind through a conversion webhook they run themselves.
// No provider runs here, so every CRD stores and serves its newest version as the storage version
// and the older ones are converted trivially; nothing in the test reads an older version.
func installProviderCRDs(ctx context.Context, t *testing.T, e *env) map[schema.GroupVersionKind]schema.GroupVersionResource {
	dir := getenv("E2E_PROVIDER_CRDS", "")
	if dir == "" {
		t.Fatal("E2E_PROVIDER_CRDS is not set: make e2e sets it to provider-aws' package/crds in the module cache")
	}
	var files []string
	groups := providerGroups()
	for _, g := range groups {
		m, _ := filepath.Glob(filepath.Join(dir, g+".aws.upbound.io_*.yaml"))
		files = append(files, m...)
	}
	// The namespaced kinds: only those the Configuration's activation policy activates (what a
	// SafeStart provider would install for it), and the namespaced provider configs.
	files = append(files, activatedCRDs(t, e, dir)...)
	if len(files) == 0 {
		t.Fatalf("no provider-aws CRDs in %s", dir)
	}
	sort.Strings(files)

	kinds := map[schema.GroupVersionKind]schema.GroupVersionResource{}
	var mu sync.Mutex
	work := make(chan string)
	errs := make(chan error, len(files))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				gvk, gvr, err := createCRD(ctx, e, f)
				if err != nil {
					errs <- err
					continue
				}
				if gvk.Group == "aws.m.upbound.io" {
					continue // provider configs: no managed resource for the stand-in to play
				}
				mu.Lock()
				kinds[gvk] = gvr
				mu.Unlock()
			}
		}()
	}
	for _, f := range files {
		work <- f
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	e.mark("%d provider-aws CRDs created", len(files))
	if err := eventually(ctx, 120*time.Second, 250*time.Millisecond, func(ctx context.Context) error {
		l, err := e.dyn.Resource(crdGVR).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		established := 0
		for _, c := range l.Items {
			if !strings.HasSuffix(c.GetName(), ".aws.upbound.io") && !strings.HasSuffix(c.GetName(), ".aws.m.upbound.io") {
				continue
			}
			conds, _, _ := unstructured.NestedSlice(c.Object, "status", "conditions")
			if cond := findCondition(conds, "Established"); cond != nil && cond["status"] == "True" {
				established++
			}
		}
		if established < len(files) {
			return errors.Errorf("%d of %d provider CRDs established", established, len(files))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.mapper.Reset()
	e.mark("%d provider-aws CRDs of %d groups established: %v", len(files), len(groups), groups)
	return kinds
}

// activatedCRDs are the CRD files of the namespaced kinds apis/activation.yaml activates (each
// named <plural>.<group>, the file <group>_<plural>.yaml) and of aws.m.upbound.io's
// ProviderConfig and ClusterProviderConfig.
func activatedCRDs(t *testing.T, e *env, dir string) []string {
	t.Helper()
	policy := readYAML(t, filepath.Join(e.root, "apis", "activation.yaml"))[0]
	names, _, _ := unstructured.NestedStringSlice(policy.Object, "spec", "activate")
	if len(names) == 0 {
		t.Fatal("apis/activation.yaml activates nothing")
	}
	files := []string{filepath.Join(dir, "aws.m.upbound.io_providerconfigs.yaml"), filepath.Join(dir, "aws.m.upbound.io_clusterproviderconfigs.yaml")}
	for _, n := range names {
		plural, group, _ := strings.Cut(n, ".")
		f := filepath.Join(dir, group+"_"+plural+".yaml")
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("apis/activation.yaml activates %s, which provider-aws has no CRD for: %v", n, err)
		}
		files = append(files, f)
	}
	return files
}

// createCRD creates one CRD with its newest version as the storage version.
func createCRD(ctx context.Context, e *env, path string) (schema.GroupVersionKind, schema.GroupVersionResource, error) {
	b, err := os.ReadFile(path) //nolint:gosec // module cache.
	if err != nil {
		return schema.GroupVersionKind{}, schema.GroupVersionResource{}, errors.Wrapf(err, "cannot read %s", path)
	}
	objs, err := parseYAML(b)
	if err != nil || len(objs) != 1 {
		return schema.GroupVersionKind{}, schema.GroupVersionResource{}, errors.Errorf("cannot parse CRD %s: %v", path, err)
	}
	crd := objs[0]
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	newest := ""
	for _, v := range versions {
		n := asMap(v)["name"].(string)
		if newest == "" || version.CompareKubeAwareVersionStrings(n, newest) > 0 {
			newest = n
		}
	}
	for _, v := range versions {
		asMap(v)["storage"] = asMap(v)["name"] == newest
	}
	_ = unstructured.SetNestedSlice(crd.Object, versions, "spec", "versions")
	unstructured.RemoveNestedField(crd.Object, "status")
	crd.SetCreationTimestamp(metav1.Time{})
	if _, err := e.dyn.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		return schema.GroupVersionKind{}, schema.GroupVersionResource{}, errors.Wrapf(err, "cannot create CRD %s", crd.GetName())
	}
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
	return schema.GroupVersionKind{Group: group, Version: newest, Kind: kind},
		schema.GroupVersionResource{Group: group, Version: newest, Resource: plural}, nil
}
