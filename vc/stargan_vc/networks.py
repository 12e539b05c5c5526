"""StarGAN-VC's generator, discriminator and domain classifier (Kameoka et al. 2018, arXiv 1806.02169).

All three networks treat a normalised MCEP sequence as a one-channel image of height Q
(coefficients) and width N (frames) and are built from gated (GLU) 2-D convolutions:

* ``Generator``: fully convolutional encoder-decoder. The encoder downsamples time and frequency
  and its last layer collapses the remaining height to 1; the decoder mirrors it with transposed
  gated convolutions and sees the target speaker's one-hot code tiled over the feature map at
  every layer. Its output is ``(B, Q, N)`` for any ``N``. With ``generator_voicing`` the decoder
  also sees each frame's voicing (averaged over the frames a decoder position covers) beside the
  code, ``G(x, c, v)`` (not in the paper either).
* Speaker codes: with ``conditioning: target`` (the paper) G and D see the one-hot code of the
  speaker a sample is (or should sound like); with ``source_target`` (StarGAN-VC2, Kaneko et al.
  2019, arXiv 1907.12279) they see the pair ``[source one-hot, target one-hot]``, so G knows
  which speaker it converts from and D judges a conversion for its pair of speakers
  (:func:`speaker_code` builds either).
* ``Discriminator``: gated-CNN PatchGAN on ``(y, c)``, the code tiled in at every layer. It
  returns one logit per time patch, shape ``(B, P)``; the paper's decision is the product of the
  per-patch probabilities, which is what ``vc.gan.losses`` computes (as a mean of
  per-patch log-probabilities with ``logsigmoid``) for the ``nonsaturating`` loss; LSGAN, WGAN
  and hinge treat every patch's raw output as one sample. With ``discriminator_voicing`` it also
  reads a frame's voicing as a second input channel, ``D(y, c, v)`` (not in the paper; see the
  config field for why).
* ``Classifier``: gated-CNN speaker classifier over a band of MCEP rows (default the lowest
  eight, which carry most speaker identity and little phonetic detail); it returns per-segment
  logits ``(B, K, S)``, aggregated as the product of per-segment probabilities.

Layer lists come from the ``net:`` section (:class:`vc.stargan_vc.config.StarGANVCNetConfig`). A
kernel or stride height of ``None`` means "the whole remaining height", so the same layer list
serves any number of coefficients. Padding is
``(kernel - stride) / 2`` on each axis, so a stride-s layer divides the size exactly by s and its
transposed mirror multiplies it back; inputs are edge-padded to the needed multiple (in time and,
for the generator, in frequency) and the output is cropped back.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from vc.config import ConfigError
from vc.gan.conditioning import concat_code, concat_map, one_hot
from vc.gan.layers import GatedConv2d, GatedConvTranspose2d, init_upsampling_
from vc.stargan_vc.config import CONDITIONINGS, LayerSpec, StarGANVCNetConfig

@dataclass(frozen=True)
class _Plan:
    """A layer with every size resolved for a given input height."""

    in_ch: int
    out_ch: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]


def _plan_layers(specs: list[LayerSpec], in_ch: int, height: int, where: str,
                 last_channels: int | None = None) -> tuple[list[_Plan], int, int, int]:
    """Resolve kernels/strides/paddings for an input of ``height`` rows (padded as needed).

    Returns the plans, the padded input height, the time multiple the input must have, and the
    height left after the last layer.
    """
    h_mult = 1
    for s in specs:
        if s.stride[0] is not None:
            h_mult *= s.stride[0]
    padded = -(-height // h_mult) * h_mult
    plans, h, t_mult, ch = [], padded, 1, in_ch
    for i, s in enumerate(specs):
        if len(s.kernel) != 2 or len(s.stride) != 2:
            raise ConfigError(f"{where}[{i}]: kernel and stride need two values (height, width)")
        kh = h if s.kernel[0] is None else s.kernel[0]
        sh = h if s.stride[0] is None else s.stride[0]
        kw, sw = s.kernel[1], s.stride[1]
        if kw is None or sw is None:
            raise ConfigError(f"{where}[{i}]: only the height may be None (collapse), not the width")
        for axis, k, st in (("height", kh, sh), ("width", kw, sw)):
            if k < st or (k - st) % 2:
                raise ConfigError(f"{where}[{i}]: {axis} kernel {k} and stride {st} must satisfy kernel >= stride "
                                 "and kernel - stride even (so that a stride divides the size exactly)")
        if h < sh:
            raise ConfigError(f"{where}[{i}]: stride height {sh} exceeds the remaining height {h}; "
                             "use fewer frequency strides")
        out_ch = last_channels if (i == len(specs) - 1 and last_channels is not None) else s.channels
        plans.append(_Plan(ch, out_ch, (kh, kw), (sh, sw), ((kh - sh) // 2, (kw - sw) // 2)))
        h //= sh
        t_mult *= sw
        ch = out_ch
    return plans, padded, t_mult, h


def plan_networks(cfg: StarGANVCNetConfig) -> None:
    """Resolve every layer of G, D and C for ``cfg.mcep_dim`` rows; a ConfigError names the first
    layer that cannot work (what :class:`StarGANVCNetConfig` checks once ``mcep_dim`` is known)."""
    height = int(cfg.mcep_dim or 0)
    lo, hi = cfg.band()
    _plan_layers(cfg.generator, 1, height, "net.generator")
    _plan_layers(cfg.discriminator, 1, height, "net.discriminator")
    _plan_layers(cfg.classifier, 1, hi - lo, "net.classifier", last_channels=cfg.num_speakers)


def _require_resolved(cfg: StarGANVCNetConfig) -> None:
    if not cfg.resolved:
        raise ConfigError("net.num_speakers and net.mcep_dim must be set before the networks are built "
                          f"(they come from the training statistics), got {cfg.num_speakers} and {cfg.mcep_dim}")


def speaker_code(conditioning: str, source: Tensor | None, target: Tensor, num_speakers: int) -> Tensor:
    """The ``(B, code_dim)`` code of a conversion from speakers ``source`` to ``target`` (``(B,)``
    indices) under ``conditioning``; a ``None`` source (a speaker the model has not seen) is a
    uniform distribution over the known speakers. With ``"target"`` the source is ignored."""
    tgt = one_hot(target, num_speakers)
    if conditioning == "target":
        return tgt
    if conditioning != "source_target":
        raise ValueError(f"unknown conditioning {conditioning!r}; expected one of {', '.join(CONDITIONINGS)}")
    src = (torch.full_like(tgt, 1.0 / num_speakers) if source is None
           else one_hot(source.to(target.device), num_speakers))
    return torch.cat([src, tgt], 1)


def generator_conditioning(generator: nn.Module) -> str:
    """The ``conditioning`` of a generator, looked up through inference wrappers (which keep
    the network they run as ``.generator``); ``"target"`` for a network without the attribute."""
    g: nn.Module | None = generator
    while g is not None:
        if isinstance(getattr(g, "conditioning", None), str):
            return g.conditioning
        g = getattr(g, "generator", None)
    return "target"


def convert_segments(generator: nn.Module, x: Tensor, source: Tensor, target: Tensor, voiced: Tensor | None,
                     num_speakers: int) -> Tensor:
    """G's conversion of normalised segments ``x`` ``(B, Q, N)`` from speakers ``source`` to
    ``target`` (``(B,)``), with the code its conditioning needs and the frames' voicing ``(B, N)``."""
    return generator(x, speaker_code(generator_conditioning(generator), source, target, num_speakers), voiced)


