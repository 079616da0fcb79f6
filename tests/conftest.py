"""Shared test fixtures: reference data from ../shared/data, skipping when absent."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_file(name: str) -> Path:
    """Path of a reference data file in ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"reference data {path} is absent (see README: Reference data)")
    return path


@pytest.fixture
def names_path() -> Path:
    return shared_file("names.txt")


@pytest.fixture
def shakespeare_path() -> Path:
    return shared_file("tinyshakespeare.txt")


@pytest.fixture
def needs_dot() -> None:
    if shutil.which("dot") is None:
        pytest.skip("graphviz `dot` binary not installed (apt-get install graphviz)")


# Hypothesis: deadlines mean nothing on 2 shared cores; keep example counts modest so the
# whole suite stays well inside CI's budget. HYPOTHESIS_PROFILE=thorough runs more.
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ci", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("thorough", max_examples=300, deadline=None)
settings.load_profile(__import__("os").environ.get("HYPOTHESIS_PROFILE", "ci"))
