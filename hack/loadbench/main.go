// Command loadbench is a gRPC load run against the built function binary (make bench): it starts
// the binary with --insecure on a free loopback port, sends it a first pass and a ready reconcile
// of the example XR at each concurrency, and reports latency, throughput, the server's CPU time
// per request beside the protobuf floor of the response, its peak RSS and the response size,
// then checks issue 7's goals (reported as PASS or MISS; a MISS does not fail the run). Given
// -go-templating, it runs that binary (function-go-templating) under the same load on a template
// that makes it desire what our first pass desires, for a like-for-like comparison.
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
	"slices"
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
	binary, xr, composition, observed, function string
	goTemplating                                string
	concurrency                                 []int
	warmup, run                                 bounds
	floorRounds                                 int
	only                                        string
	serverFlags                                 string
}

func main() {
	o := options{}
	flag.StringVar(&o.binary, "binary", "_output/bin/function", "the function binary to serve")
	flag.StringVar(&o.goTemplating, "go-templating", "", "a function-go-templating binary to run beside ours on the same first pass; none when empty")
	flag.StringVar(&o.xr, "xr", "examples/xr.yaml", "the XR")
	flag.StringVar(&o.composition, "composition", "apis/composition.yaml", "the Composition whose pipeline step gives the function's input")
	flag.StringVar(&o.function, "function", "function-postgres-dr", "the functionRef name of that pipeline step")
	flag.StringVar(&o.observed, "observed", "examples/observed/ready.yaml", "observed composed resources of the ready reconcile")
	conc := flag.String("concurrency", "1,4", "comma-separated concurrencies to run each request at")
	flag.IntVar(&o.warmup.calls, "warmup", 200, "warm-up calls before each run")
	flag.DurationVar(&o.warmup.time, "warmup-time", 2*time.Second, "longest warm-up")
	flag.IntVar(&o.run.calls, "calls", 2000, "calls per run")
	flag.DurationVar(&o.run.time, "time", 8*time.Second, "longest run")
	flag.IntVar(&o.floorRounds, "floor-rounds", 5, "rounds of the protobuf floor; the minimum is kept")
	flag.StringVar(&o.serverFlags, "server-flags", "", "flags for our binary, separated by spaces (e.g. \"--cache-size=0 --memory-limit=32\")")
	flag.StringVar(&o.only, "only", "", "comma-separated requests to run (first-pass, ready, ready-repeated); all when empty")
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
	name    string
	req     *fnv1.RunFunctionRequest
	encoded []byte
	// repeated sends the same request, tag and all, on every call: Crossplane's steady state,
	// which the function answers from its cache. Otherwise every call carries a new tag.
	repeated bool
}

// uniqueFrom is the tag runLoad replaces on every call, or "" for a repeated request.
func (r request) uniqueFrom() string {
	if r.repeated {
		return ""
	}
	return r.req.GetMeta().GetTag()
}

func run(ctx context.Context, o options) (err error) {
	reqs, err := requests(o)
	if err != nil {
		return err
	}
	if reqs, err = only(reqs, o.only); err != nil {
		return err
	}
	ticks := clockTicks()
	srv, err := startServer(o.binary, "", 30*time.Second, strings.Fields(o.serverFlags)...)
	if err != nil {
		return err
	}
	defer func() {
		if serr := srv.stop(15 * time.Second); serr != nil && err == nil {
			err = serr
		}
	}()
	fmt.Printf("loadbench: %s (pid %d) serving at %s; %d CPUs, load average %s; %d clock ticks/s\n",
		o.binary, srv.pid(), srv.addr, runtime.NumCPU(), loadAverage(), ticks)
	conn, err := dial(srv.addr)
	if err != nil {
		return err
	}
	defer conn.Close() //nolint:errcheck // Nothing to do.

	var (
		rs    []result
		first *fnv1.RunFunctionResponse
	)
	for _, r := range reqs {
		rsp, got, err := measure(ctx, o, ticks, srv, conn, ourFunction, r, o.concurrency)
		if err != nil {
			return err
		}
		rs = append(rs, got...)
		if r.name == firstPass {
			first = rsp
		}
	}
	if o.goTemplating != "" && first != nil {
		got, err := measureGoTemplating(ctx, o, ticks, reqs[0], first)
		if err != nil {
			return err
		}
		rs = append(rs, got...)
	}
	fmt.Println()
	printTable(os.Stdout, rs)
	fmt.Println()
	printReferences(os.Stdout, rs)
	fmt.Println()
	printGoals(os.Stdout, checkGoals(rs))
	fmt.Printf("\n(load average at the end: %s; goals are reported, not asserted)\n", loadAverage())
	return nil
}

