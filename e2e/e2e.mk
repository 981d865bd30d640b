# e2e/e2e.mk: the packages users push (make xpkg) and the end-to-end test on a real control plane
# (make e2e). Included from the top Makefile, which defines ROOT (absolute), OUT and BIN (relative
# to ROOT), GO, GOBUILD, CROSSPLANE, CROSSPLANE_CORE, CRANE and FUNCTION. Targets are named relative
# to ROOT like the top Makefile's; recipes that change directory write to $(ROOT)/$@. Everything
# runs without a container engine.

KUBE_VERSION    := v1.34.2
KUBE_MINOR      := $(word 2,$(subst ., ,$(KUBE_VERSION)))
KUBE_APISERVER  := $(BIN)/kube-apiserver
KUBE_CM         := $(BIN)/kube-controller-manager
# Without the version ldflags kube-apiserver reports v0.0.0-master, which kubectl cannot parse.
KUBE_LDFLAGS    := -s -w -X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) \
                   -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(KUBE_MINOR) \
                   -X k8s.io/component-base/version.gitTreeState=clean

FNIMAGE         := $(BIN)/fnimage
XPKG_DIR        := $(OUT)/xpkg
XPKG_VERSION    ?= v0.0.0-dev
XPKG_ARCHES     := amd64 arm64
FN_NAME         := function-postgres-dr
CFG_NAME        := configuration-postgres-dr
FN_XPKGS        := $(foreach a,$(XPKG_ARCHES),$(XPKG_DIR)/$(FN_NAME)-$(a).xpkg)
CFG_XPKG        := $(XPKG_DIR)/$(CFG_NAME).xpkg
# What the function binary is built from; a change in any of these rebuilds the images.
FN_SRCS          = $(shell find . -name '*.go' -not -path './_output/*' -not -path './e2e/*' -not -path './tools/*' \
                     -not -path './lambda/*' -not -name '*_test.go') go.mod go.sum
