# Enkisys front door. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# Services that get an image (one Dockerfile stage and one compose service each): the one list,
# services/services.list (scripts/services.sh reads it).
SERVICES := $(shell scripts/services.sh names)
ifeq ($(SERVICES),)
$(error services/services.list: no services, or malformed (scripts/services.sh names))
endif

PRESET ?= release
JOBS ?= 2
# Extra configure arguments, e.g. CMAKE_ARGS=-DENKISYS_WERROR=OFF (kept in the CMake cache).
CMAKE_ARGS ?=
# Image tag: ENKISYS_TAG when set, else the commit's short SHA (dev outside git).
TAG ?= $(or $(ENKISYS_TAG),$(shell git rev-parse --short HEAD 2>/dev/null || echo dev))
REVISION := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
VERSION := $(shell grep -m1 -oE 'project.*VERSION [0-9]+[.][0-9]+[.][0-9]+' CMakeLists.txt | grep -oE '[0-9.]+$$')
# Public https remote without credentials, for the image source label.
SOURCE := $(shell git config --get remote.origin.url 2>/dev/null | sed -nE 's|^https://([^@/]*@)?|https://|p')
BASE_IMAGE := debian:bookworm
COMPOSE := scripts/compose.sh
PROJECT ?= enkisys-dev
DOCKER_BUILD_FLAGS ?=
# Folders holding project C++ (checked by lint-format).
CXX_DIRS := libs services cli fuzz bench
# The stages of a host (deploy/README.md) and the npm linters, pinned, installed once under build/.
STAGES := prod staging dev1 dev2
LINT_NPM := build/lint-npm
DCLINT_VERSION := 3.1.0
DOCKERFILE_UTILS_VERSION := 0.16.3
REDOCLY_VERSION := 2.7.0
LINT_NPM_STAMP := $(LINT_NPM)/.installed-dclint-$(DCLINT_VERSION)-dockerfile-utils-$(DOCKERFILE_UTILS_VERSION)-redocly-$(REDOCLY_VERSION)
# The AWS API Gateway export of the host's gateway configuration (aws/, `make aws`): the seed's
# REST API and a documentation network for SSH; override both for a real account.
AWS_REST_API_ID ?= 39fqbjtkha
# make up-host TLS=1: the edge serves HTTPS on EDGE_TLS_PORT (8443) and redirects HTTP there.
TLS ?= 0
AWS_SSH_CIDR ?= 203.0.113.0/24

export ENKISYS_TAG := $(TAG)
comma := ,

.PHONY: help deps deps-host deps-npm lint-deps build web test e2e e2e-deploy bench-gateway lint-tidy lint-workflows lint-prometheus lint-migrations images image-postgres image-test image-targets base-image up down down-clean up-host down-host \
        bench lint lint-format lint-shell lint-compose lint-services lint-dockerfile lint-aws aws fuzz fuzz-smoke clean

help: ## list the targets
	@awk 'BEGIN { FS = ":.*## " } /^[a-z][a-z0-9-]*:.*## / { printf "  %-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo "  variables: PRESET=$(PRESET) TAG=$(TAG) JOBS=$(JOBS) SERVICES='$(SERVICES)'"

deps: ## install the Debian build+test packages (deps/apt-build.txt) when missing (root)
	@scripts/apt-install.sh deps/apt-build.txt

deps-host: ## also install every host tool (deps/apt-*.txt: docker, postgres, linters, fuzz, bench, sshd)
	@scripts/apt-install.sh $(filter-out deps/apt-npm.txt,$(wildcard deps/apt-*.txt))
	@$(MAKE) deps-npm

# npm for the pinned linters: Debian's only where none is installed (it conflicts with a Node.js
# from elsewhere).
deps-npm:
	@command -v npm >/dev/null || scripts/apt-install.sh deps/apt-npm.txt

build: deps ## configure and build PRESET (release) into build/PRESET; build/bin -> release/bin
	cmake --preset $(PRESET) $(CMAKE_ARGS)
	cmake --build --preset $(PRESET) -j$(JOBS)
	@if [[ $(PRESET) == release ]]; then ln -sfn release/bin build/bin; fi

test: build ## build, then run unit + integration tests (throwaway PostgreSQL unless ENKISYS_TEST_POSTGRES_URL) and the web frontend's
	@scripts/apt-install.sh deps/apt-test.txt
	scripts/run-tests.sh $(PRESET)
	scripts/web.sh test

web: ## the web frontend's production build into frontend/dist (npm ci once per lock file)
	scripts/web.sh build

