"""Band-aperiodicity coding (vc.features.world.code_aperiodicity) is pyworld's, bit for bit, and the
batched decoding (decode_aperiodicity) is pyworld's to float rounding."""
from __future__ import annotations

import numpy as np
import pytest

from vc.features import FeatureConfig
from vc.features._deps import pyworld
from vc.features.testsignal import speech_like
from vc.features.world import code_aperiodicity, decode_aperiodicity, extract_f0


#: (sample rate, FFT size) pairs: every band count pyworld has between 16 and 48 kHz.
SETTINGS = [(16000, 1024), (16000, 512), (22050, 1024), (24000, 1024), (44100, 2048), (48000, 2048)]


def _d4c(sample_rate: int, fft_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(F0, D4C aperiodicity) of 0.6 s of speech-like audio, analysed as the features are."""
    cfg = FeatureConfig(sample_rate=sample_rate, fft_size=fft_size).resolved()
    wave, _ = speech_like(0.6, sample_rate, 150.0, seed=seed)
    x = np.ascontiguousarray(wave, dtype=np.float64)
    f0, times = extract_f0(x, cfg)
    return f0, pyworld.d4c(x, f0, times, sample_rate, fft_size=fft_size)


@pytest.mark.parametrize("sample_rate,fft_size", SETTINGS)
def test_code_aperiodicity_equals_pyworld(sample_rate: int, fft_size: int) -> None:
    f0, ap = _d4c(sample_rate, fft_size, seed=2)
    assert (f0 > 0).any() and (f0 == 0).any()  # both kinds of frame
    np.testing.assert_array_equal(code_aperiodicity(ap, sample_rate), pyworld.code_aperiodicity(ap, sample_rate))
    rng = np.random.default_rng(0)  # arbitrary values in (0, 1], not only what D4C produces
    ap = rng.uniform(1e-6, 1.0, size=(7, fft_size // 2 + 1))
    np.testing.assert_array_equal(code_aperiodicity(ap, sample_rate), pyworld.code_aperiodicity(ap, sample_rate))


@pytest.mark.parametrize("sample_rate,fft_size", SETTINGS)
def test_decode_aperiodicity_matches_pyworld(sample_rate: int, fft_size: int) -> None:
    bap = pyworld.code_aperiodicity(_d4c(sample_rate, fft_size, seed=3)[1], sample_rate)
    rng = np.random.default_rng(1)  # and arbitrary band values, some frames averaging above -0.5 dB (unvoiced)
    bap = np.concatenate([bap, rng.uniform(-60.0, 0.0, size=(20, bap.shape[1])),
                          rng.uniform(-0.4, 0.0, size=(3, bap.shape[1]))])
    ours = decode_aperiodicity(bap, sample_rate, fft_size)
    theirs = pyworld.decode_aperiodicity(np.ascontiguousarray(bap), sample_rate, fft_size)
    assert ours.shape == theirs.shape == (len(bap), fft_size // 2 + 1)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)
    assert (ours[-3:] == theirs[-3:]).all() and (theirs[-3:] == 1.0 - 1e-12).all()


def test_decode_aperiodicity_checks_the_band_count() -> None:
    with pytest.raises(ValueError, match="needs shape"):
        decode_aperiodicity(np.zeros((4, 3)), 16000, 1024)
