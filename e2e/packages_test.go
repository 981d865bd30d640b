//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pkg/errors"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

const (
	fnName  = "function-postgres-dr"
	cfgName = "configuration-postgres-dr"
	pkgAPI  = "pkg.crossplane.io/v1"
)

// registry returns host:port of the local registry crossplane-up.sh started.
func (e *env) registry(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.run, "registry"))
	if err != nil {
		t.Fatalf("cannot read registry address: %v", err)
	}
	return strings.TrimSpace(string(b))
}

func (e *env) version() string { return getenv("E2E_VERSION", "v0.0.0-e2e") }

// pushPackages pushes the Function (one package per platform, as one index) and the
// Configuration to the local registry with the real CLI, as a user pushes to theirs.
func pushPackages(ctx context.Context, t *testing.T, e *env) {
	reg := e.registry(t)
	fns := []string{filepath.Join(e.xpkg, fnName+"-amd64.xpkg"), filepath.Join(e.xpkg, fnName+"-arm64.xpkg")}
	if out, err := e.tool(ctx, "crossplane", "xpkg", "push", "-f", strings.Join(fns, ","), reg+"/pgdr/"+fnName+":"+e.version()); err != nil {
		t.Fatalf("cannot push function package: %v\n%s", err, out)
	}
	if out, err := e.tool(ctx, "crossplane", "xpkg", "push", "-f", filepath.Join(e.xpkg, cfgName+".xpkg"), reg+"/pgdr/"+cfgName+":"+e.version()); err != nil {
		t.Fatalf("cannot push configuration package: %v\n%s", err, out)
	}
	out, err := e.tool(ctx, "crane", "manifest", "--insecure", reg+"/pgdr/"+fnName+":"+e.version())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{`"architecture":"amd64"`, `"architecture":"arm64"`} {
		if !strings.Contains(strings.ReplaceAll(out, " ", ""), p) {
			t.Errorf("function package index lacks %s:\n%s", p, out)
		}
	}
	e.mark("pushed %s and %s to %s", fnName, cfgName, reg)
}

