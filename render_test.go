package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/structpb"
	"sigs.k8s.io/yaml"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"

	"github.com/pgdr/function-postgres-dr/fn"
	"github.com/pgdr/function-postgres-dr/internal/standin"
	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

var update = flag.Bool("update", false, "rewrite golden files and observed fixtures")

// renderCase is one reconcile rendered with the real crossplane CLI.
type renderCase struct {
	reason   string
	xr       string
	observed string // fixture of observed composed resources; "" for a first pass
	// namespaced renders the namespaced PostgresDR with its Composition and XRD.
	namespaced bool
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
		reason:   "The user set spec.activeRegion to the DR region: the Invocation of the failover Lambda's switchover appears in the DR region; the replica keeps its source until the switchover reports.",
		xr:       "examples/xr-switchover.yaml",
		observed: "examples/observed/ready.yaml",
	},
	"switch-aborted": {
		reason:   "The switchover aborted (the replica did not catch up): nothing promoted, the primary writes on, a condition says why and how to try again.",
		xr:       "examples/xr-switchover.yaml",
		observed: "examples/observed/switch-aborted.yaml",
	},
	"switched": {
		reason:   "The switchover promoted the replica: it writes; the old primary is fenced (read-only parameter group, closed security group, deletion-protected) and kept; no failover path until the primary region is re-seeded.",
		xr:       "examples/xr-switchover.yaml",
		observed: "examples/observed/switched.yaml",
	},
	"reseeding": {
		reason:   "Fail-back: spec.generations.primary raised to 2: a new replica of the DR writer is created in the primary region under a new name; the old primary stays fenced.",
		xr:       "examples/xr-failback.yaml",
		observed: "examples/observed/switched.yaml",
	},
	"reseeded": {
		reason:   "The new replica replicates: the failover path (monitor, alarms, Lambdas, trigger, health checks) lives in the primary region now, the region without the writer.",
		xr:       "examples/xr-failback.yaml",
		observed: "examples/observed/reseeded.yaml",
	},
	"retiring": {
		reason:   "spec.retireInstance names the old primary, its successor Ready: its deletion protection is turned off, nothing else.",
		xr:       "examples/xr-retire.yaml",
		observed: "examples/observed/reseeded.yaml",
	},
	"retired": {
		reason:   "The old primary's deletion protection is off: it is no longer desired, so Crossplane deletes it with its final snapshot.",
		xr:       "examples/xr-retire.yaml",
		observed: "examples/observed/retired.yaml",
	},
	"switching-back": {
		reason:   "spec.activeRegion back to the primary region: the switchover runs the other way, from the DR writer to the generation-2 replica.",
		xr:       "examples/xr-switchback.yaml",
		observed: "examples/observed/retired.yaml",
	},
	"switched-back": {
		reason:   "Switched back: the generation-2 instance in the primary region writes; the DR instance is the fenced old writer, to be re-seeded like the primary was.",
		xr:       "examples/xr-switchback.yaml",
		observed: "examples/observed/switched-back.yaml",
	},
	"namespaced-first-pass": {
		reason:     "A namespaced PostgresDR, nothing observed: the namespaced provider-aws kinds (*.aws.m.upbound.io v1beta1) with providerConfigRef kind and name, secrets without a namespace, Usages instead of ClusterUsages, and the connection Secret.",
		xr:         "examples/namespaced/xr.yaml",
		namespaced: true,
	},
	"namespaced-ready": {
		reason:     "The namespaced PostgresDR with everything observed ready: the whole graph, its status, the connection Secret filled; the record in the team's zone, associated with both VPCs.",
		xr:         "examples/namespaced/xr.yaml",
		observed:   "examples/namespaced/observed/ready.yaml",
		namespaced: true,
	},
	"namespaced-promoted": {
		reason:     "The namespaced PostgresDR's replica promoted out of band: FailedOver, nothing deleted, as for the claim.",
		xr:         "examples/namespaced/xr.yaml",
		observed:   "examples/namespaced/observed/promoted.yaml",
		namespaced: true,
	},
	"existing-first-pass": {
		reason: "Existing mode, nothing observed: no VPC, subnet, NAT, gateway or route table; security groups in the team's VPCs, the peering requested at once (both VPC ids are given), the clients' rules.",
		xr:     "examples/xr-existing.yaml",
	},
	"existing-ready": {
		reason:   "Existing mode, everything observed ready: the databases in the given subnets, the Lambdas in the given Lambda subnets, routes in the given route tables, the zone in the given VPCs.",
		xr:       "examples/xr-existing.yaml",
		observed: "examples/observed/existing-ready.yaml",
	},
}

