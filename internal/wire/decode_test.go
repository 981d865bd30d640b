package wire

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// The fixtures, relative to this package.
const (
	fixtureXR          = "../../examples/xr.yaml"
	fixtureComposition = "../../apis/composition.yaml"
	fixtureObserved    = "../../examples/observed"
	fixtureFunction    = "function-postgres-dr"
)

// fixtureStages are the observed fixtures, in the order a claim goes through them; "" is the
// first pass, with nothing observed.
var fixtureStages = []string{"", "pass2", "pass3", "ready", "promoted"} //nolint:gochecknoglobals // A constant list.

// diff is cmp.Diff(want, got, protocmp.Transform()), a NaN equal to a NaN; proto.Equal first,
// since cmp takes minutes on deeply nested messages.
func diff(want, got proto.Message) string {
	if proto.Equal(want, got) {
		return ""
	}
	return cmp.Diff(want, got, protocmp.Transform(), cmpopts.EquateNaNs())
}

// readFixture returns a fixture's bytes.
func readFixture(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// yamlStructs converts the documents of a YAML stream into Structs, skipping empty ones.
func yamlStructs(tb testing.TB, stream []byte) []*structpb.Struct {
	tb.Helper()
	var out []*structpb.Struct
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			tb.Fatal(err)
		}
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			tb.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(j, &m); err != nil {
			tb.Fatal(err)
		}
		if m == nil {
			continue
		}
		s, err := structpb.NewStruct(m)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, s)
	}
}

// observedFixture returns the composed resources of an observed fixture ("" for none), keyed by
// their composition-resource-name annotation, as Crossplane sends them.
func observedFixture(tb testing.TB, stage string) map[string]*fnv1.Resource {
	tb.Helper()
	out := map[string]*fnv1.Resource{}
	if stage == "" {
		return out
	}
	for _, s := range yamlStructs(tb, readFixture(tb, filepath.Join(fixtureObserved, stage+".yaml"))) {
		name := s.GetFields()["metadata"].GetStructValue().GetFields()["annotations"].GetStructValue().GetFields()["crossplane.io/composition-resource-name"].GetStringValue()
		if name == "" {
			tb.Fatalf("observed fixture %s: a resource without a composition-resource-name", stage)
		}
		out[name] = &fnv1.Resource{Resource: s, Ready: fnv1.Ready_READY_TRUE}
	}
	return out
}

