"""Configs of the image branch (data, StarGAN networks, losses), loaded from YAML.

Defaults follow Choi et al. 2018 (StarGAN) for CelebA, except the image size: 64 px keeps a
first run cheap; the CelebA recipe sets 128 px as in the paper.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from vc.config import ConfigError, choice_problem
from vc.gan.layers import UPSAMPLE_INITS
from vc.gan.trainer import TrainerConfig

LAYOUTS = ("attributes", "folders")
SPLITS = ("first_n", "partition")


@dataclass
class ImageDataConfig:
    """Where the images are and how they become tensors.

    ``layout``: ``attributes`` is CelebA's (``img_align_celeba/`` + ``list_attr_celeba.txt``;
    multi-label); ``folders`` is one sub-folder per domain (``<root>/<domain>/*.png``, as RaFD
    or AFHQ; single-label). For ``folders``, ``attributes`` lists the domains to use (empty: every
    sub-folder, sorted) and ``exclusive_groups`` is implied.

    ``split``: ``first_n`` holds out the first ``test_count`` images (file order; per domain for
    folders), as the original StarGAN does on CelebA; ``partition`` reads
    ``list_eval_partition.txt`` (test = 2). For folders, ``test_root`` (a second tree with
    the same domains, as AFHQ's ``val/``) replaces the held-out rule when set.
    """

    layout: str = "attributes"
    root: str = ""
    attributes: list[str] = field(default_factory=lambda: ["Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young"])
    exclusive_groups: list[list[str]] = field(default_factory=lambda: [["Black_Hair", "Blond_Hair", "Brown_Hair"]])
    group_names: list[str] = field(default_factory=list)  # grid titles of the groups (default: shared word)
    split: str = "first_n"
    test_count: int = 2000
    test_root: str = ""
    crop_size: int = 178  # center crop before resizing (0: none)
    image_size: int = 64
    channels: int = 3
    hflip: bool = True  # random horizontal flips in training (off for glyphs: a flip is not a style)
    preload: bool = False  # decode the whole split into memory once (small sets)
    num_workers: int = 0

    def __post_init__(self) -> None:
        for problem in (choice_problem("data.layout", self.layout, LAYOUTS),
                        choice_problem("data.split", self.split, SPLITS)):
            if problem:
                raise ConfigError(problem)
        if self.channels not in (1, 3):
            raise ConfigError(f"data.channels must be 1 or 3, got {self.channels}")
        if self.image_size < 8:
            raise ConfigError(f"data.image_size must be >= 8, got {self.image_size}")


OUTPUT_SIGNS = ("input", "random")


@dataclass
class StarGANModelConfig:
    """Network widths and depths (paper: 64 / 6 / 64 / 6 at 128 px).

    The number of D's stride-2 layers must leave at least a 1x1 map:
    ``image_size / 2**d_repeat_num >= 1``.
    """

    g_conv_dim: int = 64
    g_repeat_num: int = 6  # residual blocks in the bottleneck
    g_downsample: int = 2  # stride-2 convolutions (and as many transposed ones)
    # "nearest": G's transposed convolutions start as nearest-neighbour upsampling + a convolution
    # (vc.gan.layers.nearest_upsample_init_: no checkerboard at step 0); "default": PyTorch's init.
    # On the font set (egs/fonts/README.md) "nearest" averaged 0.9 points more mean attribute
    # accuracy over three seeds (+1.1, +1.8, -0.1), so it is the default.
    g_upsample_init: str = "nearest"
    # "input": G starts positively correlated with its input (Generator.correlate_with_input_ on 64
    # spread training images); "random": as PyTorch's init draws it (a clear negative of the input for
    # 3 of 10 seeds of the font recipe's G, almost none for 2; each such run tried scrambled the glyphs).
    g_output_sign: str = "input"
    # Not in the paper: G's last convolution also reads its full-resolution first layer (a U-Net
    # skip, Ronneberger et al. 2015), starting silent (zero weights) so that G starts as the
    # paper's. On the font set it lowered L1 to the true glyph on every seed (egs/fonts/README.md).
    g_skip: bool = False
    d_conv_dim: int = 64
    d_repeat_num: int = 6

    def __post_init__(self) -> None:
        for problem in (choice_problem("model.g_upsample_init", self.g_upsample_init, UPSAMPLE_INITS),
                        choice_problem("model.g_output_sign", self.g_output_sign, OUTPUT_SIGNS)):
            if problem:
                raise ConfigError(problem)


@dataclass
class StarGANLossConfig:
    """Objective weights (paper: WGAN-GP, lambda_gp = 10, lambda_cls = 1, lambda_rec = 10)."""

    adversarial: str = "wgan-gp"
    lambda_gp: float = 10.0
    lambda_cls: float = 1.0
    lambda_rec: float = 10.0
    lambda_id: float = 0.0  # optional identity L1 |x - G(x, c_src)| (not in the paper)
    # DiffAugment (Zhao et al. 2020; not in the paper): every image D sees, real or translated, in
    # both phases, is shifted by up to this fraction of its size (edges replicated). 0 = off.
    d_shift: float = 0.0
    # Lazy regularisation (Karras et al. 2020, StyleGAN2; not in the paper): the gradient penalty,
    # a double backward and about a third of a D step, is computed on every gp_every-th D step
    # only, weighted by gp_every so that its average pull stays the same. 1 = every step.
    gp_every: int = 1

    def __post_init__(self) -> None:
        if not 0.0 <= self.d_shift < 0.5:
            raise ConfigError(f"loss.d_shift must be in [0, 0.5), got {self.d_shift}")
        if self.gp_every < 1:
            raise ConfigError(f"loss.gp_every must be >= 1, got {self.gp_every}")


@dataclass
class ImageOptimConfig:
    """Adam and the critic schedule (paper: 1e-4 for both, betas (0.5, 0.999), n_critic = 5)."""

    batch_size: int = 16
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.999
    n_critic: int = 5  # D updates per G update
    # EMA of G's weights (not in the paper; StarGAN v2 uses 0.999): when > 0 the averaged copy is
    # updated after every G step and is the G that samples, translates and is evaluated. 0 = off.
    ema_beta: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.ema_beta < 1.0:
            raise ConfigError(f"optim.ema_beta must be in [0, 1), got {self.ema_beta}")


@dataclass
class EvalClassifierConfig:
    """The separately trained attribute classifier that judges translations (vc-img-evaluate)."""

    conv_dim: int = 32
    repeat_num: int = 4  # stride-2 conv blocks before global average pooling
    steps: int = 2000
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0
    max_shift: float = 0.0625  # random shifts of the training images, as a fraction of their size
    # Gaussian blur of the training images, sigma drawn uniformly up to this many pixels (0: none),
    # so that a softer output is judged by its style and not its sharpness (vc.gan.random_blur)
    max_blur: float = 0.0
    max_combos: int = 11  # combined edits evaluated per image (the grid's columns)
    judges: int = 3  # independently seeded classifiers; their mean logits judge (see vc/image/classifier.py)

    def __post_init__(self) -> None:
        if self.judges < 1:
            raise ConfigError(f"evaluation.judges must be >= 1, got {self.judges}")
        if self.max_blur < 0:
            raise ConfigError(f"evaluation.max_blur must be >= 0, got {self.max_blur}")


@dataclass
class ImageTrainConfig:
    """Everything ``vc-img-train`` needs; saved verbatim as ``exp/<name>/config.yaml``."""

    data: ImageDataConfig = field(default_factory=ImageDataConfig)
    model: StarGANModelConfig = field(default_factory=StarGANModelConfig)
    loss: StarGANLossConfig = field(default_factory=StarGANLossConfig)
    optim: ImageOptimConfig = field(default_factory=ImageOptimConfig)
    trainer: TrainerConfig = field(default_factory=lambda: TrainerConfig(max_steps=200000, lr_decay_start=100000,
                                                                         checkpoint_every=10000, sample_every=1000))
    evaluation: EvalClassifierConfig = field(default_factory=EvalClassifierConfig)
    sample_count: int = 8  # rows of the sample grids written during training
    max_combos: int = 11  # combined-edit columns of sample grids
    seed: int = 0
    device: str = "auto"
