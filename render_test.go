package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/structpb"
	"sigs.k8s.io/yaml"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"

	"github.com/pgdr/function-postgres-dr/fn"
	"github.com/pgdr/function-postgres-dr/internal/standin"
)

var update = flag.Bool("update", false, "rewrite golden files and observed fixtures")

// renderCase is one reconcile rendered with the real crossplane CLI.
type renderCase struct {
	reason   string
	xr       string
	observed string // fixture of observed composed resources; "" for a first pass
}

// renderCases are the reconciles whose output is kept as golden files in testdata/golden.
var renderCases = map[string]renderCase{
	"first-pass": {
		reason: "Nothing observed: both regions' networks; the peering waits for the DR VPC's id.",
		xr:     "examples/xr.yaml",
	},
	"pass2": {
		reason:   "The first pass observed ready: the peering is requested with the DR VPC's id.",
		xr:       "examples/xr.yaml",
		observed: "examples/observed/pass2.yaml",
	},
	"pass3": {
		reason:   "Two reconciles observed: the primary database and both keys have ARNs, so the cross-region replica appears, wired to them.",
		xr:       "examples/xr.yaml",
		observed: "examples/observed/pass3.yaml",
	},
	"ready": {
		reason:   "Everything observed ready: the whole graph, status and connection details filled.",
		xr:       "examples/xr.yaml",
		observed: "examples/observed/ready.yaml",
	},
	"promoted": {
		reason:   "The failover Lambda promoted the replica behind Crossplane's back: no replication source is asked for, nothing is deleted, phase FailedOver with a condition saying how to make it permanent.",
		xr:       "examples/xr.yaml",
		observed: "examples/observed/promoted.yaml",
	},
	"switchover": {
		reason:   "The user set spec.activeRegion to the DR region: the replica is promoted by dropping its replication source; alarms, DNS and the failover direction turn around.",
		xr:       "examples/xr-switchover.yaml",
		observed: "examples/observed/ready.yaml",
	},
}

// fixture is an observed state: what provider-aws would report after passes reconciles of
// examples/xr.yaml, each observing everything the previous one desired (0: until nothing new is
// desired), then changed by what happened outside Crossplane, if anything.
type fixture struct {
	passes int
	after  func(observed map[string]map[string]any)
}

// fixtures are the observed fixtures in examples/observed.
var fixtures = map[string]fixture{
	"examples/observed/pass2.yaml": {passes: 1},
	"examples/observed/pass3.yaml": {passes: 2},
	"examples/observed/ready.yaml": {passes: 0},
	// The failover Lambda promoted the DR replica: AWS reports it without a replication source.
	"examples/observed/promoted.yaml": {passes: 0, after: func(o map[string]map[string]any) {
		at := o[string(fn.DBInstanceName(fn.RoleDR))]["status"].(map[string]any)["atProvider"].(map[string]any) //nolint:forcetypeassert // Built above.
		delete(at, "replicateSourceDb")
	}},
}

// TestObservedFixtures builds the observed fixtures by running the function in-process and
// letting the provider stand-in observe what it desires, pass after pass. With -update it writes
// them; without, it fails when the committed fixtures are stale.
func TestObservedFixtures(t *testing.T) {
	for file, fx := range fixtures {
		t.Run(filepath.Base(file), func(t *testing.T) {
			got := observeFixture(t, "examples/xr.yaml", fx)
			if *update {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("cannot read fixture (run go test -run TestObservedFixtures -update): %v", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s is stale: run go test -run TestObservedFixtures -update, review the diff:\n%s", file, diff)
			}
		})
	}
}

func observeFixture(t *testing.T, xrFile string, fx fixture) []byte {
	t.Helper()
	xrYAML, err := os.ReadFile(xrFile)
	if err != nil {
		t.Fatal(err)
	}
	xrJSON, err := yaml.YAMLToJSON(xrYAML)
	if err != nil {
		t.Fatal(err)
	}
	input := compositionInput(t)
	f, err := fn.NewFunction(logging.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	run := func(observed map[string]map[string]any) (map[string]map[string]any, error) {
		req := &fnv1.RunFunctionRequest{
			Input:    mustStruct(t, input),
			Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: resource.MustStructJSON(string(xrJSON))}, Resources: map[string]*fnv1.Resource{}},
		}
		for n, o := range observed {
			req.Observed.Resources[n] = &fnv1.Resource{Resource: mustStruct(t, o)}
		}
		rsp, err := f.RunFunction(context.Background(), req)
		if err != nil {
			return nil, err
		}
		if len(rsp.GetResults()) > 0 {
			return nil, fmt.Errorf("results: %v", rsp.GetResults())
		}
		out := map[string]map[string]any{}
		for n, r := range rsp.GetDesired().GetResources() {
			out[n] = r.GetResource().AsMap()
		}
		return out, nil
	}
	observed, err := standin.Converge(run, yamlName(xrYAML), fx.passes)
	if err != nil {
		t.Fatal(err)
	}
	desc := passDesc(fx.passes)
	if fx.after != nil {
		fx.after(observed)
		desc += ", then a change outside Crossplane"
	}
	names := make([]string, 0, len(observed))
	for n := range observed {
		names = append(names, n)
	}
	slices.Sort(names)
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Generated by go test -run TestObservedFixtures -update: what provider-aws would report\n# after %s of %s. Do not edit.\n", desc, xrFile)
	for _, n := range names {
		y, err := yaml.Marshal(observed[n])
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	return b.Bytes()
}

func passDesc(passes int) string {
	if passes == 0 {
		return "every reconcile (all observed ready)"
	}
	return fmt.Sprintf("%d reconcile(s)", passes)
}

func yamlName(y []byte) string {
	m := struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}{}
	_ = yaml.Unmarshal(y, &m)
	return m.Metadata.Name
}

