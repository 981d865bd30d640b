package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"

	"github.com/pgdr/function-postgres-dr/fn"
)

// testPKI writes a CA and a server certificate for 127.0.0.1 in the layout the function reads
// (ca.crt, tls.crt, tls.key) and returns the dir and a client certificate signed by the CA.
func testPKI(t *testing.T) (string, tls.Certificate, *x509.CertPool) {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage},
			KeyUsage: x509.KeyUsageDigitalSignature,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	pemKey := func(k *ecdsa.PrivateKey) []byte {
		b, _ := x509.MarshalECPrivateKey(k)
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: b})
	}
	pemCert := func(der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}) }
	srvDER, srvKey := issue(2, "function", x509.ExtKeyUsageServerAuth)
	for name, b := range map[string][]byte{"ca.crt": pemCert(caDER), "tls.crt": pemCert(srvDER), "tls.key": pemKey(srvKey)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cliDER, cliKey := issue(3, "crossplane", x509.ExtKeyUsageClientAuth)
	client, err := tls.X509KeyPair(pemCert(cliDER), pemKey(cliKey))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return dir, client, pool
}

// freeAddr returns a loopback address with a port free a moment ago: function.Serve listens on
// an address, not a listener.
func freeAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	if err := lis.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// serve serves the CLI's function on a free loopback port until the returned cancel, and waits
// until it accepts connections.
func serve(t *testing.T, c *CLI) (string, context.CancelFunc, chan error) {
	t.Helper()
	c.Network, c.Address = "tcp", freeAddr(t)
	if c.ReadyTTL == 0 {
		c.ReadyTTL, c.ConvergingTTL = fn.DefaultReadyTTL, fn.DefaultConvergingTTL
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Serve(ctx, logging.NewNopLogger()) }()
	t.Cleanup(cancel)
	for deadline := time.Now().Add(10 * time.Second); ; {
		conn, err := net.Dial("tcp", c.Address)
		if err == nil {
			_ = conn.Close()
			return c.Address, cancel, done
		}
		select {
		case err := <-done:
			t.Fatalf("Serve: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the function does not listen on %s: %v", c.Address, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func checkHealth(addr string, creds credentials.TransportCredentials) (healthgrpc.HealthCheckResponse_ServingStatus, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	rsp, err := healthgrpc.NewHealthClient(conn).Check(ctx, &healthgrpc.HealthCheckRequest{})
	return rsp.GetStatus(), err
}

func TestServeMTLS(t *testing.T) {
	dir, client, pool := testPKI(t)
	addr, cancel, done := serve(t, &CLI{TLSServerCertsDir: dir, MaxRecvMessageSize: 4, ShutdownTimeout: time.Second})

	cases := map[string]struct {
		reason string
		creds  credentials.TransportCredentials
		wantOK bool
	}{
		"ClientCert": {
			reason: "A client with a certificate from the CA is served, and health reports SERVING.",
			creds:  credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{client}, RootCAs: pool, MinVersion: tls.VersionTLS12}),
			wantOK: true,
		},
		"NoClientCert": {
			reason: "A TLS client without a certificate is refused: mTLS, not just TLS.",
			creds:  credentials.NewTLS(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}),
		},
		"Plaintext": {
			reason: "A plaintext client is refused.",
			creds:  insecure.NewCredentials(),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			st, err := checkHealth(addr, tc.creds)
			if tc.wantOK && (err != nil || st != healthgrpc.HealthCheckResponse_SERVING) {
				t.Errorf("\n%s\nhealth: %v %v, want SERVING", tc.reason, st, err)
			}
			if !tc.wantOK && err == nil {
				t.Errorf("\n%s\nhealth answered %v, want the connection refused", tc.reason, st)
			}
		})
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after shutdown: %v, want nil (graceful stop)", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("Serve did not return within 5s of the shutdown signal")
	}
}

func TestServeRefusesBadFlags(t *testing.T) {
	cases := map[string]struct {
		reason string
		cli    CLI
		want   string
	}{
		"NoCreds": {
			reason: "Neither certificates nor --insecure: the function refuses to serve.",
			cli:    CLI{MaxRecvMessageSize: 4, ReadyTTL: time.Minute, ConvergingTTL: time.Minute},
			want:   "give --tls-server-certs-dir",
		},
		"MissingDir": {
			reason: "A certificates dir without the files names what is missing.",
			cli:    CLI{TLSServerCertsDir: "/nonexistent", MaxRecvMessageSize: 4, ReadyTTL: time.Minute, ConvergingTTL: time.Minute},
			want:   "cannot load X509 keypair",
		},
		"ZeroMessageSize": {
			reason: "A zero message size is refused.",
			cli:    CLI{Insecure: true, ReadyTTL: time.Minute, ConvergingTTL: time.Minute},
			want:   "--max-recv-message-size must be at least 1 MiB",
		},
		"ZeroTTL": {
			reason: "A TTL must be positive: zero would leave the requeue to the SDK's default.",
			cli:    CLI{Insecure: true, MaxRecvMessageSize: 4, ReadyTTL: time.Minute},
			want:   "--converging-ttl (0s) must be positive",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tc.cli.Network, tc.cli.Address = "tcp", freeAddr(t)
			err := tc.cli.Serve(context.Background(), logging.NewNopLogger())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("\n%s\nServe: %v, want an error containing %q", tc.reason, err, tc.want)
			}
		})
	}
}

