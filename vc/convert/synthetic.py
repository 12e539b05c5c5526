"""A model bundle with random weights and real statistics, for benchmarks and tests.

Conversion speed depends on the network's size, not on what it learned, and the conversion
chain's plumbing (statistics, lengths, file handling) can be checked without a trained model.
Such a bundle has exactly the layout vc-train writes (it is written with the trainer's own
``write_bundle`` and checkpoint manager), so everything that loads it takes the real code path.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from vc.features import FeatureConfig, SpeakerStats, analyze

#: A StarGAN-VC ``net:`` section whose generator is small enough for tests to build and run in
#: milliseconds (any mcep_dim).
TINY_NET: dict[str, Any] = {"generator": [
    {"channels": 8, "kernel": [3, 9], "stride": [1, 1]},
    {"channels": 16, "kernel": [4, 8], "stride": [2, 2]},
    {"channels": 4, "kernel": [None, 5], "stride": [None, 1]},
]}

#: A whole StarGAN-VC ``net:`` section (G, D and C) small enough for tests and benchmarks to train
#: in seconds on a CPU.
TINY_TRAIN_NET: dict[str, Any] = {
    "generator": [
        {"channels": 8, "kernel": [3, 9], "stride": [1, 1]},
        {"channels": 16, "kernel": [4, 8], "stride": [2, 2]},
        {"channels": 16, "kernel": [4, 8], "stride": [2, 2]},
        {"channels": 4, "kernel": [None, 5], "stride": [None, 1]},
    ],
    "discriminator": [
        {"channels": 8, "kernel": [3, 9], "stride": [1, 1]},
        {"channels": 8, "kernel": [3, 8], "stride": [1, 2]},
        {"channels": 1, "kernel": [None, 5], "stride": [None, 1]},
    ],
    "classifier": [
        {"channels": 8, "kernel": [4, 4], "stride": [2, 2]},
        {"channels": 8, "kernel": [4, 4], "stride": [2, 2]},
        {"channels": 0, "kernel": [None, 4], "stride": [None, 2]},
    ],
}


def speaker_waves(f0_by_speaker: Mapping[str, float], sample_rate: int, *, utts: int = 2, duration: float = 0.8,
                  seed: int = 0) -> dict[str, list[np.ndarray]]:
    """Speech-like utterances per speaker (``vc.features.testsignal``), each speaker at its own pitch.

    Utterances vary in length, vowels and pitch (+-10 %) so that the statistics have spread.
    """
    from vc.features.testsignal import speech_like

    vowels = ("aiu", "eau", "iue", "uai")
    out: dict[str, list[np.ndarray]] = {}
    for k, (spk, f0) in enumerate(f0_by_speaker.items()):
        out[spk] = [speech_like(duration * (1.0 - 0.2 * (u % 2)), sample_rate, f0 * (1.0 + 0.1 * (u % 3 - 1)),
                                vowels=vowels[u % len(vowels)], seed=seed + 100 * k + u)[0]
                    for u in range(utts)]
    return out


def write_data_dir(waves: Mapping[str, Sequence[np.ndarray]], sample_rate: int, wav_dir: str | os.PathLike,
                   data_dir: str | os.PathLike, utt: str = "{spk}_u{i}") -> Path:
    """Write ``speaker -> waves`` as WAV files under ``wav_dir`` and a Kaldi data dir listing them
    at ``data_dir`` (utterance ids from the ``utt`` format, with ``spk`` and ``i``)."""
    import soundfile as sf

    from vc.data import DataDir

    wav_scp, utt2spk = {}, {}
    Path(wav_dir).mkdir(parents=True, exist_ok=True)
    for spk, ws in waves.items():
        for i, w in enumerate(ws):
            name = utt.format(spk=spk, i=i)
            path = Path(wav_dir) / f"{name}.wav"
            sf.write(str(path), w, sample_rate)
            wav_scp[name], utt2spk[name] = str(path), spk
    DataDir(wav_scp, utt2spk).save(data_dir)
    return Path(data_dir)


def random_bundle(exp_dir: str | os.PathLike, waves: Mapping[str, Sequence[np.ndarray]], features: FeatureConfig,
                  *, net: Mapping[str, Any] | None = None, seed: int = 0) -> Path:
    """Write ``exp_dir`` from per-speaker waves (at ``features.sample_rate``); returns its path.

    The model is StarGAN-VC. The statistics are computed from the waves as vc-stats would; ``net``
    overrides the architecture (``StarGANVCNetConfig`` fields, e.g. smaller layer lists for fast
    tests); the default is the default size. G's weights are PyTorch's seeded initialisation.
    """
    import torch

    from vc.config import from_dict
    from vc.gan.checkpoint import CheckpointManager
    from vc.stargan_vc.bundle import CHECKPOINTS, STATS, resolve_config, write_bundle
    from vc.stargan_vc.config import StarGANVCConfig
    from vc.stargan_vc.networks import build_stargan_vc

    exp = Path(exp_dir)
    if exp.exists() and any(exp.iterdir()):
        raise FileExistsError(f"{exp}: not empty; refusing to write a random-weight bundle over it")
    cfg = features.resolved()
    items = [(spk, analyze(w, cfg, spk)) for spk, ws in waves.items() for w in ws]
    stats = SpeakerStats.from_features(items, cfg, list(waves))
    exp.mkdir(parents=True, exist_ok=True)
    stats.save(exp / STATS)
    train_cfg = resolve_config(from_dict(StarGANVCConfig, {"net": dict(net or {}), "seed": seed}), stats)
    write_bundle(exp, train_cfg, exp / STATS, stats)
    torch.manual_seed(seed)
    nets = build_stargan_vc(train_cfg.net)
    CheckpointManager(exp / CHECKPOINTS).save(0, {"nets": {"G": nets["G"].state_dict()}, "step": 0})
    return exp
