"""The StarGAN v2 config (Choi et al. 2020, arXiv 1912.01865), loaded from YAML.

A v2 config says ``model: stargan_v2`` at its top level; that one string is how the
``vc-img-*`` front ends tell it from a StarGAN (v1) config, whose ``model`` is a mapping of
widths. Data settings reuse :class:`~vc.image.config.ImageDataConfig` (folder-per-domain trees
such as AFHQ, or a CelebA-layout set such as the font set whose domains are one exclusive
group of attributes), and the evaluation classifier reuses StarGAN's.

Defaults are the paper's objective and optimiser (non-saturating loss + R1 = 1, style
reconstruction 1, diversity 1 decayed to 0, cycle 1; Adam 1e-4, betas (0, 0.99), weight decay
1e-4, mapping network 1e-6, EMA 0.999) with widths small enough for a first run.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from vc.config import ConfigError
from vc.gan.trainer import TrainerConfig
from vc.image.config import EvalClassifierConfig, ImageDataConfig
from vc.image.slant import SLANT_READERS

MODEL_NAME = "stargan_v2"


@dataclass
class StarGANv2NetConfig:
    """Widths and depths. ``0`` for a depth means "from the image size", as in the paper:
    G downsamples to ``image_size / 16`` (at least once); E and D to 4x4.

    ``dim_in`` is the first layer's width; widths double per downsampling up to ``max_conv_dim``
    (paper at 256 px: 64 / 512, style 64, latent 16, mapping hidden 512).
    """

    dim_in: int = 32
    max_conv_dim: int = 256
    style_dim: int = 64
    latent_dim: int = 16
    mapping_hidden: int = 256
    mapping_shared_layers: int = 4  # linear+ReLU layers shared by every domain
    mapping_head_layers: int = 4  # layers per domain head (the last one maps to the style)
    g_downsample: int = 0
    g_bottleneck: int = 2  # plain and as many AdaIN residual blocks at the lowest resolution
    ed_downsample: int = 0  # style encoder and discriminator
    # Not in the paper: G's output squashed by tanh into the pixel range, as in StarGAN v1, so
    # that flat paper and flat ink are easy to draw exactly (soft grey edges read as hairlines).
    g_tanh: bool = False
    # Not in the paper (vc.image.slant): one more style entry, a slant that E reads off the
    # reference with a reader calibrated on shears alone (no label), F draws, and G applies after
    # straightening its input. For styles that include a slant (oblique glyphs).
    slant: bool = False
    # How G and E read a slant: "learned" (a small CNN trained on shears) or "profile" (the shear
    # that makes the column sums most peaked, as handwriting recognisers deslant; one learned gain).
    slant_reader: str = "learned"

    def __post_init__(self) -> None:
        for name in ("dim_in", "max_conv_dim", "style_dim", "latent_dim", "mapping_hidden",
                     "mapping_shared_layers", "mapping_head_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"net.{name} must be >= 1, got {getattr(self, name)}")
        if self.slant_reader not in SLANT_READERS:
            raise ConfigError(f"net.slant_reader must be one of {', '.join(SLANT_READERS)}, got {self.slant_reader!r}")
        for name in ("g_downsample", "g_bottleneck", "ed_downsample"):
            if getattr(self, name) < 0:
                raise ConfigError(f"net.{name} must be >= 0, got {getattr(self, name)}")

    def g_depth(self, image_size: int) -> int:
        return self.g_downsample or max(1, image_size.bit_length() - 1 - 4)

    def ed_depth(self, image_size: int) -> int:
        return self.ed_downsample or max(1, image_size.bit_length() - 1 - 2)


@dataclass
class StarGANv2LossConfig:
    """Objective weights (paper: R1 1, style 1, diversity 1 -> 0, cycle 1).

    ``ds_decay_steps``: the diversity weight falls linearly from ``lambda_ds`` to 0 over this
    many steps (0: no decay). It is a pure function of the step, so a resumed run continues the
    decay exactly where it stopped.
    """

    adversarial: str = "nonsaturating"
    lambda_reg: float = 1.0
    lambda_sty: float = 1.0
    lambda_ds: float = 1.0
    ds_decay_steps: int = 100000
    lambda_cyc: float = 1.0
    # DiffAugment (not in the paper): every image D sees, real or generated, in every phase, is
    # shifted by up to this fraction of its size (edges replicated). 0 = off.
    d_shift: float = 0.0
    # Domain classification (not in the paper; StarGAN v1's term): D gains a class head trained
    # on real images, and G is scored by it on its outputs. 0 = off, and D has no such head.
    lambda_cls: float = 0.0
    # Lazy regularisation (Karras et al. 2020, StyleGAN2; not in the paper): R1, a double backward,
    # is computed in the D phases of every reg_every-th step only, weighted by reg_every so that
    # its average pull stays the same. 1 = every step. On the 16 px font set R1 is a small share of
    # the step (1.07x the steps/s at 16, bench/img_train_speed.py); larger images are not measured.
    reg_every: int = 1
    # With net.slant: weight of the slant estimators' equivariance loss (their only loss; Adam
    # makes its scale nearly irrelevant) and the largest shear it draws (normalised: 0.2 moves
    # the top row a tenth of the width to the right, about a DejaVu oblique's slant).
    lambda_slant: float = 1.0
    slant_max: float = 0.3

    def __post_init__(self) -> None:
        if self.lambda_slant < 0:
            raise ConfigError(f"loss.lambda_slant must be >= 0, got {self.lambda_slant}")
        if not 0.0 < self.slant_max <= 1.0:
            raise ConfigError(f"loss.slant_max must be in (0, 1], got {self.slant_max}")
        if self.reg_every < 1:
            raise ConfigError(f"loss.reg_every must be >= 1, got {self.reg_every}")
        if self.lambda_cls < 0:
            raise ConfigError(f"loss.lambda_cls must be >= 0, got {self.lambda_cls}")
        if self.ds_decay_steps < 0:
            raise ConfigError(f"loss.ds_decay_steps must be >= 0, got {self.ds_decay_steps}")
        if not 0.0 <= self.d_shift < 0.5:
            raise ConfigError(f"loss.d_shift must be in [0, 0.5), got {self.d_shift}")


@dataclass
class StarGANv2OptimConfig:
    batch_size: int = 8
    lr: float = 1e-4  # G, E and D
    f_lr: float = 1e-6  # mapping network (the paper's 100x smaller rate)
    beta1: float = 0.0
    beta2: float = 0.99
    weight_decay: float = 1e-4
    ema_beta: float = 0.999  # EMA of G, F and E (used for every sample and translation)


@dataclass
class DiversityEvalConfig:
    """What ``vc-img-evaluate`` measures on a v2 bundle."""

    num_outputs: int = 5  # outputs per input (latent codes or references) for the diversity score
    num_refs: int = 5  # references per input and target domain for reference-guided scores
    limit: int = 0  # held-out images used as inputs (0: all)
    lpips: bool = True  # also LPIPS when the lpips package and its weights are on disk (never downloaded)


@dataclass
class StarGANv2TrainConfig:
    """Everything ``vc-img-train`` needs for StarGAN v2; saved as ``exp/<name>/config.yaml``.

    ``domains``: for a CelebA-layout set, the attributes that name the domains (one must be set
    on every image, as the families of the font set); the other attributes are not given to the
    model (bold and oblique become "style" it must discover) but are kept for evaluation. Empty
    for folder-per-domain data (every sub-folder, or ``data.attributes``, is a domain).
    """

    model: str = MODEL_NAME
    data: ImageDataConfig = field(default_factory=lambda: ImageDataConfig(layout="folders", attributes=[],
                                                                          exclusive_groups=[], crop_size=0))
    domains: list[str] = field(default_factory=list)
    net: StarGANv2NetConfig = field(default_factory=StarGANv2NetConfig)
    loss: StarGANv2LossConfig = field(default_factory=StarGANv2LossConfig)
    optim: StarGANv2OptimConfig = field(default_factory=StarGANv2OptimConfig)
    trainer: TrainerConfig = field(default_factory=lambda: TrainerConfig(max_steps=100000, checkpoint_every=5000,
                                                                         sample_every=5000))
    evaluation: EvalClassifierConfig = field(default_factory=EvalClassifierConfig)
    diversity: DiversityEvalConfig = field(default_factory=DiversityEvalConfig)
    sample_count: int = 6  # input rows of the sample grids written during training
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.model != MODEL_NAME:
            raise ConfigError(f"model must be {MODEL_NAME!r} for a StarGAN v2 config, got {self.model!r}")
        if self.data.layout == "folders" and self.domains:
            raise ConfigError("domains is for the attributes layout; for folders list them in data.attributes")
        if self.data.layout == "attributes" and len(self.domains) < 2:
            raise ConfigError("an attributes-layout set needs at least two 'domains' (attribute names)")


def config_model(path: str | os.PathLike | None) -> str:
    """The ``model`` named by a config file: ``stargan_v2``, or ``stargan`` for a v1 config (whose
    ``model`` is a mapping or absent). Lets front ends dispatch before parsing the whole file."""
    if path is None or not Path(path).is_file():
        return "stargan"
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return "stargan"  # the full loader reports the error with its position
    model = data.get("model") if isinstance(data, dict) else None
    return model if isinstance(model, str) else "stargan"
