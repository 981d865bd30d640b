package main

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/crossplane/function-sdk-go/errors"
)

// clockTicks returns the clock ticks per second /proc/<pid>/stat counts in: getconf CLK_TCK,
// else 100, USER_HZ on every Linux architecture Go supports.
func clockTicks() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		return 100
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil || n <= 0 {
		return 100
	}
	return n
}

// cpuTime returns the CPU time (user and system, all threads) the process has used so far.
func cpuTime(pid int, ticks int64) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, errors.Wrap(err, "cannot read the server's CPU time")
	}
	t, err := parseStatCPU(string(b))
	if err != nil {
		return 0, err
	}
	return time.Duration(t) * time.Second / time.Duration(ticks), nil //nolint:gosec // Clock ticks of one process fit an int64 for 2^63/100 seconds.
}

// parseStatCPU returns utime+stime, in clock ticks, from the text of /proc/<pid>/stat. The
// command name (field 2) is in parentheses and may hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStatCPU(stat string) (uint64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("cannot parse /proc/<pid>/stat: no command name")
	}
	// After the command name: state is field 3, utime field 14, stime field 15.
	f := strings.Fields(stat[i+1:])
	const utime, stime = 14 - 3, 15 - 3
	if len(f) <= stime {
		return 0, errors.Errorf("cannot parse /proc/<pid>/stat: %d fields after the command name", len(f))
	}
	u, err := strconv.ParseUint(f[utime], 10, 64)
	if err != nil {
		return 0, errors.Wrap(err, "cannot parse utime")
	}
	s, err := strconv.ParseUint(f[stime], 10, 64)
	if err != nil {
		return 0, errors.Wrap(err, "cannot parse stime")
	}
	return u + s, nil
}

// peakRSS returns the process's peak resident set size (VmHWM), in bytes.
func peakRSS(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, errors.Wrap(err, "cannot read the server's peak RSS")
	}
	return parseVmHWM(string(b))
}

// parseVmHWM returns VmHWM, in bytes, from the text of /proc/<pid>/status.
func parseVmHWM(status string) (uint64, error) {
	for line := range strings.Lines(status) {
		v, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, errors.Errorf("cannot parse %q", strings.TrimSpace(line))
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, errors.Wrapf(err, "cannot parse %q", strings.TrimSpace(line))
		}
		return kb * 1024, nil
	}
	return 0, errors.New("no VmHWM in /proc/<pid>/status")
}
