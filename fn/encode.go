package fn

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"google.golang.org/protobuf/types/known/structpb"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/crossplane/function-sdk-go/errors"
	"github.com/crossplane/function-sdk-go/resource/composed"
)

// This file encodes typed managed resources straight into protobuf Structs. It gives what
// composed.From (a go-json-experiment/json round trip into map[string]any) followed by
// structpb.NewStruct gives, without the JSON bytes and the intermediate map: a plan per Go type,
// made once, says how to walk its values. The rules are those of go-json-experiment/json's
// default Marshal, the ones composed.From uses:
//
//   - a struct field is named by its json tag, else by its Go name; `json:"-"` and unexported
//     fields are skipped; embedded structs without a name (and `inline` ones) lend their fields,
//     the shallowest (or the only tagged) field winning a name and a tie dropping the name;
//   - omitempty omits a field whose value would encode as null, "", {} or [] (not false or 0);
//     omitzero omits a zero value (or one whose IsZero method says so);
//   - a nil pointer or interface is null, a nil slice [] and a nil map {}; []byte is base64;
//   - every number becomes a float64, as the map of composed.From holds it;
//   - a type with a MarshalJSON or MarshalText method (or AppendText) is what the method says;
//   - anything rarer (MarshalJSONV2, time.Time and time.Duration, maps keyed by other than
//     strings, the `string`, `format` and `unknown` tag options, inlined maps, malformed tags)
//     is encoded by go-json-experiment/json itself and its JSON converted, so that it stays
//     exactly what composed.From gives, error included.

// ToStruct returns the object as the protobuf Struct composed.From followed by structpb.NewStruct
// would give, without "status". Like composed.From it sets the object's GroupVersionKind from
// composed.Scheme, drops metadata.generation and drops metadata when that leaves it empty.
func ToStruct(o runtime.Object) (*structpb.Struct, error) {
	if u, ok := o.(interface{ UnstructuredContent() map[string]any }); ok {
		return unstructuredToStruct(u.UnstructuredContent())
	}
	gvks, _, err := composed.Scheme.ObjectKinds(o)
	if err != nil {
		return nil, errors.Wrap(err, "did you add it to composed.Scheme?")
	}
	rv := reflect.ValueOf(o)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		// The scheme takes only pointers; composed.From would panic on a nil one.
		return nil, errors.Errorf("cannot encode %T: want a non-nil pointer", o)
	}
	for _, gvk := range gvks {
		o.GetObjectKind().SetGroupVersionKind(gvk)
	}
	rv = rv.Elem()
	p := planFor(rv.Type())
	e := encoders.Get().(*encoder) //nolint:forcetypeassert // Only encoders are pooled.
	defer encoders.Put(e)
	e.members, e.depth = e.members[:0], 0
	var v *structpb.Value
	if p.op == opStruct {
		v, err = p.encodeStruct(e, rv, "status", false)
	} else {
		v, err = p.encode(e, rv, false)
	}
	if err != nil {
		return nil, errors.Wrapf(err, "cannot encode %T", o)
	}
	s := v.GetStructValue()
	if s == nil {
		return nil, errors.Errorf("cannot encode %T: it does not encode as a JSON object", o)
	}
	delete(s.Fields, "status")
	if m := s.Fields["metadata"].GetStructValue(); m != nil {
		delete(m.Fields, "generation")
		if len(m.Fields) == 0 {
			delete(s.Fields, "metadata")
		}
	}
	return s, nil
}

// unstructuredToStruct is ToStruct of unstructured content, which composed.From takes as it is.
func unstructuredToStruct(m map[string]any) (*structpb.Struct, error) {
	s := &structpb.Struct{Fields: make(map[string]*structpb.Value, len(m))}
	for k, v := range m {
		if k == "status" {
			continue
		}
		if !utf8.ValidString(k) {
			return nil, errors.Errorf("cannot encode invalid UTF-8 in field name %q", k)
		}
		pv, err := structpb.NewValue(v)
		if err != nil {
			return nil, errors.Wrapf(err, "cannot encode field %q", k)
		}
		s.Fields[k] = pv
	}
	return s, nil
}

// op is how a plan encodes its values.
type op uint8

