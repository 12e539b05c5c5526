"""vc-img-prepare: make image data ready for training (render the font set, prepare CelebA)."""
from __future__ import annotations

import argparse
import logging
from typing import Sequence

from vc.cli.common import add_jobs_option, add_override_option, add_verbose_option, run_command
from vc.config import load_config, parse_overrides

log = logging.getLogger("vc-img-prepare")

EPILOG = """\
both commands write the CelebA layout (img_align_celeba/*.png, list_attr_celeba.txt,
list_eval_partition.txt with 2 = test), read by vc-img-train with data.split: partition.
A rerun skips finished work; the attribute list is written last and marks a complete folder.

examples:
  vc-img-prepare fonts --out data/fonts --config conf/render.yaml
  vc-img-prepare fonts --out data/fonts -o image_size=32 -o variants=2 -o color=true
  vc-img-prepare celeba --root /data/CelebA --out data/celeba --image-size 128 --nj 4
  vc-img-prepare celeba --root /data/CelebA --out data/celeba --use-partition-file
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vc-img-prepare",
        description="Render the DejaVu font-style set (3 families x bold x oblique, held-out glyphs for "
        "testing), or check a CelebA download and write a cropped, resized copy with a fixed split.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fonts", help="render the font set")
    f.add_argument("--out", required=True, help="output folder (e.g. data/fonts)")
    f.add_argument("--config", help="FontRenderConfig YAML; defaults if omitted")
    add_override_option(f, example="image_size=32", old=("--override",))
    c = sub.add_parser("celeba", help="check CelebA and write a cropped, resized copy")
    c.add_argument("--root", required=True, help="CelebA folder with img_align_celeba/ and list_attr_celeba.txt")
    c.add_argument("--out", required=True, help="output folder (e.g. data/celeba); never the source folder")
    c.add_argument("--crop-size", type=int, default=178, help="center crop before resizing (default: 178, 0: none)")
    c.add_argument("--image-size", type=int, default=128, help="output size in pixels (default: 128)")
    c.add_argument("--channels", type=int, choices=(1, 3), default=3, help="3 = RGB, 1 = grayscale (default: 3)")
    c.add_argument("--test-count", type=int, default=2000,
                   help="the first N images (file order) are the test set, as StarGAN does (default: 2000)")
    c.add_argument("--use-partition-file", action="store_true",
                   help="use CelebA's list_eval_partition.txt (2 = test) instead of --test-count")
    c.add_argument("--limit", type=int, default=0, help="only the first N images (quick runs; default: all)")
    add_jobs_option(c)
    for sp in (f, c):
        add_verbose_option(sp)
    return p


def _run(args: argparse.Namespace) -> None:
    if args.command == "fonts":
        from vc.image.fonts import FontRenderConfig, render_font_set

        cfg = load_config(FontRenderConfig, args.config, parse_overrides(args.overrides))
        n = render_font_set(args.out, cfg)
        log.info("%s: %d images", args.out, n)
    else:
        from vc.image.celeba import prepare_attribute_corpus

        table = prepare_attribute_corpus(args.root, args.out, crop_size=args.crop_size,
                                         image_size=args.image_size, channels=args.channels,
                                         test_count=args.test_count, use_partition_file=args.use_partition_file,
                                         limit=args.limit, nj=args.nj)
        log.info("%s: %d images", args.out, len(table.files))


def main(argv: Sequence[str] | None = None) -> None:
    run_command(build_parser(), _run, argv)


if __name__ == "__main__":
    main()
