"""Shared fixtures: speech-like audio with a known F0, so no test needs a corpus."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

from vc.features.testsignal import speech_like


@pytest.fixture
def make_speech() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """Factory ``make_speech(duration=1.0, sample_rate=16000, f0_mean=140.0, **kw) -> (wave, true_f0)``.

    ``true_f0`` is per sample (0 where unvoiced/silent); see vc.features.testsignal.speech_like.
    """
    return speech_like


@pytest.fixture
def voiced_signal() -> tuple[np.ndarray, int, np.ndarray]:
    """One second of 16 kHz speech-like audio (140 Hz gliding F0, three vowels, a noise burst)."""
    wave, f0 = speech_like(1.0, 16000, 140.0, seed=1)
    return wave, 16000, f0


def _at_frames(true_f0: np.ndarray, sample_rate: int, num_frames: int, frame_period: float = 5.0) -> np.ndarray:
    idx = np.minimum((np.arange(num_frames) * frame_period * sample_rate / 1000).astype(int), len(true_f0) - 1)
    return true_f0[idx]


@pytest.fixture
def at_frames() -> Callable[..., np.ndarray]:
    """``at_frames(true_f0, sample_rate, num_frames, frame_period=5.0)``: the true per-sample F0
    at WORLD's frame times (frame k at k * frame_period ms), to score an F0 estimate."""
    return _at_frames
