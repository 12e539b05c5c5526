"""vc-img-train: train an image translator (StarGAN or StarGAN v2) with the shared GAN trainer.

The config's top-level ``model:`` picks the model through :mod:`vc.registry`; a config written
before ``config_version`` 2 is migrated when read.
"""
from __future__ import annotations

import argparse
from typing import Sequence

from vc.cli.common import add_override_option, add_verbose_option, run_command
from vc.cli.img_common import epilog, resolve_device
from vc.config import parse_overrides
from vc.registry import IMAGE, load_model_config

EPILOG = """\
the model bundle EXP/ (docs/formats.md):
  config.yaml        the resolved config (model, config_version, every default filled in)
  attributes.json    attribute names, exclusive groups, single-label flag
  domains.json       StarGAN v2: the ordered domains
  checkpoints/       step_<N>.pt + latest (networks, EMA, optimizers, RNG: exact resume)
  logs/train.csv     loss terms every trainer.log_every steps
  samples/step_<N>/  StarGAN: Figure-4 grid.png; StarGAN v2: latent.png and reference.png

examples:
  vc-img-train --config conf/train.yaml --exp exp/fonts
  vc-img-train --config conf/train.yaml --exp exp/fonts --resume          # continue a stopped run
  vc-img-train --config conf/train.yaml --exp exp/celeba -o data.root=data/celeba -o data.batch_size=8
  vc-img-train --config conf/stargan_v2.yaml --exp exp/fonts_v2 -o trainer.max_steps=500
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vc-img-train",
        description="Train an image translator on a CelebA-layout or folder-per-domain image set: the "
        "config's 'model:' says which (StarGAN: one G for every attribute edit, PatchGAN D with an "
        "attribute head; StarGAN v2: styles from a mapping network or a reference image).",
        epilog=epilog(EPILOG), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="the model's config YAML (its top-level 'model:' names the model); "
                   "StarGAN's defaults if omitted")
    p.add_argument("--exp", required=True, help="output model bundle folder, e.g. exp/fonts")
    add_override_option(p, example="trainer.max_steps=500", old=("--override",))
    p.add_argument("--resume", action="store_true",
                   help="continue from the newest checkpoint in EXP (without it, existing checkpoints are an error)")
    p.add_argument("--device", help="auto | cpu | cuda[:N] (default: the config's device)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (losses still go to logs/train.csv)")
    add_verbose_option(p)
    return p


def _run(args: argparse.Namespace) -> None:
    overrides = parse_overrides(args.overrides)
    if args.device:
        overrides["device"] = args.device
    entry, cfg = load_model_config(args.config, IMAGE, overrides)
    resolve_device(cfg.device, "--device" if args.device else "device")  # a clear error before any work
    entry.resolve("train")(cfg, args.exp, resume=args.resume, progress=not args.no_progress)


def main(argv: Sequence[str] | None = None) -> None:
    run_command(build_parser(), _run, argv)


if __name__ == "__main__":
    main()
