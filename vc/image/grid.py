"""Image grids: StarGAN's Figure 4 layout (input | single-attribute edits | combined edits).

Each row is one input image; each column one edit of its labels, chosen by the label space
(:meth:`~vc.image.labels.LabelSpace.column_targets`), so the same code draws CelebA's hair /
gender / age grid, the font set's family / bold / oblique grid and a domain grid for folder data.
An optional header row names the columns. The grid is exactly ``rows x cols`` tiles (plus the
header row), with no padding, so a tile's position alone identifies the image and the edit.
"""
from __future__ import annotations

import os
from typing import Callable, Sequence

import matplotlib
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor

from vc.image.imageio import save_image, to_pil
from vc.image.labels import LabelSpace

_TITLE_FONT = os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf")


def tile(columns: Sequence[Tensor], titles: Sequence[str] | None = None) -> Image.Image:
    """Lay out ``columns`` (each (N, C, H, W) in [-1, 1]) side by side; rows are the N images."""
    if not columns:
        raise ValueError("a grid needs at least one column")
    n, c, h, w = columns[0].shape
    if any(col.shape != columns[0].shape for col in columns):
        raise ValueError("all grid columns must have the same shape")
    if titles is not None and len(titles) != len(columns):
        raise ValueError("one title per column")
    header = 1 if titles is not None else 0
    grid = Image.new("RGB" if c == 3 else "L", (w * len(columns), h * (n + header)), "white")
    for j, col in enumerate(columns):
        for i in range(n):
            grid.paste(to_pil(col[i]), (j * w, (i + header) * h))
    if titles is not None:
        for j, title in enumerate(titles):
            grid.paste(_title_cell(title, w, h, grid.mode), (j * w, 0))
    return grid


def _title_cell(text: str, w: int, h: int, mode: str) -> Image.Image:
    """A header cell with ``text`` centred, one line per '+'-joined part, the font shrunk until
    it fits (down to 6 px; a longer title is clipped rather than spilling into its neighbours)."""
    cell = Image.new(mode, (w, h), "white")
    draw = ImageDraw.Draw(cell)
    lines = text.replace("+", "+\n").split("\n")
    size = max(6, h // 3)
    while True:
        font = ImageFont.truetype(_TITLE_FONT, size)
        boxes = [draw.textbbox((0, 0), line, font=font) for line in lines]
        if (max(b[2] - b[0] for b in boxes) <= w - 2 and (size + 1) * len(lines) <= h) or size <= 6:
            break
        size -= 1
    y = (h - (size + 1) * len(lines)) / 2
    for line, box in zip(lines, boxes):
        draw.text(((w - (box[2] - box[0])) / 2 - box[0], y - box[1] + (size - (box[3] - box[1])) / 2), line,
                  fill="black", font=font)
        y += size + 1
    return cell


def figure4(translate: Callable[[Tensor, Tensor], Tensor], images: Tensor, labels: Tensor, space: LabelSpace,
            max_combos: int = 11) -> tuple[list[str], list[Tensor]]:
    """Titles and columns of a Figure-4 grid: the input, then ``translate(images, target)``
    for each single-attribute edit and each combination of edits (see ``LabelSpace``)."""
    titles, columns = ["Input"], [images]
    for title, target in space.column_targets(labels, max_combos):
        titles.append(title)
        columns.append(translate(images, target.to(images.device)))
    return titles, columns


def save_grid(path: str | os.PathLike, columns: Sequence[Tensor], titles: Sequence[str] | None = None) -> Image.Image:
    """Tile and write atomically; returns the image."""
    img = tile(columns, titles)
    save_image(img, path)
    return img

