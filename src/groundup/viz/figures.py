"""What every picture of viz does first and last: make a matplotlib ``Figure`` without
pyplot (no GUI backend, no global state; it displays in a notebook and saves headless), and
save it when given a path.

matplotlib comes with the ``viz`` extra; it is imported here, when the first picture is
drawn, and its absence says which extra to install.
"""

from __future__ import annotations

import os
from typing import Any


def new_figure(figsize: tuple[float, float], **kwargs: Any) -> Any:
    """A ``matplotlib.figure.Figure`` of ``figsize`` inches (``kwargs``: Figure's, such as
    ``layout="constrained"``)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError("plotting needs matplotlib: pip install 'groundup[viz]'") from err
    return Figure(figsize=figsize, **kwargs)


def save(fig: Any, path: str | os.PathLike[str] | None) -> Any:
    """Write ``fig`` as a PNG to ``path`` (nothing when None); return ``fig``."""
    if path is not None:
        fig.savefig(path, dpi=100, bbox_inches="tight")
    return fig
