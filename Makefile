# kdrill's build, the local cluster, tests and the demo.
# `make demo` and `make test` are the two commands a newcomer needs.

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
BIN       := bin/kdrill
CLUSTER   := hack/localcluster/cluster.sh
KUBECONFIG_LOCAL = $(shell $(CLUSTER) kubeconfig)

GOLANGCI_LINT_VERSION := v2.15.0
TOOLS     := $(CURDIR)/bin/tools
GOLANGCI_LINT := $(TOOLS)/golangci-lint-$(GOLANGCI_LINT_VERSION)

.PHONY: all build image in-cluster-demo cluster-build cluster-up cluster-down demo test test-unit test-race test-e2e bench generate docs verify lint clean

all: build

# Static, with Go's own resolver: kustomize's plugin loader imports the
# plugin package, and with cgo that exports every symbol to the dynamic
# linker, which maps most of the binary at start (67 MiB RSS for
# --version, 40 MiB static).
build: ## Build bin/kdrill
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/kdrill

image: ## Build kdrill's container image without Docker (bin/image: an OCI layout and a tar), print its digest, load it into the real node
	@VERSION=$(VERSION) hack/image.sh

in-cluster-demo: cluster-up image ## Run scenarios/ inside the local cluster as a 4-shard Indexed Job of kdrill's image, merge, and print the merged report's path
	@$(GO) run ./hack/incluster "$(KUBECONFIG_LOCAL)" kdrill-report/in-cluster

cluster-build: ## Build the local cluster's binaries (cached; several minutes the first time)
	$(CLUSTER) build

cluster-up: ## Start the local cluster (reuses a running one)
	$(CLUSTER) up

cluster-down: ## Stop and remove the local cluster
	$(CLUSTER) down

demo: build cluster-up ## Run the demo scenarios on the local cluster (the two-cluster ones too when the second local cluster runs)
	@if KDRILL_CLUSTER_NAME=kdrill2 $(CLUSTER) status >/dev/null 2>&1; then \
	  kc="$(KUBECONFIG_LOCAL):$$(KDRILL_CLUSTER_NAME=kdrill2 $(CLUSTER) kubeconfig)"; only=; \
	else \
	  kc="$(KUBECONFIG_LOCAL)"; only="area!=multicluster"; \
	  echo "skipping scenarios/multicluster: the second local cluster is not running (start it: KDRILL_CLUSTER_NAME=kdrill2 KDRILL_CLUSTER_NODES=2 $(CLUSTER) up)"; \
	fi; \
	if ! hack/localcluster/node.sh status >/dev/null 2>&1; then \
	  only="$${only:+$$only,}area!=real"; \
	  why=$$(hack/localcluster/node.sh can) || true; \
	  echo "skipping scenarios/real: the local cluster's real node is not running$${why:+ ($$why)}"; \
	fi; \
	KUBECONFIG=$$kc $(BIN) run --report-dir kdrill-report/demo $${only:+-l "$$only"} scenarios/ ; \
	  code=$$?; echo; echo "demo report: $(CURDIR)/kdrill-report/demo/report.html (results.json, junit.xml and charts beside it)"; exit $$code

test: ## Unit and end-to-end tests (starts the local cluster if none runs, stops only one it started)
	hack/install-test-tools.sh
	hack/test.sh

test-unit: ## Unit tests only; no cluster needed
	$(GO) test ./...

test-race: ## Unit tests under the race detector; no cluster needed
	$(GO) test -race ./...

bench: cluster-up ## Benchmarks on the local cluster: assert reaction, selector switch, chaos under load, 20,000 pods monitored, beside chainsaw
	KDRILL_E2E_KUBECONFIG=$(KUBECONFIG_LOCAL) $(GO) test -run '^$$' -bench AssertReaction -benchtime 200x ./bench/
	KDRILL_E2E_KUBECONFIG=$(KUBECONFIG_LOCAL) $(GO) test -run '^$$' -bench SwitchSelector -benchtime 100x ./bench/
	$(GO) test -run '^$$' -bench RenderHourOfMonitoring -benchtime 3x ./bench/
	$(GO) test -run '^$$' -bench HostileRefusal -benchtime 3x ./bench/
	$(GO) test -run '^$$' -bench 'LoadGenerator|LoadInFlight' -benchtime 2x ./bench/
	KDRILL_E2E_KUBECONFIG=$(KUBECONFIG_LOCAL) $(GO) test -run '^$$' -bench SingleScenario -benchtime 3x ./bench/
	KDRILL_E2E_KUBECONFIG=$(KUBECONFIG_LOCAL) $(GO) test -run '^$$' -bench ParallelScenarios -benchtime 1x -timeout 20m ./bench/
	KDRILL_E2E_KUBECONFIG=$(KUBECONFIG_LOCAL) $(GO) test -run '^$$' -bench ChaosLoad -benchtime 1x -timeout 30m ./bench/
	KDRILL_E2E_KUBECONFIG=$(KUBECONFIG_LOCAL) $(GO) test -run '^$$' -bench NodeFailure -benchtime 1x -timeout 30m ./bench/
	KDRILL_E2E_KUBECONFIG=$(KUBECONFIG_LOCAL) KDRILL_BENCH_SCALE_PODS=20000 $(GO) test -run '^$$' -bench MonitorAtScale -benchtime 1x -timeout 90m ./bench/
	KDRILL_E2E_KUBECONFIG=$(KUBECONFIG_LOCAL) $(GO) test -run '^$$' -bench BesideChainsaw -benchtime 3x -timeout 20m ./bench/
	KDRILL_E2E_KUBECONFIG=$(KUBECONFIG_LOCAL) $(GO) test -run '^$$' -bench ParallelQuotaVerdicts -benchtime 20x -timeout 30m ./bench/
	KDRILL_E2E_KUBECONFIG=$(KUBECONFIG_LOCAL) $(GO) test -run '^$$' -bench RealNodePodStart -benchtime 5x -timeout 10m ./bench/
	KDRILL_E2E_KUBECONFIG=$(KUBECONFIG_LOCAL) $(GO) test -run '^$$' -bench ConnectMatrix -benchtime 3x -timeout 10m ./bench/

generate: ## Regenerate doc comment maps, the JSON Schema and the reference docs
	$(GO) generate ./model ./scenario ./steps
	$(GO) generate ./schema
	$(GO) run ./cmd/kdrill docs

docs: ## Write docs/steps.md and docs/cli.md from the code
	$(GO) run ./cmd/kdrill docs

verify: generate ## Fail when generated files are stale or code is not formatted
	git diff --exit-code -- steps/zz_generated_docs.go scenario/zz_generated_docs.go model/zz_generated_docs.go schema/kdrill.schema.json docs/
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"
	$(GO) vet ./...

$(GOLANGCI_LINT):
	mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(TOOLS)/golangci-lint $@

lint: $(GOLANGCI_LINT) ## golangci-lint with .golangci.yml (installed into bin/tools, pinned)
	$(GOLANGCI_LINT) run ./...

clean:
	rm -rf bin kdrill-report
