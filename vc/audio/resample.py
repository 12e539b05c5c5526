"""Sample-rate conversion with soxr (high quality, fast, no hand-written filters)."""
from __future__ import annotations

import numpy as np
import soxr


def resample(wave: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample a 1-D (or ``(frames, channels)``) wave from ``orig_sr`` to ``target_sr`` Hz.

    Uses soxr's "HQ" preset, the same quality librosa uses by default, so features match those
    computed by librosa-based tools. Output length is ``round(len * target_sr / orig_sr)``.
    """
    if orig_sr <= 0 or target_sr <= 0:
        raise ValueError(f"sample rates must be positive, got {orig_sr} -> {target_sr}")
    wave = np.asarray(wave, dtype=np.float64)
    if int(orig_sr) == int(target_sr):
        return wave.copy()
    return np.asarray(soxr.resample(wave, int(orig_sr), int(target_sr), quality="HQ"), dtype=np.float64)
