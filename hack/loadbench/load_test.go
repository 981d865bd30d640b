package main

import (
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"

	"github.com/pgdr/function-postgres-dr/fn"
)

// recorder serves a function and records the tags of the requests it was sent, and whether each
// request was, its tag aside, the one wanted.
type recorder struct {
	fnv1.UnimplementedFunctionRunnerServiceServer

	wrapped fnv1.FunctionRunnerServiceServer
	want    *fnv1.RunFunctionRequest

	mu    sync.Mutex
	tags  []string
	other int
}

// RunFunction records the request and runs the wrapped function.
func (r *recorder) RunFunction(ctx context.Context, req *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error) {
	untagged := proto.CloneOf(req)
	untagged.Meta = nil
	r.mu.Lock()
	r.tags = append(r.tags, req.GetMeta().GetTag())
	if !proto.Equal(untagged, r.want) {
		r.other++
	}
	r.mu.Unlock()
	return r.wrapped.RunFunction(ctx, req)
}

// TestRunLoad sends the example first pass through the raw codec to the real function served
// over gRPC on a loopback port: every call must count and carry a tag of its own, and a response
// of another size than expected must fail the run.
func TestRunLoad(t *testing.T) {
	read := func(p string) []byte {
		b, err := os.ReadFile("../../" + p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	req, err := buildRequest(read("examples/xr.yaml"), read("apis/composition.yaml"), nil, "function-postgres-dr")
	if err != nil {
		t.Fatal(err)
	}
	untagged, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	f, err := fn.NewFunction(logging.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	rec := &recorder{wrapped: f, want: req}
	fnv1.RegisterFunctionRunnerServiceServer(srv, rec)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })

	tagged := proto.CloneOf(req)
	tagged.Meta = &fnv1.RequestMeta{Tag: newTag()}
	rsp, err := fnv1.NewFunctionRunnerServiceClient(conn).RunFunction(t.Context(), tagged)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkResponse(rsp); err != nil {
		t.Fatal(err)
	}
	size := proto.Size(rsp)

	type want struct {
		calls int
		err   string
	}
	cases := map[string]struct {
		reason   string
		wantSize int
		bounds   bounds
		want     want
	}{
		"Calls": {
			reason:   "Six calls from two goroutines, each answered with the response's size.",
			wantSize: size,
			bounds:   bounds{calls: 6, time: time.Minute},
			want:     want{calls: 6},
		},
		"NoTime": {
			reason:   "A run of no time makes no call.",
			wantSize: size,
			bounds:   bounds{calls: 6},
		},
		"OtherSize": {
			reason:   "A response of another size is a different answer: the run fails.",
			wantSize: size + 1,
			bounds:   bounds{calls: 6, time: time.Minute},
			want:     want{err: "the first was"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rec.mu.Lock()
			rec.tags, rec.other = nil, 0
			rec.mu.Unlock()
			got, err := runLoad(t.Context(), conn, untagged, tc.wantSize, 2, tc.bounds)
			if tc.want.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want.err) {
					t.Fatalf("\n%s\nrunLoad(...): got error %v, want one containing %q", tc.reason, err, tc.want.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("\n%s\nrunLoad(...): %v", tc.reason, err)
			}
			if len(got.latencies) != tc.want.calls {
				t.Errorf("\n%s\nrunLoad(...): %d calls counted, want %d", tc.reason, len(got.latencies), tc.want.calls)
			}
			for _, d := range got.latencies {
				if d <= 0 || d > got.wall {
					t.Errorf("\n%s\nrunLoad(...): latency %s outside the run's %s", tc.reason, d, got.wall)
				}
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			seen := map[string]bool{tagged.GetMeta().GetTag(): true}
			for _, tag := range rec.tags {
				if len(tag) != 64 || seen[tag] {
					t.Errorf("\n%s\nrunLoad(...): sent tag %q: want 64 hex digits no call sent before", tc.reason, tag)
				}
				seen[tag] = true
			}
			if len(rec.tags) != tc.want.calls || rec.other != 0 {
				t.Errorf("\n%s\nrunLoad(...): the server saw %d calls, %d of them not the request built; want %d, all of it", tc.reason, len(rec.tags), rec.other, tc.want.calls)
			}
		})
	}
}
