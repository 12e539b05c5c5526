"""vc-img-judges: train the evaluation judges of an image config before (or while) its model trains.

The judges are classifiers trained on real images only; they need the config and the data, never
the model. vc-img-evaluate trains them on first use, after training, on an idle machine; run here
on a second core during training instead, they cost no wall-clock time (egs/fonts_v2 does this).
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from vc.cli.img_v2 import ERRORS
from vc.config import load_config, parse_overrides
from vc.image.classifier import CLASSIFIER_DIR, is_trained, train_classifier
from vc.image.config import ImageTrainConfig
from vc.image.config_v2 import StarGANv2TrainConfig, config_model
from vc.image.datasets import build_dataset
from vc.logutil import setup_logging

log = logging.getLogger("vc-img-judges")

EPILOG = """\
The judges go to EXP/eval_classifier/, where vc-img-evaluate looks for them (and trains them itself
when they are missing). They are trained with the config's evaluation section, seed and
trainer.cpu_threads, on the training split of data.root; give the same -o overrides as to
vc-img-train so that both see the same data and seed. An interrupted run resumes; finished judges
are left as they are; judges trained with other evaluation settings are an error (delete them).

example (the judges on one core, the model on the other):
  vc-img-judges --config conf/stargan_v2.yaml --exp exp/fonts_v2 -o data.root=data/fonts16 &
  vc-img-train  --config conf/stargan_v2.yaml --exp exp/fonts_v2 -o data.root=data/fonts16
  wait
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vc-img-judges",
        description="Train the classifiers that judge an image model's translations (trained on real "
        "images only, so they need no trained model).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="the model's training config (StarGAN or StarGAN v2)")
    p.add_argument("--exp", required=True, help="the model bundle folder (the judges go to EXP/eval_classifier)")
    p.add_argument("-o", "--override", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field as for vc-img-train, e.g. -o data.root=data/fonts (repeatable)")
    p.add_argument("--device", help="auto | cpu | cuda[:N] (default: the config's device)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def train_judges(config: str, exp: str | Path, overrides: list[str], device: str | None = None) -> Path:
    """Train the judges of ``config`` into ``exp``/eval_classifier; returns that folder."""
    cls = StarGANv2TrainConfig if config_model(config) == "stargan_v2" else ImageTrainConfig
    cfg = load_config(cls, config, parse_overrides(overrides))
    out = Path(exp) / CLASSIFIER_DIR
    if is_trained(out, cfg.evaluation):
        log.info("the judges in %s are trained", out)
        return out
    train_set = build_dataset(cfg.data, "train")
    train_classifier(out, train_set, cfg.evaluation, device=device or cfg.device,
                     seed=cfg.seed, cpu_threads=cfg.trainer.cpu_threads)
    log.info("judges trained in %s", out)
    return out


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        train_judges(args.config, args.exp, args.override, args.device)
    except (*ERRORS, RuntimeError) as exc:  # RuntimeError: --device cuda without a GPU
        log.error("%s", exc)
        sys.exit(1)


if __name__ == "__main__":
    main()
