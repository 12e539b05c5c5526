"""vc-img-evaluate: attribute accuracy (and ground-truth L1/PSNR) of a StarGAN's translations."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from vc.cli import img_v2
from vc.fileio import atomic_write_text
from vc.gan import CheckpointError
from vc.image.celeba import LayoutError
from vc.image.datasets import DataError
from vc.image.evaluate import evaluate_bundle, format_table
from vc.image.imageio import ImageError
from vc.image.labels import LabelError
from vc.logutil import setup_logging

log = logging.getLogger("vc-img-evaluate")

EPILOG = """\
every held-out image is translated with each edit of a Figure-4 grid (each attribute, then the
combined edits); a classifier trained on the real training images (MODEL/eval_classifier/,
trained by this command when missing) reads the attributes of each translation. Reported per
attribute: accuracy over all translations and, in brackets, over those that changed it. Data
with paired renderings (the font set's list_content.txt) also gets the mean absolute error and
PSNR against the ground-truth image ([0, 1] pixel scale). "identity" is the input unchanged.

examples:
  vc-img-evaluate --model exp/fonts --data data/fonts
  vc-img-evaluate --model exp/celeba --data data/celeba --limit 500 --out exp/celeba/eval.json
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vc-img-evaluate",
        description="Score a StarGAN model bundle on held-out images: attribute accuracy judged by a "
        "separately trained classifier, and L1/PSNR to ground truth where the data has it, "
        "beside the identity baseline. Prints a table and writes JSON.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="model bundle folder written by vc-img-train")
    p.add_argument("--data", required=True, help="data folder in the training layout (its test split is scored)")
    p.add_argument("--out", help="JSON output (default: MODEL/eval.json)")
    p.add_argument("--limit", type=int, default=0, help="score only the first N held-out images (default: all)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] (default: auto)")
    p.add_argument("--no-ema", action="store_true",
                   help="score the trained G, not its EMA copy (runs with optim.ema_beta > 0)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def _run(args: argparse.Namespace) -> dict:
    result = evaluate_bundle(args.model, args.data, device=args.device, limit=args.limit,
                             ema=not args.no_ema)
    out = Path(args.out) if args.out else Path(args.model) / "eval.json"
    atomic_write_text(out, json.dumps(result, indent=1) + "\n")
    print(format_table(result))
    log.info("wrote %s", out)
    return result


def main(argv: list[str] | None = None) -> None:
    if img_v2.wants_v2(argv):  # a StarGAN v2 bundle: vc/cli/img_v2.py
        img_v2.evaluate(argv)
        return
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        _run(args)
    except (CheckpointError, DataError, LayoutError, LabelError, ImageError, FileNotFoundError) as exc:
        log.error("%s", exc)
        sys.exit(1)


if __name__ == "__main__":
    main()
