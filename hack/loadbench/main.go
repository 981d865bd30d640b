// Command loadbench is a gRPC load run against the built function binary (make bench). It serves
// the binary on a free loopback port and sends it, at each concurrency, the example XR's first
// pass (nothing observed) and its converged reconcile, each call with a new tag as Crossplane
// sends them. It reports latency, throughput, the server's CPU time per request and per desired
// resource, its peak RSS and the response size. Given -go-templating, it runs that binary
// (function-go-templating) on a template that makes it desire what our first pass desires, and
// checks that our first pass takes at least 3x less CPU per desired resource (PASS or MISS; a
// MISS does not fail the run).
//
//	go run ./hack/loadbench -binary _output/bin/function [-go-templating _output/bin/function-go-templating]
//
// The load generator sends each request encoded once and does not decode the responses (it
// checks their size), to leave the machine's cores to the server.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/crossplane/function-sdk-go/errors"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// options are the command line's flags.
type options struct {
	binary, goTemplating                string
	xr, composition, observed, function string
	concurrency                         []int
	warmup, run                         bounds
}

func main() {
	o := options{}
	flag.StringVar(&o.binary, "binary", "_output/bin/function", "the function binary to serve")
	flag.StringVar(&o.goTemplating, "go-templating", "", "a function-go-templating binary to run on the same first pass; none when empty")
	flag.StringVar(&o.xr, "xr", "examples/xr.yaml", "the XR")
	flag.StringVar(&o.composition, "composition", "apis/composition.yaml", "the Composition whose pipeline step gives the function's input")
	flag.StringVar(&o.function, "function", "function-postgres-dr", "the functionRef name of that pipeline step")
	flag.StringVar(&o.observed, "observed", "examples/observed/ready.yaml", "observed composed resources of the converged reconcile")
	conc := flag.String("concurrency", "1,4", "comma-separated concurrencies to run each request at; function-go-templating and the summary use the first")
	flag.IntVar(&o.warmup.calls, "warmup", 100, "warm-up calls before each run")
	flag.DurationVar(&o.warmup.time, "warmup-time", time.Second, "longest warm-up")
	flag.IntVar(&o.run.calls, "calls", 2000, "calls per run")
	flag.DurationVar(&o.run.time, "time", 5*time.Second, "longest run")
	flag.Parse()
	var err error
	if o.concurrency, err = parseConcurrency(*conc); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		stop()
		os.Exit(1) //nolint:gocritic // stop has run.
	}
}

// request is one reconcile the load run sends.
type request struct {
	name string
	req  *fnv1.RunFunctionRequest
}

func run(ctx context.Context, o options) error {
	reqs, err := requests(o)
	if err != nil {
		return err
	}
	ticks := clockTicks()
	fmt.Printf("loadbench: %d CPUs, load average %s; %d clock ticks/s\n", runtime.NumCPU(), loadAverage(), ticks)
	// No metrics endpoint: its default port is often taken, and it is no part of what is measured.
	rs, rsps, err := serve(ctx, o, ticks, o.binary, ourFunction, reqs, o.concurrency, "--metrics-address=")
	if err != nil {
		return err
	}
	if o.goTemplating != "" {
		req, err := goTemplatingRequest(reqs[0].req, rsps[0])
		if err != nil {
			return err
		}
		gt, gtRsps, err := serve(ctx, o, ticks, o.goTemplating, goTemplatingFunction, []request{{name: firstPass, req: req}}, o.concurrency[:1])
		if err != nil {
			return errors.Wrap(err, "function-go-templating")
		}
		if a, b := len(gtRsps[0].GetDesired().GetResources()), len(rsps[0].GetDesired().GetResources()); a != b {
			return errors.Errorf("function-go-templating desired %d composed resources, ours %d", a, b)
		}
		rs = append(rs, gt...)
	}
	fmt.Println()
	printTable(os.Stdout, rs)
	fmt.Printf("(load average at the end: %s; the goal is reported, not asserted)\n\n", loadAverage())
	fmt.Println(summarize(rs, o.concurrency[0]))
	return nil
}

