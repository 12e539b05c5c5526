"""StarGAN-VC's configuration (``conf/train.yaml``) as dataclasses.

The layout is the toolkit's one vocabulary (:mod:`vc.config`): ``model: stargan_vc`` and
``config_version`` on top with ``seed`` and ``device``, then ``net`` (architecture of G, D and
C), ``optim`` (Adam per network and ``n_critic``), ``loss`` (objective weights), ``data``
(segments and batches, :class:`vc.voice.data.SegmentDataConfig`), ``trainer`` (steps, logging,
checkpoints, precision: the generic :class:`vc.gan.TrainerConfig`) and ``validation`` (what the
periodic samples contain). A YAML file may set any subset; unknown keys are errors; every
section checks its values in ``__post_init__``.

The bundle's ``config.yaml`` is the *resolved* config: ``net.num_speakers``/``net.mcep_dim`` and
``features`` (the analysis settings) are filled in from the training statistics, so conversion
needs nothing else. Configs and bundles in the layout before ``config_version`` 2 are read
through :func:`migrate_v1`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vc.config import CONFIG_VERSION, ConfigError, betas_problem, check_model_header, choice_problem, move_key
from vc.gan.layers import UPSAMPLE_INITS
from vc.gan.losses import ADVERSARIAL_KINDS
from vc.gan.trainer import TrainerConfig
from vc.voice.data import SegmentDataConfig

MODEL = "stargan_vc"

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
class StarGANVCNetConfig:
    """Architecture of G, D and C (``net:``). Defaults are the paper's (arXiv 1806.02169, Fig. 2).

    ``num_speakers`` and ``mcep_dim`` are filled in from the training statistics; the last
    classifier layer's ``channels`` (0 in the default) is replaced by the number of speakers and
    the last discriminator layer must have 1 channel. Once both are known, the layer lists are
    planned here (every kernel, stride and padding resolved), so a list that cannot work is
    refused before any tensor is made.
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
    # convolution (vc.gan.layers.nearest_upsample_init_); "default": PyTorch's random init, the
    # default because on the demo recipe "nearest" traded speaker identity for spectral distance
    # instead of improving both (docs/experiments/voice_configs.md), unlike on the font images.
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

    def __post_init__(self) -> None:
        if self.num_speakers is not None and self.num_speakers < 2:
            raise ConfigError(f"net.num_speakers must be >= 2, got {self.num_speakers}")
        if self.mcep_dim is not None and self.mcep_dim < 1:
            raise ConfigError(f"net.mcep_dim must be >= 1, got {self.mcep_dim}")
        if len(self.classifier_band) != 2:
            raise ConfigError(f"net.classifier_band must be [lo, hi], got {self.classifier_band}")
        lo, hi = self.classifier_band
        if lo is None:
            raise ConfigError("net.classifier_band: only hi may be null (every row from lo on)")
        if lo < 0 or (hi is not None and hi <= lo):
            raise ConfigError(f"net.classifier_band {self.classifier_band} must satisfy 0 <= lo < hi")
        if self.mcep_dim is not None and not self.band()[1] <= self.mcep_dim:
            raise ConfigError(f"net.classifier_band {self.classifier_band} must satisfy 0 <= lo < hi <= "
                              f"mcep_dim={self.mcep_dim}")
        for name in ("generator", "discriminator", "classifier"):
            if len(getattr(self, name)) < 2:
                raise ConfigError(f"net.{name} needs at least two layers")
        for problem in (choice_problem("net.upsample_init", self.upsample_init, UPSAMPLE_INITS),
                        choice_problem("net.conditioning", self.conditioning, CONDITIONINGS)):
            if problem:
                raise ConfigError(problem)
        if self.discriminator[-1].channels != 1:
            raise ConfigError("net.discriminator: the last layer must have 1 channel (one logit per patch)")
        if self.mcep_dim is not None:
            from vc.stargan_vc.networks import plan_networks  # the networks' own planning, no tensors

            plan_networks(self)

    @property
    def resolved(self) -> bool:
        """True once the statistics have set ``num_speakers`` and ``mcep_dim``."""
        return self.num_speakers is not None and self.mcep_dim is not None

    def code_dim(self) -> int:
        """Width of the speaker code that G and D read."""
        return int(self.num_speakers or 0) * (2 if self.conditioning == "source_target" else 1)

    def band(self) -> tuple[int, int]:
        """The MCEP rows ``[lo, hi)`` the classifier sees, with a null ``hi`` resolved."""
        lo, hi = self.classifier_band
        return int(lo), (int(self.mcep_dim or 0) if hi is None else int(hi))