const (
	opInvalid     op = iota // the JSON encoder refuses the type (chan, func, complex...)
	opBool                  // JSON true or false
	opString                // a JSON string
	opInt                   // a JSON number, from any signed integer
	opUint                  // a JSON number, from any unsigned integer
	opFloat32               // a JSON number written with float32 precision
	opFloat64               // a JSON number
	opBytes                 // base64 of a []byte or [N]byte
	opStruct                // a JSON object of the struct's fields
	opMap                   // a JSON object of a string-keyed map
	opSlice                 // a JSON array; nil is []
	opArray                 // a JSON array
	opPointer               // null or what the pointee encodes as
	opInterface             // null or what the dynamic value encodes as
	opMarshalJSON           // what the MarshalJSON method says
	opMarshalText           // a JSON string of what MarshalText says
	opAppendText            // a JSON string of what AppendText says
	opFallback              // what go-json-experiment/json says, converted
)

// A plan encodes the values of one Go type.
type plan struct {
	t  reflect.Type
	op op
	// elem is the plan of the pointee, element or map value.
	elem   *plan
	fields []planField
	// methods is whether the type encodes through a method or go-json-experiment/json, so that
	// an empty Go value does not tell whether its JSON is empty.
	methods bool
}

// A planField is a struct field that encodes as an object member.
type planField struct {
	name string
	// index is the field's path through embedded structs; viaPointer is whether a step of it goes
	// through a pointer, which is skipped (with the field) when nil.
	index      []int
	viaPointer bool
	plan       *plan
	omitempty  bool
	omitzero   bool
	// isZero is the omitzero test of a type with an IsZero method.
	isZero func(reflect.Value) bool
	// emptyKind is set when omitempty can be decided from the Go value: by length or nil.
	emptyKind reflect.Kind
}

var (
	plans     sync.Map   //nolint:gochecknoglobals // A cache of immutable plans, by reflect.Type.
	planMu    sync.Mutex //nolint:gochecknoglobals // Serialises the making of plans.
	bytesTy   = reflect.TypeFor[[]byte]()
	timeTy    = reflect.TypeFor[time.Time]()
	durTy     = reflect.TypeFor[time.Duration]()
	valueTy   = reflect.TypeFor[jsontext.Value]()
	anyTy     = reflect.TypeFor[any]()
	float64Ty = reflect.TypeFor[float64]()

	marshalerV2Ty   = reflect.TypeFor[jsonv2.MarshalerV2]()
	marshalerV1Ty   = reflect.TypeFor[jsonv2.MarshalerV1]()
	textAppenderTy  = reflect.TypeFor[interface{ AppendText([]byte) ([]byte, error) }]()
	textMarshalerTy = reflect.TypeFor[encoding.TextMarshaler]()
	unmarshalerV2Ty = reflect.TypeFor[jsonv2.UnmarshalerV2]()
	unmarshalerV1Ty = reflect.TypeFor[jsonv2.UnmarshalerV1]()
	textUnmarshalTy = reflect.TypeFor[encoding.TextUnmarshaler]()
	isZeroerTy      = reflect.TypeFor[interface{ IsZero() bool }]()
)

// planFor returns the plan of a type, making it (and the plans it needs) once.
func planFor(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan) //nolint:forcetypeassert // Only plans are stored.
	}
	planMu.Lock()
	defer planMu.Unlock()
	if p, ok := plans.Load(t); ok {
		return p.(*plan) //nolint:forcetypeassert // Only plans are stored.
	}
	b := planner{made: map[reflect.Type]*plan{}}
	p := b.plan(t)
	// Publish only complete plans: a recursive type's plan refers to itself while it is made.
	for t, p := range b.made {
		plans.Store(t, p)
	}
	return p
}

// A planner makes the plans of one planFor call.
type planner struct {
	made map[reflect.Type]*plan
}

// implementsAny returns whether t or *t implements one of the interfaces.
func implementsAny(t reflect.Type, ifaces ...reflect.Type) reflect.Type {
	for _, i := range ifaces {
		if t.Implements(i) || reflect.PointerTo(t).Implements(i) {
			return i
		}
	}
	return nil
}

