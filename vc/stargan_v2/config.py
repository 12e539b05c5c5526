"""StarGAN v2's configuration (Choi et al. 2020, arXiv 1912.01865) as dataclasses, loaded from YAML.

The layout is the toolkit's one vocabulary (:mod:`vc.config`): ``model: stargan_v2`` and
``config_version`` on top with ``seed`` and ``device``, then ``data`` (the images and the batch
size: :class:`StarGANv2DataConfig`, folder-per-domain trees such as AFHQ, or a CelebA-layout
set such as the font set whose domains are one exclusive group of attributes), ``domains``,
``net``, ``loss`` (``lambda_cyc`` the cycle weight), ``optim`` (Adam, ``ema_beta``), ``trainer``
(:class:`vc.gan.TrainerConfig`), ``evaluation`` (the judges, shared with StarGAN) and
``diversity`` (what ``vc-img-evaluate`` measures). Every section checks its values in
``__post_init__``; configs and bundles in the layout before ``config_version`` 2 are read
through :func:`migrate_v1`.

Defaults are the paper's objective and optimiser (non-saturating loss + R1 = 1, style
reconstruction 1, diversity 1 decayed to 0, cycle 1; Adam 1e-4, betas (0, 0.99), weight decay
1e-4, mapping network 1e-6, EMA 0.999) with widths small enough for a first run.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vc.config import CONFIG_VERSION, ConfigError, betas_problem, check_model_header, choice_problem, merge_betas, move_key
from vc.gan.losses import ADVERSARIAL_KINDS
from vc.gan.trainer import TrainerConfig
from vc.image.config import EvalClassifierConfig, ImageDataConfig
from vc.stargan_v2.slant import SLANT_READERS

MODEL = "stargan_v2"


@dataclass
class StarGANv2DataConfig(ImageDataConfig):
    """:class:`~vc.image.config.ImageDataConfig` with StarGAN v2's default batch (the paper's 8)."""

    batch_size: int = 8


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
    # Not in the paper (vc.stargan_v2.slant): one more style entry, a slant that E reads off the
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
    # the step (bench/img_train_speed.py --config egs/fonts_v2/conf/stargan_v2.yaml: 1.07x the steps/s).
    reg_every: int = 1
    # With net.slant: weight of the slant estimators' equivariance loss (their only loss; Adam
    # makes its scale nearly irrelevant) and the largest shear it draws (normalised: 0.2 moves
    # the top row a tenth of the width to the right, about a DejaVu oblique's slant).
    lambda_slant: float = 1.0
    slant_max: float = 0.3

    def __post_init__(self) -> None:
        problem = choice_problem("loss.adversarial", self.adversarial, ADVERSARIAL_KINDS)
        if problem:
            raise ConfigError(problem)
        for name in ("lambda_reg", "lambda_sty", "lambda_ds", "lambda_cyc", "lambda_cls", "lambda_slant"):
            if getattr(self, name) < 0:
                raise ConfigError(f"loss.{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 < self.slant_max <= 1.0:
            raise ConfigError(f"loss.slant_max must be in (0, 1], got {self.slant_max}")
        if self.reg_every < 1:
            raise ConfigError(f"loss.reg_every must be >= 1, got {self.reg_every}")
        if self.ds_decay_steps < 0:
            raise ConfigError(f"loss.ds_decay_steps must be >= 0, got {self.ds_decay_steps}")
        if not 0.0 <= self.d_shift < 0.5:
            raise ConfigError(f"loss.d_shift must be in [0, 0.5), got {self.d_shift}")


@dataclass
class StarGANv2OptimConfig:
    """Adam for every network (paper: 1e-4, betas (0, 0.99), weight decay 1e-4, F at 1e-6, EMA 0.999)."""

    lr: float = 1e-4  # G, E and D
    f_lr: float = 1e-6  # mapping network (the paper's 100x smaller rate)
    betas: tuple[float, float] = (0.0, 0.99)
    weight_decay: float = 1e-4
    ema_beta: float = 0.999  # EMA of G, F and E (used for every sample and translation)

    def __post_init__(self) -> None:
        for name in ("lr", "f_lr"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"optim.{name} must be > 0, got {getattr(self, name)}")
        problem = betas_problem("optim.betas", self.betas)
        if problem:
            raise ConfigError(problem)
        if self.weight_decay < 0:
            raise ConfigError(f"optim.weight_decay must be >= 0, got {self.weight_decay}")
        if not 0.0 <= self.ema_beta < 1.0:
            raise ConfigError(f"optim.ema_beta must be in [0, 1), got {self.ema_beta}")


@dataclass
class DiversityEvalConfig:
    """What ``vc-img-evaluate`` measures on a v2 bundle."""

    num_outputs: int = 5  # outputs per input (latent codes or references) for the diversity score
    num_refs: int = 5  # references per input and target domain for reference-guided scores
    limit: int = 0  # held-out images used as inputs (0: all)
    lpips: bool = True  # also LPIPS when the lpips package and its weights are on disk (never downloaded)


@dataclass
class StarGANv2Config:
    """Everything ``vc-img-train`` needs for StarGAN v2; saved as ``exp/<name>/config.yaml``.

    ``domains``: for a CelebA-layout set, the attributes that name the domains (one must be set
    on every image, as the families of the font set); the other attributes are not given to the
    model (bold and oblique become "style" it must discover) but are kept for evaluation. Empty
    for folder-per-domain data (every sub-folder, or ``data.attributes``, is a domain).
    """

    model: str = MODEL
    config_version: int = CONFIG_VERSION
    seed: int = 0
    device: str = "auto"
    data: StarGANv2DataConfig = field(default_factory=lambda: StarGANv2DataConfig(**V2_DATA_DEFAULTS))
    domains: list[str] = field(default_factory=list)
    net: StarGANv2NetConfig = field(default_factory=StarGANv2NetConfig)
    loss: StarGANv2LossConfig = field(default_factory=StarGANv2LossConfig)
    optim: StarGANv2OptimConfig = field(default_factory=StarGANv2OptimConfig)
    trainer: TrainerConfig = field(default_factory=lambda: TrainerConfig(max_steps=100000, checkpoint_every=5000,
                                                                         sample_every=5000))
    evaluation: EvalClassifierConfig = field(default_factory=EvalClassifierConfig)
    diversity: DiversityEvalConfig = field(default_factory=DiversityEvalConfig)
    sample_count: int = 6  # input rows of the sample grids written during training

    def __post_init__(self) -> None:
        check_model_header(self, MODEL)
        if self.data.layout == "folders" and self.domains:
            raise ConfigError("domains is for the attributes layout; for folders list them in data.attributes")
        if self.data.layout == "attributes" and len(self.domains) < 2:
            raise ConfigError("an attributes-layout set needs at least two 'domains' (attribute names)")
        if self.sample_count < 1:
            raise ConfigError(f"sample_count must be >= 1, got {self.sample_count}")


#: ``data`` when a config has no such section: one sub-folder per domain, no crop.
V2_DATA_DEFAULTS: dict[str, Any] = {"layout": "folders", "attributes": [], "exclusive_groups": [], "crop_size": 0}


# ---------------------------------------------------------------------------------------------
# config_version 1 -> 2

def migrate_v1(data: dict[str, Any]) -> dict[str, Any]:
    """A StarGAN v2 config mapping in the layout before ``config_version`` 2 (``model:
    stargan_v2`` without ``config_version``, ``optim.batch_size``, ``optim.beta1``/``beta2``) in
    today's (``data.batch_size``, ``optim.betas``); pure dict work, the input is not modified.
    An old key whose new one is set too is a ConfigError."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    optim = out.get("optim")
    if "data" not in out and isinstance(optim, dict) and "batch_size" in optim:
        out["data"] = dict(V2_DATA_DEFAULTS)  # what the missing section meant, now that it gains a key
    move_key(out, "optim.batch_size", "data.batch_size")
    merge_betas(out, StarGANv2OptimConfig.betas)
    out["model"] = MODEL
    out["config_version"] = CONFIG_VERSION
    return out
