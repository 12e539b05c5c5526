"""One StarGAN-VC training run from paths and options: the runner ``vc-train`` calls through the
registry (also usable from Python)."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from vc.features import SpeakerStats
from vc.gan import Trainer, TrainResult
from vc.stargan_vc.bundle import resolve_config, write_bundle
from vc.stargan_vc.config import StarGANVCConfig
from vc.stargan_vc.task import StarGANVCTask
from vc.voice.bundle import BundleError
from vc.fileio import folder_lock
from vc.gan.runtime import check_device, launched_as_main

log = logging.getLogger(__name__)


def train(cfg: StarGANVCConfig, feats: str | os.PathLike, stats_path: str | os.PathLike, exp: str | os.PathLike, *,
          dev_feats: str | os.PathLike | None = None, resume: bool = False, device: str | None = None,
          until: int | None = None, progress: bool = True) -> TrainResult:
    """Write the bundle files into ``exp`` and train (or continue training) StarGAN-VC there.

    ``device`` overrides the config's. Only the main process (rank 0 under ``torchrun``) writes
    the bundle files.
    """
    device = device or cfg.device
    check_device(device)
    stats = SpeakerStats.load(stats_path)
    resolved = resolve_config(cfg, stats)
    exp = Path(exp)
    # one writer per bundle: a second run on this --exp would leave a config that misdescribes the weights
    with folder_lock(exp, "vc-train", enabled=launched_as_main()):
        if launched_as_main():
            if not resume and (exp / "checkpoints").is_dir() and any((exp / "checkpoints").glob("step_*.pt")):
                raise BundleError(f"{exp} already holds a trained model; pass --resume to continue it "
                                  "or choose another --exp")
            write_bundle(exp, resolved, stats_path, stats)
        task = StarGANVCTask(resolved, feats, stats, dev_feats, progress=progress)
        trainer = Trainer(task, resolved.trainer, exp, device=device, seed=resolved.seed,
                          progress=progress)
        try:
            result = trainer.fit(resume=resume, until=until)
        finally:
            trainer.close()
    if result.checkpoint is not None:  # only the main process writes (and reports) checkpoints
        log.info("finished at step %d; newest checkpoint %s", result.step, result.checkpoint)
    return result
