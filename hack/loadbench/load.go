package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	"github.com/crossplane/function-sdk-go/errors"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// rawMessage is a request sent as bytes already encoded, or a response whose size is all the
// client keeps: the load generator then spends almost nothing per call, leaving the cores to
// the server.
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

// runLoad calls RunFunction from concurrency goroutines sharing conn until b.calls calls were
// made or b.time passed; calls in flight then finish, so that the server's CPU time over the run
// is all spent on counted calls. Each call sends the request encoded as untagged (it must have
// no meta) with a new tag, as Crossplane's requests carry. Every response must be wantSize bytes
// long: the function is deterministic, so a different size means a different (likely failed)
// answer.
func runLoad(ctx context.Context, conn *grpc.ClientConn, untagged []byte, wantSize, concurrency int, b bounds) (loadResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
		lat      = make([][]time.Duration, concurrency)
	)
	fail := func(err error) {
		once.Do(func() { firstErr = err; cancel() })
	}
	start := time.Now()
	deadline := start.Add(b.time)
	for w := range concurrency {
		lat[w] = make([]time.Duration, 0, b.calls/concurrency+1)
		wg.Go(func() {
			in := &rawMessage{}
			for next.Add(1) <= int64(b.calls) && time.Now().Before(deadline) && ctx.Err() == nil {
				var err error
				if in.data, err = withNewTag(in.data[:0], untagged); err != nil {
					fail(err)
					return
				}
				out := &rawMessage{}
				t := time.Now()
				err = conn.Invoke(ctx, fnv1.FunctionRunnerService_RunFunction_FullMethodName, in, out, grpc.ForceCodecV2(rawCodec{}))
				d := time.Since(t)
				if err == nil && out.size != wantSize {
					err = errors.Errorf("response of %d bytes, the first was %d", out.size, wantSize)
				}
				if err != nil {
					fail(errors.Wrap(err, "cannot call RunFunction"))
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

// withNewTag appends to dst the request encoded as untagged with a meta.tag no call carried
// before. A message's fields may come in any order, so meta is encoded first and the rest
// appended unchanged.
func withNewTag(dst, untagged []byte) ([]byte, error) {
	dst, err := proto.MarshalOptions{}.MarshalAppend(dst, &fnv1.RunFunctionRequest{Meta: &fnv1.RequestMeta{Tag: newTag()}})
	if err != nil {
		return nil, errors.Wrap(err, "cannot encode the request's meta")
	}
	return append(dst, untagged...), nil
}

// newTag returns a random tag shaped like Crossplane's: 64 hex digits.
func newTag() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // Never fails.
	return hex.EncodeToString(b[:])
}
