"""MCD, alignment and F0 metrics: exact values on hand-made arrays, behaviour on analysed audio."""
from __future__ import annotations

import math

import numpy as np
import pytest

from vc.evaluate.align import C0_TO_DB, align, nonsilent_frames
from vc.evaluate.f0_metrics import f0_scores
from vc.evaluate.mcd import MCD_CONST, mcd_per_frame, mcd_variant, mel_cepstral_distortion
from vc.features import FeatureConfig, analyze
from vc.features.testsignal import speech_like

CFG = FeatureConfig().resolved()


def random_mcep(frames: int = 80, dim: int = 25, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mc = rng.normal(0.0, 0.3, size=(frames, dim))
    mc[:, 0] = rng.normal(-2.0, 0.3, size=frames)  # all frames loud enough to be kept
    return mc


@pytest.fixture(scope="module")
def speech_feats():
    """Features of a speech-like sentence, the same sentence spoken 40% slower, and another voice."""
    base, _ = speech_like(0.6, 16000, 130.0, vowels="aiu", seed=1)
    slow, _ = speech_like(0.84, 16000, 130.0, vowels="aiu", seed=2)
    other, _ = speech_like(0.6, 16000, 130.0, vowels="eau", seed=3)
    return analyze(base, CFG), analyze(slow, CFG), analyze(other, CFG)


def test_mcd_is_zero_for_identical_inputs():
    mc = random_mcep()
    assert mel_cepstral_distortion(mc, mc) == pytest.approx(0.0, abs=1e-12)


def test_mcd_matches_the_formula_on_an_aligned_example():
    ref = np.array([[1.0, 0.5, -0.2, 0.1], [1.0, 0.4, 0.0, 0.3], [1.2, 0.0, 0.1, 0.0]])
    conv = np.array([[9.0, 0.6, -0.2, 0.1], [0.0, 0.4, 0.3, 0.3], [1.2, 0.3, 0.5, 0.0]])
    # by hand: c0 differences are ignored; frame distances over c1..c3
    expected = np.mean([10 / math.log(10) * math.sqrt(2 * d) for d in (0.1**2, 0.3**2, 0.3**2 + 0.4**2)])
    got = mel_cepstral_distortion(ref, conv, silence_db=None, use_dtw=False)
    assert got == pytest.approx(expected, rel=1e-12)
    assert MCD_CONST == pytest.approx(6.14185, abs=1e-5)  # the usual 10*sqrt(2)/ln10


def test_c0_is_excluded():
    mc = random_mcep()
    louder = mc.copy()
    louder[:, 0] += 3.0  # +26 dB gain changes only c0
    assert mel_cepstral_distortion(mc, louder) == pytest.approx(0.0, abs=1e-12)
    assert mcd_per_frame(mc[:5], louder[:5]) == pytest.approx(np.zeros(5), abs=1e-12)


def test_mcd_grows_with_cepstral_noise_and_is_symmetric():
    mc = random_mcep()
    rng = np.random.default_rng(5)
    noise = rng.normal(size=mc.shape)
    noise[:, 0] = 0
    values = [mel_cepstral_distortion(mc, mc + s * noise) for s in (0.01, 0.05, 0.2)]
    assert values[0] < values[1] < values[2]
    other = mc + 0.1 * noise
    assert mel_cepstral_distortion(mc, other) == pytest.approx(mel_cepstral_distortion(other, mc), rel=1e-9)


def test_silent_frames_are_excluded():
    mc = random_mcep()
    silence = np.zeros((30, mc.shape[1]))
    silence[:, 0] = mc[:, 0].max() - 60 / C0_TO_DB  # 60 dB below the loudest frame
    silence[:, 1:] = 5.0  # wildly different spectra: would dominate MCD if kept
    padded = np.concatenate([silence, mc, silence])
    assert len(nonsilent_frames(padded, -40.0)) == len(mc)
    assert mel_cepstral_distortion(mc, padded) == pytest.approx(0.0, abs=1e-12)
    assert mel_cepstral_distortion(mc, padded, silence_db=None) > 1.0
    with pytest.raises(ValueError, match="negative"):
        nonsilent_frames(mc, 10.0)


def test_alignment_indexes_the_untrimmed_frames():
    mc = random_mcep(20)
    silence = np.tile(mc[:1], (4, 1))
    silence[:, 0] -= 100.0
    path = align(mc, np.concatenate([silence, mc]))
    assert np.array_equal(path.ref, np.arange(20)) and np.array_equal(path.conv, np.arange(4, 24))
    assert (path.ref_kept, path.conv_kept) == (20, 20)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="dimensions differ"):
        align(random_mcep(dim=10), random_mcep(dim=12))
    with pytest.raises(ValueError, match="at least one frame"):
        align(np.zeros((0, 10)), random_mcep(dim=10))
    bad = random_mcep()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        mel_cepstral_distortion(bad, random_mcep())


def test_dtw_aligns_a_time_stretched_copy(speech_feats):
    base, slow, other = speech_feats
    assert slow.num_frames > 1.3 * base.num_frames
    stretched = mel_cepstral_distortion(base.mcep, slow.mcep)
    different = mel_cepstral_distortion(base.mcep, other.mcep)
    assert stretched < 0.5 * different, (stretched, different)
    path = align(base.mcep, slow.mcep)
    assert np.all(np.diff(path.ref) >= 0) and np.all(np.diff(path.conv) >= 0)  # monotonic
    assert len(path) >= max(path.ref_kept, path.conv_kept)


