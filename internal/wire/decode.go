package wire

import (
	"math"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/crossplane/function-sdk-go/errors"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// Errors of a decode. proto.Unmarshal fails on the same inputs, with its own messages.
var (
	errInvalidWire = errors.New("cannot parse invalid wire-format data")
	errInvalidUTF8 = errors.New("cannot decode a string field: invalid UTF-8")
	errDepth       = errors.New("cannot decode: exceeded maximum recursion depth")
	errNilRequest  = errors.New("cannot decode into a nil request")
)

// The fields of a RunFunctionRequest this package decodes itself; every other field goes to
// proto.Unmarshal.
const (
	requestObserved = 2
	requestDesired  = 3
	requestInput    = 4
	requestContext  = 5
)

// Tags (field number and wire type as one varint, all below 128) of the hand-decoded fields.
const (
	tagStateComposite = 1<<3 | uint64(protowire.BytesType)
	tagStateResources = 2<<3 | uint64(protowire.BytesType)

	tagResourceResource = 1<<3 | uint64(protowire.BytesType)
	tagResourceDetails  = 2<<3 | uint64(protowire.BytesType)
	tagResourceReady    = 3<<3 | uint64(protowire.VarintType)

	tagStructFields = 1<<3 | uint64(protowire.BytesType)
	tagListValues   = 1<<3 | uint64(protowire.BytesType)

	tagValueNull   = 1<<3 | uint64(protowire.VarintType)
	tagValueNumber = 2<<3 | uint64(protowire.Fixed64Type)
	tagValueString = 3<<3 | uint64(protowire.BytesType)
	tagValueBool   = 4<<3 | uint64(protowire.VarintType)
	tagValueStruct = 5<<3 | uint64(protowire.BytesType)
	tagValueList   = 6<<3 | uint64(protowire.BytesType)

	tagMapKey   = 1<<3 | uint64(protowire.BytesType)
	tagMapValue = 2<<3 | uint64(protowire.BytesType)
)

// UnmarshalRequest decodes b into req exactly as proto.Unmarshal would, faster.
//
// The request's observed and desired state, input and context are decoded here; its other
// fields (meta, credentials, required resources and schemas) and any unknown fields by
// proto.Unmarshal. req's strings share one copy of b, and its Values are allocated in chunks: a
// part of req that outlives the rest keeps more memory alive than it would have with
// proto.Unmarshal. b itself is not retained.
func UnmarshalRequest(b []byte, req *fnv1.RunFunctionRequest) error {
	if req == nil {
		return errNilRequest
	}
	proto.Reset(req)
	d := &decoder{base: b, s: string(b)}
	d.values.chunk = min(max(len(b)/48, 16), maxValueChunk)

	// proto.Unmarshal counts the request itself as one level of nesting.
	depth := protowire.DefaultRecursionLimit - 1
	var rest []byte
	for len(b) > 0 {
		field := b
		num, typ, n := consumeTag(b)
		if n < 0 {
			return errInvalidWire
		}
		b = b[n:]
		if typ == protowire.BytesType && num >= requestObserved && num <= requestContext {
			v, m := consumeBytes(b)
			if m < 0 {
				return errInvalidWire
			}
			b = b[m:]
			var err error
			switch num {
			case requestObserved:
				if req.Observed == nil {
					req.Observed = &fnv1.State{}
				}
				err = d.state(v, req.Observed, depth)
			case requestDesired:
				if req.Desired == nil {
					req.Desired = &fnv1.State{}
				}
				err = d.state(v, req.Desired, depth)
			case requestInput:
				if req.Input == nil {
					req.Input = d.structs.new()
				}
				err = d.structValue(v, req.Input, depth)
			case requestContext:
				if req.Context == nil {
					req.Context = d.structs.new()
				}
				err = d.structValue(v, req.Context, depth)
			}
			if err != nil {
				return err
			}
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return errInvalidWire
		}
		rest = append(rest, field[:n+m]...)
		b = b[m:]
	}
	if len(rest) == 0 {
		return nil
	}
	return errors.Wrap(proto.UnmarshalOptions{Merge: true}.Unmarshal(rest, req), "cannot decode the request")
}

// A decoder decodes the messages of one request. Every []byte it is handed is a two-index
// slice of base, so cap(base)-cap(v) is where v starts in base, and in s, base's copy as a string
// that decoded strings are cut from.
type decoder struct {
	base []byte
	s    string

	// Messages and oneof wrappers are allocated from slabs.
	values    slab[structpb.Value]
	nValues   int // allocated in values' chunks so far
	structs   slab[structpb.Struct]
	lists     slab[structpb.ListValue]
	resources slab[fnv1.Resource]
	nulls     slab[structpb.Value_NullValue]
	numbers   slab[structpb.Value_NumberValue]
	strings   slab[structpb.Value_StringValue]
	bools     slab[structpb.Value_BoolValue]
	structVs  slab[structpb.Value_StructValue]
	listVs    slab[structpb.Value_ListValue]
}

// str returns v, a slice of the decoder's input, as a string; an error if v is not valid UTF-8,
// which proto3 requires of a string field.
func (d *decoder) str(v []byte) (string, error) {
	if !utf8.Valid(v) {
		return "", errInvalidUTF8
	}
	off := cap(d.base) - cap(v)
	return d.s[off : off+len(v)], nil
}

// state decodes b, an encoded State, into st.
func (d *decoder) state(b []byte, st *fnv1.State, depth int) error {
	if depth--; depth < 0 {
		return errDepth
	}
	var unknown []byte
	for len(b) > 0 {
		field := b
		num, typ, n := consumeTag(b)
		if n < 0 {
			return errInvalidWire
		}
		b = b[n:]
		switch protowire.EncodeTag(num, typ) {
		case tagStateComposite:
			v, m := consumeBytes(b)
			if m < 0 {
				return errInvalidWire
			}
			b = b[m:]
			if st.Composite == nil {
				st.Composite = d.resources.new()
			}
			if err := d.resource(v, st.Composite, depth); err != nil {
				return err
			}
		case tagStateResources:
			v, m := consumeBytes(b)
			if m < 0 {
				return errInvalidWire
			}
			b = b[m:]
			if st.Resources == nil {
				st.Resources = make(map[string]*fnv1.Resource, countTag(field, tagStateResources))
			}
			if err := d.resourceEntry(v, st.Resources, depth); err != nil {
				return err
			}
		default:
			m, err := skip(b, num, typ, &unknown)
			if err != nil {
				return err
			}
			b = b[m:]
		}
	}
	if unknown != nil {
		m := st.ProtoReflect()
		m.SetUnknown(append(m.GetUnknown(), unknown...))
	}
	return nil
}

// resourceEntry decodes b, an entry of State's map of resources, into m.
func (d *decoder) resourceEntry(b []byte, m map[string]*fnv1.Resource, depth int) error {
	return mapEntry(d, b, m, d.resources.new(), depth, func(d *decoder, v []byte, r *fnv1.Resource, depth int) (*fnv1.Resource, error) {
		return r, d.resource(v, r, depth)
	})
}

// detailEntry decodes b, an entry of Resource's map of connection details, into m.
func (d *decoder) detailEntry(b []byte, m map[string][]byte, depth int) error {
	return mapEntry(d, b, m, nil, depth, func(_ *decoder, v []byte, _ []byte, _ int) ([]byte, error) {
		return append(make([]byte, 0, len(v)), v...), nil
	})
}

// fieldEntry decodes b, an entry of Struct's map of fields, into m.
func (d *decoder) fieldEntry(b []byte, m map[string]*structpb.Value, depth int) error {
	return mapEntry(d, b, m, d.newValue(b), depth, func(d *decoder, v []byte, val *structpb.Value, depth int) (*structpb.Value, error) {
		return val, d.value(v, val, depth)
	})
}

// mapEntry decodes b, a map entry, into m: its key, and its value by decodeValue, which merges
// each occurrence into val and returns it (as proto.Unmarshal merges them). A missing key is "", a missing value val as
// given; unknown fields of an entry are dropped, as proto.Unmarshal drops them. The function
// values are static, so the three kinds of entries share this without a closure per entry.
func mapEntry[V any](d *decoder, b []byte, m map[string]V, val V, depth int, decodeValue func(*decoder, []byte, V, int) (V, error)) error {
	if depth--; depth < 0 {
		return errDepth
	}
	key := ""
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return errInvalidWire
		}
		b = b[n:]
		switch protowire.EncodeTag(num, typ) {
		case tagMapKey:
			v, n := consumeBytes(b)
			if n < 0 {
				return errInvalidWire
			}
			b = b[n:]
			var err error
			if key, err = d.str(v); err != nil {
				return err
			}
		case tagMapValue:
			v, n := consumeBytes(b)
			if n < 0 {
				return errInvalidWire
			}
			b = b[n:]
			var err error
			if val, err = decodeValue(d, v, val, depth); err != nil {
				return err
			}
		default:
			n, err := skip(b, num, typ, nil)
			if err != nil {
				return err
			}
			b = b[n:]
		}
	}
	m[key] = val
	return nil
}

