"""StarGAN v2's four networks (Choi et al. 2020, arXiv 1912.01865).

* ``Generator``: a residual encoder (instance-normalised, downsampling) and a residual decoder
  whose blocks are modulated by a style code through AdaIN (``vc.gan.AdaIN``). The domain is not
  an input: it lives in the style code.
* ``MappingNetwork``: latent ``z`` -> style ``s`` through layers shared by all domains and one
  output head per domain.
* ``StyleEncoder``: image -> style through a shared convolutional trunk and one linear head per
  domain.
* ``Discriminator``: the same kind of trunk with one real/fake logit per domain; only the
  logit of the domain in question is used.

Every network is He-initialised (``he_init``), as in the reference implementation. PyTorch's
default Linear/Conv init shrinks the signal about 3x in variance per ReLU layer, so through F's
eight layers the style of every latent code came out nearly the same (std across ``z`` ~1e-3 of
its mean): G then saw one constant style per domain, and the diversity and style-reconstruction
losses had almost no gradient to work with. He init keeps unit variance through the layers.

Multi-head networks compute every head and pick the one of each sample's domain, so a batch
may mix domains. Residual sums are scaled by 1/sqrt(2) to keep unit variance, as in the paper.
With ``slant=True`` (not in the paper; ``vc.stargan_v2.slant``) every style code carries one more
entry, the slant: E reads it off the reference, F draws it, and G straightens its input and
slants its output by it.

Left out on purpose: the face-landmark high-pass filter (``w_hpf``), which needs a pretrained
FAN network for CelebA-HQ only.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from vc.gan import shear
from vc.gan.conditioning import AdaIN
from vc.stargan_v2.slant import make_slant_reader, read_slant, with_slant

_SLOPE = 0.2


def _widths(dim_in: int, max_conv_dim: int, depth: int) -> list[int]:
    """Channel widths before and after each of ``depth`` downsamplings (doubling, capped)."""
    return [min(dim_in * 2 ** i, max_conv_dim) for i in range(depth + 1)]


def he_init(module: nn.Module) -> None:
    """Kaiming-normal (fan-in, ReLU gain) weights and zero biases for convolutions and linear layers;
    use as ``net.apply(he_init)``. Without it F's and E's outputs barely depend on their inputs."""
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def select_head(per_domain: Tensor, domain: Tensor) -> Tensor:
    """``per_domain`` (B, K, ...) -> (B, ...): each sample's row for its own domain index."""
    if domain.dim() != 1 or domain.shape[0] != per_domain.shape[0]:
        raise ValueError(f"domain must be (B,) with B={per_domain.shape[0]}, got {tuple(domain.shape)}")
    if per_domain.shape[1] <= int(domain.max()) or int(domain.min()) < 0:
        raise ValueError(f"domain index out of range 0..{per_domain.shape[1] - 1}")
    return per_domain[torch.arange(per_domain.shape[0], device=per_domain.device), domain.long()]


class ResBlock(nn.Module):
    """Pre-activation residual block, optionally instance-normalised and downsampling by 2."""

    def __init__(self, dim_in: int, dim_out: int, normalize: bool = False, downsample: bool = False):
        super().__init__()
        self.downsample = downsample
        self.norm1 = nn.InstanceNorm2d(dim_in, affine=True) if normalize else nn.Identity()
        self.norm2 = nn.InstanceNorm2d(dim_in, affine=True) if normalize else nn.Identity()
        self.conv1 = nn.Conv2d(dim_in, dim_in, 3, 1, 1)
        self.conv2 = nn.Conv2d(dim_in, dim_out, 3, 1, 1)
        self.skip = nn.Conv2d(dim_in, dim_out, 1, bias=False) if dim_in != dim_out else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv1(F.leaky_relu(self.norm1(x), _SLOPE))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        h = self.conv2(F.leaky_relu(self.norm2(h), _SLOPE))
        short = self.skip(x)
        if self.downsample:
            short = F.avg_pool2d(short, 2)
        return (short + h) / math.sqrt(2.0)


