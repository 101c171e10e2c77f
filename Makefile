# Steadfast: `make run` to try it, `make test` to check it. See README.md.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
VENDOR := steadfast/static/vendor
NHSUK_FRONTEND := 10.6.1
HTMX := 2.0.8
AXE_CORE := 4.14.1
export STEADFAST_VAR_DIR ?= $(CURDIR)/var

.PHONY: run test test-cluster ops-venv checks install install-dev assets test-assets assets-integrity lock lock-upgrade lint fmt clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Every package comes from a lock with hashes (indirect ones too); pip refuses anything unhashed
# or unlisted. The project itself then adds nothing (--no-deps), built with the locked setuptools.
# `make lock` rewrites the locks from pyproject.toml; run it on purpose (see README).
LOCK := requirements/lock.txt
DEV_LOCK := requirements/dev-lock.txt
INSTALL_PROJECT := $(BIN)/pip install --quiet --no-deps --no-build-isolation -e .

$(VENV)/.installed: $(LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(INSTALL_PROJECT)
	touch $@

$(VENV)/.installed-dev: $(DEV_LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(INSTALL_PROJECT)
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed assets
install-dev: $(VENV)/.installed-dev assets

# NHS.UK frontend CSS/JS and htmx, fetched from the npm registry at pinned versions and checked
# against the integrity recorded in requirements/npm-integrity.txt before anything is unpacked.
# The CSS points at /assets/ (the site root); it is rewritten to its own assets folder beside it.
# Pages load nothing from off the server (an outage may take NHS England's font host first):
# the Frutiger web font the CSS would fetch from assets.nhs.uk is left out, as the frontend's
# own setting `$nhsuk-font-family: arial, sans-serif` does, and text falls back to Arial.
NPM_INTEGRITY := requirements/npm-integrity.txt
NPM_PACKAGES := nhsuk-frontend@$(NHSUK_FRONTEND) htmx.org@$(HTMX)
ASSETS_MARK := $(VENDOR)/.v-$(NHSUK_FRONTEND)-$(HTMX)-relative-assets-local-fonts
assets: $(ASSETS_MARK)
$(ASSETS_MARK): $(NPM_INTEGRITY)
	rm -rf $(VENDOR) var/npm && mkdir -p $(VENDOR)/nhsuk var/npm
	cd var/npm && npm pack --silent $(NPM_PACKAGES) >/dev/null
	$(PYTHON) tools/check_integrity.py $(NPM_INTEGRITY) var/npm/*.tgz
	tar -xzf var/npm/nhsuk-frontend-$(NHSUK_FRONTEND).tgz -C var/npm
	cp var/npm/package/dist/nhsuk/nhsuk-frontend.min.css var/npm/package/dist/nhsuk/nhsuk-frontend.min.js $(VENDOR)/nhsuk/
	cp -r var/npm/package/dist/nhsuk/assets $(VENDOR)/nhsuk/assets
	sed -i -e 's#url(/assets/#url(assets/#g' -e 's#@font-face{font-family:Frutiger W01;[^}]*}##g' \
		-e 's#font-family:Frutiger W01,#font-family:#g' $(VENDOR)/nhsuk/nhsuk-frontend.min.css
	! grep -q 'Frutiger\|url(https\?:' $(VENDOR)/nhsuk/nhsuk-frontend.min.css
	rm -rf var/npm/package && tar -xzf var/npm/htmx.org-$(HTMX).tgz -C var/npm
	cp var/npm/package/dist/htmx.min.js $(VENDOR)/htmx.min.js
	rm -rf var/npm
	touch $@

# axe-core, for the browser tests' accessibility check only: never served by the application.
AXE_JS := var/test-assets/axe-core-$(AXE_CORE).min.js
test-assets: $(AXE_JS)
$(AXE_JS): $(NPM_INTEGRITY)
	rm -rf var/test-assets && mkdir -p var/test-assets/npm
	cd var/test-assets/npm && npm pack --silent axe-core@$(AXE_CORE) >/dev/null
	$(PYTHON) tools/check_integrity.py $(NPM_INTEGRITY) var/test-assets/npm/*.tgz
	tar -xzf var/test-assets/npm/axe-core-$(AXE_CORE).tgz -C var/test-assets/npm
	cp var/test-assets/npm/package/axe.min.js $@
	rm -rf var/test-assets/npm

# Record the registry's integrity for the pinned npm versions: run on purpose after a version
# change, and review the diff.
assets-integrity:
	{ sed -n '/^#/p' $(NPM_INTEGRITY); for p in $(NPM_PACKAGES) axe-core@$(AXE_CORE); do \
	  echo "$$p $$(npm view $$p dist.integrity)"; done; } > $(NPM_INTEGRITY).new
	mv $(NPM_INTEGRITY).new $(NPM_INTEGRITY)

# The web server and the worker (periodic jobs: a downtime pack every 15 minutes into var/packs)
# run side by side; Ctrl-C stops both.
run: install
	$(BIN)/steadfast migrate --no-input
	$(BIN)/steadfast demo
	STEADFAST_PACK_PASSPHRASE_FILE=$${STEADFAST_PACK_PASSPHRASE_FILE:-$(STEADFAST_VAR_DIR)/demo-downtime-passphrase} \
	  $(BIN)/steadfast worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	  $(BIN)/steadfast serve

# Two pytest-xdist workers (the machine has two cores); each PostgreSQL worker starts its own
# throwaway server. PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -p no:cacheprovider -n $(PYTEST_WORKERS)
test: install-dev test-assets checks
	$(PYTEST)
	$(PYTEST) --postgres -m "not browser"
	$(MAKE) test-cluster

# Failover: a Patroni cluster of three (ops/cluster.py) whose primary, then a replica, is killed
# while receptionists book over HTTP (tests/ops). Needs etcd-server and pgbackrest (Debian).
test-cluster: install-dev ops-venv
	$(BIN)/pytest -p no:cacheprovider --cluster tests/ops

# Patroni in a virtualenv of its own, from Debian's python3 and requirements/ops-lock.txt. As root
# it goes outside the checkout, since PostgreSQL and Patroni run as the postgres user, who must be
# able to run it wherever the checkout is.
export PATRONI_VENV ?= $(if $(filter 0,$(shell id -u)),/opt/steadfast/patroni,$(CURDIR)/var/patroni)
OPS_LOCK := requirements/ops-lock.txt
ops-venv: $(PATRONI_VENV)/.installed
$(PATRONI_VENV)/.installed: $(OPS_LOCK)
	/usr/bin/python3 -m venv $(PATRONI_VENV)
	$(PATRONI_VENV)/bin/pip install --quiet --require-hashes -r $(OPS_LOCK)
	touch $@

# The guard rails: each fails the build on its own. .pre-commit-config.yaml runs the same locally.
checks: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python tools/check_lock.py
	$(BIN)/lint-imports
	$(BIN)/steadfast makemigrations --check --dry-run
	$(BIN)/djlint steadfast --lint
	git ls-files -z | xargs -0 $(BIN)/detect-secrets-hook --baseline .secrets.baseline

# Rewrite the locks from pyproject.toml (and Patroni's from requirements/ops.in), keeping every pin that still fits (new dependencies get
# the newest release allowed); `make lock-upgrade` moves every package to its newest allowed
# release. Review the diff of requirements/ before committing it.
UV_COMPILE = $(BIN)/uv pip compile --quiet --generate-hashes --python-version 3.11 \
	--python-platform x86_64-unknown-linux-gnu --custom-compile-command "make lock" $(LOCK_ARGS)
lock: $(VENV)/.installed-dev
	$(UV_COMPILE) pyproject.toml --extra dev requirements/build.in -o $(DEV_LOCK)
	$(UV_COMPILE) pyproject.toml requirements/build.in -c $(DEV_LOCK) -o $(LOCK)
	$(UV_COMPILE) requirements/ops.in -o $(OPS_LOCK)
lock-upgrade: LOCK_ARGS += --upgrade
lock-upgrade: lock

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) $(VENDOR) var
