"""StarGAN v2 behind the ``vc-img-train`` / ``vc-img-translate`` / ``vc-img-evaluate`` front ends.

The front ends hand over to this module when the config (training) or the bundle (translation,
evaluation) says ``model: stargan_v2``, so users keep three commands for both models. Each
function here can also be run directly: ``python -m vc.cli.img_v2 {train,translate,evaluate} ...``.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Sequence

import torch

from vc.config import parse_overrides
from vc.config import ConfigError, load_config
from vc.fileio import atomic_write_text
from vc.gan import CheckpointError, CheckpointManager, NonFiniteLossError, Trainer
from vc.gan.runtime import launched_as_main
from vc.image.bundle import CHECKPOINTS
from vc.image.bundle_v2 import V2Bundle, is_v2_bundle, load_bundle_v2, write_bundle_meta_v2
from vc.image.celeba import LayoutError
from vc.image.classifier import CLASSIFIER_DIR, is_trained, load_classifier, train_classifier
from vc.image.config_v2 import StarGANv2TrainConfig
from vc.image.datasets import DataError
from vc.image.diversity import load_lpips
from vc.image.domain_data import build_domain_set
from vc.image.evaluate_v2 import Judge, evaluate_v2, format_report
from vc.image.grid import save_grid
from vc.image.imageio import IMAGE_SUFFIXES, ImageError, load_tensor
from vc.image.labels import LabelError
from vc.image.task_v2 import StarGANv2Task
from vc.logutil import setup_logging

log = logging.getLogger("vc-img-v2")

ERRORS = (ConfigError, DataError, LayoutError, LabelError, ImageError, CheckpointError, FileExistsError,
          FileNotFoundError, NonFiniteLossError, ValueError)


def bundle_arg(argv: Sequence[str]) -> str | None:
    """The value of ``--exp``/``--model`` in a raw argument list (for dispatching)."""
    for i, a in enumerate(argv):
        for flag in ("--exp", "--model"):
            if a == flag and i + 1 < len(argv):
                return argv[i + 1]
            if a.startswith(flag + "="):
                return a.split("=", 1)[1]
    return None


def resolve_device(spec: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; anything else unchanged."""
    return ("cuda" if torch.cuda.is_available() else "cpu") if spec == "auto" else spec


def limit_cpu_threads(bundle: V2Bundle, device: str) -> None:
    """Use the training config's ``trainer.cpu_threads`` on the CPU: for small nets extra intra-op
    threads on busy cores cost more than they give (the font evaluation ran 50x slower on 2)."""
    threads = bundle.cfg.trainer.cpu_threads
    if device == "cpu" and threads > 0:
        torch.set_num_threads(threads)


def wants_v2(argv: Sequence[str] | None) -> bool:
    """True when the argument list names a StarGAN v2 bundle (``--exp DIR`` / ``--model DIR``)."""
    exp = bundle_arg(list(sys.argv[1:] if argv is None else argv))
    return exp is not None and is_v2_bundle(exp)


# ---------------------------------------------------------------------------- train
def train(args: argparse.Namespace) -> None:
    """Train StarGAN v2 from parsed ``vc-img-train`` arguments (config, exp, override, resume, device,
    no_progress)."""
    exp = Path(args.exp)
    try:
        cfg = load_config(StarGANv2TrainConfig, args.config, parse_overrides(args.override))
        if args.device:
            cfg.device = args.device
        try:
            cfg.trainer.validate()
        except ValueError as exc:
            raise ConfigError(f"trainer: {exc}") from exc
        existing = CheckpointManager(exp / CHECKPOINTS).latest()
        if existing is not None and not args.resume:
            raise FileExistsError(f"{exp} already holds checkpoints ({existing.name}); pass --resume to continue "
                                  "that run, or choose another --exp")
        train_set = build_domain_set(cfg, "train")
        if launched_as_main():  # under torchrun only the main process writes the bundle
            write_bundle_meta_v2(exp, cfg, train_set, resume=args.resume)
        trainer = Trainer(StarGANv2Task(cfg, train_set), cfg.trainer, exp, device=cfg.device, seed=cfg.seed,
                          progress=not getattr(args, "no_progress", False))
        try:
            result = trainer.fit(resume=args.resume)
        finally:
            trainer.close()
    except ERRORS as exc:
        log.error("%s", exc)
        sys.exit(1)
    log.info("finished at step %d; newest checkpoint %s", result.step, result.checkpoint)


