package fn

import (
	"github.com/crossplane/function-sdk-go/resource"
)

// readiness is a desired resource's readiness: ready once it is observed with Ready=True.
func readiness(o observedState, name resource.Name) resource.Ready {
	if o.Ready(name) {
		return resource.ReadyTrue
	}
	return resource.ReadyFalse
}

// allReady reports whether every desired resource is ready and nothing is withheld.
func allReady(o observedState, d *desiredState) bool {
	return len(d.Waiting) == 0 && composedReady(o, d)
}

// composedReady reports whether every desired resource is ready.
func composedReady(o observedState, d *desiredState) bool {
	for _, name := range d.Order {
		if !o.Ready(name) {
			return false
		}
	}
	return true
}
