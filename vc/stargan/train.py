"""One StarGAN training run from a config, what ``vc-img-train`` runs for ``model: stargan``
(usable from Python).

The data are read (and checked) before anything is written, so a bad data folder leaves the
bundle untouched; a bundle that already holds checkpoints is only continued with ``resume``;
only the main process (rank 0 under ``torchrun``) writes the bundle files.
"""
from __future__ import annotations

import os
from pathlib import Path

from vc.fileio import folder_lock
from vc.gan import TrainResult
from vc.gan.runtime import launched_as_main
from vc.image.bundle import check_new_run, fit
from vc.image.datasets import build_dataset
from vc.stargan.bundle import write_bundle_meta
from vc.stargan.config import StarGANConfig
from vc.stargan.task import StarGANTask


def train(cfg: StarGANConfig, exp: str | os.PathLike, *, resume: bool = False, until: int | None = None,
          progress: bool = True) -> TrainResult:
    """Write the bundle files into ``exp`` and train (or continue training) StarGAN there."""
    exp = Path(exp)
    with folder_lock(exp, "vc-img-train", enabled=launched_as_main()):  # one writer per bundle
        existing = check_new_run(exp, resume)
        train_set = build_dataset(cfg.data, "train")
        if launched_as_main():
            write_bundle_meta(exp, cfg, train_set.space, resume=resume and existing is not None)
        return fit(StarGANTask(cfg, train_set), cfg, exp, resume=resume, until=until, progress=progress)
