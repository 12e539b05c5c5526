"""The contract between the generic trainer and a concrete GAN task (voice, image, ...).

The trainer owns the mechanics (devices, precision, optimizer steps, schedules, EMA, logging,
checkpoints, resume, DDP); the task owns everything domain-specific: which networks exist,
how batches are drawn, and what each phase's losses are. The trainer never looks inside a
batch, and the task never calls ``backward`` or ``step``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch
import torch.nn as nn
from torch import Tensor

from vc.gan.runtime import DistInfo


@dataclass(frozen=True)
class OptimizerSpec:
    """One Adam optimizer over the parameters of one or more networks.

    ``module_lr`` overrides ``lr`` per network (StarGAN v2's mapping network uses a 100x smaller
    rate than G while sharing G's optimizer step). ``decay`` lets one optimizer opt out of the
    trainer's linear learning-rate decay.
    """

    modules: tuple[str, ...]
    lr: float
    betas: tuple[float, float] = (0.5, 0.999)
    weight_decay: float = 0.0
    module_lr: Mapping[str, float] = field(default_factory=dict)
    decay: bool = True
    grad_clip: float | None = None


@dataclass(frozen=True)
class Phase:
    """One backward/step of one optimizer inside a training step.

    A phase runs on steps where ``step % every == 0`` (steps are 1-based): WGAN-GP's
    ``n_critic = 5`` is ``Phase("G", "G", every=5)`` next to ``Phase("D", "D")``. The same
    optimizer may appear in several phases (StarGAN v2 updates D with a latent-code batch and
    then with a reference batch). ``ema=False`` skips the EMA update after the phase, so that a
    network stepped in two phases of a step is averaged once per step (StarGAN v2's G).
    """

    name: str
    optimizer: str
    every: int = 1
    ema: bool = True


@dataclass
class PhaseLosses:
    """What ``compute_losses`` returns for one phase.

    ``terms`` are unweighted scalar losses; the trainer backpropagates
    ``sum(weights.get(k, 1) * terms[k])``, checks every term for NaN/inf and logs each as
    ``<phase>/<term>``. ``metrics`` are logged only (accuracies, scores), never differentiated.
    """

    terms: dict[str, Tensor]
    weights: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, float | Tensor] = field(default_factory=dict)

    def total(self) -> Tensor:
        parts = [self.weights.get(k, 1.0) * v for k, v in self.terms.items() if self.weights.get(k, 1.0) != 0.0]
        if not parts:
            raise ValueError("PhaseLosses has no term with a non-zero weight")
        return torch.stack([p.float() for p in parts]).sum()


@dataclass(frozen=True)
class TrainContext:
    """What a task needs to know about the run it is part of."""

    device: torch.device
    dist: DistInfo
    seed: int
    out_dir: Path
    amp_dtype: torch.dtype | None = None


class GanTask:
    """Base class for tasks; subclasses implement the first five methods.

    Networks are addressed by name everywhere (``"G"``, ``"D"``, ``"C"``, ``"F"``, ...).
    In ``compute_losses`` the ``nets`` mapping holds, for the phase's own networks, the modules
    to train (DDP-wrapped under ``torchrun``); for every other network the plain module, and for
    each EMA'd network ``<name>_ema``. Gradients are only computed for the phase optimizer's
    parameters, so calling D inside the G phase costs no D weight gradients. Generate the fakes
    that a D phase consumes under ``torch.no_grad()``.
    """

    def setup(self, ctx: TrainContext) -> None:
        """Called once before ``build_networks``: load data, seed the sampler with ``ctx.seed`` and
        ``ctx.dist.rank`` so that DDP ranks draw different batches."""
        raise NotImplementedError

    def build_networks(self) -> dict[str, nn.Module]:
        """Fresh networks on the CPU; the trainer moves them to the device."""
        raise NotImplementedError

    def optimizers(self) -> dict[str, OptimizerSpec]:
        """Optimizer name -> spec; each network belongs to at most one optimizer."""
        raise NotImplementedError

    def phases(self) -> list[Phase]:
        """The phases of one training step, in order."""
        raise NotImplementedError

    def next_batch(self, step: int) -> Any:
        """The batch for ``step``, already on the device; used by every phase of that step."""
        raise NotImplementedError

    def compute_losses(self, phase: str, nets: Mapping[str, nn.Module], batch: Any, step: int) -> PhaseLosses:
        """The losses of one phase (called under autocast)."""
        raise NotImplementedError

    def ema_decays(self) -> dict[str, float]:
        """Networks to keep an exponential moving average of, with their decay."""
        return {}

    def differentiates_gradients(self) -> bool:
        """Whether a loss takes the gradient of a gradient (WGAN-GP, R1): such a task cannot be
        trained through ``torch.compile``, whose backward does not support double backward."""
        return False

    def sample(self, nets: Mapping[str, nn.Module], step: int, out_dir: Path) -> dict[str, float] | None:
        """Write samples/validation outputs (main process only, networks in eval mode, no grad).
        Returned numbers are logged as ``sample/<name>``."""
        return None

    def state_dict(self) -> dict[str, Any]:
        """Task state that must survive a resume (the sampler's generator, at least)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Inverse of ``state_dict``."""
