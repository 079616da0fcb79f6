"""The test every package's error table runs (``tests/<package>/test_errors.py``): each row
(id, a call that must fail, the exception type, the name its message must contain)."""

from __future__ import annotations

from typing import Any

import pytest


def refusal_test(cases: list[tuple[Any, ...]], in_tmp_path: bool = False) -> Any:
    """The parametrized test of a table; ``in_tmp_path``: rows run in a fresh folder, so the
    ones that touch files touch only it."""

    @pytest.mark.parametrize(("call", "error", "name"), [c[1:] for c in cases],
                             ids=[c[0] for c in cases])  # fmt: skip
    def test_refused_naming_the_argument(call, error, name, tmp_path, monkeypatch):
        if in_tmp_path:
            monkeypatch.chdir(tmp_path)
        with pytest.raises(error) as excinfo:
            call()
        assert name in str(excinfo.value)

    return test_refused_naming_the_argument
