"""The voice model bundle ``exp/<name>/`` (docs/formats.md): what every voice model's bundle holds.

A bundle is self-sufficient: the resolved ``config.yaml`` (its top-level ``model`` names the
model, ``config_version`` its layout; the architecture and the feature settings), ``speakers.json``
(index = position in the speaker code), a copy of ``stats.npz`` and ``checkpoints/``. Loading uses
``torch.load(weights_only=True)`` only.

This module writes and reads those files for any voice model; a model's own bundle module (e.g.
:mod:`vc.stargan_vc.bundle`) builds its networks and subclasses :class:`VoiceBundle` with what
converting through them means. Which module that is, the registry says (:func:`load_voice_bundle`).
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from vc.config import ConfigError, from_dict, save_config, to_dict
from vc.errors import VCError
from vc.features import FeatureConfig, SpeakerStats
from vc.fileio import atomic_write_bytes, atomic_write_text

if TYPE_CHECKING:
    import torch
    import torch.nn as nn

    from vc.registry import ModelEntry

log = logging.getLogger(__name__)

CONFIG = "config.yaml"
SPEAKERS = "speakers.json"
STATS = "stats.npz"
CHECKPOINTS = "checkpoints"


class BundleError(VCError, ValueError):
    """A model bundle is missing a file or is inconsistent; the message names the path."""


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


def load_bundle_config(bundle_dir: str | os.PathLike) -> tuple[ModelEntry, Any]:
    """The registry entry of the model a bundle holds and its resolved config object.

    ``config.yaml`` in an older layout is migrated (``vc.registry.bundle_entry``); a config
    without ``features`` was never resolved against training statistics and is refused.
    """
    from vc.registry import VOICE, bundle_entry

    path = Path(bundle_dir) / CONFIG
    if not path.is_file():
        raise BundleError(f"{path}: missing; {bundle_dir} is not a model bundle written by vc-train")
    entry, data = bundle_entry(bundle_dir, VOICE)
    try:
        cfg = from_dict(entry.config_class, data)
    except ConfigError as e:
        raise BundleError(f"{path}: {e}") from e
    if cfg.features is None:
        raise BundleError(f"{path}: not a resolved config (no features)")
    return entry, cfg


def write_bundle(exp_dir: str | os.PathLike, cfg: Any, stats_path: str | os.PathLike, stats: SpeakerStats) -> None:
    """Write config, speakers and statistics; on an existing bundle check that they still agree.

    A resumed run may change the schedule (e.g. more steps) but not the speakers, statistics,
    features or architecture (``net``) its checkpoints were made with.
    """
    exp = Path(exp_dir)
    stats_bytes = Path(stats_path).read_bytes()
    if (exp / CONFIG).is_file():
        entry, old = load_bundle_config(exp)
        if entry.name != cfg.model or to_dict(old.net) != to_dict(cfg.net) or old.features != cfg.features:
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


def feature_config(cfg: Any) -> FeatureConfig:
    """The analysis settings a (resolved) voice config records: conversion must use the same."""
    return from_dict(FeatureConfig, cfg.features or {})


def load_state(bundle_dir: str | os.PathLike, checkpoint: str | os.PathLike | None = None
               ) -> tuple[Path, dict[str, Any]]:
    """``(path, state)`` of the newest (or the given) checkpoint of a bundle; the state holds the
    networks' weights under ``"nets"``."""
    from vc.gan.checkpoint import CheckpointError, CheckpointManager, load_checkpoint

    bundle = Path(bundle_dir)
    path = Path(checkpoint) if checkpoint is not None else CheckpointManager(bundle / CHECKPOINTS).latest()
    if path is None:
        raise BundleError(f"{bundle / CHECKPOINTS}: no checkpoint (training has not saved one yet)")
    state = load_checkpoint(path, map_location="cpu")
    if "nets" not in state:
        raise CheckpointError(f"{path}: no 'nets' entry; not a vc-train checkpoint")
    return path, state


def load_speakers_and_stats(bundle_dir: str | os.PathLike, num_speakers: int | None = None
                            ) -> tuple[list[str], SpeakerStats]:
    """The bundle's speaker list and statistics, checked to agree with each other (and with the
    network's ``num_speakers`` when given)."""
    bundle = Path(bundle_dir)
    speakers = read_speakers(bundle)
    stats = SpeakerStats.load(bundle / STATS)
    if list(stats.speakers) != speakers or (num_speakers is not None and len(speakers) != num_speakers):
        raise BundleError(f"{bundle}: {SPEAKERS}, {STATS} and {CONFIG} disagree on the speakers")
    return speakers, stats


class VoiceBundle:
    """A voice model bundle loaded to convert (and to assess): its networks, in eval mode, and
    everything they were trained with.

    ``nets`` holds the networks asked for (``"G"`` always; ``"C"`` where a model has a speaker
    classifier, for :mod:`vc.voice.assess`); ``features`` the analysis settings; ``stats`` the
    normalisation statistics of ``speakers``. A model's bundle module subclasses it and
    implements the conversion through its networks.
    """

    def __init__(self, path: Path, model: str, config: Any, speakers: list[str], stats: SpeakerStats,
                 features: FeatureConfig, nets: dict[str, nn.Module], checkpoint: Path, step: int | None):
        self.path = path
        self.model = model
        self.config = config
        self.speakers = speakers
        self.stats = stats
        self.features = features
        self.nets = nets
        self.checkpoint = checkpoint
        self.step = step

    @property
    def generator(self) -> nn.Module:
        return self.nets["G"]

    def convert_mcep(self, mcep: np.ndarray, source: int, target: int, *,
                     source_stats: tuple[np.ndarray, np.ndarray] | None = None,
                     voiced: np.ndarray | None = None) -> np.ndarray:
        """One utterance's MCEP ``(T, Q)`` converted from speaker index ``source`` to ``target``
        (``source_stats = (mean, std)`` for a speaker the model has not seen; ``voiced`` ``(T,)``
        the frames' voicing), de-normalised with the target's statistics."""
        raise NotImplementedError

    def convert_segments(self, x: torch.Tensor, source: torch.Tensor, target: torch.Tensor,
                         voiced: torch.Tensor) -> torch.Tensor:
        """Normalised segments ``(B, Q, N)`` of speakers ``source`` converted to ``target`` (``(B,)``)."""
        raise NotImplementedError

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """The speaker classifier's logits for normalised segments (needs ``"C"`` in ``nets``)."""
        if "C" not in self.nets:
            raise BundleError(f"{self.path}: the speaker classifier C was not loaded")
        return self.nets["C"](x)

    def prepare_for_inference(self, dtype: torch.dtype) -> None:
        """Replace G by a copy that computes the same function faster (default: keep it as is)."""


def load_voice_bundle(bundle_dir: str | os.PathLike, device: str | torch.device = "cpu", *,
                      nets: Sequence[str] = ("G",), checkpoint: str | os.PathLike | None = None) -> VoiceBundle:
    """Any voice model's bundle, loaded by its model's loader: the ``load_bundle`` of the registry
    entry its ``config.yaml`` names, called as ``load_bundle(bundle_dir, device, nets=...,
    checkpoint=...)`` and returning a :class:`VoiceBundle`."""
    from vc.registry import VOICE, bundle_entry

    bundle = Path(bundle_dir)
    if not (bundle / CONFIG).is_file():
        raise BundleError(f"{bundle / CONFIG}: missing; {bundle} is not a model bundle written by vc-train")
    entry, _ = bundle_entry(bundle, VOICE)
    return entry.resolve("load_bundle")(bundle, device, nets=nets, checkpoint=checkpoint)