e2e: ## images, then end-to-end: local stage, four stages + edge, PostgreSQL, backup/restore, n-1, swarm
	@scripts/apt-install.sh deps/apt-run.txt deps/apt-test.txt deps/apt-e2e.txt
	@if ! scripts/ensure-docker.sh; then \
	  echo "e2e: no Docker engine could be started — skipped"; exit 0; \
	fi; \
	$(MAKE) images image-postgres; \
	$(MAKE) image-targets TARGETS=fakes; \
	$(MAKE) build; \
	rc=0; \
	echo "== e2e: local stage (compose.yaml)"; tests/e2e/run.sh || rc=1; \
	echo "== e2e: host with four stages (deploy/; prod and staging on PostgreSQL)"; tests/e2e/stages.sh || rc=1; \
	echo "== e2e: service images on PostgreSQL (TLS + SCRAM)"; tests/e2e/postgres.sh || rc=1; \
	echo "== e2e: a stage's PostgreSQL (roles, isolation, kill -9)"; tests/e2e/pgstage.sh || rc=1; \
	echo "== e2e: backup, volume deleted, restore (PostgreSQL, then SQLite)"; \
	  tests/e2e/backup.sh || rc=1; \
	  E2E_DATABASE=sqlite tests/e2e/backup.sh || rc=1; \
	echo "== e2e: n-1, the previous release on the new release's databases"; tests/e2e/n-1.sh || rc=1; \
	echo "== e2e: Docker Swarm, one node (enkisys deploy --target swarm)"; \
	  ENKISYS_BIN=$(CURDIR)/build/bin/enkisys tests/e2e/swarm.sh || rc=1; \
	exit $$rc

e2e-deploy: build ## blue/green deploys over ssh on this machine (sshd :2222, dev1+dev2 behind the edge)
	@scripts/apt-install.sh deps/apt-run.txt deps/apt-e2e.txt deps/apt-deploy.txt
	@if ! scripts/ensure-docker.sh; then echo "e2e-deploy: no Docker engine could be started — skipped"; exit 0; fi; \
	$(MAKE) images; \
	ENKISYS_BIN=$(CURDIR)/build/bin/enkisys tests/e2e/deploy.sh

lint-workflows: deps-npm ## validate .github/workflows/*.yml (@action-validator/cli, pinned, cached in build/npm)
	scripts/validate-workflows.sh

base-image: ## make sure the debian:bookworm base exists: local, else pull, else debootstrap it
	@scripts/apt-install.sh deps/apt-run.txt
	@scripts/ensure-docker.sh
	@docker image inspect $(BASE_IMAGE) >/dev/null 2>&1 \
	  || timeout 120 docker pull -q $(BASE_IMAGE) \
	  || scripts/build-base-image.sh $(BASE_IMAGE)

images: base-image web ## build enkisys/<svc>:TAG for every service (one compile for all of them)
	@$(MAKE) image-targets TARGETS="$(SERVICES)"

# The stages' PostgreSQL 15 (deploy/postgres/Dockerfile; DATABASE=postgres in stage.env), also the
# image `enkisys backup` runs pg_dump/sqlite3 in. Its tag is POSTGRES_IMAGE of the stage.env files.
POSTGRES_IMAGE ?= enkisys/postgres:15
image-postgres: base-image ## build $(POSTGRES_IMAGE) (PostgreSQL 15 from Debian, the stages' database and backup tools)
	docker build -t $(POSTGRES_IMAGE) deploy/postgres

image-test: base-image web ## build the test image: the unit tests compiled and run inside the build image
	@$(MAKE) image-targets TARGETS=test

image-targets:
	@for target in $(TARGETS); do \
	  echo "images: building enkisys/$$target:$(TAG)"; \
	  docker build --force-rm --target $$target -t enkisys/$$target:$(TAG) \
	    --build-arg REVISION=$(REVISION) --build-arg VERSION=$(VERSION) \
	    --build-arg SOURCE=$(SOURCE) --build-arg CMAKE_ARGS="$(CMAKE_ARGS)" \
	    $(DOCKER_BUILD_FLAGS) . ; \
	done
	@docker image ls --filter reference='enkisys/*:$(TAG)'

up: ## start the dev stack with compose (installs and starts the engine if needed), wait until healthy
	@scripts/apt-install.sh deps/apt-run.txt
	scripts/ensure-docker.sh
	$(MAKE) images
	$(COMPOSE) -p $(PROJECT) up -d --no-build
	scripts/wait-healthy.sh -t 120 $$($(COMPOSE) -p $(PROJECT) ps -q)
	@echo "up: stage dev at http://127.0.0.1:$${GATEWAY_PORT:-8080}/dev/ (health: /dev/health)"

