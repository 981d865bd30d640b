package rpc

import (
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
)

// RawRequest is a request as gRPC received it, undecoded: the Codec fills it with a reference
// to gRPC's buffers, which it holds until Free. A request answered from the cache is never
// copied out of them.
type RawRequest struct {
	data mem.BufferSlice
}

// NewRawRequest returns a request of the encoded bytes.
func NewRawRequest(b []byte) *RawRequest {
	return &RawRequest{data: mem.BufferSlice{mem.SliceBuffer(b)}}
}

// Tag returns the request's meta.tag; see RequestTag.
func (r *RawRequest) Tag() string {
	bufs := make([][]byte, len(r.data))
	for i, b := range r.data {
		bufs[i] = b.ReadOnlyData()
	}
	return requestTag(newChunks(bufs))
}

// Bytes returns the request's bytes in one slice, copied unless they are in one buffer already.
// They are valid until Free.
func (r *RawRequest) Bytes() []byte {
	if len(r.data) == 1 {
		return r.data[0].ReadOnlyData()
	}
	return r.data.Materialize()
}

// Free releases gRPC's buffers.
func (r *RawRequest) Free() {
	r.data.Free()
	r.data = nil
}

// RawResponse is an encoded response, which the Codec sends as it is.
type RawResponse []byte

// Codec is gRPC's protobuf codec, except that it hands a *RawRequest the request's bytes and
// sends a RawResponse's bytes without encoding anything. Every other message (the health
// service's, the v1beta1 protocol's) it encodes and decodes as gRPC's own codec does.
type Codec struct {
	proto encoding.CodecV2
}

// NewCodec returns the codec.
func NewCodec() Codec {
	return Codec{proto: encoding.GetCodecV2(grpcproto.Name)}
}

// Name is the content subtype the codec serves: "proto", as gRPC's own.
func (c Codec) Name() string { return grpcproto.Name }

// Marshal encodes a message; a RawResponse is already encoded.
func (c Codec) Marshal(v any) (mem.BufferSlice, error) {
	if r, ok := v.(RawResponse); ok {
		// A SliceBuffer is never returned to a pool, so cached bytes can be sent by many
		// responses at once.
		return mem.BufferSlice{mem.SliceBuffer(r)}, nil
	}
	return c.proto.Marshal(v)
}

// Unmarshal decodes a message; a *RawRequest takes a reference to the buffers instead, which
// gRPC would otherwise reuse once Unmarshal returns.
func (c Codec) Unmarshal(data mem.BufferSlice, v any) error {
	if r, ok := v.(*RawRequest); ok {
		data.Ref()
		r.data = data
		return nil
	}
	return c.proto.Unmarshal(data, v)
}
