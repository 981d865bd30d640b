//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

// env is where the end-to-end test finds what `make e2e` built, and where the control plane it
// brings up keeps its state and logs.
type env struct {
	root    string // the repository
	bin     string // built binaries: kube-apiserver, crossplane-core, crossplane, crane, function
	xpkg    string // built packages (make xpkg)
	run     string // this run's state: pki, kubeconfig, logs, pids
	scripts string // e2e/scripts

	cfg    *rest.Config
	kube   kubernetes.Interface
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper

	fnMetrics string // host:port of the function's Prometheus endpoint

	start    time.Time
	mu       sync.Mutex
	times    []stageTime
	figures  []figure
	teardown []func()
}

// onTeardown registers fn to run when the whole test ends, before the control plane goes down;
// the last registered runs first.
func (e *env) onTeardown(fn func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.teardown = append(e.teardown, fn)
}

type stageTime struct {
	name string
	took time.Duration
}

// figure is one measured result of the run, printed as one line at its end.
type figure struct {
	name, text string
}

// newEnv reads the locations `make e2e` passes in the environment.
func newEnv() (*env, error) {
	root, err := filepath.Abs(getenv("E2E_ROOT", ".."))
	if err != nil {
		return nil, errors.Wrap(err, "cannot resolve repository root")
	}
	e := &env{
		root:    root,
		bin:     getenv("E2E_BIN", filepath.Join(root, "_output", "bin")),
		xpkg:    getenv("E2E_XPKG", filepath.Join(root, "_output", "xpkg")),
		run:     getenv("E2E_RUN", filepath.Join(root, "_output", "e2e")),
		scripts: filepath.Join(root, "e2e", "scripts"),
		start:   time.Now(),
	}
	return e, nil
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// stage runs fn as one named stage of the test and prints how long it took.
func (e *env) stage(t *testing.T, name string, fn func(t *testing.T)) {
	t.Helper()
	begin := time.Now()
	fmt.Printf("[e2e %7.1fs] >>> %s\n", time.Since(e.start).Seconds(), name)
	defer func() {
		took := time.Since(begin)
		e.mu.Lock()
		e.times = append(e.times, stageTime{name: name, took: took})
		e.mu.Unlock()
		status := "ok"
		if t.Failed() {
			status = "FAILED"
		}
		fmt.Printf("[e2e %7.1fs] <<< %s: %s in %.2fs\n", time.Since(e.start).Seconds(), name, status, took.Seconds())
	}()
	fn(t)
}

// mark prints a timed event inside a stage, such as a measured interval.
func (e *env) mark(format string, args ...any) {
	fmt.Printf("[e2e %7.1fs]     %s\n", time.Since(e.start).Seconds(), fmt.Sprintf(format, args...))
}

// figure records one of the run's figures, replacing an earlier one of the same name, and prints
// it; summary prints every figure again, one line each.
func (e *env) figure(name, format string, args ...any) {
	f := figure{name: name, text: fmt.Sprintf(format, args...)}
	e.mark("%s: %s", f.name, f.text)
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := range e.figures {
		if e.figures[i].name == name {
			e.figures[i] = f
			return
		}
	}
	e.figures = append(e.figures, f)
}

// summary prints every stage's time, then every figure.
func (e *env) summary() {
	e.mu.Lock()
	defer e.mu.Unlock()
	fmt.Println("[e2e] stage times:")
	for _, s := range e.times {
		fmt.Printf("[e2e]   %-52s %7.2fs\n", s.name, s.took.Seconds())
	}
	fmt.Printf("[e2e]   %-52s %7.2fs\n", "total", time.Since(e.start).Seconds())
	for _, f := range e.figures {
		fmt.Printf("[e2e] %s: %s\n", f.name, f.text)
	}
}

// script runs one of e2e/scripts with the given arguments, its output going to the test's output.
func (e *env) script(ctx context.Context, name string, args ...string) error {
	return e.scriptEnv(ctx, nil, name, args...)
}

// scriptEnv is script with more environment variables (KEY=value).
func (e *env) scriptEnv(ctx context.Context, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(e.scripts, name), args...)
	cmd.Env = append(append(os.Environ(), "PATH="+e.bin+string(os.PathListSeparator)+os.Getenv("PATH")), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if l != "" {
			e.mark("%s: %s", name, l)
		}
	}
	return errors.Wrapf(err, "cannot run %s", name)
}

