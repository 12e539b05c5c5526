"""vc-img-train: train StarGAN (Choi et al. 2018) on an image set with the shared GAN trainer."""
from __future__ import annotations

import argparse
import logging
import sys

from vc.cli import img_v2
from vc.config import parse_overrides
from vc.config import ConfigError, load_config
from vc.gan import CheckpointError, NonFiniteLossError
from vc.image.celeba import LayoutError
from vc.image.config import ImageTrainConfig
from vc.image.config_v2 import config_model
from vc.image.datasets import DataError
from vc.image.imageio import ImageError
from vc.image.labels import LabelError
from vc.image.train import train
from vc.logutil import setup_logging

log = logging.getLogger("vc-img-train")

EPILOG = """\
the model bundle EXP/ (see vc/image/bundle.py):
  config.yaml        the resolved config (every default filled in)
  attributes.json    attribute names, exclusive groups, single-label flag
  checkpoints/       step_<N>.pt + latest (G, D, optimizers, RNG: exact resume)
  logs/train.csv     loss terms every trainer.log_every steps
  samples/step_<N>/grid.png   Figure-4 grids of held-out images

examples:
  vc-img-train --config conf/train.yaml --exp exp/fonts
  vc-img-train --config conf/train.yaml --exp exp/fonts --resume          # continue a stopped run
  vc-img-train --config conf/train.yaml --exp exp/celeba -o data.root=data/celeba -o optim.batch_size=8
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vc-img-train",
        description="Train a StarGAN image translator (G with tiled target labels, PatchGAN D with an "
        "attribute head; WGAN-GP, classification and cycle losses) on a CelebA-layout or "
        "folder-per-domain image set.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="training config YAML (ImageTrainConfig fields); defaults if omitted")
    p.add_argument("--exp", required=True, help="output model bundle folder, e.g. exp/fonts")
    p.add_argument("-o", "--override", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field, e.g. -o trainer.max_steps=500 (repeatable)")
    p.add_argument("--resume", action="store_true",
                   help="continue from the newest checkpoint in EXP (without it, existing checkpoints are an error)")
    p.add_argument("--device", help="auto | cpu | cuda[:N] (default: the config's device)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (losses still go to logs/train.csv)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    if config_model(args.config) == "stargan_v2":  # StarGAN v2 lives in vc/cli/img_v2.py
        img_v2.train(args)
        return
    try:
        cfg = load_config(ImageTrainConfig, args.config, parse_overrides(args.override))
        if args.device:
            cfg.device = args.device
        train(cfg, args.exp, resume=args.resume, progress=not args.no_progress)
    except (ConfigError, DataError, LayoutError, LabelError, ImageError, CheckpointError, FileExistsError,
            NonFiniteLossError) as exc:
        log.error("%s", exc)
        sys.exit(1)


if __name__ == "__main__":
    main()
