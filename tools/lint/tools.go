//go:build tools

// Package tools pins golangci-lint, which make lint (and so .ci/run) runs over the repository.
package tools

import (
	_ "github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
)
