"""The model bundle ``exp/<name>/`` (docs/formats.md): writing it for training, loading it to convert.

A bundle is self-sufficient: the resolved ``config.yaml`` (architecture, feature settings),
``speakers.json`` (index = one-hot position), a copy of ``stats.npz`` and ``checkpoints/``. Loading
uses ``torch.load(weights_only=True)`` only.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn as nn

from vc.config import ConfigError, from_dict, load_config, save_config, to_dict
from vc.features import FeatureConfig, SpeakerStats
from vc.fileio import atomic_write_bytes, atomic_write_text
from vc.gan.checkpoint import CheckpointError, CheckpointManager, load_checkpoint, restore_networks
from vc.models.stargan_vc import build_stargan_vc, generator_conditioning, speaker_code
from vc.train.config import TrainConfig
from vc.train.data import denormalize_mcep, normalize_mcep
from vc.errors import VCError

log = logging.getLogger(__name__)

CONFIG = "config.yaml"
SPEAKERS = "speakers.json"
STATS = "stats.npz"
CHECKPOINTS = "checkpoints"


class BundleError(VCError, ValueError):
    """A model bundle is missing a file or is inconsistent; the message names the path."""


def resolve_config(cfg: TrainConfig, stats: SpeakerStats) -> TrainConfig:
    """Fill in what the statistics decide: speakers count, MCEP order, analysis settings."""
    resolved = from_dict(TrainConfig, to_dict(cfg))
    for name, value in (("num_speakers", len(stats.speakers)), ("mcep_dim", int(stats.mcep_mean.shape[1]))):
        given = getattr(resolved.model, name)
        if given is not None and given != value:
            raise ConfigError(f"model.{name} is {given} in the config but the statistics have {value}; "
                              "leave it unset (it is taken from the statistics)")
        setattr(resolved.model, name, value)
    resolved.features = to_dict(stats.config.resolved())
    resolved.model.check()
    return resolved


def write_bundle(exp_dir: str | os.PathLike, cfg: TrainConfig, stats_path: str | os.PathLike,
                 stats: SpeakerStats) -> None:
    """Write config, speakers and statistics; on an existing bundle check that they still agree.

    A resumed run may change the schedule (e.g. more steps) but not the speakers, statistics,
    features or architecture its checkpoints were made with.
    """
    exp = Path(exp_dir)
    stats_bytes = Path(stats_path).read_bytes()
    if (exp / CONFIG).is_file():
        old = load_bundle_config(exp)
        if to_dict(old.model) != to_dict(cfg.model) or old.features != cfg.features:
            raise BundleError(f"{exp / CONFIG}: the model or feature settings differ from this run's; "
                              "use a new --exp for a different architecture or data")
        if (exp / SPEAKERS).is_file() and read_speakers(exp) != list(stats.speakers):
            raise BundleError(f"{exp / SPEAKERS}: speakers differ from {stats_path}")
        if (exp / STATS).is_file() and (exp / STATS).read_bytes() != stats_bytes:
            raise BundleError(f"{exp / STATS}: differs from {stats_path}; the checkpoints were trained with "
                              "other normalisation statistics")
    exp.mkdir(parents=True, exist_ok=True)
    save_config(cfg, exp / CONFIG)
    atomic_write_text(exp / SPEAKERS, json.dumps(list(stats.speakers), ensure_ascii=False, indent=1) + "\n")
    atomic_write_bytes(exp / STATS, stats_bytes)


def load_bundle_config(bundle_dir: str | os.PathLike) -> TrainConfig:
    path = Path(bundle_dir) / CONFIG
    if not path.is_file():
        raise BundleError(f"{path}: missing; {bundle_dir} is not a model bundle written by vc-train")
    cfg = load_config(TrainConfig, path)
    if cfg.model.num_speakers is None or cfg.features is None:
        raise BundleError(f"{path}: not a resolved config (no num_speakers/features)")
    return cfg


def read_speakers(bundle_dir: str | os.PathLike) -> list[str]:
    path = Path(bundle_dir) / SPEAKERS
    try:
        speakers = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(f"{path}: missing") from None
    except json.JSONDecodeError as e:
        raise BundleError(f"{path}: not valid JSON ({e})") from e
    if not isinstance(speakers, list) or not all(isinstance(s, str) for s in speakers):
        raise BundleError(f"{path}: must be a JSON list of speaker ids")
    return speakers


def feature_config(cfg: TrainConfig) -> FeatureConfig:
    """The analysis settings the model was trained on (conversion must use the same)."""
    return from_dict(FeatureConfig, cfg.features or {})


def load_networks(bundle_dir: str | os.PathLike, names: Sequence[str] = ("G",), device: str | torch.device = "cpu",
                  checkpoint: str | os.PathLike | None = None) -> tuple[dict[str, nn.Module], TrainConfig]:
    """Networks ``names`` (any of G, D, C) from the newest (or the given) checkpoint, in eval mode."""
    bundle = Path(bundle_dir)
    cfg = load_bundle_config(bundle)
    path = Path(checkpoint) if checkpoint is not None else CheckpointManager(bundle / CHECKPOINTS).latest()
    if path is None:
        raise BundleError(f"{bundle / CHECKPOINTS}: no checkpoint (training has not saved one yet)")
    state = load_checkpoint(path, map_location="cpu")
    if "nets" not in state:
        raise CheckpointError(f"{path}: no 'nets' entry; not a vc-train checkpoint")
    built = build_stargan_vc(cfg.model)
    unknown = [n for n in names if n not in built]
    if unknown:
        raise ValueError(f"unknown network {unknown[0]!r}; choose from {', '.join(built)}")
    nets = restore_networks(state, {name: built[name] for name in names}, path, device=device)
    log.info("loaded %s from %s (step %s)", ", ".join(names), path, state.get("step"))
    return nets, cfg


def load_generator(bundle_dir: str | os.PathLike, device: str | torch.device = "cpu",
                   checkpoint: str | os.PathLike | None = None
                   ) -> tuple[nn.Module, list[str], TrainConfig, SpeakerStats]:
    """``(G, speakers, config, stats)`` for conversion; G is in eval mode on ``device``.

    ``config.features`` (see ``feature_config``) holds the analysis settings; ``stats.speakers``
    equals ``speakers``.
    """
    bundle = Path(bundle_dir)
    nets, cfg = load_networks(bundle, ("G",), device, checkpoint)
    speakers = read_speakers(bundle)
    stats = SpeakerStats.load(bundle / STATS)
    if list(stats.speakers) != speakers or len(speakers) != cfg.model.num_speakers:
        raise BundleError(f"{bundle}: {SPEAKERS}, {STATS} and {CONFIG} disagree on the speakers")
    return nets["G"], speakers, cfg, stats


@torch.no_grad()
def convert_mcep(generator: nn.Module, mcep: np.ndarray, source: int, target: int, stats: SpeakerStats,
                 source_stats: tuple[np.ndarray, np.ndarray] | None = None,
                 voiced: np.ndarray | None = None) -> np.ndarray:
    """Convert one utterance's MCEP ``(T, Q)`` from speaker index ``source`` to ``target``.

    Normalises with the source speaker's statistics (or ``source_stats = (mean, std)`` for a
    speaker the model has not seen), runs G with the conversion's speaker code (the target's
    one-hot, or the (source, target) pair under source-target conditioning, where an unseen
    source gets a uniform source half; and the frames' voicing ``(T,)``, which a
    voicing-conditioned G needs) over the whole utterance (any length), and de-normalises with
    the target speaker's statistics.
    """
    if source_stats is not None:
        mean, std = source_stats
        x = ((mcep - mean) / np.maximum(std, 1e-8)).astype(np.float32)
    else:
        x = normalize_mcep(mcep, stats, source)
    device = next(generator.parameters()).device
    src = None if source_stats is not None else torch.tensor([source], device=device)
    code = speaker_code(generator_conditioning(generator), src, torch.tensor([target], device=device),
                        len(stats.speakers))
    v = None if voiced is None else torch.as_tensor(np.asarray(voiced), dtype=torch.float32, device=device)[None]
    y = generator(torch.from_numpy(x.T.copy()).unsqueeze(0).to(device), code, v)
    return denormalize_mcep(y[0].float().cpu().numpy().T, stats, target)
