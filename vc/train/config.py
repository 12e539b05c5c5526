"""The training configuration (``conf/train.yaml``) as dataclasses.

Five sections plus the seed: ``model`` (architecture), ``optim`` (Adam), ``loss`` (objective
weights), ``data`` (segments and batches), ``schedule`` (steps, logging, checkpoints, precision;
the generic ``vc.gan.TrainerConfig``) and ``validation`` (what the periodic samples contain).
A YAML file may set any subset; unknown keys are errors. The bundle's ``config.yaml`` is the
*resolved* config: ``model.num_speakers``/``model.mcep_dim`` and ``features`` (the analysis
settings) are filled in from the training statistics, so conversion needs nothing else.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping

from vc.config import ConfigError, load_config
from vc.gan.losses import ADVERSARIAL_KINDS
from vc.gan.trainer import TrainerConfig
from vc.models.stargan_vc import StarGANVCConfig

PAD_MODES = ("reflect", "edge")


@dataclass
class OptimConfig:
    """Adam per network. The paper-era defaults (beta1 = 0.5) damp the GAN's oscillations."""

    lr_g: float = 2e-4
    lr_d: float = 1e-4
    lr_c: float = 1e-4
    betas: list[float] = field(default_factory=lambda: [0.5, 0.999])
    weight_decay: float = 0.0


@dataclass
class LossConfig:
    """L = L_adv + lambda_cls L_cls + lambda_rec L_cyc + lambda_id L_id (Kameoka et al. 2018, eq. 9-11).

    ``identity_until``: the identity term is used up to and including this step (the paper uses
    it only early in training, to anchor linguistic content); ``None`` keeps it for the whole run.
    ``n_critic``: G is updated every ``n_critic`` steps (5 is usual with ``wgan``).
    """

    adversarial: str = "lsgan"
    lambda_cls: float = 1.0
    lambda_rec: float = 10.0
    lambda_id: float = 5.0
    identity_until: int | None = None
    lambda_gp: float = 10.0  # used with adversarial: wgan
    n_critic: int = 1


@dataclass
class DataConfig:
    """Random fixed-length training segments."""

    segment_frames: int = 128
    batch_size: int = 8
    pad_mode: str = "reflect"  # how utterances shorter than a segment are lengthened: reflect | edge


@dataclass
class ValidationConfig:
    """What ``samples/step_N/`` holds and which held-out accuracies are logged."""

    num_utterances: int = 4  # converted and written as WAV at every sample step
    max_segments: int = 64   # segments of the dev set on which C's accuracy is measured


@dataclass
class TrainConfig:
    model: StarGANVCConfig = field(default_factory=StarGANVCConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    data: DataConfig = field(default_factory=DataConfig)
    schedule: TrainerConfig = field(default_factory=TrainerConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    seed: int = 0
    features: dict[str, Any] | None = None  # filled in from stats.npz; never set by hand

    def check(self) -> None:
        """Value checks the types alone cannot express; raises ConfigError naming the option."""
        problems = []
        if self.loss.adversarial.lower() not in ADVERSARIAL_KINDS:
            problems.append(f"loss.adversarial must be one of {', '.join(ADVERSARIAL_KINDS)}, got {self.loss.adversarial!r}")
        for name in ("lambda_cls", "lambda_rec", "lambda_id", "lambda_gp"):
            if getattr(self.loss, name) < 0:
                problems.append(f"loss.{name} must be >= 0")
        if self.loss.n_critic < 1:
            problems.append("loss.n_critic must be >= 1")
        if self.data.segment_frames < 8:
            problems.append(f"data.segment_frames must be >= 8, got {self.data.segment_frames}")
        if self.data.batch_size < 1:
            problems.append("data.batch_size must be >= 1")
        if self.data.pad_mode not in PAD_MODES:
            problems.append(f"data.pad_mode must be one of {', '.join(PAD_MODES)}, got {self.data.pad_mode!r}")
        if len(self.optim.betas) != 2 or not all(0 <= b < 1 for b in self.optim.betas):
            problems.append(f"optim.betas must be two numbers in [0, 1), got {self.optim.betas}")
        for name in ("lr_g", "lr_d", "lr_c"):
            if not getattr(self.optim, name) > 0:
                problems.append(f"optim.{name} must be > 0")
        if len(self.model.classifier_band) != 2:
            problems.append("model.classifier_band must be [lo, hi]")
        try:
            self.schedule.validate()
        except ValueError as e:
            problems.append(f"schedule: {e}")
        if problems:
            raise ConfigError("invalid training config:\n" + "\n".join(problems))


def load_train_config(path: str | os.PathLike | None, overrides: Mapping[str, Any] | None = None) -> TrainConfig:
    """Load and check ``conf/train.yaml`` (``None`` -> all defaults)."""
    cfg = load_config(TrainConfig, path, overrides)
    cfg.check()
    return cfg
