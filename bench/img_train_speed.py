"""Training speed of the image GANs (StarGAN, StarGAN v2) on the CPU: steps/s, eager vs options.

The penalty that keeps the discriminator smooth (WGAN-GP for StarGAN, R1 for StarGAN v2) needs a
double backward, about a third of a StarGAN D step on the font recipe. The ``lazyK`` variants
compute it on every K-th step only, weighted by K (``loss.gp_every`` / ``loss.reg_every``, the
lazy regularisation of StyleGAN2). Every variant runs in its own process through the real
``vc.gan.Trainer`` step on a font set rendered here at the config's image size, and is reported
against the eager step measured in the same run. What a variant does to the *results* is not
measured here: see docs/experiments/image_configs.md.

usage:
  python bench/img_train_speed.py                                          # the StarGAN font recipe
  python bench/img_train_speed.py --config egs/fonts_v2/conf/stargan_v2.yaml --steps 40
  python bench/img_train_speed.py --variants eager,lazy4 --threads 1
  python bench/img_train_speed.py --config egs/fonts_v2/conf/stargan_v2.yaml --variants eager,no_handoff,loop_adam
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from variants import print_ratios, run_variants, time_trainer, variant_names

ROOT = Path(__file__).resolve().parents[1]
#: name -> lazy regularisation interval (1: the penalty on every step)
VARIANTS: dict[str, int] = {"eager": 1, "lazy2": 2, "lazy4": 4, "lazy8": 8, "lazy16": 16,
                            "no_handoff": 1,  # G made again in the G phase (bench/variants.py)
                            "loop_adam": 1, "fused_adam": 1}  # trainer.adam_impl single / fused (eager: foreach)
ADAM_VARIANTS = {"loop_adam": "single", "fused_adam": "fused"}


#: model -> the config field that spaces out its penalty (StarGAN: WGAN-GP; v2: R1)
LAZY_KEYS = {"stargan": "loss.gp_every", "stargan_v2": "loss.reg_every"}


def lazy_key(config: str) -> str:
    """The config field that spaces out the penalty of the model ``config`` names."""
    from vc.config import read_yaml
    from vc.registry import IMAGE, model_name

    return LAZY_KEYS[model_name(read_yaml(config), IMAGE, config)]


def load(config: str, overrides: dict):
    """(config, task class) for an image model's config file (its model by ``vc.registry``)."""
    from vc.registry import IMAGE, load_model_config

    entry, cfg = load_model_config(config, IMAGE, overrides)
    return cfg, entry.resolve("task")


def worker(args: argparse.Namespace) -> None:
    """Time ``args.steps`` training steps after ``args.warmup``; print one JSON line."""
    from vc.gan import Trainer

    overrides = {"data.root": args.data, "trainer.max_steps": args.warmup + args.steps, "trainer.sample_every": 0}
    if args.threads >= 0:
        overrides["trainer.cpu_threads"] = args.threads
    overrides[lazy_key(args.config)] = VARIANTS[args.variant]
    if args.variant in ADAM_VARIANTS:
        overrides["trainer.adam_impl"] = ADAM_VARIANTS[args.variant]
    cfg, task_class = load(args.config, overrides)
    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(task_class(cfg), cfg.trainer, out, device="cpu", seed=cfg.seed, progress=False)
        record = time_trainer(trainer, args.variant, args.warmup, args.steps)
    print(json.dumps(record))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=str(ROOT / "egs/fonts/conf/train.yaml"),
                   help="StarGAN or StarGAN v2 training config (default: the font recipe's StarGAN)")
    p.add_argument("--steps", type=int, default=200, help="timed steps per variant (a multiple of every K)")
    p.add_argument("--warmup", type=int, default=16, help="untimed steps first (allocator, first penalty)")
    p.add_argument("--threads", type=int, default=-1,
                   help="torch threads per run (0: every core; default: the config's trainer.cpu_threads)")
    p.add_argument("--variants", default="eager,lazy2,lazy4,lazy8",
                   help=f"comma list of {', '.join(VARIANTS)}")
    p.add_argument("--out", help="also write the results as JSON here")
    p.add_argument("--worker", dest="variant", help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    args = p.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.variant:
        worker(args)
        return
    names = variant_names(p, args.variants, list(VARIANTS))
    from vc.image.fonts import FontRenderConfig, render_font_set

    cfg, _ = load(args.config, {})  # validate before rendering or spawning workers
    with tempfile.TemporaryDirectory() as tmp:
        render_font_set(tmp, FontRenderConfig(image_size=cfg.data.image_size))
        worker_args = ["--config", args.config, "--data", tmp, "--steps", str(args.steps),
                       "--warmup", str(args.warmup), "--threads", str(args.threads)]
        results = run_variants(__file__, names, worker_args)
    params = results[0]["params"] if results else "?"
    print_ratios(results, f"config {args.config}, {cfg.data.image_size} px, batch {cfg.data.batch_size}, "
                 f"{params} parameters, {os.cpu_count()} CPUs", args.out)


if __name__ == "__main__":
    main()
