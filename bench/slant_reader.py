"""The StarGAN v2 slant machinery on the rendered font set: resampling blur and slant readers.

Two questions behind ``net.slant`` (vc/stargan_v2/slant.py), answered on the glyphs that the font
recipe renders (``egs/fonts_v2/conf/render.yaml``), held-out glyphs apart:

1. How much does a shear blur a glyph? The slant generator shears each image twice (its input
   upright, its output to the code's slant); here a shear by k and its inverse, bilinear against
   bicubic (what ``vc.gan.shear`` uses), as mean absolute error on [0, 1] pixels.
2. How well does each reader tell oblique renderings from upright ones without a label? The
   profile reader (untrained: gain 1) and, as a floor, the slant of the ink's second moments;
   each cut midway between the training glyphs' oblique and upright means. The learned
   estimator needs a training run and is not measured here.

usage:
  python bench/slant_reader.py
  python bench/slant_reader.py --render egs/fonts_v2/conf/render.yaml --shear 0.2
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from vc.config import load_config
from vc.image.fonts import STYLES, FontRenderConfig, render_glyph, select_glyphs
from vc.stargan_v2.slant import ProfileSlantReader

ROOT = Path(__file__).resolve().parents[1]


def shear_with(x: torch.Tensor, k: float, mode: str) -> torch.Tensor:
    theta = torch.zeros(x.shape[0], 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0
    theta[:, 0, 1] = k
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode=mode, padding_mode="border", align_corners=False)


def moment_slant(x: torch.Tensor) -> torch.Tensor:
    """mu11 / mu02 of the ink, y up: the shear of a shape's second moments (a classical floor)."""
    ink = (1 - x[:, 0]) / 2
    h, w = ink.shape[-2:]
    yy = -torch.arange(h, dtype=x.dtype).view(h, 1).expand(h, w)
    xx = torch.arange(w, dtype=x.dtype).view(1, w).expand(h, w)
    m = ink.sum((1, 2))
    cx, cy = (ink * xx).sum((1, 2)) / m, (ink * yy).sum((1, 2)) / m
    dx, dy = xx - cx.view(-1, 1, 1), yy - cy.view(-1, 1, 1)
    return (ink * dx * dy).sum((1, 2)) / (ink * dy * dy).sum((1, 2))


def separation(reading: torch.Tensor, oblique: torch.Tensor, held_out: torch.Tensor) -> tuple[float, float]:
    train = ~held_out
    cut = 0.5 * (reading[train & oblique].mean() + reading[train & ~oblique].mean())
    hit = (reading > cut) == oblique
    return hit[train].float().mean().item(), hit[held_out].float().mean().item()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--render", default=str(ROOT / "egs/fonts_v2/conf/render.yaml"), help="FontRenderConfig YAML")
    p.add_argument("--shear", type=float, default=0.1, help="shear of the round trip (normalised, 0.2 ~ an oblique)")
    args = p.parse_args()
    torch.set_num_threads(1)
    cfg = load_config(FontRenderConfig, args.render)
    glyphs, _ = select_glyphs(cfg)
    images, oblique, held_out = [], [], []
    for glyph in glyphs:
        for style in STYLES:
            img = np.asarray(render_glyph(glyph, style, cfg), dtype=np.float32) / 127.5 - 1.0
            images.append(img)
            oblique.append(style.oblique)
            held_out.append(glyph in cfg.test_glyphs)
    x = torch.from_numpy(np.stack(images))[:, None]
    oblique_t, held_out_t = torch.tensor(oblique), torch.tensor(held_out)
    print(f"{len(glyphs)} glyphs x {len(STYLES)} styles at {cfg.image_size} px ({int(held_out_t.sum())} held-out renderings)")

    print(f"\nshear by {args.shear} and back: mean absolute error on [0, 1] pixels")
    blur = {}
    for mode in ("bilinear", "bicubic"):
        back = shear_with(shear_with(x, args.shear, mode), -args.shear, mode)
        blur[mode] = ((back - x).abs().mean() / 2).item()
        print(f"  {mode:9s} {blur[mode]:.4f}")
    print(f"  bicubic / bilinear: {blur['bicubic'] / blur['bilinear']:.2f}x")

    print("\noblique vs upright, cut midway between the training glyphs' means (training / held out)")
    reader = ProfileSlantReader()
    with torch.no_grad():
        readings = {"profile (gain 1)": reader(x), "ink moments": moment_slant(x)}
        moved = reader(shear_with(x, 0.2, "bicubic")) - readings["profile (gain 1)"]
    for name, r in readings.items():
        train_acc, test_acc = separation(r, oblique_t, held_out_t)
        print(f"  {name:17s} {train_acc:.3f} / {test_acc:.3f}   oblique {r[oblique_t].mean():+.3f}  "
              f"upright {r[~oblique_t].mean():+.3f}")
    print(f"  a shear by 0.2 moves the profile's raw reading by {moved.mean():.3f} (the gain makes up the rest)")


if __name__ == "__main__":
    main()
