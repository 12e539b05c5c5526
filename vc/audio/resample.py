"""Sample-rate conversion with soxr (high quality, fast, no hand-written filters)."""
from __future__ import annotations

import numpy as np
import soxr

from vc.audio.checks import check_sample_rate


def resample(wave: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample a 1-D (or ``(frames, channels)``) wave from ``orig_sr`` to ``target_sr`` Hz.

    Uses soxr's "HQ" preset, the same quality librosa uses by default, so features match those
    computed by librosa-based tools. Output length is ``round(len * target_sr / orig_sr)``.
    Rates outside the supported range (:func:`~vc.audio.checks.check_sample_rate`) are an
    :class:`~vc.audio.checks.AudioError`, since the output's size grows with their ratio.
    """
    orig_sr = check_sample_rate(orig_sr, "resample: input sample rate")
    target_sr = check_sample_rate(target_sr, "resample: output sample rate")
    wave = np.asarray(wave, dtype=np.float64)
    if orig_sr == target_sr:
        return wave.copy()
    return np.asarray(soxr.resample(wave, orig_sr, target_sr, quality="HQ"), dtype=np.float64)