func (b *planner) plan(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan) //nolint:forcetypeassert // Only plans are stored.
	}
	if p, ok := b.made[t]; ok {
		return p
	}
	p := &plan{t: t}
	b.made[t] = p

	// Methods win over the kind, except on pointers and interfaces (whose pointee or dynamic
	// value has them); time's types are special-cased by the JSON encoder.
	if k := t.Kind(); k != reflect.Pointer && k != reflect.Interface {
		p.methods = true
		switch {
		case t == timeTy || t == durTy:
			p.op = opFallback
			return p
		}
		switch implementsAny(t, marshalerV2Ty, marshalerV1Ty, textAppenderTy, textMarshalerTy) {
		case marshalerV2Ty:
			p.op = opFallback
			return p
		case marshalerV1Ty:
			p.op = opMarshalJSON
			return p
		case textAppenderTy:
			p.op = opAppendText
			return p
		case textMarshalerTy:
			p.op = opMarshalText
			return p
		}
		p.methods = false
	}

	switch t.Kind() {
	case reflect.Bool:
		p.op = opBool
	case reflect.String:
		p.op = opString
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		p.op = opInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		p.op = opUint
	case reflect.Float32:
		p.op = opFloat32
	case reflect.Float64:
		p.op = opFloat64
	case reflect.Slice:
		if t.AssignableTo(bytesTy) {
			p.op = opBytes
			break
		}
		p.op = opSlice
		p.elem = b.plan(t.Elem())
	case reflect.Array:
		if reflect.SliceOf(t.Elem()).AssignableTo(bytesTy) {
			p.op = opBytes
			break
		}
		p.op = opArray
		p.elem = b.plan(t.Elem())
	case reflect.Map:
		k := t.Key()
		if k.Kind() != reflect.String || implementsAny(k, marshalerV2Ty, marshalerV1Ty, textAppenderTy, textMarshalerTy) != nil {
			// Keys that are not plain strings are rare: let the JSON encoder format them.
			p.op, p.methods = opFallback, true
			break
		}
		p.op = opMap
		p.elem = b.plan(t.Elem())
	case reflect.Pointer:
		p.op = opPointer
		p.elem = b.plan(t.Elem())
	case reflect.Interface:
		p.op = opInterface
	case reflect.Struct:
		fields, ok := b.structFields(t)
		if !ok {
			p.op, p.methods = opFallback, true
			break
		}
		p.op = opStruct
		p.fields = fields
	default:
		p.op = opInvalid
	}
	return p
}

// needsAddr returns whether a plan needs an addressable value: one it can take the address of to
// call a method with a pointer receiver, or a struct or array whose parts may.
func needsAddr(p *plan) bool {
	switch p.op {
	case opBool, opString, opInt, opUint, opFloat32, opFloat64, opMap, opSlice, opPointer, opInterface:
		return false
	case opBytes:
		return p.t.Kind() == reflect.Array
	default:
		return true
	}
}

// tagOptions are the options of a json struct tag that the plans support.
type tagOptions struct {
	name      string
	hasName   bool
	inline    bool
	omitempty bool
	omitzero  bool
	cased     bool // nocase or strictcase: they only matter when decoding
}

// parseTag parses a json struct tag. It returns false for what the plans leave to the JSON
// encoder: rare options (string, format, unknown), quoted names, and tags it would refuse.
func parseTag(sf reflect.StructField) (tagOptions, bool) {
	tag := sf.Tag.Get("json")
	o := tagOptions{name: sf.Name}
	if tag != "" && !strings.HasPrefix(tag, ",") {
		n := strings.IndexAny(tag, ",\\'\"`")
		if n < 0 {
			n = len(tag)
		}
		if n == 0 {
			return o, false // a quoted name
		}
		o.name, o.hasName, tag = tag[:n], true, tag[n:]
	}
	if !utf8.ValidString(o.name) {
		return o, false
	}
	seen := map[string]bool{}
	for tag != "" {
		if tag[0] != ',' {
			return o, false // a quote or backslash after the name
		}
		tag = tag[1:]
		opt := tag
		if i := strings.IndexByte(tag, ','); i >= 0 {
			opt = tag[:i]
		}
		tag = tag[len(opt):]
		if opt == "" || seen[opt] {
			return o, false
		}
		seen[opt] = true
		switch opt {
		case "omitempty":
			o.omitempty = true
		case "omitzero":
			o.omitzero = true
		case "inline":
			o.inline = true
		case "nocase", "strictcase":
			if o.cased {
				return o, false
			}
			o.cased = true
		default:
			// string, format, unknown, misspelt options, anything that is not a plain identifier.
			return o, false
		}
	}
	return o, true
}

