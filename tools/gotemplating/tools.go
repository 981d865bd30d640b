//go:build tools

// Package tools pins function-go-templating, which make bench runs beside the function under the
// same load to compare CPU per request.
package tools

import (
	_ "github.com/crossplane-contrib/function-go-templating"
)
