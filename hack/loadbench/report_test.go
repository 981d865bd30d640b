package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSummary(t *testing.T) {
	run := func(function, request string, concurrency int, cpu time.Duration) result {
		return result{function: function, request: request, resources: 100, concurrency: concurrency, cpu: cpu}
	}
	ours := []result{
		run(ourFunction, firstPass, 1, 2*time.Millisecond),
		run(ourFunction, firstPass, 4, 9*time.Millisecond),
		run(ourFunction, converged, 1, 3*time.Millisecond),
		run(ourFunction, converged, 4, 9*time.Millisecond),
	}
	cases := map[string]struct {
		reason string
		runs   []result
		want   string
	}{
		"Pass": {
			reason: "function-go-templating's 12 ms on the same 100 resources is 6x our 2 ms: the runs at concurrency 1 are the ones summarized.",
			runs:   append(ours, run(goTemplatingFunction, firstPass, 1, 12*time.Millisecond)),
			want:   "loadbench: first-pass cpu=2.00ms/req (20.0us/resource) converged cpu=3.00ms/req (30.0us/resource) go-templating first-pass cpu=12.00ms/req (120.0us/resource) ratio=6.00x goal(>=3x)=PASS",
		},
		"ExactlyThree": {
			reason: "3x is the goal met.",
			runs:   append(ours, run(goTemplatingFunction, firstPass, 1, 6*time.Millisecond)),
			want:   "loadbench: first-pass cpu=2.00ms/req (20.0us/resource) converged cpu=3.00ms/req (30.0us/resource) go-templating first-pass cpu=6.00ms/req (60.0us/resource) ratio=3.00x goal(>=3x)=PASS",
		},
		"Miss": {
			reason: "5 ms is only 2.5x our 2 ms.",
			runs:   append(ours, run(goTemplatingFunction, firstPass, 1, 5*time.Millisecond)),
			want:   "loadbench: first-pass cpu=2.00ms/req (20.0us/resource) converged cpu=3.00ms/req (30.0us/resource) go-templating first-pass cpu=5.00ms/req (50.0us/resource) ratio=2.50x goal(>=3x)=MISS",
		},
		"PerResource": {
			reason: "The goal is per desired resource: 6 ms on 50 resources is 120 µs each, 6x our 20 µs.",
			runs: append(ours, func() result {
				r := run(goTemplatingFunction, firstPass, 1, 6*time.Millisecond)
				r.resources = 50
				return r
			}()),
			want: "loadbench: first-pass cpu=2.00ms/req (20.0us/resource) converged cpu=3.00ms/req (30.0us/resource) go-templating first-pass cpu=6.00ms/req (120.0us/resource) ratio=6.00x goal(>=3x)=PASS",
		},
		"NoGoTemplating": {
			reason: "Without function-go-templating's run (or one at another concurrency) the goal is not met, not silently dropped.",
			runs:   append(ours, run(goTemplatingFunction, firstPass, 4, 60*time.Millisecond)),
			want:   "loadbench: first-pass cpu=2.00ms/req (20.0us/resource) converged cpu=3.00ms/req (30.0us/resource) go-templating first-pass cpu=n/a ratio=n/a goal(>=3x)=MISS",
		},
		"NoCPU": {
			reason: "Our CPU time of zero (too few clock ticks) is no infinite ratio that passes.",
			runs:   []result{run(ourFunction, firstPass, 1, 0), run(goTemplatingFunction, firstPass, 1, 6*time.Millisecond)},
			want:   "loadbench: first-pass cpu=0.00ms/req (0.0us/resource) converged cpu=n/a go-templating first-pass cpu=6.00ms/req (60.0us/resource) ratio=n/a goal(>=3x)=MISS",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := summarize(tc.runs, 1).String()
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\n%s\nsummarize(...).String(): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
