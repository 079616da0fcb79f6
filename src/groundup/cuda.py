"""``groundup.cuda``: PyTorch's ``torch.cuda`` spellings (``is_available``, ``synchronize``).

The device itself lives in :mod:`groundup.tensor.cuda`, which imports CuPy only when asked.
"""

from groundup.tensor.cuda import (
    INSTALL_HINT,
    default_device,
    is_available,
    set_allow_tf32,
    synchronize,
)

__all__ = ["INSTALL_HINT", "default_device", "is_available", "set_allow_tf32", "synchronize"]
