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

With ``dtype=torch.bfloat16`` the prepared copy is also cast to bfloat16 once (weights, feature
maps; the float32 interface kept by :class:`CastGenerator`), and its strided transposed
convolutions are run as sub-pixel convolutions (:func:`subpixel_phases`): oneDNN's bf16 strided
deconvolution (seen with ``ONEDNN_VERBOSE=1``) was several times slower than the same layer as
four plain convolutions, and than fp32. On CPUs with AMX (Intel Xeon since Sapphire Rapids)
oneDNN then runs every convolution on the matrix units: G took 0.05-0.15 s instead of 0.10-0.14 s
per 5 s of audio on one core (``bench/convert_speed.py``, "network" vs "net fp32"); with
AVX512-BF16 dot products (AMD Zen 4) 0.063-0.077 instead of 0.115-0.138 s, and 0.36-0.41 instead of
0.74-0.81 s per 30 s; on AMD Zen 5 (full-width AVX-512) 0.032-0.034 instead of 0.055-0.061 s, and
0.19-0.20 instead of 0.33-0.39 s per 30 s. On CPUs with neither, :func:`resolve_precision` keeps float32.

The rewritten copy is checked against the original on a random input; if they disagree (an
architecture this code does not know how to fold), the original is used and a warning says so.
"""
from __future__ import annotations

import copy
import logging
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from vc.gan.runtime import cpu_has_native_bf16
from vc.stargan_vc.networks import _pad_to, generator_conditioning, speaker_code

log = logging.getLogger(__name__)

#: Largest allowed |optimised - original| relative to the output's scale, per arithmetic: float32
#: rounding, and bfloat16's 8-bit significand through ten layers (measured: 0.009 on the paper G).
TOLERANCE = {torch.float32: 1e-4, torch.bfloat16: 5e-2}

#: In bfloat16, gated layers with at most this many channels per half run as two convolutions
#: (see :meth:`InferenceGenerator._gated_conv`).
SPLIT_GATE_CHANNELS = 32

#: ``precision`` names accepted by :func:`resolve_precision` and the torch types they stand for.
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


def resolve_precision(precision: str, device: str | torch.device = "cpu") -> str:
    """The arithmetic G runs in: ``"auto"`` is bf16 on a CPU with native bf16 dot products
    (:func:`vc.gan.runtime.cpu_has_native_bf16`), where it is 1.7-3x faster and changes the
    converted mel-cepstrum by ~0.03 dB MCD, and fp32 elsewhere (on a GPU the network is cheap)."""
    if precision != "auto":
        if precision not in DTYPES:
            raise ValueError(f"precision must be auto, {' or '.join(DTYPES)}, got {precision!r}")
        return precision
    if torch.device(device).type != "cpu":
        return "fp32"
    return "bf16" if cpu_has_native_bf16() else "fp32"


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


@dataclass(frozen=True)
class SubpixelPhase:
    """One output phase of a strided transposed convolution as a plain convolution: output
    pixels ``(row * sh + rh, col * sw + rw)`` are ``conv2d(x, weight, padding=padding)`` cropped
    to ``[crop_h : crop_h + H, crop_w : crop_w + W]`` (``H, W`` the input's size)."""

    rh: int
    rw: int
    weight: torch.Tensor  # (C_out, C_in, Jh, Jw)
    padding: tuple[int, int]
    crop: tuple[int, int]


def subpixel_phases(deconv: nn.ConvTranspose2d) -> list[SubpixelPhase] | None:
    """The ``sh * sw`` plain convolutions that together compute ``deconv`` (``None`` when it is
    not a strided transposed convolution whose output is exactly ``stride`` times its input).

    Output pixel ``y = s * x + k - p`` of a transposed convolution takes kernel taps
    ``k = s * j + q`` with ``q = (r + p) mod s`` for output phase ``r = y mod s``: phase ``r`` is
    a correlation of the input with the taps ``q, q + s, ...`` in reverse order. Exact: the same
    products, summed in another order.
    """
    if (deconv.groups != 1 or tuple(deconv.dilation) != (1, 1) or tuple(deconv.output_padding) != (0, 0)
            or deconv.padding_mode != "zeros" or tuple(deconv.stride) == (1, 1)):
        return None
    axes = []
    for s, k, p in zip(deconv.stride, deconv.kernel_size, deconv.padding):
        if k - 2 * p != s:
            return None
        per_phase = []
        for r in range(s):
            q = (r + p) % s
            c = (r + p - q) // s  # input offset of the phase's last tap
            taps = -(-(k - q) // s)
            left, right = taps - 1 - c, c  # zero padding that keeps the phase's output at the input's size
            if left < 0:
                return None
            pad = max(left, right)
            per_phase.append(([s * (taps - 1 - t) + q for t in range(taps)], pad, pad - left))
        axes.append(per_phase)
    weight = deconv.weight.detach()  # (C_in, C_out, kh, kw)
    phases = []
    for rh, (rows, pad_h, crop_h) in enumerate(axes[0]):
        for rw, (cols, pad_w, crop_w) in enumerate(axes[1]):
            w = weight[:, :, rows][:, :, :, cols].transpose(0, 1).contiguous()
            phases.append(SubpixelPhase(rh, rw, w, (pad_h, pad_w), (crop_h, crop_w)))
    return phases


class CastGenerator(nn.Module):
    """``generator`` stored and run in ``dtype`` behind G's float32 interface: the input and code
    are cast on the way in, the output back to float32 on the way out."""

    def __init__(self, generator: nn.Module, dtype: torch.dtype) -> None:
        super().__init__()
        self.generator = generator.to(dtype)
        self.dtype = dtype

    def forward(self, x: torch.Tensor, code: torch.Tensor, voiced: torch.Tensor | None = None) -> torch.Tensor:
        return self.generator(x.to(self.dtype), code.to(self.dtype), voiced).float()


@torch.no_grad()
def prepare_for_inference(generator: nn.Module, num_speakers: int, mcep_dim: int, *, frames: int = 96,
                          dtype: torch.dtype = torch.float32) -> nn.Module:
    """An eval-mode copy of ``generator`` with batch norms folded and channels-last weights, in
    ``dtype`` (float32 or bfloat16) behind a float32 interface.

    ``generator(x (B, mcep_dim, T), code (B, code_dim), voiced (B, T))`` is the interface
    (``code`` from :func:`vc.stargan_vc.networks.speaker_code`, ``voiced`` read only by a
    voicing-conditioned G); the copy is verified on a random
    ``frames``-frame input against the original (and the original returned if they differ by more
    than ``dtype``'s rounding).
    """
    generator = generator.eval()
    fast = copy.deepcopy(generator)
    folded = fold_batchnorms(fast)
    fast.requires_grad_(False)  # a fixed function: no autograd records, whatever the grad mode
    device = next(generator.parameters()).device
    if device.type == "cpu":
        fast = fast.to(memory_format=torch.channels_last)
        if InferenceGenerator.supports(fast):
            # Sub-pixel convolutions only pay in bf16: in fp32 oneDNN's strided deconvolution is
            # as fast as the four plain convolutions (measured 17-24 ms vs 23-47 ms per layer).
            fast = InferenceGenerator(fast, subpixel=dtype != torch.float32)
    if dtype != torch.float32:
        fast = CastGenerator(fast, dtype)
    x = torch.randn(1, mcep_dim, frames, generator=torch.Generator().manual_seed(0)).to(device)
    code = speaker_code(generator_conditioning(generator), torch.tensor([0], device=device),
                        torch.tensor([num_speakers - 1], device=device), num_speakers)
    voiced = (torch.rand(1, frames, generator=torch.Generator().manual_seed(1)) > 0.5).float().to(device)
    ref, out = generator(x, code, voiced), fast(x, code, voiced)
    err = float((ref - out).abs().max()) / (1.0 + float(ref.abs().max()))
    if not err <= TOLERANCE[dtype]:
        log.warning("inference rewrite of the generator changed its output (relative error %.2g); "
                    "using the network as stored", err)
        return generator
    log.debug("generator prepared for inference: %d batch norm(s) folded, %s, relative error %.1g",
              folded, dtype, err)
    return fast


class InferenceGenerator(nn.Module):
    """StarGAN-VC's ``G(x, code[, voiced])`` on the CPU: the wrapped generator's own layers and weights, run
    without the copies that dominate its plain forward pass outside the convolutions.

    * Every feature map stays channels-last (NHWC). ``F.glu`` returns a NCHW tensor for a NHWC
      input, so in the plain pass each following convolution first reorders it, and
      ``torch.cat`` of the map with the tiled speaker code copies it once more before every
      decoder layer. Here each gated layer writes its GLU output (same kernel) straight into a
      NHWC buffer whose last channels already hold the code.
    * With ``subpixel``, the strided transposed convolutions of the decoder run as their output
      phases' plain convolutions (:func:`subpixel_phases`), each phase's GLU written straight
      into its pixels of the upsampled NHWC map.
    * The last layer (a stride-1 transposed convolution to one channel) is one matrix product
      over channels and then a sum of shifted planes: oneDNN and PyTorch's fallback run a
      one-output-channel convolution at a few percent of the machine's speed. The sum runs in
      another order than theirs, so this layer agrees with them to float32 rounding.

    Only a generator built like ``vc.stargan_vc.networks.Generator`` (gated encoder layers, gated
    transposed decoder layers seeing the code, a plain transposed last layer, batch norms folded)
    is wrapped: see :meth:`supports`. :func:`prepare_for_inference` checks the result against the
    stored network either way.
    """

    def __init__(self, generator: nn.Module, *, subpixel: bool = False) -> None:
        super().__init__()
        self.generator = generator
        # Per decoder layer: its phases (weights as buffers, so that .to(dtype) casts them) or None.
        self.phases: list[list[tuple[int, int, str, tuple[int, int], tuple[int, int]]] | None] = []
        for i, layer in enumerate(generator.decoder[:-1]):
            phases = subpixel_phases(layer.conv) if subpixel else None
            if phases is not None:
                for ph in phases:
                    self.register_buffer(f"phase_{i}_{ph.rh}_{ph.rw}", ph.weight.contiguous(
                        memory_format=torch.channels_last), persistent=False)
                phases = [(ph.rh, ph.rw, f"phase_{i}_{ph.rh}_{ph.rw}", ph.padding, ph.crop) for ph in phases]
            self.phases.append(phases)
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
        if not all(hasattr(generator, a) for a in ("height", "t_mult", "decoder_conditions")):
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
    def _crop(y: torch.Tensor, out: torch.Tensor, crop: tuple[int, int] | None) -> torch.Tensor:
        """``y`` cut to ``out``'s height and width from offset ``crop`` (``y`` itself when None)."""
        if crop is None:
            return y
        (ch, cw), (hgt, wid) = crop, out.shape[2:]
        return y[:, :, ch:ch + hgt, cw:cw + wid]

    @classmethod
    def _gate(cls, y: torch.Tensor, out: torch.Tensor, crop: tuple[int, int] | None = None) -> None:
        """``out = GLU(y)`` over channels (``y`` cropped to ``out``'s size from ``crop`` first)."""
        torch.ops.aten.glu.out(cls._crop(y, out, crop), 1, out=out)

    def _gated_conv(self, h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                    stride: tuple[int, int], padding: tuple[int, int], out: torch.Tensor,
                    crop: tuple[int, int] | None = None) -> None:
        """``out = GLU(conv2d(h, weight, bias, stride, padding))`` (cropped from ``crop`` first).

        In bfloat16, PyTorch's GLU kernel runs 3-4x slower than in float32 when a half has 32
        channels or fewer (the halves interleave every 32 values in NHWC, and its vector loop
        restarts at each), and so does a sigmoid over the whole map. There the two halves are
        computed as two convolutions into contiguous maps, the gate's sigmoid taken in place, and
        one multiplication writes ``out``: the first layer of the paper's G (1 -> 2 x 32
        channels, 36 x 6000 pixels) took 10.5 instead of 23.7 ms. The same products and sums.
        """
        c = weight.shape[0] // 2
        if h.dtype != torch.bfloat16 or c > SPLIT_GATE_CHANNELS:
            self._gate(F.conv2d(h, weight, bias, stride, padding), out, crop)
            return
        halves = [F.conv2d(h, weight[i * c:(i + 1) * c], None if bias is None else bias[i * c:(i + 1) * c],
                           stride, padding) for i in (0, 1)]
        value, gate = halves[0], halves[1].sigmoid_()  # in place over the whole contiguous map
        torch.mul(self._crop(value, out, crop), self._crop(gate, out, crop), out=out)

    @staticmethod
    def _new_map(like: torch.Tensor, channels: int, height: int, width: int,
                 extra: torch.Tensor | None) -> torch.Tensor:
        """An empty NHWC map of ``channels`` feature channels followed by ``extra``'s K channels
        (already filled in) when given: ``extra`` is a decoder condition ``(B, K, 1, 1|width)``
        (the code, and the voicing when G reads it), tiled over the map."""
        k = 0 if extra is None else extra.shape[1]
        out = torch.empty((like.shape[0], channels + k, height, width), dtype=like.dtype, device=like.device,
                          memory_format=torch.channels_last)
        if extra is not None:
            out[:, channels:] = extra.to(like.dtype)
        return out

    def _glu_into(self, conv: nn.Conv2d | nn.ConvTranspose2d, h: torch.Tensor,
                  extra: torch.Tensor | None) -> torch.Tensor:
        """The gated layer ``conv`` applied to ``h``, into a new NHWC map followed by ``extra``'s
        channels when given (see :meth:`_new_map`)."""
        c = conv.out_channels // 2
        if (isinstance(conv, nn.Conv2d) and conv.padding_mode == "zeros" and conv.groups == 1
                and tuple(conv.dilation) == (1, 1) and not isinstance(conv.padding, str)):  # str: 'same'
            hgt, wid = ((n + 2 * p - k) // s + 1 for n, p, k, s in
                        zip(h.shape[2:], conv.padding, conv.kernel_size, conv.stride))
            out = self._new_map(h, c, hgt, wid, extra)
            self._gated_conv(h, conv.weight, conv.bias, conv.stride, conv.padding, out[:, :c])
            return out
        y = conv(h)
        out = self._new_map(y, c, y.shape[2], y.shape[3], extra)
        self._gate(y, out[:, :c])
        return out

    def _subpixel_glu(self, layer: nn.Module, phases: list, h: torch.Tensor, extra: torch.Tensor) -> torch.Tensor:
        """The gated strided transposed convolution ``layer`` applied to ``h`` as its output phases,
        into the same kind of NHWC map as :meth:`_glu_into` makes."""
        conv = layer.conv
        sh, sw = conv.stride
        c = conv.out_channels // 2
        out = self._new_map(h, c, h.shape[2] * sh, h.shape[3] * sw, extra)
        for rh, rw, name, padding, crop in phases:
            self._gated_conv(h, getattr(self, name), conv.bias, (1, 1), padding, out[:, :c, rh::sh, rw::sw], crop)
        return out

    def _last_layer(self, h: torch.Tensor) -> torch.Tensor:
        """The stride-1 transposed convolution to one channel: ``(B, C, H, W) -> (B, 1, H', W')``.

        Each input pixel adds ``tap[i, j] = sum_c h[c] * weight[c, i, j]`` to output pixel
        ``(r + i - ph, s + j - pw)``: one matrix product gives every tap plane, and the planes
        are added into the output at their offsets.
        """
        b, c, hgt, wid = h.shape
        (kh, kw), (ph, pw) = self.last_kernel, self.last_padding
        # (kh*kw, B*H*W) planes: h is NHWC, so (B*H*W, C) is a plain view, read transposed by the
        # matrix product itself (a batched product copied it first: 16 of 32 ms per 30 s of audio).
        # The planes are summed in float32 whatever G's arithmetic: the output has no layer after it.
        taps = torch.mm(self.last_weight.t(), h.permute(0, 2, 3, 1).reshape(b * hgt * wid, c).t())
        taps = taps.view(kh, kw, b, hgt, wid)
        acc = torch.zeros((b, hgt + kh - 1, wid + kw - 1), dtype=torch.float32, device=h.device)
        for i in range(kh):
            for j in range(kw):
                acc[:, i:i + hgt, j:j + wid] += taps[i, j]  # bf16 planes are widened as they are added
        out = acc[:, ph:ph + hgt + kh - 1 - 2 * ph, pw:pw + wid + kw - 1 - 2 * pw]
        if self.last_bias is not None:
            out = out + self.last_bias
        return out.unsqueeze(1)

    def forward(self, x: torch.Tensor, code: torch.Tensor, voiced: torch.Tensor | None = None) -> torch.Tensor:
        g = self.generator
        q, n = x.shape[1], x.shape[2]
        # the last encoder layer's map carries the first decoder layer's condition, and so on
        conditions = g.decoder_conditions(code.to(x.dtype), voiced, n)
        h = _pad_to(x.unsqueeze(1), g.height, g.t_mult).contiguous(memory_format=torch.channels_last)
        for i, layer in enumerate(g.encoder):
            h = self._glu_into(layer.conv, h, conditions[0] if i == len(g.encoder) - 1 else None)
        for layer, phases, cond in zip(g.decoder[:-1], self.phases, conditions[1:]):
            h = self._glu_into(layer.conv, h, cond) if phases is None else self._subpixel_glu(layer, phases, h, cond)
        return self._last_layer(h)[:, 0, :q, :n]
