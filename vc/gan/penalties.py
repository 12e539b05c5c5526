"""Gradient penalties that regularise discriminators.

Both are computed with ``torch.autograd.grad(create_graph=True)`` so the penalty itself is
differentiable and simply added to the discriminator's loss.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor,
                     target_norm: float = 1.0) -> Tensor:
    """WGAN-GP (Gulrajani et al. 2017): ``E[(||grad D(x_hat)|| - 1)^2]`` on random interpolates.

    ``critic`` is a closure mapping an input batch to scores, so that conditional critics can
    bind their labels (``lambda x: D(x, c)``) and multi-head critics can pick the adversarial
    head. ``fake`` is detached here; the interpolation weights come from the global torch RNG,
    which the trainer checkpoints, so resumed runs draw the same values.
    """
    real = real.detach()
    fake = fake.detach()
    alpha = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device, dtype=real.dtype)
    x_hat = (alpha * real + (1.0 - alpha) * fake).requires_grad_(True)
    out = critic(x_hat)
    (grad,) = torch.autograd.grad(outputs=out.sum(), inputs=x_hat, create_graph=True)
    norm = grad.flatten(1).float().norm(2, dim=1)
    return (norm - target_norm).pow(2).mean()


def r1_penalty(real_out: Tensor, real_in: Tensor) -> Tensor:
    """R1 (Mescheder et al. 2018): ``0.5 * E[||grad D(x)||^2]`` on real data.

    ``real_in`` must have had ``requires_grad_(True)`` set *before* it went through the
    discriminator that produced ``real_out``.
    """
    if not real_in.requires_grad:
        raise ValueError("r1_penalty: call real_in.requires_grad_(True) before the discriminator forward")
    (grad,) = torch.autograd.grad(outputs=real_out.sum(), inputs=real_in, create_graph=True)
    return 0.5 * grad.float().pow(2).flatten(1).sum(dim=1).mean()
