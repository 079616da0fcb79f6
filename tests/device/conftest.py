"""The stand-in GPU as a fixture: while a test runs, "cuda" is the stand-in device."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from groundup.tensor import backend

sys.path.insert(0, str(Path(__file__).parent))  # the tests here import gpu_standin
from gpu_standin import DeviceArray, standin, to_device, to_host  # noqa: E402


@pytest.fixture
def standin_cuda() -> Iterator[backend.Device]:
    """Register the stand-in as "cuda" for one test, and restore what was there."""
    previous = backend._DEVICES.get("cuda")
    device = backend.Device("cuda", standin, DeviceArray, to_device, to_host, index=0)
    backend.register_device(device)
    try:
        yield device
    finally:
        backend.unregister_device("cuda")
        if previous is not None:
            backend.register_device(previous)
