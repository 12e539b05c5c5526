"""The config sections every image model shares: ``data`` (where the images are, how they become
tensors, the batch size) and ``evaluation`` (the judges that score translations).

The models' own configs (:mod:`vc.stargan.config`, :mod:`vc.stargan_v2.config`) hold these
sections beside their ``net``, ``loss`` and ``optim``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from vc.config import ConfigError, choice_problem

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
    batch_size: int = 16  # images per training step (per process under torchrun)

    def __post_init__(self) -> None:
        for problem in (choice_problem("data.layout", self.layout, LAYOUTS),
                        choice_problem("data.split", self.split, SPLITS)):
            if problem:
                raise ConfigError(problem)
        if self.channels not in (1, 3):
            raise ConfigError(f"data.channels must be 1 or 3, got {self.channels}")
        if self.image_size < 8:
            raise ConfigError(f"data.image_size must be >= 8, got {self.image_size}")
        if self.batch_size < 1:
            raise ConfigError(f"data.batch_size must be >= 1, got {self.batch_size}")
        if self.num_workers < 0:
            raise ConfigError(f"data.num_workers must be >= 0, got {self.num_workers}")


@dataclass
class EvalClassifierConfig:
    """The separately trained attribute classifiers (judges) that score translations
    (``vc-img-judges``, ``vc-img-evaluate``)."""

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
