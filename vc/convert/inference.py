"""Making a trained generator cheaper to run, without changing what it computes.

At conversion time G is a fixed function, so two exact rewrites pay off on the CPU (about a
third of G's time, which is most of what conversion adds to bare WORLD analysis/synthesis):

* batch normalisation in eval mode is an affine map per channel, folded into the preceding
  convolution's weights and bias (one pass over the feature map instead of two);
* weights in channels-last memory layout, which oneDNN's convolutions (forward and transposed)
  run much faster than the default layout.

On the CPU the forward pass itself is then run by :class:`InferenceGenerator`, which calls the
same layers with the same weights but keeps every feature map channels-last and never copies one
(see its docstring): a fifth of G's time on a 5 s input, the same function to float32 rounding.

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
    fast.requires_grad_(False)  # a fixed function: no autograd records, whatever the grad mode
    device = next(generator.parameters()).device
    if device.type == "cpu":
        fast = fast.to(memory_format=torch.channels_last)
        if InferenceGenerator.supports(fast):
            fast = InferenceGenerator(fast)
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


class InferenceGenerator(nn.Module):
    """StarGAN-VC's ``G(x, code)`` on the CPU: the wrapped generator's own layers and weights, run
    without the copies that dominate its plain forward pass outside the convolutions.

    * Every feature map stays channels-last (NHWC). ``F.glu`` returns a NCHW tensor for a NHWC
      input, so in the plain pass each following convolution first reorders it, and
      ``torch.cat`` of the map with the tiled speaker code copies it once more before every
      decoder layer. Here each gated layer writes its GLU output (same kernel) straight into a
      NHWC buffer whose last channels already hold the code.
    * The last layer (a stride-1 transposed convolution to one channel) is one matrix product
      over channels and then a sum of shifted planes: oneDNN and PyTorch's fallback run a
      one-output-channel convolution at a few percent of the machine's speed. The sum runs in
      another order than theirs, so this layer agrees with them to float32 rounding.

    Only a generator built like ``vc.models.stargan_vc.Generator`` (gated encoder layers, gated
    transposed decoder layers seeing the code, a plain transposed last layer, batch norms folded)
    is wrapped: see :meth:`supports`. :func:`prepare_for_inference` checks the result against the
    stored network either way.
    """

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator
        last = generator.decoder[-1]
        weight = last.weight.detach()  # (C_in, 1, kh, kw)
        kh, kw = weight.shape[2:]
        # (C_in, kh * kw): column i * kw + j holds tap (i, j) of every input channel
        self.register_buffer("last_weight", weight[:, 0].reshape(weight.shape[0], kh * kw).contiguous(),
                             persistent=False)
        self.last_bias = None if last.bias is None else float(last.bias.detach()[0])
        self.last_kernel = (int(kh), int(kw))
        self.last_padding = tuple(int(p) for p in last.padding)

    @staticmethod
    def supports(generator: nn.Module) -> bool:
        """True for a generator whose forward pass this class reproduces."""
        encoder, decoder = getattr(generator, "encoder", None), getattr(generator, "decoder", None)
        if not isinstance(encoder, nn.ModuleList) or not isinstance(decoder, nn.ModuleList) or len(decoder) < 2:
            return False
        if not all(hasattr(generator, a) for a in ("height", "t_mult")):
            return False

        def gated(m: nn.Module, kind: type) -> bool:
            return (isinstance(getattr(m, "conv", None), kind) and isinstance(getattr(m, "norm", None), nn.Identity)
                    and len(list(m.children())) == 2)

        last = decoder[-1]
        return (all(gated(m, nn.Conv2d) for m in encoder) and all(gated(m, nn.ConvTranspose2d) for m in decoder[:-1])
                and type(last) is nn.ConvTranspose2d and last.out_channels == 1 and last.groups == 1
                and tuple(last.stride) == (1, 1) and tuple(last.dilation) == (1, 1)
                and tuple(last.output_padding) == (0, 0) and last.padding_mode == "zeros"
                and all(2 * p <= k - 1 for p, k in zip(last.padding, last.kernel_size)))

    @staticmethod
    def _glu_into(y: torch.Tensor, extra: torch.Tensor | None) -> torch.Tensor:
        """GLU of the conv output ``y`` (B, 2C, H, W) into a new NHWC map, followed by ``extra``'s
        (B, K) code tiled as K more channels when given."""
        b, c2, h, w = y.shape
        k = 0 if extra is None else extra.shape[1]
        out = torch.empty((b, c2 // 2 + k, h, w), dtype=y.dtype, device=y.device,
                          memory_format=torch.channels_last)
        torch.ops.aten.glu.out(y, 1, out=out[:, : c2 // 2])
        if extra is not None:
            out[:, c2 // 2:] = extra.to(y.dtype)[:, :, None, None]
        return out

    def _last_layer(self, h: torch.Tensor) -> torch.Tensor:
        """The stride-1 transposed convolution to one channel: ``(B, C, H, W) -> (B, 1, H', W')``.

        Each input pixel adds ``tap[i, j] = sum_c h[c] * weight[c, i, j]`` to output pixel
        ``(r + i - ph, s + j - pw)``: one matrix product gives every tap plane, and the planes
        are added into the output at their offsets.
        """
        b, c, hgt, wid = h.shape
        (kh, kw), (ph, pw) = self.last_kernel, self.last_padding
        # (B, kh*kw, H*W) planes; h is NHWC, so (H*W, C) per item is a plain strided view
        taps = torch.matmul(self.last_weight.t(), h.reshape(b, c, hgt * wid))
        taps = taps.view(b, kh, kw, hgt, wid)
        acc = torch.zeros((b, hgt + kh - 1, wid + kw - 1), dtype=h.dtype, device=h.device)
        for i in range(kh):
            for j in range(kw):
                acc[:, i:i + hgt, j:j + wid] += taps[:, i, j]
        out = acc[:, ph:ph + hgt + kh - 1 - 2 * ph, pw:pw + wid + kw - 1 - 2 * pw]
        if self.last_bias is not None:
            out = out + self.last_bias
        return out.unsqueeze(1)

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        from vc.models.stargan_vc import _pad_to

        g = self.generator
        q, n = x.shape[1], x.shape[2]
        h = _pad_to(x.unsqueeze(1), g.height, g.t_mult).contiguous(memory_format=torch.channels_last)
        for i, layer in enumerate(g.encoder):
            h = self._glu_into(layer.conv(h), code if i == len(g.encoder) - 1 else None)
        for i, layer in enumerate(g.decoder[:-1]):
            h = self._glu_into(layer.conv(h), code)
        return self._last_layer(h)[:, 0, :q, :n]
