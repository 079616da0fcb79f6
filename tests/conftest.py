"""Shared test fixtures: the shipped data sets as files, and a skip when `dot` is absent."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from groundup.data.shipped import FILES

REPO = Path(__file__).resolve().parents[1]


def _unpacked(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """The shipped ``<name>.gz`` decompressed into a temporary file (a plain text path, as
    a learner's own data would be)."""
    path = tmp_path_factory.mktemp("data") / name
    path.write_bytes(gzip.decompress((FILES / f"{name}.gz").read_bytes()))
    return path


@pytest.fixture(scope="session")
def names_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _unpacked(tmp_path_factory, "names.txt")


@pytest.fixture(scope="session")
def shakespeare_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _unpacked(tmp_path_factory, "tinyshakespeare.txt")


@pytest.fixture
def needs_dot() -> None:
    if shutil.which("dot") is None:
        pytest.skip("graphviz `dot` binary not installed (apt-get install graphviz)")


# Hypothesis: deadlines mean nothing on 2 shared cores; keep example counts modest so the
# whole suite stays well inside CI's budget. HYPOTHESIS_PROFILE=thorough runs more.
settings.register_profile(
    "ci", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("thorough", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
