"""The StarGAN v2 model bundle ``exp/<name>/``.

The files every image bundle has (:mod:`vc.image.bundle`): ``config.yaml`` (the resolved
:class:`~vc.stargan_v2.config.StarGANv2Config`, ``model: stargan_v2``), ``attributes.json``
(the data's label space, which the judges are trained on), ``checkpoints/``, ``logs/``,
``samples/`` and ``eval_classifier/``; plus ``domains.json``, the ordered domain names (the
heads of F, E and D). Translation uses the EMA copies of G, F and E stored in each checkpoint.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn

from vc.config import ConfigError, save_config, to_dict
from vc.fileio import atomic_write_text
from vc.gan import CheckpointError, CheckpointManager, load_checkpoint
from vc.gan.checkpoint import restore_networks
from vc.image.bundle import (ATTRIBUTES, CHECKPOINTS, CONFIG, changed_keys, read_config, read_space, require_files,
                             write_space)
from vc.image.domain_data import DomainSet
from vc.image.labels import LabelSpace
from vc.stargan_v2.config import MODEL, StarGANv2Config
from vc.stargan_v2.task import build_networks
from vc.stargan_v2.translate import StyleTranslator

log = logging.getLogger(__name__)

DOMAINS = "domains.json"


def write_bundle_meta(exp: str | os.PathLike, cfg: StarGANv2Config, train_set: DomainSet, resume: bool) -> None:
    """Record config, label space and domains; a resumed run must match what the bundle holds."""
    exp = Path(exp)
    if resume and (exp / CONFIG).is_file():
        diff = changed_keys(exp, MODEL, to_dict(cfg))
        if diff:
            raise ConfigError(f"{exp / CONFIG}: resuming with a different config ({', '.join(diff)}); "
                              "use the bundle's config or train into a new folder")
    if (exp / DOMAINS).is_file():
        old = json.loads((exp / DOMAINS).read_text(encoding="utf-8"))
        if old != list(train_set.names):
            raise ConfigError(f"{exp / DOMAINS}: the data's domains {list(train_set.names)} differ from {old}")
    save_config(cfg, exp / CONFIG)
    write_space(exp, train_set.dataset.space)
    atomic_write_text(exp / DOMAINS, json.dumps(list(train_set.names)) + "\n")


@dataclass
class StarGANv2Bundle:
    """A trained StarGAN v2 (EMA networks in eval mode, no gradients)."""

    path: Path
    cfg: StarGANv2Config
    space: LabelSpace
    domains: tuple[str, ...]
    nets: dict[str, nn.Module]
    step: int
    device: torch.device

    def translator(self, batch_size: int = 32) -> StyleTranslator:
        return StyleTranslator(self.nets["G"], self.nets["F"], self.nets["E"], self.domains,
                               self.cfg.net.latent_dim, self.device, batch_size)


def load_bundle(exp: str | os.PathLike, device: str | torch.device = "cpu",
                checkpoint: str | os.PathLike | None = None, ema: bool = True) -> StarGANv2Bundle:
    """Load ``exp/`` (newest checkpoint unless ``checkpoint``); G, F, E from their EMA copies
    unless ``ema=False``."""
    exp = require_files(exp, (CONFIG, ATTRIBUTES, DOMAINS), "a StarGAN v2 bundle")
    cfg = read_config(exp, MODEL)
    space = read_space(exp)
    domains = tuple(json.loads((exp / DOMAINS).read_text(encoding="utf-8")))
    path = Path(checkpoint) if checkpoint else CheckpointManager(exp / CHECKPOINTS).latest()
    if path is None:
        raise CheckpointError(f"{exp / CHECKPOINTS}: no checkpoint; train the model first (vc-img-train)")
    device = torch.device(device)
    state = load_checkpoint(path, map_location=device)
    nets = build_networks(cfg, len(domains))
    for name, net in nets.items():  # sampling uses the EMA copies of G, F and E; D has none
        section = "ema" if ema and name != "D" else "nets"
        restore_networks(state, {name: net}, path, section=section, device=device)
        net.requires_grad_(False)
    log.info("loaded %s (step %s)", path, state.get("step"))
    return StarGANv2Bundle(exp, cfg, space, domains, nets, int(state.get("step", 0)), device)