// structFields returns the fields of a struct type as the JSON encoder marshals them, breadth
// first through inlined structs, or false for what the plans leave to the JSON encoder.
func (b *planner) structFields(root reflect.Type) ([]planField, bool) {
	type queued struct {
		t             reflect.Type
		index         []int
		viaPointer    bool
		visitChildren bool
	}
	type candidate struct {
		planField
		typ     reflect.Type
		hasName bool
	}
	queue := []queued{{t: root, visitChildren: true}}
	seen := map[reflect.Type]bool{root: true}
	var all []candidate
	for qi := 0; qi < len(queue); qi++ {
		q := queue[qi]
		names := map[string]bool{}
		var anyTag, anyField bool
		for i := range q.t.NumField() {
			sf := q.t.Field(i)
			tag, hasTag := sf.Tag.Lookup("json")
			anyTag = anyTag || hasTag
			if tag == "-" {
				continue
			}
			if !sf.IsExported() {
				if sf.Anonymous || hasTag {
					return nil, false // the JSON encoder refuses these
				}
				continue
			}
			o, ok := parseTag(sf)
			if !ok {
				return nil, false
			}
			anyField = true
			index := append(append(make([]int, 0, len(q.index)+1), q.index...), i)
			if sf.Anonymous && !o.hasName {
				o.inline = true
			}
			if o.inline {
				if o.hasName || o.omitempty || o.omitzero || o.cased {
					return nil, false // refused by the JSON encoder
				}
				tf, viaPointer := sf.Type, q.viaPointer
				if tf.Kind() == reflect.Pointer && tf.Name() == "" {
					tf, viaPointer = tf.Elem(), true
				}
				if tf.Kind() != reflect.Struct || tf == valueTy ||
					implementsAny(tf, marshalerV2Ty, marshalerV1Ty, textMarshalerTy, unmarshalerV2Ty, unmarshalerV1Ty, textUnmarshalTy) != nil {
					return nil, false // inlined maps or values, or refused by the JSON encoder
				}
				if q.visitChildren {
					queue = append(queue, queued{t: tf, index: index, viaPointer: viaPointer, visitChildren: !seen[tf]})
				}
				seen[tf] = true
				continue
			}
			if names[o.name] {
				return nil, false // two fields of one struct with one name: refused
			}
			names[o.name] = true
			f := planField{
				name:       o.name,
				index:      index,
				viaPointer: q.viaPointer && len(index) > 1,
				omitempty:  o.omitempty,
				omitzero:   o.omitzero,
			}
			if o.omitzero {
				f.isZero = zeroTest(sf.Type)
			}
			all = append(all, candidate{planField: f, typ: sf.Type, hasName: o.hasName})
		}
		if q.t.NumField() > 0 && !anyTag && !anyField {
			return nil, false // "Go struct has no exported fields"
		}
	}

	// The dominant field of a name is the shallowest, then the one with a tag name; a tie drops it.
	slices.SortStableFunc(all, func(x, y candidate) int {
		switch {
		case x.name != y.name:
			return strings.Compare(x.name, y.name)
		case len(x.index) != len(y.index):
			return len(x.index) - len(y.index)
		case x.hasName && !y.hasName:
			return -1
		case !x.hasName && y.hasName:
			return +1
		}
		return 0
	})
	var out []candidate
	for len(all) > 0 {
		n := 1
		for n < len(all) && all[n].name == all[0].name {
			n++
		}
		if n == 1 || len(all[0].index) != len(all[1].index) || all[0].hasName != all[1].hasName {
			out = append(out, all[0])
		}
		all = all[n:]
	}
	slices.SortFunc(out, func(x, y candidate) int { return slices.Compare(x.index, y.index) })

	fields := make([]planField, len(out))
	for i, c := range out {
		f, ft := c.planField, c.typ
		f.plan = b.plan(ft)
		if f.omitempty {
			switch ft.Kind() {
			case reflect.String, reflect.Map, reflect.Slice, reflect.Array:
				if !f.plan.methods {
					f.emptyKind = ft.Kind()
				}
			case reflect.Pointer, reflect.Interface:
				f.emptyKind = ft.Kind()
			}
		}
		fields[i] = f
	}
	return fields, true
}