// fixtureRequest builds the RunFunctionRequest Crossplane sends the function for the example XR
// with the composed resources of the observed fixture stage ("" for none).
func fixtureRequest(tb testing.TB, stage string) *fnv1.RunFunctionRequest {
	tb.Helper()
	var comp struct {
		Spec struct {
			Pipeline []struct {
				FunctionRef struct {
					Name string `json:"name"`
				} `json:"functionRef"`
				Input map[string]any `json:"input"`
			} `json:"pipeline"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(readFixture(tb, fixtureComposition), &comp); err != nil {
		tb.Fatal(err)
	}
	var input *structpb.Struct
	for _, s := range comp.Spec.Pipeline {
		if s.FunctionRef.Name != fixtureFunction {
			continue
		}
		var err error
		if input, err = structpb.NewStruct(s.Input); err != nil {
			tb.Fatal(err)
		}
	}
	if input == nil {
		tb.Fatalf("%s calls no %s", fixtureComposition, fixtureFunction)
	}
	xrs := yamlStructs(tb, readFixture(tb, fixtureXR))
	if len(xrs) != 1 {
		tb.Fatalf("%s: want one document, got %d", fixtureXR, len(xrs))
	}
	env, err := structpb.NewStruct(map[string]any{
		"apiextensions.crossplane.io/environment": map[string]any{"region": "us-east-1", "tier": 1, "flags": []any{true, nil, 2.5}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return &fnv1.RunFunctionRequest{
		Meta:     &fnv1.RequestMeta{Tag: "fixture-" + stage, Capabilities: []fnv1.Capability{fnv1.Capability_CAPABILITY_CAPABILITIES, fnv1.Capability_CAPABILITY_CONDITIONS}},
		Input:    input,
		Context:  env,
		Observed: &fnv1.State{Composite: &fnv1.Resource{Resource: xrs[0], ConnectionDetails: map[string][]byte{"password": []byte("hunter2"), "empty": {}}}, Resources: observedFixture(tb, stage)},
		Desired:  &fnv1.State{Composite: &fnv1.Resource{Resource: &structpb.Struct{}}},
	}
}

// mustMarshal encodes m with proto.Marshal.
func mustMarshal(tb testing.TB, m proto.Message) []byte {
	tb.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestUnmarshalRequestFixtures(t *testing.T) {
	cases := map[string]struct {
		reason string
		req    *fnv1.RunFunctionRequest
	}{}
	for _, stage := range fixtureStages {
		cases["Stage/"+stage] = struct {
			reason string
			req    *fnv1.RunFunctionRequest
		}{
			reason: "The request Crossplane sends with the " + stage + " fixture observed decodes as proto.Unmarshal decodes it.",
			req:    fixtureRequest(t, stage),
		}
	}
	delegated := fixtureRequest(t, "pass2")
	delegated.Credentials = map[string]*fnv1.Credentials{"aws": {Source: &fnv1.Credentials_CredentialData{CredentialData: &fnv1.CredentialData{Data: map[string][]byte{"key": []byte("secret")}}}}}
	delegated.RequiredResources = map[string]*fnv1.Resources{"vpcs": {Items: []*fnv1.Resource{{Resource: delegated.GetObserved().GetComposite().GetResource()}}}}
	delegated.RequiredSchemas = map[string]*fnv1.Schema{"xr": {OpenapiV3: delegated.GetInput()}}
	cases["DelegatedFields"] = struct {
		reason string
		req    *fnv1.RunFunctionRequest
	}{
		reason: "Credentials, required resources and schemas, decoded by proto.Unmarshal, are all there.",
		req:    delegated,
	}

	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := mustMarshal(t, tc.req)
			want := &fnv1.RunFunctionRequest{}
			if err := proto.Unmarshal(b, want); err != nil {
				t.Fatal(err)
			}
			got := &fnv1.RunFunctionRequest{Meta: &fnv1.RequestMeta{Tag: "stale"}}
			if err := UnmarshalRequest(b, got); err != nil {
				t.Fatalf("\n%s\nUnmarshalRequest(...): %v", tc.reason, err)
			}
			if d := diff(want, got); d != "" {
				t.Errorf("\n%s\nUnmarshalRequest(...): -proto.Unmarshal, +got:\n%s", tc.reason, d)
			}
			if d := diff(tc.req, got); d != "" {
				t.Errorf("\n%s\nUnmarshalRequest(...): -encoded, +got:\n%s", tc.reason, d)
			}
		})
	}
}

// Builders of wire-format test inputs.

// fields concatenates encoded fields.
func fields(fs ...[]byte) []byte { return bytes.Join(fs, nil) }

// bytesField is a length-delimited field.
func bytesField(num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), v)
}

// stringField is a length-delimited field holding s.
func stringField(num protowire.Number, s string) []byte { return bytesField(num, []byte(s)) }

// varintField is a varint field.
func varintField(num protowire.Number, x uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), x)
}

// fixed64Field is a fixed64 field.
func fixed64Field(num protowire.Number, x uint64) []byte {
	return protowire.AppendFixed64(protowire.AppendTag(nil, num, protowire.Fixed64Type), x)
}

// fixed32Field is a fixed32 field.
func fixed32Field(num protowire.Number, x uint32) []byte {
	return protowire.AppendFixed32(protowire.AppendTag(nil, num, protowire.Fixed32Type), x)
}

// groupField is a group field.
func groupField(num protowire.Number, body []byte) []byte {
	b := protowire.AppendTag(nil, num, protowire.StartGroupType)
	b = append(b, body...)
	return protowire.AppendTag(b, num, protowire.EndGroupType)
}

// entry is field num, a map entry with the key and the value's body.
func entry(num protowire.Number, key string, value []byte) []byte {
	return bytesField(num, fields(stringField(1, key), bytesField(2, value)))
}

// inComposite is a request whose observed composite resource is the Struct with body s.
func inComposite(s []byte) []byte {
	return bytesField(2, bytesField(1, bytesField(1, s)))
}

// Value bodies.
func stringValue(s string) []byte       { return stringField(3, s) }
func numberValue(f float64) []byte      { return fixed64Field(2, math.Float64bits(f)) }
func boolValue(x uint64) []byte         { return varintField(4, x) }
func nullValue(x uint64) []byte         { return varintField(1, x) }
func structValue(body ...[]byte) []byte { return bytesField(5, fields(body...)) }
func listValue(values ...[]byte) []byte {
	var b []byte
	for _, v := range values {
		b = append(b, bytesField(1, v)...)
	}
	return bytesField(6, b)
}

// A layer is a length-delimited field number num whose value is pre and then what it wraps.
type layer struct {
	num protowire.Number
	pre []byte
}

// nest wraps inner in the layers, innermost first, n times over; in linear time, for the
// nesting runs thousands deep.
func nest(inner []byte, n int, layers ...layer) []byte {
	var headers [][]byte
	size := len(inner)
	for range n {
		for _, l := range layers {
			h := protowire.AppendTag(nil, l.num, protowire.BytesType)
			h = protowire.AppendVarint(h, uint64(len(l.pre)+size))
			h = append(h, l.pre...)
			headers = append(headers, h)
			size += len(h)
		}
	}
	out := make([]byte, 0, size)
	for i := len(headers) - 1; i >= 0; i-- {
		out = append(out, headers[i]...)
	}
	return append(out, inner...)
}

// nestedLists is a request whose composite has a field holding n lists, each in the last.
func nestedLists(n int) []byte {
	return inComposite(entry(1, "deep", nest(stringValue("bottom"), n, layer{num: 1}, layer{num: 6})))
}

// nestedStructs is a request whose composite has n structs, each in the last.
func nestedStructs(n int) []byte {
	v := nest(stringValue("bottom"), n, layer{num: 2}, layer{num: 1, pre: stringField(1, "k")}, layer{num: 5})
	return inComposite(entry(1, "deep", v))
}

// smallRequest is a small request with a little of everything the decoder reads.
func smallRequest() []byte {
	return fields(
		bytesField(1, stringField(1, "tag")),
		bytesField(2, fields(
			bytesField(1, fields(
				bytesField(1, fields(
					entry(1, "s", stringValue("é")),
					entry(1, "n", numberValue(1.5)),
					entry(1, "b", boolValue(1)),
					entry(1, "z", nullValue(0)),
					entry(1, "l", listValue(stringValue("a"), numberValue(2), structValue())),
					entry(1, "o", structValue(entry(1, "x", boolValue(0)))),
				)),
				entry(2, "password", []byte("pw")),
				varintField(3, 1),
				varintField(9, 7),
			)),
			entry(2, "vpc", fields(bytesField(1, entry(1, "kind", stringValue("VPC"))), varintField(3, 2))),
		)),
		bytesField(4, entry(1, "in", numberValue(-0.25))),
		bytesField(5, entry(1, "ctx", listValue())),
		varintField(99, 5),
	)
}

// decodeBoth decodes b with proto.Unmarshal and UnmarshalRequest.
func decodeBoth(b []byte) (want, got *fnv1.RunFunctionRequest, wantErr, gotErr error) {
	want, got = &fnv1.RunFunctionRequest{}, &fnv1.RunFunctionRequest{}
	wantErr = proto.Unmarshal(b, want)
	gotErr = UnmarshalRequest(b, got)
	return want, got, wantErr, gotErr
}

func TestUnmarshalRequestEdgeCases(t *testing.T) {
	type want struct {
		err bool // proto.Unmarshal's verdict too
	}
	cases := map[string]struct {
		reason string
		b      []byte
		want   want
	}{
		"Empty": {
			reason: "An empty input is an empty request.",
			b:      nil,
		},
		"EmptyStates": {
			reason: "Empty observed and desired states, input and context are set, not nil.",
			b:      fields(bytesField(2, nil), bytesField(3, nil), bytesField(4, nil), bytesField(5, nil)),
		},
		"InvalidUTF8Key": {
			reason: "A Struct key must be valid UTF-8.",
			b:      inComposite(entry(1, "bad\xff", stringValue("v"))),
			want:   want{err: true},
		},
		"InvalidUTF8String": {
			reason: "A string value must be valid UTF-8.",
			b:      inComposite(entry(1, "k", stringValue("\xc3"))),
			want:   want{err: true},
		},
		"InvalidUTF8InList": {
			reason: "A string in a list must be valid UTF-8.",
			b:      inComposite(entry(1, "k", listValue(stringValue("ok"), stringValue("\xed\xa0\x80")))),
			want:   want{err: true},
		},
		"InvalidUTF8ResourceName": {
			reason: "A resource's name, a map key, must be valid UTF-8.",
			b:      bytesField(3, entry(2, "\x80", nil)),
			want:   want{err: true},
		},
		"InvalidUTF8DetailKey": {
			reason: "A connection detail's key must be valid UTF-8.",
			b:      bytesField(2, bytesField(1, entry(2, "\xfe", []byte("v")))),
			want:   want{err: true},
		},
		"InvalidUTF8DetailValue": {
			reason: "A connection detail's value is bytes: anything goes.",
			b:      bytesField(2, bytesField(1, entry(2, "k", []byte("\xfe")))),
		},
		"InvalidUTF8Meta": {
			reason: "A delegated field's strings are checked too.",
			b:      bytesField(1, stringField(1, "\xff")),
			want:   want{err: true},
		},
		"DuplicateKeys": {
			reason: "The last of two entries with one key wins, whole: its value is not merged.",
			b:      inComposite(fields(entry(1, "k", structValue(entry(1, "a", boolValue(1)))), entry(1, "k", structValue(entry(1, "b", boolValue(1)))))),
		},
		"DuplicateResourceNames": {
			reason: "The last of two resources with one name wins.",
			b:      bytesField(2, fields(entry(2, "r", varintField(3, 1)), entry(2, "r", bytesField(1, entry(1, "x", nullValue(0)))))),
		},
		"DuplicateDetailKeys": {
			reason: "The last of two connection details with one key wins.",
			b:      bytesField(2, bytesField(1, fields(entry(2, "k", []byte("a")), entry(2, "k", []byte("b"))))),
		},
		"EntryWithoutKey": {
			reason: "An entry with no key has the key \"\".",
			b:      inComposite(bytesField(1, bytesField(2, stringValue("v")))),
		},
		"EntryWithoutValue": {
			reason: "An entry with no value has an empty Value: no kind set.",
			b:      inComposite(bytesField(1, stringField(1, "k"))),
		},
		"EntryValueFirst": {
			reason: "An entry's value may come before its key.",
			b:      inComposite(bytesField(1, fields(bytesField(2, stringValue("v")), stringField(1, "k")))),
		},
		"EntryTwoKeysTwoValues": {
			reason: "In one entry the last key wins and two values merge.",
			b: inComposite(bytesField(1, fields(stringField(1, "a"), bytesField(2, structValue(entry(1, "x", boolValue(1)))),
				stringField(1, "b"), bytesField(2, structValue(entry(1, "y", boolValue(0))))))),
		},
		"EntryUnknownFields": {
			reason: "The unknown fields of a map entry are dropped.",
			b:      inComposite(bytesField(1, fields(stringField(1, "k"), varintField(3, 1), bytesField(2, boolValue(1)), fixed32Field(4, 1)))),
		},
		"EntryKeyWrongType": {
			reason: "A key with the wrong wire type is skipped as unknown.",
			b:      inComposite(bytesField(1, fields(varintField(1, 5), bytesField(2, boolValue(1))))),
		},
		"ResourceEntryWithoutValue": {
			reason: "A resource entry with no value is an empty Resource.",
			b:      bytesField(2, bytesField(2, stringField(1, "r"))),
		},
		"DetailEntryWithoutValue": {
			reason: "A connection detail with no value is empty.",
			b:      bytesField(2, bytesField(1, bytesField(2, stringField(1, "k")))),
		},
		"NestedListsAndStructs": {
			reason: "Lists and structs nest in each other.",
			b: inComposite(fields(
				entry(1, "a", listValue(listValue(structValue(entry(1, "b", listValue(nullValue(0), listValue()))), structValue()), stringValue(""))),
				entry(1, "c", structValue(entry(1, "d", structValue(entry(1, "e", listValue(numberValue(3))))))),
			)),
		},
		"Numbers": {
			reason: "NaN, infinities, negative zero and subnormals are kept.",
			b: inComposite(fields(
				entry(1, "nan", numberValue(math.NaN())),
				entry(1, "nan2", fixed64Field(2, 0x7ff8000000000001)),
				entry(1, "inf", numberValue(math.Inf(1))),
				entry(1, "-inf", numberValue(math.Inf(-1))),
				entry(1, "-0", numberValue(math.Copysign(0, -1))),
				entry(1, "tiny", numberValue(math.SmallestNonzeroFloat64)),
			)),
		},
		"Nulls": {
			reason: "Null values, and enum values beyond NULL_VALUE, are kept.",
			b: inComposite(fields(
				entry(1, "null", nullValue(0)),
				entry(1, "seven", nullValue(7)),
				entry(1, "negative", nullValue(math.MaxUint64)),
				entry(1, "truncated", nullValue(1<<40|3)),
			)),
		},
		"Bools": {
			reason: "Any non-zero varint is true.",
			b:      inComposite(fields(entry(1, "t", boolValue(1)), entry(1, "big", boolValue(1<<63)), entry(1, "f", boolValue(0)))),
		},
		"NoKind": {
			reason: "A Value with no kind set stays so.",
			b:      inComposite(entry(1, "k", nil)),
		},
		"KindTwice": {
			reason: "The last of two kinds wins.",
			b:      inComposite(entry(1, "k", fields(stringValue("s"), numberValue(1), boolValue(1)))),
		},
		"SameScalarKindTwice": {
			reason: "The last of two strings wins.",
			b:      inComposite(entry(1, "k", fields(stringValue("a"), stringValue("b")))),
		},
		"StructKindTwice": {
			reason: "Two struct kinds merge: the second's entries replace the first's of the same key, the others stay.",
			b:      inComposite(entry(1, "k", fields(structValue(entry(1, "a", boolValue(1)), entry(1, "c", boolValue(1))), structValue(entry(1, "b", boolValue(1)), entry(1, "a", boolValue(0)))))),
		},
		"ListKindTwice": {
			reason: "Two list kinds merge: the values of both, in order.",
			b:      inComposite(entry(1, "k", fields(listValue(stringValue("a")), listValue(stringValue("b"), stringValue("c"))))),
		},
		"StructThenListThenStruct": {
			reason: "A struct kind after a list kind is a new struct, not a merge with the first.",
			b:      inComposite(entry(1, "k", fields(structValue(entry(1, "a", boolValue(1))), listValue(), structValue(entry(1, "b", boolValue(1)))))),
		},
		"RepeatedSingularMessages": {
			reason: "Repeated states, resources and structs merge.",
			b: fields(
				bytesField(2, bytesField(1, bytesField(1, entry(1, "a", boolValue(1))))),
				bytesField(2, bytesField(1, fields(varintField(3, 2), bytesField(1, entry(1, "b", boolValue(1)))))),
				bytesField(2, bytesField(1, bytesField(2, entry(1, "p", []byte("x"))))),
				bytesField(4, entry(1, "x", boolValue(1))),
				bytesField(4, entry(1, "y", boolValue(1))),
				bytesField(5, entry(1, "x", boolValue(1))),
				bytesField(5, entry(1, "x", boolValue(0))),
			),
		},
		"ReadyOutOfRange": {
			reason: "An unknown ready value is kept, truncated to 32 bits.",
			b:      bytesField(2, fields(bytesField(1, varintField(3, 9)), entry(2, "r", varintField(3, math.MaxUint64)))),
		},
		"UnknownFields": {
			reason: "Unknown fields of every hand-decoded message are kept, in order.",
			b: fields(
				varintField(100, 1),
				bytesField(2, fields(
					fixed32Field(7, 3),
					bytesField(1, fields(stringField(8, "u"), bytesField(1, fields(varintField(2, 1), entry(1, "k", fields(varintField(9, 9), listValue(fields(stringValue("x"), fixed64Field(12, 1))))))))),
					bytesField(1, varintField(8, 2)),
				)),
				bytesField(4, fields(groupField(3, varintField(1, 1)), entry(1, "k", structValue(varintField(2, 3))))),
				fixed64Field(6, 4),
			),
		},
		"UnknownNonCanonicalTag": {
			reason: "An unknown field's tag is kept re-encoded, as proto.Unmarshal keeps it.",
			b:      inComposite(fields([]byte{0x98, 0x80, 0x00, 0x01}, entry(1, "k", boolValue(1)))),
		},
		"NonCanonicalKnownTags": {
			reason: "Known fields with over-long tags and lengths decode.",
			b:      bytesField(2, []byte{0x8a, 0x00, 0x85, 0x80, 0x00, 0x18, 0x01, 0x98, 0x00, 0x02}),
		},
		"WrongWireTypes": {
			reason: "A known field with the wrong wire type is an unknown field.",
			b: fields(
				varintField(2, 1),
				bytesField(2, fields(varintField(1, 1), varintField(2, 2), bytesField(1, fields(varintField(1, 3), stringField(3, "r"), fixed32Field(2, 1))))),
				inComposite(fields(varintField(1, 1), entry(1, "k", fields(stringField(1, "n"), fixed32Field(2, 1), varintField(3, 1), stringField(4, "b"), varintField(5, 1), varintField(6, 1))))),
				inComposite(entry(1, "l", bytesField(6, varintField(1, 1)))),
			),
		},
		"UnknownGroup": {
			reason: "An unknown group is kept whole.",
			b:      inComposite(fields(groupField(5, fields(varintField(1, 1), groupField(2, stringField(3, "x")))), entry(1, "k", boolValue(1)))),
		},
		"UnmatchedEndGroup": {
			reason: "An end-group tag with no start is invalid.",
			b:      inComposite([]byte{0x0c}),
			want:   want{err: true},
		},
		"MismatchedEndGroup": {
			reason: "A group must end with its own number.",
			b:      inComposite([]byte{0x2b, 0x34}),
			want:   want{err: true},
		},
		"UnterminatedGroup": {
			reason: "A group must end.",
			b:      inComposite([]byte{0x2b, 0x08, 0x01}),
			want:   want{err: true},
		},
		"EndGroupInEntry": {
			reason: "An end-group tag in a map entry is invalid.",
			b:      inComposite(bytesField(1, []byte{0x0c})),
			want:   want{err: true},
		},
		"FieldNumberZero": {
			reason: "Field number 0 is invalid.",
			b:      inComposite(bytesField(1, fields([]byte{0x02, 0x00}))),
			want:   want{err: true},
		},
		"FieldNumberZeroTopLevel": {
			reason: "Field number 0 is invalid in the request too.",
			b:      []byte{0x00, 0x00},
			want:   want{err: true},
		},
		"FieldNumberTooLarge": {
			reason: "A field number above 2^29-1 is invalid.",
			b:      inComposite(protowire.AppendVarint(protowire.AppendVarint(nil, uint64(protowire.MaxValidNumber+1)<<3), 1)),
			want:   want{err: true},
		},
		"FieldNumberMax": {
			reason: "Field number 2^29-1 is a valid unknown field.",
			b:      inComposite(varintField(protowire.MaxValidNumber, 1)),
		},
		"FieldNumberTooLargeInEntry": {
			reason: "A field number above 2^29-1 is invalid in a map entry too.",
			b:      inComposite(bytesField(1, protowire.AppendVarint(protowire.AppendVarint(nil, uint64(protowire.MaxValidNumber+1)<<3), 1))),
			want:   want{err: true},
		},
		"ReservedWireType": {
			reason: "Wire types 6 and 7 are invalid.",
			b:      inComposite([]byte{0x0e, 0x00}),
			want:   want{err: true},
		},
		"VarintOverflow": {
			reason: "A varint of more than 64 bits is invalid.",
			b:      inComposite(entry(1, "k", append([]byte{0x20}, bytes.Repeat([]byte{0xff}, 10)...))),
			want:   want{err: true},
		},
		"VarintTenBytes": {
			reason: "A ten-byte varint that fits in 64 bits is valid.",
			b:      inComposite(entry(1, "k", append(append([]byte{0x20}, bytes.Repeat([]byte{0xff}, 9)...), 0x01))),
		},
		"LengthBeyondEnd": {
			reason: "A length past the end of its message is invalid.",
			b:      bytesField(2, []byte{0x0a, 0x05, 0x0a, 0x01}),
			want:   want{err: true},
		},
		"HugeLength": {
			reason: "A length beyond any buffer is invalid.",
			b:      append([]byte{0x12}, protowire.AppendVarint(nil, math.MaxUint64)...),
			want:   want{err: true},
		},
		"TruncatedFixed64": {
			reason: "A number needs its eight bytes.",
			b:      inComposite(entry(1, "k", []byte{0x11, 1, 2, 3})),
			want:   want{err: true},
		},
		"DepthWithinLimit": {
			reason: "Lists nested a little less than protobuf-go's recursion limit decode.",
			b:      nestedLists(4990),
		},
		"DepthBeyondLimit": {
			reason: "Lists nested deeper than protobuf-go's recursion limit are an error.",
			b:      nestedLists(5010),
			want:   want{err: true},
		},
		"StructDepthBeyondLimit": {
			reason: "Structs nested deeper than protobuf-go's recursion limit are an error.",
			b:      nestedStructs(3400),
			want:   want{err: true},
		},
		"Small": {
			reason: "A small request with a little of everything decodes.",
			b:      smallRequest(),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			want, got, wantErr, gotErr := decodeBoth(tc.b)
			if (wantErr != nil) != tc.want.err {
				t.Fatalf("\n%s\nproto.Unmarshal(...): got error %v, want error %t: the case is wrong", tc.reason, wantErr, tc.want.err)
			}
			if (gotErr != nil) != tc.want.err {
				t.Fatalf("\n%s\nUnmarshalRequest(...): got error %v, want error %t", tc.reason, gotErr, tc.want.err)
			}
			if tc.want.err {
				return
			}
			if d := diff(want, got); d != "" {
				t.Errorf("\n%s\nUnmarshalRequest(...): -proto.Unmarshal, +got:\n%s", tc.reason, d)
			}
		})
	}
}

func TestUnmarshalRequestNil(t *testing.T) {
	if err := UnmarshalRequest(smallRequest(), nil); err == nil {
		t.Errorf("UnmarshalRequest(..., nil): got no error, want one")
	}
}

// TestUnmarshalRequestDepthLimit finds, for lists and for structs, the deepest nesting
// proto.Unmarshal accepts, and checks UnmarshalRequest accepts it and refuses one more.
func TestUnmarshalRequestDepthLimit(t *testing.T) {
	cases := map[string]struct {
		reason string
		nested func(n int) []byte
	}{
		"Lists": {
			reason: "A list in a Value in a list is two levels of nesting.",
			nested: nestedLists,
		},
		"Structs": {
			reason: "A struct in a Value in a map entry in a struct is three levels of nesting.",
			nested: nestedStructs,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			lo, hi := 1, protowire.DefaultRecursionLimit // proto.Unmarshal accepts lo, refuses hi.
			for hi-lo > 1 {
				mid := (lo + hi) / 2
				if err := proto.Unmarshal(tc.nested(mid), &fnv1.RunFunctionRequest{}); err != nil {
					hi = mid
				} else {
					lo = mid
				}
			}
			if err := UnmarshalRequest(tc.nested(lo), &fnv1.RunFunctionRequest{}); err != nil {
				t.Errorf("\n%s\nUnmarshalRequest(%d levels): %v; proto.Unmarshal accepts it", tc.reason, lo, err)
			}
			if err := UnmarshalRequest(tc.nested(hi), &fnv1.RunFunctionRequest{}); err == nil {
				t.Errorf("\n%s\nUnmarshalRequest(%d levels): no error; proto.Unmarshal refuses it", tc.reason, hi)
			}
		})
	}
}

// TestUnmarshalRequestDamaged truncates a small request at every byte and changes each of its
// bytes to a few others: UnmarshalRequest never panics and agrees with proto.Unmarshal.
func TestUnmarshalRequestDamaged(t *testing.T) {
	valid := smallRequest()
	check := func(t *testing.T, what string, b []byte) {
		t.Helper()
		want, got, wantErr, gotErr := decodeBoth(b)
		if (wantErr != nil) != (gotErr != nil) {
			t.Fatalf("%s: UnmarshalRequest(...): error %v; proto.Unmarshal: error %v", what, gotErr, wantErr)
		}
		if wantErr != nil {
			return
		}
		if d := diff(want, got); d != "" {
			t.Fatalf("%s: UnmarshalRequest(...): -proto.Unmarshal, +got:\n%s", what, d)
		}
	}
	t.Run("Truncated", func(t *testing.T) {
		for i := range valid {
			check(t, "truncated to "+strconv.Itoa(i)+" bytes", valid[:i])
		}
	})
	t.Run("Changed", func(t *testing.T) {
		for i := range valid {
			for _, c := range []byte{0x00, 0x01, 0x07, 0x0c, 0x7f, 0x80, 0xff, valid[i] + 1, valid[i] - 1} {
				b := bytes.Clone(valid)
				b[i] = c
				check(t, "byte "+strconv.Itoa(i)+" changed to "+strconv.Itoa(int(c)), b)
			}
		}
	})
}

// fuzzSeeds are inputs for FuzzUnmarshalRequest: the fixtures' requests (cut to their first
// few resources, which keeps the fuzzer fast; TestUnmarshalRequestFixtures checks them whole),
// the small request and the edge cases. (The fuzzer has found no failing input so far; add any
// it finds here.)
func fuzzSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	seeds := [][]byte{
		nil,
		smallRequest(),
		inComposite(entry(1, "bad\xff", stringValue("v"))),
		inComposite(entry(1, "k", stringValue("\xc3"))),
		inComposite(fields(entry(1, "k", structValue(entry(1, "a", boolValue(1)))), entry(1, "k", listValue(nullValue(0))))),
		inComposite(entry(1, "k", fields(structValue(entry(1, "a", boolValue(1))), listValue(), structValue()))),
		inComposite(fields(entry(1, "nan", numberValue(math.NaN())), entry(1, "inf", numberValue(math.Inf(-1))), entry(1, "n", nil))),
		inComposite(fields(groupField(5, varintField(1, 1)), []byte{0x98, 0x80, 0x00, 0x01}, fixed32Field(9, 1))),
		bytesField(2, fields(entry(2, "r", varintField(3, 1)), entry(2, "r", entry(2, "k", []byte("v"))))),
		nestedLists(40),
		nestedStructs(30),
	}
	for _, stage := range fixtureStages {
		req := fixtureRequest(tb, stage)
		n := 0
		for k := range req.Observed.Resources {
			if n++; n > 3 {
				delete(req.Observed.Resources, k)
			}
		}
		seeds = append(seeds, mustMarshal(tb, req))
	}
	return seeds
}

// FuzzUnmarshalRequest checks UnmarshalRequest against proto.Unmarshal on any input, and
// MarshalResponse against proto.Unmarshal on the responses of the inputs that decode.
func FuzzUnmarshalRequest(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, got, wantErr, gotErr := decodeBoth(b)
		if (wantErr != nil) != (gotErr != nil) {
			t.Fatalf("UnmarshalRequest(...): error %v; proto.Unmarshal: error %v", gotErr, wantErr)
		}
		if wantErr == nil {
			if d := diff(want, got); d != "" {
				t.Fatalf("UnmarshalRequest(...): -proto.Unmarshal, +got:\n%s", d)
			}
			// What decodes, encodes: as a response, through MarshalResponse.
			checkRoundTrip(t, &fnv1.RunFunctionResponse{
				Meta:    &fnv1.ResponseMeta{Tag: got.GetMeta().GetTag(), Ttl: durationpb.New(time.Minute)},
				Desired: got.GetObserved(),
				Context: got.GetContext(),
				Output:  got.GetInput(),
			})
		}
		// The input as a response: if it decodes, it encodes and decodes back the same.
		rsp := &fnv1.RunFunctionResponse{}
		if err := proto.Unmarshal(b, rsp); err == nil {
			checkRoundTrip(t, rsp)
		}
	})
}

// checkRoundTrip checks that MarshalResponse encodes rsp to what proto.Unmarshal decodes to rsp.
func checkRoundTrip(t *testing.T, rsp *fnv1.RunFunctionResponse) {
	t.Helper()
	b, err := MarshalResponse(rsp)
	if err != nil {
		t.Fatalf("MarshalResponse(...): %v", err)
	}
	got := &fnv1.RunFunctionResponse{}
	if err := proto.Unmarshal(b, got); err != nil {
		t.Fatalf("proto.Unmarshal(MarshalResponse(...)): %v", err)
	}
	if d := diff(rsp, got); d != "" {
		t.Fatalf("proto.Unmarshal(MarshalResponse(...)): -response, +got:\n%s", d)
	}
}

// cpuTime is the CPU time the process has used, in all its threads: the garbage collector's
// too.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchCPU runs f b.N times and reports, besides ns/op, the CPU time per op of the whole
// process (cpu-ns/op), which counts the garbage collection f causes.
func benchCPU(b *testing.B, size int, f func() error) {
	b.Helper()
	b.ReportAllocs()
	b.SetBytes(int64(size))
	runtime.GC()
	start := cpuTime(b)
	for b.Loop() {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}

func BenchmarkUnmarshalRequest(b *testing.B) {
	in := mustMarshal(b, fixtureRequest(b, "ready"))
	b.Run("proto", func(b *testing.B) {
		benchCPU(b, len(in), func() error { return proto.Unmarshal(in, &fnv1.RunFunctionRequest{}) })
	})
	b.Run("wire", func(b *testing.B) {
		benchCPU(b, len(in), func() error { return UnmarshalRequest(in, &fnv1.RunFunctionRequest{}) })
	})
}
