"""The attribute classifier that judges translations, trained on real images only.

Using D's own classification head to score G would be circular (G is trained to please that
very head), so evaluation uses a separate small CNN trained on the real training images. It is
trained through the shared trainer as a one-phase task, so it gets the same checkpoints,
resume, CSV log and progress bar as the GANs, and lives in the bundle as
``eval_classifier/`` (``classifier.json`` + ``checkpoints/``).

The judge is an ensemble of ``evaluation.judges`` such classifiers that differ only in their
seed, read through their mean logits. One classifier is not a stable instrument for
translations: seeds of the same network that read real images alike can read the same
translations differently, since translations sit nearer the decision boundaries, where seeds
disagree most (docs/experiments/image_configs.md). The mean of several judges is what a score
can rest on, and the spread of their single readings (reported by the evaluations) says how far
it can be trusted. Member 0 lives in ``eval_classifier/`` itself (so a single-judge bundle keeps
its layout), member k in ``eval_classifier/member<k>/``.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Mapping

import torch
import torch.nn as nn
from torch import Tensor

from vc.config import to_dict
from vc.fileio import atomic_write_text
from vc.gan import (CheckpointError, CheckpointManager, GanTask, OptimizerSpec, Phase, PhaseLosses, TrainContext,
                    Trainer, TrainerConfig, classification_accuracy, classification_loss, load_checkpoint,
                    random_blur, random_shift, shift_pixels)
from vc.image.config import EvalClassifierConfig
from vc.image.datasets import BatchStream, ImageLabelDataset
from vc.image.labels import LabelSpace, cls_target

log = logging.getLogger(__name__)

META = "classifier.json"
CLASSIFIER_DIR = "eval_classifier"  # the judges' folder inside a model bundle


class AttributeClassifier(nn.Module):
    """conv-BN-ReLU blocks (each halving the size) + global average pooling + linear logits.

    Global pooling makes the decision independent of where the glyph or face sits, which is
    what an attribute judge needs.
    """

    def __init__(self, c_dim: int, channels: int = 3, conv_dim: int = 32, repeat_num: int = 4):
        super().__init__()
        layers: list[nn.Module] = []
        dim_in, dim = channels, conv_dim
        for i in range(repeat_num):
            layers += [nn.Conv2d(dim_in, dim, 3, 1, 1, bias=False), nn.BatchNorm2d(dim), nn.ReLU(inplace=True),
                       nn.Conv2d(dim, dim, 4, 2, 1, bias=False), nn.BatchNorm2d(dim), nn.ReLU(inplace=True)]
            dim_in, dim = dim, min(dim * 2, conv_dim * 8)
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(dim_in, c_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


class JudgeEnsemble(nn.Module):
    """Independently seeded classifiers read as one: the mean of their logits."""

    def __init__(self, members: list[AttributeClassifier]):
        super().__init__()
        if not members:
            raise ValueError("a judge ensemble needs at least one classifier")
        self.members = nn.ModuleList(members)

    def member_logits(self, x: Tensor) -> Tensor:
        """(K, N, C): each member's logits, for the spread of their single readings."""
        return torch.stack([m(x) for m in self.members])

    def forward(self, x: Tensor) -> Tensor:
        return self.member_logits(x).mean(dim=0)


def member_logits(classifier: nn.Module, x: Tensor) -> Tensor:
    """(K, N, C) logits of an ensemble's members; a lone classifier is an ensemble of one."""
    return classifier.member_logits(x) if isinstance(classifier, JudgeEnsemble) else classifier(x)[None]


def member_dir(out_dir: str | os.PathLike, k: int) -> Path:
    return Path(out_dir) if k == 0 else Path(out_dir) / f"member{k}"


class ClassifierTask(GanTask):
    """One phase, one network: supervised attribute classification of real images."""

    def __init__(self, train_set: ImageLabelDataset, cfg: EvalClassifierConfig):
        self.train_set, self.cfg = train_set, cfg
        self.space = train_set.space

    def setup(self, ctx: TrainContext) -> None:
        self.seed = ctx.seed
        self.stream = BatchStream(self.train_set, self.cfg.batch_size, ctx.seed, rank=ctx.dist.rank,
                                  world_size=ctx.dist.world_size, device=ctx.device)

    def build_networks(self) -> dict[str, nn.Module]:
        return {"C": AttributeClassifier(self.space.dim, self.train_set.channels, self.cfg.conv_dim,
                                         self.cfg.repeat_num)}

    def optimizers(self) -> dict[str, OptimizerSpec]:
        return {"C": OptimizerSpec(("C",), self.cfg.lr, (0.9, 0.999), weight_decay=self.cfg.weight_decay)}

    def phases(self) -> list[Phase]:
        return [Phase("C", "C")]

    def next_batch(self, step: int) -> tuple[Tensor, Tensor]:
        x, labels, _ = self.stream.batch(step)
        shift = shift_pixels(self.cfg.max_shift, x.shape[-1])
        if shift or self.cfg.max_blur > 0:
            # not vc.gan.step_shift: its salted seeds would retrain every existing bundle's judges
            gen = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
            x = random_shift(x, shift, gen)  # position carries no attribute; G may move a glyph a little
            x = random_blur(x, self.cfg.max_blur, gen)  # drawn after the shifts: those stay as they were
        return x, labels

    def compute_losses(self, phase: str, nets: Mapping[str, nn.Module], batch: Any, step: int) -> PhaseLosses:
        x, labels = batch
        logits = nets["C"](x)
        target = cls_target(self.space, labels)
        return PhaseLosses({"cls": classification_loss(logits, target)},
                           metrics={"acc": classification_accuracy(logits, target)})