// zeroTest returns the omitzero test of a type with an IsZero method, or nil to use
// reflect.Value.IsZero.
func zeroTest(t reflect.Type) func(reflect.Value) bool {
	isZero := func(v any) bool { return v.(interface{ IsZero() bool }).IsZero() } //nolint:forcetypeassert // Checked below.
	switch {
	case t.Kind() == reflect.Interface && t.Implements(isZeroerTy):
		return func(v reflect.Value) bool {
			return v.IsNil() || (v.Elem().Kind() == reflect.Pointer && v.Elem().IsNil()) || isZero(v.Interface())
		}
	case t.Kind() == reflect.Pointer && t.Implements(isZeroerTy):
		return func(v reflect.Value) bool { return v.IsNil() || isZero(v.Interface()) }
	case t.Implements(isZeroerTy):
		return func(v reflect.Value) bool { return isZero(v.Interface()) }
	case reflect.PointerTo(t).Implements(isZeroerTy):
		return func(v reflect.Value) bool { return isZero(v.Addr().Interface()) }
	}
	return nil
}

// An encoder is the scratch space of one ToStruct call.
type encoder struct {
	// members holds the members of the structs being encoded, innermost last, so that each
	// Struct's map is made once and at its size.
	members []member
	// depth is how many objects and arrays deep the encoding is.
	depth int
}

// maxDepth is how deep the JSON encoder nests objects and arrays before it gives up (which is
// also how a cycle of pointers ends, rather than in a stack overflow).
const maxDepth = 10000

// enter goes one object or array deeper.
func (e *encoder) enter() error {
	e.depth++
	if e.depth > maxDepth {
		return errors.Errorf("cannot encode objects and arrays nested more than %d deep", maxDepth)
	}
	return nil
}

type member struct {
	name  string
	value *structpb.Value
}

var encoders = sync.Pool{New: func() any { return &encoder{} }} //nolint:gochecknoglobals // A pool of scratch space.

// The boxes put a structpb value and what it holds in one allocation.
type (
	stringBox struct {
		v structpb.Value
		k structpb.Value_StringValue
	}
	numberBox struct {
		v structpb.Value
		k structpb.Value_NumberValue
	}
	boolBox struct {
		v structpb.Value
		k structpb.Value_BoolValue
	}
	nullBox struct {
		v structpb.Value
		k structpb.Value_NullValue
	}
	structBox struct {
		v structpb.Value
		k structpb.Value_StructValue
		s structpb.Struct
	}
	listBox struct {
		v structpb.Value
		k structpb.Value_ListValue
		l structpb.ListValue
	}
)

func stringValue(s string) *structpb.Value {
	b := &stringBox{k: structpb.Value_StringValue{StringValue: s}}
	b.v.Kind = &b.k
	return &b.v
}

func numberValue(f float64) *structpb.Value {
	b := &numberBox{k: structpb.Value_NumberValue{NumberValue: f}}
	b.v.Kind = &b.k
	return &b.v
}

func boolValue(t bool) *structpb.Value {
	b := &boolBox{k: structpb.Value_BoolValue{BoolValue: t}}
	b.v.Kind = &b.k
	return &b.v
}

func nullValue() *structpb.Value {
	b := &nullBox{}
	b.v.Kind = &b.k
	return &b.v
}

// structValue returns a value holding a Struct with room for n fields.
func structValue(n int) (*structpb.Value, *structpb.Struct) {
	b := &structBox{}
	b.s.Fields = make(map[string]*structpb.Value, n)
	b.k.StructValue = &b.s
	b.v.Kind = &b.k
	return &b.v, &b.s
}

// listValue returns a value holding a ListValue of n values.
func listValue(n int) (*structpb.Value, *structpb.ListValue) {
	b := &listBox{}
	b.l.Values = make([]*structpb.Value, n)
	b.k.ListValue = &b.l
	b.v.Kind = &b.k
	return &b.v, &b.l
}