class AdaINResBlock(nn.Module):
    """Decoder block: AdaIN(s) -> lrelu -> [2x nearest upsampling] -> conv, twice, plus a skip."""

    def __init__(self, dim_in: int, dim_out: int, style_dim: int, upsample: bool = False):
        super().__init__()
        self.upsample = upsample
        self.norm1 = AdaIN(style_dim, dim_in)
        self.norm2 = AdaIN(style_dim, dim_out)
        self.conv1 = nn.Conv2d(dim_in, dim_out, 3, 1, 1)
        self.conv2 = nn.Conv2d(dim_out, dim_out, 3, 1, 1)
        self.skip = nn.Conv2d(dim_in, dim_out, 1, bias=False) if dim_in != dim_out else nn.Identity()

    def _up(self, x: Tensor) -> Tensor:
        return F.interpolate(x, scale_factor=2, mode="nearest") if self.upsample else x

    def forward(self, x: Tensor, s: Tensor) -> Tensor:
        h = self.conv1(self._up(F.leaky_relu(self.norm1(x, s), _SLOPE)))
        h = self.conv2(F.leaky_relu(self.norm2(h, s), _SLOPE))
        return (self.skip(self._up(x)) + h) / math.sqrt(2.0)


class Generator(nn.Module):
    """``G(x, s)``: image (B, C, H, W) and style (B, style_dim) -> image (no output squashing,
    as in the paper, unless ``tanh``; callers clamp to [-1, 1] for display). H, W divisible by
    ``2**downsample``. With ``slant``, ``s`` is (B, style_dim + 1), its last entry the output's
    slant."""

    def __init__(self, style_dim: int, channels: int = 3, dim_in: int = 32, max_conv_dim: int = 256,
                 downsample: int = 2, bottleneck: int = 2, slant: bool = False, slant_reader: str = "learned",
                 tanh: bool = False):
        super().__init__()
        self.downsample = downsample
        self.tanh = tanh
        widths = _widths(dim_in, max_conv_dim, downsample)
        self.from_rgb = nn.Conv2d(channels, dim_in, 3, 1, 1)
        self.encode = nn.ModuleList(
            [ResBlock(a, b, normalize=True, downsample=True) for a, b in zip(widths, widths[1:])]
            + [ResBlock(widths[-1], widths[-1], normalize=True) for _ in range(bottleneck)])
        self.decode = nn.ModuleList(
            [AdaINResBlock(widths[-1], widths[-1], style_dim) for _ in range(bottleneck)]
            + [AdaINResBlock(b, a, style_dim, upsample=True) for a, b in reversed(list(zip(widths, widths[1:])))])
        self.to_rgb = nn.Sequential(nn.InstanceNorm2d(dim_in, affine=True), nn.LeakyReLU(_SLOPE),
                                    nn.Conv2d(dim_in, channels, 1))
        self.slant = make_slant_reader(slant_reader, channels) if slant else None
        self.apply(he_init)
        if self.slant is not None:
            self.slant.reset_readout_()

    def forward(self, x: Tensor, s: Tensor) -> Tensor:
        if x.shape[-1] % (2 ** self.downsample) or x.shape[-2] % (2 ** self.downsample):
            raise ValueError(f"image size {tuple(x.shape[-2:])} is not divisible by 2**{self.downsample}")
        slant = None
        if self.slant is not None:
            x = shear(x, -read_slant(self.slant, x))  # upright: the input's slant must not pass through
            s, slant = s[:, :-1], s[:, -1]
        h = self.from_rgb(x)
        for block in self.encode:
            h = block(h)
        for block in self.decode:
            h = block(h, s)
        out = self.to_rgb(h)
        if self.tanh:
            out = torch.tanh(out)
        return out if slant is None else shear(out, slant)


