"""A slant style for StarGAN v2 (not in the paper): the slant of a glyph read by an estimator that
learns from shears alone, and a generator that straightens its input and slants its output.

Why: without it, a reference's slant is carried over about as often as keeping the input's own
slant would score (docs/experiments/image_configs.md). A slant is a horizontal shear, a
displacement that grows with the row's height; AdaIN modulates every position of a feature map
alike and convolutions are translation-equivariant, so the decoder cannot apply it, and the
paper's objective has a stable answer without it (G keeps the input's slant; the cycle then
needs no slant in E's code). Warp heads predicted from the style stay at the identity (our
reading: the diversity term has no gradient there and the cycle pulls back to it).

Here the slant is measured instead of hoped for, by one of two readers (``net.slant_reader``),
neither of which sees a label. ``SlantEstimator`` ("learned") maps an image to one number and is
trained by ``slant_equivariance_loss`` only: shearing an image by ``k`` must add ``k`` to its
reading, and the readings of real images stay small. ``ProfileSlantReader`` ("profile") takes
the shear that stands the image's strokes upright, as handwriting recognisers deslant, and
learns only a gain from the same loss. Both readings are odd under a mirror, so an upright
mirror-symmetric glyph reads 0. With either:

* E's code gains one entry, its estimator's reading of the reference; F's heads draw that entry
  too (latent-guided slants);
* G reads its input's slant with its own estimator (trained the same way, so the two agree up
  to their error), shears the input upright by minus that, translates it, and shears its output
  image by the code's slant entry. (Shearing the decoder's features before the last,
  full-resolution block instead, whose convolutions could redraw crisper strokes, made the
  output follow only part of the code's slant; that variant was not kept.)

Both estimators read images through their weights detached (``read_slant``): gradients reach the
image (G is pushed to match the code's slant through the style-reconstruction term), never the
estimator, so no loss but the equivariance one can bend what "slant" means.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from torch.func import functional_call

from vc.gan import shear

_SLOPE = 0.2
_MAX_CACHED_PIXELS = 64 * 64  # larger images are projected directly (the map grows as pixels^2)


class SlantEstimator(nn.Module):
    """Image (B, C, H, W) -> slant (B,): three 3x3 convolutions at full resolution (local stroke
    orientation), averaged over the image, read out linearly, minus the same of the mirrored
    image. The read-out starts at zero (``reset_readout_``; call it after any re-initialisation of
    the owner): an untrained estimator reads every image as upright, so G starts as the paper's G.
    Read at random, its first readings sheared G's inputs beyond recognition and G learned to
    ignore its input for good."""

    def __init__(self, channels: int, width: int = 16):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(channels, width, 3, 1, 1), nn.Conv2d(width, width, 3, 1, 1),
                                    nn.Conv2d(width, width, 3, 1, 1)])
        self.out = nn.Linear(width, 1)
        self.reset_readout_()

    def reset_readout_(self) -> None:
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def _raw(self, x: Tensor) -> Tensor:
        h = x
        for conv in self.convs:
            h = F.leaky_relu(conv(h), _SLOPE)
        return self.out(h.mean((2, 3))).squeeze(1)

    def forward(self, x: Tensor) -> Tensor:
        # odd under a horizontal mirror (which turns a shear k into -k): a mirror-symmetric
        # glyph reads 0 upright, whatever the weights. Without it the zero of the scale drifted
        # with every step (+-0.1, about the slant of an oblique), and G's and E's estimators,
        # trained apart, drifted apart.
        return (self._raw(x) - self._raw(x.flip(-1))) / 2


class ProfileSlantReader(nn.Module):
    """Image (B, C, H, W) -> slant (B,) by the classic deslanting criterion of handwriting
    recognition (Vinciarelli and Luettin 2001): the shear that makes an image's column sums
    (its vertical projection) most peaked is the one that stands its strokes upright. Candidate
    shears are tried on a 2x bilinear upsampling (at 16 px a one-pixel step of a stroke is a
    large part of its slope), the projection energies are standardised over the candidates and
    soft-maxed, and the reading is the expected shear, times a learned ``gain``.

    Why not the learned ``SlantEstimator``: on the 16 px font set (``egs/fonts_v2``) the raw
    profile reading tells oblique from upright renderings more often than a trained model's
    learned estimator does (``python bench/slant_reader.py`` measures the profile reader;
    docs/experiments/image_configs.md). Its only parameter is the gain, which the equivariance
    loss calibrates (the soft-max pulls readings toward 0; ``bench/slant_reader.py`` prints how
    far). The image is centred on its mean first, so ink may be dark or light; the candidates are
    symmetric, so the reading is odd under a mirror, like the learned one's."""

    def __init__(self, max_slant: float = 0.5, candidates: int = 41, sharpness: float = 2.0):
        super().__init__()
        self.register_buffer("shears", torch.linspace(-max_slant, max_slant, candidates), persistent=False)
        self.sharpness = sharpness
        self.gain = nn.Parameter(torch.ones(()))
        self._maps: dict[tuple, Tensor] = {}

    def reset_readout_(self) -> None:
        """The gain back to 1 (the raw reading): unlike the learned estimator's, a fresh profile
        reading is already a slant, so there is nothing to silence."""
        with torch.no_grad():
            self.gain.fill_(1.0)

    def projections(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, K, 2W): the column sums of the centred, upsampled image once
        sheared back by each candidate. Every step of that is linear in the image, so for small
        images it is one matrix product with the pipeline applied once to the unit images
        (cached per size): about as costly as one 3x3 convolution instead of K resamplings."""
        b, _, h, w = x.shape
        ink = x.mean(1, keepdim=True)
        ink = ink - ink.mean((2, 3), keepdim=True)
        if h * w > _MAX_CACHED_PIXELS:
            return self._project(ink)
        key = (h, w, ink.device, ink.dtype)
        if key not in self._maps:
            unit = torch.eye(h * w, device=ink.device, dtype=ink.dtype).view(h * w, 1, h, w)
            self._maps[key] = self._project(unit).reshape(h * w, -1)
        return (ink.reshape(b, h * w) @ self._maps[key]).view(b, self.shears.numel(), 2 * w)

    def _project(self, ink: Tensor) -> Tensor:
        b, k = ink.shape[0], self.shears.numel()
        up = F.interpolate(ink, scale_factor=2, mode="bilinear", align_corners=False)
        tried = shear(up.repeat_interleave(k, 0), (-self.shears).repeat(b))  # undo each candidate
        return tried.sum(2).view(b, k, -1)

    def forward(self, x: Tensor) -> Tensor:
        energy = self.projections(x).pow(2).sum(2)
        z = (energy - energy.mean(1, keepdim=True)) / (energy.std(1, keepdim=True) + 1e-8)
        return self.gain * (torch.softmax(self.sharpness * z, 1) * self.shears).sum(1)


SLANT_READERS = ("learned", "profile")


def make_slant_reader(kind: str, channels: int) -> nn.Module:
    """The slant reader named by ``net.slant_reader``, its read-out reset (``reset_readout_``)."""
    if kind == "learned":
        return SlantEstimator(channels)
    if kind == "profile":
        return ProfileSlantReader()
    raise ValueError(f"unknown slant reader {kind!r}; choose from {', '.join(SLANT_READERS)}")


def read_slant(estimator: nn.Module, x: Tensor) -> Tensor:
    """``estimator(x)`` with its weights detached: differentiable in ``x`` only."""
    params = {name: p.detach() for name, p in estimator.named_parameters()}
    return functional_call(estimator, params, (x,))


def slant_equivariance_loss(estimator: nn.Module, x: Tensor, k: Tensor) -> Tensor:
    """``10 * mean((estimator(shear(x, k)) - estimator(x) - k)^2) + mean(estimator(x)^2)``.

    The first term makes a shear by ``k`` add ``k`` to the reading. It says nothing about the
    reading of each unsheared glyph (any per-glyph offset satisfies it), so the second keeps the
    readings of real images small: among readings that follow shears, the smallest are those
    that differ between images only by how slanted they are.
    The weight 10 keeps the first term in charge (shrinking every reading would otherwise pay)."""
    base = estimator(x)
    moved = estimator(shear(x, k))
    return 10.0 * (moved - base - k).pow(2).mean() + base.pow(2).mean()


def with_slant(style: Tensor, slant: Tensor) -> Tensor:
    """A style code (B, S) with the slant (B,) appended as its last entry."""
    return torch.cat([style, slant.unsqueeze(1).to(style.dtype)], dim=1)
