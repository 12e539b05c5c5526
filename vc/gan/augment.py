"""Differentiable image augmentation shared by the discriminators and the judging classifiers.

A shift is a crop of an edge-replicated copy, so gradients flow through it to the generator:
DiffAugment (Zhao et al. 2020) applies it to every image a discriminator sees, real and
generated, in both phases, so that D cannot memorise where each training image's pixels lie and
G is not rewarded for placing its output exactly there.

A shear slants an image (each row moves in proportion to its height), differentiably in both the
image and the amount: StarGAN v2's slant style (``vc.stargan_v2.slant``) straightens its input and
slants its output with it.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def shift_pixels(fraction: float, size: int) -> int:
    """The largest shift in pixels for ``fraction`` of an image ``size`` pixels wide."""
    return round(fraction * size)


def random_shift(x: Tensor, max_px: int, generator: torch.Generator) -> Tensor:
    """Shift each image of ``x`` (B, C, H, W) by up to ``max_px`` pixels on each axis, edges replicated.

    The offsets come from ``generator`` (CPU), so a caller that seeds it from the step draws the
    same shifts after a resume as in an uninterrupted run.
    """
    if max_px <= 0:
        return x
    n, _, h, w = x.shape
    padded = F.pad(x, (max_px,) * 4, mode="replicate")
    offsets = torch.randint(0, 2 * max_px + 1, (n, 2), generator=generator).tolist()
    return torch.stack([padded[i, :, dy:dy + h, dx:dx + w] for i, (dy, dx) in enumerate(offsets)])


def gaussian_kernel1d(sigma: float, radius: int) -> Tensor:
    """A normalised 1-D Gaussian of ``2 * radius + 1`` taps (a delta for ``sigma`` 0)."""
    r = torch.arange(-radius, radius + 1, dtype=torch.float32)
    if sigma <= 0:
        return (r == 0).float()
    k = torch.exp(-r ** 2 / (2 * sigma ** 2))
    return k / k.sum()


def gaussian_blur(x: Tensor, sigma: float | Sequence[float], radius: int | None = None) -> Tensor:
    """``x`` (B, C, H, W) blurred by a separable Gaussian of ``sigma`` pixels (one for all images, or
    one per image), edges replicated; every channel of an image gets the same blur. The kernels
    reach ``radius`` pixels (default: 3 of the largest sigma)."""
    n, c, h, w = x.shape
    sigmas = [float(sigma)] * n if isinstance(sigma, (int, float)) else [float(v) for v in sigma]
    if len(sigmas) != n:
        raise ValueError(f"{len(sigmas)} sigmas for {n} images")
    if radius is None:
        radius = max(1, int(3 * max(sigmas) + 0.5))
    k = torch.stack([gaussian_kernel1d(v, radius) for v in sigmas]).to(x.dtype).to(x.device)  # (n, taps)
    k = k.repeat_interleave(c, dim=0)  # one kernel per (image, channel): a grouped convolution
    y = F.pad(x.reshape(1, n * c, h, w), (radius,) * 4, mode="replicate")
    y = F.conv2d(y, k.view(n * c, 1, 1, -1), groups=n * c)
    y = F.conv2d(y, k.view(n * c, 1, -1, 1), groups=n * c)
    return y.view(n, c, h, w)


def random_blur(x: Tensor, max_sigma: float, generator: torch.Generator) -> Tensor:
    """Blur each image of ``x`` (B, C, H, W) with a Gaussian whose sigma is drawn uniformly from
    [0, ``max_sigma``] pixels (``gaussian_blur``).

    Used on the judges' training images: a generator's outputs are softer than the renderings
    they are compared with, and a judge that reads sharpness as a class (at 16 px a real Sans
    glyph blurred by sigma 0.6 px was read as Sans 10 % of the time) scores the blur, not the
    style. The sigmas come from ``generator`` (CPU), as ``random_shift``'s offsets do.
    """
    if max_sigma <= 0:
        return x
    sigmas = (torch.rand(x.shape[0], generator=generator) * max_sigma).tolist()
    return gaussian_blur(x, sigmas, radius=max(1, int(3 * max_sigma + 0.5)))


def step_shift(x: Tensor, fraction: float, seed: int, step: int, salt: int = 0) -> Tensor:
    """``x`` shifted by up to ``fraction`` of its size with offsets drawn from (seed, step, salt)
    alone, so a resumed run draws what an uninterrupted one would have; ``x`` itself when the
    shift rounds to 0 px. ``salt`` (0-3) tells apart the draws of one step (real / fake / G phase)."""
    if not 0 <= salt < 4:
        raise ValueError(f"salt must be 0-3, got {salt}")
    px = shift_pixels(fraction, x.shape[-1])
    if px == 0:
        return x
    return random_shift(x, px, torch.Generator().manual_seed((seed * 1_000_003 + step) * 4 + salt))


def shear(x: Tensor, k: Tensor) -> Tensor:
    """Each image of ``x`` (B, C, H, W) sheared by its ``k`` (B,): the output at normalised
    coordinates (u, v) reads the input at (u + k v, v), bicubically, edges replicated. v = -1 is
    the top row, so ``k > 0`` moves the top to the right, as an italic does. Shears add:
    ``shear(shear(x, a), b) == shear(x, a + b)`` up to resampling. Bicubic because a shear and
    its inverse, bilinear, blurred the 16 px glyphs by 0.016 mean absolute error ([0, 1] pixels)
    at k = 0.1, and bicubic by 0.006 (``python bench/slant_reader.py``); the slant generator
    shears every image twice."""
    if k.shape != (x.shape[0],):
        raise ValueError(f"k must be ({x.shape[0]},), got {tuple(k.shape)}")
    theta = torch.zeros(x.shape[0], 2, 3, dtype=x.dtype, device=x.device)
    theta[:, 0, 0] = 1.0
    theta[:, 1, 1] = 1.0
    theta[:, 0, 1] = k.to(x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bicubic", padding_mode="border", align_corners=False)
