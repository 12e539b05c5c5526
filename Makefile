# Two commands do all set-up on a fresh Debian machine:
#   make demo   - build the environment, then run the demo recipe end to end (egs/demo/run.sh)
#   make test   - build the environment, then run the test suite
# Both create a virtual environment under .venv (torch pinned to a CPU-friendly release) and
# install the Debian packages the toolkit uses (flite for the demo corpus, chromium for the
# sample-page test) with apt-get when run as root; otherwise they print the command to run.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_VERSION ?= 2.13.0
DEBIAN_PACKAGES := flite chromium
PYTEST_ARGS ?=

.PHONY: demo test bench env sysdeps clean-venv

$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip "setuptools<81" wheel
	$(PY) -m pip install --quiet "torch==$(TORCH_VERSION)"
	$(PY) -m pip install --quiet -e ".[test]"
	-$(PY) -m pip install --quiet "resemblyzer>=0.1.4" || echo "note: resemblyzer (speaker similarity, optional) did not install"
	touch $@

env: $(VENV)/.installed

sysdeps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	  else \
	    echo "missing Debian packages:$$missing"; \
	    echo "run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

demo: env sysdeps
	cd egs/demo && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash run.sh

test: env sysdeps
	$(PY) -m pytest -q -m "not slow" $(PYTEST_ARGS)

bench: env sysdeps
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash bench/run_all.sh

clean-venv:
	rm -rf $(VENV)
