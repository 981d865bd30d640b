package fn

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/structpb"
	kresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	xpv1 "github.com/crossplane/crossplane-runtime/v2/apis/common/v1"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/request"
	"github.com/crossplane/function-sdk-go/resource/composed"

	ec2v1beta1 "github.com/upbound/provider-aws/v2/apis/cluster/ec2/v1beta1"
)

// viaChain is what RunFunction did before ToStruct: composed.From, status dropped, NewStruct.
func viaChain(o runtime.Object) (*structpb.Struct, error) {
	cd, err := composed.From(o)
	if err != nil {
		return nil, err
	}
	delete(cd.Object, "status")
	return structpb.NewStruct(cd.Object)
}

// desiredFor builds the managed resources RunFunction builds for the request.
func desiredFor(t testing.TB, req *fnv1.RunFunctionRequest) *Desired {
	t.Helper()
	in, err := ParseInput(req)
	if err != nil {
		t.Fatal(err)
	}
	oxr, err := request.GetObservedCompositeResource(req)
	if err != nil {
		t.Fatal(err)
	}
	specMap, _ := oxr.Resource.Object["spec"].(map[string]any)
	spec, err := ParseSpec(specMap)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := NewPlan(oxr.Resource.GetName(), oxr.Resource.GetLabels()[LabelClaimName], spec, in)
	if err != nil {
		t.Fatal(err)
	}
	o := ObservedFrom(req)
	d, err := Build(plan, o, DetectFailover(plan, o))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestToStructEquivalence checks ToStruct against the composed.From chain on every resource
// RunFunction builds, in every state the other tests reach.
func TestToStructEquivalence(t *testing.T) {
	if err := RegisterScheme(); err != nil {
		t.Fatal(err)
	}
	const regions = `"regions":{"primary":"us-east-1","dr":"us-east-2"}`
	cases := map[string]struct {
		reason  string
		spec    string
		passes  int // -1: nothing observed; 0: converged
		promote bool
	}{
		"FirstPass":           {"Nothing observed.", testSpec, -1, false},
		"OnePass":             {"The first layer observed.", testSpec, 1, false},
		"Ready":               {"Everything observed, the benchmark's state.", testSpec, 0, false},
		"ConvergedAutomatic":  {"Automatic failover and notifications.", `{` + regions + `,"failover":{"mode":"Automatic"},"monitoring":{"notificationEmails":["dba@example.com"]}}`, 0, false},
		"ConvergedExistZone":  {"Records in an existing zone, no backup replication.", `{` + regions + `,"backups":{"replicateToDR":false},"failover":{"mode":"Automatic","zoneID":"Z0EXISTING1"}}`, 0, false},
		"ConvergedSwitchover": {"A planned switchover.", `{` + regions + `,"activeRegion":"us-east-2","failover":{"mode":"Automatic"}}`, 0, false},
		"ConvergedPromoted":   {"The replica promoted out of band.", `{` + regions + `,"failover":{"mode":"Automatic"}}`, 0, true},
		"OtherNetwork":        {"Regions swapped, two AZs, one NAT gateway, other ranges and parameters.", `{"regions":{"primary":"us-east-2","dr":"us-east-1"},"network":{"azCount":2,"natGateways":1,"subnetPrefix":26,"primaryCIDR":"172.16.0.0/20","drCIDR":"172.16.16.0/20"},"postgres":{"majorVersion":13,"storageGB":20,"parameters":{"work_mem":"1024"}}}`, 0, false},
	}
	total := 0
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			observed := observedAfter(t, tc.spec, tc.passes, tc.promote)
			d := desiredFor(t, newRequest(testInput, testXR(tc.spec), observed))
			if len(d.Order) == 0 {
				t.Fatalf("\n%s\nno desired resources", tc.reason)
			}
			for _, n := range d.Order {
				want, err := viaChain(d.Resources[n])
				if err != nil {
					t.Fatalf("%s: chain: %v", n, err)
				}
				got, err := ToStruct(d.Resources[n])
				if err != nil {
					t.Fatalf("\n%s\n%s: ToStruct(...): %v", tc.reason, n, err)
				}
				if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
					t.Errorf("\n%s\n%s (%T): ToStruct(...): -chain, +got:\n%s", tc.reason, n, d.Resources[n], diff)
				}
			}
			total += len(d.Order)
			t.Logf("%s: %d resources match", name, len(d.Order))
		})
	}
	t.Logf("compared %d resources", total)
}