// resource decodes b, an encoded Resource, into r.
func (d *decoder) resource(b []byte, r *fnv1.Resource, depth int) error {
	if depth--; depth < 0 {
		return errDepth
	}
	var unknown []byte
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return errInvalidWire
		}
		b = b[n:]
		switch protowire.EncodeTag(num, typ) {
		case tagResourceResource:
			v, m := consumeBytes(b)
			if m < 0 {
				return errInvalidWire
			}
			b = b[m:]
			if r.Resource == nil {
				r.Resource = d.structs.new()
			}
			if err := d.structValue(v, r.Resource, depth); err != nil {
				return err
			}
		case tagResourceDetails:
			v, m := consumeBytes(b)
			if m < 0 {
				return errInvalidWire
			}
			b = b[m:]
			if r.ConnectionDetails == nil {
				r.ConnectionDetails = map[string][]byte{}
			}
			if err := d.detailEntry(v, r.ConnectionDetails, depth); err != nil {
				return err
			}
		case tagResourceReady:
			x, m := consumeVarint(b)
			if m < 0 {
				return errInvalidWire
			}
			b = b[m:]
			r.Ready = fnv1.Ready(int32(x)) //nolint:gosec // Truncated as proto.Unmarshal does.
		default:
			m, err := skip(b, num, typ, &unknown)
			if err != nil {
				return err
			}
			b = b[m:]
		}
	}
	if unknown != nil {
		m := r.ProtoReflect()
		m.SetUnknown(append(m.GetUnknown(), unknown...))
	}
	return nil
}

