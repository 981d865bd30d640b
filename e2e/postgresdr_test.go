//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestPostgresDR brings up a control plane, installs our packages the way a platform team does,
// and walks one PostgresDRClaim through its life the way an application team would: create,
// converge, fail over out of band, delete. Each stage prints its time.
func TestPostgresDR(t *testing.T) {
	e, ctx := up(t)
	var kinds map[schema.GroupVersionKind]schema.GroupVersionResource
	var s *standIn
	var c *claimRun

	// A failed stage stops the test, except the ones marked to go on: what follows them does not
	// depend on their outcome.
	steps := []struct {
		name   string
		fn     func(t *testing.T)
		goesOn bool
	}{
		{"control plane up (etcd, kube-apiserver, kube-controller-manager)", func(t *testing.T) {
			if err := e.script(ctx, "cluster-up.sh", e.bin, e.run); err != nil {
				t.Fatal(err)
			}
			if err := e.connect(); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"crossplane up (core, External runtime) and local registry", func(t *testing.T) {
			if err := e.script(ctx, "crossplane-up.sh", e.bin, e.run); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"push packages to the local registry", func(t *testing.T) { pushPackages(ctx, t, e) }, false},
		{"install function package (package manager + External runtime over mTLS)", func(t *testing.T) { installFunction(ctx, t, e) }, false},
		{"install provider-aws CRDs", func(t *testing.T) { kinds = installProviderCRDs(ctx, t, e) }, false},
		{"install configuration package (XRD, Composition)", func(t *testing.T) { installConfiguration(ctx, t, e) }, false},
		{"CEL rules reject bad claims at admission", func(t *testing.T) { celAdmission(ctx, t, e) }, true},
		{"kubectl apply claim: every first-pass resource appears", func(t *testing.T) {
			c = applyClaim(ctx, t, e)
			c.firstPass(ctx, t)
		}, false},
		{"provider stand-in: staged resources appear, claim becomes Ready", func(t *testing.T) {
			s = newStandIn(e.dyn, e.kube, kinds)
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if t.Failed() {
					for _, ev := range s.Events() {
						t.Log("stand-in: " + ev)
					}
				}
			})
			c.converge(ctx, t, s)
			cacheUse(ctx, t, e)
		}, false},
		{"region changes are refused on the live claim", func(t *testing.T) { c.immutableRegions(ctx, t) }, true},
		{"out-of-band promotion: FailedOver, nothing deleted", func(t *testing.T) { c.failover(ctx, t, s) }, true},
		{"delete claim: composed resources removed", func(t *testing.T) { c.delete(ctx, t, s) }, false},
	}
	for _, st := range steps {
		ok := t.Run(st.name, func(t *testing.T) { e.stage(t, st.name, st.fn) })
		if !ok && !st.goesOn {
			t.Fatalf("stage %q failed; stopping", st.name)
		}
	}
}

// cacheUse checks Crossplane's requests for the converged, unchanged XR reach the function's
// cache: each reconcile of it sends the same request with the same tag, which the cache keeps the
// second time and answers the third. It reports how many requests the function ran and how many
// the cache answered.
func cacheUse(ctx context.Context, t *testing.T, e *env) {
	t.Helper()
	var hits, runs int
	err := eventually(ctx, 90*time.Second, time.Second, func(context.Context) error {
		b, err := os.ReadFile(filepath.Join(e.run, "function.log"))
		if err != nil {
			return err
		}
		hits, runs = bytes.Count(b, []byte("\tAnswered from the cache\t")), bytes.Count(b, []byte("\tComposed\t"))
		if hits == 0 {
			return fmt.Errorf("%d requests run, none answered from the cache", runs)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("the converged XR's repeated requests never reached the cache: %v", err)
	}
	e.mark("function requests so far: %d run, %d answered from the cache (Crossplane sent them again, same tag)", runs, hits)
}
