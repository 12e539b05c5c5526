"""One discriminator pass over real and fake samples together.

A discriminator step scores a real batch and a fake batch with the same network. Two passes over
B samples cost much more than one pass over 2B when the tensors are small (per-operator overhead
dominates on the CPU; kernel launches on a GPU): measured on the 32 px font StarGAN, one
concatenated pass cut the discriminator step by 18 % on one core.

The result is the same as two passes only for networks whose samples do not interact: no
BatchNorm, no minibatch statistics. Callers use it for such networks only (the StarGAN image
discriminator: convolutions, leaky ReLU, no normalization).
"""
from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor


def _split(out: Any, n: int) -> tuple[Any, Any]:
    if isinstance(out, Tensor):
        return out[:n], out[n:]
    if isinstance(out, (tuple, list)):
        pairs = [_split(o, n) for o in out]
        return type(out)(p[0] for p in pairs), type(out)(p[1] for p in pairs)
    raise TypeError(f"joint_forward: cannot split a network output of type {type(out).__name__}")


def joint_forward(net: Callable[..., Any], real_args: tuple[Tensor, ...],
                  fake_args: tuple[Tensor, ...]) -> tuple[Any, Any]:
    """``(net(*real_args), net(*fake_args))`` computed as one call on the concatenated batch.

    Every positional argument is concatenated along dim 0 (real first); every tensor the network
    returns (also inside tuples) is split back at the real batch size. Gradients flow to both
    halves as with two calls, including into ``real_args`` that require grad (R1).
    """
    if len(real_args) != len(fake_args):
        raise ValueError(f"joint_forward: {len(real_args)} real and {len(fake_args)} fake arguments")
    n = int(real_args[0].shape[0])
    for r, f in zip(real_args, fake_args):
        if r.shape[0] != n or f.shape[1:] != r.shape[1:]:
            raise ValueError(f"joint_forward: arguments of shapes {tuple(r.shape)} and {tuple(f.shape)} "
                             f"cannot be stacked into one batch")
    out = net(*(torch.cat([r, f]) for r, f in zip(real_args, fake_args)))
    return _split(out, n)
