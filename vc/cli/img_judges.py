"""vc-img-judges: train the evaluation judges of an image config before (or while) its model trains.

The judges are classifiers trained on real images only; they need the config and the data, never
the model. vc-img-evaluate trains them on first use, after training, on an idle machine; run here
on a second core during training instead, they cost no wall-clock time (egs/fonts_v2 does this).
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Mapping, Sequence

from vc.cli.common import add_override_option, add_verbose_option, run_command
from vc.cli.img_common import epilog, resolve_device
from vc.config import parse_overrides
from vc.registry import IMAGE, load_model_config

log = logging.getLogger("vc-img-judges")

EPILOG = """\
The judges go to EXP/eval_classifier/, where vc-img-evaluate looks for them (and trains them itself
when they are missing). They are trained with the config's evaluation section, seed and
trainer.cpu_threads, on the training split of data.root; give the same -o overrides as to
vc-img-train so that both see the same data and seed. An interrupted run resumes; finished judges
are left as they are; judges trained with other evaluation settings are an error (delete them).
Every image model's config works (its 'model:' names it); the judges read the data's attributes.

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
        epilog=epilog(EPILOG), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="the model's training config (any image model)")
    p.add_argument("--exp", required=True, help="the model bundle folder (the judges go to EXP/eval_classifier)")
    add_override_option(p, example="data.root=data/fonts", old=("--override",))
    p.add_argument("--device", help="auto | cpu | cuda[:N] (default: the config's device)")
    add_verbose_option(p)
    return p


def train_judges(config: str, exp: str | Path, overrides: Mapping[str, object] | None = None,
                 device: str | None = None) -> Path:
    """Train the judges of ``config`` (with dotted ``overrides``) into ``exp``/eval_classifier;
    returns that folder."""
    from vc.image.classifier import CLASSIFIER_DIR, is_trained, train_classifier
    from vc.image.datasets import build_dataset

    _, cfg = load_model_config(config, IMAGE, overrides)
    out = Path(exp) / CLASSIFIER_DIR
    if is_trained(out, cfg.evaluation):
        log.info("the judges in %s are trained", out)
        return out
    train_set = build_dataset(cfg.data, "train")
    train_classifier(out, train_set, cfg.evaluation, device=resolve_device(device or cfg.device, "--device" if device else "device"),
                     seed=cfg.seed, cpu_threads=cfg.trainer.cpu_threads)
    log.info("judges trained in %s", out)
    return out


def _run(args: argparse.Namespace) -> None:
    train_judges(args.config, args.exp, parse_overrides(args.overrides), args.device)


def main(argv: Sequence[str] | None = None) -> None:
    run_command(build_parser(), _run, argv)


if __name__ == "__main__":
    main()
