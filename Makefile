# The Prompt Transfer Book: set-up, tests and the book build.
#   make install book       set up .venv, execute every chapter with params/cpu.yaml, build _build/html
#   make install test-all   set up .venv, unit tests + CI smoke build of the book (params/ci.yaml) + smokes
# Variables: PYTHON (interpreter for the venv), PARAMS (papermill profile for `book`), LAMA_DIR (LAMA T-REx
# files; default ../shared/lama when it exists, else unset and the library downloads them),
# TORCH_PIP_ARGS (extra pip arguments for torch, e.g. a CPU-only wheel index), PYTEST_ARGS, ZOO_ARGS.

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PARAMS ?= params/cpu.yaml
TORCH_VERSION ?= 2.13.0
TORCH_PIP_ARGS ?=
PYTEST_ARGS ?=
ZOO_ARGS ?=

LAMA_DIR ?= $(if $(wildcard ../shared/lama/README.md),$(abspath ../shared/lama),)
ifneq ($(strip $(LAMA_DIR)),)
export LAMA_DIR
endif

.PHONY: help install lock test book book-ci smoke test-all vendor zoo strip clean distclean

help:
	@sed -n '2,7p' Makefile | sed 's/^# \{0,1\}//'
	@echo "targets: install lock test book book-ci smoke test-all vendor zoo strip clean distclean"

# The stamp makes `make install` cheap when nothing changed; delete .venv (make distclean) to start over.
install: $(VENV)/.installed

# pyproject.toml holds ranges; requirements-lock.txt pins the tested versions of everything (constraints).
$(VENV)/.installed: pyproject.toml requirements-lock.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install $(TORCH_PIP_ARGS) torch==$(TORCH_VERSION)
	$(PY) -m pip install -c requirements-lock.txt -e ".[book,dev]"
	touch $@

# Re-pin requirements-lock.txt to what .venv holds (after a deliberate upgrade there); torch's +cpu/+cu tag dropped.
lock:
	{ sed -n '1,3p' requirements-lock.txt; $(PY) -m pip freeze --exclude-editable \
	  | sed -E 's/^torch==([^+]*)\+.*/torch==\1/'; } > requirements-lock.txt.new
	mv requirements-lock.txt.new requirements-lock.txt

test:
	$(PY) -m ruff check src tests scripts benchmarks
	$(PY) -m pytest $(PYTEST_ARGS)

# Offline MathJax + ipywidgets JavaScript (npm) into the gitignored book/_vendor/.
vendor: book/_vendor/.stamp

book/_vendor/.stamp: scripts/vendor_js.sh
	bash scripts/vendor_js.sh --force

# Execute every notebook of _toc.yml with $(PARAMS) (papermill), build the HTML with -W into _build/html,
# print wall time and peak memory per notebook and write _build/budget.json.
book: vendor
	$(PY) scripts/build_book.py --params $(PARAMS)

book-ci: vendor
	OMP_NUM_THREADS=1 $(PY) scripts/build_book.py --params params/ci.yaml

# Every chapter four more times (scripts/smoke.py, into _build/smoke/): beside zoo models a Hub-layout model
# that is not in the zoo; two zoo models of one width (no large sources); params/gpu.yaml's keys and
# params/paper.yaml's keys (fixture models, 41 relations), both at the tiny sizes of params/tiny.yaml.
smoke:
	OMP_NUM_THREADS=1 $(PY) scripts/smoke.py all

test-all: test book-ci smoke

# Re-train the mini model zoo into data/zoo/ (long; the checkpoints are shipped, so readers never need this).
zoo:
	$(PY) -m tutorial_lib.zoo.build $(ZOO_ARGS)

# Remove outputs, execution counts and papermill metadata from the chapter notebooks before committing.
strip:
	$(VENV)/bin/nbstripout --extra-keys "metadata.papermill cell.metadata.papermill" book/*.ipynb

clean:
	rm -rf _build .vendor-cache book/_vendor .pytest_cache
	find . -path ./$(VENV) -prune -o -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
