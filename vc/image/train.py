"""One StarGAN training run from a config: the logic behind ``vc-img-train`` (usable from Python).

The data are read (and checked) before anything is written, so a bad data folder leaves the
bundle untouched; a bundle that already holds checkpoints is only continued with ``resume``.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from vc.config import ConfigError
from vc.gan import CheckpointManager, Trainer, TrainResult
from vc.gan.runtime import launched_as_main
from vc.image.bundle import CHECKPOINTS, write_bundle_meta
from vc.image.config import ImageTrainConfig
from vc.image.datasets import build_dataset
from vc.image.task import StarGANTask

log = logging.getLogger(__name__)


def train(cfg: ImageTrainConfig, exp: str | os.PathLike, *, resume: bool = False, until: int | None = None,
          progress: bool = True) -> TrainResult:
    """Write the bundle files into ``exp`` and train (or continue training) StarGAN there.

    Only the main process (rank 0 under ``torchrun``) writes the bundle files.
    """
    try:
        cfg.trainer.validate()
    except ValueError as exc:
        raise ConfigError(f"trainer: {exc}") from exc
    exp = Path(exp)
    existing = CheckpointManager(exp / CHECKPOINTS).latest()
    if existing is not None and not resume:
        raise FileExistsError(f"{exp} already holds checkpoints ({existing.name}); pass --resume to continue "
                              "that run, or choose another --exp")
    train_set = build_dataset(cfg.data, "train")
    if launched_as_main():
        write_bundle_meta(exp, cfg, train_set.space, resume=resume and existing is not None)
    trainer = Trainer(StarGANTask(cfg, train_set), cfg.trainer, exp, device=cfg.device, seed=cfg.seed,
                      progress=progress)
    try:
        result = trainer.fit(resume=resume, until=until)
    finally:
        trainer.close()
    if result.checkpoint is not None:
        log.info("finished at step %d; newest checkpoint %s", result.step, result.checkpoint)
    return result
