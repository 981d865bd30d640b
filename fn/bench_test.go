package fn

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/crossplane/function-sdk-go/logging"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// BenchmarkRunFunction measures a reconcile of the example XR: a first pass (nothing observed)
// and one with the whole graph observed ready. Served adds what gRPC spends on the request and
// the response with protobuf-go: decoding the one, encoding the other.
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
			in, err := proto.Marshal(req)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				r := &fnv1.RunFunctionRequest{}
				if err := proto.Unmarshal(in, r); err != nil {
					b.Fatal(err)
				}
				rsp, err := f.RunFunction(context.Background(), r)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := proto.Marshal(rsp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
