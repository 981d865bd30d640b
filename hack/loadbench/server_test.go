package main

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

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

func TestTail(t *testing.T) {
	cases := map[string]struct {
		reason string
		writes []string
		want   string
	}{
		"Short": {
			reason: "Output shorter than the tail is kept whole.",
			writes: []string{"a\n", "b\n"},
			want:   "a\nb\n",
		},
		"Long": {
			reason: "Only the last tailSize bytes are kept.",
			writes: []string{"old", strings.Repeat("x", tailSize-1), "y"},
			want:   strings.Repeat("x", tailSize-1) + "y",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tl := &tail{}
			for _, w := range tc.writes {
				fmt.Fprint(tl, w)
			}
			if diff := cmp.Diff(tc.want, tl.String()); diff != "" {
				t.Errorf("\n%s\ntail: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
