"""Run the notebooks, write their outputs in place, or check that the committed ones still hold.

    python tools/notebooks.py --write            # make notebooks: execute, save with outputs
    python tools/notebooks.py --check            # make test runs this through pytest
    python tools/notebooks.py --check notebooks/2_bigram.ipynb

A learner reads the notebooks on the repository's page, so they are committed with their
outputs, and those outputs must be the ones a fresh run gives. Runs are deterministic (fixed
seeds, one BLAS thread, the kernel started in ``notebooks/``), so ``--check`` executes each
notebook again and compares every code cell's text outputs with the committed ones:

* the text must match after masking what legitimately changes from run to run: timings
  (``1.23 s``, ``45 ms``, ``3.2 ms/step``, ``1,234 tokens/s``), memory addresses
  (``0x7f3a...``) and temporary paths; a run of spaces counts as one (a table's columns
  widen with a timing that gained a digit);
* numbers are compared with a tolerance: floats within ``REL_TOL`` relative (or ``ABS_TOL``
  absolute), integers exactly;
* images (PNG, SVG) may differ: only their presence is compared;
* a cell tagged ``varies-by-cpu`` (in its metadata) shows runs that are unstable on purpose
  (a learning rate that diverges, a head initialised 100x too large): they amplify the last
  bits of the BLAS's sums, which differ from one CPU to another, so its numbers are not
  compared, only the text around them.

Exit status 1 (and one line per difference) when a committed notebook no longer matches.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
TIMEOUT = 300  # seconds per cell; each notebook is meant to run in well under 2 minutes
REL_TOL = 1e-3
ABS_TOL = 1e-6
ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

# What changes from run to run, masked before comparing (order matters: timings first).
_MASKS = [
    (re.compile(r"0x[0-9a-fA-F]{6,}"), "0x<address>"),
    (re.compile(r"/tmp/[^\s'\"),]+"), "<tmp>"),
    (
        re.compile(
            r"\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?\s*"
            r"(?:ms/step|s/step|it/s|tokens/s|steps/s|ms|µs|us|ns|s|sec|seconds?|min)\b"
        ),
        "<time>",
    ),
]
_NUMBER = re.compile(r"-?\d[\d,]*\.\d+(?:[eE][-+]?\d+)?|-?\d+(?:\.\d*)?[eE][-+]?\d+|-?\d[\d,]*")
_IMAGES = ("image/png", "image/svg+xml", "image/jpeg")
# A table pads its columns to the widest entry, and a timing's width changes from run to run
# (9.8 s, then 10.2 s): runs of spaces count as one.
_SPACES = re.compile(r"[ \t]+")


def notebook_paths(args: list[str]) -> list[Path]:
    return [Path(a).resolve() for a in args] or sorted(NOTEBOOKS.glob("*.ipynb"))


def _this_python_kernel() -> str:
    """A kernel spec that runs this very interpreter (the venv's, where groundup is
    installed), found first on JUPYTER_PATH: a user's own ``python3`` kernel may be another
    Python."""
    folder = Path(tempfile.mkdtemp(prefix="groundup-kernel-"))
    spec = folder / "kernels" / "groundup-python"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"})
    )
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(folder), *filter(None, [os.environ.get("JUPYTER_PATH")])]
    )
    return "groundup-python"


def execute(path: Path):
    """The notebook at ``path``, executed from scratch in ``notebooks/``, outputs filled in."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    os.environ.update(ENV)  # the kernel inherits them: one BLAS thread, as the tests use
    client = NotebookClient(
        nb,
        timeout=TIMEOUT,
        kernel_name=_this_python_kernel(),
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = _steady(cell.outputs)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                 "name": "python3"}  # fmt: skip
    for cell in nb.cells:  # a fresh run's counts are 1, 2, 3, ...; keep no kernel metadata
        cell.metadata.pop("execution", None)
    return nb


