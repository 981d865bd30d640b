package main

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100..1, unsorted
	}
	type args struct {
		lat []time.Duration
		p   float64
	}
	cases := map[string]struct {
		reason string
		args   args
		want   time.Duration
	}{
		"Empty":      {reason: "No latencies give zero.", args: args{p: 50}, want: 0},
		"One":        {reason: "One latency is every percentile.", args: args{lat: ms(7), p: 99}, want: 7 * time.Millisecond},
		"MedianOdd":  {reason: "The median of 5 is the 3rd smallest, whatever the order.", args: args{lat: ms(5, 1, 4, 2, 3), p: 50}, want: 3 * time.Millisecond},
		"MedianEven": {reason: "Nearest rank: the median of 4 is the 2nd smallest, not an interpolation.", args: args{lat: ms(4, 3, 2, 1), p: 50}, want: 2 * time.Millisecond},
		"P99Of100":   {reason: "The p99 of 1..100 is 99.", args: args{lat: ms(hundred...), p: 99}, want: 99 * time.Millisecond},
		"P99Of10":    {reason: "With 10 samples the p99 is the largest.", args: args{lat: ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), p: 99}, want: 10 * time.Millisecond},
		"P100":       {reason: "p100 is the largest.", args: args{lat: ms(3, 9, 1), p: 100}, want: 9 * time.Millisecond},
		"TinyP":      {reason: "A tiny percentile is the smallest, never out of range.", args: args{lat: ms(3, 9, 1), p: 0.001}, want: 1 * time.Millisecond},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := percentile(tc.args.lat, tc.args.p)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\n%s\npercentile(..., %g): -want, +got:\n%s", tc.reason, tc.args.p, diff)
			}
		})
	}
}

func TestRatio(t *testing.T) {
	type args struct{ a, b float64 }
	cases := map[string]struct {
		reason string
		args   args
		want   float64
	}{
		"Ratio":     {reason: "a over b.", args: args{a: 3, b: 2}, want: 1.5},
		"ZeroOverB": {reason: "Nothing over something is zero.", args: args{a: 0, b: 2}, want: 0},
		"ZeroB":     {reason: "A zero yardstick gives NaN, which no goal passes with.", args: args{a: 3, b: 0}, want: math.NaN()},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := ratio(tc.args.a, tc.args.b)
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) })); diff != "" {
				t.Errorf("\n%s\nratio(%g, %g): -want, +got:\n%s", tc.reason, tc.args.a, tc.args.b, diff)
			}
		})
	}
}

func TestPerCallAndRate(t *testing.T) {
	cases := map[string]struct {
		reason   string
		total    time.Duration
		calls    int
		wantPer  time.Duration
		wantRate float64
	}{
		"Calls":   {reason: "3 s of CPU over 1500 calls in 3 s is 2 ms a call, 500 a second.", total: 3 * time.Second, calls: 1500, wantPer: 2 * time.Millisecond, wantRate: 500},
		"NoCalls": {reason: "No calls give zero, not a division by zero.", total: 3 * time.Second, calls: 0, wantPer: 0, wantRate: 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.wantPer, perCall(tc.total, tc.calls)); diff != "" {
				t.Errorf("\n%s\nperCall: -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantRate, rate(tc.calls, tc.total)); diff != "" {
				t.Errorf("\n%s\nrate: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
