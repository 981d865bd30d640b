# function-postgres-dr: the commands the README gives.
# Built tools and binaries are cached in _output/ (git-ignored); each tool is built from a pinned
# module under tools/ because the module proxy refuses version lists for Crossplane's modules.

SHELL      := /bin/bash
GO         ?= go
ROOT       := $(abspath .)
OUT        := _output
BIN        := $(OUT)/bin
GOBUILD    := CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w'

CROSSPLANE      := $(BIN)/crossplane
CROSSPLANE_CORE := $(BIN)/crossplane-core
CONTROLLER_GEN  := $(BIN)/controller-gen
CRANE           := $(BIN)/crane
RIE             := $(BIN)/aws-lambda-rie
FUNCTION        := $(BIN)/function

export PATH := $(ROOT)/$(BIN):$(PATH)

.PHONY: all tools function render test test-update generate e2e bench xpkg lambda fuzz lint clean

all: test

## ---- tools -------------------------------------------------------------------------------------

tools: $(CROSSPLANE) $(CROSSPLANE_CORE) $(CONTROLLER_GEN) $(CRANE) $(RIE)

$(CROSSPLANE): tools/xpcli/go.mod tools/xpcli/go.sum
	cd tools/xpcli && $(GOBUILD) -o $(ROOT)/$@ github.com/crossplane/cli/v2/cmd/crossplane

# Without its version the core fails every package's spec.crossplane.version constraint.
$(CROSSPLANE_CORE): tools/xpcore/go.mod tools/xpcore/go.sum
	cd tools/xpcore && CGO_ENABLED=0 $(GO) build -trimpath \
		-ldflags='-s -w -X github.com/crossplane/crossplane-runtime/v2/pkg/version.version=v2.4.0' \
		-o $(ROOT)/$@ github.com/crossplane/crossplane/v2/cmd/crossplane

$(CONTROLLER_GEN): tools/misc/go.mod tools/misc/go.sum
	cd tools/misc && $(GOBUILD) -o $(ROOT)/$@ sigs.k8s.io/controller-tools/cmd/controller-gen

$(CRANE): tools/misc/go.mod tools/misc/go.sum
	cd tools/misc && $(GOBUILD) -o $(ROOT)/$@ github.com/google/go-containerregistry/cmd/crane

$(RIE): tools/misc/go.mod tools/misc/go.sum
	cd tools/misc && $(GOBUILD) -o $(ROOT)/$@ github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie

## ---- the Lambdas (their own module under lambda/) -------------------------------------------

include lambda/lambda.mk

## ---- packages and the end-to-end test (e2e/) --------------------------------------------------

include e2e/e2e.mk

## ---- the function ------------------------------------------------------------------------------

GO_SOURCES := $(shell find . -name '*.go' -not -path './_output/*' -not -path './tools/*' -not -path './lambda/*' -not -path './e2e/*' 2>/dev/null) go.mod go.sum

function: $(FUNCTION)
$(FUNCTION): $(GO_SOURCES)
	$(GOBUILD) -o $@ .

# render: the example claim's XR through the Composition, with the real crossplane CLI and the
# function running as a local process. OBSERVED=<file or dir> renders a later reconcile.
XR       ?= examples/xr.yaml
OBSERVED ?=
render: $(FUNCTION) $(CROSSPLANE) $(CROSSPLANE_CORE)
	@hack/render.sh $(XR) $(OBSERVED)

## ---- tests -------------------------------------------------------------------------------------

# test: unit tests, the XRD/CRD staleness check, golden renders with the real crossplane CLI and
# their validation against the provider-aws CRDs, and the Lambdas on real PostgreSQL.
TEST_ENV := CROSSPLANE=$(ROOT)/$(CROSSPLANE) CROSSPLANE_CORE=$(ROOT)/$(CROSSPLANE_CORE) CONTROLLER_GEN=$(ROOT)/$(CONTROLLER_GEN)
test: $(CROSSPLANE) $(CROSSPLANE_CORE) $(CONTROLLER_GEN)
	hack/install-postgres.sh
	$(TEST_ENV) $(GO) test ./...
	$(MAKE) lambda-test

# test-update: rewrite the observed fixtures and golden renders; review the diff before committing.
test-update: $(CROSSPLANE) $(CROSSPLANE_CORE)
	$(TEST_ENV) $(GO) test -run TestObservedFixtures -update .
	$(TEST_ENV) $(GO) test -run TestRender -update .

# fuzz: each fuzz target for FUZZTIME (CI: 60s). make test replays the committed corpus.
FUZZTIME ?= 60s
FUZZ_TARGETS = ./fn/:FuzzRunFunction
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "fuzz $${t#*:} in $${t%%:*} for $(FUZZTIME)"; \
	  $(GO) test $${t%%:*} -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s -parallel 2; \
	done

## ---- lint ----------------------------------------------------------------------------------------

# lint: golangci-lint (pinned in tools/lint) over each module with the one config, .golangci.yml.
GOLANGCI_LINT := $(BIN)/golangci-lint
$(GOLANGCI_LINT): tools/lint/go.mod tools/lint/go.sum
	cd tools/lint && $(GOBUILD) -o $(ROOT)/$@ github.com/golangci/golangci-lint/v2/cmd/golangci-lint

lint: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run ./...
	cd lambda && $(ROOT)/$(GOLANGCI_LINT) run --config $(ROOT)/.golangci.yml ./...

## ---- benchmarks --------------------------------------------------------------------------------

# bench: speed figures, never failing on a missed goal. The in-process benchmark (ns/op, B/op,
# allocs/op of a first pass and a ready reconcile); a gRPC load run against the built binary
# (hack/loadbench: p50/p99, requests/s, the server's CPU per request and per desired resource,
# peak RSS, response size) with function-go-templating v0.12.3 (pinned in tools/gotemplating) run
# beside it on the same first pass, and PASS or MISS on ours taking at least 3x less CPU per
# desired resource; its bounds through LOADBENCH_FLAGS, e.g. LOADBENCH_FLAGS='-time 20s'. Then
# the Lambdas'.
GO_TEMPLATING := $(BIN)/function-go-templating
$(GO_TEMPLATING): tools/gotemplating/go.mod tools/gotemplating/go.sum
	cd tools/gotemplating && $(GOBUILD) -o $(ROOT)/$@ github.com/crossplane-contrib/function-go-templating

bench: $(FUNCTION) $(GO_TEMPLATING)
	$(GO) test ./fn/ -run '^$$' -bench . -benchmem
	$(GO) run ./hack/loadbench -binary $(FUNCTION) -go-templating $(BIN)/function-go-templating $(LOADBENCH_FLAGS)
	$(MAKE) lambda-bench

## ---- code generation ---------------------------------------------------------------------------

# generate: DeepCopy methods, the Input's CRD (package/input) and the XRD (apis/definition.yaml),
# all from the Go types. apis/xrd_test.go fails when the committed files are stale.
generate: $(CONTROLLER_GEN)
	$(CONTROLLER_GEN) object paths=./apis/... paths=./input/...
	$(CONTROLLER_GEN) crd paths=./input/... output:crd:dir=package/input
	@mkdir -p $(OUT)/crds
	$(CONTROLLER_GEN) crd paths=./apis/... output:crd:dir=$(OUT)/crds
	$(GO) run ./hack/xrdgen $(OUT)/crds/pgdr.io_xpostgresdrs.yaml > apis/definition.yaml
	$(GO) run ./hack/xrdgen $(OUT)/crds/pgdr.io_postgresdrs.yaml > apis/definition-namespaced.yaml
