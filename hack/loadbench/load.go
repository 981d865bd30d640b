package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"

	"github.com/crossplane/function-sdk-go/errors"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// rawMessage is a request sent as bytes already encoded, or a response whose size is all the
// client keeps: the load generator then spends almost nothing per call, leaving the two cores
// to the server.
type rawMessage struct {
	data []byte
	size int
}

// rawCodec passes rawMessages through. It names itself proto: the bytes are protobuf.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(*rawMessage)
	if !ok {
		return nil, errors.Errorf("rawCodec cannot marshal %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(m.data)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(*rawMessage)
	if !ok {
		return errors.Errorf("rawCodec cannot unmarshal into %T", v)
	}
	m.size = data.Len()
	return nil
}

// bounds ends a load run at whichever comes first.
type bounds struct {
	calls int
	time  time.Duration
}

// loadResult is what one load run saw from the client's side.
type loadResult struct {
	latencies []time.Duration
	wall      time.Duration
}

// runLoad calls RunFunction with the encoded request from concurrency goroutines sharing conn
// until b.calls calls were made or b.time passed; calls in flight then finish, so that the
// server's CPU time over the run is all spent on counted calls. Every response must be wantSize
// bytes long: the function is deterministic, so a different size means a different (likely
// failed) answer. Given the request's tag, every call carries a tag of the same length that no
// call sent before: each is then a request Crossplane has not sent before, which the function
// cannot answer from its cache. Without it, every call is the same request.
func runLoad(ctx context.Context, conn *grpc.ClientConn, req []byte, uniqueFrom string, wantSize, concurrency int, b bounds) (loadResult, error) {
	at := -1
	if uniqueFrom != "" {
		if at = bytes.Index(req, []byte(uniqueFrom)); at < 0 {
			return loadResult{}, errors.Errorf("the encoded request does not hold its tag %q", uniqueFrom)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		lat      = make([][]time.Duration, concurrency)
	)
	start := time.Now()
	deadline := start.Add(b.time)
	for w := range concurrency {
		lat[w] = make([]time.Duration, 0, b.calls/concurrency+1)
		wg.Go(func() {
			in := &rawMessage{data: req}
			if at >= 0 {
				in.data = bytes.Clone(req)
			}
			for next.Add(1) <= int64(b.calls) && time.Now().Before(deadline) && ctx.Err() == nil {
				if at >= 0 {
					uniqueTag(in.data[at : at+len(uniqueFrom)])
				}
				out := &rawMessage{}
				t := time.Now()
				err := conn.Invoke(ctx, fnv1.FunctionRunnerService_RunFunction_FullMethodName, in, out, grpc.ForceCodecV2(rawCodec{}))
				d := time.Since(t)
				if err == nil && out.size != wantSize {
					err = errors.Errorf("response of %d bytes, the first was %d", out.size, wantSize)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = errors.Wrap(err, "cannot call RunFunction")
						cancel()
					}
					mu.Unlock()
					return
				}
				lat[w] = append(lat[w], d)
			}
		})
	}
	wg.Wait()
	r := loadResult{wall: time.Since(start)}
	for _, l := range lat {
		r.latencies = append(r.latencies, l...)
	}
	return r, firstErr
}

// sent counts the calls of this process that carried a unique tag; it starts at the clock so
// that two processes' tags differ too.
var sent atomic.Uint64

func init() { sent.Store(uint64(time.Now().UnixNano())) } //nolint:gosec // The clock is past 1970.

// uniqueTag overwrites tag with a hex string of the same length never sent before.
func uniqueTag(tag []byte) {
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], sent.Add(1))
	s := hex.EncodeToString(id[:])
	for i := range tag {
		tag[i] = s[i%len(s)]
	}
}
