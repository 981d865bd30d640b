package rpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthgrpc "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// countingFn answers with the number of the call that computed the answer, so a cached answer
// shows which call it came from.
type countingFn struct {
	fnv1.UnimplementedFunctionRunnerServiceServer

	calls atomic.Int32
	err   error
}

func (f *countingFn) RunFunction(_ context.Context, req *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error) {
	n := f.calls.Add(1)
	if f.err != nil {
		return nil, f.err
	}
	return &fnv1.RunFunctionResponse{
		Meta:    &fnv1.ResponseMeta{Tag: req.GetMeta().GetTag()},
		Results: []*fnv1.Result{{Severity: fnv1.Severity_SEVERITY_NORMAL, Message: fmt.Sprintf("call %d", n)}},
	}, nil
}

// serveService serves the service and the health service on a free loopback port.
func serveService(t *testing.T, s *Service) *grpc.ClientConn {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.ForceServerCodecV2(NewCodec()))
	s.Register(srv)
	healthgrpc.RegisterHealthServer(srv, health.NewServer())
	go srv.Serve(lis) //nolint:errcheck // Stopped below.
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func TestService(t *testing.T) {
	type want struct {
		answers []string // each call's result message, or its gRPC code
		calls   int32
	}
	cases := map[string]struct {
		reason string
		fnErr  error
		cache  *Cache
		tags   []string
		want   want
	}{
		"RepeatedTag": {
			reason: "A request Crossplane sends a third time is answered from the cache (kept the second time) without running the function.",
			cache:  NewCache(1 << 20),
			tags:   []string{"a", "a", "a", "a"},
			want:   want{answers: []string{"call 1", "call 2", "call 2", "call 2"}, calls: 2},
		},
		"DifferentTags": {
			reason: "Requests with different tags each run the function; a kept one is still answered after them.",
			cache:  NewCache(1 << 20),
			tags:   []string{"a", "a", "b", "a"},
			want:   want{answers: []string{"call 1", "call 2", "call 3", "call 2"}, calls: 3},
		},
		"NoTag": {
			reason: "A request without a tag always runs the function.",
			cache:  NewCache(1 << 20),
			tags:   []string{"", ""},
			want:   want{answers: []string{"call 1", "call 2"}, calls: 2},
		},
		"CacheOff": {
			reason: "Without a cache every request runs the function.",
			tags:   []string{"a", "a"},
			want:   want{answers: []string{"call 1", "call 2"}, calls: 2},
		},
		"ErrorNotCached": {
			reason: "A function error reaches the client and is not cached.",
			fnErr:  status.Error(codes.Unavailable, "boom"),
			cache:  NewCache(1 << 20),
			tags:   []string{"a", "a"},
			want:   want{answers: []string{codes.Unavailable.String(), codes.Unavailable.String()}, calls: 2},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := &countingFn{err: tc.fnErr}
			client := fnv1.NewFunctionRunnerServiceClient(serveService(t, NewService(f, WithCache(tc.cache))))
			got := want{}
			for _, tag := range tc.tags {
				rsp, err := client.RunFunction(t.Context(), &fnv1.RunFunctionRequest{Meta: &fnv1.RequestMeta{Tag: tag}})
				if err != nil {
					got.answers = append(got.answers, status.Code(err).String())
					continue
				}
				got.answers = append(got.answers, rsp.GetResults()[0].GetMessage())
			}
			got.calls = f.calls.Load()
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("\n%s\nRunFunction: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestServiceRefusesUndecodable(t *testing.T) {
	f := &countingFn{}
	conn := serveService(t, NewService(f, WithCache(NewCache(1<<20))))
	// Our codec sends a RawResponse as it is: here, bytes that are not a RunFunctionRequest.
	err := conn.Invoke(t.Context(), fnv1.FunctionRunnerService_RunFunction_FullMethodName, RawResponse{0x0a, 0x05, 0x0a},
		&fnv1.RunFunctionResponse{}, grpc.ForceCodecV2(NewCodec()))
	if got := status.Code(err); got != codes.InvalidArgument || f.calls.Load() != 0 {
		t.Errorf("undecodable request: got %v (%v) after %d calls, want InvalidArgument without running the function", got, err, f.calls.Load())
	}
}

func TestServiceHealth(t *testing.T) {
	conn := serveService(t, NewService(&countingFn{}))
	rsp, err := healthgrpc.NewHealthClient(conn).Check(t.Context(), &healthgrpc.HealthCheckRequest{})
	if err != nil || rsp.GetStatus() != healthgrpc.HealthCheckResponse_SERVING {
		t.Errorf("health through the codec: %v, %v; want SERVING", rsp.GetStatus(), err)
	}
}

func TestServiceCodecs(t *testing.T) {
	decoded, encoded := 0, 0
	s := NewService(&countingFn{}, WithCodecs(
		func(b []byte, req *fnv1.RunFunctionRequest) error { decoded++; return NewService(nil).decode(b, req) },
		func(rsp *fnv1.RunFunctionResponse) ([]byte, error) { encoded++; return nil, errors.New("no") },
	))
	_, err := s.Run(t.Context(), NewRawRequest(encode(t, &fnv1.RunFunctionRequest{})))
	if status.Code(err) != codes.Internal || decoded != 1 || encoded != 1 {
		t.Errorf("Run with codecs: %v, decoded %d, encoded %d; want Internal after one of each", err, decoded, encoded)
	}
}

// blockingFn runs until released, counting how many run at once.
type blockingFn struct {
	fnv1.UnimplementedFunctionRunnerServiceServer

	running, most atomic.Int32
	release       chan struct{}
}

func (f *blockingFn) RunFunction(_ context.Context, _ *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error) {
	n := f.running.Add(1)
	defer f.running.Add(-1)
	for {
		m := f.most.Load()
		if n <= m || f.most.CompareAndSwap(m, n) {
			break
		}
	}
	<-f.release
	return &fnv1.RunFunctionResponse{}, nil
}

func TestServiceMaxConcurrentRuns(t *testing.T) {
	cases := map[string]struct {
		reason string
		limit  int
		calls  int
		want   int32
	}{
		"Limited":   {"Six calls at once with two slots: at most two run at once.", 2, 6, 2},
		"Unlimited": {"Without a limit all six run at once.", 0, 6, 6},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := &blockingFn{release: make(chan struct{})}
			s := NewService(f, WithMaxConcurrentRuns(tc.limit))
			done := make(chan error, tc.calls)
			for range tc.calls {
				go func() {
					_, err := s.Run(t.Context(), NewRawRequest(nil))
					done <- err
				}()
			}
			// Wait until as many run as may, then let them all finish.
			for f.running.Load() < min(int32(tc.calls), tc.want) {
				runtime.Gosched()
			}
			close(f.release)
			for range tc.calls {
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			}
			if got := f.most.Load(); got != tc.want {
				t.Errorf("\n%s\nat most %d ran at once, want %d", tc.reason, got, tc.want)
			}
		})
	}
}

func TestServiceWaitCancelled(t *testing.T) {
	f := &blockingFn{release: make(chan struct{})}
	defer close(f.release)
	s := NewService(f, WithMaxConcurrentRuns(1))
	go s.Run(t.Context(), NewRawRequest(nil)) //nolint:errcheck // Holds the only slot until released.
	for f.running.Load() < 1 {
		runtime.Gosched()
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Run(ctx, NewRawRequest(nil)); status.Code(err) != codes.Canceled {
		t.Errorf("a cancelled wait for a slot: %v, want Canceled", err)
	}
}
