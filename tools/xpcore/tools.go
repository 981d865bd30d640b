//go:build tools

// Package tools pins Crossplane core, the render engine and the end-to-end control plane.
package tools

import _ "github.com/crossplane/crossplane/v2/cmd/crossplane"