// measureGoTemplating runs function-go-templating v0.12.3 under the same load, at concurrency
// 1, with the template that makes it desire what our first pass desires.
func measureGoTemplating(ctx context.Context, o options, ticks int64, ours request, rsp *fnv1.RunFunctionResponse) (rs []result, err error) {
	req, err := goTemplatingRequest(ours.req, rsp)
	if err != nil {
		return nil, err
	}
	r := request{name: firstPass, req: req}
	if r.encoded, err = proto.Marshal(req); err != nil {
		return nil, errors.Wrap(err, "cannot encode function-go-templating's request")
	}
	addr, err := freeLoopbackAddress()
	if err != nil {
		return nil, err
	}
	srv, err := startServer(o.goTemplating, addr, 30*time.Second)
	if err != nil {
		return nil, err
	}
	srv.diesOnSIGTERM = true
	defer func() {
		if serr := srv.stop(15 * time.Second); serr != nil && err == nil {
			err = serr
		}
	}()
	fmt.Printf("loadbench: %s (pid %d) serving at %s\n", o.goTemplating, srv.pid(), srv.addr)
	conn, err := dial(srv.addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close() //nolint:errcheck // Nothing to do.
	gt, got, err := measure(ctx, o, ticks, srv, conn, goTemplatingFunction, r, []int{1})
	if err != nil {
		return nil, errors.Wrap(err, "function-go-templating")
	}
	if a, b := len(gt.GetDesired().GetResources()), len(rsp.GetDesired().GetResources()); a != b {
		return nil, errors.Errorf("function-go-templating desired %d composed resources, ours %d", a, b)
	}
	return got, nil
}

// measure calls the function once to check its answer and measure the answer's protobuf floor,
// then warms up and runs the load at each concurrency.
func measure(ctx context.Context, o options, ticks int64, srv *server, conn *grpc.ClientConn, function string, r request, concurrency []int) (*fnv1.RunFunctionResponse, []result, error) {
	rsp, err := fnv1.NewFunctionRunnerServiceClient(conn).RunFunction(ctx, r.req)
	if err != nil {
		return nil, nil, errors.Wrapf(err, "cannot run the %s request", r.name)
	}
	if err := checkResponse(rsp); err != nil {
		return nil, nil, errors.Wrapf(err, "the %s request", r.name)
	}
	size := proto.Size(rsp)
	fl, err := protoFloor(rsp, o.floorRounds)
	if err != nil {
		return nil, nil, err
	}
	dec, err := requestDecode(r.encoded, o.floorRounds)
	if err != nil {
		return nil, nil, err
	}
	var rs []result
	for _, c := range concurrency {
		if _, err := runLoad(ctx, conn, r.encoded, r.uniqueFrom(), size, c, o.warmup); err != nil {
			return nil, nil, errors.Wrapf(err, "%s, concurrency %d, warm-up", r.name, c)
		}
		cpu0, err := cpuTime(srv.pid(), ticks)
		if err != nil {
			return nil, nil, err
		}
		rss := sampleRSS(srv.pid(), 10*time.Millisecond)
		lr, err := runLoad(ctx, conn, r.encoded, r.uniqueFrom(), size, c, o.run)
		anon, file := rss.Stop()
		if err != nil {
			return nil, nil, errors.Wrapf(err, "%s, concurrency %d", r.name, c)
		}
		cpu1, err := cpuTime(srv.pid(), ticks)
		if err != nil {
			return nil, nil, err
		}
		hwm, err := peakRSS(srv.pid())
		if err != nil {
			return nil, nil, err
		}
		res := result{
			function: function, request: r.name, resources: len(rsp.GetDesired().GetResources()), concurrency: c,
			calls: len(lr.latencies), wall: lr.wall,
			p50: percentile(lr.latencies, 50), p99: percentile(lr.latencies, 99),
			cpuPerCall: perCall(cpu1-cpu0, len(lr.latencies)), floor: fl, reqDecode: dec,
			reqBytes: len(r.encoded), rspBytes: size, peakRSS: hwm, peakAnon: anon, peakFile: file,
		}
		fmt.Printf("  %s %s, concurrency %d: %d calls in %.1f s, p99 %s, CPU/request %s\n",
			function, r.name, c, res.calls, res.wall.Seconds(), ms(res.p99), ms(res.cpuPerCall))
		rs = append(rs, res)
	}
	return rsp, rs, nil
}

// dial returns a client of the server at addr, taking responses of any size the goals care about.
func dial(addr string) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)))
	return conn, errors.Wrap(err, "cannot create a gRPC client")
}

// requests builds the first pass and the ready reconcile, and encodes each once.
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
	rs := []request{{name: firstPass}, {name: "ready"}}
	for i, obs := range [][]byte{nil, observed} {
		if rs[i].req, err = buildRequest(xr, comp, obs, o.function); err != nil {
			return nil, errors.Wrapf(err, "cannot build the %s request", rs[i].name)
		}
		if rs[i].encoded, err = proto.Marshal(rs[i].req); err != nil {
			return nil, errors.Wrapf(err, "cannot encode the %s request", rs[i].name)
		}
	}
	cached := rs[1]
	cached.name, cached.repeated = readyRepeated, true
	return append(rs, cached), nil
}

// only keeps the named requests, in their order; all of them when names is empty.
func only(reqs []request, names string) ([]request, error) {
	if names == "" {
		return reqs, nil
	}
	var out []request
	for n := range strings.SplitSeq(names, ",") {
		i := slices.IndexFunc(reqs, func(r request) bool { return r.name == strings.TrimSpace(n) })
		if i < 0 {
			return nil, errors.Errorf("-only: no request %q; there are first-pass, ready and ready-repeated", n)
		}
		out = append(out, reqs[i])
	}
	return out, nil
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
