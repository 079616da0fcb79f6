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
if [[ " $* " != *" --device cpu "* ]]; then  # the CUDA kernels against their definitions
    timeout 60 "$PY" -m pytest -q -rs -p no:cacheprovider tests/device/test_cuda_kernels.py
fi
# parity, then the speed ratio, then the long lecture run last (its progress is printed, so
# a run cut short by the limit still shows how far it got)
exec timeout 470 "$PY" benchmarks/gpu_check.py "$@"
