"""Gated (GLU) convolution blocks (Dauphin et al. 2017), the building block of StarGAN-VC.

A gated block computes ``norm(W * x) ⊙ sigmoid(norm(V * x))``. It is implemented as one
convolution with twice the output channels followed by ``F.glu`` on the channel axis, which is
the same function with one kernel launch instead of two.
"""
from __future__ import annotations

from typing import Sequence

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
