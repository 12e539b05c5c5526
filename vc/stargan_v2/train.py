"""One StarGAN v2 training run from a config, what ``vc-img-train`` runs for ``model: stargan_v2``
(usable from Python); the same rules as :mod:`vc.stargan.train`."""
from __future__ import annotations

import os
from pathlib import Path

from vc.fileio import folder_lock
from vc.gan import TrainResult
from vc.gan.runtime import launched_as_main
from vc.image.bundle import check_new_run, fit
from vc.image.domain_data import build_domain_set
from vc.stargan_v2.bundle import write_bundle_meta
from vc.stargan_v2.config import StarGANv2Config
from vc.stargan_v2.task import StarGANv2Task


def train(cfg: StarGANv2Config, exp: str | os.PathLike, *, resume: bool = False, until: int | None = None,
          progress: bool = True) -> TrainResult:
    """Write the bundle files into ``exp`` and train (or continue training) StarGAN v2 there."""
    exp = Path(exp)
    with folder_lock(exp, "vc-img-train", enabled=launched_as_main()):  # one writer per bundle
        check_new_run(exp, resume)
        train_set = build_domain_set(cfg, "train")
        if launched_as_main():
            write_bundle_meta(exp, cfg, train_set, resume=resume)
        return fit(StarGANv2Task(cfg, train_set), cfg, exp, resume=resume, until=until, progress=progress)
