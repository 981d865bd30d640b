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
	return requestTag(newChunks([][]byte{b}))
}

// requestTag is RequestTag over a request held in several buffers, as gRPC receives it: it skips
// over everything but meta, so no buffer is copied.
func requestTag(c *chunks) string {
	tag := ""
	for c.len() > 0 {
		num, typ, ok := c.key()
		if !ok {
			return ""
		}
		if num == fieldRequestMeta && typ == protowire.BytesType {
			n, ok := c.varint()
			if !ok || n > uint64(c.len()) { //nolint:gosec // len is not negative.
				return ""
			}
			t, found, ok := metaTag(c.next(int(n)))
			if !ok {
				return ""
			}
			if found {
				tag = t
			}
			continue
		}
		if !c.skipValue(num, typ) {
			return ""
		}
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

// chunks reads a byte stream held in several buffers.
type chunks struct {
	bufs [][]byte
	n    int // bytes left
}

func newChunks(bufs [][]byte) *chunks {
	c := &chunks{bufs: bufs}
	for _, b := range bufs {
		c.n += len(b)
	}
	return c
}

func (c *chunks) len() int { return c.n }

// byte returns the next byte, and false at the end.
func (c *chunks) byte() (byte, bool) {
	for len(c.bufs) > 0 && len(c.bufs[0]) == 0 {
		c.bufs = c.bufs[1:]
	}
	if len(c.bufs) == 0 {
		return 0, false
	}
	b := c.bufs[0][0]
	c.bufs[0] = c.bufs[0][1:]
	c.n--
	return b, true
}

// varint returns the next varint, and false when it is truncated or longer than ten bytes.
func (c *chunks) varint() (uint64, bool) {
	var v uint64
	for i := range 10 {
		b, ok := c.byte()
		if !ok {
			return 0, false
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			return v, true
		}
	}
	return 0, false
}

// key returns the next field's number and wire type, and false when they are not valid.
func (c *chunks) key() (protowire.Number, protowire.Type, bool) {
	k, ok := c.varint()
	if !ok {
		return 0, 0, false
	}
	num, typ := protowire.DecodeTag(k)
	return num, typ, ok && num.IsValid()
}

// skipValue skips the value of a field, and reports whether it was well formed.
func (c *chunks) skipValue(num protowire.Number, typ protowire.Type) bool {
	switch typ {
	case protowire.VarintType:
		_, ok := c.varint()
		return ok
	case protowire.Fixed32Type:
		return c.skip(4)
	case protowire.Fixed64Type:
		return c.skip(8)
	case protowire.BytesType:
		n, ok := c.varint()
		return ok && n <= uint64(c.len()) && c.skip(int(n)) //nolint:gosec // len is not negative.
	case protowire.StartGroupType:
		for {
			n, t, ok := c.key()
			if !ok {
				return false
			}
			if t == protowire.EndGroupType {
				return n == num
			}
			if !c.skipValue(n, t) {
				return false
			}
		}
	default:
		return false
	}
}

// skip skips n bytes, and reports whether there were as many.
func (c *chunks) skip(n int) bool {
	if n > c.n {
		return false
	}
	c.n -= n
	for n > 0 {
		k := min(n, len(c.bufs[0]))
		c.bufs[0] = c.bufs[0][k:]
		n -= k
		if len(c.bufs[0]) == 0 {
			c.bufs = c.bufs[1:]
		}
	}
	return true
}

// next returns the next n bytes, which the caller has checked are there: in place when they are
// in one buffer, else copied.
func (c *chunks) next(n int) []byte {
	for len(c.bufs) > 0 && len(c.bufs[0]) == 0 {
		c.bufs = c.bufs[1:]
	}
	if n == 0 {
		return nil
	}
	if n <= len(c.bufs[0]) {
		b := c.bufs[0][:n]
		c.skip(n)
		return b
	}
	b := make([]byte, 0, n)
	for len(b) < n {
		k := min(n-len(b), len(c.bufs[0]))
		b = append(b, c.bufs[0][:k]...)
		c.skip(k)
	}
	return b
}
