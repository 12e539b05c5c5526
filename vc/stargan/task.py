"""StarGAN image translation as a task of the shared GAN trainer (``vc.gan.Trainer``).

The task supplies what is specific to StarGAN on images, exactly as the voice task does for
StarGAN-VC: G and D, the batches (images, their labels and random target labels), and the
losses of the two phases. Everything generic (adversarial losses, gradient penalty,
classification and cycle losses, optimizer steps, n_critic, learning-rate decay, logging,
checkpoints, resume) comes from ``vc.gan``.

Objective (Choi et al. 2018, Eq. 5-6), with WGAN-GP by default:

* D: ``L_adv(D(x), D(G(x, c'))) + lambda_gp * GP + lambda_cls * L_cls(D_cls(x), c)``
* G: ``L_adv(D(G(x, c'))) + lambda_cls * L_cls(D_cls(G(x, c')), c') + lambda_cyc * |x - G(G(x, c'), c)|``

(with ``loss.gp_every`` = k > 1 the penalty is taken on every k-th D step only, at k x lambda_gp).

The target labels ``c'`` are the batch's own labels in shuffled order, as in the reference
implementation, so targets follow the data's distribution of valid attribute combinations
(never two hair colours at once unless the data has them). G's classification loss is taken on
the *translated* image: a loss on the real input would give G no gradient. With ``optim.ema_beta``
> 0 the trainer also keeps a moving average of G (``G_ema``), which then draws the samples.
"""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any, Mapping

import torch
import torch.nn as nn
from torch import Tensor

from vc.gan import (FakeHandoff, GanTask, OptimizerSpec, Phase, PhaseLosses, TrainContext, classification_accuracy,
                    classification_loss, cycle_loss, get_adversarial_loss, gradient_penalty, identity_loss,
                    joint_forward, step_shift)
from vc.gan.seeds import AUGMENT, stream_seed
from vc.image.datasets import BatchStream, ImageLabelDataset, build_dataset
from vc.image.grid import figure4, save_grid
from vc.image.labels import LabelSpace, cls_target
from vc.stargan.config import StarGANConfig
from vc.stargan.networks import Discriminator, Generator

log = logging.getLogger(__name__)


@dataclasses.dataclass
class ImageBatch:
    x: Tensor  # (B, C, H, W) in [-1, 1]
    label_org: Tensor  # (B, A) 0/1
    label_trg: Tensor  # (B, A) 0/1


def build_generator(cfg: StarGANConfig, space: LabelSpace) -> Generator:
    m = cfg.net
    return Generator(space.dim, cfg.data.channels, m.g_conv_dim, m.g_repeat_num, m.g_downsample,
                     m.g_upsample_init, m.g_skip)


def build_discriminator(cfg: StarGANConfig, space: LabelSpace) -> Discriminator:
    m = cfg.net
    return Discriminator(space.dim, cfg.data.image_size, cfg.data.channels, m.d_conv_dim, m.d_repeat_num)


