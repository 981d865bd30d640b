package main

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// flushTime is how long Drain waits after the last handler returned, for gRPC to write its
// response: function.Serve keeps its server to itself, so there is no GracefulStop to call.
const flushTime = 200 * time.Millisecond

// drain serves a function until Drain: then it refuses new requests (UNAVAILABLE: Crossplane
// retries them on another replica or after the restart) and waits for the ones in flight.
type drain struct {
	fnv1.UnimplementedFunctionRunnerServiceServer

	wrapped fnv1.FunctionRunnerServiceServer

	mu       sync.Mutex
	draining bool
	inflight sync.WaitGroup
}

func newDrain(f fnv1.FunctionRunnerServiceServer) *drain {
	return &drain{wrapped: f}
}

// RunFunction runs the wrapped function unless the server is draining.
func (d *drain) RunFunction(ctx context.Context, req *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error) {
	d.mu.Lock()
	if d.draining {
		d.mu.Unlock()
		return nil, status.Error(codes.Unavailable, "the function is shutting down")
	}
	d.inflight.Add(1)
	d.mu.Unlock()
	defer d.inflight.Done()
	return d.wrapped.RunFunction(ctx, req)
}

// Drain refuses new requests and waits up to timeout for those in flight. It reports whether
// they all finished.
func (d *drain) Drain(timeout time.Duration) bool {
	d.mu.Lock()
	d.draining = true
	d.mu.Unlock()
	done := make(chan struct{})
	go func() { d.inflight.Wait(); close(done) }()
	select {
	case <-done:
		time.Sleep(flushTime)
		return true
	case <-time.After(timeout):
		return false
	}
}