PKG_SRCS         = package/crossplane.yaml $(wildcard package/input/*.yaml) $(wildcard examples/*.yaml)
CFG_API          = apis/definition.yaml apis/composition.yaml apis/definition-namespaced.yaml apis/composition-namespaced.yaml apis/activation.yaml
CFG_SRCS         = crossplane.yaml $(CFG_API) $(wildcard examples/*.yaml) $(wildcard examples/namespaced/*.yaml)
PROVIDER_CRDS    = $(shell $(GO) env GOMODCACHE)/github.com/upbound/provider-aws/v2@v2.5.0/package/crds
# The provider-aws API groups the function composes: the cluster-scoped API packages it imports.
PROVIDER_GROUPS  = $(shell $(GO) list -deps . | sed -n 's|^github.com/upbound/provider-aws/v2/apis/cluster/\([a-z0-9]*\)/.*|\1|p' | sort -u)

E2E_RUN         := $(OUT)/e2e
# The stages take about 7 minutes, the steady-state window 11 more (E2E_STEADY_WINDOW, e.g. 2m).
E2E_TIMEOUT     ?= 40m

.PHONY: xpkg xpkg-build xpkg-push-check e2e e2e-deps e2e-up e2e-down kube

## ---- control-plane binaries ---------------------------------------------------------------------

kube: $(KUBE_APISERVER) $(KUBE_CM)

$(KUBE_APISERVER): tools/kube/go.mod tools/kube/go.sum
	cd tools/kube && CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(KUBE_LDFLAGS)' -o $(ROOT)/$@ k8s.io/kubernetes/cmd/kube-apiserver

$(KUBE_CM): tools/kube/go.mod tools/kube/go.sum
	cd tools/kube && CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(KUBE_LDFLAGS)' -o $(ROOT)/$@ k8s.io/kubernetes/cmd/kube-controller-manager

e2e-deps:
	@hack/install-e2e-deps.sh

## ---- packages -----------------------------------------------------------------------------------

$(FNIMAGE): e2e/go.mod e2e/go.sum e2e/cmd/fnimage/main.go
	cd e2e && $(GOBUILD) -o $(ROOT)/$@ ./cmd/fnimage

# The function binary of each platform (static, as in the Dockerfile). Kept: it is no
# intermediate file to make, rebuilding it costs minutes.
.SECONDARY: $(foreach a,$(XPKG_ARCHES),$(OUT)/bin/linux_$(a)/function $(XPKG_DIR)/$(FN_NAME)-image-$(a).tar)
$(OUT)/bin/linux_%/function: $(FN_SRCS)
	GOOS=linux GOARCH=$* $(GOBUILD) -o $@ .

# The host's platform needs no second build: it is the binary `make function` builds.
HOST_PLATFORM := $(shell $(GO) env GOOS)_$(shell $(GO) env GOARCH)
ifneq ($(filter linux_amd64 linux_arm64,$(HOST_PLATFORM)),)
$(OUT)/bin/$(HOST_PLATFORM)/function: $(FUNCTION)
	@mkdir -p $(@D)
	cp $< $@
endif

# The runtime image of each platform: the binary as one layer on an empty base.
$(XPKG_DIR)/$(FN_NAME)-image-%.tar: $(OUT)/bin/linux_%/function $(FNIMAGE)
	@mkdir -p $(XPKG_DIR)
	$(FNIMAGE) --binary $< --arch $* --out $@ --tag $(FN_NAME):$(XPKG_VERSION)

# The Function package of each platform, with its runtime image embedded.
$(XPKG_DIR)/$(FN_NAME)-%.xpkg: $(XPKG_DIR)/$(FN_NAME)-image-%.tar $(PKG_SRCS) $(CROSSPLANE)
	$(CROSSPLANE) xpkg build --package-root=package --examples-root=examples \
	  --embed-runtime-image-tarball=$< --package-file=$@

# The Configuration package: crossplane.yaml, both XRDs and Compositions (the claim's and the
# namespaced PostgresDR's) and the activation policy of the namespaced kinds only (the rest of the
# repository is not package content), staged in a folder of its own.
$(CFG_XPKG): $(CFG_SRCS) $(CROSSPLANE)
	@rm -rf $(XPKG_DIR)/configuration-root && mkdir -p $(XPKG_DIR)/configuration-root/apis
	cp crossplane.yaml $(XPKG_DIR)/configuration-root/
	cp $(CFG_API) $(XPKG_DIR)/configuration-root/apis/
	$(CROSSPLANE) xpkg build --package-root=$(XPKG_DIR)/configuration-root --examples-root=examples --package-file=$@

xpkg-build: $(FN_XPKGS) $(CFG_XPKG)

# Both packages pushed to a throwaway local registry, as users push to theirs: the check that they
# are valid OCI artifacts (the Function as a multi-platform index).
xpkg-push-check: xpkg-build $(CRANE)
	e2e/scripts/push-check.sh $(BIN) $(XPKG_DIR) $(XPKG_VERSION)

xpkg: xpkg-push-check
	@ls -l $(XPKG_DIR)/*.xpkg

## ---- end to end ---------------------------------------------------------------------------------

E2E_BINS := $(KUBE_APISERVER) $(KUBE_CM) $(CROSSPLANE) $(CROSSPLANE_CORE) $(CRANE) $(FUNCTION)

e2e: e2e-deps $(E2E_BINS) xpkg-build
	$(GO) mod download github.com/upbound/provider-aws/v2
	cd e2e && $(GO) test ./cmd/...
	cd e2e && E2E_ROOT=$(ROOT) E2E_BIN=$(ROOT)/$(BIN) E2E_XPKG=$(ROOT)/$(XPKG_DIR) E2E_RUN=$(ROOT)/$(E2E_RUN) \
	  E2E_PROVIDER_CRDS=$(PROVIDER_CRDS) E2E_PROVIDER_GROUPS="$(PROVIDER_GROUPS)" E2E_VERSION=$(XPKG_VERSION) \
	  $(GO) test -tags e2e -count=1 -v -timeout $(E2E_TIMEOUT) -run 'TestMetrics|TestPerHour|TestDeleteRules|TestStandInSwitchover|TestPostgresDR' .

# A control plane to poke at by hand: make e2e-up; export KUBECONFIG=_output/e2e-manual/kubeconfig.
e2e-up: e2e-deps $(KUBE_APISERVER) $(KUBE_CM) $(CROSSPLANE_CORE) $(CRANE)
	e2e/scripts/cluster-up.sh $(BIN) $(OUT)/e2e-manual
	e2e/scripts/crossplane-up.sh $(BIN) $(OUT)/e2e-manual

e2e-down:
	e2e/scripts/down.sh $(OUT)/e2e-manual
