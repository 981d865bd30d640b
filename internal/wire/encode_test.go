package wire

import (
	"math"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// fixtureResponse builds a response like the function's to the request of the observed fixture
// stage: a desired resource (metadata and spec, ready) for each observed one, the XR's status,
// results, conditions, context and meta.
func fixtureResponse(tb testing.TB, stage string) *fnv1.RunFunctionResponse {
	tb.Helper()
	req := fixtureRequest(tb, stage)
	desired := make(map[string]*fnv1.Resource, len(req.GetObserved().GetResources()))
	for name, r := range req.GetObserved().GetResources() {
		f := r.GetResource().GetFields()
		desired[name] = &fnv1.Resource{
			Resource: &structpb.Struct{Fields: map[string]*structpb.Value{"apiVersion": f["apiVersion"], "kind": f["kind"], "metadata": f["metadata"], "spec": f["spec"]}},
			Ready:    fnv1.Ready_READY_TRUE,
		}
	}
	status, err := structpb.NewStruct(map[string]any{"status": map[string]any{
		"primaryEndpoint":   "orders-db.abc.us-east-1.rds.amazonaws.com",
		"replicaLagSeconds": 1.5,
		"regions":           []any{"us-east-1", "us-east-2"},
		"failedOver":        false,
		"lastFailover":      nil,
	}})
	if err != nil {
		tb.Fatal(err)
	}
	reason := "Staged"
	return &fnv1.RunFunctionResponse{
		Meta:    &fnv1.ResponseMeta{Tag: req.GetMeta().GetTag(), Ttl: durationpb.New(time.Minute)},
		Desired: &fnv1.State{Composite: &fnv1.Resource{Resource: status, ConnectionDetails: map[string][]byte{"endpoint": []byte("orders-db:5432")}}, Resources: desired},
		Results: []*fnv1.Result{
			{Severity: fnv1.Severity_SEVERITY_NORMAL, Message: "composed 197 resources", Reason: &reason, Target: fnv1.Target_TARGET_COMPOSITE_AND_CLAIM.Enum()},
			{Severity: fnv1.Severity_SEVERITY_WARNING, Message: "replica lag is high"},
		},
		Context: req.GetContext(),
		Conditions: []*fnv1.Condition{
			{Type: "Staged", Status: fnv1.Status_STATUS_CONDITION_TRUE, Reason: "AllStaged", Target: fnv1.Target_TARGET_COMPOSITE_AND_CLAIM.Enum()},
			{Type: "FailedOver", Status: fnv1.Status_STATUS_CONDITION_FALSE, Reason: "Primary"},
		},
		Requirements: &fnv1.Requirements{Resources: map[string]*fnv1.ResourceSelector{"zone": {ApiVersion: "route53.aws.upbound.io/v1beta1", Kind: "Zone", Match: &fnv1.ResourceSelector_MatchName{MatchName: "example.com"}}}},
		Output:       &structpb.Struct{Fields: map[string]*structpb.Value{"resources": structpb.NewNumberValue(float64(len(desired)))}},
	}
}

// decodeResponse decodes b with proto.Unmarshal.
func decodeResponse(t *testing.T, b []byte) *fnv1.RunFunctionResponse {
	t.Helper()
	rsp := &fnv1.RunFunctionResponse{}
	if err := proto.Unmarshal(b, rsp); err != nil {
		t.Fatalf("proto.Unmarshal(...): %v", err)
	}
	return rsp
}

func TestMarshalResponseFixtures(t *testing.T) {
	cases := map[string]struct {
		reason string
		rsp    *fnv1.RunFunctionResponse
	}{}
	for _, stage := range fixtureStages {
		cases["Stage/"+stage] = struct {
			reason string
			rsp    *fnv1.RunFunctionResponse
		}{
			reason: "A response desiring the resources of the " + stage + " fixture decodes back to itself.",
			rsp:    fixtureResponse(t, stage),
		}
	}
	// Encode them all first, so that a buffer the encoders share would show.
	encoded := map[string][]byte{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, tc := range cases {
		wg.Go(func() {
			b, err := MarshalResponse(tc.rsp)
			if err != nil {
				t.Errorf("\n%s\nMarshalResponse(...): %v", tc.reason, err)
			}
			mu.Lock()
			encoded[name] = b
			mu.Unlock()
		})
	}
	wg.Wait()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if d := diff(tc.rsp, decodeResponse(t, encoded[name])); d != "" {
				t.Errorf("\n%s\nproto.Unmarshal(MarshalResponse(...)): -response, +got:\n%s", tc.reason, d)
			}
		})
	}
}

