#!/usr/bin/env bash
# Issue 20's GPU check, one command on one GPU (inside 9 minutes on an H200): op and GPT-step
# parity against the CPU engine, the lecture preset on tinyshakespeare for 5,000 steps (best
# val loss, wall time), and 200 steps timed against a PyTorch eager twin (the ratio).
# Needs CuPy (pip install -e ".[cuda]") and, for the speed part, PyTorch with CUDA.
# The figures go in docs/results.md; `--device cpu --quick` is the dry run the tests use.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
export PYTHONPATH=src${PYTHONPATH:+:$PYTHONPATH}
exec timeout 540 "$PY" benchmarks/gpu_check.py "$@"