down: ## stop the dev stack, keep its volumes
	$(COMPOSE) -p $(PROJECT) down --remove-orphans

down-clean: ## stop the dev stack and delete its volumes (data!)
	$(COMPOSE) -p $(PROJECT) down -v --remove-orphans

up-host: ## edge gateway + the four stages (blue) on the local engine, like a deploy host; wait healthy (TLS=1: HTTPS on 8443)
	@scripts/apt-install.sh deps/apt-run.txt
	scripts/ensure-docker.sh
	$(MAKE) images image-postgres
	TLS=$(TLS) deploy/host.sh up
	@if [[ "$(TLS)" == 1 ]]; then \
	  echo "up-host: https://localhost:$${EDGE_TLS_PORT:-8443}/{$(subst $() ,$(comma),$(STAGES))}/health (CA deploy/edge/secrets/tls/ca.pem); admin on 127.0.0.1:9901"; \
	else \
	  echo "up-host: http://127.0.0.1:$${EDGE_PORT:-8080}/{$(subst $() ,$(comma),$(STAGES))}/health; admin on 127.0.0.1:9901"; \
	fi

down-host: ## stop the four stages and the edge; keeps the stages' data unless PURGE=1 (data!)
	deploy/host.sh down $(if $(filter 1,$(PURGE)),--purge)

bench: build ## benchmarks: tools vs its Flask twin, agent vs its FastAPI twin, every enkisys-*-bench binary, RAG quality and speed
	@scripts/apt-install.sh deps/apt-bench.txt
	bench/tools_bench.sh
	bench/agent/run.sh
	bench/router/run.sh
	bench/rag/corpus.sh >/dev/null
	@for b in build/release/bin/enkisys-*-bench; do \
	  [[ -x $$b ]] || continue; echo "== $$b"; "$$b"; \
	done
	/usr/bin/python3 bench/rag/xapian_bench.py
	/usr/bin/python3 bench/rag/rag_eval.py
	/usr/bin/python3 bench/rag/http_bench.py

bench-gateway: build ## gateway vs nginx (plain and same-work) and HAProxy on loopback (nginx, haproxy, wrk)
	@scripts/apt-install.sh deps/apt-bench.txt
	GATEWAY=$(CURDIR)/build/release/bin/enkisys-gateway services/gateway/bench/run.sh

lint: lint-deps lint-format lint-shell lint-services lint-compose lint-dockerfile lint-migrations lint-prometheus lint-aws ## every linter

lint-deps:
	@scripts/apt-install.sh deps/apt-lint.txt
	@$(MAKE) deps-npm

lint-tidy: build ## clang-tidy (.clang-tidy) over the non-test C++ sources of the release build; any finding fails
	@scripts/apt-install.sh deps/apt-lint.txt
	@files=$$(find libs services cli -type d \( -name tests -o -name fuzz -o -name bench -o -name build \) -prune \
	  -o -type f -name '*.cpp' -print | sort); \
	run-clang-tidy -p build/$(PRESET) -j $(JOBS) -quiet -extra-arg=-Wno-unknown-warning-option $$files \
	  > build/clang-tidy.log 2>&1 || { grep -E 'warning:|error:' build/clang-tidy.log | sort -u; \
	  echo "lint-tidy: findings above (full log: build/clang-tidy.log)"; exit 1; }; \
	echo "lint-tidy: $$(wc -w <<<"$$files") files clean"