def build_train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vc-img-train (stargan_v2)",
                                description="Train StarGAN v2 (G with AdaIN styles, mapping network, style "
                                "encoder, multi-head D) with the shared GAN trainer.",
                                epilog="example:\n  vc-img-train --config conf/stargan_v2.yaml --exp exp/fonts_v2",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="StarGAN v2 config YAML (model: stargan_v2)")
    p.add_argument("--exp", required=True, help="output model bundle folder")
    p.add_argument("-o", "--override", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field, e.g. -o trainer.max_steps=500 (repeatable)")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in EXP")
    p.add_argument("--device", help="auto | cpu | cuda[:N] (default: the config's device)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (losses still go to logs/train.csv)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


# ---------------------------------------------------------------------------- translate
TRANSLATE_EPILOG = """\
grids:
  --latent: one row per input; the input, then NUM columns per target domain, each column one
            random style (the same latent code for every row).
  --ref:    a header row of the references, then per input row: the input and its translation
            into each reference's domain and style.

examples:
  vc-img-translate --exp exp/fonts_v2 --input a.png b.png --latent --domain Serif --num 8 --out latent.png
  vc-img-translate --exp exp/fonts_v2 --input a.png b.png --latent --num 4 --out all_domains.png
  vc-img-translate --exp exp/afhq --input cat1.jpg --ref dog1.jpg wild2.jpg --ref-domain dog,wild --out ref.png
"""


def build_translate_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vc-img-translate (stargan_v2)",
        description="Translate images with a StarGAN v2 bundle: N diverse outputs per input from random "
        "styles of a domain (--latent), or the style of reference images (--ref); writes the paper's grids.",
        epilog=TRANSLATE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exp", "--model", dest="exp", required=True, help="StarGAN v2 model bundle (exp/<name>)")
    p.add_argument("--input", nargs="+", required=True, help="input images, or folders of images")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--latent", action="store_true", help="latent-guided: random styles of the target domain(s)")
    mode.add_argument("--ref", nargs="+", metavar="REF", help="reference-guided: the style of these images")
    p.add_argument("--domain", help="--latent: target domain(s), comma-separated (default: every domain)")
    p.add_argument("--num", type=int, default=5, help="--latent: outputs per input and domain (default 5)")
    p.add_argument("--ref-domain", help="--ref: the references' domain(s), one for all or one per reference; "
                   "default: the name of each reference's folder if it is a domain, else the bundle's classifier")
    p.add_argument("--seed", type=int, default=0, help="--latent: seed of the latent codes")
    p.add_argument("--out", required=True, help="output grid image (PNG); never one of the inputs")
    p.add_argument("--no-ema", action="store_true", help="use the trained weights instead of their EMA")
    p.add_argument("--checkpoint", help="a specific checkpoint (default: the newest)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] (auto: a GPU when there is one)")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def _expand(paths: Sequence[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise ImageError(f"{p}: no images ({', '.join(IMAGE_SUFFIXES)})")
            out += found
        elif p.is_file():
            out.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such image or folder")
    return out


def _load(bundle: V2Bundle, paths: Sequence[Path]) -> torch.Tensor:
    d = bundle.cfg.data
    return torch.stack([load_tensor(p, d.channels, d.crop_size, d.image_size) for p in paths])


def ref_domains(bundle: V2Bundle, refs: Sequence[Path], images: torch.Tensor, spec: str | None) -> torch.Tensor:
    """Domain index of each reference: given, from its folder's name, or read by the classifier."""
    tr = bundle.translator()
    if spec:
        names = [s.strip() for s in spec.split(",")]
        if len(names) == 1:
            names *= len(refs)
        if len(names) != len(refs):
            raise ValueError(f"--ref-domain names {len(names)} domains for {len(refs)} references")
        return torch.tensor([tr.domain_index(n) for n in names])
    if all(p.parent.name in bundle.domains for p in refs):
        return torch.tensor([bundle.domains.index(p.parent.name) for p in refs])
    cdir = bundle.path / CLASSIFIER_DIR
    if not (cdir / "classifier.json").is_file():
        raise ValueError("cannot tell the references' domains: pass --ref-domain (or train the bundle's "
                         "classifier with vc-img-evaluate)")
    judge = Judge(load_classifier(cdir, bundle.space, judges=bundle.cfg.evaluation.judges), bundle.space,
                  bundle.domains)
    dom, _ = judge.read(images)
    log.info("reference domains read by the classifier: %s", [bundle.domains[int(k)] for k in dom])
    return dom


def translate(argv: Sequence[str] | None = None) -> None:
    args = build_translate_parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        inputs = _expand(args.input)
        out = Path(args.out).resolve()
        refs_paths = _expand(args.ref) if args.ref else []
        if out in {p.resolve() for p in inputs + refs_paths}:
            raise ValueError(f"--out {args.out} is one of the inputs; it would be overwritten")
        if args.num < 1:
            raise ValueError("--num must be >= 1")
        args.device = resolve_device(args.device)
        bundle = load_bundle_v2(args.exp, args.device, args.checkpoint, ema=not args.no_ema)
        limit_cpu_threads(bundle, args.device)
        tr = bundle.translator()
        x = _load(bundle, inputs)
        if args.latent:
            names = [s.strip() for s in args.domain.split(",")] if args.domain else list(bundle.domains)
            titles, cols = tr.latent_columns(x, [tr.domain_index(n) for n in names], args.num, args.seed)
        else:
            refs = _load(bundle, refs_paths)
            titles, cols = tr.reference_columns(x, refs, ref_domains(bundle, refs_paths, refs, args.ref_domain))
        save_grid(out, cols, titles)
    except ERRORS as exc:
        log.error("%s", exc)
        sys.exit(1)
    log.info("wrote %s (%d inputs x %d columns)", out, len(inputs), len(cols))


# ---------------------------------------------------------------------------- evaluate
def build_evaluate_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vc-img-evaluate (stargan_v2)",
        description="Score a StarGAN v2 bundle on held-out images: domain accuracy of latent- and "
        "reference-guided outputs (by a classifier trained on real images, trained first if missing), "
        "diversity (mean pairwise L1; LPIPS when installed with local weights) and, where the data has "
        "attributes besides the domains, whether a reference's attributes are transferred.",
        epilog="example:\n  vc-img-evaluate --exp exp/fonts_v2 --limit 200",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exp", "--model", dest="exp", required=True, help="StarGAN v2 model bundle")
    p.add_argument("--data", help="root of the evaluation data (default: the config's data.root)")
    p.add_argument("--limit", type=int, help="held-out inputs to use (default: diversity.limit of the config)")
    p.add_argument("--out", help="scores JSON (default: EXP/eval/scores_v2.json)")
    p.add_argument("--no-ema", action="store_true", help="score the trained G, F and E instead of their EMA")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] (auto: a GPU when there is one)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def evaluate(argv: Sequence[str] | None = None) -> None:
    args = build_evaluate_parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        args.device = resolve_device(args.device)
        bundle = load_bundle_v2(args.exp, args.device, ema=not args.no_ema)
        limit_cpu_threads(bundle, args.device)
        cfg = bundle.cfg
        test_set = build_domain_set(cfg, "test", root=args.data)
        cdir = bundle.path / CLASSIFIER_DIR
        if not is_trained(cdir, cfg.evaluation):
            log.info("training the evaluation classifier on real training images (%s)", cdir)
            train_set = build_domain_set(cfg, "train", root=args.data)
            train_classifier(cdir, train_set.dataset, cfg.evaluation, device=args.device, seed=cfg.seed)
        judge = Judge(load_classifier(cdir, bundle.space, args.device, judges=cfg.evaluation.judges), bundle.space,
                      bundle.domains)
        dcfg = cfg.diversity
        if args.limit is not None:
            dcfg.limit = args.limit
        lp, why = load_lpips(device=args.device) if dcfg.lpips else (None, "disabled (diversity.lpips: false)")
        result = evaluate_v2(bundle.translator(), judge, test_set, dcfg, lpips=lp, lpips_reason=why, seed=args.seed)
        result["step"] = bundle.step
        out = Path(args.out) if args.out else bundle.path / "eval" / "scores_v2.json"
        atomic_write_text(out, json.dumps(result, indent=1) + "\n")
    except ERRORS as exc:
        log.error("%s", exc)
        sys.exit(1)
    print(format_report(result))
    log.info("scores written to %s", out)


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"translate": translate, "evaluate": evaluate}
    if argv and argv[0] == "train":
        args = build_train_parser().parse_args(argv[1:])
        setup_logging(args.verbose)
        train(args)
    elif argv and argv[0] in commands:
        commands[argv[0]](argv[1:])
    else:
        print("usage: python -m vc.cli.img_v2 {train,translate,evaluate} [options] (see --help of each)",
              file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
