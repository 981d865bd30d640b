package rpc

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/testing/protocmp"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

func TestCodecUnmarshal(t *testing.T) {
	req := &fnv1.RunFunctionRequest{Meta: &fnv1.RequestMeta{Tag: "abc"}}
	b := encode(t, req)
	split := mem.BufferSlice{mem.SliceBuffer(b[:3]), mem.SliceBuffer(b[3:])}
	cases := map[string]struct {
		reason string
		into   func() any
		want   any
	}{
		"Raw": {
			reason: "A *RawRequest holds the bytes of every buffer, undecoded, and finds the tag across them.",
			into:   func() any { return &RawRequest{} },
			want:   &RawRequest{},
		},
		"Proto": {
			reason: "Any other message is decoded as gRPC's codec would.",
			into:   func() any { return &fnv1.RunFunctionRequest{} },
			want:   req,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := tc.into()
			if err := NewCodec().Unmarshal(split, got); err != nil {
				t.Fatal(err)
			}
			if r, ok := got.(*RawRequest); ok {
				// The raw request holds gRPC's buffers; what matters is their bytes and tag.
				got = map[string]any{"bytes": r.Bytes(), "tag": r.Tag()}
				tc.want = map[string]any{"bytes": b, "tag": "abc"}
				r.Free()
			}
			if diff := cmp.Diff(tc.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("\n%s\nUnmarshal(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestCodecMarshal(t *testing.T) {
	rsp := &fnv1.RunFunctionResponse{Meta: &fnv1.ResponseMeta{Tag: "abc"}}
	b := encode(t, rsp)
	cases := map[string]struct {
		reason string
		v      any
		want   []byte
	}{
		"Raw":   {"A RawResponse is sent as it is.", RawResponse("not even protobuf"), []byte("not even protobuf")},
		"Proto": {"Any other message is encoded as gRPC's codec would.", rsp, b},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := NewCodec().Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got.Materialize()); diff != "" {
				t.Errorf("\n%s\nMarshal(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestCodecName(t *testing.T) {
	if got := NewCodec().Name(); got != "proto" {
		t.Errorf("Name() = %q: Crossplane's client sends content-subtype proto", got)
	}
}
