"""vc-img-translate: change attributes of images with a trained StarGAN bundle, or draw grids."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import torch

from vc.cli import img_v2
from vc.gan import CheckpointError
from vc.image.bundle import load_bundle
from vc.image.celeba import LayoutError
from vc.image.datasets import DataError, build_dataset
from vc.image.imageio import ImageError, save_image
from vc.image.labels import LabelError
from vc.image.translate import Translator
from vc.logutil import setup_logging

log = logging.getLogger("vc-img-translate")

EPILOG = """\
attributes not named in --set keep the source's value, read by D's classifier head (or given
with --src-attrs); setting one member of an exclusive group (a hair colour, a font family)
to 1 clears the others.

examples:
  vc-img-translate --model exp/celeba --src me.jpg --set "Blond_Hair=1,Male=0" --out me_blond.png
  vc-img-translate --model exp/celeba --src me.jpg --set Young=0 --src-attrs "Male=1" --out me_old.png
  vc-img-translate --model exp/celeba --src a.jpg b.jpg --set Blond_Hair=1 --out outdir/
  vc-img-translate --model exp/fonts --grid --data data/fonts --num 8 --out grid.png
  vc-img-translate --model exp/fonts --grid --src a.png b.png --out grid.png

grid mode writes StarGAN's Figure 4 layout: one row per image; columns = input, each single
attribute (a group member set / a binary attribute flipped), then the combined edits
(e.g. H+G, H+A, G+A, H+G+A); a header row names the columns (--no-titles drops it).
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vc-img-translate",
        description="Translate images to new attributes with a trained StarGAN model bundle "
        "(exp/<name>), one edit for given files or a Figure-4 grid of several edits.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="model bundle folder written by vc-img-train")
    p.add_argument("--src", nargs="+", help="source image file(s)")
    p.add_argument("--set", dest="assignment", help='attributes to change, e.g. "Blond_Hair=1,Male=0"')
    p.add_argument("--src-attrs", help='source attributes to use instead of D\'s prediction, e.g. "Male=1,Young=1"')
    p.add_argument("--out", required=True, help="output image (a folder when several --src are given)")
    p.add_argument("--grid", action="store_true", help="write a Figure-4 grid instead of one edit")
    p.add_argument("--data", help="grid mode: take --num held-out images (evenly spread over the split) of "
                   "this data folder (same layout as the training data); their labels come from the data")
    p.add_argument("--split", choices=("test", "train"), default="test", help="grid mode with --data (default: test)")
    p.add_argument("--num", type=int, default=8, help="grid mode with --data: number of rows (default: 8)")
    p.add_argument("--max-combos", type=int, default=11, help="at most this many combined-edit columns (default: 11)")
    p.add_argument("--no-titles", action="store_true", help="grid without the header row")
    p.add_argument("--checkpoint", help="a checkpoint file of the bundle (default: the newest)")
    p.add_argument("--no-ema", action="store_true",
                   help="use the trained G, not its EMA copy (runs with optim.ema_beta > 0)")
    p.add_argument("--device", default="cpu", help="cpu | cuda[:N] (default: cpu)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def _check_out(out: Path, sources: list[str]) -> None:
    for src in sources:
        if out.resolve() == Path(src).resolve():
            raise ValueError(f"--out {out} is the source image {src}; refusing to overwrite an input")


def _run(args: argparse.Namespace) -> None:
    translator = Translator(load_bundle(args.model, args.device, args.checkpoint, ema=not args.no_ema))
    out = Path(args.out)
    if args.grid:
        if bool(args.data) == bool(args.src):
            raise ValueError("grid mode needs exactly one of --data or --src")
        if args.data:
            data = build_dataset(translator.bundle.cfg.data, args.split, root=args.data, augment=False)
            idx = data.spread(args.num)
            x = torch.stack([data.image(i) for i in idx])
            labels = data.labels[idx]
        else:
            _check_out(out, args.src)
            x = translator.load_many(args.src)
            labels = translator.source_labels(x, args.src_attrs)
        img = translator.grid(x, labels, args.max_combos, titles=not args.no_titles)
        save_image(img, out)
        log.info("wrote %s (%d rows x %d columns)", out, x.shape[0], img.width // x.shape[-1])
        return
    if not args.src or not args.assignment:
        raise ValueError("an edit needs --src and --set (or use --grid)")
    _check_out(out, args.src)
    x = translator.load_many(args.src)
    y, source, target = translator.edit(x, args.assignment, args.src_attrs)
    many = len(args.src) > 1
    if many and out.suffix:
        raise ValueError(f"--out {out} must be a folder when several --src images are given")
    for i, src in enumerate(args.src):
        dest = out / (Path(src).stem + ".png") if many else out
        _check_out(dest, args.src)
        save_image(y[i], dest)
        log.info("%s [%s] -> %s [%s]", src, translator.space.describe(source[i]), dest,
                 translator.space.describe(target[i]))


def main(argv: list[str] | None = None) -> None:
    if img_v2.wants_v2(argv):  # a StarGAN v2 bundle: vc/cli/img_v2.py
        img_v2.translate(argv)
        return
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        _run(args)
    except (CheckpointError, DataError, LayoutError, LabelError, ImageError, FileNotFoundError, ValueError) as exc:
        log.error("%s", exc)
        sys.exit(1)


if __name__ == "__main__":
    main()
