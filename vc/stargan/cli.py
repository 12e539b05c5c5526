"""StarGAN's part of the ``vc-img-translate`` and ``vc-img-evaluate`` front ends: its options
(:func:`add_cli_options`, an argument group of each command) and what the commands run for a
StarGAN bundle (:func:`translate`, :func:`evaluate`). Only argparse is imported up front, so that
``--help`` stays fast.
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

log = logging.getLogger("vc.stargan")

GRID_ROWS = 8  # --grid --data: rows when --num is not given


def add_cli_options(group: argparse._ArgumentGroup, command: str) -> None:
    """StarGAN's own options of ``command`` (``translate`` or ``evaluate``)."""
    if command != "translate":
        return
    group.add_argument("--edit", metavar="ATTR=0|1,...",
                       help='attributes to change, e.g. "Blond_Hair=1,Male=0" (an edit of every --src image)')
    group.add_argument("--src-attrs", metavar="ATTR=0|1,...",
                       help="source attributes to use instead of D's reading, e.g. \"Male=1,Young=1\"")
    group.add_argument("--grid", action="store_true", help="write a Figure-4 grid instead of one edit")
    group.add_argument("--data", help="--grid: take --num held-out images (evenly spread over the split) of this "
                       "data folder (laid out as the training data); their labels come from the data")
    group.add_argument("--split", choices=("test", "train"), default="test",
                       help="--grid --data: the split to take the images from (default: test)")
    group.add_argument("--max-combos", type=int, default=11,
                       help="--grid: at most this many combined-edit columns (default: 11)")
    group.add_argument("--no-titles", action="store_true", help="--grid: no header row")


def translate(args: argparse.Namespace) -> None:
    """``vc-img-translate`` for a StarGAN bundle: one edit of ``--src`` images, or a Figure-4 grid."""
    import torch

    from vc.cli.img_common import OptionError, check_out, resolve_device
    from vc.image.datasets import build_dataset
    from vc.image.imageio import image_files, save_image
    from vc.stargan.bundle import load_bundle
    from vc.stargan.translate import Translator

    out = Path(args.out)
    sources = image_files(args.src) if args.src else []
    check_out(out, sources)
    if args.grid:
        if bool(args.data) == bool(sources):
            raise OptionError("--grid needs exactly one of --data or --src")
    elif not sources or not args.edit:
        raise OptionError("an edit needs --src and --edit (or use --grid)")
    translator = Translator(load_bundle(args.model, resolve_device(args.device), args.checkpoint,
                                        ema=not args.no_ema))
    if args.grid:
        if args.data:
            data = build_dataset(translator.bundle.cfg.data, args.split, root=args.data, augment=False)
            idx = data.spread(args.num or GRID_ROWS)
            x = torch.stack([data.image(i) for i in idx])
            labels = data.labels[idx]
        else:
            x = translator.load_many(sources)
            labels = translator.source_labels(x, args.src_attrs)
        img = translator.grid(x, labels, args.max_combos, titles=not args.no_titles)
        save_image(img, out)
        log.info("wrote %s (%d rows x %d columns)", out, x.shape[0], img.width // x.shape[-1])
        return
    many = len(sources) > 1
    if many and out.suffix:
        raise OptionError(f"--out {out} must be a folder when several --src images are given")
    x = translator.load_many(sources)
    y, source, target = translator.edit(x, args.edit, args.src_attrs)
    for i, src in enumerate(sources):
        dest = out / (src.stem + ".png") if many else out
        check_out(dest, sources)
        save_image(y[i], dest)
        log.info("%s [%s] -> %s [%s]", src, translator.space.describe(source[i]), dest,
                 translator.space.describe(target[i]))


def evaluate(args: argparse.Namespace) -> dict:
    """``vc-img-evaluate`` for a StarGAN bundle: attribute accuracy (and L1/PSNR to the ground
    truth where the data has it) beside the identity baseline; writes ``--out`` (default
    ``MODEL/eval.json``)."""
    from vc.cli.img_common import resolve_device
    from vc.evaluate.results import environment
    from vc.fileio import atomic_write_text
    from vc.stargan.evaluate import evaluate_bundle, format_table

    result = evaluate_bundle(args.model, args.data, device=resolve_device(args.device), limit=args.limit or 0,
                             ema=not args.no_ema)
    out = Path(args.out) if args.out else Path(args.model) / "eval.json"
    atomic_write_text(out, json.dumps({**result, "environment": environment()}, indent=1) + "\n")
    print(format_table(result))
    log.info("wrote %s", out)
    return result
