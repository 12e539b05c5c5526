"""StarGAN's generator and discriminator (Choi et al. 2018, arXiv 1711.09020).

G sees the image with the target label tiled as extra channels, downsamples with stride-2
convolutions, transforms with instance-normalised residual blocks and upsamples back to a tanh
image. D is a PatchGAN (a map of real/fake scores, one per receptive field) with a second,
image-level head that classifies the attributes, so one network serves the adversarial and
the classification losses.

Differences from the reference code, on purpose: instance norm does not track running
statistics (the reference's ``track_running_stats=True`` makes eval-mode outputs depend on
training-batch statistics), and sizes, widths and depths are arguments, not constants.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
from torch import Tensor

from vc.gan.conditioning import concat_code
from vc.gan.layers import init_upsampling_


def _inorm(channels: int) -> nn.InstanceNorm2d:
    return nn.InstanceNorm2d(channels, affine=True)


class ResidualBlock(nn.Module):
    """conv-IN-ReLU-conv-IN plus the input: the bottleneck keeps what it need not change."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False), _inorm(channels), nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False), _inorm(channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class Generator(nn.Module):
    """``G(x, c)``: image (B, C, H, W) in [-1, 1] and target labels (B, c_dim) -> image.

    H and W must be divisible by ``2 ** downsample``. ``skip`` adds a full-resolution skip from
    the first convolution to the last (not in the paper). ``upsample_init`` is
    :func:`vc.gan.layers.init_upsampling_`'s mode for the transposed convolutions (PyTorch's init
    here; training configs default to ``"nearest"``, see ``StarGANModelConfig``).
    """

    def __init__(self, c_dim: int, channels: int = 3, conv_dim: int = 64, repeat_num: int = 6,
                 downsample: int = 2, upsample_init: str = "default", skip: bool = False):
        super().__init__()
        self.c_dim, self.downsample, self.skip = c_dim, downsample, skip
        layers: list[nn.Module] = [nn.Conv2d(channels + c_dim, conv_dim, 7, 1, 3, bias=False),
                                   _inorm(conv_dim), nn.ReLU(inplace=True)]
        dim = conv_dim
        for _ in range(downsample):
            layers += [nn.Conv2d(dim, dim * 2, 4, 2, 1, bias=False), _inorm(dim * 2), nn.ReLU(inplace=True)]
            dim *= 2
        layers += [ResidualBlock(dim) for _ in range(repeat_num)]
        for _ in range(downsample):
            layers += [nn.ConvTranspose2d(dim, dim // 2, 4, 2, 1, bias=False), _inorm(dim // 2), nn.ReLU(inplace=True)]
            dim //= 2
        # With ``skip`` the last convolution also reads the full-resolution stem (U-Net style,
        # Ronneberger et al. 2015), so outlines need not pass through the bottleneck.
        layers += [nn.Conv2d(dim * (2 if skip else 1), channels, 7, 1, 3, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        init_upsampling_(self.main, upsample_init)
        self._silence_skip_()

    @torch.no_grad()
    def _silence_skip_(self) -> None:
        """Zero the last convolution's weights on the skip, so that G starts as the paper's G and
        learns how much of the stem to use (with a random start, one font seed of three drew
        ghosts of the input over the translated glyph and never recovered)."""
        if self.skip:
            last = self.main[-2]
            last.weight[:, last.in_channels // 2:] = 0

    @torch.no_grad()
    def correlate_with_input_(self, x: Tensor, c: Tensor, min_corr: float = 0.05, max_draws: int = 32) -> bool:
        """Make G's output on ``x`` start positively correlated with ``x`` (at least ``min_corr``);
        returns whether the last convolution was changed.

        At random init some generators draw a clear negative of their input (ink <-> paper). The
        cycle loss cannot undo that (a negative of a negative is the input again): on the font set
        such starts ended in scrambled glyphs, and negated they trained well; a start with almost
        no correlation scrambled them too (docs/experiments/image_configs.md). So a start below ``min_corr`` in size has its last convolution redrawn (from a generator of
        its own, seeded by the draw: no global RNG is used) until it clears it, and a negative one
        is then negated: tanh is odd, so that turns G into exactly ``-G``.
        """
        last = self.main[-2]

        def corr() -> float:
            y = self(x, c)
            return float(torch.corrcoef(torch.stack([x.flatten().float(), y.flatten().float()]))[0, 1])

        r, changed = corr(), False
        for draw in range(max_draws):
            if abs(r) >= min_corr:
                break
            nn.init.kaiming_uniform_(last.weight, a=math.sqrt(5), generator=torch.Generator().manual_seed(draw))
            self._silence_skip_()
            r, changed = corr(), True
        if r < 0:
            last.weight.neg_()
            if last.bias is not None:
                last.bias.neg_()
            changed = True
        return changed

    def forward(self, x: Tensor, c: Tensor) -> Tensor:
        if x.shape[-1] % (2 ** self.downsample) or x.shape[-2] % (2 ** self.downsample):
            raise ValueError(f"image size {tuple(x.shape[-2:])} is not divisible by 2**{self.downsample}")
        h = concat_code(x, c)
        if not self.skip:
            return self.main(h)
        stem = self.main[:3](h)
        return self.main[-2:](torch.cat([self.main[3:-2](stem), stem], dim=1))


class Discriminator(nn.Module):
    """``D(x) -> (patch scores (B, 1, h, w), attribute logits (B, c_dim))``.

    ``repeat_num`` stride-2 convolutions (leaky ReLU, no norm: WGAN-GP penalises per-sample
    gradients, which batch statistics would mix) shrink the image to ``image_size / 2**repeat_num``;
    the classification head is a convolution covering that whole map.
    """

    def __init__(self, c_dim: int, image_size: int, channels: int = 3, conv_dim: int = 64, repeat_num: int = 6):
        super().__init__()
        final = image_size // (2 ** repeat_num)
        if final < 1 or image_size % (2 ** repeat_num):
            raise ValueError(f"image_size {image_size} must be divisible by 2**d_repeat_num = {2 ** repeat_num}")
        layers: list[nn.Module] = [nn.Conv2d(channels, conv_dim, 4, 2, 1), nn.LeakyReLU(0.01)]
        dim = conv_dim
        for _ in range(1, repeat_num):
            layers += [nn.Conv2d(dim, dim * 2, 4, 2, 1), nn.LeakyReLU(0.01)]
            dim *= 2
        self.main = nn.Sequential(*layers)
        self.src = nn.Conv2d(dim, 1, 3, 1, 1, bias=False)
        self.cls = nn.Conv2d(dim, c_dim, final, bias=False)
        self.image_size = image_size

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if x.shape[-1] != self.image_size or x.shape[-2] != self.image_size:
            raise ValueError(f"D was built for {self.image_size}px images, got {tuple(x.shape[-2:])}")
        h = self.main(x)
        return self.src(h), self.cls(h).flatten(1)

    def critic(self, x: Tensor) -> Tensor:
        """The adversarial head alone (what the gradient penalty differentiates)."""
        return self.forward(x)[0]
