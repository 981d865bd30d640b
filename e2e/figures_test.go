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
)

const (
	// readyTTL is the function's --ready-ttl, its default: a converged XR is requeued after it,
	// with Crossplane's jitter of ±10%.
	readyTTL = 10 * time.Minute

	// defaultSteadyWindow is how long the converged claim is left alone, one ready TTL;
	// E2E_STEADY_WINDOW overrides it for local runs.
	defaultSteadyWindow = readyTTL

	// The window begins once the XR's controller has been quiet for longer than the converging
	// TTL (30 s) and than the jitter: a window of one ready TTL then ends after the latest requeue
	// and holds exactly one steady-state reconcile.
	settleQuiet = readyTTL/10 + 5*time.Second
	settleMax   = 3 * time.Minute
)

// readyFigure is how long one claim took from kubectl apply to Ready, and the circuit breaker it
// converged with.
type readyFigure struct {
	took         time.Duration
	afterStandIn time.Duration // from the provider stand-in's start, if it started after the claim
	breaker      string        // core's circuit breaker flags; empty: Crossplane's defaults
	opens        float64       // times the breaker opened since core started
}

// readyFigureOf reads c's time to Ready (c.waitReady measured it) and core's circuit breaker.
// standIn is when the provider stand-in started; zero if it ran before the claim.
func readyFigureOf(ctx context.Context, t *testing.T, e *env, c *claimRun, standIn time.Time) readyFigure {
	t.Helper()
	f := readyFigure{took: c.ready}
	if ready := c.applied.Add(c.ready); standIn.After(c.applied) {
		f.afterStandIn = ready.Sub(standIn)
	}
	b, err := os.ReadFile(filepath.Join(e.run, "crossplane-breaker"))
	if err != nil {
		t.Fatalf("cannot read Crossplane core's circuit breaker flags: %v", err)
	}
	f.breaker = strings.TrimSpace(string(b))
	addr, err := e.coreMetrics()
	if err != nil {
		t.Fatal(err)
	}
	m, err := scrape(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	f.opens = m.sum(mBreakerOpens)
	return f
}

func (f readyFigure) String() string {
	b := "Crossplane's default circuit breaker (burst 100, refill 1/s)"
	if f.breaker != "" {
		b = "the raised circuit breaker (" + f.breaker + ")"
	}
	s := fmt.Sprintf("%.1fs with %s, %s", f.took.Seconds(), b, opened(f.opens))
	if f.afterStandIn > 0 {
		s += fmt.Sprintf(", %.1fs of it after the provider stand-in started", f.afterStandIn.Seconds())
	}
	return s
}

func opened(n float64) string {
	switch n {
	case 0:
		return "which never opened"
	case 1:
		return "which opened once"
	}
	return fmt.Sprintf("which opened %.0f times", n)
}

// responseCache reads what Crossplane core's function response cache did while the claim
// converged: the requests it answered and those it passed on, each of which the function served.
func responseCache(ctx context.Context, t *testing.T, e *env, c *claimRun) {
	n, err := e.counts(ctx, c.xrd)
	if err != nil {
		t.Fatal(err)
	}
	if n.cacheHits+n.cacheMisses == 0 {
		t.Errorf("core's function response cache saw no request: is core run with --enable-function-response-cache?")
	}
	if n.fnCalls < n.cacheMisses {
		t.Errorf("the function served %.0f RunFunction calls, fewer than the %.0f requests core's cache passed on", n.fnCalls, n.cacheMisses)
	}
	e.figure("response-cache", "to Ready and until now: %.0f XR reconciles; core's cache answered %.0f of %.0f requests (%.0f misses); the function served %.0f RunFunction calls",
		n.xrReconciles, n.cacheHits, n.cacheHits+n.cacheMisses, n.cacheMisses, n.fnCalls)
}

// steadyWindow returns E2E_STEADY_WINDOW, or the default window.
func steadyWindow() (time.Duration, error) {
	v := os.Getenv("E2E_STEADY_WINDOW")
	if v == "" {
		return defaultSteadyWindow, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, errors.Errorf("E2E_STEADY_WINDOW=%q is no positive duration", v)
	}
	return d, nil
}

// steadyState leaves the converged claim alone for the window and reports what it cost: XR and
// claim reconciles, function calls, core's cache hits and kube-apiserver's requests by verb, as
// the counters' gains over the window, scaled to one hour. The test sends no request of its own in
// the window.
func steadyState(ctx context.Context, t *testing.T, e *env, c *claimRun) {
	window, err := steadyWindow()
	if err != nil {
		t.Fatal(err)
	}
	quiet, err := e.settle(ctx, c.xrd)
	if err != nil {
		e.mark("the XR did not settle: %v", err)
	} else {
		e.mark("the XR settled: no reconcile for %s", quiet.Round(time.Second))
	}
	before, err := e.counts(ctx, c.xrd)
	if err != nil {
		t.Fatal(err)
	}
	e.mark("steady-state window of %s begins", window)
	select {
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	case <-time.After(window):
	}
	after, err := e.counts(ctx, c.xrd)
	if err != nil {
		t.Fatal(err)
	}
	d := after.since(before)
	took := after.at.Sub(before.at)
	raw := func(v float64) float64 { return v }
	e.mark("in the window (%s): %.0f XR reconciles, %.0f claim reconciles, %.0f function calls, %.0f core cache hits, %.0f misses; API requests %s",
		took.Round(time.Second), d.xrReconciles, d.claimReconciles, d.fnCalls, d.cacheHits, d.cacheMisses, verbList(d.verbs, raw))
	applies, others := map[string]float64{}, map[string]float64{}
	for k, v := range d.requests {
		switch verb, _, _ := strings.Cut(k, " "); verb {
		case "APPLY":
			applies[k] = v
		case "WATCH":
			// The informers' watches, renewed every 5 to 10 minutes: the same for any claim.
		default:
			others[k] = v
		}
	}
	e.mark("APPLY requests in the window, by resource: %s", topList(applies, 10))
	e.mark("requests in the window other than APPLY and WATCH, by verb and resource: %s", topList(others, len(others)))
	if d.xrReconciles > 0 {
		e.mark("%.0f APPLY requests per XR reconcile", d.verbs["APPLY"]/d.xrReconciles)
	}
	cl, err := c.get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st, why := conditionStatus(cl, "Ready"); st != "True" {
		t.Errorf("after the window the claim is Ready=%q (%s)", st, why)
	}

	hour := func(v float64) float64 { return perHour(v, took) }
	e.figure("steady-state", "one converged claim for %s, per hour: %.0f XR reconciles, %.0f claim reconciles, %.0f function calls, %.0f core cache hits; API requests %s",
		took.Round(time.Second), hour(d.xrReconciles), hour(d.claimReconciles), hour(d.fnCalls), hour(d.cacheHits), verbList(d.verbs, hour))
	perHourApplies := hour(d.verbs["APPLY"])
	note := ""
	if d.xrReconciles == 0 {
		note = fmt.Sprintf("; no XR reconcile fell in the window, shorter than the function's ready TTL (%s)", readyTTL)
	}
	e.figure("cost", "%.0f apply requests per converged claim per hour (goal: at most %d; %.0f in the %s window%s): %s",
		perHourApplies, appliesGoalHour, d.verbs["APPLY"], took.Round(time.Second), note, verdict(perHourApplies))
}

// settle waits until the XR's controller has not reconciled for settleQuiet, and returns how long
// it has been quiet.
func (e *env) settle(ctx context.Context, xrd string) (time.Duration, error) {
	last, changed := -1.0, time.Now()
	var quiet time.Duration
	err := eventually(ctx, settleMax, time.Second, func(ctx context.Context) error {
		addr, err := e.coreMetrics()
		if err != nil {
			return err
		}
		m, err := scrape(ctx, addr)
		if err != nil {
			return err
		}
		if n := m.sum(mReconciles, "controller", "composite/"+xrd); n != last {
			last, changed = n, time.Now()
		}
		if quiet = time.Since(changed); quiet < settleQuiet {
			return errors.Errorf("the XR's controller reconciled %s ago", quiet.Round(time.Second))
		}
		return nil
	})
	return quiet, err
}

// waitControllers waits until Crossplane core runs the XR's and the claim's controllers of the XRD.
func (e *env) waitControllers(ctx context.Context, xrd string) error {
	return eventually(ctx, 90*time.Second, 500*time.Millisecond, func(ctx context.Context) error {
		addr, err := e.coreMetrics()
		if err != nil {
			return err
		}
		m, err := scrape(ctx, addr)
		if err != nil {
			return err
		}
		for _, c := range []string{"composite/" + xrd, "claim/" + xrd} {
			if !m.has(mWorkers, "controller", c) {
				return errors.Errorf("Crossplane core does not run controller %s yet", c)
			}
		}
		return nil
	})
}

// defaultBreaker restarts Crossplane core with its default circuit breaker and takes a second claim
// (examples/claim.yaml under another name) to Ready, the provider stand-in already running; then
// deletes it. The claim is created without deletion protection: turning it off later is a change
// of the XR, and the breaker, open for 5 minutes once convergence tripped it, drops the XR's own
// watch events too (but one every 30 s), so the change could wait for the XR's next requeue, up to
// the function's ready TTL. The deletion's figure is added to the first claim's.
func defaultBreaker(ctx context.Context, t *testing.T, e *env, s *standIn, raised readyFigure, deleted string) {
	if err := e.scriptEnv(ctx, []string{"XP_CIRCUIT_BREAKER_ARGS="}, "crossplane-core.sh", e.bin, e.run); err != nil {
		t.Fatal(err)
	}
	xrd := readYAML(t, filepath.Join(e.root, "apis", "definition.yaml"))[0].GetName()
	if err := e.waitControllers(ctx, xrd); err != nil {
		t.Fatal(err)
	}
	c := applyRenamedClaim(ctx, t, e, "orders-db-2", map[string]any{"deletionProtection": false})
	c.waitReady(ctx, t, 10*time.Minute)
	c.checkReadiness(t, false)
	def := readyFigureOf(ctx, t, e, c, time.Time{})
	e.figure("claim-to-Ready", "%s; %s", raised, def)
	if deleted == "" {
		deleted = "orders-db: not deleted (its stage failed)"
	}
	e.figure("claim-delete", "%s; %s", deleted, c.delete(ctx, t, s))
}
