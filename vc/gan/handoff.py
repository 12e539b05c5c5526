"""A D phase's fakes handed to the G phase of the same step, instead of made twice.

StarGAN-style steps run G on the same input twice: once without gradients for D's fake, once
with them for G's losses. Between the two only D (and C) change, so the second forward gives
the same tensor; making the first one with G's graph and keeping it saves one of G's forwards
per step (about 3 % of a StarGAN-VC step on a 2-core CPU, bench/train_speed.py). Two cases keep
the plain path:

* the G phase does not run in this step (``n_critic`` > 1), so there is nobody to hand to;
* DDP: G's gradients must flow from a forward through its DDP wrapper, which only G's own
  phase sees (the trainer hands the D phase the plain module).

The values are the same either way; what differs is that G's batch-norm running statistics are
updated once per step instead of twice on the same batch.
"""
from __future__ import annotations

from typing import Any, Callable, Generic, TypeVar

import torch

from vc.gan.runtime import DistInfo

T = TypeVar("T")


def _detached(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x.detach()
    if isinstance(x, tuple):
        return tuple(_detached(v) for v in x)
    return x


class FakeHandoff(Generic[T]):
    """Makes a D phase's fakes and keeps them, with G's graph, for the G phase of the same step."""

    def __init__(self, dist: DistInfo | None = None):
        self.enabled = dist is None or not dist.distributed
        self._kept: tuple[int, T] | None = None

    def for_d(self, make: Callable[[], T], step: int, g_runs_this_step: bool) -> T:
        """``make()`` for D: detached, and kept with its graph when the G phase of ``step`` will take it."""
        keep = self.enabled and g_runs_this_step
        with torch.set_grad_enabled(keep):
            out = make()
        self._kept = (step, out) if keep else None
        return _detached(out) if keep else out

    def for_g(self, make: Callable[[], T], step: int) -> T:
        """The fakes kept at ``step`` (handed over once), else ``make()``: the G phase's own."""
        kept, self._kept = self._kept, None
        return kept[1] if kept is not None and kept[0] == step else make()

    @property
    def holding(self) -> bool:
        """Whether fakes are kept that no G phase has taken yet."""
        return self._kept is not None