// structValue decodes b, an encoded Struct, into s.
func (d *decoder) structValue(b []byte, s *structpb.Struct, depth int) error {
	if depth--; depth < 0 {
		return errDepth
	}
	var unknown []byte
	for len(b) > 0 {
		field := b
		var num protowire.Number
		var typ protowire.Type
		var n int
		// The canonical tag of an entry first, then the general case.
		if b[0] == byte(tagStructFields) {
			num, typ, n = 1, protowire.BytesType, 1
		} else if num, typ, n = consumeTag(b); n < 0 {
			return errInvalidWire
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType {
			v, m := consumeBytes(b)
			if m < 0 {
				return errInvalidWire
			}
			b = b[m:]
			if s.Fields == nil {
				s.Fields = make(map[string]*structpb.Value, countTag(field, tagStructFields))
			}
			if err := d.fieldEntry(v, s.Fields, depth); err != nil {
				return err
			}
			continue
		}
		m, err := skip(b, num, typ, &unknown)
		if err != nil {
			return err
		}
		b = b[m:]
	}
	if unknown != nil {
		m := s.ProtoReflect()
		m.SetUnknown(append(m.GetUnknown(), unknown...))
	}
	return nil
}

// listValue decodes b, an encoded ListValue, into l.
func (d *decoder) listValue(b []byte, l *structpb.ListValue, depth int) error {
	if depth--; depth < 0 {
		return errDepth
	}
	var unknown []byte
	for len(b) > 0 {
		field := b
		num, typ, n := consumeTag(b)
		if n < 0 {
			return errInvalidWire
		}
		b = b[n:]
		if protowire.EncodeTag(num, typ) == tagListValues {
			v, m := consumeBytes(b)
			if m < 0 {
				return errInvalidWire
			}
			b = b[m:]
			if l.Values == nil {
				l.Values = make([]*structpb.Value, 0, countTag(field, tagListValues))
			}
			val := d.newValue(v)
			if err := d.value(v, val, depth); err != nil {
				return err
			}
			l.Values = append(l.Values, val)
			continue
		}
		m, err := skip(b, num, typ, &unknown)
		if err != nil {
			return err
		}
		b = b[m:]
	}
	if unknown != nil {
		m := l.ProtoReflect()
		m.SetUnknown(append(m.GetUnknown(), unknown...))
	}
	return nil
}

// value decodes b, an encoded Value, into v. A kind set more than once keeps the last; a struct
// or list kind set twice is merged, as proto.Unmarshal does.
func (d *decoder) value(b []byte, v *structpb.Value, depth int) error { //nolint:gocyclo // One case per kind.
	if depth--; depth < 0 {
		return errDepth
	}
	var unknown []byte
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return errInvalidWire
		}
		b = b[n:]
		switch protowire.EncodeTag(num, typ) {
		case tagValueString:
			x, m := consumeBytes(b)
			if m < 0 {
				return errInvalidWire
			}
			b = b[m:]
			s, err := d.str(x)
			if err != nil {
				return err
			}
			if k, ok := v.Kind.(*structpb.Value_StringValue); ok && k != nil {
				k.StringValue = s
			} else {
				k := d.strings.new()
				k.StringValue = s
				v.Kind = k
			}
		case tagValueStruct:
			x, m := consumeBytes(b)
			if m < 0 {
				return errInvalidWire
			}
			b = b[m:]
			k, ok := v.Kind.(*structpb.Value_StructValue)
			if !ok || k == nil {
				k = d.structVs.new()
			}
			if k.StructValue == nil {
				k.StructValue = d.structs.new()
			}
			if err := d.structValue(x, k.StructValue, depth); err != nil {
				return err
			}
			v.Kind = k
		case tagValueList:
			x, m := consumeBytes(b)
			if m < 0 {
				return errInvalidWire
			}
			b = b[m:]
			k, ok := v.Kind.(*structpb.Value_ListValue)
			if !ok || k == nil {
				k = d.listVs.new()
			}
			if k.ListValue == nil {
				k.ListValue = d.lists.new()
			}
			if err := d.listValue(x, k.ListValue, depth); err != nil {
				return err
			}
			v.Kind = k
		case tagValueNumber:
			x, m := protowire.ConsumeFixed64(b)
			if m < 0 {
				return errInvalidWire
			}
			b = b[m:]
			if k, ok := v.Kind.(*structpb.Value_NumberValue); ok && k != nil {
				k.NumberValue = math.Float64frombits(x)
			} else {
				k := d.numbers.new()
				k.NumberValue = math.Float64frombits(x)
				v.Kind = k
			}
		case tagValueBool:
			x, m := consumeVarint(b)
			if m < 0 {
				return errInvalidWire
			}
			b = b[m:]
			if k, ok := v.Kind.(*structpb.Value_BoolValue); ok && k != nil {
				k.BoolValue = x != 0
			} else {
				k := d.bools.new()
				k.BoolValue = x != 0
				v.Kind = k
			}
		case tagValueNull:
			x, m := consumeVarint(b)
			if m < 0 {
				return errInvalidWire
			}
			b = b[m:]
			null := structpb.NullValue(int32(x)) //nolint:gosec // Truncated as proto.Unmarshal does.
			if k, ok := v.Kind.(*structpb.Value_NullValue); ok && k != nil {
				k.NullValue = null
			} else {
				k := d.nulls.new()
				k.NullValue = null
				v.Kind = k
			}
		default:
			m, err := skip(b, num, typ, &unknown)
			if err != nil {
				return err
			}
			b = b[m:]
		}
	}
	if unknown != nil {
		m := v.ProtoReflect()
		m.SetUnknown(append(m.GetUnknown(), unknown...))
	}
	return nil
}

