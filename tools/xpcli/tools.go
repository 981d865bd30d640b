//go:build tools

// Package tools pins the crossplane CLI used by make render, validate and xpkg.
package tools

import _ "github.com/crossplane/cli/v2/cmd/crossplane"
