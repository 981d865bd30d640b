// Package artifact builds the Lambdas' deployment zips: for each function and architecture a
// zip holding the static `bootstrap` executable (linux, CGO_ENABLED=0, -tags lambda.norpc,
// -trimpath) and the RDS CA bundle next to it. The zips are reproducible: the same sources and
// Go toolchain give the same bytes (fixed build ID, fixed times, sorted entries).
package artifact

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pgdr/function-postgres-dr/lambda/contract"
)

// ModTime is the time of every entry in a zip: the earliest a zip can hold.
var ModTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Spec is one artifact to build.
type Spec struct {
	Function string
	Arch     string
}

// Name is the artifact's file name, for example replication-lag-arm64.zip.
func (s Spec) Name() string { return contract.ArtifactName(s.Function, s.Arch) }

// All is every artifact `make lambda` builds.
func All() []Spec {
	var out []Spec
	for _, f := range []string{contract.FunctionReplicationLag, contract.FunctionFailover} {
		for _, a := range []string{contract.ArchARM64, contract.ArchAMD64} {
			out = append(out, Spec{Function: f, Arch: a})
		}
	}
	return out
}

// Artifact is a built zip.
type Artifact struct {
	Spec
	Path string
	// SHA256 is the zip's digest in hex; Base64SHA256 the same in base64, the form of a Lambda
	// function's source code hash.
	SHA256       string
	Base64SHA256 string
}

// File is one entry of a zip.
type File struct {
	Name string
	Mode fs.FileMode
	Data []byte
}

// Zip writes files as a reproducible zip: entries sorted by name, deflated, with ModTime and
// their Unix modes.
func Zip(w io.Writer, files []File) error {
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	zw := zip.NewWriter(w)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: ModTime}
		h.SetMode(f.Mode)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return fmt.Errorf("cannot add %s to the zip: %w", f.Name, err)
		}
		if _, err := fw.Write(f.Data); err != nil {
			return fmt.Errorf("cannot write %s to the zip: %w", f.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("cannot finish the zip: %w", err)
	}
	return nil
}

// CheckBundle checks that a CA bundle is PEM certificates, all of them CAs, and returns how
// many it holds.
func CheckBundle(b []byte) (int, error) {
	n := 0
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return n, fmt.Errorf("PEM block %d is a %s, not a CERTIFICATE", n+1, blk.Type)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return n, fmt.Errorf("certificate %d: %w", n+1, err)
		}
		if !c.IsCA {
			return n, fmt.Errorf("certificate %d (%s) is not a CA", n+1, c.Subject)
		}
		n++
	}
	if len(bytes.TrimSpace(b)) > 0 {
		return n, errors.New("the bundle has text that is not PEM after its last certificate")
	}
	if n == 0 {
		return 0, errors.New("the bundle holds no certificate")
	}
	return n, nil
}

// Options of Build.
type Options struct {
	// ModuleDir is the lambda module's directory.
	ModuleDir string
	// OutDir receives the zips.
	OutDir string
	// CABundle is the PEM file shipped as contract.CABundleFile.
	CABundle string
	// Specs to build; All() when empty.
	Specs []Spec
	// Go is the go command; "go" when empty.
	Go string
}

// BuildFlags are the go build flags of a bootstrap, after "go build".
var BuildFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid="}

// Build builds the zips.
func Build(ctx context.Context, o Options) ([]Artifact, error) {
	bundle, err := os.ReadFile(o.CABundle)
	if err != nil {
		return nil, fmt.Errorf("cannot read the RDS CA bundle %s: %w; it is shipped in each zip as %s, the default %s "+
			"(see lambda/certs/README.md)", o.CABundle, err, contract.CABundleFile, contract.EnvSSLRootCert)
	}
	if _, err := CheckBundle(bundle); err != nil {
		return nil, fmt.Errorf("the RDS CA bundle %s is not usable: %w", o.CABundle, err)
	}
	specs := o.Specs
	if len(specs) == 0 {
		specs = All()
	}
	goCmd := o.Go
	if goCmd == "" {
		goCmd = "go"
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil { //nolint:gosec // G301: build output, readable by all as the zips (0644) in it are.
		return nil, fmt.Errorf("cannot make %s: %w", o.OutDir, err)
	}
	tmp, err := os.MkdirTemp("", "pgdr-lambda-build-")
	if err != nil {
		return nil, fmt.Errorf("cannot make a build directory: %w", err)
	}
	defer os.RemoveAll(tmp) //nolint:errcheck // a temporary directory
	out := make([]Artifact, 0, len(specs))
	for _, s := range specs {
		exe := filepath.Join(tmp, s.Function+"-"+s.Arch)
		args := append(append([]string{"build"}, BuildFlags...), "-o", exe, "./"+s.Function)
		cmd := exec.CommandContext(ctx, goCmd, args...)
		cmd.Dir = o.ModuleDir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+s.Arch, "GOFLAGS=-mod=readonly")
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("cannot build %s for %s: %w\n%s", s.Function, s.Arch, err, b)
		}
		bin, err := os.ReadFile(exe)
		if err != nil {
			return nil, fmt.Errorf("cannot read the %s bootstrap: %w", s.Name(), err)
		}
		var buf bytes.Buffer
		if err := Zip(&buf, []File{
			{Name: contract.BootstrapFile, Mode: 0o755, Data: bin},
			{Name: contract.CABundleFile, Mode: 0o644, Data: bundle},
		}); err != nil {
			return nil, fmt.Errorf("cannot zip %s: %w", s.Name(), err)
		}
		a := Artifact{Spec: s, Path: filepath.Join(o.OutDir, s.Name())}
		sum := sha256.Sum256(buf.Bytes())
		a.SHA256, a.Base64SHA256 = hex.EncodeToString(sum[:]), base64.StdEncoding.EncodeToString(sum[:])
		if err := os.WriteFile(a.Path, buf.Bytes(), 0o644); err != nil {
			return nil, fmt.Errorf("cannot write %s: %w", a.Path, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// Unzip extracts a zip into dir, keeping the entries' modes, and returns dir.
func Unzip(zipPath, dir string) error {
	r, err := zip.OpenReader(zipPath)
	if err != nil {
		return fmt.Errorf("cannot open %s: %w", zipPath, err)
	}
	defer r.Close() //nolint:errcheck // read only
	for _, f := range r.File {
		if strings.Contains(f.Name, "..") || strings.HasPrefix(f.Name, "/") {
			return fmt.Errorf("%s: unsafe entry %q", zipPath, f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("cannot open %s in %s: %w", f.Name, zipPath, err)
		}
		b, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			return fmt.Errorf("cannot read %s in %s: %w", f.Name, zipPath, err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name), b, f.Mode().Perm()); err != nil { //nolint:gosec // G305: entries with .. or a leading / are refused above.
			return fmt.Errorf("cannot write %s: %w", f.Name, err)
		}
	}
	return nil
}