// encode returns the structpb value of v, an addressable value of the plan's type. When omit
// (omitempty) is set it returns nil instead of a value that is null, "", {} or [].
func (p *plan) encode(e *encoder, v reflect.Value, omit bool) (*structpb.Value, error) { //nolint:gocyclo // One case per op.
	switch p.op {
	case opBool:
		return boolValue(v.Bool()), nil
	case opString:
		s := v.String()
		if !utf8.ValidString(s) {
			return nil, errors.Errorf("cannot encode invalid UTF-8 in a %s", p.t)
		}
		if omit && s == "" {
			return nil, nil
		}
		return stringValue(s), nil
	case opInt:
		return numberValue(float64(v.Int())), nil
	case opUint:
		return numberValue(float64(v.Uint())), nil
	case opFloat32, opFloat64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errors.Errorf("cannot encode %v as a JSON number", f)
		}
		if p.op == opFloat32 {
			// JSON holds the shortest float32 text, which reads back as a different float64.
			var buf [32]byte
			f, _ = strconv.ParseFloat(string(strconv.AppendFloat(buf[:0], f, 'g', -1, 32)), 64)
		}
		return numberValue(f), nil
	case opBytes:
		if omit && v.Len() == 0 {
			return nil, nil
		}
		// Bytes works on a byte array because it is addressable.
		return stringValue(base64.StdEncoding.EncodeToString(v.Bytes())), nil
	case opStruct:
		return p.encodeStruct(e, v, "", omit)
	case opMap:
		return p.encodeMap(e, v, omit)
	case opSlice, opArray:
		return p.encodeList(e, v, omit)
	case opPointer:
		if v.IsNil() {
			if omit {
				return nil, nil
			}
			return nullValue(), nil
		}
		return p.elem.encode(e, v.Elem(), omit)
	case opInterface:
		if v.IsNil() {
			if omit {
				return nil, nil
			}
			return nullValue(), nil
		}
		ev := v.Elem()
		if p.t == anyTy && ev.Type() == float64Ty && (math.IsNaN(ev.Float()) || math.IsInf(ev.Float(), 0)) {
			// The JSON encoder writes a non-finite float64 held by an any as a string.
			return stringValue(nonFinite(ev.Float())), nil
		}
		ep := planFor(ev.Type())
		if needsAddr(ep) {
			c := reflect.New(ev.Type()).Elem()
			c.Set(ev)
			ev = c
		}
		return ep.encode(e, ev, omit)
	}

	// The rest encode to JSON first.
	var val *structpb.Value
	var err error
	switch p.op {
	case opMarshalJSON:
		var j []byte
		j, err = v.Addr().Interface().(jsonv2.MarshalerV1).MarshalJSON() //nolint:forcetypeassert // Planned so.
		if err != nil {
			return nil, errors.Wrapf(err, "cannot marshal a %s", p.t)
		}
		val, err = jsonToValue(j)
	case opMarshalText, opAppendText:
		var t []byte
		if p.op == opAppendText {
			t, err = v.Addr().Interface().(interface{ AppendText([]byte) ([]byte, error) }).AppendText(nil) //nolint:forcetypeassert // Planned so.
		} else {
			t, err = v.Addr().Interface().(encoding.TextMarshaler).MarshalText() //nolint:forcetypeassert // Planned so.
		}
		if err != nil {
			return nil, errors.Wrapf(err, "cannot marshal a %s", p.t)
		}
		if !utf8.Valid(t) {
			return nil, errors.Errorf("cannot encode invalid UTF-8 from a %s", p.t)
		}
		val = stringValue(string(t))
	case opFallback:
		var j []byte
		j, err = jsonv2.Marshal(v.Addr().Interface())
		if err != nil {
			return nil, err
		}
		val, err = jsonToValue(j)
	default:
		return nil, errors.Errorf("cannot encode Go type %s as JSON", p.t)
	}
	if err != nil {
		return nil, err
	}
	if omit && isEmpty(val) {
		return nil, nil
	}
	return val, nil
}

// A pathError is an encoding error with where it happened, innermost member first: built on the
// way out of the recursion without formatting at each level, which a deep value would make
// quadratic.
type pathError struct {
	path []string
	err  error
}

func (e *pathError) Error() string {
	path := slices.Clone(e.path)
	slices.Reverse(path)
	return fmt.Sprintf("cannot encode %s: %v", strings.Join(path, "."), e.err)
}

