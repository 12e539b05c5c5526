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

Layer lists come from the config (``LayerSpec``). A kernel or stride height of ``None`` means
"the whole remaining height", so the same layer list serves any number of coefficients. Padding is
``(kernel - stride) / 2`` on each axis, so a stride-s layer divides the size exactly by s and its
transposed mirror multiplies it back; inputs are edge-padded to the needed multiple (in time and,
for the generator, in frequency) and the output is cropped back.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from vc.config import choice_problem
from vc.gan.conditioning import concat_code, concat_map, one_hot
from vc.gan.layers import UPSAMPLE_INITS, GatedConv2d, GatedConvTranspose2d, init_upsampling_

#: What the speaker code of G and D holds: the target speaker's one-hot (the paper), or the
#: source's and the target's one-hots side by side (StarGAN-VC2's source-and-target conditioning).
CONDITIONINGS = ("target", "source_target")


@dataclass
class LayerSpec:
    """One convolution: output channels, (height, width) kernel and stride; height None = collapse."""

    channels: int
    kernel: list[int | None]
    stride: list[int | None]


def _spec(channels: int, kernel: tuple[int | None, int], stride: tuple[int | None, int]) -> LayerSpec:
    return LayerSpec(channels, list(kernel), list(stride))


def _paper_generator() -> list[LayerSpec]:
    return [_spec(32, (3, 9), (1, 1)), _spec(64, (4, 8), (2, 2)), _spec(128, (4, 8), (2, 2)),
            _spec(64, (3, 5), (1, 1)), _spec(5, (None, 5), (None, 1))]


def _paper_discriminator() -> list[LayerSpec]:
    return [_spec(32, (3, 9), (1, 1)), _spec(32, (3, 8), (1, 2)), _spec(32, (3, 8), (1, 2)),
            _spec(32, (3, 6), (1, 2)), _spec(1, (None, 5), (None, 1))]


def _paper_classifier() -> list[LayerSpec]:
    return [_spec(8, (4, 4), (2, 2)), _spec(16, (4, 4), (2, 2)), _spec(32, (4, 4), (2, 2)),
            _spec(16, (3, 4), (1, 2)), _spec(0, (None, 4), (None, 2))]


