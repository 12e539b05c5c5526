"""Step-indexed schedules (learning-rate decay, loss-weight decay).

Every schedule is a pure function of the global step. Restoring the step on resume therefore
restores the learning rates and any decaying loss weight (e.g. StarGAN v2's diversity weight)
exactly, with no scheduler state to save or to get out of sync.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LinearSchedule:
    """``start`` until ``begin_step``, then linear to ``end`` at ``end_step``, constant after."""

    start: float
    end: float
    begin_step: int
    end_step: int

    def __call__(self, step: int) -> float:
        if step <= self.begin_step or self.end_step <= self.begin_step:
            return self.start if step <= self.begin_step else self.end
        if step >= self.end_step:
            return self.end
        frac = (step - self.begin_step) / (self.end_step - self.begin_step)
        return self.start + (self.end - self.start) * frac


def linear_decay_factor(step: int, decay_start: int | None, decay_end: int) -> float:
    """Learning-rate multiplier: 1 up to ``decay_start``, linearly to 0 at ``decay_end``.

    ``decay_start=None`` disables decay. The value used for step ``s`` is the one applied to the
    optimizer update of step ``s`` (1-based), so the last update of a run has a small but
    non-zero rate.
    """
    if decay_start is None or decay_end <= decay_start:
        return 1.0
    return LinearSchedule(1.0, 0.0, decay_start, decay_end + 1)(step)
