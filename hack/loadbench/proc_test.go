package main

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseStatCPU(t *testing.T) {
	type want struct {
		ticks uint64
		err   bool
	}
	cases := map[string]struct {
		reason string
		stat   string
		want   want
	}{
		"Plain": {
			reason: "utime (field 14) plus stime (field 15).",
			stat:   "4242 (function) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 37 0 0 20 0 9 0 100 1000000 2000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
			want:   want{ticks: 287},
		},
		"CommandWithSpacesAndParens": {
			reason: "The command name may hold spaces and ')': fields count from the last ')'.",
			stat:   "7 (a b) c)) R 1 7 7 0 -1 0 0 0 0 0 11 22 0 0 20 0 1 0 5 100 10 0\n",
			want:   want{ticks: 33},
		},
		"Truncated": {
			reason: "Too few fields is an error, not a zero.",
			stat:   "7 (f) R 1 7 7",
			want:   want{err: true},
		},
		"NoCommand": {
			reason: "Not a stat file.",
			stat:   "garbage",
			want:   want{err: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := parseStatCPU(tc.stat)
			if diff := cmp.Diff(tc.want, want{ticks: got, err: err != nil}, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("\n%s\nparseStatCPU(...): -want, +got (error %v):\n%s", tc.reason, err, diff)
			}
		})
	}
}

func TestParseVmHWM(t *testing.T) {
	type want struct {
		bytes uint64
		err   bool
	}
	cases := map[string]struct {
		reason string
		status string
		want   want
	}{
		"Present": {
			reason: "VmHWM is in kB.",
			status: "Name:\tfunction\nVmPeak:\t 1300000 kB\nVmHWM:\t   65536 kB\nVmRSS:\t   40000 kB\n",
			want:   want{bytes: 64 << 20},
		},
		"Missing": {
			reason: "No VmHWM (a kernel thread) is an error, not a zero that passes the goal.",
			status: "Name:\tkthreadd\nState:\tS (sleeping)\n",
			want:   want{err: true},
		},
		"BadUnit": {
			reason: "Another unit than kB is not guessed at.",
			status: "VmHWM:\t 64 MB\n",
			want:   want{err: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := parseVmHWM(tc.status)
			if diff := cmp.Diff(tc.want, want{bytes: got, err: err != nil}, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("\n%s\nparseVmHWM(...): -want, +got (error %v):\n%s", tc.reason, err, diff)
			}
		})
	}
}

// TestSelfProc reads this test process's own /proc files: the parsers accept what the kernel
// writes, and 200 ms of CPU spent spinning (by getrusage) shows up as about that in the CPU time
// read from /proc/<pid>/stat, so the clock-tick conversion is right.
func TestSelfProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc: loadbench runs on Linux only")
	}
	pid, ticks := os.Getpid(), clockTicks()
	c0, err := cpuTime(pid, ticks)
	if err != nil {
		t.Fatal(err)
	}
	s0 := selfCPU(t)
	for selfCPU(t)-s0 < 200*time.Millisecond {
		_ = strings.Repeat("x", 64)
	}
	c1, err := cpuTime(pid, ticks)
	if err != nil {
		t.Fatal(err)
	}
	// Clock ticks round, and the test binary's other threads may add a little.
	if d := c1 - c0; d < 150*time.Millisecond || d > 400*time.Millisecond {
		t.Errorf("/proc/self/stat: CPU time grew by %s over 200 ms of CPU spent spinning", d)
	}
	hwm, err := peakRSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	if hwm < 1<<20 {
		t.Errorf("peak RSS of a Go test process: got %d bytes, want at least 1 MiB", hwm)
	}
}

// selfCPU returns the CPU time (user and system, all threads) this process has used so far.
func selfCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
