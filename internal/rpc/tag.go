package rpc

import (
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of RunFunctionRequest.meta and RequestMeta.tag in the v1 protocol.
const (
	fieldRequestMeta = 1
	fieldMetaTag     = 1
)

// RequestTag returns meta.tag of an encoded RunFunctionRequest without decoding the rest of it:
// the last occurrence wins, as proto.Unmarshal would have it. It returns "" when the request has
// no tag or is malformed; a malformed request is then decoded, and refused, as any other.
func RequestTag(b []byte) string {
	tag := ""
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return ""
		}
		b = b[n:]
		if num == fieldRequestMeta && typ == protowire.BytesType {
			meta, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return ""
			}
			t, found, ok := metaTag(meta)
			if !ok {
				return ""
			}
			if found {
				tag = t
			}
			b = b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return ""
		}
		b = b[m:]
	}
	return tag
}

// metaTag returns the tag of an encoded RequestMeta, whether it has one, and whether it is well
// formed (a tag that is not UTF-8 is not).
func metaTag(b []byte) (tag string, found, ok bool) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "", false, false
		}
		b = b[n:]
		if num == fieldMetaTag && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 || !utf8.Valid(v) {
				return "", false, false
			}
			tag, found = string(v), true
			b = b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return "", false, false
		}
		b = b[m:]
	}
	return tag, found, true
}
