//go:build e2e

// Package e2e is the end-to-end test of function-postgres-dr on a real control plane: etcd,
// kube-apiserver and kube-controller-manager, Crossplane core run outside the cluster with the
// External package runtime, our packages pulled by Crossplane's package manager from a local OCI
// registry, and the function serving mTLS as a local process. A provider stand-in does what the
// AWS providers would. Run it with `make e2e`.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		fmt.Println("[e2e] PASS")
	} else {
		fmt.Println("[e2e] FAIL")
	}
	os.Exit(code)
}

// up brings up the control plane and Crossplane for one test and registers their teardown.
func up(t *testing.T) (*env, context.Context) {
	t.Helper()
	e, err := newEnv()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_ = os.RemoveAll(e.run)
	if err := os.MkdirAll(e.run, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		for i := len(e.teardown) - 1; i >= 0; i-- {
			e.teardown[i]()
		}
		if t.Failed() {
			for _, l := range []string{"crossplane", "function"} {
				tail(e, l, 30)
			}
		}
		begin := time.Now()
		if err := e.script(context.Background(), "down.sh", e.run); err != nil {
			t.Errorf("cannot tear down: %v", err)
		}
		e.mark("teardown in %.2fs; logs in %s", time.Since(begin).Seconds(), e.run)
		e.summary()
	})
	return e, ctx
}

// tail prints the last n lines of a log of the run.
func tail(e *env, name string, n int) {
	b, err := os.ReadFile(filepath.Join(e.run, name+".log"))
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	fmt.Printf("----- last %d lines of %s.log -----\n%s\n", len(lines), name, strings.Join(lines, "\n"))
}
