package fn

import (
	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/crossplane/function-sdk-go/resource"
)

// Readiness is a desired resource's readiness: ready once it is observed with Ready=True.
func Readiness(o Observed, name resource.Name) fnv1.Ready {
	if o.Ready(name) {
		return fnv1.Ready_READY_TRUE
	}
	return fnv1.Ready_READY_FALSE
}

// AllReady reports whether every desired resource is ready and nothing is withheld.
func AllReady(o Observed, d *Desired) bool {
	if len(d.Waiting) > 0 {
		return false
	}
	for _, name := range d.Order {
		if !o.Ready(name) {
			return false
		}
	}
	return true
}
