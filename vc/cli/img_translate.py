"""vc-img-translate: translate images with a trained image model bundle (StarGAN or StarGAN v2).

The bundle's ``config.yaml`` names its model (:mod:`vc.registry`); the model's own options are
in an argument group of their own, and options of another model are refused.
"""
from __future__ import annotations

import argparse
from typing import Sequence

from vc.cli.common import run_command
from vc.cli.img_common import OptionError, bundle_model, bundle_parser, finish_bundle_parser

EPILOG = """\
modes:
  stargan     one edit (--src ... --edit ATTR=0|1,...): attributes not named keep the source's value,
              read by D's classifier head (or given with --src-attrs); setting one member of an
              exclusive group (a hair colour, a font family) to 1 clears the others.
              --grid: StarGAN's Figure 4, one row per image (--src, or --num held-out images of
              --data); columns = input, each single attribute, then the combined edits.
  stargan_v2  --latent: one row per input; the input, then --num columns per target domain, each
              column one random style (the same latent code for every row).
              --ref: a header row of the references, then per input row: the input and its
              translation into each reference's domain and style.

The attribute edit is --edit; the old spelling --set is gone (in the other commands -o/--set
KEY=VALUE overrides a config option).

examples:
  vc-img-translate --model exp/celeba --src me.jpg --edit "Blond_Hair=1,Male=0" --out me_blond.png
  vc-img-translate --model exp/celeba --src me.jpg --edit Young=0 --src-attrs "Male=1" --out me_old.png
  vc-img-translate --model exp/celeba --src a.jpg b.jpg --edit Blond_Hair=1 --out outdir/
  vc-img-translate --model exp/fonts --grid --data data/fonts --num 8 --out grid.png
  vc-img-translate --model exp/fonts_v2 --src a.png b.png --latent --domain Serif --num 8 --out latent.png
  vc-img-translate --model exp/afhq --src cat1.jpg --ref dog1.jpg wild2.jpg --ref-domain dog,wild --out ref.png
"""


def build_parser() -> argparse.ArgumentParser:
    p = bundle_parser("vc-img-translate", "Translate images with a trained image model bundle (exp/<name>): "
                      "attribute edits and Figure-4 grids for StarGAN, latent- and reference-guided grids for "
                      "StarGAN v2.", EPILOG)
    p.add_argument("--src", "--input", dest="src", nargs="+", metavar="IMAGE",
                   help="input image file(s) or folder(s) of images")
    p.add_argument("--out", required=True,
                   help="output image (PNG; a folder for a StarGAN edit of several images); never an input")
    p.add_argument("--num", type=int, help="stargan --grid --data: rows (default: 8); "
                   "stargan_v2 --latent: outputs per input and domain (default: 5)")
    p.add_argument("--checkpoint", help="a checkpoint file of the bundle (default: the newest)")
    p.add_argument("--set", dest="old_set", metavar="ATTRS", help=argparse.SUPPRESS)
    return finish_bundle_parser(p, "translate", "use the trained weights, not their moving average")


def _run(args: argparse.Namespace) -> None:
    if args.old_set is not None:
        raise OptionError("--set is not an option of vc-img-translate: the attribute edit is --edit "
                          f"{args.old_set!r} (-o/--set KEY=VALUE overrides config options in the other commands)")
    bundle_model(args).resolve("translate")(args)


def main(argv: Sequence[str] | None = None) -> None:
    run_command(build_parser(), _run, argv)


if __name__ == "__main__":
    main()
