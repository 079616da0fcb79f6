"""What the model tests share: fitting one batch, the check that a model can learn."""

from __future__ import annotations

import pytest


@pytest.fixture
def fit_one_batch():
    """``fit(model, optimizer, x, y, steps)``: that many steps on the batch (x, y); returns
    the last loss."""

    def fit(model, optimizer, x, y, steps: int) -> float:
        for _ in range(steps):
            _, loss = model(x, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return loss.item()

    return fit
