# The two commands a new user types: `make journey` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

.PHONY: journey test lint bench clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# The main job: every stage on the embedded default data, a report in runs/.
journey: $(VENV)/bin/activate
	$(PIP) install --quiet -e ".[viz]"
	$(VENV)/bin/groundup journey

# The whole suite. Installs Debian's graphviz when `dot` is missing and we can (root + apt);
# otherwise the tests that need `dot` skip with a reason.
test: $(VENV)/bin/activate
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null) \
	      || echo "graphviz install failed: tests needing dot will skip"; \
	  else echo "dot not found and cannot install graphviz: tests needing dot will skip"; fi; }
	$(PIP) install --quiet -e ".[test]"
	$(PY) -m pytest -q

lint: $(VENV)/bin/activate
	$(PIP) install --quiet -e ".[dev]"
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy src/groundup/scalar src/groundup/tensor

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info .pytest_cache .hypothesis