class MappingNetwork(nn.Module):
    """``F(z, y)``: latent (B, latent_dim) and domain indices (B,) -> style (B, style_dim), or
    (B, style_dim + 1) with ``slant`` (the last entry a slant, drawn from a tenth of He's scale
    so that the first outputs are not sheared beyond recognition)."""

    def __init__(self, latent_dim: int, style_dim: int, num_domains: int, hidden: int = 256,
                 shared_layers: int = 4, head_layers: int = 4, slant: bool = False):
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(shared_layers):
            layers += [nn.Linear(latent_dim if i == 0 else hidden, hidden), nn.ReLU()]
        self.shared = nn.Sequential(*layers)
        self.heads = nn.ModuleList()
        for _ in range(num_domains):
            head: list[nn.Module] = []
            for _ in range(head_layers - 1):
                head += [nn.Linear(hidden, hidden), nn.ReLU()]
            self.heads.append(nn.Sequential(*head, nn.Linear(hidden, style_dim + int(slant))))
        self.latent_dim = latent_dim
        self.apply(he_init)
        if slant:
            with torch.no_grad():
                for head in self.heads:
                    head[-1].weight[-1].mul_(0.1)

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        h = self.shared(z)
        return select_head(torch.stack([head(h) for head in self.heads], dim=1), y)


def _trunk(channels: int, dim_in: int, max_conv_dim: int, depth: int, image_size: int) -> tuple[nn.Sequential, int]:
    """The downsampling convolutional trunk shared in shape by E and D: image -> (B, width) vector."""
    if image_size % (2 ** depth):
        raise ValueError(f"image_size {image_size} must be divisible by 2**{depth}")
    final = image_size // (2 ** depth)
    widths = _widths(dim_in, max_conv_dim, depth)
    blocks: list[nn.Module] = [nn.Conv2d(channels, dim_in, 3, 1, 1)]
    blocks += [ResBlock(a, b, downsample=True) for a, b in zip(widths, widths[1:])]
    blocks += [nn.LeakyReLU(_SLOPE), nn.Conv2d(widths[-1], widths[-1], final), nn.LeakyReLU(_SLOPE), nn.Flatten()]
    return nn.Sequential(*blocks), widths[-1]


class StyleEncoder(nn.Module):
    """``E(x, y)``: image and domain indices -> style (B, style_dim), or (B, style_dim + 1) with
    ``slant`` (the last entry the image's slant as read by E's own estimator)."""

    def __init__(self, image_size: int, style_dim: int, num_domains: int, channels: int = 3, dim_in: int = 32,
                 max_conv_dim: int = 256, downsample: int = 4, slant: bool = False, slant_reader: str = "learned"):
        super().__init__()
        self.trunk, width = _trunk(channels, dim_in, max_conv_dim, downsample, image_size)
        self.heads = nn.ModuleList([nn.Linear(width, style_dim) for _ in range(num_domains)])
        self.slant = make_slant_reader(slant_reader, channels) if slant else None
        self.apply(he_init)
        if self.slant is not None:
            self.slant.reset_readout_()

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        h = self.trunk(x)
        style = select_head(torch.stack([head(h) for head in self.heads], dim=1), y)
        return style if self.slant is None else with_slant(style, read_slant(self.slant, x))


class Discriminator(nn.Module):
    """``D(x, y)``: image and domain indices -> real/fake logit (B,) of each sample's domain.

    With ``classifier=True`` (not in the paper) the trunk also feeds a domain-classification head,
    as StarGAN v1's D does; ``D(x, y, classes=True)`` then returns ``(logit, class_logits)`` from
    one pass through the trunk. The per-domain real/fake heads only ever compare an image with
    the real images of its own target domain; the class head adds the comparison across domains.
    """

    def __init__(self, image_size: int, num_domains: int, channels: int = 3, dim_in: int = 32,
                 max_conv_dim: int = 256, downsample: int = 4, classifier: bool = False):
        super().__init__()
        self.trunk, width = _trunk(channels, dim_in, max_conv_dim, downsample, image_size)
        self.out = nn.Linear(width, num_domains)
        self.cls = nn.Linear(width, num_domains) if classifier else None
        self.apply(he_init)

    def forward(self, x: Tensor, y: Tensor, classes: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        h = self.trunk(x)
        logit = select_head(self.out(h), y)
        if not classes:
            return logit
        if self.cls is None:
            raise RuntimeError("this discriminator has no classification head (built with classifier=False)")
        return logit, self.cls(h)