// kubectl runs the machine's kubectl against the test's control plane, as a user would.
func (e *env) kubectl(ctx context.Context, stdin []byte, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+e.kubeconfig())
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), errors.Wrapf(err, "kubectl %s: %s", strings.Join(args, " "), strings.TrimSpace(out.String()))
}

// tool runs one of the built binaries and returns its combined output.
func (e *env) tool(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(e.bin, name), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+e.kubeconfig())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), errors.Wrapf(err, "%s %s: %s", name, strings.Join(args, " "), strings.TrimSpace(out.String()))
}

func (e *env) kubeconfig() string { return filepath.Join(e.run, "kubeconfig") }

// connect makes the clients of the running control plane.
func (e *env) connect() error {
	cfg, err := clientcmd.BuildConfigFromFlags("", e.kubeconfig())
	if err != nil {
		return errors.Wrap(err, "cannot load kubeconfig")
	}
	cfg.QPS, cfg.Burst = 200, 400
	e.cfg = cfg
	if e.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return errors.Wrap(err, "cannot make kubernetes client")
	}
	if e.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		return errors.Wrap(err, "cannot make dynamic client")
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return errors.Wrap(err, "cannot make discovery client")
	}
	e.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	return nil
}

// resource returns the dynamic client of the given apiVersion and kind, refreshing discovery
// once when the kind is new.
func (e *env) resource(apiVersion, kind string) (dynamic.NamespaceableResourceInterface, bool, error) {
	m, err := e.mapping(apiVersion, kind)
	if err != nil {
		return nil, false, err
	}
	return e.dyn.Resource(m.Resource), m.Scope.Name() == "namespace", nil
}

// gvr returns the resource of the given apiVersion and kind.
func (e *env) gvr(apiVersion, kind string) (schema.GroupVersionResource, error) {
	m, err := e.mapping(apiVersion, kind)
	if err != nil {
		return schema.GroupVersionResource{}, err
	}
	return m.Resource, nil
}

func (e *env) mapping(apiVersion, kind string) (*meta.RESTMapping, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, errors.Wrapf(err, "cannot parse apiVersion %q", apiVersion)
	}
	gk := schema.GroupKind{Group: gv.Group, Kind: kind}
	m, err := e.mapper.RESTMapping(gk, gv.Version)
	if err != nil {
		e.mapper.Reset()
		if m, err = e.mapper.RESTMapping(gk, gv.Version); err != nil {
			return nil, errors.Wrapf(err, "cannot map %s %s", apiVersion, kind)
		}
	}
	return m, nil
}

// get fetches one object by apiVersion, kind, namespace and name.
func (e *env) get(ctx context.Context, apiVersion, kind, namespace, name string) (*unstructured.Unstructured, error) {
	ri, namespaced, err := e.resource(apiVersion, kind)
	if err != nil {
		return nil, err
	}
	if namespaced {
		return ri.Namespace(namespace).Get(ctx, name, getOpts)
	}
	return ri.Get(ctx, name, getOpts)
}

// eventually calls fn every interval until it returns nil or the timeout passes; then it returns
// fn's last error.
func eventually(ctx context.Context, timeout, interval time.Duration, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		if last = fn(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Wrapf(last, "still failing after %s", timeout)
		case <-time.After(interval):
		}
	}
}

var getOpts = metav1.GetOptions{}

func jsonMarshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	return b, errors.Wrap(err, "cannot marshal JSON")
}

// jsonEqual reports whether a and b are the same JSON document.
func jsonEqual(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

func jsonUnmarshal(b []byte, v any) error {
	return errors.Wrap(json.Unmarshal(b, v), "cannot unmarshal JSON")
}
