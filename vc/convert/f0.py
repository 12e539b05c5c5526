"""Log-Gaussian F0 conversion.

StarGAN-VC converts only the spectral envelope with the network; pitch is moved with the
classic linear transform in the log-F0 domain (Toda et al.), which matches the first two moments
of the target speaker's log-F0 distribution. Unvoiced frames (F0 = 0) carry no pitch and must
stay exactly 0, otherwise the vocoder would voice silence and fricatives.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

#: A log-F0 standard deviation below this (in natural-log units, ~0.1 %) cannot come from speech;
#: it would blow the transform up, so estimates are floored to it.
MIN_LF0_STD = 1e-3


@dataclass(frozen=True)
class LogF0Stats:
    """Mean and standard deviation of natural-log F0 over voiced frames of one speaker."""

    mean: float
    std: float

    @classmethod
    def estimate(cls, f0: np.ndarray) -> "LogF0Stats | None":
        """Estimate from one F0 track (voiced frames only); None when nothing is voiced.

        Used for unseen source speakers: the statistics of the input itself are the best
        available guess at the speaker's pitch range. The std is floored so that a monotone
        input (or a handful of voiced frames) cannot produce a divide-by-almost-zero.
        """
        voiced = np.asarray(f0, dtype=np.float64)
        voiced = voiced[voiced > 0]
        if voiced.size == 0:
            return None
        lf0 = np.log(voiced)
        return cls(mean=float(lf0.mean()), std=max(float(lf0.std()), MIN_LF0_STD))


def convert_f0(f0: np.ndarray, source: LogF0Stats, target: LogF0Stats, scale: float = 1.0) -> np.ndarray:
    """Map voiced frames with lf0' = (lf0 - mu_src) / sigma_src * sigma_tgt + mu_tgt.

    ``scale`` multiplies the converted F0 (a pitch shift on top of the transform: 2.0 is one
    octave up). Unvoiced frames stay 0. The dtype of ``f0`` is kept so the result can go
    straight back into a feature set.
    """
    if not scale > 0 or not np.isfinite(scale):
        raise ValueError(f"f0 scale must be a positive finite number, got {scale!r}")
    if not source.std > 0 or not target.std > 0:
        raise ValueError(f"log-F0 standard deviations must be positive (source {source.std}, target {target.std})")
    f0 = np.asarray(f0)
    out = np.zeros_like(f0)
    voiced = f0 > 0
    lf0 = np.log(f0[voiced].astype(np.float64))
    converted = (lf0 - source.mean) / source.std * target.std + target.mean
    out[voiced] = (np.exp(converted) * scale).astype(f0.dtype)
    return out
