"""StarGAN's configuration (Choi et al. 2018) as dataclasses, loaded from YAML.

The layout is the toolkit's one vocabulary (:mod:`vc.config`): ``model: stargan`` and
``config_version`` on top with ``seed`` and ``device``, then ``data`` (the images and the batch
size, :class:`vc.image.config.ImageDataConfig`), ``net`` (widths and depths of G and D),
``loss`` (objective weights, ``lambda_cyc`` the cycle weight), ``optim`` (Adam, ``n_critic``,
``ema_beta``), ``trainer`` (:class:`vc.gan.TrainerConfig`) and ``evaluation`` (the judges).
Every section checks its values in ``__post_init__``.

Defaults follow the paper for CelebA, except the image size: 64 px keeps a first run cheap; the
CelebA recipe sets 128 px as in the paper. Configs and bundles in the layout before
``config_version`` 2 are read through :func:`migrate_v1`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vc.config import CONFIG_VERSION, ConfigError, betas_problem, check_model_header, choice_problem, merge_betas, move_key
from vc.gan.layers import UPSAMPLE_INITS
from vc.gan.losses import ADVERSARIAL_KINDS
from vc.gan.trainer import TrainerConfig
from vc.image.config import EvalClassifierConfig, ImageDataConfig

MODEL = "stargan"

OUTPUT_SIGNS = ("input", "random")


@dataclass
class StarGANNetConfig:
    """Widths and depths of G and D (paper: 64 / 6 / 64 / 6 at 128 px).

    D's stride-2 layers must divide the image evenly: ``data.image_size`` a multiple of
    ``2**d_repeat_num``.
    """

    g_conv_dim: int = 64
    g_repeat_num: int = 6  # residual blocks in the bottleneck
    g_downsample: int = 2  # stride-2 convolutions (and as many transposed ones)
    # "nearest": G's transposed convolutions start as nearest-neighbour upsampling + a convolution
    # (vc.gan.layers.nearest_upsample_init_: no checkerboard at step 0); "default": PyTorch's init.
    # Not in the paper; the default because it scored higher on the font set
    # (docs/experiments/image_configs.md).
    g_upsample_init: str = "nearest"
    # "input": G starts positively correlated with its input (Generator.correlate_with_input_ on 64
    # spread training images); "random": as PyTorch's init draws it, which for some seeds is a clear
    # negative of the input, a start from which training scrambled the glyphs of the font set.
    g_output_sign: str = "input"
    # Not in the paper: G's last convolution also reads its full-resolution first layer (a U-Net
    # skip, Ronneberger et al. 2015), starting silent (zero weights) so that G starts as the
    # paper's: fine outlines need not pass through the bottleneck.
    g_skip: bool = False
    d_conv_dim: int = 64
    d_repeat_num: int = 6

    def __post_init__(self) -> None:
        for problem in (choice_problem("net.g_upsample_init", self.g_upsample_init, UPSAMPLE_INITS),
                        choice_problem("net.g_output_sign", self.g_output_sign, OUTPUT_SIGNS)):
            if problem:
                raise ConfigError(problem)
        for name, least in (("g_conv_dim", 1), ("g_repeat_num", 0), ("g_downsample", 0), ("d_conv_dim", 1),
                            ("d_repeat_num", 1)):
            if getattr(self, name) < least:
                raise ConfigError(f"net.{name} must be >= {least}, got {getattr(self, name)}")


@dataclass
class StarGANLossConfig:
    """Objective weights (paper: WGAN-GP, lambda_gp = 10, lambda_cls = 1, lambda_cyc = 10)."""

    adversarial: str = "wgan-gp"
    lambda_gp: float = 10.0
    lambda_cls: float = 1.0
    lambda_cyc: float = 10.0  # the cycle (reconstruction) L1 |x - G(G(x, c'), c)|
    lambda_id: float = 0.0  # optional identity L1 |x - G(x, c_src)| (not in the paper)
    # DiffAugment (Zhao et al. 2020; not in the paper): every image D sees, real or translated, in
    # both phases, is shifted by up to this fraction of its size (edges replicated). 0 = off.
    d_shift: float = 0.0
    # Lazy regularisation (Karras et al. 2020, StyleGAN2; not in the paper): the gradient penalty,
    # a double backward and about a third of a D step, is computed on every gp_every-th D step
    # only, weighted by gp_every so that its average pull stays the same. 1 = every step.
    gp_every: int = 1

    def __post_init__(self) -> None:
        problem = choice_problem("loss.adversarial", self.adversarial, ADVERSARIAL_KINDS)
        if problem:
            raise ConfigError(problem)
        for name in ("lambda_gp", "lambda_cls", "lambda_cyc", "lambda_id"):
            if getattr(self, name) < 0:
                raise ConfigError(f"loss.{name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.d_shift < 0.5:
            raise ConfigError(f"loss.d_shift must be in [0, 0.5), got {self.d_shift}")
        if self.gp_every < 1:
            raise ConfigError(f"loss.gp_every must be >= 1, got {self.gp_every}")


@dataclass
class StarGANOptimConfig:
    """Adam and the critic schedule (paper: 1e-4 for both, betas (0.5, 0.999), n_critic = 5)."""

    lr_g: float = 1e-4
    lr_d: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.999)
    n_critic: int = 5  # D updates per G update
    # EMA of G's weights (not in the paper; StarGAN v2 uses 0.999): when > 0 the averaged copy is
    # updated after every G step and is the G that samples, translates and is evaluated. 0 = off.
    ema_beta: float = 0.0

    def __post_init__(self) -> None:
        for name in ("lr_g", "lr_d"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"optim.{name} must be > 0, got {getattr(self, name)}")
        problem = betas_problem("optim.betas", self.betas)
        if problem:
            raise ConfigError(problem)
        if self.n_critic < 1:
            raise ConfigError(f"optim.n_critic must be >= 1, got {self.n_critic}")
        if not 0.0 <= self.ema_beta < 1.0:
            raise ConfigError(f"optim.ema_beta must be in [0, 1), got {self.ema_beta}")


@dataclass
class StarGANConfig:
    """Everything ``vc-img-train`` needs for StarGAN; saved verbatim as ``exp/<name>/config.yaml``."""

    model: str = MODEL
    config_version: int = CONFIG_VERSION
    seed: int = 0
    device: str = "auto"
    data: ImageDataConfig = field(default_factory=ImageDataConfig)
    net: StarGANNetConfig = field(default_factory=StarGANNetConfig)
    loss: StarGANLossConfig = field(default_factory=StarGANLossConfig)
    optim: StarGANOptimConfig = field(default_factory=StarGANOptimConfig)
    trainer: TrainerConfig = field(default_factory=lambda: TrainerConfig(max_steps=200000, lr_decay_start=100000,
                                                                         checkpoint_every=10000, sample_every=1000))
    evaluation: EvalClassifierConfig = field(default_factory=EvalClassifierConfig)
    sample_count: int = 8  # rows of the sample grids written during training
    max_combos: int = 11  # combined-edit columns of sample grids

    def __post_init__(self) -> None:
        check_model_header(self, MODEL)
        if self.data.image_size % (2 ** self.net.d_repeat_num):
            raise ConfigError(f"data.image_size ({self.data.image_size}) must be a multiple of "
                              f"2**net.d_repeat_num ({2 ** self.net.d_repeat_num}): D halves it that often")
        if self.sample_count < 1:
            raise ConfigError(f"sample_count must be >= 1, got {self.sample_count}")


# ---------------------------------------------------------------------------------------------
# config_version 1 -> 2

#: Where the keys of the layout before config_version 2 went (dotted paths, old -> new);
#: ``optim.beta1``/``optim.beta2`` became the pair ``optim.betas``.
RENAMED_V1 = {
    "model": "net",                         # the architecture section (``model`` now names the model)
    "optim.batch_size": "data.batch_size",  # one place for the batch size in every model
    "loss.lambda_rec": "loss.lambda_cyc",   # the cycle-consistency weight
}


def migrate_v1(data: dict[str, Any]) -> dict[str, Any]:
    """A StarGAN config mapping in the layout before ``config_version`` 2 (``model:`` the
    architecture or absent, ``optim.batch_size``, ``optim.beta1``/``beta2``, ``loss.lambda_rec``)
    in today's (``net:``, ``data.batch_size``, ``optim.betas``, ``loss.lambda_cyc``); pure dict
    work, the input is not modified. An old key whose new one is set too is a ConfigError."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    if "model" in out and not isinstance(out["model"], dict):
        raise ConfigError(f"model must be a mapping of widths in a StarGAN config without config_version, "
                          f"got {out['model']!r}")
    for old, new in RENAMED_V1.items():
        move_key(out, old, new)
    merge_betas(out, StarGANOptimConfig.betas)
    out["model"] = MODEL
    out["config_version"] = CONFIG_VERSION
    return out
