// Command build writes the Lambdas' reproducible deployment zips, <function>-<arch>.zip, and a
// SHA256SUMS file; `make lambda` runs it. Run it from the lambda module's directory.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pgdr/function-postgres-dr/lambda/internal/artifact"
)

func main() {
	out := flag.String("out", "../_output/lambda", "directory that receives the zips")
	ca := flag.String("ca", "certs/global-bundle.pem", "RDS CA bundle shipped in each zip")
	flag.Parse()
	arts, err := artifact.Build(context.Background(), artifact.Options{ModuleDir: ".", OutDir: *out, CABundle: *ca})
	if err != nil {
		fmt.Fprintln(os.Stderr, "make lambda:", err)
		os.Exit(1)
	}
	var sums strings.Builder
	for _, a := range arts {
		fmt.Fprintf(os.Stdout, "%-28s sha256 %s  (source code hash %s)\n", filepath.Base(a.Path), a.SHA256, a.Base64SHA256)
		fmt.Fprintf(&sums, "%s  %s\n", a.SHA256, filepath.Base(a.Path))
	}
	if err := os.WriteFile(filepath.Join(*out, "SHA256SUMS"), []byte(sums.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "make lambda: cannot write SHA256SUMS:", err)
		os.Exit(1)
	}
}