// readYAML reads a YAML file of one object.
func readYAML(t *testing.T, file string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("cannot parse %s: %v", file, err)
	}
	return m
}

// compositionInput returns the function's input from the Composition's pipeline.
func compositionInput(t *testing.T) map[string]any {
	t.Helper()
	comp := readYAML(t, "apis/composition.yaml")
	return comp["spec"].(map[string]any)["pipeline"].([]any)[0].(map[string]any)["input"].(map[string]any) //nolint:forcetypeassert // Our own file.
}

func mustStruct(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRender renders every case with the real crossplane CLI against the function served over
// gRPC, compares the output with its golden file, and validates every rendered resource with
// crossplane resource validate against the provider-aws CRDs and our XRD.
func TestRender(t *testing.T) {
	xp, core := tool(t, "CROSSPLANE", "crossplane"), tool(t, "CROSSPLANE_CORE", "crossplane-core")
	addr := serveFunction(t)
	crds := validationSchemas(t)
	for name, tc := range renderCases {
		t.Run(name, func(t *testing.T) {
			args := []string{"composition", "render", tc.xr, "apis/composition.yaml", "examples/functions.yaml", "-x",
				"--crossplane-binary=" + core, "--xrd=apis/definition.yaml",
				"-a", "render.crossplane.io/runtime=Development", "-a", "render.crossplane.io/runtime-development-target=" + addr}
			if tc.observed != "" {
				args = append(args, "--observed-resources="+tc.observed)
			}
			out, err := exec.Command(xp, args...).Output()
			if err != nil {
				t.Fatalf("\n%s\ncrossplane %s: %v\n%s", tc.reason, strings.Join(args, " "), err, stderr(err))
			}
			got := normalize(out)
			golden := filepath.Join("testdata", "golden", name+".yaml")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("cannot read golden file (run make test-update): %v", err)
				}
				if diff := cmp.Diff(string(want), string(got)); diff != "" {
					t.Errorf("\n%s\nrender differs from %s (-want, +got); if intended, run make test-update and review:\n%s", tc.reason, golden, diff)
				}
			}
			file := filepath.Join(t.TempDir(), name+".yaml")
			if err := os.WriteFile(file, got, 0o644); err != nil {
				t.Fatal(err)
			}
			vout, err := exec.Command(xp, "resource", "validate", crds, file, "--crossplane-image=", "--cache-dir="+t.TempDir()).CombinedOutput()
			if err != nil || !regexp.MustCompile(`, 0 failure cases`).Match(vout) {
				t.Errorf("\n%s\ncrossplane resource validate: %v\n%s", tc.reason, err, vout)
			}
			t.Logf("%s: %s", name, lastLine(vout))
		})
	}
}

// normalize drops what the v2.4 render engine adds that is not ours to validate.
func normalize(out []byte) []byte {
	return regexp.MustCompile(`(?m)^  conditions: null\n`).ReplaceAll(out, nil)
}

func tool(t *testing.T, env, name string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		p = filepath.Join("_output", "bin", name)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		// make test builds the tools and always runs this test; a bare go test may not have them.
		t.Skipf("%s not built: run make test (%v)", name, err)
	}
	return abs
}

// serveFunction serves the function over insecure gRPC on a free loopback port until the test
// ends, through the same code path as the binary.
func serveFunction(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	c := &CLI{Insecure: true, MaxRecvMessageSize: 4, ShutdownTimeout: 5e9}
	go func() { done <- c.Serve(ctx, logging.NewNopLogger(), lis) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return lis.Addr().String()
}

// validationSchemas lays out the schemas validate needs: our XRD and the provider-aws CRDs of
// the groups the function composes, copied from the module cache.
func validationSchemas(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	mod, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/upbound/provider-aws/v2").Output()
	if err != nil {
		t.Fatalf("cannot find provider-aws in the module cache: %v %s", err, stderr(err))
	}
	src := filepath.Join(strings.TrimSpace(string(mod)), "package", "crds")
	for _, g := range fn.ComposedGroups() {
		matches, _ := filepath.Glob(filepath.Join(src, g+"_*.yaml"))
		if len(matches) == 0 {
			t.Fatalf("no CRDs of group %s in %s", g, src)
		}
		for _, m := range matches {
			b, err := os.ReadFile(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(m)), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	xrd, err := os.ReadFile("apis/definition.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "definition.yaml"), xrd, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func stderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok { //nolint:errorlint // exec returns it unwrapped.
		return string(ee.Stderr)
	}
	return ""
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
