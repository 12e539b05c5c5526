"""Ways of telling a network which domain (speaker, attribute set, style) to produce.

* ``one_hot`` / ``tile_code`` / ``concat_code``: StarGAN's spatially replicated label code,
  concatenated as extra channels (works for 1-D ``(B, C, T)`` and 2-D ``(B, C, H, W)`` maps);
  ``concat_map`` for conditioning that also varies along an axis.
* ``ConditionalInstanceNorm``: instance norm whose scale and shift are looked up from the code
  (Dumoulin et al.; StarGAN-VC2 uses a source-target variant of it).
* ``AdaIN``: instance norm modulated by a continuous style vector (StarGAN v2).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


def one_hot(labels: Tensor, num_classes: int) -> Tensor:
    """Float one-hot codes ``(B, num_classes)`` for integer labels ``(B,)``."""
    return F.one_hot(labels.long(), num_classes).float()


def tile_code(code: Tensor, like: Tensor) -> Tensor:
    """Replicate a ``(B, K)`` code over the spatial dims of ``like`` -> ``(B, K, *like.shape[2:])``."""
    if code.dim() != 2 or code.shape[0] != like.shape[0]:
        raise ValueError(f"code must be (B, K) with B={like.shape[0]}, got {tuple(code.shape)}")
    view = code.view(*code.shape, *([1] * (like.dim() - 2)))
    return view.expand(*code.shape, *like.shape[2:]).to(like.dtype)


def concat_code(x: Tensor, code: Tensor) -> Tensor:
    """Append the tiled code to ``x`` as extra channels (StarGAN's label conditioning)."""
    return torch.cat([x, tile_code(code, x)], dim=1)


def concat_map(x: Tensor, cond: Tensor) -> Tensor:
    """Append ``cond`` ``(B, C, 1|H, 1|W)`` to ``x`` ``(B, C', H, W)`` as extra channels, broadcast
    over the axes where it has size 1: a code (size 1 on both) or side information that varies
    along one axis, such as a per-frame value tiled over frequency."""
    return torch.cat([x, cond.to(x.dtype).expand(-1, -1, *x.shape[2:])], dim=1)


class ConditionalInstanceNorm(nn.Module):
    """Instance norm with per-domain affine parameters chosen by a (one- or multi-hot) code.

    The code goes through a bias-free linear map, so a one-hot code selects one row of gamma and
    beta while a soft or multi-hot code mixes them. Gamma is initialised to 1 and beta to 0.
    """

    def __init__(self, num_features: int, code_dim: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.gamma = nn.Linear(code_dim, num_features, bias=False)
        self.beta = nn.Linear(code_dim, num_features, bias=False)
        nn.init.ones_(self.gamma.weight)
        nn.init.zeros_(self.beta.weight)

    def forward(self, x: Tensor, code: Tensor) -> Tensor:
        h = F.instance_norm(x, eps=self.eps)
        gamma = self.gamma(code).view(*code.shape[:1], -1, *([1] * (x.dim() - 2)))
        beta = self.beta(code).view(*code.shape[:1], -1, *([1] * (x.dim() - 2)))
        return h * gamma + beta


class AdaIN(nn.Module):
    """Adaptive instance norm: ``(1 + gamma(s)) * IN(x) + beta(s)`` for a style vector ``s``.

    The ``1 +`` keeps the layer an identity-scale norm at initialisation (as in StarGAN v2).
    """

    def __init__(self, style_dim: int, num_features: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.fc = nn.Linear(style_dim, 2 * num_features)

    def forward(self, x: Tensor, style: Tensor) -> Tensor:
        h = F.instance_norm(x, eps=self.eps)
        gamma, beta = self.fc(style).chunk(2, dim=1)
        shape = (x.shape[0], -1) + (1,) * (x.dim() - 2)
        return (1.0 + gamma.view(shape)) * h + beta.view(shape)
