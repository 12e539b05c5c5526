"""F0 accuracy of a converted utterance against a reference: log-F0 RMSE, correlation, V/UV.

The RMSE is in cents (1200 * log2 of the ratio) so that it reads the same for low and high
voices: 100 cents is one semitone whatever the speaker's register. All three numbers are taken
along the MCD alignment so that they describe the very frames MCD scored.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vc.evaluate.align import Alignment


@dataclass(frozen=True)
class F0Scores:
    """F0 metrics of one utterance; NaN where undefined (e.g. no frame voiced in both)."""

    rmse_cents: float  # over frames voiced in both
    corr: float  # Pearson correlation of log-F0 over frames voiced in both
    vuv_error: float  # fraction of aligned frames whose voicing decisions differ
    voiced_both: int
    frames: int


def f0_variant() -> str:
    """The definition behind the reported F0 numbers."""
    return ("log-F0 RMSE [cent] = 1200*sqrt(mean(log2(f0_conv/f0_ref)^2)) and Pearson correlation of log-F0, "
            "both over frames voiced in both; V/UV error = share of aligned frames whose voicing differs; "
            "all along the MCD alignment (silence removed)")


def f0_scores(ref_f0: np.ndarray, conv_f0: np.ndarray, alignment: Alignment | None = None) -> F0Scores:
    """Scores of ``conv_f0`` against ``ref_f0`` (Hz, 0 = unvoiced) along ``alignment``.

    Without an alignment the two tracks must have equal length and are paired frame by frame.
    """
    ref_f0 = np.asarray(ref_f0, dtype=np.float64).reshape(-1)
    conv_f0 = np.asarray(conv_f0, dtype=np.float64).reshape(-1)
    if alignment is None:
        if ref_f0.shape != conv_f0.shape:
            raise ValueError(f"F0 tracks of different lengths ({len(ref_f0)} and {len(conv_f0)}) need an alignment")
        ref, conv = ref_f0, conv_f0
    else:
        ref, conv = ref_f0[alignment.ref], conv_f0[alignment.conv]
    if ref.size == 0:
        raise ValueError("no aligned frames to score")
    if not (np.all(np.isfinite(ref)) and np.all(np.isfinite(conv))):
        raise ValueError("F0 track contains non-finite values")
    ref_v, conv_v = ref > 0, conv > 0
    both = ref_v & conv_v
    vuv_error = float(np.mean(ref_v != conv_v))
    n = int(both.sum())
    if n == 0:
        return F0Scores(math.nan, math.nan, vuv_error, 0, int(ref.size))
    lr, lc = np.log2(ref[both]), np.log2(conv[both])
    rmse = float(1200.0 * np.sqrt(np.mean((lc - lr) ** 2)))
    corr = math.nan
    if n >= 2 and np.std(lr) > 0 and np.std(lc) > 0:
        corr = float(np.corrcoef(lr, lc)[0, 1])
    return F0Scores(rmse, corr, vuv_error, n, int(ref.size))