def _steady(outputs: list) -> list:
    """The same outputs, written the same way every run: consecutive writes to one stream
    merged into one output (how the kernel splits them depends on timing), and memory
    addresses masked in the plain-text fallback of a picture (which shows as the picture)."""
    merged: list = []
    for out in outputs:
        if (
            out.get("output_type") == "stream"
            and merged
            and merged[-1].get("output_type") == "stream"
            and merged[-1].get("name") == out.get("name")
        ):
            merged[-1]["text"] += out["text"]
            continue
        data = out.get("data", {})
        if "text/plain" in data and any(k in data for k in _IMAGES):
            data["text/plain"] = _MASKS[0][0].sub(_MASKS[0][1], "".join(data["text/plain"]))
        merged.append(out)
    return merged


def _text(output) -> str:
    """One output's text: a stream, a result's text/plain, or an error's name and value."""
    kind = output.get("output_type")
    if kind == "stream":
        return output.get("text", "")
    if kind == "error":
        return f"{output.get('ename')}: {output.get('evalue')}"
    data = output.get("data", {})
    if any(k in data for k in _IMAGES):
        return "<image>"
    text = data.get("text/plain", "")
    return "".join(text) if isinstance(text, list) else text


def cell_text(cell) -> str:
    """What a code cell showed, stderr left out (progress bars and warnings)."""
    parts = [_text(o) for o in cell.get("outputs", []) if o.get("name") != "stderr"]
    text = "".join(parts)
    for pattern, mask in _MASKS:
        text = pattern.sub(mask, text)
    return text


def _numbers_agree(a: str, b: str) -> bool:
    if "." in a or "e" in a.lower() or "." in b or "e" in b.lower():
        x, y = float(a.replace(",", "")), float(b.replace(",", ""))
        return math.isclose(x, y, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return a == b


def _skeleton(text: str) -> str:
    """The text with its numbers as # and its runs of spaces as one."""
    return _SPACES.sub(" ", _NUMBER.sub("#", text))


def texts_agree(committed: str, fresh: str) -> bool:
    """Equal text around the numbers, and every number within the tolerance."""
    if _skeleton(committed) != _skeleton(fresh):
        return False
    pairs = zip(_NUMBER.findall(committed), _NUMBER.findall(fresh), strict=True)
    return all(_numbers_agree(a, b) for a, b in pairs)


VARIES_BY_CPU = "varies-by-cpu"  # a cell tag: numbers not compared (see the docstring)


def differences(committed, fresh) -> list[str]:
    """One line per code cell whose committed output a fresh run does not reproduce."""
    code = [c for c in committed.cells if c.cell_type == "code"]
    new = [c for c in fresh.cells if c.cell_type == "code"]
    out = []
    for i, (old_cell, new_cell) in enumerate(zip(code, new, strict=True), start=1):
        old, now = cell_text(old_cell), cell_text(new_cell)
        if VARIES_BY_CPU in old_cell.get("metadata", {}).get("tags", []):
            old, now = _NUMBER.sub("#", old), _NUMBER.sub("#", now)
        if not old_cell.get("outputs") and new_cell.get("outputs"):
            out.append(f"code cell {i}: committed without outputs; run `make notebooks`")
        elif not texts_agree(old, now):
            out.append(
                f"code cell {i}: committed {_short(old)!r}, a fresh run gives {_short(now)!r}"
            )
    return out


def _short(text: str, n: int = 160) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="execute and save outputs in place")
    mode.add_argument("--check", action="store_true", help="compare with a fresh run")
    parser.add_argument("notebooks", nargs="*", help="notebook paths (default: notebooks/*)")
    args = parser.parse_args(argv)
    import nbformat

    failed = 0
    for path in notebook_paths(args.notebooks):
        start = time.perf_counter()
        fresh = execute(path)
        seconds = time.perf_counter() - start
        if args.write:
            nbformat.write(fresh, path)
            print(f"{path.name}: executed in {seconds:.0f} s, outputs written")
            continue
        diffs = differences(nbformat.read(path, as_version=4), fresh)
        failed += bool(diffs)
        status = "matches a fresh run" if not diffs else f"{len(diffs)} cells differ"
        print(f"{path.name}: {status} ({seconds:.0f} s)")
        for line in diffs:
            print(f"  {line}")
    if failed:
        print(f"{failed} notebook(s) no longer match their committed outputs: run `make notebooks`")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
