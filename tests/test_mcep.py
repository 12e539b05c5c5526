"""The batched mel-cepstral coding must equal pysptk's per-frame sp2mc / mc2sp."""
from __future__ import annotations

import numpy as np
import pysptk
import pytest
import pyworld

from vc.features import FeatureConfig, mcep_to_sp, sp_to_mcep
from vc.features.mcep import mc2sp_matrix, sp2mc_matrix

# (sample rate, fft size, dim, alpha): the auto settings at 16/22.05/24/48 kHz plus odd cases
SETTINGS = [
    (16000, 1024, 36, 0.42),
    (22050, 1024, 36, 0.455),
    (24000, 1024, 40, 0.466),
    (48000, 2048, 60, 0.554),
    (16000, 512, 25, 0.0),
    (16000, 1024, 24, -0.2),
]


def _envelopes(sample_rate: int, fft_size: int, make_speech) -> np.ndarray:
    """Real CheapTrick envelopes (voiced and unvoiced frames) at this rate and FFT size."""
    wave, _ = make_speech(0.25, sample_rate, 150.0, seed=2)
    f0, t = pyworld.dio(wave, sample_rate)
    return pyworld.cheaptrick(wave, f0, t, sample_rate, fft_size=fft_size)


@pytest.mark.parametrize("sample_rate, fft_size, dim, alpha", SETTINGS)
def test_sp_to_mcep_matches_pysptk(sample_rate, fft_size, dim, alpha, make_speech):
    sp = _envelopes(sample_rate, fft_size, make_speech)
    ref = np.stack([pysptk.sp2mc(frame, dim - 1, alpha) for frame in sp])
    got = sp_to_mcep(sp, dim, alpha)
    assert got.shape == ref.shape == (len(sp), dim)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9 * np.abs(ref).max())


@pytest.mark.parametrize("sample_rate, fft_size, dim, alpha", SETTINGS)
def test_mcep_to_sp_matches_pysptk(sample_rate, fft_size, dim, alpha, make_speech):
    mc = np.stack([pysptk.sp2mc(f, dim - 1, alpha) for f in _envelopes(sample_rate, fft_size, make_speech)])
    ref = np.stack([pysptk.mc2sp(frame, alpha, fft_size) for frame in mc])
    got = mcep_to_sp(mc, fft_size, alpha)
    assert got.shape == ref.shape == (len(mc), fft_size // 2 + 1)
    np.testing.assert_allclose(np.log(got), np.log(ref), rtol=0, atol=1e-9 * np.abs(np.log(ref)).max())


def test_auto_settings_match_the_tested_grid():
    """The sample-rate defaults are among the settings checked against pysptk above."""
    for sr in (16000, 22050, 24000, 48000):
        cfg = FeatureConfig(sample_rate=sr).resolved()
        assert any(cfg.fft_size == f and cfg.alpha == a for s, f, _, a in SETTINGS if s == sr)


def test_round_trip_recovers_smooth_envelopes():
    """High-order mel-cepstra of a smooth envelope decode back to it (a sanity check of the pair)."""
    freqs = np.linspace(0, 1, 513)
    log_sp = -4 * freqs + 0.5 * np.cos(6 * np.pi * freqs)
    back = mcep_to_sp(sp_to_mcep(np.exp(log_sp)[None], 128, 0.42), 1024, 0.42)
    np.testing.assert_allclose(np.log(back[0]), log_sp, atol=0.02)  # truncation at the kink at Nyquist


def test_matrices_are_cached_and_read_only():
    assert sp2mc_matrix(1024, 36, 0.42) is sp2mc_matrix(1024, 36, 0.42)
    assert mc2sp_matrix(1024, 36, 0.42) is mc2sp_matrix(1024, 36, 0.42)
    with pytest.raises(ValueError):
        sp2mc_matrix(1024, 36, 0.42)[0, 0] = 1.0


def test_shape_errors():
    with pytest.raises(ValueError, match="spectrogram"):
        sp_to_mcep(np.ones(513), 36, 0.42)
    with pytest.raises(ValueError, match="dimension"):
        sp_to_mcep(np.ones((2, 9)), 36, 0.42)
    with pytest.raises(ValueError, match="mel-cepstrum"):
        mcep_to_sp(np.ones(36), 1024, 0.42)


@pytest.mark.parametrize("in_len, order, alpha", [(1024, 35, 0.42), (36, 512, -0.42), (7, 3, 0.9), (5, 0, 0.3)])
def test_freqt_matrix_equals_pysptk_freqt(in_len, order, alpha):
    from vc.features.mcep import freqt_matrix

    c = np.random.default_rng(0).standard_normal((3, in_len))
    ref = np.stack([pysptk.freqt(row, order, alpha) for row in c])
    np.testing.assert_allclose(c @ freqt_matrix(in_len, order, alpha), ref, rtol=0, atol=1e-12 * np.abs(ref).max())
