"""The StarGAN v2 model bundle ``exp/<name>/``.

Same layout as StarGAN's (:mod:`vc.image.bundle`): ``config.yaml`` (a
:class:`~vc.image.config_v2.StarGANv2TrainConfig`, recognisable by ``model: stargan_v2``),
``attributes.json`` (the data's label space, which the evaluation classifier is trained on),
``checkpoints/`` from the shared trainer, ``logs/``, ``samples/`` and ``eval_classifier/``; plus
``domains.json``, the ordered domain names (the heads of F, E and D). Translation uses the EMA
copies of G, F and E stored in each checkpoint.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn

from vc.config import ConfigError, load_config, save_config, to_dict
from vc.fileio import atomic_write_text
from vc.gan import CheckpointError, CheckpointManager, load_checkpoint
from vc.gan.checkpoint import restore_networks
from vc.image.bundle import ATTRIBUTES, CHECKPOINTS, CONFIG, _diff_keys
from vc.image.config_v2 import MODEL_NAME, StarGANv2TrainConfig, config_model
from vc.image.domain_data import DomainSet
from vc.image.labels import LabelSpace
from vc.image.task_v2 import build_networks_v2
from vc.image.translate_v2 import StyleTranslator

log = logging.getLogger(__name__)

DOMAINS = "domains.json"


def is_v2_bundle(exp: str | os.PathLike) -> bool:
    """True when ``exp/config.yaml`` says ``model: stargan_v2``."""
    return config_model(Path(exp) / CONFIG) == MODEL_NAME


def write_bundle_meta_v2(exp: str | os.PathLike, cfg: StarGANv2TrainConfig, train_set: DomainSet,
                         resume: bool) -> None:
    """Record config, label space and domains; a resumed run must match what the bundle holds."""
    exp = Path(exp)
    if resume and (exp / CONFIG).is_file():
        diff = _diff_keys(to_dict(load_config(StarGANv2TrainConfig, exp / CONFIG)), to_dict(cfg))
        if diff:
            raise ConfigError(f"{exp / CONFIG}: resuming with a different config ({', '.join(diff)}); "
                              "use the bundle's config or train into a new folder")
    if (exp / DOMAINS).is_file():
        old = json.loads((exp / DOMAINS).read_text(encoding="utf-8"))
        if old != list(train_set.names):
            raise ConfigError(f"{exp / DOMAINS}: the data's domains {list(train_set.names)} differ from {old}")
    save_config(cfg, exp / CONFIG)
    atomic_write_text(exp / ATTRIBUTES, json.dumps(train_set.dataset.space.to_dict(), indent=1) + "\n")
    atomic_write_text(exp / DOMAINS, json.dumps(list(train_set.names)) + "\n")


@dataclass
class V2Bundle:
    """A trained StarGAN v2 (EMA networks in eval mode, no gradients)."""

    path: Path
    cfg: StarGANv2TrainConfig
    space: LabelSpace
    domains: tuple[str, ...]
    nets: dict[str, nn.Module]
    step: int
    device: torch.device

    def translator(self, batch_size: int = 32) -> StyleTranslator:
        return StyleTranslator(self.nets["G"], self.nets["F"], self.nets["E"], self.domains,
                               self.cfg.net.latent_dim, self.device, batch_size)


def load_bundle_v2(exp: str | os.PathLike, device: str | torch.device = "cpu",
                   checkpoint: str | os.PathLike | None = None, ema: bool = True) -> V2Bundle:
    """Load ``exp/`` (newest checkpoint unless ``checkpoint``); G, F, E from their EMA copies
    unless ``ema=False``."""
    exp = Path(exp)
    for name in (CONFIG, ATTRIBUTES, DOMAINS):
        if not (exp / name).is_file():
            raise FileNotFoundError(f"{exp}: not a StarGAN v2 bundle (no {name})")
    cfg = load_config(StarGANv2TrainConfig, exp / CONFIG)
    space = LabelSpace.from_dict(json.loads((exp / ATTRIBUTES).read_text(encoding="utf-8")))
    domains = tuple(json.loads((exp / DOMAINS).read_text(encoding="utf-8")))
    path = Path(checkpoint) if checkpoint else CheckpointManager(exp / CHECKPOINTS).latest()
    if path is None:
        raise CheckpointError(f"{exp / CHECKPOINTS}: no checkpoint; train the model first (vc-img-train)")
    device = torch.device(device)
    state = load_checkpoint(path, map_location=device)
    nets = build_networks_v2(cfg, len(domains))
    for name, net in nets.items():  # sampling uses the EMA copies of G, F and E; D has none
        section = "ema" if ema and name != "D" else "nets"
        restore_networks(state, {name: net}, path, section=section, device=device)
        net.requires_grad_(False)
    log.info("loaded %s (step %s)", path, state.get("step"))
    return V2Bundle(exp, cfg, space, domains, nets, int(state.get("step", 0)), device)
