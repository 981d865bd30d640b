// Package wire decodes RunFunctionRequests and encodes RunFunctionResponses faster than
// proto.Unmarshal and proto.Marshal do.
//
// Nearly all of a request's bytes, and of a response's, are google.protobuf.Struct values: the
// observed and desired resources. protobuf-go decodes and encodes them through its generic,
// reflection-driven map and oneof code, which costs far more CPU than the bytes warrant. This
// package reads and writes those messages (Struct, Value, ListValue, and the State and Resource
// messages that hold them) with hand-written protowire code and hands every other field to
// protobuf-go, so the result is exactly what protobuf-go would produce: the same message on
// success, an error on the same inputs (invalid wire format, invalid UTF-8 in a string, nesting
// deeper than protobuf-go's recursion limit), unknown fields kept.
//
// A decoded request's strings share one copy of the input and its Values are allocated in chunks:
// a string or Value kept from a request keeps its whole copy or chunk alive.
package wire
