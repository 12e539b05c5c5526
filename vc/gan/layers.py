"""Gated (GLU) convolution blocks (Dauphin et al. 2017), the building block of StarGAN-VC.

A gated block computes ``norm(W * x) ⊙ sigmoid(norm(V * x))``. It is implemented as one
convolution with twice the output channels followed by ``F.glu`` on the channel axis, which is
the same function with one kernel launch instead of two.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

IntOrPair = int | Sequence[int]

NORMS = ("batch", "instance", "none")


def _norm(kind: str, channels: int, dims: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm1d(channels) if dims == 1 else nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm1d(channels, affine=True) if dims == 1 else nn.InstanceNorm2d(channels, affine=True)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}; choose one of {', '.join(NORMS)}")


class _Gated(nn.Module):
    """Shared body: conv producing 2x channels, norm, GLU."""

    def __init__(self, conv: nn.Module, out_channels: int, norm: str, dims: int):
        super().__init__()
        self.conv = conv
        self.norm = _norm(norm, 2 * out_channels, dims)

    def forward(self, x: Tensor) -> Tensor:
        return F.glu(self.norm(self.conv(x)), dim=1)


class GatedConv1d(_Gated):
    """1-D gated convolution ``(B, C_in, T) -> (B, C_out, T')``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, norm: str = "batch"):
        conv = nn.Conv1d(in_channels, 2 * out_channels, kernel_size, stride, padding, bias=norm == "none")
        super().__init__(conv, out_channels, norm, 1)


class GatedConv2d(_Gated):
    """2-D gated convolution ``(B, C_in, H, W) -> (B, C_out, H', W')``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrPair, stride: IntOrPair = 1,
                 padding: IntOrPair = 0, norm: str = "batch"):
        conv = nn.Conv2d(in_channels, 2 * out_channels, kernel_size, stride, padding, bias=norm == "none")
        super().__init__(conv, out_channels, norm, 2)


class GatedConvTranspose2d(_Gated):
    """2-D gated transposed convolution, the upsampling mirror of ``GatedConv2d``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrPair, stride: IntOrPair = 1,
                 padding: IntOrPair = 0, output_padding: IntOrPair = 0, norm: str = "batch"):
        conv = nn.ConvTranspose2d(in_channels, 2 * out_channels, kernel_size, stride, padding,
                                  output_padding=output_padding, bias=norm == "none")
        super().__init__(conv, out_channels, norm, 2)


UPSAMPLE_INITS = ("nearest", "default")


def nearest_upsample_init_(conv: nn.ConvTranspose1d | nn.ConvTranspose2d) -> bool:
    """Re-initialise a strided transposed convolution so that its output phases start equal.

    A transposed convolution with stride s computes each of its s output phases with a different
    subset of kernel taps; with independent random taps the phases differ from the first step,
    which shows as a period-s pattern (checkerboard, Odena et al. 2016) that training must then
    remove. Setting tap ``t`` to the value of tap ``s * (t // s)`` (each kept tap repeated s
    times) makes the layer exactly "nearest-neighbour upsampling, then a convolution" at
    initialisation (the ICNR idea of Aitken et al. 2017 applied to the transposed form), with the
    same value distribution and fan-in as before.

    Only axes whose kernel overlaps (kernel a multiple of the stride and larger than it) are
    changed: where kernel == stride every output row has its own taps by design (StarGAN-VC's
    first decoder layer expands one row into the mel-cepstral rows that way), and tying them
    would start that layer with identical rows. Returns whether any axis was changed.
    """
    axes = [axis for axis, (k, s) in enumerate(zip(conv.weight.shape[2:], conv.stride), start=2)
            if 1 < s < k and k % s == 0]
    if not axes:
        return False
    with torch.no_grad():
        w = conv.weight
        index = [slice(None)] * w.dim()
        for axis in axes:
            index[axis] = slice(None, None, conv.stride[axis - 2])
        kept = w[tuple(index)]
        for axis in axes:
            kept = kept.repeat_interleave(conv.stride[axis - 2], dim=axis)
        w.copy_(kept)
    return True


def init_upsampling_(module: nn.Module, mode: str = "nearest") -> int:
    """Apply ``mode`` (:data:`UPSAMPLE_INITS`) to every strided transposed convolution in
    ``module``; returns how many layers were re-initialised. ``"default"`` keeps PyTorch's."""
    if mode not in UPSAMPLE_INITS:
        raise ValueError(f"unknown upsampling init {mode!r}; choose one of {', '.join(UPSAMPLE_INITS)}")
    if mode == "default":
        return 0
    return sum(nearest_upsample_init_(m) for m in module.modules()
               if isinstance(m, (nn.ConvTranspose1d, nn.ConvTranspose2d)))
