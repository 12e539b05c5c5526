"""StarGAN-VC's model bundle: resolving the config for training, loading G (and D, C) to convert.

The files and their checks are every voice model's (:mod:`vc.voice.bundle`); this module adds
what is StarGAN-VC's: the architecture's sizes taken from the statistics, the networks built
from ``net:`` and restored from a checkpoint, and conversion through G with a speaker code.
"""
from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn as nn

from vc.config import ConfigError, from_dict, to_dict
from vc.features import SpeakerStats
from vc.gan.checkpoint import restore_networks
from vc.stargan_vc.config import StarGANVCConfig
from vc.stargan_vc.networks import build_stargan_vc, convert_segments, generator_conditioning, speaker_code
from vc.voice.bundle import (CHECKPOINTS, CONFIG, SPEAKERS, STATS, BundleError, VoiceBundle, feature_config,
                             load_bundle_config, load_speakers_and_stats, load_state, read_speakers, write_bundle)
from vc.voice.data import denormalize_mcep, normalize_mcep

__all__ = ["CHECKPOINTS", "CONFIG", "SPEAKERS", "STATS", "BundleError", "StarGANVCBundle", "convert_mcep",
           "feature_config", "load_bundle", "load_generator", "load_networks", "read_speakers", "resolve_config",
           "write_bundle"]

log = logging.getLogger(__name__)


def resolve_config(cfg: StarGANVCConfig, stats: SpeakerStats) -> StarGANVCConfig:
    """Fill in what the statistics decide: speakers count, MCEP order, analysis settings."""
    resolved = from_dict(StarGANVCConfig, to_dict(cfg))
    sizes = {"num_speakers": len(stats.speakers), "mcep_dim": int(stats.mcep_mean.shape[1])}
    for name, value in sizes.items():
        given = getattr(resolved.net, name)
        if given is not None and given != value:
            raise ConfigError(f"net.{name} is {given} in the config but the statistics have {value}; "
                              "leave it unset (it is taken from the statistics)")
    resolved.net = dataclasses.replace(resolved.net, **sizes)  # checked again with the sizes known
    resolved.features = to_dict(stats.config.resolved())
    return resolved


def _load_config(bundle_dir: str | os.PathLike) -> StarGANVCConfig:
    entry, cfg = load_bundle_config(bundle_dir)
    if not isinstance(cfg, StarGANVCConfig):
        raise BundleError(f"{Path(bundle_dir) / CONFIG}: holds a {entry.name} model, not stargan_vc")
    if not cfg.net.resolved:
        raise BundleError(f"{Path(bundle_dir) / CONFIG}: not a resolved config (no net.num_speakers/mcep_dim)")
    return cfg


def load_networks(bundle_dir: str | os.PathLike, names: Sequence[str] = ("G",), device: str | torch.device = "cpu",
                  checkpoint: str | os.PathLike | None = None) -> tuple[dict[str, nn.Module], StarGANVCConfig]:
    """Networks ``names`` (any of G, D, C) from the newest (or the given) checkpoint, in eval mode."""
    nets, cfg, _, _ = _load_networks(bundle_dir, names, device, checkpoint)
    return nets, cfg


def _load_networks(bundle_dir: str | os.PathLike, names: Sequence[str], device: str | torch.device,
                   checkpoint: str | os.PathLike | None
                   ) -> tuple[dict[str, nn.Module], StarGANVCConfig, Path, int | None]:
    bundle = Path(bundle_dir)
    cfg = _load_config(bundle)
    path, state = load_state(bundle, checkpoint)
    built = build_stargan_vc(cfg.net)
    unknown = [n for n in names if n not in built]
    if unknown:
        raise ValueError(f"unknown network {unknown[0]!r}; choose from {', '.join(built)}")
    nets = restore_networks(state, {name: built[name] for name in names}, path, device=device)
    log.info("loaded %s from %s (step %s)", ", ".join(names), path, state.get("step"))
    return nets, cfg, path, state.get("step")


def load_generator(bundle_dir: str | os.PathLike, device: str | torch.device = "cpu",
                   checkpoint: str | os.PathLike | None = None
                   ) -> tuple[nn.Module, list[str], StarGANVCConfig, SpeakerStats]:
    """``(G, speakers, config, stats)`` for conversion; G is in eval mode on ``device``.

    ``config.features`` (see ``feature_config``) holds the analysis settings; ``stats.speakers``
    equals ``speakers``.
    """
    nets, cfg = load_networks(bundle_dir, ("G",), device, checkpoint)
    speakers, stats = load_speakers_and_stats(bundle_dir, cfg.net.num_speakers)
    return nets["G"], speakers, cfg, stats


class StarGANVCBundle(VoiceBundle):
    """A StarGAN-VC bundle loaded for conversion: G (and C, D when asked for) and its settings."""

    config: StarGANVCConfig

    def convert_mcep(self, mcep: np.ndarray, source: int, target: int, *,
                     source_stats: tuple[np.ndarray, np.ndarray] | None = None,
                     voiced: np.ndarray | None = None) -> np.ndarray:
        return convert_mcep(self.generator, mcep, source, target, self.stats, source_stats, voiced)

    def convert_segments(self, x: torch.Tensor, source: torch.Tensor, target: torch.Tensor,
                         voiced: torch.Tensor) -> torch.Tensor:
        return convert_segments(self.generator, x, source, target, voiced, len(self.speakers))

    def prepare_for_inference(self, dtype: torch.dtype) -> None:
        from vc.convert.inference import prepare_for_inference

        self.nets["G"] = prepare_for_inference(self.generator, len(self.speakers), int(self.config.net.mcep_dim),
                                               dtype=dtype)


def load_bundle(bundle_dir: str | os.PathLike, device: str | torch.device = "cpu", *,
                nets: Sequence[str] = ("G",), checkpoint: str | os.PathLike | None = None) -> StarGANVCBundle:
    """The bundle's networks ``nets`` (G by default; C too to assess) in eval mode on ``device``,
    with its speakers, statistics and feature settings (the registry's ``load_bundle``)."""
    bundle = Path(bundle_dir)
    loaded, cfg, path, step = _load_networks(bundle, nets, device, checkpoint)
    speakers, stats = load_speakers_and_stats(bundle, cfg.net.num_speakers)
    features = feature_config(cfg)
    if cfg.net.mcep_dim != features.mcep_dim:
        raise BundleError(f"{bundle / CONFIG}: the generator models {cfg.net.mcep_dim} coefficients but the "
                          f"features have mcep_dim={features.mcep_dim}")
    return StarGANVCBundle(bundle, cfg.model, cfg, speakers, stats, features, loaded, path, step)


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
