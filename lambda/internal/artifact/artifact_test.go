package artifact

import (
	"archive/zip"
	"bytes"
	"crypto/x509"
	"debug/elf"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
	"github.com/pgdr/function-postgres-dr/lambda/internal/pgtest"
)

// shippedBundle is the RDS CA bundle that `make lambda` puts in every zip.
var shippedBundle = filepath.Join("..", "..", "certs", contract.CABundleFile)

func TestZip(t *testing.T) {
	files := []File{
		{Name: contract.CABundleFile, Mode: 0o644, Data: []byte("ca")},
		{Name: contract.BootstrapFile, Mode: 0o755, Data: []byte("#!exe")},
	}
	var a, b bytes.Buffer
	if err := Zip(&a, files); err != nil {
		t.Fatal(err)
	}
	if err := Zip(&b, []File{files[1], files[0]}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("Zip(...): the order of the files changes the bytes")
	}
	r, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		Name     string
		Mode     os.FileMode
		Modified time.Time
	}
	var got []entry
	for _, f := range r.File {
		got = append(got, entry{Name: f.Name, Mode: f.Mode(), Modified: f.Modified.UTC()})
	}
	want := []entry{
		{Name: "bootstrap", Mode: 0o755, Modified: ModTime},
		{Name: "global-bundle.pem", Mode: 0o644, Modified: ModTime},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Zip(...): entries sorted, with modes and the fixed time: -want, +got:\n%s", diff)
	}
}

func TestCheckBundle(t *testing.T) {
	ca, err := pgtest.NewCA("test")
	if err != nil {
		t.Fatal(err)
	}
	cert, _, err := ca.ServerCert(nil, []string{"leaf"})
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := os.ReadFile(shippedBundle)
	if err != nil {
		t.Fatalf("the shipped bundle: %v", err)
	}
	type want struct {
		n   int
		err string
	}
	cases := map[string]struct {
		reason string
		pem    []byte
		want   want
	}{
		"Shipped": {
			reason: "The RDS bundle in certs/ holds the RDS root CAs (2019 and G1 of every region).",
			pem:    shipped,
			want:   want{n: 115},
		},
		"OneCA": {
			reason: "One CA is a bundle.",
			pem:    ca.PEM,
			want:   want{n: 1},
		},
		"Empty": {
			reason: "An empty file is refused.",
			want:   want{err: "the bundle holds no certificate"},
		},
		"Leaf": {
			reason: "A server certificate is no CA.",
			pem:    append(append([]byte{}, ca.PEM...), cert...),
			want:   want{n: 1, err: "certificate 2 (CN=leaf) is not a CA"},
		},
		"Trailing": {
			reason: "Text after the certificates is refused: a truncated or mangled download.",
			pem:    append(append([]byte{}, ca.PEM...), "-----BEGIN CERT"...),
			want:   want{n: 1, err: "the bundle has text that is not PEM after its last certificate"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			n, err := CheckBundle(tc.pem)
			got := want{n: n}
			if err != nil {
				got.err = err.Error()
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\nCheckBundle(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestShippedBundleCoversRegions checks that the shipped bundle has a currently valid root CA
// for regions the composition deploys to.
func TestShippedBundleCoversRegions(t *testing.T) {
	b, err := os.ReadFile(shippedBundle)
	if err != nil {
		t.Fatal(err)
	}
	valid := map[string]bool{}
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().Before(c.NotAfter) {
			valid[c.Subject.CommonName] = true
		}
	}
	for _, region := range []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-northeast-1"} {
		for _, kind := range []string{"RSA2048 G1", "RSA4096 G1", "ECC384 G1"} {
			if cn := "Amazon RDS " + region + " Root CA " + kind; !valid[cn] {
				t.Errorf("the shipped bundle has no valid %q", cn)
			}
		}
	}
}

// checkELF checks that a bootstrap is a static Linux executable for the zip's architecture.
func checkELF(t *testing.T, zipName string, f *zip.File) {
	t.Helper()
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	_ = rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	e, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: bootstrap is not ELF: %v", zipName, err)
	}
	want := map[string]elf.Machine{"arm64": elf.EM_AARCH64, "amd64": elf.EM_X86_64}
	arch := strings.TrimSuffix(zipName[strings.LastIndex(zipName, "-")+1:], ".zip")
	if e.Machine != want[arch] || e.OSABI != elf.ELFOSABI_NONE && e.OSABI != elf.ELFOSABI_LINUX {
		t.Errorf("%s: bootstrap is %v/%v, want %v Linux", zipName, e.Machine, e.OSABI, want[arch])
	}
	for _, p := range e.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s: bootstrap is dynamically linked", zipName)
		}
	}
}

func TestBuildMissingBundle(t *testing.T) {
	_, err := Build(t.Context(), Options{ModuleDir: "../..", OutDir: t.TempDir(), CABundle: filepath.Join(t.TempDir(), "global-bundle.pem")})
	if err == nil || !strings.Contains(err.Error(), "cannot read the RDS CA bundle") || !strings.Contains(err.Error(), "lambda/certs/README.md") {
		t.Errorf("Build(...) without a bundle: want a clear error, got %v", err)
	}
}

// TestBuildReproducible builds every zip and compares it byte for byte with another build:
// the one `make lambda` made (PGDR_LAMBDA_DIST), or a second build of its own.
func TestBuildReproducible(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the zips are built on Linux")
	}
	build := func() map[string][]byte {
		out := t.TempDir()
		arts, err := Build(t.Context(), Options{ModuleDir: "../..", OutDir: out, CABundle: shippedBundle})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string][]byte{}
		for _, a := range arts {
			b, err := os.ReadFile(a.Path)
			if err != nil {
				t.Fatal(err)
			}
			m[filepath.Base(a.Path)] = b
		}
		return m
	}
	first := map[string][]byte{}
	if dist := os.Getenv("PGDR_LAMBDA_DIST"); dist != "" {
		for _, s := range All() {
			b, err := os.ReadFile(filepath.Join(dist, s.Name()))
			if err != nil {
				t.Fatalf("PGDR_LAMBDA_DIST=%s: %v", dist, err)
			}
			first[s.Name()] = b
		}
	} else {
		first = build()
	}
	second := build()
	if len(second) != 4 {
		t.Fatalf("Build(...): %d zips, want 4", len(second))
	}
	for name, b := range second {
		if !bytes.Equal(first[name], b) {
			t.Errorf("%s: two builds differ (%d and %d bytes)", name, len(first[name]), len(b))
		}
		r, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var names []string
		for _, f := range r.File {
			names = append(names, f.Name)
			if f.Name == contract.BootstrapFile {
				checkELF(t, name, f)
			}
		}
		if diff := cmp.Diff([]string{"bootstrap", "global-bundle.pem"}, names); diff != "" {
			t.Errorf("%s: entries: -want, +got:\n%s", name, diff)
		}
	}
}