lint-format: ## clang-format check of the C++ sources
	@dirs=$$(ls -d $(CXX_DIRS) 2>/dev/null || true); \
	if [[ -z $$dirs ]]; then echo "lint-format: no C++ folders"; exit 0; fi; \
	files=$$(find $$dirs -type d \( -name build -o -name node_modules \) -prune \
	  -o -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' -o -name '*.cc' \) -print | sort); \
	if [[ -z $$files ]]; then echo "lint-format: no C++ files"; exit 0; fi; \
	clang-format --dry-run -Werror $$files; \
	echo "lint-format: $$(wc -w <<<"$$files") files ok"

lint-shell: ## shellcheck every shell script and .ci/run
	@files=$$(find . -type d \( -name build -o -name node_modules -o -name .git \) -prune \
	  -o -type f -name '*.sh' -print | sort); \
	shellcheck -x $$files .ci/run; \
	echo "lint-shell: $$(wc -w <<<"$$files .ci/run") files ok"

lint-prometheus: ## promtool check of deploy/prometheus (config and alert rules); skipped, saying so, without promtool
	@if ! command -v promtool >/dev/null; then \
	  echo "lint-prometheus: skipped, no promtool (Debian package prometheus, deps/apt-lint.txt)"; exit 0; fi; \
	promtool check config --syntax-only deploy/prometheus/prometheus.yml >/dev/null && \
	promtool check rules deploy/prometheus/alerts.yml >/dev/null && \
	echo "lint-prometheus: deploy/prometheus/prometheus.yml and alerts.yml ok"

lint-migrations: ## migrations added since the previous release only expand the schema (docs/migrations.md)
	@python3 scripts/check-migrations.py --self-test
	@python3 scripts/check-migrations.py

lint-services: ## services/services.list against Dockerfile, compose files and gateway routes (names what is missing)
	@python3 scripts/lint-services.py

# The npm linters, installed once per pinned version (CI and developers reuse build/lint-npm).
$(LINT_NPM_STAMP): | deps-npm
	rm -rf $(LINT_NPM) && mkdir -p $(LINT_NPM)
	npm install --prefix $(LINT_NPM) --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
	  dclint@$(DCLINT_VERSION) dockerfile-utils@$(DOCKERFILE_UTILS_VERSION) @redocly/cli@$(REDOCLY_VERSION)
	@touch $@

lint-compose: $(LINT_NPM_STAMP) ## compose config for every combination (local, stages x colors, edge) + dclint
	@n=0; \
	$(COMPOSE) -f compose.yaml config -q; n=$$((n + 1)); \
	for s in $(STAGES); do for c in blue green; do \
	  deploy/host.sh compose $$s $$c config -q; n=$$((n + 1)); \
	done; done; \
	deploy/host.sh edge config -q; n=$$((n + 1)); \
	TLS=1 deploy/host.sh edge config -q; n=$$((n + 1)); \
	for s in $(STAGES); do deploy/host.sh database $$s config -q; n=$$((n + 1)); done; \
	echo "lint-compose: compose config: $$n combinations ok"
	@$(LINT_NPM)/node_modules/.bin/dclint --color=false -c deploy/dclint.yaml --max-warnings 0 \
	  compose.yaml deploy/compose.*.yaml deploy/edge/compose.yaml deploy/edge/compose.tls.yaml deploy/edge/compose.mtls.yaml \
	  deploy/swarm/stack.yaml deploy/postgres/compose*.yaml
	@echo "lint-compose: dclint $(DCLINT_VERSION) ok"

aws: deps ## regenerate aws/: the AWS API Gateway export of deploy/gateway/gateway.host.yaml
	cmake --preset $(PRESET) $(CMAKE_ARGS)
	cmake --build --preset $(PRESET) -j$(JOBS) --target enkisys
	build/$(PRESET)/bin/enkisys aws export --config deploy/gateway/gateway.host.yaml --out aws \
	  --rest-api-id $(AWS_REST_API_ID) --ssh-cidr $(AWS_SSH_CIDR)

lint-aws: $(LINT_NPM_STAMP) aws ## aws/ is the export of the shipped config (regenerated, no diff) + @redocly/cli lint
	@git diff --exit-code -- aws && [[ -z $$(git status --porcelain -- aws) ]] || \
	  { echo "lint-aws: aws/ is out of date: commit the output of 'make aws'"; exit 1; }
	@$(LINT_NPM)/node_modules/.bin/redocly lint --config scripts/redocly.yaml --format=stylish aws/openapi.yaml
	@bash -n aws/deploy.sh && aws/deploy.sh --dry-run >/dev/null
	@echo "lint-aws: aws/ up to date, redocly $(REDOCLY_VERSION) ok"

lint-dockerfile: $(LINT_NPM_STAMP) ## dockerfile-utils + the project's Dockerfile rules
	@$(LINT_NPM)/node_modules/.bin/dockerfile-utils lint Dockerfile
	@scripts/lint-dockerfile.sh Dockerfile
	@$(LINT_NPM)/node_modules/.bin/dockerfile-utils lint deploy/postgres/Dockerfile

fuzz: ## build the libFuzzer targets (clang) into build/fuzz
	@scripts/apt-install.sh deps/apt-build.txt deps/apt-fuzz.txt
	cmake --preset fuzz $(CMAKE_ARGS)
	cmake --build --preset fuzz -j$(JOBS) --target fuzzers

# FUZZ_SECONDS: the whole run's budget, shared by the targets (at least 10 s each).
FUZZ_SECONDS ?= 90
fuzz-smoke: fuzz ## build, then run every fuzz_* target for FUZZ_SECONDS (90) in all, with its seed corpus; fails on a crash
	scripts/fuzz-smoke.sh build/fuzz/bin $(FUZZ_SECONDS)

clean: ## remove build/PRESET
	rm -rf build/$(PRESET) build/bin
