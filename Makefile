# qi.convergence: the user's entry points. `make demo` runs the main job; `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export QI_STATE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/qi-convergence
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/.venv/bin:$(PATH)
KUBECONFIG_FILE := $(QI_STATE_DIR)/cluster/etc/admin.kubeconfig
APP ?= examples/nodejs-hello
PYTEST := .venv/bin/python -m pytest

.PHONY: help setup demo test cluster cluster-down kubeconfig k8s-binaries status build deploy \
        unit integration e2e molecule lint house sanity collection bench clean-state

help:
	@echo "make demo   - set up, start the local cluster, build $(APP) from its provisioning config, deploy it"
	@echo "make test   - every test: lint, sanity, unit, integration, molecule, end-to-end"
	@echo "other: setup cluster cluster-down kubeconfig build deploy status bench collection clean-state"

setup:
	@scripts/setup.sh

status: setup
	@scripts/status.sh

k8s-binaries:
	@scripts/build-k8s-binaries.sh

cluster: setup
	@scripts/cluster-up.sh

cluster-down:
	@scripts/cluster-down.sh

kubeconfig:
	@echo $(KUBECONFIG_FILE)

build: setup
	ansible-playbook playbooks/build.yml -e app_dir=$(APP)

deploy: cluster
	ansible-playbook -i inventories/local/hosts.yml playbooks/site.yml -e app_dir=$(APP)

demo: setup cluster
	ansible-playbook -i inventories/local/hosts.yml playbooks/site.yml -e app_dir=$(APP)
	@scripts/status.sh

unit: setup
	$(PYTEST) -q tests/unit

lint: setup
	ansible-lint --offline -q

house: setup
	.venv/bin/python scripts/import-graph.py
	.venv/bin/python scripts/complexity.py

sanity: setup
	@scripts/sanity.sh

integration: setup
	$(PYTEST) -q tests/integration -m "not cluster"

e2e: cluster
	$(PYTEST) -q tests/integration -m "cluster and not dev_host"
	$(PYTEST) -q tests/integration -m dev_host

molecule: setup
	@scripts/molecule.sh

collection: setup
	@scripts/collection-build.sh

test: setup
	@scripts/test.sh

BENCH_OUT ?= build/bench
bench: cluster
	.venv/bin/python benchmarks/build.py --repeat 3 --out $(BENCH_OUT)
	.venv/bin/python benchmarks/deploy.py 1 10 30 --repeat 3 --out $(BENCH_OUT)
	.venv/bin/python benchmarks/system_nochange.py --repeat 5

clean-state:
	@scripts/clean-state.sh
