// Package rietest runs a built Lambda bootstrap under the AWS Lambda Runtime Interface
// Emulator (aws-lambda-rie, built from its Go module, pinned in tools/misc) on free loopback
// ports, for tests, and invokes it over HTTP as Lambda would.
package rietest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pgdr/function-postgres-dr/lambda/internal/artifact"
	"github.com/pgdr/function-postgres-dr/lambda/internal/pgtest"
)

// moduleDir is the lambda module's directory, from this file's place in it.
func moduleDir() string {
	_, file, _, _ := runtime.Caller(0) //nolint:dogsled // Only the file name is wanted.
	return filepath.Join(filepath.Dir(file), "..", "..")
}

var buildMu sync.Mutex

// Binary returns the aws-lambda-rie executable: $PGDR_RIE, else the repository's
// _output/bin/aws-lambda-rie (`make _output/bin/aws-lambda-rie`), else one it builds from the
// module pinned in tools/misc, in a temporary copy of that module (so an untidy go.mod there
// cannot stop it, and the repository is not touched), cached in the temp directory.
func Binary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("PGDR_RIE"); p != "" {
		return p
	}
	root := filepath.Join(moduleDir(), "..")
	if p := filepath.Join(root, "_output", "bin", "aws-lambda-rie"); isFile(p) {
		return p
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	misc := filepath.Join(root, "tools", "misc")
	sum, err := os.ReadFile(filepath.Join(misc, "go.sum"))
	if err != nil {
		tb.Fatalf("cannot find aws-lambda-rie: set PGDR_RIE, run make _output/bin/aws-lambda-rie, or keep tools/misc: %v", err)
	}
	h := sha256.Sum256(sum)
	p := filepath.Join(os.TempDir(), fmt.Sprintf("pgdr-aws-lambda-rie-%x", h[:6]))
	if isFile(p) {
		return p
	}
	work := tb.TempDir()
	for _, f := range []string{"go.mod", "go.sum", "tools.go"} {
		b, err := os.ReadFile(filepath.Join(misc, f))
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, f), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	tmp := p + ".tmp" + strconv.Itoa(os.Getpid())
	cmd := exec.Command("go", "build", "-mod=mod", "-trimpath", "-ldflags=-s -w", "-o", tmp, "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("cannot build aws-lambda-rie from tools/misc: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, p); err != nil {
		tb.Fatal(err)
	}
	return p
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// zips keeps the zips built by Unpacked, by file name, for the rest of the test binary's run.
var (
	zipsMu sync.Mutex
	zips   = map[string][]byte{}
)

// Unpacked returns a directory holding the function's zip for this machine's architecture,
// unzipped as Lambda unzips it into /var/task: the zip `make lambda` built ($PGDR_LAMBDA_DIST),
// or one built now (once per test binary).
func Unpacked(tb testing.TB, function string) string {
	tb.Helper()
	spec := artifact.Spec{Function: function, Arch: runtime.GOARCH}
	var zipPath string
	if dist := os.Getenv("PGDR_LAMBDA_DIST"); dist != "" {
		zipPath = filepath.Join(dist, spec.Name())
	} else {
		zipsMu.Lock()
		b, ok := zips[spec.Name()]
		if !ok {
			arts, err := artifact.Build(context.Background(), artifact.Options{
				ModuleDir: moduleDir(), OutDir: tb.TempDir(), Specs: []artifact.Spec{spec},
				CABundle: filepath.Join(moduleDir(), "certs", "global-bundle.pem"),
			})
			if err == nil {
				b, err = os.ReadFile(arts[0].Path)
			}
			if err != nil {
				zipsMu.Unlock()
				tb.Fatal(err)
			}
			zips[spec.Name()] = b
		}
		zipsMu.Unlock()
		zipPath = filepath.Join(tb.TempDir(), spec.Name())
		if err := os.WriteFile(zipPath, b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	dir := tb.TempDir()
	if err := artifact.Unzip(zipPath, dir); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// RIE is a running emulator with one function.
type RIE struct {
	URL string
	cmd *exec.Cmd
	out *syncWriter
}

// Start runs taskDir/bootstrap under the emulator with env (and PATH and HOME), and stops both
// when tb ends. Lambda starts the bootstrap at the first invocation (the cold start).
func Start(tb testing.TB, taskDir string, env []string) *RIE {
	tb.Helper()
	var ports [2]int
	for i := range ports {
		p, err := pgtest.FreePort()
		if err != nil {
			tb.Fatal(err)
		}
		ports[i] = p
	}
	rieAddr := "127.0.0.1:" + strconv.Itoa(ports[0])
	cmd := exec.Command(Binary(tb),
		"--runtime-interface-emulator-address", rieAddr,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(ports[1]),
		filepath.Join(taskDir, "bootstrap"))
	cmd.Dir = taskDir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "AWS_LAMBDA_FUNCTION_TIMEOUT=120", "LOG_LEVEL=warn"}, env...)
	out := &syncWriter{}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so that stopping it also stops the bootstrap it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("cannot start aws-lambda-rie: %v", err)
	}
	r := &RIE{URL: "http://" + rieAddr + "/2015-03-31/functions/function/invocations", cmd: cmd, out: out}
	tb.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if tb.Failed() {
			tb.Logf("aws-lambda-rie output:\n%s", r.Output())
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.Dial("tcp", rieAddr)
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("aws-lambda-rie did not listen on %s: %v\n%s", rieAddr, err, r.Output())
		}
	}
	return r
}

// Invoke sends one invocation and returns the HTTP status and body. A handler error comes
// back with status 200 and {"errorMessage": ..., "errorType": ...} in the body.
func (r *RIE) Invoke(ctx context.Context, payload []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(payload))
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("cannot invoke through aws-lambda-rie: %w", err)
	}
	defer resp.Body.Close() //nolint:errcheck // read fully below
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// Output returns what the emulator and the function wrote so far.
func (r *RIE) Output() string {
	r.out.mu.Lock()
	defer r.out.mu.Unlock()
	return r.out.b.String()
}

// syncWriter collects the output of both the emulator's streams.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