// fixture is an observed state: what provider-aws would report after passes reconciles of
// examples/xr.yaml, each observing everything the previous one desired (0: until nothing new is
// desired), then changed by what happened outside Crossplane, if anything.
type fixture struct {
	passes int
	after  func(observed map[string]map[string]any)
	// xr is the XR converged; "" is examples/xr.yaml.
	xr string
	// from is the fixture it starts from; "" is nothing observed.
	from string
	// world changes what is observed after each pass, as AWS and the Lambdas would.
	world func(observed map[string]map[string]any)
}

// fixtures are the observed fixtures in examples/observed. The round trip's start from the one
// before: ready, switched over, re-seeded the other way, the old primary retired, switched back.
var fixtures = map[string]fixture{
	"examples/observed/switch-aborted.yaml":   {xr: "examples/xr-switchover.yaml", from: "examples/observed/ready.yaml", world: switchoverRunner(contract.SwitchoverAborted)},
	"examples/observed/switched.yaml":         {xr: "examples/xr-switchover.yaml", from: "examples/observed/ready.yaml", world: switchoverRunner(contract.SwitchoverPromoted)},
	"examples/observed/reseeded.yaml":         {xr: "examples/xr-failback.yaml", from: "examples/observed/switched.yaml"},
	"examples/observed/retired.yaml":          {xr: "examples/xr-retire.yaml", from: "examples/observed/reseeded.yaml"},
	"examples/observed/switched-back.yaml":    {xr: "examples/xr-switchback.yaml", from: "examples/observed/retired.yaml", world: switchoverRunner(contract.SwitchoverPromoted)},
	"examples/observed/existing-ready.yaml":   {xr: "examples/xr-existing.yaml"},
	"examples/namespaced/observed/ready.yaml": {xr: "examples/namespaced/xr.yaml"},
	// The failover Lambda promoted the namespaced XR's DR replica.
	"examples/namespaced/observed/promoted.yaml": {xr: "examples/namespaced/xr.yaml", after: func(o map[string]map[string]any) {
		at := o[string(fn.DBInstanceName(fn.RoleDR))]["status"].(map[string]any)["atProvider"].(map[string]any) //nolint:forcetypeassert // Built above.
		delete(at, "replicateSourceDb")
	}},
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
			got := observeFixture(t, file, fx)
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

func observeFixture(t *testing.T, file string, fx fixture) []byte {
	t.Helper()
	observed, desc, xrFile := fixtureState(t, file)
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
	for i, n := range names {
		y, err := yaml.Marshal(observed[n])
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			// No empty document before the first: render reads one as a resource outside the
			// namespaced XR's namespace.
			b.WriteString("---\n")
		}
		b.Write(y)
	}
	return b.Bytes()
}

// fixtureState converges a fixture's XR from the fixture it starts from, and says how.
func fixtureState(t *testing.T, file string) (map[string]map[string]any, string, string) {
	t.Helper()
	fx := fixtures[file]
	xrFile := fx.xr
	if xrFile == "" {
		xrFile = "examples/xr.yaml"
	}
	start := map[string]map[string]any{}
	desc := passDesc(fx.passes)
	if fx.from != "" {
		var from string
		start, from, _ = fixtureState(t, fx.from)
		if a := fixtures[fx.from].after; a != nil {
			a(start)
		}
		desc += " from " + fx.from + " (" + from + ")"
	}
	observed, _ := convergeFrom(t, readYAML(t, xrFile), start, fx.passes, fx.world)
	return observed, desc, xrFile
}