// TestToStructObject checks what ToStruct does to a whole object: its kind, status and metadata.
func TestToStructObject(t *testing.T) {
	if err := RegisterScheme(); err != nil {
		t.Fatal(err)
	}
	cidr := "10.0.0.0/16"
	cases := map[string]struct {
		reason string
		o      runtime.Object
		want   string // JSON; "" for an error
	}{
		"StatusGenerationDropped": {
			reason: "The kind is set from the scheme, status and metadata.generation are dropped.",
			o: &ec2v1beta1.VPC{
				ObjectMeta: metav1.ObjectMeta{Name: "v", Generation: 3, Labels: map[string]string{"a": "b"}},
				Spec:       ec2v1beta1.VPCSpec{ForProvider: ec2v1beta1.VPCParameters_2{CidrBlock: &cidr}},
				Status:     ec2v1beta1.VPCStatus{AtProvider: ec2v1beta1.VPCObservation_2{ID: &cidr}},
			},
			want: `{"apiVersion":"ec2.aws.upbound.io/v1beta1","kind":"VPC","metadata":{"name":"v","labels":{"a":"b"}},
"spec":{"forProvider":{"cidrBlock":"10.0.0.0/16","region":null}}}`,
		},
		"EmptyMetadataDropped": {
			reason: "Metadata holding only a generation is dropped whole.",
			o:      &ec2v1beta1.VPC{ObjectMeta: metav1.ObjectMeta{Generation: 1}},
			want:   `{"apiVersion":"ec2.aws.upbound.io/v1beta1","kind":"VPC","spec":{"forProvider":{"region":null}}}`,
		},
		"Unstructured": {
			reason: "Unstructured content is taken as it is, less its status.",
			o: &composed.Unstructured{Unstructured: unstructuredOf(map[string]any{
				"apiVersion": "example.org/v1", "kind": "Thing", "spec": map[string]any{"n": int64(1)}, "status": map[string]any{"x": "y"},
				"metadata": map[string]any{"generation": int64(2)},
			})},
			want: `{"apiVersion":"example.org/v1","kind":"Thing","spec":{"n":1},"metadata":{"generation":2}}`,
		},
		"NotInScheme": {
			reason: "A kind the scheme does not know is an error, as for composed.From.",
			o:      &encUnregistered{},
			want:   "",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			want, werr := viaChain(tc.o)
			got, err := ToStruct(tc.o)
			if tc.want == "" {
				if err == nil || werr == nil {
					t.Errorf("\n%s\nToStruct(...): got %v, chain %v, want errors", tc.reason, err, werr)
				}
				return
			}
			if err != nil || werr != nil {
				t.Fatalf("\n%s\nToStruct(...): %v, chain: %v", tc.reason, err, werr)
			}
			if diff := cmp.Diff(mustStruct(t, tc.want), got, protocmp.Transform()); diff != "" {
				t.Errorf("\n%s\nToStruct(...): -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("\n%s\nToStruct(...): -chain, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// encUnregistered is a kind composed.Scheme does not know.
type encUnregistered struct {
	metav1.TypeMeta `json:",inline"`
}

func (u *encUnregistered) DeepCopyObject() runtime.Object { c := *u; return &c }

// TestToStructConcurrent encodes from several goroutines at once, each with its own resources,
// so that the race detector sees plans made and read concurrently.
func TestToStructConcurrent(t *testing.T) {
	if err := RegisterScheme(); err != nil {
		t.Fatal(err)
	}
	const workers = 4
	ds := make([]*Desired, workers)
	for i := range ds {
		ds[i] = desiredFor(t, newRequest(testInput, testXR(testSpec), nil))
	}
	errs := make(chan error, workers)
	for _, d := range ds {
		go func() {
			for _, n := range d.Order {
				if _, err := ToStruct(d.Resources[n]); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// Hand-written types for the rules of TestEncodeRules.
type (
	encInner struct {
		A string `json:"a,omitempty"`
		B *int   `json:"b,omitempty"`
	}
	encOmitEmpty struct {
		Struct     encInner          `json:"struct,omitempty"`
		StructPtr  *encInner         `json:"structPtr,omitempty"`
		NilMap     map[string]string `json:"nilMap,omitempty"`
		EmptyMap   map[string]string `json:"emptyMap,omitempty"`
		NilSlice   []string          `json:"nilSlice,omitempty"`
		EmptySlice []string          `json:"emptySlice,omitempty"`
		String     string            `json:"string,omitempty"`
		Ptr        *string           `json:"ptr,omitempty"`
		Iface      any               `json:"iface,omitempty"`
		Bytes      []byte            `json:"bytes,omitempty"`
		NullTime   metav1.Time       `json:"nullTime,omitempty"`
		False      bool              `json:"false,omitempty"`
		Zero       int               `json:"zero,omitempty"`
		Full       encInner          `json:"full,omitempty"`
	}
	encNils struct {
		Slice  []string          `json:"slice"`
		Map    map[string]string `json:"map"`
		Ptr    *encInner         `json:"ptr"`
		Bytes  []byte            `json:"bytes"`
		Iface  any               `json:"iface"`
		Struct encInner          `json:"struct"`
	}
	encOmitZero struct {
		Zero     int         `json:"zero,omitzero"`
		False    bool        `json:"false,omitzero"`
		Struct   encInner    `json:"struct,omitzero"`
		Time     metav1.Time `json:"time,omitzero"`
		SetTime  metav1.Time `json:"setTime,omitzero"`
		NonZero  int         `json:"nonZero,omitzero"`
		EmptyPtr *encInner   `json:"emptyPtr,omitzero"`
	}
	// EncBase is embedded by encInline (the JSON encoder refuses unexported embedded types).
	EncBase struct {
		Base   string `json:"base"`
		Shadow string `json:"shadow"`
		Tie    string
		Tagged string
	}
	// EncOther is embedded by encInline.
	EncOther struct {
		Tie   string
		Other string `json:"Tagged"`
	}
	// EncDeep is inlined by encInline.
	EncDeep struct {
		Deep string `json:"deep"`
	}
	// EncPtrBase is embedded by encInline through a pointer.
	EncPtrBase struct {
		PtrField string `json:"ptrField"`
		EncDeep  `json:"-"`
	}
	encInline struct {
		EncBase
		EncOther
		*EncPtrBase
		Named  EncDeep `json:",inline"`
		Shadow string  `json:"shadow"`
		Own    string  `json:"own"`
	}
	encIgnored struct {
		Skipped  string `json:"-"`
		hidden   string //nolint:unused // Unexported: never encoded.
		GoName   string
		Trailing string `json:",omitempty"`
	}
	encJSONPtr struct{ N int }
	encText    string
	encNull    struct{}
	encEmptyJS struct{}
	encMethods struct {
		Time     metav1.Time                `json:"time"`
		Quantity kresource.Quantity         `json:"quantity"`
		IntStr   intstr.IntOrString         `json:"intStr"`
		StrInt   intstr.IntOrString         `json:"strInt"`
		Ptr      encJSONPtr                 `json:"ptr"`
		InMap    map[string]encJSONPtr      `json:"inMap"`
		InSlice  []encJSONPtr               `json:"inSlice"`
		Text     encText                    `json:"text"`
		TextKeys map[string]encText         `json:"textKeys"`
		Null     encNull                    `json:"null,omitempty"`
		EmptyJS  encEmptyJS                 `json:"emptyJS,omitempty"`
		EmptyTxt encText                    `json:"emptyTxt,omitempty"`
		Ref      *xpv1.Reference            `json:"ref"`
		Policies xpv1.ManagementPolicies    `json:"policies"`
		Duration time.Duration              `json:"duration"`
		Raw      runtime.RawExtension       `json:"raw"`
		Selector *metav1.LabelSelector      `json:"selector"`
		Secret   map[string]*metav1.Time    `json:"secret"`
		Slice    []*metav1.Time             `json:"slice"`
		Strings  map[string]map[string]*int `json:"strings"`
	}
	encPointers struct {
		Struct   *encInner          `json:"struct"`
		Strings  []*string          `json:"strings"`
		Map      map[string]*string `json:"map"`
		PtrPtr   **int              `json:"ptrPtr"`
		NilInner **int              `json:"nilInner"`
	}
	encBytes struct {
		Bytes []byte  `json:"bytes"`
		Empty []byte  `json:"empty"`
		Array [3]byte `json:"array"`
	}
	encNumbers struct {
		MaxInt64  int64   `json:"maxInt64"`
		MaxUint64 uint64  `json:"maxUint64"`
		Odd       int64   `json:"odd"`
		Neg       int8    `json:"neg"`
		Float32   float32 `json:"float32"`
		Float64   float64 `json:"float64"`
		NegZero   float64 `json:"negZero"`
		Shorts    []uint16
	}
	encIfaces struct {
		Int    any            `json:"int"`
		Map    any            `json:"map"`
		List   []any          `json:"list"`
		Struct any            `json:"struct"`
		Nil    any            `json:"nil"`
		Any    map[string]any `json:"any"`
		NaN    any            `json:"nan"`
	}
	encFallback struct {
		IntKeys  map[int]string    `json:"intKeys"`
		Stringed int               `json:"stringed,string"`
		Extra    map[string]string `json:",inline"`
		Named    string            `json:"named"`
	}
	encHasFallback struct {
		Inner encFallback   `json:"inner"`
		Dur   time.Duration `json:"dur"`
		When  time.Time     `json:"when"`
	}
	encOddTag struct {
		A string `json:"a,foo"`
		B string `json:"b,omitempty,nocase"`
	}
	encMalformedTag struct {
		A string `json:"a,omitEmpty"`
	}
	encNaN struct {
		F float64 `json:"f"`
	}
	encBadUTF8 struct {
		S string `json:"s"`
	}
	encChan struct {
		C chan int `json:"c"`
	}
	encCycle struct {
		Next *encCycle `json:"next"`
	}
	encRecursive struct {
		Name     string          `json:"name"`
		Children []*encRecursive `json:"children,omitempty"`
	}
)

func cycle() *encCycle {
	c := &encCycle{}
	c.Next = c
	return c
}

func (p *encJSONPtr) MarshalJSON() ([]byte, error) {
	return []byte(`{"n": ` + strings.Repeat("1", p.N) + `}`), nil
}

func (t encText) MarshalText() ([]byte, error) {
	if t == "" {
		return nil, nil
	}
	return []byte("text:" + string(t)), nil
}

func (encNull) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

func (encEmptyJS) MarshalJSON() ([]byte, error) { return []byte(" {} "), nil }

// encode is ToStruct's walk of one value.
func encode(v any) (*structpb.Value, error) {
	rv := reflect.New(reflect.TypeOf(v)).Elem()
	rv.Set(reflect.ValueOf(v))
	return planFor(rv.Type()).encode(&encoder{}, rv, false)
}

// encodeViaJSON is the chain's view of one value: go-json-experiment/json to an any, then structpb.
func encodeViaJSON(v any) (*structpb.Value, error) {
	j, err := jsonv2.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := jsonv2.Unmarshal(j, &out); err != nil {
		return nil, err
	}
	return structpb.NewValue(out)
}

func TestEncodeRules(t *testing.T) {
	one, s, empty := 1, "s", ""
	pone := &one
	set := metav1.NewTime(time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC))
	cases := map[string]struct {
		reason string
		v      any
		want   string // JSON; "" for an error
	}{
		"OmitEmpty": {
			reason: "omitempty omits what encodes as null, \"\", {} or [], not false or 0.",
			v:      encOmitEmpty{EmptyMap: map[string]string{}, EmptySlice: []string{}, StructPtr: &encInner{}, Bytes: []byte{}, Full: encInner{B: &one}},
			want:   `{"false":false,"zero":0,"full":{"b":1}}`,
		},
		"Nils": {
			reason: "Without omitempty a nil slice is [], a nil map {}, a nil pointer or interface null, nil bytes \"\".",
			v:      encNils{},
			want:   `{"slice":[],"map":{},"ptr":null,"bytes":"","iface":null,"struct":{}}`,
		},
		"OmitZero": {
			reason: "omitzero omits zero values, by their IsZero method where they have one.",
			v:      encOmitZero{SetTime: set, NonZero: 2, EmptyPtr: &encInner{}},
			want:   `{"setTime":"2024-05-06T07:08:09Z","nonZero":2,"emptyPtr":{}}`,
		},
		"Inline": {
			reason: "Embedded and inline structs lend their fields; the shallowest or only tagged field wins a name, a tie drops it.",
			v: encInline{
				EncBase:    EncBase{Base: "b", Shadow: "lost", Tie: "lost", Tagged: "lost"},
				EncOther:   EncOther{Tie: "lost", Other: "tagged"},
				EncPtrBase: &EncPtrBase{PtrField: "p", EncDeep: EncDeep{Deep: "ignored"}},
				Named:      EncDeep{Deep: "deep"},
				Shadow:     "shadow",
				Own:        "own",
			},
			want: `{"base":"b","Tagged":"tagged","ptrField":"p","deep":"deep","shadow":"shadow","own":"own"}`,
		},
		"InlineNilPointer": {
			reason: "The fields of a nil embedded pointer are left out.",
			v:      encInline{Own: "own"},
			want:   `{"base":"","Tagged":"","deep":"","shadow":"","own":"own"}`,
		},
		"Ignored": {
			reason: "json:\"-\" and unexported fields are skipped; no name means the Go name.",
			v:      encIgnored{Skipped: "x", hidden: "x", GoName: "g"},
			want:   `{"GoName":"g"}`,
		},
		"Methods": {
			reason: "MarshalJSON and MarshalText say what a type encodes as, pointer receivers included.",
			v: encMethods{
				Time: set, Quantity: kresource.MustParse("1500m"), IntStr: intstr.FromInt32(3), StrInt: intstr.FromString("50%"),
				Ptr: encJSONPtr{N: 2}, InMap: map[string]encJSONPtr{"k": {N: 1}}, InSlice: []encJSONPtr{{N: 3}},
				Text: "t", TextKeys: map[string]encText{"k": "v"},
				Ref: &xpv1.Reference{Name: "r"}, Policies: xpv1.ManagementPolicies{xpv1.ManagementActionObserve},
				Duration: 90 * time.Second, Raw: runtime.RawExtension{Raw: []byte(`{"a":[1,"x",null,true]}`)},
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}},
				Secret:   map[string]*metav1.Time{"set": &set, "nil": nil},
				Slice:    []*metav1.Time{nil, &set},
				Strings:  map[string]map[string]*int{"a": {"b": &one, "c": nil}, "d": nil},
			},
			want: `{"time":"2024-05-06T07:08:09Z","quantity":"1500m","intStr":3,"strInt":"50%","ptr":{"n":11},
"inMap":{"k":{"n":1}},"inSlice":[{"n":111}],"text":"text:t","textKeys":{"k":"text:v"},"ref":{"name":"r"},
"policies":["Observe"],"duration":"1m30s","raw":{"a":[1,"x",null,true]},"selector":{"matchLabels":{"a":"b"}},
"secret":{"set":"2024-05-06T07:08:09Z","nil":null},"slice":[null,"2024-05-06T07:08:09Z"],"strings":{"a":{"b":1,"c":null},"d":{}}}`,
		},
		"Pointers": {
			reason: "Pointers encode as what they point to, nil ones (in lists and maps too) as null.",
			v:      encPointers{Struct: &encInner{A: "a"}, Strings: []*string{&s, nil, &empty}, Map: map[string]*string{"s": &s, "nil": nil}, PtrPtr: &pone, NilInner: new(*int)},
			want:   `{"struct":{"a":"a"},"strings":["s",null,""],"map":{"s":"s","nil":null},"ptrPtr":1,"nilInner":null}`,
		},
		"Bytes": {
			reason: "[]byte and [N]byte are base64.",
			v:      encBytes{Bytes: []byte("hello"), Array: [3]byte{1, 2, 3}},
			want:   `{"bytes":"aGVsbG8=","empty":"","array":"AQID"}`,
		},
		"Numbers": {
			reason: "Numbers become float64, as the chain's map holds them; float32 as its shortest text reads back.",
			v:      encNumbers{MaxInt64: math.MaxInt64, MaxUint64: math.MaxUint64, Odd: 1<<60 + 1, Neg: -8, Float32: 0.1, Float64: 0.1, NegZero: math.Copysign(0, -1), Shorts: []uint16{1, 2}},
			want:   `{"maxInt64":9223372036854775807,"maxUint64":18446744073709551615,"odd":1152921504606846977,"neg":-8,"float32":0.1,"float64":0.1,"negZero":-0,"Shorts":[1,2]}`,
		},
		"Interfaces": {
			reason: "An interface encodes as its dynamic value; a non-finite float64 in an any is a string.",
			v:      encIfaces{Int: 7, Map: map[string]any{"a": []any{1.5, "x"}}, List: []any{nil, true}, Struct: &encInner{A: "a"}, Any: map[string]any{"n": nil}, NaN: math.Inf(-1)},
			want:   `{"int":7,"map":{"a":[1.5,"x"]},"list":[null,true],"struct":{"a":"a"},"nil":null,"any":{"n":null},"nan":"-Infinity"}`,
		},
		"Fallback": {
			reason: "Non-string map keys, the string option, inlined maps and time types are left to the JSON encoder.",
			v:      encHasFallback{Inner: encFallback{IntKeys: map[int]string{1: "a"}, Stringed: 5, Extra: map[string]string{"x": "y"}, Named: "n"}, Dur: time.Second, When: set.Time},
			want:   `{"inner":{"intKeys":{"1":"a"},"stringed":"5","x":"y","named":"n"},"dur":"1s","when":"2024-05-06T07:08:09Z"}`,
		},
		"OddTags": {
			reason: "Options the encoder ignores on marshal (unknown ones, nocase) change nothing.",
			v:      encOddTag{},
			want:   `{"a":""}`,
		},
		"MalformedTag": {
			reason: "A misspelt option is refused by the encoder, and so here.",
			v:      encMalformedTag{},
		},
		"Recursive": {
			reason: "A recursive type is planned once and walked to any depth.",
			v:      encRecursive{Name: "a", Children: []*encRecursive{{Name: "b", Children: []*encRecursive{{Name: "c"}}}, nil}},
			want:   `{"name":"a","children":[{"name":"b","children":[{"name":"c"}]},null]}`,
		},
		"Cycle": {
			reason: "A cycle of pointers is refused, not a stack overflow.",
			v:      cycle(),
		},
		"NaN": {
			reason: "A non-finite float64 is refused.",
			v:      encNaN{F: math.NaN()},
		},
		"InvalidUTF8": {
			reason: "A string of invalid UTF-8 is refused.",
			v:      encBadUTF8{S: "\xff"},
		},
		"Chan": {
			reason: "A channel is refused.",
			v:      encChan{C: make(chan int)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			chain, cerr := encodeViaJSON(tc.v)
			got, err := encode(tc.v)
			if tc.want == "" {
				if err == nil || cerr == nil {
					t.Errorf("\n%s\nencode(...): got %v, chain %v, want errors", tc.reason, err, cerr)
				}
				return
			}
			if err != nil || cerr != nil {
				t.Fatalf("\n%s\nencode(...): %v, chain: %v", tc.reason, err, cerr)
			}
			want := &structpb.Value{}
			if err := want.UnmarshalJSON([]byte(tc.want)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("\n%s\nencode(...): -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(chain, got, protocmp.Transform()); diff != "" {
				t.Errorf("\n%s\nencode(...): -chain, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestEncodeErrorPath(t *testing.T) {
	bad := "\xff"
	cases := map[string]struct {
		reason string
		v      any
		want   string
	}{
		"Field": {
			reason: "An error names the member it happened in.",
			v:      encBadUTF8{S: bad},
			want:   "cannot encode s: cannot encode invalid UTF-8 in a string",
		},
		"Nested": {
			reason: "An error deep down names the path to it.",
			v:      encPointers{Struct: &encInner{A: bad}},
			want:   "cannot encode struct.a: cannot encode invalid UTF-8 in a string",
		},
		"MapValue": {
			reason: "A map value is named by its key.",
			v:      encPointers{Map: map[string]*string{"k": &bad}},
			want:   "cannot encode map: cannot encode invalid UTF-8 in map value \"k\"",
		},
		"MapOfStructs": {
			reason: "A map value is named by its key.",
			v:      map[string]encInner{"k": {A: bad}},
			want:   "cannot encode k.a: cannot encode invalid UTF-8 in a string",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := encode(tc.v)
			if err == nil || err.Error() != tc.want {
				t.Errorf("\n%s\nencode(...): got error %v, want %q", tc.reason, err, tc.want)
			}
		})
	}
}

func TestEncodeJSONToValue(t *testing.T) {
	cases := map[string]struct {
		reason string
		j      string
		want   string // JSON; "" for an error
	}{
		"Nested":    {"Objects, arrays and scalars convert.", ` {"a":[1,2.5e3,-0,"s",null,false,{}]} `, `{"a":[1,2500,-0,"s",null,false,{}]}`},
		"Overflow":  {"A number too large for a float64 is its largest, as the chain reads it.", `1e400`, `1.7976931348623157e308`},
		"Duplicate": {"Duplicate names are refused, as the encoder refuses them.", `{"a":1,"a":2}`, ""},
		"Trailing":  {"Two values are refused.", `1 2`, ""},
		"Empty":     {"Nothing is refused.", ``, ""},
		"BadUTF8":   {"Invalid UTF-8 is refused.", "\"\xff\"", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := jsonToValue([]byte(tc.j))
			if tc.want == "" {
				if err == nil {
					t.Errorf("\n%s\njsonToValue(%q): got %v, want an error", tc.reason, tc.j, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("\n%s\njsonToValue(%q): %v", tc.reason, tc.j, err)
			}
			want := &structpb.Value{}
			if err := want.UnmarshalJSON([]byte(tc.want)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
				t.Errorf("\n%s\njsonToValue(%q): -want, +got:\n%s", tc.reason, tc.j, diff)
			}
		})
	}
}

// BenchmarkToStruct compares ToStruct with the composed.From chain over every resource of the
// Ready state (one op: all of them).
func BenchmarkToStruct(b *testing.B) {
	if err := RegisterScheme(); err != nil {
		b.Fatal(err)
	}
	d := desiredFor(b, newRequest(testInput, testXR(testSpec), converge(b, testInput, testXR(testSpec), 0)))
	cases := map[string]func(runtime.Object) (*structpb.Struct, error){
		"ToStruct": ToStruct,
		"Chain":    viaChain,
	}
	for name, fn := range cases {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, n := range d.Order {
					if _, err := fn(d.Resources[n]); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(len(d.Order)), "resources")
		})
	}
}

func mustStruct(t *testing.T, j string) *structpb.Struct {
	t.Helper()
	s := &structpb.Struct{}
	if err := s.UnmarshalJSON([]byte(j)); err != nil {
		t.Fatal(err)
	}
	return s
}

func unstructuredOf(m map[string]any) unstructured.Unstructured {
	return unstructured.Unstructured{Object: m}
}
