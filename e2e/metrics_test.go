//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pkg/errors"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Prometheus counters the test reads. Crossplane core registers its response cache's and circuit
// breaker's metrics without a namespace, under the subsystems "function" and "circuit_breaker".
const (
	mReconciles     = "controller_runtime_reconcile_total"
	mWorkers        = "controller_runtime_max_concurrent_reconciles"
	mCacheHits      = "function_run_function_response_cache_hits_total"
	mCacheMisses    = "function_run_function_response_cache_misses_total"
	mBreakerOpens   = "circuit_breaker_opens_total"
	mBreakerEvents  = "circuit_breaker_events_total"
	mGRPCHandled    = "grpc_server_handled_total"
	mAPIRequests    = "apiserver_request_total"
	appliesGoalHour = 1000
)

// metrics is one scrape of a Prometheus endpoint, by metric name.
type metrics map[string]*dto.MetricFamily

func parseMetrics(r io.Reader) (metrics, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(r)
	return metrics(mfs), errors.Wrap(err, "cannot parse Prometheus metrics")
}

// sum returns the sum of the named counter's samples that have every given label (name, value
// pairs).
func (m metrics) sum(name string, labels ...string) float64 {
	total := 0.0
	for _, v := range m.by(name, "", labels...) {
		total += v
	}
	return total
}

// by returns the named counter's samples that have every given label (name, value pairs), summed
// by the value of the label by.
func (m metrics) by(name, by string, labels ...string) map[string]float64 {
	out := map[string]float64{}
	mf := m[name]
	if mf == nil {
		return out
	}
	for _, s := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range s.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				match = false
			}
		}
		if match {
			out[have[by]] += s.GetCounter().GetValue()
		}
	}
	return out
}

// has reports whether the named metric has a sample with every given label (name, value pairs).
func (m metrics) has(name string, labels ...string) bool {
	return len(m.by(name, "", labels...)) > 0
}

// scrape reads the Prometheus endpoint at host:port over plain HTTP.
func scrape(ctx context.Context, hostport string) (metrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+hostport+"/metrics", nil)
	if err != nil {
		return nil, errors.Wrap(err, "cannot make metrics request")
	}
	req.Header.Set("Accept", "text/plain")
	rsp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, errors.Wrapf(err, "cannot scrape %s", hostport)
	}
	defer rsp.Body.Close()
	if rsp.StatusCode != http.StatusOK {
		return nil, errors.Errorf("cannot scrape %s: %s", hostport, rsp.Status)
	}
	return parseMetrics(rsp.Body)
}

// scrapeAPIServer reads kube-apiserver's metrics, which need a client certificate (the admin's).
func (e *env) scrapeAPIServer(ctx context.Context) (metrics, error) {
	b, err := e.kube.Discovery().RESTClient().Get().AbsPath("/metrics").SetHeader("Accept", "text/plain").DoRaw(ctx)
	if err != nil {
		return nil, errors.Wrap(err, "cannot scrape kube-apiserver")
	}
	return parseMetrics(bytes.NewReader(b))
}

// coreMetrics returns host:port of Crossplane core's metrics, as crossplane-core.sh recorded it.
func (e *env) coreMetrics() (string, error) {
	b, err := os.ReadFile(filepath.Join(e.run, "crossplane-metrics"))
	return strings.TrimSpace(string(b)), errors.Wrap(err, "cannot read Crossplane core's metrics address")
}

// counts is what the control plane's counters said at one moment, or, from since, what they
// gained between two moments. Crossplane core's counters start again at zero when it restarts.
type counts struct {
	at time.Time

	xrReconciles    float64 // by the XR's controller
	claimReconciles float64 // by the claim's controller
	fnCalls         float64 // RunFunction calls the function served
	cacheHits       float64 // requests core's response cache answered
	cacheMisses     float64 // requests core's response cache passed on to the function
	breakerOpens    float64
	breakerDropped  float64 // composed resources' watch events the open breaker dropped

	verbs    map[string]float64 // kube-apiserver's resource requests, by verb
	requests map[string]float64 // kube-apiserver's resource requests, by verb and resource
}