// switchoverRunner is the failover Lambda's switchover as AWS would carry it out once its
// Invocation is created: with outcome Promoted the replica it names no longer replicates; the
// Invocation's result says what it did.
func switchoverRunner(outcome string) func(map[string]map[string]any) {
	return func(observed map[string]map[string]any) {
		for name, obj := range observed {
			if obj["kind"] != "Invocation" {
				continue
			}
			at, _ := obj["status"].(map[string]any)["atProvider"].(map[string]any)
			if r, _ := at["result"].(string); r != "" {
				continue
			}
			var req contract.SwitchoverRequest
			if err := json.Unmarshal([]byte(at["input"].(string)), &req); err != nil { //nolint:forcetypeassert // The function writes it.
				continue
			}
			res := contract.SwitchoverResult{Action: req.Action, ID: req.ID, Outcome: outcome, FencedLSN: "0/5000060", ReplicaLSN: "0/5000060", WriteUnavailableMs: 4200, CatchUpMs: 150}
			if outcome == contract.SwitchoverAborted {
				res = contract.SwitchoverResult{Action: req.Action, ID: req.ID, Outcome: outcome, FencedLSN: "0/5000060", ReplicaLSN: "0/4FFF000", WriteUnavailableMs: 60100,
					Reason: "the replica replayed 0/4FFF000 of the fenced writer's 0/5000060 (4192 bytes behind) within 60 s; the writer is unfenced"}
			}
			b, _ := json.Marshal(res)
			at["result"] = string(b)
			if outcome != contract.SwitchoverPromoted {
				continue
			}
			// The Invocation is in the region of the replica it promotes.
			role, _, _ := strings.Cut(name, "-")
			for n, o := range observed {
				if o["kind"] == "Instance" && strings.HasPrefix(n, role+"-db-instance") {
					ia, _ := o["status"].(map[string]any)["atProvider"].(map[string]any)
					delete(ia, "replicateSourceDb")
				}
			}
		}
	}
}

// converge runs the function in-process on the XR with the Composition's input, letting the
// provider stand-in observe what it desires pass after pass (passes 0: until nothing new is
// desired), and returns what is observed and the last response.
func converge(t *testing.T, xr map[string]any, passes int) (map[string]map[string]any, *fnv1.RunFunctionResponse) {
	t.Helper()
	return convergeFrom(t, xr, map[string]map[string]any{}, passes, nil)
}

// convergeFrom converges like converge from what is observed, with the world's changes after
// each pass.
func convergeFrom(t *testing.T, xr map[string]any, start map[string]map[string]any, passes int, world func(map[string]map[string]any)) (map[string]map[string]any, *fnv1.RunFunctionResponse) {
	t.Helper()
	input := compositionInput(t)
	f, err := fn.NewFunction(logging.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	var last *fnv1.RunFunctionResponse
	ns, _ := xr["metadata"].(map[string]any)["namespace"].(string)
	run := func(observed map[string]map[string]any) (map[string]map[string]any, error) {
		req := &fnv1.RunFunctionRequest{
			Input:    mustStruct(t, input),
			Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: mustStruct(t, xr)}, Resources: map[string]*fnv1.Resource{}},
		}
		for n, o := range observed {
			req.Observed.Resources[n] = &fnv1.Resource{Resource: mustStruct(t, o)}
		}
		rsp, err := f.RunFunction(context.Background(), req)
		if err != nil {
			return nil, err
		}
		for _, r := range rsp.GetResults() {
			if r.GetSeverity() != fnv1.Severity_SEVERITY_NORMAL {
				return nil, fmt.Errorf("results: %v", rsp.GetResults())
			}
		}
		last = rsp
		out := map[string]map[string]any{}
		for n, r := range rsp.GetDesired().GetResources() {
			out[n] = r.GetResource().AsMap()
			if ns != "" {
				// Crossplane puts a namespaced XR's composed resources in its namespace.
				md, _ := out[n]["metadata"].(map[string]any)
				if md == nil {
					md = map[string]any{}
					out[n]["metadata"] = md
				}
				md["namespace"] = ns
			}
		}
		return out, nil
	}
	name, _ := xr["metadata"].(map[string]any)["name"].(string)
	observed, err := standin.ConvergeFrom(run, name, start, passes, world)
	if err != nil {
		t.Fatal(err)
	}
	return observed, last
}

