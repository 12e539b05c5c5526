"""Check an AFHQ download and write a resized copy for training (egs/afhq stage 0).

AFHQ (Choi et al. 2020) unpacks as ``<root>/{train,val}/{cat,dog,wild}/*.jpg`` (512 px). This
writes ``<out>/{train,val}/<domain>/<name>.png`` at ``--image_size``, so training decodes small
files, and never touches the download. The domains are the sub-folders of ``train/`` (``val/``
must have the same ones), so a custom folder-per-domain set in the same layout works too.
Finished images are skipped on a rerun; each is written atomically.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from tqdm import tqdm

from vc.image.imageio import IMAGE_SUFFIXES, ImageError, load_image, preprocess, save_image
from vc.logutil import setup_logging

log = logging.getLogger("prepare_afhq")
SPLITS = ("train", "val")


def domains_of(split_dir: Path) -> list[str]:
    if not split_dir.is_dir():
        raise FileNotFoundError(f"{split_dir}: folder not found (expected <afhq_root>/train and <afhq_root>/val)")
    found = sorted(p.name for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(found) < 2:
        raise ValueError(f"{split_dir}: need at least two domain folders, found {found}")
    return found


def plan(root: Path, out: Path) -> list[tuple[Path, Path]]:
    """(source, destination) pairs; checks the layout before anything is written."""
    if out.resolve() == root.resolve() or root.resolve() in out.resolve().parents:
        raise ValueError(f"--out {out} lies inside --afhq_root {root}; write the copy elsewhere")
    domains = domains_of(root / "train")
    if domains_of(root / "val") != domains:
        raise ValueError(f"{root}: train/ has domains {domains} but val/ has {domains_of(root / 'val')}")
    jobs = []
    for split in SPLITS:
        for d in domains:
            files = sorted(f for f in (root / split / d).iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise ValueError(f"{root / split / d}: no images ({', '.join(IMAGE_SUFFIXES)})")
            jobs += [(f, out / split / d / (f.stem + ".png")) for f in files]
    return jobs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--afhq_root", required=True, help="AFHQ folder with train/ and val/")
    p.add_argument("--out", required=True, help="output folder, e.g. data/afhq")
    p.add_argument("--image_size", type=int, default=64, help="output size in pixels (default 64)")
    args = p.parse_args(argv)
    setup_logging(False)
    try:
        jobs = plan(Path(args.afhq_root), Path(args.out))
        todo = [(s, d) for s, d in jobs if not d.is_file()]
        for src, dst in tqdm(todo, desc="resize", unit="img"):
            save_image(preprocess(load_image(src, 3), 0, args.image_size), dst)
    except (FileNotFoundError, ValueError, ImageError) as exc:
        log.error("%s", exc)
        return 1
    log.info("%s: %d images (%d new) at %d px", args.out, len(jobs), len(todo), args.image_size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