// installFunction installs our Function package with Crossplane's package manager and does the
// External runtime's part: it runs the function binary with mTLS on loopback, hands its server
// certificate to Crossplane in a secret, and sets the revision's endpoint.
func installFunction(ctx context.Context, t *testing.T, e *env) {
	reg := e.registry(t)
	fn := fmt.Sprintf("apiVersion: %s\nkind: Function\nmetadata:\n  name: %s\nspec:\n  package: %s/pgdr/%s:%s\n",
		pkgAPI, fnName, reg, fnName, e.version())
	if out, err := e.kubectl(ctx, []byte(fn), "apply", "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}

	// The default TTLs, so that the steady-state window sees what a converged claim costs.
	e.fnMetrics = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	port := startFunction(t, e, "function", "--tls-server-certs-dir="+filepath.Join(e.run, "pki", "fn-server-dir"),
		"--metrics-address="+e.fnMetrics)
	if err := refusesWithoutClientCert(filepath.Join(e.run, "pki", "ca.crt"), port); err != nil {
		t.Error(err)
	}

	pki := filepath.Join(e.run, "pki")
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fnName + "-tls-server", Namespace: "crossplane-system"}, Data: map[string][]byte{}}
	for k, f := range map[string]string{"tls.crt": "fn-server.crt", "tls.key": "fn-server.key", "ca.crt": "ca.crt"} {
		b, err := os.ReadFile(filepath.Join(pki, f))
		if err != nil {
			t.Fatal(err)
		}
		sec.Data[k] = b
	}
	if _, err := e.kube.CoreV1().Secrets("crossplane-system").Create(ctx, sec, metav1.CreateOptions{}); err != nil {
		t.Fatalf("cannot create function TLS server secret: %v", err)
	}

	var rev *unstructured.Unstructured
	if err := eventually(ctx, 90*time.Second, 200*time.Millisecond, func(ctx context.Context) error {
		ri, _, err := e.resource(pkgAPI, "FunctionRevision")
		if err != nil {
			return err
		}
		l, err := ri.List(ctx, metav1.ListOptions{LabelSelector: "pkg.crossplane.io/package=" + fnName})
		if err != nil {
			return err
		}
		if len(l.Items) == 0 {
			return errors.New("no FunctionRevision yet")
		}
		rev = &l.Items[0]
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	patch := fmt.Sprintf(`{"status":{"tlsServerSecretName":%q,"endpoint":"dns:///127.0.0.1:%d"}}`, sec.Name, port)
	if out, err := e.kubectl(ctx, nil, "patch", "functionrevision", rev.GetName(), "--subresource=status", "--type=merge", "-p", patch); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if out, err := e.kubectl(ctx, nil, "wait", "functionrevision", rev.GetName(), "--for=condition=RevisionHealthy", "--timeout=90s"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// The External runtime reports the runtime's health; the function runner does not need it, but
	// `kubectl get function` shows HEALTHY from it.
	now := time.Now().UTC().Format(time.RFC3339)
	rh := fmt.Sprintf(`[{"op":"add","path":"/status/conditions/-","value":{"type":"RuntimeHealthy","status":"True","reason":"HealthyPackageRevision","lastTransitionTime":%q}}]`, now)
	if out, err := e.kubectl(ctx, nil, "patch", "functionrevision", rev.GetName(), "--subresource=status", "--type=json", "-p", rh); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if out, err := e.kubectl(ctx, nil, "wait", "function", fnName, "--for=condition=Healthy", "--timeout=90s"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}

	// What the package manager did with the pulled package: it resolved our image and parsed it
	// into its cache. (Function packages carry their Input CRD, but by the xpkg spec Crossplane
	// does not install it: only tools such as render and validate read it.)
	rev, err := e.get(ctx, pkgAPI, "FunctionRevision", "", rev.GetName())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := str(rev, "status", "resolvedImage"), reg+"/pgdr/"+fnName+":"+e.version(); got != want {
		t.Errorf("FunctionRevision status.resolvedImage %q, want %q", got, want)
	}
	if cached, _ := os.ReadDir(filepath.Join(e.run, "xpkg-cache")); len(cached) == 0 {
		t.Errorf("the package manager's cache %s is empty: the package was not pulled", filepath.Join(e.run, "xpkg-cache"))
	}
	inputCRDs(t, e)
	e.mark("function %s healthy: revision %s, endpoint 127.0.0.1:%d (mTLS), metrics %s", fnName, rev.GetName(), port, e.fnMetrics)
}

// refusesWithoutClientCert checks that the function speaks TLS with a server certificate of the
// test CA for 127.0.0.1, and refuses a client that has no certificate.
func refusesWithoutClientCert(caFile string, port int) error {
	ca, err := os.ReadFile(caFile) //nolint:gosec // test PKI.
	if err != nil {
		return errors.Wrap(err, "cannot read CA")
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2"}})
	if err != nil {
		return errors.Wrap(err, "cannot verify the function's server certificate for 127.0.0.1 against the test CA")
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	// With TLS 1.3 the server's verdict on the client certificate arrives after the handshake.
	_, _ = conn.Write([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
	_, err = conn.Read(make([]byte, 1))
	var ne net.Error
	switch {
	case err == nil:
		return errors.New("the function accepted a TLS client without a certificate")
	case errors.As(err, &ne) && ne.Timeout():
		return errors.New("the function neither served nor refused a TLS client without a certificate")
	}
	return nil
}

// inputCRDs returns the names of the CRDs in package/input.
func inputCRDs(t *testing.T, e *env) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(e.root, "package", "input", "*.yaml"))
	var names []string
	for _, f := range files {
		for _, u := range readYAML(t, f) {
			if u.GetKind() == "CustomResourceDefinition" {
				names = append(names, u.GetName())
			}
		}
	}
	if len(names) == 0 {
		t.Errorf("package/input has no CRD")
	}
	return names
}

// startFunction runs the function binary on a free loopback port with the given flags, stopped
// when the whole test ends, and returns the port once it accepts connections.
func startFunction(t *testing.T, e *env, name string, flags ...string) int {
	t.Helper()
	port := freePort(t)
	log, err := os.Create(filepath.Join(e.run, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(e.bin, "function"), append([]string{fmt.Sprintf("--address=127.0.0.1:%d", port), "--debug"}, flags...)...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("cannot start function: %v", err)
	}
	_ = os.WriteFile(filepath.Join(e.run, name+".pid"), []byte(fmt.Sprint(cmd.Process.Pid)), 0o644)
	e.onTeardown(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
		}
		_ = log.Close()
		_ = os.Remove(filepath.Join(e.run, name+".pid"))
	})
	if err := eventually(context.Background(), 30*time.Second, 100*time.Millisecond, func(context.Context) error {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return err
		}
		return c.Close()
	}); err != nil {
		t.Fatalf("function does not listen: %v", err)
	}
	return port
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// installConfiguration installs our Configuration package from the local registry. Its
// dependencies (our Function, already installed, and the provider-aws family, whose CRDs the test
// installs itself) are not resolved: no provider runs here.
func installConfiguration(ctx context.Context, t *testing.T, e *env) {
	reg := e.registry(t)
	cfg := fmt.Sprintf("apiVersion: %s\nkind: Configuration\nmetadata:\n  name: %s\nspec:\n  package: %s/pgdr/%s:%s\n  skipDependencyResolution: true\n",
		pkgAPI, cfgName, reg, cfgName, e.version())
	if out, err := e.kubectl(ctx, []byte(cfg), "apply", "-f", "-"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if out, err := e.kubectl(ctx, nil, "wait", "configuration", cfgName, "--for=condition=Healthy", "--timeout=120s"); err != nil {
		out2, _ := e.kubectl(ctx, nil, "get", "configuration,configurationrevision", "-o", "yaml")
		t.Fatalf("%v\n%s\n%s", err, out, out2)
	}
	xrd := readYAML(t, filepath.Join(e.root, "apis", "definition.yaml"))[0]
	for _, c := range []string{"Established", "Offered"} {
		if out, err := e.kubectl(ctx, nil, "wait", "compositeresourcedefinition", xrd.GetName(), "--for=condition="+c, "--timeout=120s"); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	claimPlural, _, _ := unstructured.NestedString(xrd.Object, "spec", "claimNames", "plural")
	group, _, _ := unstructured.NestedString(xrd.Object, "spec", "group")
	if out, err := e.kubectl(ctx, nil, "wait", "crd", claimPlural+"."+group, "--for=condition=Established", "--timeout=60s"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	comp := readYAML(t, filepath.Join(e.root, "apis", "composition.yaml"))[0]
	if _, err := e.get(ctx, comp.GetAPIVersion(), "Composition", "", comp.GetName()); err != nil {
		t.Fatalf("package manager did not install composition %s: %v", comp.GetName(), err)
	}
	// The namespaced API: its XRD established (no claim to offer), its Composition and the
	// activation policy of the namespaced kinds installed.
	nsXRD := readYAML(t, filepath.Join(e.root, "apis", "definition-namespaced.yaml"))[0]
	if out, err := e.kubectl(ctx, nil, "wait", "compositeresourcedefinition", nsXRD.GetName(), "--for=condition=Established", "--timeout=120s"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, f := range []string{"composition-namespaced.yaml", "activation.yaml"} {
		o := readYAML(t, filepath.Join(e.root, "apis", f))[0]
		if _, err := e.get(ctx, o.GetAPIVersion(), o.GetKind(), "", o.GetName()); err != nil {
			t.Fatalf("package manager did not install %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	e.mark("configuration %s healthy: XRD %s offered, composition %s; XRD %s established, composition and activation policy installed", cfgName, xrd.GetName(), comp.GetName(), nsXRD.GetName())
}

// readYAML reads every object of a YAML file.
func readYAML(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(path) //nolint:gosec // test input.
	if err != nil {
		t.Fatalf("cannot read %s: %v", path, err)
	}
	objs, err := parseYAML(b)
	if err != nil {
		t.Fatalf("cannot parse %s: %v", path, err)
	}
	return objs
}

// parseYAML splits a multi-document YAML stream into objects.
func parseYAML(b []byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, doc := range strings.Split("\n"+string(b), "\n---") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		m := map[string]any{}
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			return nil, errors.Wrap(err, "cannot unmarshal YAML document")
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	return out, nil
}