// counts reads Crossplane core's, the function's and kube-apiserver's counters for the XRD xrd.
func (e *env) counts(ctx context.Context, xrd string) (counts, error) {
	c := counts{at: time.Now()}
	addr, err := e.coreMetrics()
	if err != nil {
		return c, err
	}
	core, err := scrape(ctx, addr)
	if err != nil {
		return c, errors.Wrap(err, "cannot read Crossplane core's metrics")
	}
	fn, err := scrape(ctx, e.fnMetrics)
	if err != nil {
		return c, errors.Wrap(err, "cannot read the function's metrics")
	}
	api, err := e.scrapeAPIServer(ctx)
	if err != nil {
		return c, err
	}
	c.xrReconciles = core.sum(mReconciles, "controller", "composite/"+xrd)
	c.claimReconciles = core.sum(mReconciles, "controller", "claim/"+xrd)
	c.cacheHits = core.sum(mCacheHits, "function_name", fnName)
	c.cacheMisses = core.sum(mCacheMisses, "function_name", fnName)
	c.breakerOpens = core.sum(mBreakerOpens)
	c.breakerDropped = core.sum(mBreakerEvents, "result", "Dropped")
	c.fnCalls = fn.sum(mGRPCHandled, "grpc_method", "RunFunction")
	c.verbs = map[string]float64{}
	c.requests = map[string]float64{}
	for _, s := range api[mAPIRequests].GetMetric() {
		l := map[string]string{}
		for _, p := range s.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		if l["resource"] == "" {
			continue // /metrics, /readyz, discovery: not the control plane's work on objects
		}
		r := l["resource"]
		if l["subresource"] != "" {
			r += "/" + l["subresource"]
		}
		v := s.GetCounter().GetValue()
		c.verbs[l["verb"]] += v
		c.requests[l["verb"]+" "+r] += v
	}
	return c, nil
}

// since returns what each counter gained since before.
func (c counts) since(before counts) counts {
	d := counts{
		at:              c.at,
		xrReconciles:    c.xrReconciles - before.xrReconciles,
		claimReconciles: c.claimReconciles - before.claimReconciles,
		fnCalls:         c.fnCalls - before.fnCalls,
		cacheHits:       c.cacheHits - before.cacheHits,
		cacheMisses:     c.cacheMisses - before.cacheMisses,
		breakerOpens:    c.breakerOpens - before.breakerOpens,
		breakerDropped:  c.breakerDropped - before.breakerDropped,
		verbs:           gained(c.verbs, before.verbs),
		requests:        gained(c.requests, before.requests),
	}
	return d
}

// gained returns what each of now's counters gained since before, leaving out those that did not.
func gained(now, before map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range now {
		if v -= before[k]; v != 0 {
			out[k] = v
		}
	}
	return out
}

// perHour scales n, counted over window, to one hour.
func perHour(n float64, window time.Duration) float64 {
	return n * float64(time.Hour) / float64(window)
}

// verdict says whether applies per converged claim per hour meet the goal.
func verdict(appliesPerHour float64) string {
	if appliesPerHour <= appliesGoalHour {
		return "PASS"
	}
	return "MISS"
}

// reportedVerbs are the kube-apiserver verbs the steady-state figure names, in its order.
var reportedVerbs = []string{"APPLY", "PATCH", "UPDATE", "CREATE", "GET", "LIST"}

// verbList formats requests by verb: the reported verbs first, then any other.
func verbList(verbs map[string]float64, scale func(float64) float64) string {
	parts := make([]string, 0, len(verbs)+len(reportedVerbs))
	seen := map[string]bool{}
	for _, v := range reportedVerbs {
		parts = append(parts, fmt.Sprintf("%s %.0f", v, scale(verbs[v])))
		seen[v] = true
	}
	var other []string
	for v := range verbs {
		if !seen[v] {
			other = append(other, v)
		}
	}
	sort.Strings(other)
	for _, v := range other {
		parts = append(parts, fmt.Sprintf("%s %.0f", v, scale(verbs[v])))
	}
	return strings.Join(parts, ", ")
}

