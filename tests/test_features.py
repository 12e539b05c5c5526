"""WORLD analysis, feature settings and feature files."""
from __future__ import annotations

import numpy as np
import pytest

from vc.config import ConfigError, load_config
from vc.features import (FeatureConfig, FeatureFileError, Features, analyze, load_features, read_settings,
                         save_features)
from vc.features import world as world_mod


def test_pyworld_and_pysptk_import():
    """pyworld 0.3.5 / pysptk 1.0.1 import pkg_resources: setuptools must stay < 81 (setup.py)."""
    import pysptk
    import pyworld

    assert callable(pyworld.dio) and callable(pysptk.freqt)
    assert pyworld.get_cheaptrick_fft_size(16000, 71.0) == 1024


def test_analyze_shapes_dtypes_and_f0(voiced_signal, at_frames):
    wave, sr, true_f0 = voiced_signal
    cfg = FeatureConfig(sample_rate=sr)
    feats = analyze(wave, cfg)
    t = len(wave) * 1000 // (sr * 5) + 1
    assert feats.f0.shape == (t,) and feats.mcep.shape == (t, 36) and feats.bap.shape == (t, 1)
    assert feats.f0.dtype == feats.mcep.dtype == feats.bap.dtype == np.float32
    assert np.isfinite(feats.mcep).all() and np.isfinite(feats.bap).all()
    ref = at_frames(true_f0, sr, t)
    both = (feats.f0 > 0) & (ref > 0)
    assert both.sum() > 0.6 * t
    assert np.median(np.abs(feats.f0[both] / ref[both] - 1)) < 0.01
    assert np.mean((feats.f0 > 0) == (ref > 0)) > 0.9
    assert (feats.bap <= 0).all()  # dB relative to the envelope


def test_resolved_settings_from_sample_rate():
    r16 = FeatureConfig().resolved()
    assert (r16.fft_size, r16.alpha) == (1024, 0.42)
    r22 = FeatureConfig(sample_rate=22050).resolved()
    assert (r22.fft_size, r22.alpha) == (1024, 0.455)
    r48 = FeatureConfig(sample_rate=48000).resolved()
    assert (r48.fft_size, r48.alpha) == (2048, 0.554)
    odd = FeatureConfig(sample_rate=32000).resolved()  # not in the table: pysptk's mel fit
    assert 0.42 < odd.alpha < 0.544 and odd.fft_size == 2048
    # explicit values win; a low per-speaker floor enlarges the FFT so CheapTrick sees 3 periods
    assert FeatureConfig(fft_size=2048, alpha=0.3).resolved().fft_size == 2048
    assert FeatureConfig(speaker_f0_ranges={"bass": [40, 200]}).resolved().fft_size == 2048


def test_22k_analysis_uses_auto_fft_and_alpha(make_speech):
    wave, _ = make_speech(0.5, 22050, 200.0, seed=3)
    feats = analyze(wave, FeatureConfig(sample_rate=22050))
    assert feats.mcep.shape[1] == 36 and feats.bap.shape[1] == 2  # 2 aperiodicity bands at 22.05 kHz
    assert (feats.f0 > 0).mean() > 0.5


def test_harvest_option(voiced_signal, at_frames):
    wave, sr, true_f0 = voiced_signal
    dio = analyze(wave, FeatureConfig())
    harvest = analyze(wave, FeatureConfig(f0_method="harvest"))
    assert harvest.f0.shape == dio.f0.shape
    assert not np.array_equal(harvest.f0, dio.f0)
    ref = at_frames(true_f0, sr, len(harvest.f0))
    both = (harvest.f0 > 0) & (ref > 0)
    assert np.median(np.abs(harvest.f0[both] / ref[both] - 1)) < 0.01


def test_per_speaker_f0_range_is_used(voiced_signal, monkeypatch):
    wave, sr, _ = voiced_signal
    cfg = FeatureConfig(speaker_f0_ranges={"high": [200.0, 500.0]})
    assert cfg.f0_range("high") == (200.0, 500.0)
    assert cfg.f0_range("other") == cfg.f0_range(None) == (71.0, 800.0)
    calls = []
    real_dio = world_mod.pyworld.dio

    def spy(x, fs, **kw):
        calls.append((kw["f0_floor"], kw["f0_ceil"]))
        return real_dio(x, fs, **kw)

    monkeypatch.setattr(world_mod.pyworld, "dio", spy)
    normal = analyze(wave, cfg, speaker="other")
    high = analyze(wave, cfg, speaker="high")
    assert calls == [(71.0, 800.0), (200.0, 500.0)]
    # a 105-175 Hz voice searched in 200-500 Hz: no estimate below the floor survives
    assert np.median(normal.f0[normal.f0 > 0]) < 200
    assert not np.any((high.f0 > 0) & (high.f0 < 190))


@pytest.mark.parametrize("kwargs, words", [
    ({"f0_method": "yin"}, "f0_method"),
    ({"f0_floor": 500.0, "f0_ceil": 400.0}, "f0_floor/f0_ceil"),
    ({"speaker_f0_ranges": {"a": [100.0]}}, "speaker_f0_ranges.a"),
    ({"sample_rate": 8000}, "12000"),
    ({"fft_size": 1000}, "power of two"),
    ({"alpha": 1.2}, "alpha"),
])
def test_bad_config_is_a_clear_error(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        FeatureConfig(**kwargs)


def test_config_yaml_and_json_round_trip(tmp_path):
    path = tmp_path / "feats.yaml"
    path.write_text("sample_rate: 24000\nf0_method: harvest\nspeaker_f0_ranges:\n  p225: [120, 500]\n")
    cfg = load_config(FeatureConfig, path)
    assert cfg.speaker_f0_ranges == {"p225": [120.0, 500.0]}
    resolved = cfg.resolved()
    assert FeatureConfig.from_json(resolved.to_json()) == resolved
    path.write_text("mcep_order: 24\n")
    with pytest.raises(ConfigError, match="mcep_order"):
        load_config(FeatureConfig, path)


def test_feature_file_round_trip(tmp_path, voiced_signal):
    wave, sr, _ = voiced_signal
    cfg = FeatureConfig(mcep_dim=24)
    feats = analyze(wave, cfg)
    assert feats.mcep.shape[1] == 24
    path = tmp_path / "utt 1.npz"
    save_features(path, feats, cfg)
    loaded, settings = load_features(path)
    assert settings == cfg.resolved() and read_settings(path) == cfg.resolved()
    for name in ("f0", "mcep", "bap"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(feats, name))
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temp files left


def test_bad_feature_files_name_the_file(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(FeatureFileError, match="bad.npz"):
        load_features(bad)
    no_settings = tmp_path / "raw.npz"
    np.savez(no_settings, f0=np.zeros(3), mcep=np.zeros((3, 36)), bap=np.zeros((3, 1)))
    with pytest.raises(FeatureFileError, match="settings"):
        load_features(no_settings)
    with pytest.raises(FeatureFileError, match="no such"):
        load_features(tmp_path / "missing.npz")


def test_analyze_rejects_bad_waves_and_features_check_shapes():
    with pytest.raises(ValueError, match="NaN"):
        analyze(np.array([0.1, np.nan] * 2000), FeatureConfig())
    with pytest.raises(ValueError, match="frame counts"):
        Features(np.zeros(3), np.zeros((4, 36)), np.zeros((3, 1)))
