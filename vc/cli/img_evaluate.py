"""vc-img-evaluate: score a trained image model bundle (StarGAN or StarGAN v2) on held-out images.

The bundle's ``config.yaml`` names its model (:mod:`vc.registry`); the judges (classifiers
trained on real images, ``EXP/eval_classifier/``) are trained first when missing.
"""
from __future__ import annotations

import argparse
from typing import Sequence

from vc.cli.common import run_command
from vc.cli.img_common import bundle_model, bundle_parser, finish_bundle_parser

EPILOG = """\
what is scored:
  stargan     every held-out image is translated with each edit of a Figure-4 grid (each
              attribute, then the combined edits); the judges read the attributes of each
              translation. Per attribute: accuracy over all translations and, in brackets, over
              those that changed it. Data with paired renderings (the font set's
              list_content.txt) also gets L1 and PSNR against the ground-truth image ([0, 1]
              pixel scale). "identity" is the input unchanged. Default --out: MODEL/eval.json.
  stargan_v2  for every held-out input and every other domain: domain accuracy of latent- and
              reference-guided outputs, diversity (mean pairwise L1; LPIPS when installed with
              local weights), the transfer of a reference's other attributes, and L1 to the true
              rendering where the data has one. Default --out: MODEL/eval/scores_v2.json.

examples:
  vc-img-evaluate --model exp/fonts --data data/fonts
  vc-img-evaluate --model exp/celeba --data data/celeba --limit 500 --out exp/celeba/eval.json
  vc-img-evaluate --model exp/fonts_v2 --limit 200
"""


def build_parser() -> argparse.ArgumentParser:
    p = bundle_parser("vc-img-evaluate", "Score an image model bundle on held-out images with judges trained on "
                      "real images (trained first if missing), beside the do-nothing baseline; prints a report and "
                      "writes JSON.", EPILOG)
    p.add_argument("--data", help="data folder in the training layout whose test split is scored "
                   "(default: the bundle's data.root)")
    p.add_argument("--out", help="JSON output (default: see below)")
    p.add_argument("--limit", type=int, help="score only the first N held-out images (default: all; "
                   "stargan_v2: the config's diversity.limit)")
    return finish_bundle_parser(p, "evaluate", "score the trained weights, not their moving average")


def _run(args: argparse.Namespace) -> None:
    bundle_model(args).resolve("evaluate")(args)


def main(argv: Sequence[str] | None = None) -> None:
    run_command(build_parser(), _run, argv)


if __name__ == "__main__":
    main()
