"""The task-driven GAN training loop.

``Trainer(task, cfg, out_dir).fit()`` runs ``cfg.max_steps`` steps. Each step draws one batch from
the task and runs the task's phases; each phase is ``zero_grad -> losses (under autocast) ->
finite check -> backward -> (clip) -> step -> EMA update``. Around that the trainer applies the
linear learning-rate decay, logs every loss term (CSV/TensorBoard/tqdm), calls the task's sample
hook and writes checkpoints that make a resumed run continue bit for bit like an uninterrupted
one: networks, EMA copies, optimizers, grad scaler, the task's state (its sampler generator),
the Python/NumPy/torch RNG states of every rank, and the step.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from vc.config import ConfigError, choice_problem
from vc.gan.checkpoint import CheckpointManager, load_checkpoint
from vc.gan.ema import EMA
from vc.gan.metrics import MetricLogger
from vc.gan.runtime import (DistInfo, autocast, get_rng_state, init_distributed, resolve_amp, resolve_device,
                            seed_everything, set_rng_state)
from vc.gan.schedules import linear_decay_factor
from vc.gan.seeds import PROCESS, stream_seed
from vc.gan.task import GanTask, OptimizerSpec, Phase, PhaseLosses, TrainContext
from vc.errors import VCError

log = logging.getLogger(__name__)

ADAM_IMPLS = ("default", "foreach", "fused", "single")
CHECKPOINT_FORMAT = 1


class NonFiniteLossError(VCError, RuntimeError):
    """A loss term became NaN or infinite; the message names the step, phase and term."""

    exit_code = 2  # told apart from a mistake in the input: the run itself diverged


@dataclass
class TrainerConfig:
    """How long and how to train; independent of what is trained."""

    max_steps: int = 10000
    lr_decay_start: int | None = None  # step after which the learning rate falls linearly to 0 at max_steps
    log_every: int = 10                 # CSV/progress-bar interval (means over the interval)
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3
    sample_every: int = 0               # 0: only at the end
    # auto (bf16 on CUDA, off on CPU) | native (auto + bf16 on CPUs with bf16 units) | bf16 | fp16 | off
    amp: str = "auto"
    # foreach | default (torch's choice: the per-tensor loop on CPUs) | fused | single (that loop). foreach
    # takes the same steps as the loop to the bit, in 5.8 ms instead of 9.6 per step on the StarGAN v2
    # font config's networks (bench/adam_step.py); fused is faster still but rounds otherwise
    adam_impl: str = "foreach"
    channels_last: bool = False
    compile: bool = False               # torch.compile each network's forward
    find_unused_parameters: bool = False  # DDP option for networks with branches unused in a phase
    cpu_threads: int = 0                # torch intra-op threads on the CPU; 0 = every core this process may use

    def __post_init__(self) -> None:
        problems = []
        if self.max_steps < 1:
            problems.append(f"trainer.max_steps must be >= 1, got {self.max_steps}")
        for name in ("log_every", "checkpoint_every", "keep_checkpoints"):
            if getattr(self, name) < 1:
                problems.append(f"trainer.{name} must be >= 1, got {getattr(self, name)}")
        if self.cpu_threads < 0:
            problems.append(f"trainer.cpu_threads must be >= 0, got {self.cpu_threads}")
        if self.sample_every < 0:
            problems.append(f"trainer.sample_every must be >= 0, got {self.sample_every}")
        problem = choice_problem("trainer.adam_impl", self.adam_impl, ADAM_IMPLS)
        if problem:
            problems.append(problem)
        if problems:
            raise ConfigError("; ".join(problems))


@dataclass
class TrainResult:
    step: int
    checkpoint: Path | None
    metrics: dict[str, float]


def _make_adam(spec: OptimizerSpec, nets: Mapping[str, nn.Module], impl: str) -> torch.optim.Adam:
    groups = []
    for name in spec.modules:
        params = [p for p in nets[name].parameters() if p.requires_grad]
        if params:
            lr = spec.module_lr.get(name, spec.lr)
            groups.append({"params": params, "lr": lr, "base_lr": lr, "module": name})
    kwargs: dict[str, Any] = {}
    if impl == "foreach":
        kwargs["foreach"] = True
    elif impl == "fused":
        kwargs["fused"] = True
    elif impl == "single":
        kwargs["foreach"] = False
    return torch.optim.Adam(groups, lr=spec.lr, betas=spec.betas, weight_decay=spec.weight_decay, **kwargs)


class Trainer:
    """Runs a ``GanTask``; see ``vc.gan`` for the overall picture."""

    def __init__(self, task: GanTask, cfg: TrainerConfig, out_dir: str | Path, *, device: str = "auto",
                 seed: int = 0, progress: bool = True):
        self.progress = progress
        self.task = task
        self.cfg = cfg
        self.out_dir = Path(out_dir)
        self.device_spec = device
        self.seed = seed
        self.step = 0
        self.nets: dict[str, nn.Module] = {}
        self.emas: dict[str, EMA] = {}
        self.optims: dict[str, torch.optim.Adam] = {}
        self.info = DistInfo()

    # ---------------------------------------------------------------- set-up
    def _setup(self) -> None:
        if self.cfg.compile and self.task.differentiates_gradients():
            raise ConfigError("trainer.compile cannot train this model: its loss has a gradient penalty "
                              "(WGAN-GP or R1), and torch.compile does not support double backward; set "
                              "trainer.compile to false")
        kind = "cuda" if self.device_spec.startswith("cuda") or (self.device_spec == "auto" and torch.cuda.is_available()) else "cpu"
        self.info = init_distributed(kind)
        self.device = resolve_device(self.device_spec, self.info, self.cfg.cpu_threads)
        self.amp_dtype = resolve_amp(self.cfg.amp, self.device)
        seed_everything(stream_seed(self.seed, PROCESS, self.info.rank))
        ctx = TrainContext(self.device, self.info, self.seed, self.out_dir, self.amp_dtype)
        self.task.setup(ctx)
        self.nets = {k: m.to(self.device) for k, m in self.task.build_networks().items()}
        if self.cfg.channels_last:
            self.nets = {k: m.to(memory_format=torch.channels_last) for k, m in self.nets.items()}
        self.specs = self.task.optimizers()
        owner: dict[str, str] = {}
        for opt_name, spec in self.specs.items():
            for m in spec.modules:
                if m not in self.nets:
                    raise ValueError(f"optimizer {opt_name!r} names unknown network {m!r}; networks: {sorted(self.nets)}")
                if m in owner:
                    raise ValueError(f"network {m!r} is in optimizers {owner[m]!r} and {opt_name!r}")
                owner[m] = opt_name
        self.phases = self.task.phases()
        for ph in self.phases:
            if ph.optimizer not in self.specs:
                raise ValueError(f"phase {ph.name!r} uses unknown optimizer {ph.optimizer!r}")
        self.emas = {k: EMA(self.nets[k], d) for k, d in self.task.ema_decays().items()}
        self.optims = {k: _make_adam(s, self.nets, self.cfg.adam_impl) for k, s in self.specs.items()}
        self.scaler = torch.amp.GradScaler("cuda") if self.amp_dtype == torch.float16 else None
        train_modules = {k: m for k, m in self.nets.items() if k in owner}
        if self.cfg.compile:
            for m in self.nets.values():
                m.compile()
        if self.info.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            train_modules = {k: DistributedDataParallel(m, device_ids=ids,
                                                        find_unused_parameters=self.cfg.find_unused_parameters)
                             for k, m in train_modules.items()}
        # Per optimizer: the networks as the task sees them during that optimizer's phases.
        self.views: dict[str, dict[str, nn.Module]] = {}
        for opt_name, spec in self.specs.items():
            view = {k: (train_modules[k] if k in spec.modules else m) for k, m in self.nets.items()}
            view.update({f"{k}_ema": e.shadow for k, e in self.emas.items()})
            self.views[opt_name] = view
        self.params = {k: [p for g in o.param_groups for p in g["params"]] for k, o in self.optims.items()}
        self.ckpt = CheckpointManager(self.out_dir / "checkpoints", self.cfg.keep_checkpoints)

    # ---------------------------------------------------------------- checkpoints
    def _gather(self, obj: Any) -> list[Any]:
        if not self.info.distributed:
            return [obj]
        out: list[Any] = [None] * self.info.world_size
        dist.all_gather_object(out, obj)
        return out

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly (RNG and task state of every rank)."""
        return {
            "format": CHECKPOINT_FORMAT,
            "step": self.step,
            "nets": {k: m.state_dict() for k, m in self.nets.items()},
            "ema": {k: e.state_dict() for k, e in self.emas.items()},
            "optimizers": {k: o.state_dict() for k, o in self.optims.items()},
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "rng": self._gather(get_rng_state()),
            "task": self._gather(self.task.state_dict()),
            "world_size": self.info.world_size,
        }

    def _save(self) -> Path | None:
        state = self.state_dict()  # every rank takes part in the gathers
        path = None
        if self.info.is_main:
            path = self.ckpt.save(self.step, state)
            log.info("step %d: saved %s", self.step, path)
        if self.info.distributed:
            dist.barrier()
        return path

    def _restore(self, path: Path) -> None:
        state = load_checkpoint(path, map_location=self.device)
        for key in ("step", "nets", "optimizers", "rng", "task"):
            if key not in state:
                raise ValueError(f"{path}: not a trainer checkpoint (no {key!r} entry)")
        missing = set(self.nets) - set(state["nets"])
        if missing:
            raise ValueError(f"{path}: checkpoint lacks networks {sorted(missing)}")
        for k, m in self.nets.items():
            m.load_state_dict(state["nets"][k])
        for k, e in self.emas.items():
            if k in state.get("ema", {}):
                e.load_state_dict(state["ema"][k])
            else:
                log.warning("%s: no EMA of %s saved; starting it from the current weights", path, k)
                e.shadow.load_state_dict(self.nets[k].state_dict())
        for k, o in self.optims.items():
            o.load_state_dict(state["optimizers"][k])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.step = int(state["step"])
        if state.get("world_size", 1) == self.info.world_size:
            set_rng_state(state["rng"][self.info.rank])
            self.task.load_state_dict(state["task"][self.info.rank])
        else:
            log.warning("%s was written by %s processes, this run has %s: data order and RNG streams are "
                        "reseeded, so this resume is not bit-exact", path, state.get("world_size"), self.info.world_size)
            seed_everything(self.seed + self.info.rank + self.step)
            self.task.load_state_dict(state["task"][0])
        log.info("resumed from %s at step %d", path, self.step)

    # ---------------------------------------------------------------- one step
    def _set_lr(self, step: int) -> None:
        factor = linear_decay_factor(step, self.cfg.lr_decay_start, self.cfg.max_steps)
        for name, opt in self.optims.items():
            f = factor if self.specs[name].decay else 1.0
            for g in opt.param_groups:
                g["lr"] = g["base_lr"] * f

    def _check_finite(self, phase: str, out: PhaseLosses, step: int) -> None:
        for name, t in out.terms.items():
            if t.numel() != 1:
                raise ValueError(f"phase {phase!r}: loss term {name!r} must be a scalar, got shape {tuple(t.shape)}")
        values = torch.stack([t.detach().float().reshape(()) for t in out.terms.values()])
        if bool(torch.isfinite(values).all()):
            return
        bad = [f"{n}={v}" for n, v in zip(out.terms, values.tolist()) if not math.isfinite(v)]
        last = self.ckpt.latest() if self.info.is_main else None
        raise NonFiniteLossError(
            f"non-finite loss at step {step}, phase {phase!r}: {', '.join(bad)}. Training stopped before this "
            f"update; the last good checkpoint is {last or 'none (no checkpoint written yet)'}. Lower the learning "
            "rate, check the input features for NaN/inf, or turn mixed precision off (amp: off)."
        )

    def _run_phase(self, phase: Phase, batch: Any, step: int) -> dict[str, Any]:
        opt = self.optims[phase.optimizer]
        spec = self.specs[phase.optimizer]
        opt.zero_grad(set_to_none=True)
        with autocast(self.device, self.amp_dtype):
            out = self.task.compute_losses(phase.name, self.views[phase.optimizer], batch, step)
        self._check_finite(phase.name, out, step)
        total = out.total()
        params = self.params[phase.optimizer]
        if self.scaler is not None:
            total = self.scaler.scale(total)
        total.backward(inputs=params)
        if spec.grad_clip is not None:
            if self.scaler is not None:
                self.scaler.unscale_(opt)  # clip the true gradients, not the scaled ones
            torch.nn.utils.clip_grad_norm_(params, spec.grad_clip)
        if self.scaler is not None:
            self.scaler.step(opt)
            self.scaler.update()
        else:
            opt.step()
        for name in spec.modules if phase.ema else ():
            if name in self.emas:
                self.emas[name].update(self.nets[name])
        logs: dict[str, Any] = {f"{phase.name}/{k}": v for k, v in out.terms.items()}
        logs.update({f"{phase.name}/{k}": v for k, v in out.metrics.items()})
        return logs

    def train_step(self, step: int) -> dict[str, Any]:
        """One optimisation step (all due phases) on a fresh batch; returns the loss terms.

        Public so that benchmarks can time steps without the logging/checkpoint around them;
        ``fit`` is the normal way to train.
        """
        self._set_lr(step)
        batch = self.task.next_batch(step)
        logs: dict[str, Any] = {}
        for phase in self.phases:
            if step % phase.every == 0:
                logs.update(self._run_phase(phase, batch, step))
        return logs

    def setup(self) -> None:
        """Build everything ``fit`` needs without training (for benchmarks and tests)."""
        self._setup()

    def _sample(self, step: int, logger: MetricLogger) -> None:
        if not self.info.is_main:
            return
        view = dict(self.nets)
        view.update({f"{k}_ema": e.shadow for k, e in self.emas.items()})
        for m in self.nets.values():
            m.eval()
        try:
            with torch.no_grad(), autocast(self.device, self.amp_dtype):
                metrics = self.task.sample(view, step, self.out_dir / "samples" / f"step_{step:08d}")
        finally:
            for m in self.nets.values():
                m.train()
        if metrics:
            logger.add({f"sample/{k}": v for k, v in metrics.items()})

    # ---------------------------------------------------------------- loop
    def fit(self, resume: bool = False, until: int | None = None) -> TrainResult:
        """Train to ``cfg.max_steps`` (or stop after step ``until``, keeping the schedule of the full run).

        Without ``resume`` an output folder that already holds checkpoints is an error, so that a
        finished model is never overwritten by accident.
        """
        self._setup()
        existing = self.ckpt.latest()
        if existing is not None and not resume:
            raise FileExistsError(f"{self.ckpt.dir} already holds checkpoints ({existing.name}); pass resume=True "
                                  "(--resume) to continue that run, or choose another output folder")
        if resume and existing is not None:
            self._restore(existing)
        elif resume:
            log.warning("resume requested but %s has no checkpoint; starting from step 0", self.ckpt.dir)
        end = min(self.cfg.max_steps, until) if until is not None else self.cfg.max_steps
        logger = MetricLogger(self.out_dir / "logs", enabled=self.info.is_main)
        logger.truncate_after(self.step)
        for m in self.nets.values():
            m.train()
        last_ckpt: Path | None = existing if resume else None
        means: dict[str, float] = {}
        bar = tqdm(total=end, initial=self.step, disable=not (self.progress and self.info.is_main), desc="train", dynamic_ncols=True)
        try:
            while self.step < end:
                step = self.step + 1
                logger.add(self.train_step(step))
                self.step = step
                bar.update(1)
                if self.cfg.sample_every and step % self.cfg.sample_every == 0 or step == self.cfg.max_steps:
                    self._sample(step, logger)
                if step % self.cfg.log_every == 0 or step == end:
                    logger.add({f"lr/{k}": o.param_groups[0]["lr"] for k, o in self.optims.items()})
                    means = logger.flush(step)
                    bar.set_postfix({k: f"{v:.3g}" for k, v in means.items()
                                     if not k.startswith(("lr/", "sample/"))}, refresh=False)
                if step % self.cfg.checkpoint_every == 0 or step == end:
                    last_ckpt = self._save()
        finally:
            bar.close()
            logger.close()
        return TrainResult(self.step, last_ckpt, means)

    def close(self) -> None:
        """Leave the process group (torchrun) once training is over."""
        if self.info.distributed and dist.is_initialized():
            dist.destroy_process_group()
