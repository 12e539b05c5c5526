"""Band-aperiodicity coding (vc.features.world.code_aperiodicity) is pyworld's, bit for bit."""
from __future__ import annotations

import numpy as np
import pytest

from vc.features import FeatureConfig
from vc.features._deps import pyworld
from vc.features.testsignal import speech_like
from vc.features.world import code_aperiodicity, extract_f0


@pytest.mark.parametrize("sample_rate,fft_size", [(16000, 1024), (16000, 512), (22050, 1024), (24000, 1024),
                                                  (44100, 2048), (48000, 2048)])
def test_code_aperiodicity_equals_pyworld(sample_rate: int, fft_size: int) -> None:
    cfg = FeatureConfig(sample_rate=sample_rate, fft_size=fft_size).resolved()
    wave, _ = speech_like(0.6, sample_rate, 150.0, seed=2)
    x = np.ascontiguousarray(wave, dtype=np.float64)
    f0, times = extract_f0(x, cfg)
    ap = pyworld.d4c(x, f0, times, sample_rate, fft_size=fft_size)
    assert (f0 > 0).any() and (f0 == 0).any()  # both kinds of frame
    np.testing.assert_array_equal(code_aperiodicity(ap, sample_rate), pyworld.code_aperiodicity(ap, sample_rate))
    rng = np.random.default_rng(0)  # arbitrary values in (0, 1], not only what D4C produces
    ap = rng.uniform(1e-6, 1.0, size=(7, fft_size // 2 + 1))
    np.testing.assert_array_equal(code_aperiodicity(ap, sample_rate), pyworld.code_aperiodicity(ap, sample_rate))
