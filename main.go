// Package main is function-postgres-dr's command line: it serves the function over gRPC, with
// mTLS unless --insecure is given.
package main

import (
	"context"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/alecthomas/kong"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"

	function "github.com/crossplane/function-sdk-go"
	"github.com/crossplane/function-sdk-go/errors"
	"github.com/crossplane/function-sdk-go/logging"
	fnv1beta1 "github.com/crossplane/function-sdk-go/proto/v1beta1"

	"github.com/pgdr/function-postgres-dr/fn"
	"github.com/pgdr/function-postgres-dr/internal/rpc"
	"github.com/pgdr/function-postgres-dr/internal/wire"
)

// MiB is a mebibyte.
const MiB = 1 << 20

// CLI is the function's command line.
type CLI struct {
	Debug bool `help:"Emit debug logs in addition to info logs." short:"d"`

	Network            string        `default:"tcp"   help:"Network on which to listen for gRPC connections."`
	Address            string        `default:":9443" help:"Address at which to listen for gRPC connections."`
	TLSServerCertsDir  string        `env:"TLS_SERVER_CERTS_DIR" help:"Directory holding the server's tls.crt and tls.key and the ca.crt that client certificates must be signed by."`
	Insecure           bool          `help:"Serve without mTLS. Only for local development: Crossplane always uses mTLS."`
	MaxRecvMessageSize int           `default:"4" help:"Largest request accepted, in MiB."`
	MemoryLimit        int           `default:"48" help:"Soft memory limit of the Go runtime in MiB, kept by collecting garbage more often as the heap nears it; 0 for none. GOMEMLIMIT, when set, wins."`
	MaxConcurrentRuns  int           `default:"0" help:"Requests decoded, run and encoded at once; the others wait (answers from the cache do not). 0: one per processor the Go runtime uses (GOMAXPROCS), since more only add working sets to the heap."`
	TTL                time.Duration `default:"1m" help:"TTL of every response: with realtime compositions Crossplane reconciles a converged XR again after it, and the cache answers that reconcile when nothing changed. 0: the SDK's default, a minute."`
	CacheSize          int           `default:"16" help:"MiB of encoded responses kept to answer a request Crossplane sends again (same meta.tag) without running the function; 0 turns the cache off."`
	ShutdownTimeout    time.Duration `default:"10s" help:"How long in-flight requests may finish after SIGTERM."`
}

// Run serves the function until SIGTERM or SIGINT, then drains in-flight requests.
func (c *CLI) Run() error {
	log, err := function.NewLogger(c.Debug)
	if err != nil {
		return errors.Wrap(err, "cannot create logger")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	lis, err := (&net.ListenConfig{}).Listen(ctx, c.Network, c.Address)
	if err != nil {
		return errors.Wrapf(err, "cannot listen for %s connections at %q", c.Network, c.Address)
	}
	return c.Serve(ctx, log, lis)
}

// Serve serves the function on the listener until the context is done.
func (c *CLI) Serve(ctx context.Context, log logging.Logger, lis net.Listener) error {
	so := &function.ServeOptions{}
	for _, o := range []function.ServeOption{function.MTLSCertificates(c.TLSServerCertsDir), function.Insecure(c.Insecure)} {
		if err := o(so); err != nil {
			return errors.Wrap(err, "cannot load server credentials")
		}
	}
	if so.Credentials == nil {
		return errors.New("no credentials: give --tls-server-certs-dir (ca.crt, tls.crt, tls.key) or, for local development only, --insecure")
	}
	if c.MaxRecvMessageSize < 1 {
		return errors.Errorf("--max-recv-message-size must be at least 1 MiB, not %d", c.MaxRecvMessageSize)
	}
	if c.MemoryLimit < 0 {
		return errors.Errorf("--memory-limit must be 0 (none) or more MiB, not %d", c.MemoryLimit)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set && c.MemoryLimit > 0 {
		debug.SetMemoryLimit(int64(c.MemoryLimit) * MiB)
	}
	if c.MaxConcurrentRuns < 0 {
		return errors.Errorf("--max-concurrent-runs must be 0 (one per processor) or more, not %d", c.MaxConcurrentRuns)
	}
	runs := c.MaxConcurrentRuns
	if runs == 0 {
		runs = runtime.GOMAXPROCS(0)
	}
	if c.CacheSize < 0 {
		return errors.Errorf("--cache-size must be 0 (off) or more MiB, not %d", c.CacheSize)
	}
	if c.TTL < 0 {
		return errors.Errorf("--ttl must be positive, not %s", c.TTL)
	}
	var opts []fn.Option
	if c.TTL > 0 {
		opts = append(opts, fn.WithTTL(c.TTL))
	}
	f, err := fn.NewFunction(log, opts...)
	if err != nil {
		return errors.Wrap(err, "cannot create function")
	}
	srv := grpc.NewServer(grpc.Creds(so.Credentials), grpc.MaxRecvMsgSize(c.MaxRecvMessageSize*MiB), grpc.ForceServerCodecV2(rpc.NewCodec()),
		// A ready XR's request is ~300 KiB: windows and buffers that hold a whole one take it in
		// without waiting on flow control and in fewer reads (a cache hit costs ~20% less CPU).
		grpc.InitialWindowSize(1*MiB), grpc.InitialConnWindowSize(4*MiB), grpc.ReadBufferSize(256<<10), grpc.WriteBufferSize(256<<10))
	cache := rpc.NewCache(c.CacheSize * MiB)
	rpc.NewService(f,
		rpc.WithCache(cache),
		rpc.WithLogger(log),
		rpc.WithMaxConcurrentRuns(runs),
		rpc.WithCodecs(wire.UnmarshalRequest, wire.MarshalResponse),
	).Register(srv)
	fnv1beta1.RegisterFunctionRunnerServiceServer(srv, function.ServeBeta(f))
	hs := health.NewServer()
	healthgrpc.RegisterHealthServer(srv, hs)

	done := make(chan error, 1)
	go func() { done <- srv.Serve(lis) }()
	log.Info("Serving", "address", lis.Addr().String(), "insecure", c.Insecure)

	select {
	case err := <-done:
		return errors.Wrap(err, "cannot serve gRPC")
	case <-ctx.Done():
	}
	cs := cache.Stats()
	log.Info("Shutting down: draining in-flight requests", "timeout", c.ShutdownTimeout.String(),
		"cacheHits", cs.Hits, "cacheMisses", cs.Misses, "cacheEntries", cs.Entries, "cacheBytes", cs.Bytes)
	hs.Shutdown()
	stopped := make(chan struct{})
	go func() { srv.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(c.ShutdownTimeout):
		srv.Stop()
	}
	return nil
}

func main() {
	ctx := kong.Parse(&CLI{}, kong.Description("function-postgres-dr: PostgreSQL with a disaster-recovery copy in a second AWS region."))
	ctx.FatalIfErrorf(ctx.Run())
	os.Exit(0)
}
