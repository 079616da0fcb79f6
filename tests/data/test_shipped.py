"""The data that ships inside the package: byte for byte the public originals."""

from __future__ import annotations

import hashlib

import pytest

from groundup.data.shipped import FILES, IMAGE_SOURCES, TEXT_SOURCES, WORD_SOURCES, read_bytes


@pytest.mark.parametrize(
    "filename, size, sha256",
    [
        ("names.txt.gz", 228_145,
         "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"),
        ("tinyshakespeare.txt.gz", 1_115_394,
         "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"),
        ("digits.csv.gz", 264_712,
         "6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8"),
    ],
)  # fmt: skip
def test_shipped_files_are_the_originals(filename, size, sha256):
    data = read_bytes(FILES / filename)
    assert len(data) == size
    assert hashlib.sha256(data).hexdigest() == sha256


def test_every_named_source_has_its_file_and_provenance():
    readme = (FILES / "README.md").read_text(encoding="utf-8")
    for name, filename in {**WORD_SOURCES, **TEXT_SOURCES, **IMAGE_SOURCES}.items():
        assert (FILES / filename).is_file()
        assert f'"{name}"' in readme and filename in readme


def test_the_installed_package_declares_the_files():
    """pip install (not only -e) must carry the data: pyproject's package-data names it."""
    from pathlib import Path

    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["groundup"]
    assert "data/files/*.gz" in patterns