// consumeTag parses a field's tag at the start of b, as proto.Unmarshal does: an error (n < 0)
// for a field number outside 1 to 2^29-1.
func consumeTag(b []byte) (protowire.Number, protowire.Type, int) {
	if len(b) > 0 && b[0] < 0x80 {
		if b[0] < 1<<3 {
			return 0, 0, -1
		}
		return protowire.Number(b[0] >> 3), protowire.Type(b[0] & 7), 1
	}
	x, n := protowire.ConsumeVarint(b)
	if n < 0 || x>>3 < uint64(protowire.MinValidNumber) || x>>3 > uint64(protowire.MaxValidNumber) {
		return 0, 0, -1
	}
	return protowire.Number(x >> 3), protowire.Type(x & 7), n
}

// consumeVarint parses a varint at the start of b.
func consumeVarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	return protowire.ConsumeVarint(b)
}

// consumeBytes parses a length-delimited value at the start of b. The value returned is a
// two-index slice of b.
func consumeBytes(b []byte) ([]byte, int) {
	if len(b) > 0 && b[0] < 0x80 {
		l := int(b[0])
		if l >= len(b) {
			return nil, -1
		}
		return b[1 : 1+l], 1 + l
	}
	return protowire.ConsumeBytes(b)
}

// skip parses the value of a field that is not decoded at the start of b, appending the field
// to unknown unless that is nil.
func skip(b []byte, num protowire.Number, typ protowire.Type, unknown *[]byte) (int, error) {
	n := protowire.ConsumeFieldValue(num, typ, b)
	if n < 0 {
		return 0, errInvalidWire
	}
	if unknown != nil {
		// proto.Unmarshal keeps an unknown field with its tag re-encoded.
		*unknown = protowire.AppendTag(*unknown, num, typ)
		*unknown = append(*unknown, b[:n]...)
	}
	return n, nil
}

