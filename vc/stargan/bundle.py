"""The StarGAN model bundle ``exp/<name>/``: what a translation or an evaluation needs.

The files every image bundle has (:mod:`vc.image.bundle`): ``config.yaml`` (the resolved
:class:`~vc.stargan.config.StarGANConfig`, ``model: stargan``), ``attributes.json`` (the label
space G and D were built for), ``checkpoints/`` (G, D, their EMA where kept, optimizers),
``logs/train.csv``, ``samples/`` and ``eval_classifier/``.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from vc.config import ConfigError, save_config, to_dict
from vc.gan import CheckpointError, CheckpointManager, load_checkpoint
from vc.gan.checkpoint import restore_networks
from vc.image.bundle import (ATTRIBUTES, CHECKPOINTS, CONFIG, changed_keys, read_config, read_space, refuse_changes,
                             require_files, write_space)
from vc.image.labels import LabelSpace
from vc.stargan.config import MODEL, StarGANConfig
from vc.stargan.networks import Discriminator, Generator
from vc.stargan.task import build_discriminator, build_generator

log = logging.getLogger(__name__)

# What the checkpoints' weights depend on: a resumed run may change anything else (more steps,
# another learning rate, a moved data folder), but not these.
FIXED_ON_RESUME = ("model", "net", "data.layout", "data.attributes", "data.exclusive_groups", "data.image_size",
                   "data.channels", "data.crop_size")


def write_bundle_meta(exp: str | os.PathLike, cfg: StarGANConfig, space: LabelSpace, resume: bool) -> None:
    """Record config and label space; a resumed run must keep what the weights depend on."""
    exp = Path(exp)
    if (exp / CONFIG).is_file() and resume:
        diff = refuse_changes(exp, changed_keys(exp, MODEL, to_dict(cfg)), FIXED_ON_RESUME)
        if diff:
            log.info("resuming with changed settings: %s", ", ".join(diff))
    if (exp / ATTRIBUTES).is_file():
        old_space = read_space(exp)
        if old_space != space:
            raise ConfigError(f"{exp / ATTRIBUTES}: the data's attributes {list(space.names)} differ from "
                              f"the bundle's {list(old_space.names)}")
    save_config(cfg, exp / CONFIG)
    write_space(exp, space)


@dataclass
class StarGANBundle:
    """A trained StarGAN, ready to translate (networks in eval mode, no gradients)."""

    path: Path
    cfg: StarGANConfig
    space: LabelSpace
    G: Generator
    D: Discriminator
    step: int
    device: torch.device
    g_is_ema: bool = False  # G holds the run's EMA weights (optim.ema_beta > 0), not the trained ones


def load_bundle(exp: str | os.PathLike, device: str | torch.device = "cpu",
                checkpoint: str | os.PathLike | None = None, ema: bool = True) -> StarGANBundle:
    """Load ``exp/<name>/`` (the newest checkpoint unless ``checkpoint`` names one). G is the EMA
    copy when the run kept one (``optim.ema_beta``), unless ``ema=False``."""
    exp = require_files(exp, (CONFIG, ATTRIBUTES), "an image model bundle")
    cfg = read_config(exp, MODEL)
    space = read_space(exp)
    path = Path(checkpoint) if checkpoint else CheckpointManager(exp / CHECKPOINTS).latest()
    if path is None:
        raise CheckpointError(f"{exp / CHECKPOINTS}: no checkpoint; train the model first (vc-img-train)")
    device = torch.device(device)
    state = load_checkpoint(path, map_location=device)
    g_section = "ema" if ema and "G" in state.get("ema", {}) else "nets"
    G = restore_networks(state, {"G": build_generator(cfg, space)}, path, section=g_section,
                         device=device)["G"].requires_grad_(False)
    D = restore_networks(state, {"D": build_discriminator(cfg, space)}, path,
                         device=device)["D"].requires_grad_(False)
    log.info("loaded %s (step %s, G from %s)", path, state.get("step"),
             "its EMA" if g_section == "ema" else "the trained weights")
    return StarGANBundle(exp, cfg, space, G, D, int(state.get("step", 0)), device, g_section == "ema")
