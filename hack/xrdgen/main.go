// Command xrdgen wraps the CRD that controller-gen generates from apis/v1alpha1 into the XRD.
//
//	xrdgen CRD.yaml > apis/definition.yaml
package main

import (
	"fmt"
	"os"

	"github.com/pgdr/function-postgres-dr/apis"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: xrdgen CRD.yaml > definition.yaml")
		os.Exit(2)
	}
	crd, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot read CRD:", err)
		os.Exit(1)
	}
	xrd, err := apis.WrapXRD(crd)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if _, err := os.Stdout.Write(xrd); err != nil {
		fmt.Fprintln(os.Stderr, "cannot write the XRD:", err)
		os.Exit(1)
	}
}
