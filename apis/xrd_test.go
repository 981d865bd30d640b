package apis

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/pgdr/function-postgres-dr/apis/v1alpha1"
)

// TestGeneratedFilesFresh regenerates the XRD and the Input's CRD from the Go types with
// controller-gen and fails when the committed files differ: run make generate.
func TestGeneratedFilesFresh(t *testing.T) {
	cg := os.Getenv("CONTROLLER_GEN")
	if cg == "" {
		// make test sets it and always runs this test.
		t.Skip("CONTROLLER_GEN not set: run make test")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(cg, args...)
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("controller-gen %v: %v\n%s", args, err, out)
		}
	}
	run("crd", "paths=./apis/...", "output:crd:dir="+filepath.Join(dir, "xr"))
	run("crd", "paths=./input/...", "output:crd:dir="+filepath.Join(dir, "input"))

	wrap := func(crd string) []byte {
		t.Helper()
		got, err := WrapXRD(mustRead(t, filepath.Join(dir, "xr", crd)))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	for file, got := range map[string][]byte{
		"definition.yaml":                         wrap("pgdr.io_xpostgresdrs.yaml"),
		"definition-namespaced.yaml":              wrap("pgdr.io_postgresdrs.yaml"),
		"../package/input/fn.pgdr.io_inputs.yaml": mustRead(t, filepath.Join(dir, "input", "fn.pgdr.io_inputs.yaml")),
	} {
		want := mustRead(t, file)
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s is stale: run make generate (-committed, +generated):\n%s", file, diff)
		}
	}
}

// TestDefaultsAgree applies the XRD schema's defaults to a minimal spec, as the API server does,
// and checks the result equals the function's own defaulting of the same spec.
func TestDefaultsAgree(t *testing.T) {
	xrd := map[string]any{}
	if err := yaml.Unmarshal(mustRead(t, "definition.yaml"), &xrd); err != nil {
		t.Fatal(err)
	}
	schema := dig(xrd, "spec", "versions").([]any)[0].(map[string]any)                            //nolint:forcetypeassert // Our own file.
	specSchema := dig(schema, "schema", "openAPIV3Schema", "properties", "spec").(map[string]any) //nolint:forcetypeassert // Our own file.

	minimal := map[string]any{"regions": map[string]any{"primary": "us-east-1", "dr": "us-east-2"}}
	applyDefaults(specSchema, minimal)
	var fromSchema v1alpha1.XPostgresDRSpec
	j, _ := json.Marshal(minimal)
	if err := json.Unmarshal(j, &fromSchema); err != nil {
		t.Fatal(err)
	}
	// Defaults that depend on other fields cannot be written in a schema; the function fills them.
	fromSchema.ActiveRegion = "us-east-1"
	fromSchema.Postgres.DRInstanceClass = fromSchema.Postgres.InstanceClass
	fromSchema.Postgres.MaxStorageGB = fromSchema.Postgres.StorageGB * v1alpha1.StorageCeilingFactor

	fromGo := v1alpha1.XPostgresDRSpec{Regions: v1alpha1.Regions{Primary: "us-east-1", DR: "us-east-2"}}
	fromGo.Default()
	if diff := cmp.Diff(fromGo, fromSchema); diff != "" {
		t.Errorf("the XRD's defaults and XPostgresDRSpec.Default disagree (-Go, +schema):\n%s", diff)
	}
}

// applyDefaults does what the API server's structural defaulting does for our schema: objects
// with a default are created, then their properties defaulted, depth first.
func applyDefaults(schema map[string]any, obj map[string]any) {
	props, _ := schema["properties"].(map[string]any)
	for name, p := range props {
		ps, _ := p.(map[string]any)
		if _, ok := obj[name]; !ok {
			if d, ok := ps["default"]; ok {
				obj[name] = d
			}
		}
		if child, ok := obj[name].(map[string]any); ok {
			applyDefaults(ps, child)
		}
	}
}

func mustRead(t *testing.T, f string) []byte {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
