package wire

import (
	"encoding/binary"
	"math"
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/crossplane/function-sdk-go/errors"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// errEncodeUTF8 is the error of a string that is not valid UTF-8, which proto.Marshal refuses too.
var errEncodeUTF8 = errors.New("cannot encode a string field: invalid UTF-8")

// Tags of the RunFunctionResponse fields this package encodes itself; proto.Marshal encodes the
// others.
const (
	tagResponseDesired = 2<<3 | uint64(protowire.BytesType)
	tagResponseContext = 4<<3 | uint64(protowire.BytesType)
	tagResponseOutput  = 7<<3 | uint64(protowire.BytesType)
)

// MarshalResponse encodes rsp as proto.Marshal would (any valid encoding that decodes to an
// equal message), faster.
//
// The response's desired state, context and output are encoded here; its other fields (meta,
// results, requirements, conditions) and any unknown fields by proto.Marshal. Like
// proto.Marshal, it fails on a string that is not valid UTF-8.
func MarshalResponse(rsp *fnv1.RunFunctionResponse) ([]byte, error) {
	if rsp == nil {
		return nil, nil
	}
	e := encoders.Get().(*encoder) //nolint:forcetypeassert // The pool holds only encoders.
	defer e.release()

	// The encoder writes backwards: the last field first.
	if rsp.Output != nil {
		start := e.len()
		if err := e.structValue(rsp.Output); err != nil {
			return nil, errors.Wrap(err, "cannot encode the output")
		}
		e.field(tagResponseOutput, start)
	}
	if rsp.Context != nil {
		start := e.len()
		if err := e.structValue(rsp.Context); err != nil {
			return nil, errors.Wrap(err, "cannot encode the context")
		}
		e.field(tagResponseContext, start)
	}
	if rsp.Desired != nil {
		start := e.len()
		if err := e.state(rsp.Desired); err != nil {
			return nil, errors.Wrap(err, "cannot encode the desired state")
		}
		e.field(tagResponseDesired, start)
	}

	rest := &fnv1.RunFunctionResponse{
		Meta:         rsp.Meta,
		Results:      rsp.Results,
		Requirements: rsp.Requirements,
		Conditions:   rsp.Conditions,
	}
	if u := rsp.ProtoReflect().GetUnknown(); len(u) > 0 {
		rest.ProtoReflect().SetUnknown(u)
	}
	o := proto.MarshalOptions{UseCachedSize: true}
	out, err := o.MarshalAppend(make([]byte, 0, o.Size(rest)+e.len()), rest)
	if err != nil {
		return nil, errors.Wrap(err, "cannot encode the response")
	}
	return append(out, e.b[e.off:]...), nil
}

// encoders pools encoders and their buffers across responses.
var encoders = sync.Pool{New: func() any { return &encoder{} }} //nolint:gochecknoglobals // A pool is shared.

// maxPooledBuffer is the largest buffer an encoder keeps when it goes back to the pool.
const maxPooledBuffer = 16 << 20

// An encoder writes protobuf wire format backwards, from the end of its buffer towards its
// start, so that a length-delimited field's length is known when its tag and length are
// written: after its value. Its output is b[off:].
type encoder struct {
	b   []byte
	off int
}

// release empties the encoder and returns it to the pool.
func (e *encoder) release() {
	if len(e.b) > maxPooledBuffer {
		e.b = nil
	}
	e.off = len(e.b)
	encoders.Put(e)
}

// len is the number of bytes written.
func (e *encoder) len() int { return len(e.b) - e.off }

// grow makes room for at least n more bytes.
func (e *encoder) grow(n int) {
	l := e.len()
	b := make([]byte, max(2*len(e.b), l+n, 4096))
	copy(b[len(b)-l:], e.b[e.off:])
	e.b, e.off = b, len(b)-l
}

// byte1 writes one byte.
func (e *encoder) byte1(c byte) {
	if e.off == 0 {
		e.grow(1)
	}
	e.off--
	e.b[e.off] = c
}

// varint writes x as a varint.
func (e *encoder) varint(x uint64) {
	if x < 0x80 {
		e.byte1(byte(x))
		return
	}
	n := protowire.SizeVarint(x)
	if e.off < n {
		e.grow(n)
	}
	e.off -= n
	protowire.AppendVarint(e.b[e.off:e.off], x)
}

// fixed64 writes x as 8 little-endian bytes.
func (e *encoder) fixed64(x uint64) {
	if e.off < 8 {
		e.grow(8)
	}
	e.off -= 8
	binary.LittleEndian.PutUint64(e.b[e.off:], x)
}

// str writes s's bytes.
func (e *encoder) str(s string) {
	if e.off < len(s) {
		e.grow(len(s))
	}
	e.off -= len(s)
	copy(e.b[e.off:], s)
}

// bytes writes p.
func (e *encoder) bytes(p []byte) {
	if e.off < len(p) {
		e.grow(len(p))
	}
	e.off -= len(p)
	copy(e.b[e.off:], p)
}

// field writes the tag and length of a length-delimited field whose value is what was written
// since the encoder's len was start.
func (e *encoder) field(tag uint64, start int) {
	e.varint(uint64(e.len() - start)) //nolint:gosec // Not negative.
	e.varint(tag)
}

// key writes a map entry's key field; an error if k is not valid UTF-8.
func (e *encoder) key(k string) error {
	if !utf8.ValidString(k) {
		return errEncodeUTF8
	}
	e.str(k)
	e.varint(uint64(len(k)))
	e.byte1(byte(tagMapKey))
	return nil
}

// state writes the fields of st.
func (e *encoder) state(st *fnv1.State) error {
	e.bytes(st.ProtoReflect().GetUnknown())
	for k, r := range st.Resources {
		start := e.len()
		if r != nil {
			if err := e.resource(r); err != nil {
				return errors.Wrapf(err, "cannot encode resource %q", k)
			}
		}
		e.field(tagMapValue, start)
		if err := e.key(k); err != nil {
			return errors.Wrap(err, "cannot encode the name of a resource")
		}
		e.field(tagStateResources, start)
	}
	if st.Composite != nil {
		start := e.len()
		if err := e.resource(st.Composite); err != nil {
			return errors.Wrap(err, "cannot encode the composite resource")
		}
		e.field(tagStateComposite, start)
	}
	return nil
}

// resource writes the fields of r.
func (e *encoder) resource(r *fnv1.Resource) error {
	e.bytes(r.ProtoReflect().GetUnknown())
	if r.Ready != 0 {
		e.varint(uint64(r.Ready)) //nolint:gosec // Negative enums are sign-extended, as proto.Marshal does.
		e.byte1(byte(tagResourceReady))
	}
	for k, v := range r.ConnectionDetails {
		start := e.len()
		e.bytes(v)
		e.varint(uint64(len(v)))
		e.byte1(byte(tagMapValue))
		if err := e.key(k); err != nil {
			return errors.Wrap(err, "cannot encode the name of a connection detail")
		}
		e.field(tagResourceDetails, start)
	}
	if r.Resource != nil {
		start := e.len()
		if err := e.structValue(r.Resource); err != nil {
			return err
		}
		e.field(tagResourceResource, start)
	}
	return nil
}

// structValue writes the fields of s, if any.
func (e *encoder) structValue(s *structpb.Struct) error {
	if s == nil {
		return nil
	}
	e.bytes(s.ProtoReflect().GetUnknown())
	for k, v := range s.Fields {
		start := e.len()
		if err := e.value(v); err != nil {
			return err
		}
		e.field(tagMapValue, start)
		if err := e.key(k); err != nil {
			return err
		}
		e.field(tagStructFields, start)
	}
	return nil
}

// listValue writes the fields of l, if any.
func (e *encoder) listValue(l *structpb.ListValue) error {
	if l == nil {
		return nil
	}
	e.bytes(l.ProtoReflect().GetUnknown())
	// Backwards, so that the values come out in order.
	for i := len(l.Values) - 1; i >= 0; i-- {
		start := e.len()
		if err := e.value(l.Values[i]); err != nil {
			return err
		}
		e.field(tagListValues, start)
	}
	return nil
}

// value writes the fields of v, if any. A kind whose wrapper is nil is not set; a struct or list
// kind whose message is nil is an empty one, as proto.Marshal has it.
func (e *encoder) value(v *structpb.Value) error {
	if v == nil {
		return nil
	}
	e.bytes(v.ProtoReflect().GetUnknown())
	switch k := v.Kind.(type) {
	case *structpb.Value_StringValue:
		if k == nil {
			return nil
		}
		if !utf8.ValidString(k.StringValue) {
			return errEncodeUTF8
		}
		e.str(k.StringValue)
		e.varint(uint64(len(k.StringValue)))
		e.byte1(byte(tagValueString))
	case *structpb.Value_NumberValue:
		if k == nil {
			return nil
		}
		e.fixed64(math.Float64bits(k.NumberValue))
		e.byte1(byte(tagValueNumber))
	case *structpb.Value_BoolValue:
		if k == nil {
			return nil
		}
		e.byte1(byte(protowire.EncodeBool(k.BoolValue)))
		e.byte1(byte(tagValueBool))
	case *structpb.Value_NullValue:
		if k == nil {
			return nil
		}
		e.varint(uint64(k.NullValue)) //nolint:gosec // Negative enums are sign-extended, as proto.Marshal does.
		e.byte1(byte(tagValueNull))
	case *structpb.Value_StructValue:
		if k == nil {
			return nil
		}
		start := e.len()
		if err := e.structValue(k.StructValue); err != nil {
			return err
		}
		e.field(tagValueStruct, start)
	case *structpb.Value_ListValue:
		if k == nil {
			return nil
		}
		start := e.len()
		if err := e.listValue(k.ListValue); err != nil {
			return err
		}
		e.field(tagValueList, start)
	}
	return nil
}