// withUnknown sets m's unknown fields to the encoding of a varint field num and returns m.
func withUnknown[M proto.Message](m M, num protowire.Number) M {
	m.ProtoReflect().SetUnknown(protoreflect.RawFields(varintField(num, uint64(num))))
	return m
}

func TestMarshalResponseEdgeCases(t *testing.T) {
	str := func(s string) *structpb.Struct {
		return &structpb.Struct{Fields: map[string]*structpb.Value{"k": structpb.NewStringValue(s)}}
	}
	composite := func(s *structpb.Struct) *fnv1.State {
		return &fnv1.State{Composite: &fnv1.Resource{Resource: s}}
	}
	type want struct {
		err bool // proto.Marshal's verdict too
	}
	cases := map[string]struct {
		reason string
		rsp    *fnv1.RunFunctionResponse
		want   want
	}{
		"Nil": {
			reason: "A nil response encodes to nothing.",
			rsp:    nil,
		},
		"Empty": {
			reason: "An empty response encodes to nothing.",
			rsp:    &fnv1.RunFunctionResponse{},
		},
		"EmptyMessages": {
			reason: "Empty desired state, context and output are set.",
			rsp:    &fnv1.RunFunctionResponse{Desired: &fnv1.State{}, Context: &structpb.Struct{}, Output: &structpb.Struct{Fields: map[string]*structpb.Value{}}},
		},
		"InvalidUTF8Key": {
			reason: "A Struct key must be valid UTF-8.",
			rsp:    &fnv1.RunFunctionResponse{Desired: composite(&structpb.Struct{Fields: map[string]*structpb.Value{"\xff": structpb.NewNullValue()}})},
			want:   want{err: true},
		},
		"InvalidUTF8String": {
			reason: "A string value must be valid UTF-8.",
			rsp:    &fnv1.RunFunctionResponse{Context: str("\xc3")},
			want:   want{err: true},
		},
		"InvalidUTF8InList": {
			reason: "A string in a list must be valid UTF-8.",
			rsp:    &fnv1.RunFunctionResponse{Output: &structpb.Struct{Fields: map[string]*structpb.Value{"l": structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewStringValue("ok"), structpb.NewStringValue("\x80")}})}}},
			want:   want{err: true},
		},
		"InvalidUTF8ResourceName": {
			reason: "A resource's name must be valid UTF-8.",
			rsp:    &fnv1.RunFunctionResponse{Desired: &fnv1.State{Resources: map[string]*fnv1.Resource{"\xfe": {}}}},
			want:   want{err: true},
		},
		"InvalidUTF8DetailKey": {
			reason: "A connection detail's key must be valid UTF-8.",
			rsp:    &fnv1.RunFunctionResponse{Desired: &fnv1.State{Composite: &fnv1.Resource{ConnectionDetails: map[string][]byte{"\xfe": nil}}}},
			want:   want{err: true},
		},
		"InvalidUTF8DetailValue": {
			reason: "A connection detail's value is bytes: anything goes.",
			rsp:    &fnv1.RunFunctionResponse{Desired: &fnv1.State{Composite: &fnv1.Resource{ConnectionDetails: map[string][]byte{"k": []byte("\xfe"), "nil": nil, "empty": {}}}}},
		},
		"InvalidUTF8Result": {
			reason: "A delegated field's strings are checked too.",
			rsp:    &fnv1.RunFunctionResponse{Results: []*fnv1.Result{{Message: "\xff"}}},
			want:   want{err: true},
		},
		"NilsInStructs": {
			reason: "A nil Value, a nil kind, a nil kind wrapper, a nil struct or list in a kind, a nil element of a list encode as proto.Marshal encodes them.",
			rsp: &fnv1.RunFunctionResponse{Output: &structpb.Struct{Fields: map[string]*structpb.Value{
				"nil":          nil,
				"noKind":       {},
				"nilWrapper":   {Kind: (*structpb.Value_StringValue)(nil)},
				"nilStruct":    {Kind: &structpb.Value_StructValue{}},
				"nilList":      {Kind: &structpb.Value_ListValue{}},
				"nilInList":    structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewBoolValue(true), nil, {}}}),
				"nilListWrap":  {Kind: (*structpb.Value_ListValue)(nil)},
				"nilNullWrap":  {Kind: (*structpb.Value_NullValue)(nil)},
				"nilBoolWrap":  {Kind: (*structpb.Value_BoolValue)(nil)},
				"nilNumWrap":   {Kind: (*structpb.Value_NumberValue)(nil)},
				"nilStructWra": {Kind: (*structpb.Value_StructValue)(nil)},
			}}},
		},
		"NilsInStates": {
			reason: "A nil resource, a resource with no Struct, nil and empty maps encode as proto.Marshal encodes them.",
			rsp: &fnv1.RunFunctionResponse{Desired: &fnv1.State{
				Composite: &fnv1.Resource{ConnectionDetails: map[string][]byte{}},
				Resources: map[string]*fnv1.Resource{"nil": nil, "empty": {}, "": {Resource: &structpb.Struct{}}},
			}},
		},
		"Scalars": {
			reason: "NaN, infinities, negative zero, odd enums and the empty string encode.",
			rsp: &fnv1.RunFunctionResponse{
				Context: &structpb.Struct{Fields: map[string]*structpb.Value{
					"nan":      structpb.NewNumberValue(math.NaN()),
					"inf":      structpb.NewNumberValue(math.Inf(1)),
					"-inf":     structpb.NewNumberValue(math.Inf(-1)),
					"-0":       structpb.NewNumberValue(math.Copysign(0, -1)),
					"null":     structpb.NewNullValue(),
					"null7":    {Kind: &structpb.Value_NullValue{NullValue: 7}},
					"null-1":   {Kind: &structpb.Value_NullValue{NullValue: -1}},
					"":         structpb.NewStringValue(""),
					"false":    structpb.NewBoolValue(false),
					"unicode":  structpb.NewStringValue("日本語 ✓"),
					"emptyMap": structpb.NewStructValue(&structpb.Struct{}),
				}},
				Desired: &fnv1.State{Resources: map[string]*fnv1.Resource{"a": {Ready: -3}, "b": {Ready: 77}, "c": {Ready: fnv1.Ready_READY_FALSE}}},
			},
		},
		"NestedOrder": {
			reason: "Lists keep their order, nested too.",
			rsp: &fnv1.RunFunctionResponse{Output: &structpb.Struct{Fields: map[string]*structpb.Value{
				"l": structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{
					structpb.NewNumberValue(1), structpb.NewNumberValue(2),
					structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewStringValue("a"), structpb.NewStringValue("b")}}),
					structpb.NewNumberValue(3),
				}}),
			}}},
		},
		"UnknownFields": {
			reason: "Unknown fields of every message are kept.",
			rsp: withUnknown(&fnv1.RunFunctionResponse{
				Meta: withUnknown(&fnv1.ResponseMeta{Tag: "t"}, 30),
				Desired: withUnknown(&fnv1.State{
					Composite: withUnknown(&fnv1.Resource{Resource: withUnknown(&structpb.Struct{Fields: map[string]*structpb.Value{
						"v": withUnknown(structpb.NewListValue(withUnknown(&structpb.ListValue{Values: []*structpb.Value{withUnknown(structpb.NewBoolValue(true), 21)}}, 22)), 23),
					}}, 24)}, 25),
				}, 26),
				Context: withUnknown(&structpb.Struct{}, 27),
			}, 28),
		},
		"Large": {
			reason: "A response larger than an encoder's first buffer encodes.",
			rsp:    fixtureResponse(t, "ready"),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			wantB, wantErr := proto.Marshal(tc.rsp)
			gotB, gotErr := MarshalResponse(tc.rsp)
			if (wantErr != nil) != tc.want.err {
				t.Fatalf("\n%s\nproto.Marshal(...): got error %v, want error %t: the case is wrong", tc.reason, wantErr, tc.want.err)
			}
			if (gotErr != nil) != tc.want.err {
				t.Fatalf("\n%s\nMarshalResponse(...): got error %v, want error %t", tc.reason, gotErr, tc.want.err)
			}
			if tc.want.err {
				return
			}
			if d := diff(decodeResponse(t, wantB), decodeResponse(t, gotB)); d != "" {
				t.Errorf("\n%s\nproto.Unmarshal(MarshalResponse(...)): -proto.Marshal's, +got:\n%s", tc.reason, d)
			}
		})
	}
}

func BenchmarkMarshalResponse(b *testing.B) {
	rsp := fixtureResponse(b, "ready")
	size := proto.Size(rsp)
	b.Run("proto", func(b *testing.B) {
		benchCPU(b, size, func() error {
			_, err := proto.Marshal(rsp)
			return err
		})
	})
	b.Run("wire", func(b *testing.B) {
		benchCPU(b, size, func() error {
			_, err := MarshalResponse(rsp)
			return err
		})
	})
}
