// Command fnimage builds the function's runtime image without a container engine: the static
// function binary as the only layer on an empty base, entrypoint /function, port 9443, user
// 65532 (distroless nonroot), written as an image tarball that `crossplane xpkg build
// --embed-runtime-image-tarball` reads. The result is reproducible: every timestamp is zero.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/pkg/errors"
)

const (
	entrypoint = "/function"
	port       = "9443/tcp"
	nonroot    = "65532:65532"
)

func main() {
	binary := flag.String("binary", "", "path of the static function binary for the target platform")
	arch := flag.String("arch", "amd64", "target architecture (amd64, arm64)")
	out := flag.String("out", "", "path of the image tarball to write")
	tag := flag.String("tag", "function-postgres-dr:latest", "tag recorded in the tarball")
	flag.Parse()
	if *binary == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	digest, err := run(*binary, *arch, *out, *tag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fnimage:", err)
		os.Exit(1)
	}
	fmt.Printf("%s linux/%s %s\n", *out, *arch, digest)
}

// run builds the image and writes it to out, returning the image's digest.
func run(binary, arch, out, tag string) (v1.Hash, error) {
	bin, err := os.ReadFile(binary) //nolint:gosec // the path is the caller's build output.
	if err != nil {
		return v1.Hash{}, errors.Wrap(err, "cannot read function binary")
	}
	img, err := Image(bin, arch)
	if err != nil {
		return v1.Hash{}, err
	}
	ref, err := name.NewTag(tag)
	if err != nil {
		return v1.Hash{}, errors.Wrapf(err, "cannot parse tag %q", tag)
	}
	if err := tarball.WriteToFile(out, ref, img); err != nil {
		return v1.Hash{}, errors.Wrap(err, "cannot write image tarball")
	}
	d, err := img.Digest()
	return d, errors.Wrap(err, "cannot compute image digest")
}

// Image returns the runtime image of the given function binary for linux/arch.
func Image(bin []byte, arch string) (v1.Image, error) {
	if arch != "amd64" && arch != "arm64" {
		return nil, errors.Errorf("unsupported architecture %q", arch)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar(bin))), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, errors.Wrap(err, "cannot make layer")
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{CreatedBy: "fnimage: COPY function /function", Created: v1.Time{Time: time.Unix(0, 0).UTC()}},
	})
	if err != nil {
		return nil, errors.Wrap(err, "cannot append layer")
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, errors.Wrap(err, "cannot read config")
	}
	cfg = cfg.DeepCopy()
	cfg.OS = "linux"
	cfg.Architecture = arch
	cfg.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cfg.Config.Entrypoint = []string{entrypoint}
	cfg.Config.Cmd = nil
	cfg.Config.User = nonroot
	cfg.Config.WorkingDir = "/"
	cfg.Config.ExposedPorts = map[string]struct{}{port: {}}
	cfg.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	img, err = mutate.ConfigFile(img, cfg)
	return img, errors.Wrap(err, "cannot set config")
}

// layerTar returns an uncompressed tar stream holding bin as /function, mode 0755, root-owned
// (readable and executable by the nonroot user), with a zero modification time.
func layerTar(bin []byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{
		Name:     "function",
		Mode:     0o755,
		Size:     int64(len(bin)),
		Typeflag: tar.TypeReg,
		ModTime:  time.Unix(0, 0),
		Format:   tar.FormatPAX,
	})
	_, _ = tw.Write(bin)
	_ = tw.Close()
	return buf.Bytes()
}