// TestServeRuns sends the example XR's first pass to the served function: the answer is the
// function's, and the SDK's metrics endpoint counts the call.
func TestServeRuns(t *testing.T) {
	xr, input := readYAML(t, "examples/xr.yaml"), compositionInput(t)
	req := &fnv1.RunFunctionRequest{
		Meta:     &fnv1.RequestMeta{Tag: "first-pass"},
		Input:    mustStruct(t, input),
		Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: mustStruct(t, xr)}},
	}
	f, err := fn.NewFunction(logging.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	want, err := f.RunFunction(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}

	metrics := freeAddr(t)
	addr, _, _ := serve(t, &CLI{Insecure: true, MaxRecvMessageSize: 4, MetricsAddress: metrics, ShutdownTimeout: time.Second})
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	got, err := fnv1.NewFunctionRunnerServiceClient(conn).RunFunction(t.Context(), req)
	if err != nil {
		t.Fatalf("RunFunction: %v", err)
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("the served answer is not the function's: -want, +got:\n%s", diff)
	}
	rsp, err := http.Get("http://" + metrics + "/metrics") //nolint:noctx // A test's one request.
	if err != nil {
		t.Fatalf("metrics endpoint: %v", err)
	}
	defer rsp.Body.Close()
	body, _ := io.ReadAll(rsp.Body)
	wantLine := `grpc_server_handled_total{grpc_code="OK",grpc_method="RunFunction",grpc_service="apiextensions.fn.proto.v1.FunctionRunnerService",grpc_type="unary"} 1`
	if !strings.Contains(string(body), wantLine) {
		t.Errorf("the metrics endpoint does not count the call: want a line %q in\n%s", wantLine, body)
	}
}

// slowRunner answers after a delay, so that a request is in flight when the server stops.
type slowRunner struct {
	fnv1.UnimplementedFunctionRunnerServiceServer

	delay time.Duration
}

func (s slowRunner) RunFunction(_ context.Context, req *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error) {
	time.Sleep(s.delay)
	return &fnv1.RunFunctionResponse{Meta: &fnv1.ResponseMeta{Tag: req.GetMeta().GetTag()}}, nil
}

func TestDrain(t *testing.T) {
	cases := map[string]struct {
		reason    string
		delay     time.Duration
		timeout   time.Duration
		wantDrain bool
	}{
		"InFlightFinishes": {
			reason:    "A request in flight at the shutdown is answered, and Drain reports all finished.",
			delay:     200 * time.Millisecond,
			timeout:   5 * time.Second,
			wantDrain: true,
		},
		"Timeout": {
			reason:  "A request slower than the shutdown timeout is left: Drain reports it.",
			delay:   2 * time.Second,
			timeout: 100 * time.Millisecond,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := newDrain(slowRunner{delay: tc.delay})
			answered := make(chan error, 1)
			go func() {
				_, err := d.RunFunction(t.Context(), &fnv1.RunFunctionRequest{Meta: &fnv1.RequestMeta{Tag: "in-flight"}})
				answered <- err
			}()
			time.Sleep(50 * time.Millisecond)
			if got := d.Drain(tc.timeout); got != tc.wantDrain {
				t.Errorf("\n%s\nDrain() = %v, want %v", tc.reason, got, tc.wantDrain)
			}
			if _, err := d.RunFunction(t.Context(), &fnv1.RunFunctionRequest{}); status.Code(err) != codes.Unavailable {
				t.Errorf("\n%s\na request after Drain: %v, want UNAVAILABLE", tc.reason, err)
			}
			if err := <-answered; err != nil {
				t.Errorf("\n%s\nthe request in flight: %v, want its answer", tc.reason, err)
			}
		})
	}
}

func TestResolvePort(t *testing.T) {
	cases := map[string]struct {
		reason          string
		network, addr   string
		wantSame, wantP bool
	}{
		"PortZero": {
			reason:  "Port 0 becomes a free port, so the log can say where the function listens.",
			network: "tcp", addr: "127.0.0.1:0",
			wantP: true,
		},
		"Port": {
			reason:  "A given port stays.",
			network: "tcp", addr: "127.0.0.1:9443",
			wantSame: true,
		},
		"Unix": {
			reason:  "A unix socket is not a port.",
			network: "unix", addr: "/tmp/fn.sock",
			wantSame: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := resolvePort(tc.network, tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantSame && got != tc.addr {
				t.Errorf("\n%s\nresolvePort(%q) = %q, want it unchanged", tc.reason, tc.addr, got)
			}
			if tc.wantP {
				if _, port, _ := net.SplitHostPort(got); port == "0" || port == "" {
					t.Errorf("\n%s\nresolvePort(%q) = %q, want a port", tc.reason, tc.addr, got)
				}
			}
		})
	}
}
