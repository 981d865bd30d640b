// Package rpc serves the function over gRPC without decoding what it need not decode: a request
// Crossplane has sent before (the same meta.tag, Crossplane's SHA-256 of the request's content)
// is answered with the encoded response it got then, straight from a bounded cache, and every
// other request is decoded and its response encoded by pluggable codecs (internal/wire's).
package rpc