def train_classifier(out_dir: str | os.PathLike, train_set: ImageLabelDataset, cfg: EvalClassifierConfig, *,
                     device: str = "auto", seed: int = 0, cpu_threads: int = 0) -> list[Path]:
    """Train (or finish training) the ``cfg.judges`` members in ``out_dir``, member k with seed
    ``seed + k``; returns their checkpoint paths. Finished members are left as they are.
    ``cpu_threads``: as :class:`vc.gan.TrainerConfig`'s (0: every core), so that the judges can
    train on one core while the GAN trains on another."""
    meta = json.dumps({"labels": train_set.space.to_dict(), "config": to_dict(cfg), "channels": train_set.channels,
                       "image_size": train_set.image_size}, indent=1) + "\n"
    tcfg = TrainerConfig(max_steps=cfg.steps, lr_decay_start=cfg.steps // 2, log_every=50,
                         checkpoint_every=max(1, cfg.steps // 4), keep_checkpoints=1, cpu_threads=cpu_threads)
    paths = []
    for k in range(cfg.judges):
        mdir = member_dir(out_dir, k)
        differs = _settings_differ(mdir, cfg)
        if differs:
            raise CheckpointError(f"{mdir}: these judges were trained with other evaluation settings ({differs}); "
                                  "delete the folder to train judges with the config's")
        if _member_trained(mdir, cfg.steps):
            paths.append(CheckpointManager(mdir / "checkpoints").latest())
            continue
        log.info("training judge %d of %d (seed %d) in %s", k + 1, cfg.judges, seed + k, mdir)
        atomic_write_text(mdir / META, meta)
        trainer = Trainer(ClassifierTask(train_set, cfg), tcfg, mdir, device=device, seed=seed + k)
        try:
            result = trainer.fit(resume=CheckpointManager(mdir / "checkpoints").latest() is not None)
        finally:
            trainer.close()
        assert result.checkpoint is not None
        paths.append(result.checkpoint)
    # member 0's description names the ensemble's size: rewritten, since a bundle from before
    # ensembles (or with fewer judges) still has its old one
    atomic_write_text(member_dir(out_dir, 0) / META, meta)
    return paths


# what a judge's training does not depend on: how many judges, how many edits are scored, and the
# step count (a longer config finishes the training of shorter judges)
_NOT_TRAINING_SETTINGS = ("judges", "max_combos", "steps")


def _settings_differ(mdir: Path, cfg: EvalClassifierConfig) -> str:
    """The training settings in which the judge in ``mdir`` differs from ``cfg`` ('' if none, or no judge)."""
    if not (mdir / META).is_file():
        return ""
    stored = to_dict(EvalClassifierConfig(**json.loads((mdir / META).read_text(encoding="utf-8"))["config"]))
    wanted = to_dict(cfg)
    return ", ".join(f"{key} {stored[key]} vs {wanted[key]}" for key in wanted
                     if key not in _NOT_TRAINING_SETTINGS and stored.get(key) != wanted[key])


def _member_trained(mdir: Path, steps: int) -> bool:
    done = CheckpointManager(mdir / "checkpoints").steps()
    return (mdir / META).is_file() and bool(done) and done[-1] >= steps


def is_trained(out_dir: str | os.PathLike, cfg: EvalClassifierConfig) -> bool:
    """Whether ``out_dir`` holds ``cfg.judges`` judges trained to ``cfg.steps`` with ``cfg``'s settings."""
    return all(_member_trained(member_dir(out_dir, k), cfg.steps) and not _settings_differ(member_dir(out_dir, k), cfg)
               for k in range(cfg.judges))


def load_classifier(out_dir: str | os.PathLike, space: LabelSpace, device: str | torch.device = "cpu",
                    judges: int | None = None) -> JudgeEnsemble:
    """The trained judge ensemble in eval mode; its label space must be the model's.

    ``judges``: at most this many members (the evaluation config's ``judges``), so that a config
    asking for fewer judges than the folder holds is obeyed; a folder trained with fewer (before
    ensembles) gives what it has. None reads as many as it describes.
    """
    out_dir = Path(out_dir)
    if not (out_dir / META).is_file():
        raise CheckpointError(f"{out_dir}: no trained evaluation classifier ({META} missing)")
    meta = json.loads((out_dir / META).read_text(encoding="utf-8"))
    if LabelSpace.from_dict(meta["labels"]) != space:
        raise CheckpointError(f"{out_dir / META}: classifier attributes differ from the model's {list(space.names)}")
    cfg = EvalClassifierConfig(**{"judges": 1, **meta["config"]})  # written before ensembles: one judge
    members = []
    for k in range(cfg.judges if judges is None else min(judges, cfg.judges)):
        path = CheckpointManager(member_dir(out_dir, k) / "checkpoints").latest()
        if path is None:
            raise CheckpointError(f"{member_dir(out_dir, k) / 'checkpoints'}: no classifier checkpoint")
        net = AttributeClassifier(space.dim, int(meta["channels"]), cfg.conv_dim, cfg.repeat_num)
        net.load_state_dict(load_checkpoint(path, map_location=device)["nets"]["C"])
        members.append(net)
    return JudgeEnsemble(members).to(device).eval().requires_grad_(False)
