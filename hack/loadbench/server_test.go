package main

import (
	"os/exec"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseAddress(t *testing.T) {
	type want struct {
		addr string
		ok   bool
	}
	cases := map[string]struct {
		reason string
		line   string
		want   want
	}{
		"Serving": {
			reason: "The line main.go logs once it serves.",
			line:   `{"level":"info","ts":1795905342.405245,"caller":"function-postgres-dr/main.go:83","msg":"Serving","address":"127.0.0.1:46211","insecure":true}`,
			want:   want{addr: "127.0.0.1:46211", ok: true},
		},
		"OtherLine": {
			reason: "A JSON line without an address.",
			line:   `{"level":"info","msg":"Shutting down: draining in-flight requests","timeout":"10s"}`,
		},
		"NotJSON": {
			reason: "Text that mentions an address is not the log line.",
			line:   `panic: address 127.0.0.1:1 in use`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			addr, ok := parseAddress(tc.line)
			if diff := cmp.Diff(tc.want, want{addr: addr, ok: ok}, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("\n%s\nparseAddress(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestKilledBy(t *testing.T) {
	cases := map[string]struct {
		reason string
		script string
		want   bool
	}{
		"SIGTERM":  {reason: "A process that SIGTERM killed.", script: "kill -TERM $$", want: true},
		"SIGKILL":  {reason: "Another signal is not SIGTERM.", script: "kill -KILL $$"},
		"ExitCode": {reason: "A non-zero exit is no signal.", script: "exit 3"},
		"Clean":    {reason: "A clean exit is no signal.", script: "exit 0"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := exec.Command("sh", "-c", tc.script).Run()
			if diff := cmp.Diff(tc.want, killedBy(err, syscall.SIGTERM)); diff != "" {
				t.Errorf("\n%s\nkilledBy(%v, SIGTERM): -want, +got:\n%s", tc.reason, err, diff)
			}
		})
	}
}