func passDesc(passes int) string {
	if passes == 0 {
		return "every reconcile (all observed ready)"
	}
	return fmt.Sprintf("%d reconcile(s)", passes)
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
			comp, xrd := "apis/composition.yaml", "apis/definition.yaml"
			if tc.namespaced {
				comp, xrd = "apis/composition-namespaced.yaml", "apis/definition-namespaced.yaml"
			}
			args := []string{"composition", "render", tc.xr, comp, "examples/functions.yaml", "-x",
				"--crossplane-binary=" + core, "--xrd=" + xrd,
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
	addr, cancel, done := serve(t, &CLI{Insecure: true, MaxRecvMessageSize: 4, ShutdownTimeout: 5 * time.Second})
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return addr
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
	var groups []string
	for _, g := range fn.ComposedGroups() {
		groups = append(groups, g, strings.Replace(g, ".aws.upbound.io", ".aws.m.upbound.io", 1))
	}
	for _, g := range groups {
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
	// The ClusterUsages' CRD, from Crossplane core's module (tools/xpcore pins it).
	list := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/crossplane/crossplane/v2")
	list.Dir = filepath.Join("tools", "xpcore")
	xp, err := list.Output()
	if err != nil {
		t.Fatalf("cannot find Crossplane core in the module cache: %v %s", err, stderr(err))
	}
	for _, f := range []string{"protection.crossplane.io_clusterusages.yaml", "protection.crossplane.io_usages.yaml"} {
		copyFile(t, filepath.Join(strings.TrimSpace(string(xp)), "cluster", "crds", f), filepath.Join(dir, f))
	}
	copyFile(t, "apis/definition.yaml", filepath.Join(dir, "definition.yaml"))
	copyFile(t, "apis/definition-namespaced.yaml", filepath.Join(dir, "definition-namespaced.yaml"))
	return dir
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
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

// TestRoundTripKeepsData runs every render case's reconcile in process and checks that no
// observed database instance, bucket or key is left out of what it desires, but the instance
// spec.retireInstance names once AWS reports its deletion protection off: across the whole round
// trip nothing holding data is deleted before the user's confirmation.
func TestRoundTripKeepsData(t *testing.T) {
	stateful := map[string]bool{"Instance": true, "Bucket": true, "Key": true, "ReplicaKey": true}
	for name, tc := range renderCases {
		if tc.observed == "" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			observed, _, _ := fixtureState(t, tc.observed)
			if a := fixtures[tc.observed].after; a != nil {
				a(observed)
			}
			xr := readYAML(t, tc.xr)
			retire, _ := xr["spec"].(map[string]any)["retireInstance"].(string)
			desired, _ := convergeFrom(t, xr, observed, 1, nil)
			for n, o := range observed {
				kind, _ := o["kind"].(string)
				if api, _ := o["apiVersion"].(string); !stateful[kind] || !strings.Contains(api, ".aws.upbound.io/") {
					continue
				}
				if _, ok := desired[n]; ok {
					continue
				}
				at, _ := o["status"].(map[string]any)["atProvider"].(map[string]any)
				if kind == "Instance" && retire != "" && at["identifier"] == retire && at["deletionProtection"] == false {
					continue
				}
				t.Errorf("\n%s\nthe observed %s %s is no longer desired: Crossplane would delete it", tc.reason, kind, n)
			}
		})
	}
}
