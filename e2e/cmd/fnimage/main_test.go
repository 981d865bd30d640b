package main

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestImage(t *testing.T) {
	type want struct {
		arch       string
		entrypoint []string
		user       string
		ports      map[string]struct{}
		files      map[string]string
		err        bool
	}
	cases := map[string]struct {
		reason string
		bin    []byte
		arch   string
		want   want
	}{
		"AMD64": {
			reason: "The image for amd64 holds the binary as /function and runs it as nonroot on 9443.",
			bin:    []byte("amd64-binary"),
			arch:   "amd64",
			want: want{
				arch: "amd64", entrypoint: []string{"/function"}, user: "65532:65532",
				ports: map[string]struct{}{"9443/tcp": {}}, files: map[string]string{"function": "amd64-binary"},
			},
		},
		"ARM64": {
			reason: "The image for arm64 records arm64 in its config.",
			bin:    []byte("arm64-binary"),
			arch:   "arm64",
			want: want{
				arch: "arm64", entrypoint: []string{"/function"}, user: "65532:65532",
				ports: map[string]struct{}{"9443/tcp": {}}, files: map[string]string{"function": "arm64-binary"},
			},
		},
		"UnknownArch": {
			reason: "An architecture we do not build for is an error.",
			bin:    []byte("x"),
			arch:   "s390x",
			want:   want{err: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			img, err := Image(tc.bin, tc.arch)
			if tc.want.err {
				if err == nil {
					t.Fatalf("\n%s\nImage(...): want error, got none", tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("\n%s\nImage(...): %v", tc.reason, err)
			}
			cfg, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			got := want{
				arch: cfg.Architecture, entrypoint: cfg.Config.Entrypoint, user: cfg.Config.User,
				ports: cfg.Config.ExposedPorts, files: files(t, img),
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("\n%s\nImage(...): -want, +got:\n%s", tc.reason, diff)
			}
			if cfg.OS != "linux" {
				t.Errorf("\n%s\nImage(...): OS %q, want linux", tc.reason, cfg.OS)
			}
		})
	}
}

func TestImageReproducible(t *testing.T) {
	a, err := Image([]byte("same"), "amd64")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Image([]byte("same"), "amd64")
	if err != nil {
		t.Fatal(err)
	}
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Errorf("Image(...) twice: digests %s and %s differ; the build must be reproducible", da, db)
	}
	c, err := Image([]byte("other"), "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if dc, _ := c.Digest(); dc == da {
		t.Errorf("Image(...) of different binaries: same digest %s", dc)
	}
}

// files returns the regular files of the image's layers and their contents.
func files(t *testing.T, img v1.Image) map[string]string {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if _, err := io.Copy(&b, tr); err != nil {
				t.Fatal(err)
			}
			if h.Mode&0o111 == 0 {
				t.Errorf("layer file %s is not executable: mode %o", h.Name, h.Mode)
			}
			out[h.Name] = b.String()
		}
		_ = rc.Close()
	}
	return out
}