// topList formats the n largest counts, largest first.
func topList(m map[string]float64, n int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, 0, n+1)
	for i, k := range keys {
		if i == n {
			parts = append(parts, fmt.Sprintf("%d more", len(keys)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.0f", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func TestMetrics(t *testing.T) {
	const exposition = `# HELP controller_runtime_reconcile_total Total number of reconciliations per controller
# TYPE controller_runtime_reconcile_total counter
controller_runtime_reconcile_total{controller="composite/xpostgresdrs.pgdr.io",result="success"} 7
controller_runtime_reconcile_total{controller="composite/xpostgresdrs.pgdr.io",result="requeue_after"} 3
controller_runtime_reconcile_total{controller="claim/xpostgresdrs.pgdr.io",result="success"} 2
# TYPE apiserver_request_total counter
apiserver_request_total{code="201",component="apiserver",resource="instances",verb="APPLY"} 4
apiserver_request_total{code="200",component="apiserver",resource="instances",verb="APPLY"} 6
apiserver_request_total{code="200",component="apiserver",resource="buckets",verb="APPLY"} 2
apiserver_request_total{code="200",component="apiserver",resource="buckets",verb="GET"} 1
`
	m, err := parseMetrics(strings.NewReader(exposition))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		reason string
		name   string
		by     string
		labels []string
		want   map[string]float64
	}{
		"OneController": {
			reason: "Samples of one controller are summed over every result.",
			name:   mReconciles,
			labels: []string{"controller", "composite/xpostgresdrs.pgdr.io"},
			want:   map[string]float64{"": 10},
		},
		"ByResource": {
			reason: "Samples of one verb are summed by resource, over every code.",
			name:   mAPIRequests,
			by:     "resource",
			labels: []string{"verb", "APPLY"},
			want:   map[string]float64{"instances": 10, "buckets": 2},
		},
		"NoSuchLabel": {
			reason: "A label no sample has matches nothing.",
			name:   mAPIRequests,
			labels: []string{"verb", "DELETE"},
			want:   map[string]float64{},
		},
		"NoSuchMetric": {
			reason: "A metric the endpoint does not serve has no samples.",
			name:   mCacheHits,
			want:   map[string]float64{},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, m.by(tc.name, tc.by, tc.labels...)); diff != "" {
				t.Errorf("\n%s\nby(%s, %q, %v): -want, +got:\n%s", tc.reason, tc.name, tc.by, tc.labels, diff)
			}
		})
	}
}

func TestPerHour(t *testing.T) {
	cases := map[string]struct {
		reason  string
		n       float64
		window  time.Duration
		want    float64
		verdict string
	}{
		"TenMinutes": {
			reason:  "One XR reconcile's applies in a 10-minute window are six times as many an hour.",
			n:       203,
			window:  10 * time.Minute,
			want:    1218,
			verdict: "MISS",
		},
		"AtTheGoal": {
			reason:  "The goal itself passes.",
			n:       500,
			window:  30 * time.Minute,
			want:    1000,
			verdict: "PASS",
		},
		"Quiet": {
			reason:  "No applies pass.",
			window:  2 * time.Minute,
			verdict: "PASS",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := perHour(tc.n, tc.window)
			if got != tc.want {
				t.Errorf("\n%s\nperHour(%v, %s): want %v, got %v", tc.reason, tc.n, tc.window, tc.want, got)
			}
			if v := verdict(got); v != tc.verdict {
				t.Errorf("\n%s\nverdict(%v): want %s, got %s", tc.reason, got, tc.verdict, v)
			}
		})
	}
}
