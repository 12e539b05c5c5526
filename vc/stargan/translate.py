"""Translate images with a trained bundle: attribute edits and Figure-4 grids.

The user states only what should change (``Blond_Hair=1,Male=0``); every other attribute keeps
the source's value, which is read from D's classification head (or given explicitly, because
D can be wrong about an unusual photo). Images go through the same crop/resize as in training.
"""
from __future__ import annotations

import os
from typing import Sequence

import torch
from PIL import Image
from torch import Tensor

from vc.image.grid import figure4, tile
from vc.image.imageio import load_tensor
from vc.image.labels import LabelError
from vc.stargan.bundle import StarGANBundle


class Translator:
    """Edits images with one bundle's G; D only reads the source attributes."""

    def __init__(self, bundle: StarGANBundle, batch_size: int = 32):
        self.bundle = bundle
        self.space = bundle.space
        self.batch_size = batch_size

    def load(self, path: str | os.PathLike) -> Tensor:
        """An image file prepared exactly as the training images were: (C, H, W) in [-1, 1]."""
        d = self.bundle.cfg.data
        return load_tensor(path, d.channels, d.crop_size, d.image_size)

    @torch.no_grad()
    def predict_labels(self, x: Tensor) -> Tensor:
        """Valid 0/1 labels (N, A) of images (N, C, H, W) according to D's classifier head."""
        logits = torch.cat([self.bundle.D(chunk.to(self.bundle.device))[1].float().cpu()
                            for chunk in x.split(self.batch_size)])
        return self.space.decode(logits)

    @torch.no_grad()
    def translate(self, x: Tensor, target: Tensor) -> Tensor:
        """G(x, target) in batches; returns CPU tensors."""
        dev = self.bundle.device
        return torch.cat([self.bundle.G(xc.to(dev), tc.to(dev)).float().cpu()
                          for xc, tc in zip(x.split(self.batch_size), target.split(self.batch_size))])

    def source_labels(self, x: Tensor, src_attrs: str | None = None) -> Tensor:
        """Predicted labels, overridden by ``src_attrs`` ('Male=1,Young=0') where given."""
        labels = self.predict_labels(x)
        if src_attrs:
            edit = self.space.parse_assignment(src_attrs)
            labels = torch.stack([self.space.apply(row, edit) for row in labels])
        return labels

    def edit(self, x: Tensor, assignment: str, src_attrs: str | None = None) -> tuple[Tensor, Tensor, Tensor]:
        """Apply ``assignment`` to each image's source labels; returns (images, source, target)."""
        edit = self.space.parse_assignment(assignment)
        if not edit:
            raise LabelError("the edit names no attribute to change")
        source = self.source_labels(x, src_attrs)
        target = torch.stack([self.space.apply(row, edit) for row in source])
        return self.translate(x, target), source, target

    def grid(self, x: Tensor, labels: Tensor, max_combos: int = 11, titles: bool = True) -> Image.Image:
        """StarGAN's Figure 4 for images ``x`` with source ``labels``."""
        names, columns = figure4(self.translate, x, labels, self.space, max_combos)
        return tile(columns, names if titles else None)

    def load_many(self, paths: Sequence[str | os.PathLike]) -> Tensor:
        return torch.stack([self.load(p) for p in paths])