def test_f0_rmse_of_a_100_cent_shift_is_100():
    rng = np.random.default_rng(0)
    f0 = np.where(rng.random(200) < 0.7, rng.uniform(90, 250, 200), 0.0)
    scores = f0_scores(f0, f0 * 2 ** (100 / 1200))
    assert scores.rmse_cents == pytest.approx(100.0, abs=1e-9)
    assert scores.corr == pytest.approx(1.0, abs=1e-12)
    assert scores.vuv_error == 0.0 and scores.voiced_both == int((f0 > 0).sum())


def test_f0_rmse_of_resynthesised_shift_is_about_100(speech_feats):
    base = speech_feats[0]
    up, _ = speech_like(0.6, 16000, 130.0 * 2 ** (100 / 1200), vowels="aiu", seed=1)
    up = analyze(up, CFG)
    path = align(base.mcep, up.mcep)
    scores = f0_scores(base.f0, up.f0, path)
    assert scores.rmse_cents == pytest.approx(100.0, abs=25.0)
    assert scores.corr > 0.9


def test_vuv_error_counts_disagreeing_frames():
    ref = np.array([0, 0, 100, 110, 120, 130, 0, 0, 140, 150], dtype=float)
    conv = np.array([0, 90, 100, 0, 120, 130, 0, 0, 140, 0], dtype=float)
    scores = f0_scores(ref, conv)
    assert scores.vuv_error == pytest.approx(3 / 10)
    assert scores.voiced_both == 4 and scores.frames == 10
    assert scores.rmse_cents == pytest.approx(0.0)


def test_f0_metrics_undefined_without_common_voiced_frames():
    scores = f0_scores(np.array([0.0, 100.0, 0.0]), np.array([120.0, 0.0, 0.0]))
    assert math.isnan(scores.rmse_cents) and math.isnan(scores.corr)
    assert scores.vuv_error == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="alignment"):
        f0_scores(np.ones(3), np.ones(4))


def test_variant_string_states_the_definition():
    text = mcd_variant(36, 0.42, -40.0)
    for part in ("DTW", "c1-c35", "c0 excluded", "alpha=0.42", "40 dB"):
        assert part in text
    assert "no DTW" in mcd_variant(24, 0.466, None, use_dtw=False) and "c1-c23" in mcd_variant(24, 0.466)


def test_scoring_features_are_the_feature_packages_own():
    from vc.evaluate.scoring import spectral_features

    wave, _ = speech_like(0.5, 16000, 150.0, seed=4)
    cfg = FeatureConfig(speaker_f0_ranges={"x": [100.0, 300.0]})
    for speaker in (None, "x"):
        f0, mcep = spectral_features(wave, cfg, speaker)
        full = analyze(wave, cfg, speaker)
        assert np.array_equal(f0, full.f0) and np.array_equal(mcep, full.mcep)


# ---------------------------------------------------------------------------- modulation spectrum
def _trajectories(frames: int = 400, dim: int = 13, seed: int = 0) -> np.ndarray:
    """Speech-like mel-cepstral trajectories: a loud c0 and c1.. moving at 2-30 Hz (5 ms frames)."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) * 0.005
    x = np.zeros((frames, dim))
    x[:, 0] = 2.0
    for d in range(1, dim):
        for f in rng.uniform(2.0, 30.0, size=4):
            x[:, d] += rng.normal(0, 0.3) * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3))
    return x + rng.normal(0, 0.02, size=x.shape)


def test_msd_is_zero_for_the_same_trajectories_and_needs_no_alignment() -> None:
    from vc.evaluate.modulation import modulation_spectrum_distance, segment_frames

    x = _trajectories()
    assert segment_frames(5.0) == 64 and segment_frames(10.0) == 32
    assert modulation_spectrum_distance(x, x, 5.0) == pytest.approx(0.0, abs=1e-9)
    # a time shift and a level change (c0 and a constant offset of c1..) leave the spectrum as it is
    shifted = np.vstack([x[7:], x[:7]]) + np.r_[1.0, 0.5 * np.ones(x.shape[1] - 1)]
    assert modulation_spectrum_distance(x, shifted, 5.0) < 1.0


def test_msd_grows_as_the_trajectories_are_smoothed_in_time() -> None:
    from vc.evaluate.modulation import modulation_spectrum_distance

    x = _trajectories()
    scores = []
    for width in (3, 9, 21):
        kernel = np.ones(width) / width
        smooth = np.stack([np.convolve(x[:, d], kernel, mode="same") for d in range(x.shape[1])], axis=1)
        scores.append(modulation_spectrum_distance(x, smooth, 5.0))
    assert 1.0 < scores[0] < scores[1] < scores[2]


def test_msd_errors_and_variant() -> None:
    from vc.evaluate.modulation import modulation_spectrum, modulation_spectrum_distance, msd_variant

    x = _trajectories(frames=30)  # shorter than a segment: one zero-padded segment
    assert modulation_spectrum(x, 64).shape == (12, 32)
    with pytest.raises(ValueError, match="orders"):
        modulation_spectrum_distance(x, x[:, :10], 5.0)
    with pytest.raises(ValueError):
        modulation_spectrum(x[:1], 64)
    click = np.full_like(x, -20.0)
    click[5, 0] = 2.0  # one loud frame in silence: no trajectory to speak of, NaN (not an error)
    assert math.isnan(modulation_spectrum_distance(x, click, 5.0))
    text = msd_variant(5.0)
    assert "3.12-100 Hz" in text and "64 frames" in text and "c1..c(D-1)" in text
