"""Per-speaker statistics: streaming results equal a direct computation over all frames."""
from __future__ import annotations

import numpy as np
import pytest

from vc.features import FeatureConfig, Features, SpeakerStats, StatsError, save_features
from vc.features.stats import stats_from_files


def _random_utts(seed: int = 0, offset: float = 0.0) -> list[tuple[str, Features]]:
    rng = np.random.default_rng(seed)
    items = []
    for spk, f0_mean in (("spk_b", 220.0), ("spk_a", 110.0)):
        for _ in range(4):
            t = int(rng.integers(20, 200))
            f0 = f0_mean * np.exp(0.1 * rng.standard_normal(t))
            f0[rng.random(t) < 0.3] = 0.0
            mcep = offset + rng.standard_normal((t, 36)) * np.linspace(2, 0.1, 36) + (spk == "spk_a")
            items.append((spk, Features(f0, mcep, np.zeros((t, 1)))))
    return items


def _direct(items, spk):
    feats = [f for s, f in items if s == spk]
    f0 = np.concatenate([f.f0 for f in feats]).astype(np.float64)
    mcep = np.concatenate([f.mcep for f in feats]).astype(np.float64)
    lf0 = np.log(f0[f0 > 0])
    return lf0.mean(), lf0.std(), mcep.mean(0), mcep.std(0), len(mcep), len(lf0)


@pytest.mark.parametrize("offset", [0.0, 1e6])  # a naive float64 sum of squares loses ~1e-4 here
def test_stats_equal_direct_numpy(offset):
    items = _random_utts(offset=offset)
    stats = SpeakerStats.from_features(iter(items), FeatureConfig())
    assert stats.speakers == ["spk_a", "spk_b"]
    for i, spk in enumerate(stats.speakers):
        lm, ls, mm, ms, n, nv = _direct(items, spk)
        np.testing.assert_allclose([stats.lf0_mean[i], stats.lf0_std[i]], [lm, ls], rtol=1e-10)
        np.testing.assert_allclose(stats.mcep_mean[i], mm, rtol=1e-10)
        np.testing.assert_allclose(stats.mcep_std[i], ms, rtol=1e-6 if offset else 1e-10)
        assert (stats.num_frames[i], stats.num_voiced[i]) == (n, nv)


def test_save_load_index(tmp_path):
    stats = SpeakerStats.from_features(_random_utts(), FeatureConfig(mcep_dim=36), speakers=["spk_b", "spk_a"])
    assert stats.speakers == ["spk_b", "spk_a"]
    path = tmp_path / "stats.npz"
    stats.save(path)
    back = SpeakerStats.load(path)
    assert back.speakers == stats.speakers and back.config == FeatureConfig().resolved()
    for name in ("lf0_mean", "lf0_std", "mcep_mean", "mcep_std", "num_frames", "num_voiced"):
        np.testing.assert_array_equal(getattr(back, name), getattr(stats, name))
    assert back.mcep_mean.dtype == np.float64 and back.num_frames.dtype == np.int64
    assert back.index("spk_a") == 1
    with pytest.raises(KeyError, match="spk_b, spk_a"):
        back.index("nobody")


def test_speaker_without_voiced_frames_is_an_error():
    items = _random_utts()
    silent = Features(np.zeros(50), np.zeros((50, 36)), np.zeros((50, 1)))
    with pytest.raises(StatsError, match="mute: no voiced frames in 2 utterance"):
        SpeakerStats.from_features(items + [("mute", silent), ("mute", silent)], FeatureConfig())
    with pytest.raises(StatsError, match="ghost: no frames"):
        SpeakerStats.from_features(items, FeatureConfig(), speakers=["spk_a", "ghost"])


def test_stats_from_files_streams_and_checks_settings(tmp_path):
    items = _random_utts()
    paths, utt2spk = {}, {}
    for k, (spk, feats) in enumerate(items):
        paths[f"u{k}"] = tmp_path / f"u{k}.npz"
        utt2spk[f"u{k}"] = spk
        save_features(paths[f"u{k}"], feats, FeatureConfig())
    from_files = stats_from_files(paths, utt2spk, progress=False)
    direct = SpeakerStats.from_features(items, FeatureConfig())
    np.testing.assert_allclose(from_files.mcep_std, direct.mcep_std, rtol=1e-6)  # float32 on disk
    save_features(paths["u0"], items[0][1], FeatureConfig(frame_period=10.0))
    with pytest.raises(StatsError, match="settings differ"):
        stats_from_files(paths, utt2spk, progress=False)
