//go:build tools

// Package tools pins the small tools the Makefile builds: controller-gen for the XRD and Input
// schemas, crane for the local registry and images, and the Lambda Runtime Interface Emulator.
package tools

import (
	_ "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"
	_ "github.com/google/go-containerregistry/cmd/crane"
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)
