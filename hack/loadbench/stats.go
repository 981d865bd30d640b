package main

import (
	"math"
	"slices"
	"time"
)

// percentile returns the p-th percentile (0 < p <= 100) of the latencies by the nearest-rank
// method: the smallest latency that at least p% of the latencies do not exceed. It sorts the
// slice in place; zero when there are none.
func percentile(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	rank := int(math.Ceil(p / 100 * float64(len(lat))))
	return lat[min(max(rank, 1), len(lat))-1]
}

// ratio returns a/b; NaN when b is zero, so that a missing yardstick never reads as a pass.
func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// perCall divides a total by a number of calls; zero when there were none.
func perCall(total time.Duration, calls int) time.Duration {
	if calls == 0 {
		return 0
	}
	return total / time.Duration(calls)
}

// rate returns calls per second over wall.
func rate(calls int, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return float64(calls) / wall.Seconds()
}
