# Conventional Kubewarden policy targets, plus `demo` (the README's first command).
SHELL := /bin/bash
CARGO ?= cargo
# As Kubewarden's Makefile.rust: every cargo call uses the versions of Cargo.lock.
CARGO_GLOBAL_OPTIONS ?= --locked
TARGET_DIR ?= $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
# Same directory as the harness's own build (harness/src/policy_wasm.rs), so one build serves both.
WASM_TARGET_DIR := $(TARGET_DIR)/policy-wasm
RAW_WASM := $(WASM_TARGET_DIR)/wasm32-wasip1/release/eci_profile.wasm
SOURCES := $(shell find src -name '*.rs') Cargo.toml Cargo.lock
KWCTL ?= $(shell command -v kwctl)
DEMO_REQUEST ?= test_data/requests/deployment-pod-eci-label.json
DEMO_NAMESPACE ?= test_data/namespaces/default.yml

.PHONY: all wasm-target demo test bats-tests e2e-tests e2e-corpus.bats oci-tests policy-server-tests fmt fmt-fix lint bench bench-policy-server artifacthub check-version clean

all: policy.wasm

wasm-target:
	@rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1

# The release module, optimised for speed with wasm-opt (Debian: binaryen) when it is available.
policy.wasm: $(SOURCES) | wasm-target
	$(CARGO) $(CARGO_GLOBAL_OPTIONS) build --release --target wasm32-wasip1 -p eci-profile --target-dir $(WASM_TARGET_DIR)
	@if command -v wasm-opt >/dev/null; then \
	  wasm-opt -O3 --strip-debug --strip-producers --enable-bulk-memory --enable-sign-ext \
	    --enable-mutable-globals --enable-nontrapping-float-to-int $(RAW_WASM) -o $@; \
	else \
	  echo "wasm-opt not found (apt-get install binaryen): shipping the unoptimised module"; \
	  cp $(RAW_WASM) $@; \
	fi
	@echo "policy.wasm: $$(stat -c %s $@) bytes"

annotated-policy.wasm: policy.wasm metadata.yml README.md
	@test -n "$(KWCTL)" || { echo "kwctl is not on PATH: it is needed to annotate the policy"; exit 1; }
	$(KWCTL) annotate -m metadata.yml -u README.md -o $@ policy.wasm

# The README's first command: run the policy, as policy-server would, on a pod
# a Deployment creates with the label alibabacloud.com/eci=true, with built-in defaults.
demo: policy.wasm
	$(CARGO) $(CARGO_GLOBAL_OPTIONS) run -q -p eci-profile-harness -- run --policy policy.wasm --request $(DEMO_REQUEST) --namespace $(DEMO_NAMESPACE)

# The README's second command: the whole test suite (unit, property, replay of
# test_data/ against the optimised policy.wasm), then every bats suite.
test: policy.wasm
	ECI_PROFILE_WASM=$(CURDIR)/policy.wasm $(CARGO) $(CARGO_GLOBAL_OPTIONS) test --workspace
	$(MAKE) bats-tests

# kwctl (e2e, OCI), docker-registry (OCI) and policy-server: each test whose
# tool is missing is skipped, and says which tool and why.
BATS_SUITES := e2e.bats e2e-corpus.bats oci.bats policy-server.bats
bats-tests: $(if $(KWCTL),annotated-policy.wasm)
	bats $(BATS_SUITES)

e2e-tests: annotated-policy.wasm
	bats e2e.bats e2e-corpus.bats

# One bats test per replay case (Debian's bats 1.8 cannot make tests at run time).
e2e-corpus.bats:
	python3 tests/kwctl_case.py generate > $@

policy-server-tests: annotated-policy.wasm
	bats policy-server.bats

# As Kubewarden's Makefile.rust: `fmt` checks; `fmt-fix` rewrites.
fmt:
	$(CARGO) $(CARGO_GLOBAL_OPTIONS) fmt --all -- --check

fmt-fix:
	$(CARGO) $(CARGO_GLOBAL_OPTIONS) fmt --all

lint: fmt wasm-target
	$(CARGO) $(CARGO_GLOBAL_OPTIONS) clippy --workspace --all-targets -- -D warnings
	$(CARGO) $(CARGO_GLOBAL_OPTIONS) clippy -p eci-profile --target wasm32-wasip1 --all-targets -- -D warnings

# Artifact Hub's package file, made at release (not committed): kwctl's own
# generator, with the install text of artifacthub-install.md.
artifacthub-pkg.yml: metadata.yml questions-ui.yml artifacthub-install.md
	scripts/artifacthub-pkg $@

artifacthub: artifacthub-pkg.yml

# metadata.yml's version is the one every other file carries (TAG=vX.Y.Z: and the tag's).
check-version:
	scripts/check-version $(TAG)

oci-tests: annotated-policy.wasm
	bats oci.bats

bench: policy.wasm
	$(CARGO) $(CARGO_GLOBAL_OPTIONS) run -q -p eci-profile-harness -- bench --policy policy.wasm

# End to end through policy-server, against the floor policy (and PEER, an
# annotated-or-not .wasm with its PEER_METADATA, e.g. Kubewarden's pod-ndots).
bench-policy-server: annotated-policy.wasm
	python3 scripts/bench-policy-server.py $(if $(PEER),--peer $(PEER) --peer-metadata $(PEER_METADATA))

clean:
	$(CARGO) $(CARGO_GLOBAL_OPTIONS) clean
	rm -f policy.wasm annotated-policy.wasm artifacthub-pkg.yml
