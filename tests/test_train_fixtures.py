"""Synthetic feature dumps for the training tests (docs/formats.md layout), and a check of them.

Each speaker mixes a smooth "phonetic" trajectory (same distribution for everyone) into the MCEP
through its own random matrix, and has its own offset and pitch. Per-speaker mean/variance
normalisation removes the offsets, but the speaker-specific correlations between coefficients
survive it, so a classifier can still tell the speakers apart, as with real voices.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from vc.data import write_scp
from vc.convert.synthetic import TINY_TRAIN_NET
from vc.features import FeatureConfig, Features, SpeakerStats, load_features, read_feats_scp, save_features

TINY_NET = TINY_TRAIN_NET


def tiny_config(**sections) -> dict:
    """A config dict with tiny networks and a short schedule for tests."""
    cfg = {
        "net": dict(TINY_NET),
        "data": {"segment_frames": 32, "batch_size": 4},
        "trainer": {"max_steps": 4, "log_every": 1, "checkpoint_every": 2, "keep_checkpoints": 3, "cpu_threads": 1,
                     "sample_every": 0},
        "validation": {"num_utterances": 1, "max_segments": 8},
    }
    for key, value in sections.items():
        cfg[key] = {**cfg.get(key, {}), **value}
    return cfg


def make_dump(root: str | Path, speakers=("spkA", "spkB", "spkC"), utts_per_speaker: int = 4, mcep_dim: int = 24,
              lengths=(20, 60, 90, 130), seed: int = 0, sample_rate: int = 16000,
              aperiodicity: bool = True) -> tuple[Path, Path]:
    """Write ``root/<utt>.npz``, ``feats.scp``, ``utt2spk`` and ``stats.npz``; return (dump, stats path).

    ``aperiodicity=False``: bap with no bands, as ``vc-extract --no-aperiodicity`` writes."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    cfg = FeatureConfig(sample_rate=sample_rate, mcep_dim=mcep_dim).resolved()
    bands = (1 if sample_rate < 22050 else 3) if aperiodicity else 0  # pyworld: one band per 3 kHz above 3 kHz
    scp, utt2spk, items = {}, {}, []
    decay = 1.0 / (1.0 + np.arange(mcep_dim))
    latent = 6
    for si, spk in enumerate(speakers):
        offset = rng.normal(0, 0.6, mcep_dim) * decay
        offset[0] = -4.0 + 0.5 * si
        mix = rng.normal(0, 1.0, (latent, mcep_dim)) * decay
        pitch = 100.0 + 60.0 * si
        for ui in range(utts_per_speaker):
            n = lengths[ui % len(lengths)]
            walk = np.cumsum(rng.normal(0, 0.3, (n, latent)), axis=0)
            content = np.tanh(walk - walk.mean(axis=0)) @ mix
            mcep = offset + content + rng.normal(0, 0.02, (n, mcep_dim)) * decay
            f0 = np.where(np.arange(n) % 10 < 7, pitch * np.exp(rng.normal(0, 0.05, n)), 0.0)
            bap = np.full((n, bands), -20.0) + rng.normal(0, 1.0, (n, bands))
            feats = Features(f0=f0, mcep=mcep, bap=bap)
            utt = f"{spk}_{ui:03d}"
            save_features(root / f"{utt}.npz", feats, cfg)
            scp[utt] = f"{utt}.npz"
            utt2spk[utt] = spk
            items.append((spk, feats))
    write_scp(root / "feats.scp", scp)
    write_scp(root / "utt2spk", utt2spk)
    stats = SpeakerStats.from_features(items, cfg, list(speakers))
    stats.save(root / "stats.npz")
    return root, root / "stats.npz"


def test_fixture_dump_is_readable(tmp_path):
    dump, stats_path = make_dump(tmp_path, utts_per_speaker=2)
    feats = read_feats_scp(dump)
    assert len(feats) == 6
    f, cfg = load_features(next(iter(feats.values())))
    assert f.mcep.shape[1] == cfg.mcep_dim == 24
    stats = SpeakerStats.load(stats_path)
    assert stats.speakers == ["spkA", "spkB", "spkC"]