@dataclass
class OptimConfig:
    """Adam per network. beta1 = 0.5 (the usual GAN setting) damps the oscillations of the game.

    ``n_critic``: G is updated every ``n_critic`` steps, D and C every step (5 is usual with
    ``loss.adversarial: wgan``).
    """

    lr_g: float = 2e-4
    lr_d: float = 1e-4
    lr_c: float = 1e-4
    betas: list[float] = field(default_factory=lambda: [0.5, 0.999])
    weight_decay: float = 0.0
    n_critic: int = 1

    def __post_init__(self) -> None:
        problem = betas_problem("optim.betas", self.betas)
        if problem:
            raise ConfigError(problem)
        for name in ("lr_g", "lr_d", "lr_c"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"optim.{name} must be > 0, got {getattr(self, name)}")
        if self.weight_decay < 0:
            raise ConfigError(f"optim.weight_decay must be >= 0, got {self.weight_decay}")
        if self.n_critic < 1:
            raise ConfigError(f"optim.n_critic must be >= 1, got {self.n_critic}")


@dataclass
class LossConfig:
    """L = L_adv + lambda_cls L_cls + lambda_cyc L_cyc + lambda_id L_id (Kameoka et al. 2018, eq. 9-11).

    ``identity_until``: the identity term is used up to and including this step (the paper uses
    it only early in training, to anchor linguistic content); ``None`` keeps it for the whole run.
    ``lambda_gp``: the gradient penalty's weight, used with ``adversarial: wgan``.
    """

    adversarial: str = "lsgan"
    lambda_cls: float = 1.0
    lambda_cyc: float = 10.0
    lambda_id: float = 5.0
    identity_until: int | None = None
    lambda_gp: float = 10.0

    def __post_init__(self) -> None:
        if self.adversarial.lower() not in ADVERSARIAL_KINDS:
            raise ConfigError(f"loss.adversarial must be one of {', '.join(ADVERSARIAL_KINDS)}, "
                              f"got {self.adversarial!r}")
        for name in ("lambda_cls", "lambda_cyc", "lambda_id", "lambda_gp"):
            if getattr(self, name) < 0:
                raise ConfigError(f"loss.{name} must be >= 0, got {getattr(self, name)}")


@dataclass
class ValidationConfig:
    """What ``samples/step_N/`` holds and which held-out accuracies are logged."""

    num_utterances: int = 4  # converted and written as WAV at every sample step
    max_segments: int = 64   # segments of the dev set on which C's accuracy is measured

    def __post_init__(self) -> None:
        if self.num_utterances < 0:
            raise ConfigError(f"validation.num_utterances must be >= 0, got {self.num_utterances}")
        if self.max_segments < 1:
            raise ConfigError(f"validation.max_segments must be >= 1, got {self.max_segments}")


@dataclass
class StarGANVCConfig:
    """The whole training configuration of StarGAN-VC (see the module docstring)."""

    model: str = MODEL
    config_version: int = CONFIG_VERSION
    seed: int = 0
    device: str = "auto"  # auto (CUDA if available, else the CPU), cpu, cuda or cuda:N
    net: StarGANVCNetConfig = field(default_factory=StarGANVCNetConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    data: SegmentDataConfig = field(default_factory=SegmentDataConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    features: dict[str, Any] | None = None  # filled in from stats.npz; never set by hand

    def __post_init__(self) -> None:
        check_model_header(self, MODEL)


# ---------------------------------------------------------------------------------------------
# config_version 1 -> 2

#: Where the keys of the layout before config_version 2 went (dotted paths, old -> new).
RENAMED_V1 = {
    "model": "net",                        # the architecture section (``model`` now names the model)
    "schedule": "trainer",                 # the vc.gan.TrainerConfig section
    "loss.lambda_rec": "loss.lambda_cyc",  # the cycle-consistency weight
    "loss.n_critic": "optim.n_critic",     # how often G is updated
}


def migrate_v1(data: dict[str, Any]) -> dict[str, Any]:
    """A config mapping in the layout before ``config_version`` 2 (``model:`` the architecture,
    ``schedule:``, ``loss.lambda_rec``, ``loss.n_critic``) in today's (``net:``, ``trainer:``,
    ``loss.lambda_cyc``, ``optim.n_critic``); pure dict work, the input is not modified.

    A mapping that holds an old key and its new one both is a ConfigError. ``model`` moves only
    when it is a mapping (a string already names the model).
    """
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for old, new in RENAMED_V1.items():
        if old == "model" and not isinstance(out.get("model"), dict):
            continue
        move_key(out, old, new)
    return out

