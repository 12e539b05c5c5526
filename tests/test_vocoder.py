"""WORLD synthesis from stored features: round-trip quality and input checks."""
from __future__ import annotations

import numpy as np
import pytest

from vc.features import FeatureConfig, analyze
from vc.vocoder import synthesize

# Measured round-trip MCD of the 16 kHz fixture (DIO, 36 dims): 1.973 dB; bound just above it.
ROUND_TRIP_MCD_DB = 2.1


def mcd_db(a: np.ndarray, b: np.ndarray) -> float:
    """Frame-aligned MCD over c1..c(D-1) (c0 excluded), no DTW: 10/ln10 * mean sqrt(2 sum d^2)."""
    d = a[:, 1:].astype(np.float64) - b[:, 1:]
    return float(10 / np.log(10) * np.mean(np.sqrt(2 * (d**2).sum(axis=1))))


def test_analysis_synthesis_analysis_round_trip(voiced_signal):
    wave, sr, _ = voiced_signal
    cfg = FeatureConfig(sample_rate=sr)
    feats = analyze(wave, cfg)
    out = synthesize(feats.f0, feats.mcep, feats.bap, cfg)
    assert out.dtype == np.float64 and np.isfinite(out).all()
    assert abs(len(out) - len(feats.f0) * 5 * sr // 1000) <= 5 * sr // 1000
    again = analyze(out, cfg)
    n = min(len(feats.f0), len(again.f0))
    voiced = (feats.f0[:n] > 0) & (again.f0[:n] > 0)
    assert voiced.sum() > 0.6 * n
    # over frames voiced in the original (silence and the noise burst excluded)
    assert mcd_db(feats.mcep[:n][feats.f0[:n] > 0], again.mcep[:n][feats.f0[:n] > 0]) < ROUND_TRIP_MCD_DB
    assert np.median(np.abs(again.f0[:n][voiced] / feats.f0[:n][voiced] - 1)) < 0.005


def test_synthesis_at_22k(make_speech):
    wave, _ = make_speech(0.5, 22050, 200.0, seed=3)
    cfg = FeatureConfig(sample_rate=22050)
    feats = analyze(wave, cfg)
    out = synthesize(feats.f0, feats.mcep, feats.bap, cfg)
    assert np.isfinite(out).all() and abs(len(out) - len(wave)) < 22050 * 0.01
    assert np.corrcoef(np.abs(np.fft.rfft(out[: len(wave)])), np.abs(np.fft.rfft(wave[: len(out)])))[0, 1] > 0.5


def test_negative_f0_is_unvoiced_and_bad_shapes_are_errors(voiced_signal):
    wave, sr, _ = voiced_signal
    cfg = FeatureConfig()
    feats = analyze(wave, cfg)
    assert np.isfinite(synthesize(-np.abs(feats.f0), feats.mcep, feats.bap, cfg)).all()
    with pytest.raises(ValueError, match="mcep_dim"):
        synthesize(feats.f0, feats.mcep[:, :24], feats.bap, cfg)
    with pytest.raises(ValueError, match="bands"):
        synthesize(feats.f0, feats.mcep, np.zeros((len(feats.f0), 2)), cfg)
    with pytest.raises(ValueError, match="equal T"):
        synthesize(feats.f0[:-1], feats.mcep, feats.bap, cfg)
    with pytest.raises(ValueError, match="NaN"):
        synthesize(feats.f0, feats.mcep * np.nan, feats.bap, cfg)
