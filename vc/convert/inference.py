"""Making a trained generator cheaper to run, without changing what it computes.

At conversion time G is a fixed function, so two exact rewrites pay off on the CPU (about a
third of G's time, which is most of what conversion adds to bare WORLD analysis/synthesis):

* batch normalisation in eval mode is an affine map per channel, folded into the preceding
  convolution's weights and bias (one pass over the feature map instead of two);
* weights in channels-last memory layout, which oneDNN's convolutions (forward and transposed)
  run much faster than the default layout.

The rewritten copy is checked against the original on a random input; if they disagree (an
architecture this code does not know how to fold), the original is used and a warning says so.
"""
from __future__ import annotations

import copy
import logging

import torch
import torch.nn as nn

log = logging.getLogger(__name__)

#: Largest allowed |optimised - original| relative to the output's scale (float32 rounding).
TOLERANCE = 1e-4


def _fold_batchnorm(conv: nn.Conv2d | nn.ConvTranspose2d, norm: nn.BatchNorm2d) -> None:
    """Fold ``norm`` (eval mode: running statistics) into ``conv`` in place."""
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps) if norm.affine else \
        1.0 / torch.sqrt(norm.running_var + norm.eps)
    shift = (norm.bias if norm.affine else 0.0) - norm.running_mean * scale
    # The output-channel axis is 0 for convolutions and 1 for transposed convolutions.
    shape = (1, -1, 1, 1) if isinstance(conv, nn.ConvTranspose2d) else (-1, 1, 1, 1)
    conv.weight.data.mul_(scale.view(shape))
    bias = shift if conv.bias is None else conv.bias.data * scale + shift
    conv.bias = nn.Parameter(bias.detach().clone())


def fold_batchnorms(model: nn.Module) -> int:
    """Fold every ``(conv, norm)`` pair held by one module as ``.conv`` and ``.norm`` (the gated
    blocks of ``vc.gan.layers``); returns how many were folded."""
    folded = 0
    for module in model.modules():
        conv, norm = getattr(module, "conv", None), getattr(module, "norm", None)
        if (isinstance(conv, (nn.Conv2d, nn.ConvTranspose2d)) and isinstance(norm, nn.BatchNorm2d)
                and conv.groups == 1 and norm.track_running_stats and norm.running_var is not None):
            _fold_batchnorm(conv, norm)
            module.norm = nn.Identity()
            folded += 1
    return folded


@torch.no_grad()
def prepare_for_inference(generator: nn.Module, num_speakers: int, mcep_dim: int, *, frames: int = 96) -> nn.Module:
    """An eval-mode copy of ``generator`` with batch norms folded and channels-last weights.

    ``generator(x (B, mcep_dim, T), code (B, num_speakers))`` is the interface; the copy is
    verified on a random ``frames``-frame input against the original (and the original returned
    if they differ).
    """
    generator = generator.eval()
    fast = copy.deepcopy(generator)
    folded = fold_batchnorms(fast)
    device = next(generator.parameters()).device
    if device.type == "cpu":
        fast = fast.to(memory_format=torch.channels_last)
    x = torch.randn(1, mcep_dim, frames, generator=torch.Generator().manual_seed(0)).to(device)
    code = torch.zeros(1, num_speakers, device=device)
    code[0, num_speakers - 1] = 1.0
    ref, out = generator(x, code), fast(x, code)
    err = float((ref - out).abs().max()) / (1.0 + float(ref.abs().max()))
    if not err <= TOLERANCE:
        log.warning("inference rewrite of the generator changed its output (relative error %.2g); "
                    "using the network as stored", err)
        return generator
    log.debug("generator prepared for inference: %d batch norm(s) folded, relative error %.1g", folded, err)
    return fast