func (e *pathError) Unwrap() error { return e.err }

// atPath returns the error with the member name prepended to where it happened.
func atPath(err error, name string) error {
	pe := &pathError{}
	if errors.As(err, &pe) {
		pe.path = append(pe.path, name)
		return err
	}
	return &pathError{path: []string{name}, err: err}
}

// encodeList returns the ListValue value of v, a slice or array of the plan's type; nil if omit
// is set and it is empty.
func (p *plan) encodeList(e *encoder, v reflect.Value, omit bool) (*structpb.Value, error) {
	n := v.Len()
	if omit && n == 0 {
		return nil, nil
	}
	if err := e.enter(); err != nil {
		return nil, err
	}
	defer func() { e.depth-- }()
	lv, l := listValue(n)
	for i := range n {
		ev, err := p.elem.encode(e, v.Index(i), false)
		if err != nil {
			return nil, err
		}
		l.Values[i] = ev
	}
	return lv, nil
}

// encodeStruct returns the Struct value of v, a struct of the plan's type, without the named
// member; nil if omit is set and it has no members.
func (p *plan) encodeStruct(e *encoder, v reflect.Value, skip string, omit bool) (*structpb.Value, error) {
	if err := e.enter(); err != nil {
		return nil, err
	}
	defer func() { e.depth-- }()
	base := len(e.members)
	for i := range p.fields {
		f := &p.fields[i]
		if f.name == skip {
			continue
		}
		var fv reflect.Value
		switch {
		case f.viaPointer:
			fv = fieldByIndex(v, f.index)
			if !fv.IsValid() {
				continue // a field of a nil embedded pointer
			}
		case len(f.index) == 1:
			fv = v.Field(f.index[0])
		default:
			fv = v.FieldByIndex(f.index)
		}
		if f.omitzero && ((f.isZero == nil && fv.IsZero()) || (f.isZero != nil && f.isZero(fv))) {
			continue
		}
		if f.omitempty {
			switch f.emptyKind {
			case reflect.String, reflect.Map, reflect.Slice, reflect.Array:
				if fv.Len() == 0 {
					continue
				}
			case reflect.Pointer, reflect.Interface:
				if fv.IsNil() {
					continue
				}
			default:
			}
		}
		fe, err := f.plan.encode(e, fv, f.omitempty)
		if err != nil {
			clear(e.members[base:])
			e.members = e.members[:base]
			return nil, atPath(err, f.name)
		}
		if fe != nil {
			e.members = append(e.members, member{name: f.name, value: fe})
		}
	}
	ms := e.members[base:]
	if omit && len(ms) == 0 {
		return nil, nil
	}
	sv, s := structValue(len(ms))
	for _, m := range ms {
		s.Fields[m.name] = m.value
	}
	clear(ms)
	e.members = e.members[:base]
	return sv, nil
}

// fieldByIndex is reflect.Value.FieldByIndex, but invalid where it would go through nil.
func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	v = v.Field(index[0])
	for _, i := range index[1:] {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v
}

// encodeMap returns the Struct value of v, a string-keyed map of the plan's type; nil if omit
// is set and the map is empty.
func (p *plan) encodeMap(e *encoder, v reflect.Value, omit bool) (*structpb.Value, error) {
	n := v.Len()
	if omit && n == 0 {
		return nil, nil
	}
	if err := e.enter(); err != nil {
		return nil, err
	}
	defer func() { e.depth-- }()
	if v.CanInterface() {
		switch m := v.Interface().(type) {
		case map[string]*string:
			return encodeStringPtrMap(m)
		case map[string]string:
			return encodeStringMap(m)
		}
	}
	sv, s := structValue(n)
	if n == 0 {
		return sv, nil
	}
	// Copying keys and values into reused values saves an allocation each (and makes them
	// addressable); a pointer value is cheaper taken as it is.
	kc := reflect.New(p.t.Key()).Elem()
	var c reflect.Value
	if p.elem.op != opPointer {
		c = reflect.New(p.t.Elem()).Elem()
	}
	for it := v.MapRange(); it.Next(); {
		kc.SetIterKey(it)
		k := kc.String()
		if !utf8.ValidString(k) {
			return nil, errors.Errorf("cannot encode invalid UTF-8 in map key %q", k)
		}
		var ev *structpb.Value
		var err error
		if c.IsValid() {
			c.SetIterValue(it)
			ev, err = p.elem.encode(e, c, false)
		} else {
			ev, err = p.elem.encode(e, it.Value(), false)
		}
		if err != nil {
			return nil, atPath(err, k)
		}
		s.Fields[k] = ev
	}
	return sv, nil
}