@dataclass
class StarGANVCConfig:
    """Architecture of G, D and C. Defaults are the paper's (arXiv 1806.02169, Fig. 2).

    ``num_speakers`` and ``mcep_dim`` are filled in from the training statistics; the last
    classifier layer's ``channels`` (0 in the default) is replaced by the number of speakers and
    the last discriminator layer must have 1 channel.
    """

    num_speakers: int | None = None
    mcep_dim: int | None = None
    generator: list[LayerSpec] = field(default_factory=_paper_generator)
    generator_norm: str = "batch"
    discriminator: list[LayerSpec] = field(default_factory=_paper_discriminator)
    discriminator_norm: str = "batch"
    classifier: list[LayerSpec] = field(default_factory=_paper_classifier)
    classifier_norm: str = "batch"
    # MCEP rows [lo, hi) seen by C; hi null = every row from lo on, whatever mcep_dim is
    classifier_band: list[int | None] = field(default_factory=lambda: [0, 8])
    # "nearest": G's strided transposed convolutions start as nearest-neighbour upsampling + a
    # convolution (vc.gan.layers.nearest_upsample_init_); "default": PyTorch's random init, kept
    # as the default because on the demo recipe "nearest" was not better overall (MCD 6.89 vs
    # 6.99 dB, but speaker ID 95.0 vs 98.3 %; one run each), unlike on the font images.
    upsample_init: str = "default"
    # D also sees each frame's voicing (1 = the vocoder will excite it with pulses, 0 = noise) as a
    # second input channel. A conversion keeps the source's voicing, so D can then tell an envelope
    # that does not fit its excitation (a vowel-like spectrum in a frame synthesised as noise,
    # which the F0 tracker later reads as voiced). Off: the paper's D(y, c).
    discriminator_voicing: bool = False
    # G's decoder also sees the voicing the synthesis will use (the source's), as one more tiled
    # channel beside the code, at every decoder layer's time resolution (the fraction of voiced
    # frames under each position). Without it G must guess from the source spectrum which frames
    # the vocoder will excite with noise, and at voicing boundaries it cannot. Off: G(x, c).
    generator_voicing: bool = False
    # "target": G(x, c_target) and D(y, c) as in the paper. "source_target": both see the pair
    # [c_source, c_target] (StarGAN-VC2's source-and-target conditional adversarial loss): a real
    # segment of speaker s is judged as a conversion into s from another speaker, a conversion
    # under its own pair, so D learns what each pair's conversions should sound like, and G knows
    # the speaker it converts from. A source the model never saw gets a uniform source half.
    conditioning: str = "target"

    def code_dim(self) -> int:
        """Width of the speaker code that G and D read."""
        return int(self.num_speakers or 0) * (2 if self.conditioning == "source_target" else 1)

    def band(self) -> tuple[int, int]:
        """The MCEP rows ``[lo, hi)`` the classifier sees, with a null ``hi`` resolved."""
        lo, hi = self.classifier_band
        if lo is None:
            raise ValueError("model.classifier_band: only hi may be null (every row from lo on)")
        return int(lo), (int(self.mcep_dim or 0) if hi is None else int(hi))

    def check(self) -> None:
        """Raise ValueError for an architecture that cannot work, before any tensor is made."""
        if not self.num_speakers or self.num_speakers < 2:
            raise ValueError(f"model.num_speakers must be >= 2, got {self.num_speakers}")
        if not self.mcep_dim or self.mcep_dim < 1:
            raise ValueError(f"model.mcep_dim must be >= 1, got {self.mcep_dim}")
        lo, hi = self.band()
        if not 0 <= lo < hi <= self.mcep_dim:
            raise ValueError(f"model.classifier_band {self.classifier_band} must satisfy 0 <= lo < hi <= mcep_dim={self.mcep_dim}")
        for name in ("generator", "discriminator", "classifier"):
            layers = getattr(self, name)
            if len(layers) < 2:
                raise ValueError(f"model.{name} needs at least two layers")
        for problem in (choice_problem("model.upsample_init", self.upsample_init, UPSAMPLE_INITS),
                        choice_problem("model.conditioning", self.conditioning, CONDITIONINGS)):
            if problem:
                raise ValueError(problem)
        if self.discriminator[-1].channels != 1:
            raise ValueError("model.discriminator: the last layer must have 1 channel (one logit per patch)")


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
            raise ValueError(f"{where}[{i}]: kernel and stride need two values (height, width)")
        kh = h if s.kernel[0] is None else s.kernel[0]
        sh = h if s.stride[0] is None else s.stride[0]
        kw, sw = s.kernel[1], s.stride[1]
        if kw is None or sw is None:
            raise ValueError(f"{where}[{i}]: only the height may be None (collapse), not the width")
        for axis, k, st in (("height", kh, sh), ("width", kw, sw)):
            if k < st or (k - st) % 2:
                raise ValueError(f"{where}[{i}]: {axis} kernel {k} and stride {st} must satisfy kernel >= stride "
                                 "and kernel - stride even (so that a stride divides the size exactly)")
        if h < sh:
            raise ValueError(f"{where}[{i}]: stride height {sh} exceeds the remaining height {h}; "
                             "use fewer frequency strides")
        out_ch = last_channels if (i == len(specs) - 1 and last_channels is not None) else s.channels
        plans.append(_Plan(ch, out_ch, (kh, kw), (sh, sw), ((kh - sh) // 2, (kw - sw) // 2)))
        h //= sh
        t_mult *= sw
        ch = out_ch
    return plans, padded, t_mult, h


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

    def __init__(self, cfg: StarGANVCConfig):
        super().__init__()
        cfg.check()
        self.num_speakers, self.mcep_dim = cfg.num_speakers, cfg.mcep_dim
        self.voicing = cfg.generator_voicing
        self.conditioning = cfg.conditioning
        plans, self.height, self.t_mult, _ = _plan_layers(cfg.generator, 1, cfg.mcep_dim, "model.generator")
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

    def __init__(self, cfg: StarGANVCConfig):
        super().__init__()
        cfg.check()
        plans, self.height, self.t_mult, left = _plan_layers(cfg.discriminator, 1, cfg.mcep_dim,
                                                             "model.discriminator")
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

    def __init__(self, cfg: StarGANVCConfig):
        super().__init__()
        cfg.check()
        self.lo, self.hi = cfg.band()
        plans, self.height, self.t_mult, _ = _plan_layers(cfg.classifier, 1, self.hi - self.lo, "model.classifier",
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


def build_stargan_vc(cfg: StarGANVCConfig) -> dict[str, nn.Module]:
    """The three networks, keyed as the training task and the checkpoints name them."""
    return {"G": Generator(cfg), "D": Discriminator(cfg), "C": Classifier(cfg)}
