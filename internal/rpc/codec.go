package rpc

import (
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
)

// RawRequest is a request's encoded bytes, which the Codec leaves undecoded.
type RawRequest []byte

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

// Unmarshal decodes a message; a *RawRequest gets a copy of the bytes, since gRPC reuses its
// buffers once Unmarshal returns.
func (c Codec) Unmarshal(data mem.BufferSlice, v any) error {
	if r, ok := v.(*RawRequest); ok {
		*r = data.Materialize()
		return nil
	}
	return c.proto.Unmarshal(data, v)
}