// serve starts the binary and measures each request at each concurrency, returning the runs and
// the response to each request.
func serve(ctx context.Context, o options, ticks int64, binary, function string, reqs []request, concurrency []int, flags ...string) (rs []result, rsps []*fnv1.RunFunctionResponse, err error) {
	srv, err := startServer(binary, 30*time.Second, flags...)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if serr := srv.stop(15 * time.Second); serr != nil && err == nil {
			err = serr
		}
	}()
	fmt.Printf("loadbench: %s (pid %d) serving at %s\n", binary, srv.pid(), srv.addr)
	conn, err := grpc.NewClient(srv.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		return nil, nil, errors.Wrap(err, "cannot create a gRPC client")
	}
	defer conn.Close() //nolint:errcheck // Nothing to do.
	for _, r := range reqs {
		rsp, got, err := measure(ctx, o, ticks, srv.pid(), conn, function, r, concurrency)
		if err != nil {
			return nil, nil, err
		}
		rs, rsps = append(rs, got...), append(rsps, rsp)
	}
	return rs, rsps, nil
}

// measure calls the function once to check its answer, then warms up and runs the load at each
// concurrency.
func measure(ctx context.Context, o options, ticks int64, pid int, conn *grpc.ClientConn, function string, r request, concurrency []int) (*fnv1.RunFunctionResponse, []result, error) {
	untagged, err := proto.Marshal(r.req)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "cannot encode the %s request", r.name)
	}
	// With a tag as long as the load's, so that its response is as long as theirs.
	req := proto.CloneOf(r.req)
	req.Meta = &fnv1.RequestMeta{Tag: newTag()}
	rsp, err := fnv1.NewFunctionRunnerServiceClient(conn).RunFunction(ctx, req)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "cannot run the %s request", r.name)
	}
	if err := checkResponse(rsp); err != nil {
		return nil, nil, errors.Wrapf(err, "the %s request", r.name)
	}
	size := proto.Size(rsp)
	var rs []result
	for _, c := range concurrency {
		if _, err := runLoad(ctx, conn, untagged, size, c, o.warmup); err != nil {
			return nil, nil, errors.Wrapf(err, "%s, concurrency %d, warm-up", r.name, c)
		}
		cpu0, err := cpuTime(pid, ticks)
		if err != nil {
			return nil, nil, err
		}
		lr, err := runLoad(ctx, conn, untagged, size, c, o.run)
		if err != nil {
			return nil, nil, errors.Wrapf(err, "%s, concurrency %d", r.name, c)
		}
		cpu1, err := cpuTime(pid, ticks)
		if err != nil {
			return nil, nil, err
		}
		hwm, err := peakRSS(pid)
		if err != nil {
			return nil, nil, err
		}
		res := result{
			function: function, request: r.name, resources: len(rsp.GetDesired().GetResources()), concurrency: c,
			calls: len(lr.latencies), wall: lr.wall, p50: percentile(lr.latencies, 50), p99: percentile(lr.latencies, 99),
			cpu: perCall(cpu1-cpu0, len(lr.latencies)), rspBytes: size, peakRSS: hwm,
		}
		fmt.Printf("  %s %s, concurrency %d: %d calls in %.1f s, p99 %s, CPU/request %s\n",
			function, r.name, c, res.calls, res.wall.Seconds(), ms(res.p99), ms(res.cpu))
		rs = append(rs, res)
	}
	return rsp, rs, nil
}

// requests builds the first pass and the converged reconcile.
func requests(o options) ([]request, error) {
	xr, err := os.ReadFile(o.xr)
	if err != nil {
		return nil, errors.Wrap(err, "cannot read the XR")
	}
	comp, err := os.ReadFile(o.composition)
	if err != nil {
		return nil, errors.Wrap(err, "cannot read the Composition")
	}
	observed, err := os.ReadFile(o.observed)
	if err != nil {
		return nil, errors.Wrap(err, "cannot read the observed resources")
	}
	rs := []request{{name: firstPass}, {name: converged}}
	for i, obs := range [][]byte{nil, observed} {
		if rs[i].req, err = buildRequest(xr, comp, obs, o.function); err != nil {
			return nil, errors.Wrapf(err, "cannot build the %s request", rs[i].name)
		}
	}
	return rs, nil
}

// checkResponse fails on a response that is not a successful reconcile: a fatal result, or
// nothing desired.
func checkResponse(rsp *fnv1.RunFunctionResponse) error {
	for _, r := range rsp.GetResults() {
		if r.GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
			return errors.Errorf("fatal result: %s", r.GetMessage())
		}
	}
	if len(rsp.GetDesired().GetResources()) == 0 {
		return errors.New("no composed resources desired")
	}
	return nil
}

// parseConcurrency parses a comma-separated list of positive concurrencies.
func parseConcurrency(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, errors.Errorf("cannot parse concurrency %q: want positive integers separated by commas", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// loadAverage returns the 1, 5 and 15 minute load averages: a busy machine makes noisy figures.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