class StarGANTask(GanTask):
    """G/D phases of StarGAN for ``vc.gan.Trainer``."""

    def __init__(self, cfg: StarGANConfig, train_set: ImageLabelDataset | None = None,
                 sample_set: ImageLabelDataset | None = None):
        self.cfg = cfg
        self.adv = get_adversarial_loss(cfg.loss.adversarial)
        self.train_set, self.sample_set = train_set, sample_set
        self.space: LabelSpace | None = train_set.space if train_set is not None else None
        self.handoff: FakeHandoff[Tensor] = FakeHandoff()

    # ------------------------------------------------------------------ set-up
    def setup(self, ctx: TrainContext) -> None:
        if self.train_set is None:
            self.train_set = build_dataset(self.cfg.data, "train")
        if self.sample_set is None and ctx.dist.is_main:
            self.sample_set = build_dataset(self.cfg.data, "test")
        self.space = self.train_set.space
        self.device = ctx.device
        self.handoff = FakeHandoff(ctx.dist)
        self.aug_seed = stream_seed(ctx.seed, AUGMENT, ctx.dist.rank)
        self.stream = BatchStream(self.train_set, self.cfg.data.batch_size, ctx.seed, rank=ctx.dist.rank,
                                  world_size=ctx.dist.world_size, num_workers=self.cfg.data.num_workers,
                                  device=ctx.device)
        # target labels come from a generator of their own so they do not depend on how many
        # random numbers the networks or the penalty consumed
        self.target_gen = torch.Generator().manual_seed(stream_seed(ctx.seed, AUGMENT, ctx.dist.rank))

    def build_networks(self) -> dict[str, nn.Module]:
        assert self.space is not None
        G = build_generator(self.cfg, self.space)
        if self.cfg.net.g_output_sign == "input":
            # a fixed probe (training images spread over the set, own labels): draws from no RNG
            assert self.train_set is not None
            idx = self.train_set.spread(64)
            x = torch.stack([self.train_set.image(i) for i in idx])
            if G.correlate_with_input_(x, self.train_set.labels[idx]):
                log.info("G's random init was not positively correlated with its input: "
                         "last convolution redrawn or negated")
        return {"G": G, "D": build_discriminator(self.cfg, self.space)}

    def optimizers(self) -> dict[str, OptimizerSpec]:
        o = self.cfg.optim
        return {"D": OptimizerSpec(("D",), o.lr_d, tuple(o.betas)),
                "G": OptimizerSpec(("G",), o.lr_g, tuple(o.betas))}

    def phases(self) -> list[Phase]:
        return [Phase("D", "D"), Phase("G", "G", every=self.cfg.optim.n_critic)]

    def ema_decays(self) -> dict[str, float]:
        beta = self.cfg.optim.ema_beta
        return {"G": beta} if beta > 0 else {}

    def differentiates_gradients(self) -> bool:
        return self.cfg.loss.lambda_gp > 0

    # ------------------------------------------------------------------ batches
    def next_batch(self, step: int) -> ImageBatch:
        x, label_org, _ = self.stream.batch(step)
        perm = torch.randperm(label_org.shape[0], generator=self.target_gen).to(label_org.device)
        return ImageBatch(x, label_org, label_org[perm])

    # ------------------------------------------------------------------ losses
    def compute_losses(self, phase: str, nets: Mapping[str, nn.Module], batch: ImageBatch, step: int) -> PhaseLosses:
        if phase == "D":
            return self._d_losses(nets["G"], nets["D"], batch, step)
        if phase == "G":
            return self._g_losses(nets["G"], nets["D"], batch, step)
        raise ValueError(f"unknown phase {phase!r}")

    def _d_view(self, x: Tensor, step: int, salt: int) -> Tensor:
        """What D sees of ``x``: ``x`` itself, or ``x`` shifted (``loss.d_shift``, DiffAugment)."""
        return step_shift(x, self.cfg.loss.d_shift, self.aug_seed, step, salt)

    def _d_losses(self, G: nn.Module, D: nn.Module, b: ImageBatch, step: int) -> PhaseLosses:
        lc = self.cfg.loss
        assert self.space is not None
        fake = self._d_view(self.handoff.for_d(lambda: G(b.x, b.label_trg), step,
                                               g_runs_this_step=step % self.cfg.optim.n_critic == 0), step, 1)
        real = self._d_view(b.x, step, 0)
        # one pass over both batches: D has no batch statistics, so this is two passes' result, cheaper
        (out_real, cls_real), (out_fake, _) = joint_forward(D, (real,), (fake,))
        terms = {"adv_real": self.adv.d_real_loss(out_real), "adv_fake": self.adv.d_fake_loss(out_fake),
                 "cls": classification_loss(cls_real, cls_target(self.space, b.label_org))}
        weights = {"cls": lc.lambda_cls}
        if lc.lambda_gp > 0 and step % lc.gp_every == 0:
            terms["gp"] = gradient_penalty(lambda h: D(h)[0], real, fake)
            weights["gp"] = lc.lambda_gp * lc.gp_every
        acc = classification_accuracy(cls_real, cls_target(self.space, b.label_org))
        return PhaseLosses(terms, weights, {"cls_acc_real": acc})

    def _g_losses(self, G: nn.Module, D: nn.Module, b: ImageBatch, step: int) -> PhaseLosses:
        lc = self.cfg.loss
        assert self.space is not None
        fake = self.handoff.for_g(lambda: G(b.x, b.label_trg), step)  # the D phase's if it kept it
        out_fake, cls_fake = D(self._d_view(fake, step, 2))
        target = cls_target(self.space, b.label_trg)
        terms = {"adv": self.adv.g_loss(out_fake), "cls": classification_loss(cls_fake, target),
                 "cyc": cycle_loss(b.x, G(fake, b.label_org))}
        weights = {"cls": lc.lambda_cls, "cyc": lc.lambda_cyc}
        if lc.lambda_id > 0:
            terms["id"] = identity_loss(b.x, G(b.x, b.label_org))
            weights["id"] = lc.lambda_id
        return PhaseLosses(terms, weights, {"cls_acc_fake": classification_accuracy(cls_fake, target)})

    # ------------------------------------------------------------------ samples
    def sample(self, nets: Mapping[str, nn.Module], step: int, out_dir: Path) -> dict[str, float] | None:
        """A Figure-4 grid of held-out images; returns the mean reconstruction L1."""
        if self.sample_set is None or self.space is None:
            return None
        idx = self.sample_set.spread(self.cfg.sample_count)
        x = torch.stack([self.sample_set.image(i) for i in idx]).to(self.device)
        labels = self.sample_set.labels[idx].to(self.device)
        G = nets.get("G_ema", nets["G"])
        titles, columns = figure4(lambda im, c: G(im, c), x, labels, self.space, self.cfg.max_combos)
        save_grid(out_dir / "grid.png", [c.float().cpu() for c in columns], titles)
        rec = torch.stack([cycle_loss(x, G(col, labels)) for col in columns[1:]]).mean()
        return {"rec_l1": float(rec)}

    def state_dict(self) -> dict[str, Any]:
        return {"target_gen": self.target_gen.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "target_gen" in state:
            self.target_gen.set_state(state["target_gen"])
