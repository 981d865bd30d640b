package main

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"
)

// goalVsGoTemplating is how many times less CPU per desired resource than function-go-templating
// our first pass should take. It is reported, not asserted: noise on a shared machine must not
// fail a build.
const goalVsGoTemplating = 3.0

// The requests: the example XR with nothing observed, and its converged reconcile.
const (
	firstPass = "first-pass"
	converged = "converged"
)

// The functions a result can be of.
const (
	ourFunction          = "postgres-dr"
	goTemplatingFunction = "go-templating"
)

// result is one load run of one request at one concurrency.
type result struct {
	function    string
	request     string
	resources   int // composed resources desired
	concurrency int
	calls       int
	wall        time.Duration
	p50, p99    time.Duration
	cpu         time.Duration // the server's CPU time per call
	rspBytes    int
	peakRSS     uint64 // the server's VmHWM after the run
}

// cpuPerResource is the server's CPU time per call and desired resource.
func (r result) cpuPerResource() time.Duration {
	if r.resources == 0 {
		return 0
	}
	return r.cpu / time.Duration(r.resources)
}

// printTable writes the runs as a table.
func printTable(w io.Writer, rs []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "function\trequest\tresources\tconc\tcalls\tp50\tp99\treq/s\tCPU/req\tCPU/resource\tresponse\tpeak RSS\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%.1f\t%s\t%s\t%.1f KiB\t%.1f MiB\t\n",
			r.function, r.request, r.resources, r.concurrency, r.calls, ms(r.p50), ms(r.p99), rate(r.calls, r.wall),
			ms(r.cpu), us(r.cpuPerResource()), float64(r.rspBytes)/(1<<10), float64(r.peakRSS)/(1<<20))
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "CPU/req: the server's utime+stime over the run, per call. peak RSS: its VmHWM since it started.")
}

// summary is what a load run concludes, from the runs at one concurrency.
type summary struct {
	first, converged, goTemplating *result
}

// summarize picks the runs at concurrency c: our first pass and converged reconcile, and
// function-go-templating's first pass.
func summarize(rs []result, c int) summary {
	s := summary{}
	for i, r := range rs {
		if r.concurrency != c {
			continue
		}
		switch {
		case r.function == ourFunction && r.request == firstPass:
			s.first = &rs[i]
		case r.function == ourFunction && r.request == converged:
			s.converged = &rs[i]
		case r.function == goTemplatingFunction && r.request == firstPass:
			s.goTemplating = &rs[i]
		}
	}
	return s
}

// String is the summary line.
func (s summary) String() string {
	verdict := "MISS"
	if s.ratio() >= goalVsGoTemplating {
		verdict = "PASS"
	}
	x := "n/a"
	if r := s.ratio(); !math.IsNaN(r) {
		x = fmt.Sprintf("%.2fx", r)
	}
	return fmt.Sprintf("loadbench: first-pass cpu=%s converged cpu=%s go-templating first-pass cpu=%s ratio=%s goal(>=%gx)=%s",
		cpuString(s.first), cpuString(s.converged), cpuString(s.goTemplating), x, goalVsGoTemplating, verdict)
}

// ratio is how many times more CPU per desired resource function-go-templating's first pass
// took than ours; NaN when either was not measured, so that it never passes.
func (s summary) ratio() float64 {
	if s.first == nil || s.goTemplating == nil {
		return math.NaN()
	}
	return ratio(float64(s.goTemplating.cpuPerResource()), float64(s.first.cpuPerResource()))
}

// cpuString is a run's CPU per call and per desired resource; n/a when it did not run.
func cpuString(r *result) string {
	if r == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.2fms/req (%.1fus/resource)", float64(r.cpu)/float64(time.Millisecond), float64(r.cpuPerResource())/float64(time.Microsecond))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
func us(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond)) }
