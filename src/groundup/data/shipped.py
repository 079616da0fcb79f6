"""The data sets that ship inside the package (``groundup/data/files``), read by name.

Everything works offline: ``load_words("names")`` is makemore's names.txt,
``load_text("shakespeare")`` is char-rnn's tinyshakespeare and ``load_digits()`` is the
8x8 digits scikit-learn bundles, all stored gzip-compressed (files/README.md gives their
provenance, licences and checksums).
"""

from __future__ import annotations

import gzip
from pathlib import Path

FILES = Path(__file__).resolve().parent / "files"
WORD_SOURCES = {"names": "names.txt.gz"}  # load_words(name)
TEXT_SOURCES = {"shakespeare": "tinyshakespeare.txt.gz"}  # load_text(name)
IMAGE_SOURCES = {"digits": "digits.csv.gz"}  # load_digits()


def shipped_file(filename: str) -> Path:
    """Path of one of the shipped files."""
    path = FILES / filename
    if not path.is_file():  # pragma: no cover - a broken install
        raise FileNotFoundError(f"the shipped data file {path} is missing: reinstall groundup")
    return path


def read_bytes(path: Path) -> bytes:
    """A file's bytes, decompressed when its name ends in ``.gz``."""
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def read_text_file(path: Path) -> str:
    """A UTF-8 text file (or its ``.gz``) as a string; ValueError naming the file if it
    is not UTF-8."""
    data = read_bytes(path) if path.suffix == ".gz" else path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path}: not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
            "expected a UTF-8 text file"
        ) from None
