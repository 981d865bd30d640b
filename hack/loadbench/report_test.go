package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCheckGoals(t *testing.T) {
	good := func(request string, c int) result {
		return result{
			request: request, resources: 150, concurrency: c, calls: 2000, wall: 2 * time.Second,
			p50: time.Millisecond, p99: 4 * time.Millisecond,
			cpuPerCall: 2 * time.Millisecond, floor: cost{cpu: 1500 * time.Microsecond},
			rspBytes: 100 << 10, peakRSS: 40 << 20,
		}
	}
	runs := func(change func(rs []result)) []result {
		rs := []result{good(firstPass, 1), good(firstPass, 4), good("ready", 1), good("ready", 4)}
		change(rs)
		return rs
	}
	cases := map[string]struct {
		reason string
		runs   []result
		// want: the goals that miss (by name); the others pass.
		want []string
	}{
		"AllMet": {
			reason: "Every run within every goal.",
			runs:   runs(func([]result) {}),
		},
		"CPUOverFloor": {
			reason: "The ready run at concurrency 4 spends more than 2 floors; exactly 2 floors passes.",
			runs: runs(func(rs []result) {
				rs[3].cpuPerCall = 3001 * time.Microsecond
				rs[2].cpuPerCall = 3 * time.Millisecond
			}),
			want: []string{"server CPU/request <= 2 x protobuf floor: ready, concurrency 4"},
		},
		"NoFloor": {
			reason: "A floor of zero (not measured) never passes.",
			runs:   runs(func(rs []result) { rs[0].floor = cost{} }),
			want:   []string{"server CPU/request <= 2 x protobuf floor: first-pass, concurrency 1"},
		},
		"P99": {
			reason: "p99 is judged at concurrency 4 only: a slow p99 at concurrency 1 is not a miss.",
			runs: runs(func(rs []result) {
				rs[0].p99 = 50 * time.Millisecond
				rs[1].p99 = 5*time.Millisecond + 1
			}),
			want: []string{"p99 <= 5.00 ms at concurrency 4: first-pass"},
		},
		"NoConcurrency4": {
			reason: "Without a run at concurrency 4 the p99 goal is not met, not silently dropped.",
			runs:   []result{good(firstPass, 1)},
			want:   []string{"p99 <= 5.00 ms at concurrency 4: first-pass"},
		},
		"PeakRSS": {
			reason: "The peak over all runs counts.",
			runs:   runs(func(rs []result) { rs[2].peakRSS = 64<<20 + 1 }),
			want:   []string{"server peak RSS <= 64.0 MiB"},
		},
		"Response": {
			reason: "A response over 256 KiB.",
			runs: runs(func(rs []result) {
				rs[2].rspBytes = 256<<10 + 1
				rs[3].rspBytes = 256<<10 + 1
			}),
			want: []string{"response <= 256 KiB: ready"},
		},
		"VsGoTemplating": {
			reason: "14 ms / 3 ms is under 5 x less: the first pass at concurrency 1 is the one compared.",
			runs: runs(func(rs []result) {
				rs[0].cpuPerCall = 3 * time.Millisecond
				rs[0].floor.cpu = 3 * time.Millisecond
			}),
			want: []string{"CPU/request >= 5 x less than function-go-templating v0.12.3 on a like-sized first pass (issue 7's 14.00 ms on 108 resources)"},
		},
		"LiveGoTemplatingMet": {
			reason: "function-go-templating measured at 12 ms on the same first pass is 6 x our 2 ms; its own RSS, p99 and floor are no goals of ours.",
			runs: runs(func(rs []result) {
				gt := good(firstPass, 1)
				gt.function, gt.cpuPerCall, gt.p99, gt.peakRSS = goTemplatingFunction, 12*time.Millisecond, time.Second, 1<<30
				rs[3] = gt
			}),
			want: []string{"p99 <= 5.00 ms at concurrency 4: ready"}, // rs[3] was ours at concurrency 4.
		},
		"LiveGoTemplatingMissed": {
			reason: "function-go-templating measured at 8 ms is only 4 x our 2 ms.",
			runs: append(runs(func([]result) {}), func() result {
				gt := good(firstPass, 1)
				gt.function, gt.cpuPerCall = goTemplatingFunction, 8*time.Millisecond
				return gt
			}()),
			want: []string{"CPU/request >= 5 x less than function-go-templating v0.12.3 measured here on the same first pass"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			gs := checkGoals(tc.runs)
			if len(gs) == 0 {
				t.Fatalf("\n%s\ncheckGoals(...): no goals", tc.reason)
			}
			var missed []string
			for _, g := range gs {
				if !g.pass {
					missed = append(missed, g.name)
				}
			}
			if diff := cmp.Diff(tc.want, missed); diff != "" {
				t.Errorf("\n%s\ncheckGoals(...): goals missed, -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestCheckGoalsCount: every goal of the issue is checked for every request of ours.
func TestCheckGoalsCount(t *testing.T) {
	ours := []result{{request: firstPass, concurrency: 1}, {request: firstPass, concurrency: 4}, {request: "ready", concurrency: 1}, {request: "ready", concurrency: 4}}
	// 4 CPU-over-floor, 2 p99, 1 peak RSS, 2 response sizes, 1 against issue 7's figure.
	if got, want := len(checkGoals(ours)), 4+2+1+2+1; got != want {
		t.Errorf("checkGoals(ours): got %d goals, want %d", got, want)
	}
	// And one against function-go-templating measured live.
	withGT := append(ours, result{function: goTemplatingFunction, request: firstPass, concurrency: 1})
	if got, want := len(checkGoals(withGT)), 4+2+1+2+1+1; got != want {
		t.Errorf("checkGoals(ours and function-go-templating): got %d goals, want %d", got, want)
	}
}
