package rpc

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

func encode(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRequestTag(t *testing.T) {
	xr, _ := structpb.NewStruct(map[string]any{"apiVersion": "pgdr.io/v1alpha1", "kind": "XPostgresDR"})
	tagged := encode(t, &fnv1.RunFunctionRequest{
		Meta:     &fnv1.RequestMeta{Tag: "abc", Capabilities: []fnv1.Capability{fnv1.Capability_CAPABILITY_CAPABILITIES}},
		Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: xr}},
	})
	metaOnly := func(tag string) []byte {
		m := protowire.AppendTag(nil, fieldMetaTag, protowire.BytesType)
		m = protowire.AppendString(m, tag)
		return protowire.AppendBytes(protowire.AppendTag(nil, fieldRequestMeta, protowire.BytesType), m)
	}
	emptyMeta := protowire.AppendBytes(protowire.AppendTag(nil, fieldRequestMeta, protowire.BytesType), nil)
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	cases := map[string]struct {
		reason string
		b      []byte
		want   string
	}{
		"Empty":         {"An empty request has no tag.", nil, ""},
		"NoMeta":        {"A request without meta has no tag.", encode(t, &fnv1.RunFunctionRequest{Observed: &fnv1.State{}}), ""},
		"Tagged":        {"The tag is found among other fields.", tagged, "abc"},
		"LastMetaWins":  {"A later meta's tag replaces an earlier one, as merging does.", cat(metaOnly("one"), metaOnly("two")), "two"},
		"UntaggedLater": {"A later meta without a tag leaves the earlier tag, as merging does.", cat(metaOnly("one"), emptyMeta), "one"},
		"Truncated":     {"A truncated request has no tag we trust.", tagged[:len(tagged)-3], ""},
		"TruncatedMeta": {"A truncated meta has no tag.", metaOnly("abc")[:4], ""},
		"InvalidUTF8":   {"A tag that is not UTF-8 is refused by proto.Unmarshal, so it is not a tag.", metaOnly("\xff\xfe"), ""},
		"BadWireType":   {"A malformed field ends the scan without a tag.", []byte{0x0f}, ""},
		"UnknownGroup":  {"An unknown group field is skipped, as proto.Unmarshal keeps it as unknown.", cat([]byte{0x9b, 0x06, 0x08, 0x01, 0x9c, 0x06}, metaOnly("g")), "g"},
		"EmptyMetaLast": {"An empty meta at the very end is read without running off the end.", cat(metaOnly("x"), emptyMeta), "x"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, RequestTag(tc.b)); diff != "" {
				t.Errorf("\n%s\nRequestTag(...): -want, +got:\n%s", tc.reason, diff)
			}
			// The same bytes in one-byte buffers: every field and the tag itself cut apart.
			var ones [][]byte
			for i := range tc.b {
				ones = append(ones, tc.b[i:i+1])
			}
			if diff := cmp.Diff(tc.want, requestTag(newChunks(ones))); diff != "" {
				t.Errorf("\n%s\nrequestTag(one-byte buffers): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// FuzzRequestTag checks that RequestTag agrees with proto.Unmarshal on every request that
// decodes: the cache must never key a request by anything but its real tag.
func FuzzRequestTag(f *testing.F) {
	f.Add(encode(f, &fnv1.RunFunctionRequest{Meta: &fnv1.RequestMeta{Tag: "abc"}}))
	f.Add(encode(f, &fnv1.RunFunctionRequest{Meta: &fnv1.RequestMeta{Tag: "abc"}, Desired: &fnv1.State{}}))
	f.Add([]byte{0x0a, 0x05, 0x0a, 0x03, 'a', 'b', 'c', 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		req := &fnv1.RunFunctionRequest{}
		if err := proto.Unmarshal(b, req); err != nil {
			return
		}
		want := req.GetMeta().GetTag()
		if got := RequestTag(b); got != want {
			t.Errorf("RequestTag(%x) = %q, proto.Unmarshal says %q", b, got, want)
		}
		// gRPC hands a request over in buffers of any size: cut it in three.
		i, j := len(b)/3, 2*len(b)/3
		if got := requestTag(newChunks([][]byte{b[:i], b[i:j], b[j:]})); got != want {
			t.Errorf("requestTag(%x in three) = %q, proto.Unmarshal says %q", b, got, want)
		}
	})
}
