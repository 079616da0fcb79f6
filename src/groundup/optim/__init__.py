"""Optimisers, gradient clipping and learning-rate schedules (mirrors ``torch.optim``).

>>> opt = AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)  # doctest: +SKIP
>>> loss.backward(); clip_grad_norm_(model.parameters(), 1.0); opt.step(); opt.zero_grad()
"""

from groundup.optim import lr_scheduler
from groundup.optim.clip import clip_grad_norm_
from groundup.optim.optimizer import SGD, Adam, AdamW, Optimizer

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "clip_grad_norm_", "lr_scheduler"]
