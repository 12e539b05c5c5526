"""Exponential moving average of a network's weights (used for StarGAN v2's G, F and E).

The averaged copy is a separate, frozen module so it can be sampled from, checkpointed and
loaded for inference exactly like the trained one.
"""
from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn as nn


class EMA:
    """Keep ``shadow = decay * shadow + (1 - decay) * weights`` after every update.

    Buffers (e.g. batch-norm running statistics) are copied, not averaged.
    """

    def __init__(self, model: nn.Module, decay: float):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        self.decay = decay
        self.shadow = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the shadow weights towards ``model``'s current weights."""
        for p_ema, p in zip(self.shadow.parameters(), model.parameters()):
            p_ema.lerp_(p.detach(), 1.0 - self.decay)
        for b_ema, b in zip(self.shadow.buffers(), model.buffers()):
            b_ema.copy_(b)

    def state_dict(self) -> dict[str, Any]:
        return self.shadow.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.shadow.load_state_dict(state)
