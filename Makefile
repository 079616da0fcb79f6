# The two commands a new user types: `make journey` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

.PHONY: journey test check notebooks lab lint bench clean

# One BLAS thread in tests: the matmuls there are small, and OpenBLAS threads spin-waiting on
# busy cores made them 10x slower. Benchmarks set their own thread counts.
SINGLE_THREAD := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# The main job: every stage on the data shipped in the package, a report in runs/.
journey: $(VENV)/bin/activate
	$(PIP) install --quiet -e ".[viz,fast]"
	$(VENV)/bin/groundup journey

# The whole suite, the notebooks' committed outputs included (tests/test_notebooks.py runs
# each notebook again and compares). Installs Debian's graphviz when `dot` is missing and we can (root + apt);
# otherwise the tests that need `dot` skip with a reason.
test: $(VENV)/bin/activate
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null) \
	      || echo "graphviz install failed: tests needing dot will skip"; \
	  else echo "dot not found and cannot install graphviz: tests needing dot will skip"; fi; }
	$(PIP) install --quiet -e ".[test]"
	$(SINGLE_THREAD) $(PY) -m pytest -q tests

# Execute every notebook in place and save it with its outputs (commit the result).
notebooks: $(VENV)/bin/activate
	$(PIP) install --quiet -e ".[notebooks]"
	$(SINGLE_THREAD) $(PY) tools/notebooks.py --write

# JupyterLab on the notebooks, with everything they import.
lab: $(VENV)/bin/activate
	$(PIP) install --quiet -e ".[notebooks]"
	$(VENV)/bin/jupyter lab notebooks

# What CI runs (.ci/run): lint, format, types, then the whole suite.
check: lint test

# ruff (lint and format) over the code, mypy over the library (the same hooks as
# .pre-commit-config.yaml).
lint: $(VENV)/bin/activate
	$(PIP) install --quiet -e ".[dev]"
	$(VENV)/bin/ruff check src tests benchmarks tools
	$(VENV)/bin/ruff format --check src tests benchmarks tools
	$(VENV)/bin/mypy src/groundup

# Speed and quality against the references; each prints ratios measured in the same run.
bench: $(VENV)/bin/activate
	$(PIP) install --quiet -e ".[test]"
	for b in scalar_engine tensor_ops mlp_train gpt_train gpt_generate bpe; do \
	  $(PY) benchmarks/$$b.py || exit 1; done

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info .pytest_cache .hypothesis
