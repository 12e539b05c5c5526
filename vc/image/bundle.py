"""The image model bundle ``exp/<name>/``: what a translation or an evaluation needs.

Mirrors the voice bundle (see ``docs/formats.md``): ``config.yaml`` (the resolved
:class:`~vc.image.config.ImageTrainConfig`), ``attributes.json`` (the label space: ordered
attribute names, exclusive groups, single-label flag; the analogue of ``speakers.json``),
``checkpoints/`` written by the shared trainer, ``logs/train.csv`` and ``samples/``.
The evaluation classifier lives in ``eval_classifier/`` inside the bundle.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from vc.config import ConfigError, load_config, save_config, to_dict
from vc.fileio import atomic_write_text
from vc.gan import CheckpointError, CheckpointManager, load_checkpoint
from vc.gan.checkpoint import restore_networks
from vc.image.config import ImageTrainConfig
from vc.image.labels import LabelSpace
from vc.image.stargan import Discriminator, Generator
from vc.image.task import build_discriminator, build_generator

log = logging.getLogger(__name__)

CONFIG = "config.yaml"
ATTRIBUTES = "attributes.json"
CHECKPOINTS = "checkpoints"


# What the checkpoints' weights depend on: a resumed run may change anything else (more steps,
# another learning rate, a moved data folder), but not these.
FIXED_ON_RESUME = ("model", "data.layout", "data.attributes", "data.exclusive_groups", "data.image_size",
                   "data.channels", "data.crop_size")


def write_bundle_meta(exp: str | os.PathLike, cfg: ImageTrainConfig, space: LabelSpace, resume: bool) -> None:
    """Record config and label space; a resumed run must keep what the weights depend on."""
    exp = Path(exp)
    if (exp / CONFIG).is_file() and resume:
        diff = _diff_keys(to_dict(load_config(ImageTrainConfig, exp / CONFIG)), to_dict(cfg))
        fixed = [k for k in diff if any(k == f or k.startswith(f + ".") for f in FIXED_ON_RESUME)]
        if fixed:
            raise ConfigError(f"{exp / CONFIG}: resuming with different {', '.join(fixed)}; the checkpoints were "
                              "made for the bundle's settings: use them, or train into a new folder")
        if diff:
            log.info("resuming with changed settings: %s", ", ".join(diff))
    if (exp / ATTRIBUTES).is_file():
        old_space = LabelSpace.from_dict(json.loads((exp / ATTRIBUTES).read_text(encoding="utf-8")))
        if old_space != space:
            raise ConfigError(f"{exp / ATTRIBUTES}: the data's attributes {list(space.names)} differ from "
                              f"the bundle's {list(old_space.names)}")
    save_config(cfg, exp / CONFIG)
    atomic_write_text(exp / ATTRIBUTES, json.dumps(space.to_dict(), indent=1) + "\n")


def _diff_keys(a: object, b: object, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for k in sorted(set(a) | set(b)):
            out += _diff_keys(a.get(k), b.get(k), f"{prefix}{k}.")
        return out
    return [] if a == b else [prefix.rstrip(".")]


@dataclass
class ImageBundle:
    """A trained StarGAN, ready to translate (networks in eval mode, no gradients)."""

    path: Path
    cfg: ImageTrainConfig
    space: LabelSpace
    G: Generator
    D: Discriminator
    step: int
    device: torch.device
    g_is_ema: bool = False  # G holds the run's EMA weights (optim.ema_beta > 0), not the trained ones


def load_bundle(exp: str | os.PathLike, device: str | torch.device = "cpu",
                checkpoint: str | os.PathLike | None = None, ema: bool = True) -> ImageBundle:
    """Load ``exp/<name>/`` (the newest checkpoint unless ``checkpoint`` names one). G is the EMA
    copy when the run kept one (``optim.ema_beta``), unless ``ema=False``."""
    exp = Path(exp)
    for name in (CONFIG, ATTRIBUTES):
        if not (exp / name).is_file():
            raise FileNotFoundError(f"{exp}: not an image model bundle (no {name})")
    cfg = load_config(ImageTrainConfig, exp / CONFIG)
    space = LabelSpace.from_dict(json.loads((exp / ATTRIBUTES).read_text(encoding="utf-8")))
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
    return ImageBundle(exp, cfg, space, G, D, int(state.get("step", 0)), device, g_section == "ema")
