// Package main is function-postgres-dr's command line: it serves the function over gRPC with the
// SDK's server, with mTLS unless --insecure is given.
package main

import (
	"context"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/health"

	function "github.com/crossplane/function-sdk-go"
	"github.com/crossplane/function-sdk-go/errors"
	"github.com/crossplane/function-sdk-go/logging"

	"github.com/pgdr/function-postgres-dr/fn"
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
	MetricsAddress     string        `default:":8080" help:"Address of the Prometheus metrics endpoint (gRPC request counts and latencies); empty turns it off."`
	ReadyTTL           time.Duration `default:"10m" help:"TTL of a response once the whole graph is Ready and nothing is withheld: Crossplane reconciles a converged XR again after it (a composed resource's change still triggers a reconcile at once)."`
	ConvergingTTL      time.Duration `default:"30s" help:"TTL of a response while anything is withheld, not Ready, or failing over."`
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
	return c.Serve(ctx, log)
}

// Serve serves the function with function.Serve until the context is done, then stops taking
// requests and waits up to --shutdown-timeout for the ones in flight.
func (c *CLI) Serve(ctx context.Context, log logging.Logger) error {
	if c.TLSServerCertsDir == "" && !c.Insecure {
		return errors.New("no credentials: give --tls-server-certs-dir (ca.crt, tls.crt, tls.key) or, for local development only, --insecure")
	}
	if c.MaxRecvMessageSize < 1 {
		return errors.Errorf("--max-recv-message-size must be at least 1 MiB, not %d", c.MaxRecvMessageSize)
	}
	if c.ReadyTTL <= 0 || c.ConvergingTTL <= 0 {
		return errors.Errorf("--ready-ttl (%s) and --converging-ttl (%s) must be positive", c.ReadyTTL, c.ConvergingTTL)
	}
	f, err := fn.NewFunction(log, fn.WithTTLs(c.ReadyTTL, c.ConvergingTTL))
	if err != nil {
		return errors.Wrap(err, "cannot create function")
	}
	addr, err := resolvePort(c.Network, c.Address)
	if err != nil {
		return err
	}
	hs := health.NewServer()
	d := newDrain(f)
	done := make(chan error, 1)
	go func() {
		done <- function.Serve(d,
			function.Listen(c.Network, addr),
			function.MTLSCertificates(c.TLSServerCertsDir),
			function.Insecure(c.Insecure),
			function.MaxRecvMessageSize(c.MaxRecvMessageSize*MiB),
			function.WithHealthServer(hs),
			function.WithMetricsServer(c.MetricsAddress),
			// Its own registry: the default one would refuse a second server's metrics.
			function.WithMetricsRegistry(prometheus.NewRegistry()),
		)
	}()
	log.Info("Serving", "address", addr, "insecure", c.Insecure, "metrics", c.MetricsAddress)

	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	// function.Serve has no stop: refuse new requests, report NOT_SERVING, and return once the
	// requests in flight are answered. The process exits after Serve returns.
	log.Info("Shutting down: draining in-flight requests", "timeout", c.ShutdownTimeout.String())
	hs.Shutdown()
	if !d.Drain(c.ShutdownTimeout) {
		log.Info("Requests still in flight at the shutdown timeout")
	}
	return nil
}

// resolvePort turns a TCP address with port 0 into one with a port that was free a moment ago, so
// that the log can say where the function listens: function.Serve listens itself and does not
// tell.
func resolvePort(network, address string) (string, error) {
	if _, port, err := net.SplitHostPort(address); err != nil || port != "0" || !strings.HasPrefix(network, "tcp") {
		return address, nil //nolint:nilerr // Not a TCP address with port 0: function.Serve says what is wrong with it.
	}
	l, err := (&net.ListenConfig{}).Listen(context.Background(), network, address)
	if err != nil {
		return "", errors.Wrapf(err, "cannot find a free port for %q", address)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", errors.Wrap(err, "cannot release the free port")
	}
	return addr, nil
}

func main() {
	ctx := kong.Parse(&CLI{}, kong.Description("function-postgres-dr: PostgreSQL with a disaster-recovery copy in a second AWS region."))
	ctx.FatalIfErrorf(ctx.Run())
	os.Exit(0)
}
