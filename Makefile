# Steadfast: `make run` to try it, `make test` to check it. See README.md.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
VENDOR := steadfast/static/vendor
NHSUK_FRONTEND := 10.6.1
HTMX := 2.0.8
export STEADFAST_VAR_DIR ?= $(CURDIR)/var

.PHONY: run test install install-dev assets lint fmt clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed assets
install-dev: $(VENV)/.installed-dev assets

# NHS.UK frontend CSS/JS and htmx, fetched from the npm registry at pinned versions. The CSS
# points at /assets/ (the site root); it is rewritten to its own assets folder beside it.
ASSETS_MARK := $(VENDOR)/.v-$(NHSUK_FRONTEND)-$(HTMX)-relative-assets
assets: $(ASSETS_MARK)
$(ASSETS_MARK):
	rm -rf $(VENDOR) var/npm && mkdir -p $(VENDOR)/nhsuk var/npm
	cd var/npm && npm pack --silent nhsuk-frontend@$(NHSUK_FRONTEND) htmx.org@$(HTMX) >/dev/null
	tar -xzf var/npm/nhsuk-frontend-$(NHSUK_FRONTEND).tgz -C var/npm
	cp var/npm/package/dist/nhsuk/nhsuk-frontend.min.css var/npm/package/dist/nhsuk/nhsuk-frontend.min.js $(VENDOR)/nhsuk/
	cp -r var/npm/package/dist/nhsuk/assets $(VENDOR)/nhsuk/assets
	sed -i 's#url(/assets/#url(assets/#g' $(VENDOR)/nhsuk/nhsuk-frontend.min.css
	rm -rf var/npm/package && tar -xzf var/npm/htmx.org-$(HTMX).tgz -C var/npm
	cp var/npm/package/dist/htmx.min.js $(VENDOR)/htmx.min.js
	rm -rf var/npm
	touch $@

run: install
	$(BIN)/steadfast migrate --no-input
	$(BIN)/steadfast demo
	$(BIN)/steadfast serve

test: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -p no:cacheprovider
	$(BIN)/pytest -p no:cacheprovider --postgres -m "not browser"

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) $(VENDOR) var