// nonFinite is how the JSON encoder writes a NaN or an infinity that it does not refuse.
func nonFinite(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case f > 0:
		return "Infinity"
	}
	return "-Infinity"
}

// encodeStringPtrMap is encodeMap of the commonest map (tags) without reflection.
func encodeStringPtrMap(m map[string]*string) (*structpb.Value, error) {
	sv, s := structValue(len(m))
	for k, v := range m {
		if !utf8.ValidString(k) {
			return nil, errors.Errorf("cannot encode invalid UTF-8 in map key %q", k)
		}
		if v == nil {
			s.Fields[k] = nullValue()
			continue
		}
		if !utf8.ValidString(*v) {
			return nil, errors.Errorf("cannot encode invalid UTF-8 in map value %q", k)
		}
		s.Fields[k] = stringValue(*v)
	}
	return sv, nil
}

// encodeStringMap is encodeMap of the next commonest map (labels) without reflection.
func encodeStringMap(m map[string]string) (*structpb.Value, error) {
	sv, s := structValue(len(m))
	for k, v := range m {
		if !utf8.ValidString(k) {
			return nil, errors.Errorf("cannot encode invalid UTF-8 in map key %q", k)
		}
		if !utf8.ValidString(v) {
			return nil, errors.Errorf("cannot encode invalid UTF-8 in map value %q", k)
		}
		s.Fields[k] = stringValue(v)
	}
	return sv, nil
}

// isEmpty returns whether the value's JSON is null, "", {} or [], what omitempty omits.
func isEmpty(v *structpb.Value) bool {
	switch k := v.GetKind().(type) {
	case *structpb.Value_NullValue:
		return true
	case *structpb.Value_StringValue:
		return k.StringValue == ""
	case *structpb.Value_StructValue:
		return len(k.StructValue.GetFields()) == 0
	case *structpb.Value_ListValue:
		return len(k.ListValue.GetValues()) == 0
	}
	return false
}

// jsonToValue converts one JSON value to a structpb value as decoding it into an any and
// structpb.NewValue would: numbers become float64s. It refuses what the JSON encoder would,
// duplicate names and invalid UTF-8 included.
func jsonToValue(j []byte) (*structpb.Value, error) {
	d := jsontext.NewDecoder(bytes.NewReader(j))
	v, err := readValue(d)
	if err != nil {
		return nil, errors.Wrap(err, "cannot read JSON")
	}
	if _, err := d.ReadToken(); !errors.Is(err, io.EOF) {
		return nil, errors.Errorf("cannot read JSON: more than one value in %q", j)
	}
	return v, nil
}

func readValue(d *jsontext.Decoder) (*structpb.Value, error) {
	t, err := d.ReadToken()
	if err != nil {
		return nil, err
	}
	switch t.Kind() {
	case 'n':
		return nullValue(), nil
	case 't', 'f':
		return boolValue(t.Bool()), nil
	case '"':
		return stringValue(t.String()), nil
	case '0':
		return numberValue(t.Float()), nil
	case '{':
		s := &structpb.Struct{Fields: map[string]*structpb.Value{}}
		for d.PeekKind() != '}' {
			k, err := d.ReadToken()
			if err != nil {
				return nil, err
			}
			name := k.String() // before the next read voids the token
			v, err := readValue(d)
			if err != nil {
				return nil, err
			}
			s.Fields[name] = v
		}
		if _, err := d.ReadToken(); err != nil {
			return nil, err
		}
		return structpb.NewStructValue(s), nil
	case '[':
		l := &structpb.ListValue{}
		for d.PeekKind() != ']' {
			v, err := readValue(d)
			if err != nil {
				return nil, err
			}
			l.Values = append(l.Values, v)
		}
		if _, err := d.ReadToken(); err != nil {
			return nil, err
		}
		return structpb.NewListValue(l), nil
	}
	return nil, errors.Errorf("cannot read JSON token %v", t)
}
