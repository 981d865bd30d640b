package main

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"

	"github.com/pgdr/function-postgres-dr/fn"
	"github.com/pgdr/function-postgres-dr/internal/rpc"
)

// TestRunLoad sends the example first pass, encoded once, through the raw codec to the real
// function served over gRPC on a loopback port: every call must count, and a response of
// another size than expected must fail the run.
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
	encoded, err := proto.Marshal(req)
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
	srv := grpc.NewServer(grpc.ForceServerCodecV2(rpc.NewCodec()))
	cache := rpc.NewCache(64 << 20)
	rpc.NewService(f, rpc.WithCache(cache)).Register(srv)
	go srv.Serve(lis) //nolint:errcheck // Stopped below.
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })

	rsp, err := fnv1.NewFunctionRunnerServiceClient(conn).RunFunction(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkResponse(rsp); err != nil {
		t.Fatal(err)
	}
	size := proto.Size(rsp)

	cases := map[string]struct {
		reason     string
		uniqueFrom string
		wantSize   int
		wantCalls  int
		wantKept   int // responses the cache keeps after the run
		wantErr    string
	}{
		"Repeated": {
			reason:    "Six calls from two goroutines of the request already sent once, each answered with the response's size: the cache keeps it on its second sighting.",
			wantSize:  size,
			wantCalls: 6,
			wantKept:  1,
		},
		"Unique": {
			reason:     "Six calls, each with a tag never sent before: none is answered from the cache, none kept.",
			uniqueFrom: req.GetMeta().GetTag(),
			wantSize:   size,
			wantCalls:  6,
		},
		"OtherSize": {
			reason:   "A response of another size is a different answer: the run fails.",
			wantSize: size + 1,
			wantErr:  "the first was",
		},
		"NoSuchTag": {
			reason:     "A tag the request does not hold cannot be replaced.",
			uniqueFrom: "not-the-tag",
			wantSize:   size,
			wantErr:    "does not hold its tag",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := cache.Stats().Entries
			got, err := runLoad(t.Context(), conn, encoded, tc.uniqueFrom, tc.wantSize, 2, bounds{calls: 6, time: time.Minute})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("\n%s\nrunLoad(...): got error %v, want one containing %q", tc.reason, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("\n%s\nrunLoad(...): %v", tc.reason, err)
			}
			if len(got.latencies) != tc.wantCalls {
				t.Errorf("\n%s\nrunLoad(...): %d calls counted, want %d", tc.reason, len(got.latencies), tc.wantCalls)
			}
			if n := cache.Stats().Entries - before; n != tc.wantKept {
				t.Errorf("\n%s\nrunLoad(...): the cache kept %d responses, want %d", tc.reason, n, tc.wantKept)
			}
			for _, d := range got.latencies {
				if d <= 0 || d > got.wall {
					t.Errorf("\n%s\nrunLoad(...): latency %s outside the run's %s", tc.reason, d, got.wall)
				}
			}
		})
	}
}
