package main

import (
	"runtime"
	"syscall"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/crossplane/function-sdk-go/errors"
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
)

// round is how long one round of an in-process measurement runs at least.
const round = 150 * time.Millisecond

// cost is what one in-process operation takes.
type cost struct {
	// cpu is the CPU time per operation, all threads and GC included as in the server's
	// figure: the yardstick of the goals.
	cpu time.Duration
	// wall is the elapsed time per operation, as go test -bench reports it.
	wall time.Duration
}

// protoFloor measures the protobuf floor of a response: encoding it once and decoding it once,
// what gRPC spends on it anyway.
func protoFloor(rsp *fnv1.RunFunctionResponse, rounds int) (cost, error) {
	return measureOp(rounds, func() error {
		b, err := proto.Marshal(rsp)
		if err != nil {
			return errors.Wrap(err, "cannot encode the response")
		}
		return errors.Wrap(proto.Unmarshal(b, &fnv1.RunFunctionResponse{}), "cannot decode the response")
	})
}

// requestDecode measures decoding an encoded request once: what the server spends on a request
// before the function sees it, which the floor does not count.
func requestDecode(req []byte, rounds int) (cost, error) {
	return measureOp(rounds, func() error {
		return errors.Wrap(proto.Unmarshal(req, &fnv1.RunFunctionRequest{}), "cannot decode the request")
	})
}

// measureOp measures op in-process: each figure is averaged over a round of at least round and
// 10 operations, and the minimum of rounds rounds kept, to damp the noise of other work on the
// machine.
func measureOp(rounds int, op func() error) (cost, error) {
	best := cost{}
	for range rounds {
		runtime.GC()
		c0, err := selfCPU()
		if err != nil {
			return cost{}, err
		}
		start, n := time.Now(), 0
		for n < 10 || time.Since(start) < round {
			if err := op(); err != nil {
				return cost{}, err
			}
			n++
		}
		wall := time.Since(start)
		c1, err := selfCPU()
		if err != nil {
			return cost{}, err
		}
		if c := perCall(c1-c0, n); best.cpu == 0 || c < best.cpu {
			best.cpu = c
		}
		if w := perCall(wall, n); best.wall == 0 || w < best.wall {
			best.wall = w
		}
	}
	return best, nil
}

// selfCPU returns the CPU time (user and system, all threads) this process has used so far.
func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, errors.Wrap(err, "cannot read this process's CPU time")
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
