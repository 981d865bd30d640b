package fn

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"

	"github.com/pgdr/function-postgres-dr/internal/wire"
)

// BenchmarkRunFunction measures a reconcile of the example XR: a first pass (nothing observed)
// and one with the whole graph observed ready. Served adds decoding the request and encoding the
// response, as the server does. ProtoFloor is the cost of encoding the response once and
// decoding it once with protobuf-go: what gRPC spends on it anyway, the yardstick of the goals.
func BenchmarkRunFunction(b *testing.B) {
	t := &testing.T{}
	ready := converge(t, testInput, testXR(testSpec), 0)
	cases := map[string]*fnv1.RunFunctionRequest{
		"FirstPass": newRequest(testInput, testXR(testSpec), nil),
		"Ready":     newRequest(testInput, testXR(testSpec), ready),
	}
	f, err := NewFunction(logging.NewNopLogger())
	if err != nil {
		b.Fatal(err)
	}
	for name, req := range cases {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var rsp *fnv1.RunFunctionResponse
			for b.Loop() {
				rsp, err = f.RunFunction(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(proto.Size(rsp)), "response-bytes")
			b.ReportMetric(float64(len(rsp.GetDesired().GetResources())), "resources")
		})
		b.Run(name+"/Served", func(b *testing.B) {
			// What the server spends on a request the cache cannot answer: decode it, run the
			// function, encode the response, with internal/wire's codecs.
			in, err := proto.Marshal(req)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				r := &fnv1.RunFunctionRequest{}
				if err := wire.UnmarshalRequest(in, r); err != nil {
					b.Fatal(err)
				}
				rsp, err := f.RunFunction(context.Background(), r)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := wire.MarshalResponse(rsp); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/ProtoFloor", func(b *testing.B) {
			rsp, _ := f.RunFunction(context.Background(), req)
			b.ReportAllocs()
			for b.Loop() {
				buf, err := proto.Marshal(rsp)
				if err != nil {
					b.Fatal(err)
				}
				if err := proto.Unmarshal(buf, &fnv1.RunFunctionResponse{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