def _check_voicing(voiced: Tensor | None, batch: int, frames: int, network: str) -> Tensor:
    """``voiced`` if it is the ``(batch, frames)`` mask a voicing-conditioned network needs."""
    if voiced is None or voiced.shape != (batch, frames):
        raise ValueError(f"this {network} needs voicing (B, N) = {(batch, frames)}, got "
                         f"{None if voiced is None else tuple(voiced.shape)}")
    return voiced


def _pad_to(x: Tensor, height: int, t_mult: int) -> Tensor:
    """Edge-pad ``(B, C, H, N)`` to ``height`` rows and a multiple of ``t_mult`` frames."""
    n = x.shape[-1]
    extra_t = -(-n // t_mult) * t_mult - n
    extra_h = height - x.shape[-2]
    if extra_t == 0 and extra_h == 0:
        return x
    return F.pad(x, (0, extra_t, 0, extra_h), mode="replicate")


class Generator(nn.Module):
    """``G(x, c[, v])``: normalised MCEP ``(B, Q, N)``, speaker code ``(B, code_dim)``
    (:func:`speaker_code`; and, with ``generator_voicing``, the frames' voicing ``(B, N)``) ->
    ``(B, Q, N)``."""

    def __init__(self, cfg: StarGANVCNetConfig):
        super().__init__()
        _require_resolved(cfg)
        self.num_speakers, self.mcep_dim = cfg.num_speakers, cfg.mcep_dim
        self.voicing = cfg.generator_voicing
        self.conditioning = cfg.conditioning
        plans, self.height, self.t_mult, _ = _plan_layers(cfg.generator, 1, cfg.mcep_dim, "net.generator")
        self.encoder = nn.ModuleList(
            GatedConv2d(p.in_ch, p.out_ch, p.kernel, p.stride, p.padding, norm=cfg.generator_norm) for p in plans)
        # each decoder layer's input covers this many frames per position (its encoder mirror's output)
        factors, f = [], 1
        for p in plans:
            f *= p.stride[1]
            factors.append(f)
        self.decoder_time_factors = factors[::-1]
        k = cfg.code_dim() + (1 if self.voicing else 0)
        decoder: list[nn.Module] = []
        for i, p in enumerate(reversed(plans)):
            out_ch = p.in_ch  # mirror: each decoder layer restores its encoder layer's input width
            if i == len(plans) - 1:
                decoder.append(nn.ConvTranspose2d(p.out_ch + k, out_ch, p.kernel, p.stride, p.padding))
            else:
                decoder.append(GatedConvTranspose2d(p.out_ch + k, out_ch, p.kernel, p.stride, p.padding,
                                                    norm=cfg.generator_norm))
        self.decoder = nn.ModuleList(decoder)
        init_upsampling_(self.decoder, cfg.upsample_init)

    def decoder_conditions(self, code: Tensor, voiced: Tensor | None, frames: int) -> list[Tensor]:
        """What each decoder layer sees beside its input map, as ``(B, code_dim[+1], 1, 1|W)`` to be
        broadcast over the map's height (and width): the code, and with ``generator_voicing`` the
        voicing of the ``frames``-frame input (edge-padded like the input) averaged per position."""
        b = code.shape[0]
        if not self.voicing:
            return [code[:, :, None, None]] * len(self.decoder)
        voiced = _check_voicing(voiced, b, frames, "generator")
        padded = -(-frames // self.t_mult) * self.t_mult
        v = F.pad(voiced.to(code.dtype)[:, None, :], (0, padded - frames), mode="replicate")
        out = []
        for f in self.decoder_time_factors:
            vf = F.avg_pool1d(v, f) if f > 1 else v
            out.append(torch.cat([code[:, :, None, None].expand(-1, -1, 1, vf.shape[-1]), vf[:, :, None, :]], 1))
        return out

    def forward(self, x: Tensor, code: Tensor, voiced: Tensor | None = None) -> Tensor:
        """``voiced`` ``(B, N)`` (1 = voiced frame) is used only with ``generator_voicing``."""
        q, n = x.shape[1], x.shape[2]
        conditions = self.decoder_conditions(code.to(x.dtype), voiced, n)
        h = _pad_to(x.unsqueeze(1), self.height, self.t_mult)
        for layer in self.encoder:
            h = layer(h)
        for layer, cond in zip(self.decoder, conditions):
            h = layer(concat_map(h, cond))
        return h[:, 0, :q, :n]


class Discriminator(nn.Module):
    """``D(y, c)``: per-patch real/fake logits ``(B, P)`` for MCEP ``(B, Q, N)`` under a speaker code
    ``(B, code_dim)``."""

    def __init__(self, cfg: StarGANVCNetConfig):
        super().__init__()
        _require_resolved(cfg)
        plans, self.height, self.t_mult, left = _plan_layers(cfg.discriminator, 1, cfg.mcep_dim,
                                                             "net.discriminator")
        k = cfg.code_dim()
        self.voicing = cfg.discriminator_voicing
        first_in = 2 if self.voicing else 1
        self.layers = nn.ModuleList(
            GatedConv2d((first_in if i == 0 else p.in_ch) + k, p.out_ch, p.kernel, p.stride, p.padding,
                        norm=cfg.discriminator_norm)
            for i, p in enumerate(plans[:-1]))
        last = plans[-1]
        self.out = nn.Conv2d(last.in_ch + k, 1, last.kernel, last.stride, last.padding)

    def forward(self, y: Tensor, code: Tensor, voiced: Tensor | None = None) -> Tensor:
        """``voiced`` ``(B, N)`` (1 = voiced frame) is used only with ``discriminator_voicing``."""
        h = y.unsqueeze(1)
        if self.voicing:
            voiced = _check_voicing(voiced, y.shape[0], y.shape[2], "discriminator")
            h = concat_map(h, voiced[:, None, None, :])  # tiled over the MCEP rows
        h = _pad_to(h, self.height, self.t_mult)
        for layer in self.layers:
            h = layer(concat_code(h, code))
        return self.out(concat_code(h, code)).flatten(1)


class Classifier(nn.Module):
    """``C(y)``: per-segment speaker logits ``(B, K, S)`` from a band of MCEP rows of ``(B, Q, N)``."""

    def __init__(self, cfg: StarGANVCNetConfig):
        super().__init__()
        _require_resolved(cfg)
        self.lo, self.hi = cfg.band()
        plans, self.height, self.t_mult, _ = _plan_layers(cfg.classifier, 1, self.hi - self.lo, "net.classifier",
                                                          last_channels=cfg.num_speakers)
        self.layers = nn.ModuleList(
            GatedConv2d(p.in_ch, p.out_ch, p.kernel, p.stride, p.padding, norm=cfg.classifier_norm)
            for p in plans[:-1])
        last = plans[-1]
        self.out = nn.Conv2d(last.in_ch, last.out_ch, last.kernel, last.stride, last.padding)

    def forward(self, y: Tensor) -> Tensor:
        h = _pad_to(y[:, self.lo:self.hi].unsqueeze(1), self.height, self.t_mult)
        for layer in self.layers:
            h = layer(h)
        return self.out(h).flatten(2)


def build_stargan_vc(cfg: StarGANVCNetConfig) -> dict[str, nn.Module]:
    """The three networks, keyed as the training task and the checkpoints name them."""
    return {"G": Generator(cfg), "D": Discriminator(cfg), "C": Classifier(cfg)}
