# lambda/lambda.mk: the targets of the two Lambda programs in lambda/ (their own Go module).
# The top-level Makefile includes this file; it also works alone: make -f lambda/lambda.mk lambda
#
#   make lambda        reproducible zips in _output/lambda/<function>-<arch>.zip (+ SHA256SUMS)
#   make lambda-test   go test in the lambda module: real PostgreSQL 15 primary + standby,
#                      the AWS wire fake, the built zips under aws-lambda-rie; prints the
#                      planned switchover's summary line
#   make lambda-bench  warm invocation time of the lag monitor; alarm-to-writable and RPO of
#                      the failover on the local pair

LAMBDA_DIR   := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
LAMBDA_OUT   ?= $(abspath $(LAMBDA_DIR)/../_output/lambda)
LAMBDA_GO    ?= $(if $(GO),$(GO),go)
# The emulator: the top Makefile's $(RIE) (built from tools/misc), else the same path.
LAMBDA_RIE   ?= $(if $(RIE),$(abspath $(RIE)),$(abspath $(LAMBDA_DIR)/../_output/bin/aws-lambda-rie))
LAMBDA_CA    ?= $(LAMBDA_DIR)/certs/global-bundle.pem
LAMBDA_TEST_FLAGS ?= -count=1 -timeout 15m
# TestSwitchover writes its summary line here; lambda-test prints it after the tests (go test
# shows a passing package's output only with -v).
LAMBDA_SWITCHOVER_SUMMARY ?= $(LAMBDA_OUT)/switchover-summary.txt

.PHONY: lambda lambda-test lambda-bench

# Always runs the builder: go's build cache makes an unchanged build a few seconds, and the
# builder checks the CA bundle and fails with a clear message when it is missing or broken.
lambda:
	cd $(LAMBDA_DIR) && $(LAMBDA_GO) run ./internal/cmd/build -out $(LAMBDA_OUT) -ca $(LAMBDA_CA)

# Needs Debian's postgresql (hack/install-postgres.sh). Tests the zips `make lambda` just built
# (and that a second build gives the same bytes) under the emulator, then prints the planned
# switchover's summary line (switchover: lost=… write_pause_ms=… catchup_ms=… abort_ok=… fenced=…).
lambda-test: lambda $(if $(RIE),$(RIE),$(LAMBDA_RIE))
	rm -f $(LAMBDA_SWITCHOVER_SUMMARY)
	cd $(LAMBDA_DIR) && PGDR_LAMBDA_DIST=$(LAMBDA_OUT) PGDR_RIE=$(LAMBDA_RIE) PGDR_SWITCHOVER_SUMMARY=$(LAMBDA_SWITCHOVER_SUMMARY) \
		$(LAMBDA_GO) test $(LAMBDA_TEST_FLAGS) ./...
	@if [ -f $(LAMBDA_SWITCHOVER_SUMMARY) ]; then cat $(LAMBDA_SWITCHOVER_SUMMARY); fi

lambda-bench: lambda $(if $(RIE),$(RIE),$(LAMBDA_RIE))
	cd $(LAMBDA_DIR) && PGDR_LAMBDA_DIST=$(LAMBDA_OUT) PGDR_RIE=$(LAMBDA_RIE) \
		$(LAMBDA_GO) test -run '^$$' -bench BenchmarkWarmInvocation -benchtime 3s ./replication-lag
	cd $(LAMBDA_DIR) && PGDR_LAMBDA_DIST=$(LAMBDA_OUT) PGDR_RIE=$(LAMBDA_RIE) \
		$(LAMBDA_GO) test -run '^$$' -bench BenchmarkFailover -benchtime 5x ./failover

# Standalone use: build the emulator as the top Makefile does.
ifeq ($(origin RIE),undefined)
$(LAMBDA_RIE): $(LAMBDA_DIR)/../tools/misc/go.mod $(LAMBDA_DIR)/../tools/misc/go.sum
	cd $(LAMBDA_DIR)/../tools/misc && CGO_ENABLED=0 $(LAMBDA_GO) build -trimpath -ldflags='-s -w' -o $@ \
		github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie
endif