// countTag counts the fields with the one-byte tag in b, the encoding of a message's fields from
// some field on, to size a map or a slice. It stops at the first field it cannot parse.
func countTag(b []byte, tag uint64) int {
	c := 0
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return c
		}
		if n == 1 && uint64(b[0]) == tag {
			c++
		}
		m := 0
		switch typ {
		case protowire.BytesType:
			_, m = consumeBytes(b[n:])
		case protowire.VarintType:
			_, m = consumeVarint(b[n:])
		default:
			m = protowire.ConsumeFieldValue(num, typ, b[n:])
		}
		if m < 0 {
			return c
		}
		b = b[n+m:]
	}
	return c
}

// newValue returns a new Value for the field at the start of b, a slice of the input. When the
// slab runs out, its next chunk holds the Values the rest of the input likely has, at the density
// of Values in the input so far.
func (d *decoder) newValue(b []byte) *structpb.Value {
	if len(d.values.free) == 0 {
		if done := cap(d.base) - cap(b); done > 0 && d.nValues > 0 {
			d.values.chunk = min(max(d.nValues*(len(d.base)-done)/done*9/8, 16), maxValueChunk)
		}
		d.nValues += max(d.values.chunk, 16)
	}
	return d.values.new()
}

// maxValueChunk bounds the chunks of Values; maxChunk those of the other slabs, which grow by
// doubling.
const maxValueChunk = 1 << 16

// maxChunk bounds the chunks of the slabs other than Values'.
const maxChunk = 4096

// A slab allocates values of type T in chunks.
type slab[T any] struct {
	free  []T
	chunk int
}

// new returns a pointer to a new zero T. The first chunk holds chunk values (at least 16), each
// next one twice as many as the last, up to maxChunk.
func (s *slab[T]) new() *T {
	if len(s.free) == 0 {
		n := max(s.chunk, 16)
		s.free = make([]T, n)
		s.chunk = min(2*n, maxChunk)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}
