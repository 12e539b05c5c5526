"""StarGAN v2 as a task of the shared GAN trainer (``vc.gan.Trainer``).

Four phases per step, in the paper's order: D with latent-guided fakes, D with
reference-guided fakes, G with latent codes (G, F and E are updated), G with references (only
G is updated: E's weights are used frozen, so E learns only from latent-guided steps, as in the
reference implementation). EMA copies of G, F and E (decay ``optim.ema_beta``) are updated once
per step, after the second G phase, and are what samples and translations use.

Objective (Choi et al. 2020, Eq. 1-5), with ``s~ = F(z, y~)`` or ``E(x_ref, y~)``:

* D: ``-log D_y(x) - log(1 - D_y~(G(x, s~))) + lambda_reg * R1(x)``
* G: ``-log D_y~(G(x, s~)) + lambda_sty |s~ - E_y~(G(x, s~))| - lambda_ds |G(x, s~1) - G(x, s~2)|
  + lambda_cyc |x - G(G(x, s~), E_y(x))|``

(with ``loss.reg_every`` = k > 1, R1 is taken on every k-th step only, at k x lambda_reg).

``lambda_ds`` decays linearly to 0 over ``loss.ds_decay_steps`` as a function of the step, so
a resumed run continues the decay exactly. Every loss and the penalty come from ``vc.gan``.

Not in the paper, off by default: with ``net.slant`` (``vc.stargan_v2.slant``) the G-latent phase
also trains G's and E's slant estimators, ``+ lambda_slant * equivariance(x, k)`` for shears
``k`` drawn with the batch.

Not in the paper, off by default: with ``loss.lambda_cls`` > 0, D also classifies the domain of
real images (``+ lambda_cls CE(C(x), y)``) and G is scored by that head on its outputs
(``+ lambda_cls CE(C(G(x, s~)), y~)``), StarGAN v1's term. The per-domain heads never compare
an output with the real images of *other* domains; a translation that keeps a trace of its
source family (the serifs of a Serif glyph translated into Sans) is only weakly penalised
without it.
"""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Callable, Mapping

import torch
import torch.nn as nn
from torch import Tensor
from torch.func import functional_call

from vc.gan import (FakeHandoff, GanTask, LinearSchedule, OptimizerSpec, Phase, PhaseLosses, TrainContext,
                    classification_accuracy, classification_loss, cycle_loss, get_adversarial_loss, l1_loss, r1_penalty,
                    step_shift)
from vc.gan.seeds import AUGMENT, stream_seed
from vc.image.domain_data import DomainSet, balanced_draw, build_domain_set, step_generator
from vc.image.grid import save_grid
from vc.stargan_v2.config import StarGANv2Config
from vc.stargan_v2.diversity import mean_pairwise_l1
from vc.stargan_v2.networks import Discriminator, Generator, MappingNetwork, StyleEncoder
from vc.stargan_v2.slant import slant_equivariance_loss
from vc.stargan_v2.translate import StyleTranslator, pick_inputs, pick_references

log = logging.getLogger(__name__)

PHASES = ("D_latent", "D_ref", "G_latent", "G_ref")


@dataclasses.dataclass
class StarGANv2Batch:
    x: Tensor  # (B, C, H, W) sources in [-1, 1]
    y_src: Tensor  # (B,) source domains
    y_trg: Tensor  # (B,) target domains
    x_ref: Tensor  # (B, C, H, W) references of domain y_trg
    x_ref2: Tensor
    z: Tensor  # (B, latent_dim)
    z2: Tensor
    shear: Tensor | None = None  # (B,) shears for the slant estimators (net.slant), else None


def build_networks(cfg: StarGANv2Config, num_domains: int) -> dict[str, nn.Module]:
    """Fresh G, F (mapping), E (style encoder) and D for ``num_domains`` domains."""
    n, d = cfg.net, cfg.data
    g_depth, ed_depth = n.g_depth(d.image_size), n.ed_depth(d.image_size)
    return {
        "G": Generator(n.style_dim, d.channels, n.dim_in, n.max_conv_dim, g_depth, n.g_bottleneck, n.slant,
                       n.slant_reader, n.g_tanh),
        "F": MappingNetwork(n.latent_dim, n.style_dim, num_domains, n.mapping_hidden, n.mapping_shared_layers,
                            n.mapping_head_layers, n.slant),
        "E": StyleEncoder(d.image_size, n.style_dim, num_domains, d.channels, n.dim_in, n.max_conv_dim, ed_depth,
                          n.slant, n.slant_reader),
        "D": Discriminator(d.image_size, num_domains, d.channels, n.dim_in, n.max_conv_dim, ed_depth,
                           classifier=cfg.loss.lambda_cls > 0),
    }


def _inner(module: nn.Module) -> nn.Module:
    """The network inside a DDP wrapper (or ``module`` itself)."""
    return getattr(module, "module", module)


def frozen(module: nn.Module) -> Callable[..., Tensor]:
    """``module`` as a function of its inputs only: gradients reach the inputs, never the weights
    (so a network in the phase's optimizer can be used without being updated)."""
    inner = _inner(module)
    params = {k: v.detach() for k, v in inner.named_parameters()}
    return lambda *args: functional_call(inner, params, args)


def ds_weight(cfg: StarGANv2Config, step: int) -> float:
    """The diversity weight used at ``step`` (1-based)."""
    lc = cfg.loss
    if lc.ds_decay_steps <= 0:
        return lc.lambda_ds
    return LinearSchedule(lc.lambda_ds, 0.0, 0, lc.ds_decay_steps)(step - 1)


class StarGANv2Task(GanTask):
    """Latent- and reference-guided D and G phases of StarGAN v2 for ``vc.gan.Trainer``."""

    def __init__(self, cfg: StarGANv2Config, train_set: DomainSet | None = None,
                 sample_set: DomainSet | None = None):
        self.cfg = cfg
        self.adv = get_adversarial_loss(cfg.loss.adversarial)
        self.train_set, self.sample_set = train_set, sample_set
        # G and F do not change between D_latent and G_latent (D_ref's fakes are not reusable:
        # G_latent updates G before G_ref)
        self.handoff: FakeHandoff[tuple[Tensor, Tensor]] = FakeHandoff()

    # ------------------------------------------------------------------ set-up
    def setup(self, ctx: TrainContext) -> None:
        if self.train_set is None:
            self.train_set = build_domain_set(self.cfg, "train")
        if self.sample_set is None and ctx.dist.is_main:
            self.sample_set = build_domain_set(self.cfg, "test")
        self.device, self.seed, self.rank = ctx.device, ctx.seed, ctx.dist.rank
        self.handoff = FakeHandoff(ctx.dist)

    @property
    def num_domains(self) -> int:
        assert self.train_set is not None
        return len(self.train_set.names)

    def build_networks(self) -> dict[str, nn.Module]:
        return build_networks(self.cfg, self.num_domains)

    def optimizers(self) -> dict[str, OptimizerSpec]:
        o = self.cfg.optim
        betas = tuple(o.betas)
        return {"D": OptimizerSpec(("D",), o.lr, betas, o.weight_decay),
                "G": OptimizerSpec(("G", "F", "E"), o.lr, betas, o.weight_decay, module_lr={"F": o.f_lr})}

    def phases(self) -> list[Phase]:
        return [Phase("D_latent", "D"), Phase("D_ref", "D"), Phase("G_latent", "G", ema=False), Phase("G_ref", "G")]

    def ema_decays(self) -> dict[str, float]:
        return {k: self.cfg.optim.ema_beta for k in ("G", "F", "E")}

    def differentiates_gradients(self) -> bool:
        return True  # R1 (on every D step, or every loss.reg_every-th)

    # ------------------------------------------------------------------ batches
    def next_batch(self, step: int) -> StarGANv2Batch:
        assert self.train_set is not None
        ds = self.train_set
        g = step_generator(self.seed, step, self.rank)
        draw = balanced_draw(ds, self.cfg.data.batch_size, g)
        z = torch.randn(2, len(draw.src), self.cfg.net.latent_dim, generator=g)
        dev = self.device
        shears = None
        if self.cfg.net.slant:  # drawn after everything else, so runs without it draw what they always did
            shears = ((torch.rand(len(draw.src), generator=g) * 2 - 1) * self.cfg.loss.slant_max).to(dev)
        return StarGANv2Batch(ds.images(draw.src, draw.src_flip).to(dev), ds.domain[draw.src].to(dev), draw.y_trg.to(dev),
                       ds.images(draw.ref, draw.ref_flip).to(dev), ds.images(draw.ref2, draw.ref2_flip).to(dev),
                       z[0].to(dev), z[1].to(dev), shears)

    # ------------------------------------------------------------------ losses
    def compute_losses(self, phase: str, nets: Mapping[str, nn.Module], batch: StarGANv2Batch, step: int) -> PhaseLosses:
        if phase in ("D_latent", "D_ref"):
            return self._d_losses(nets, batch, step, latent=phase == "D_latent")
        if phase in ("G_latent", "G_ref"):
            return self._g_losses(nets, batch, step, latent=phase == "G_latent")
        raise ValueError(f"unknown phase {phase!r}")

    def _d_view(self, x: Tensor, step: int, salt: int) -> Tensor:
        """What D sees of ``x``: ``x`` itself, or ``x`` shifted (``loss.d_shift``, DiffAugment)."""
        return step_shift(x, self.cfg.loss.d_shift, stream_seed(self.seed, AUGMENT, self.rank), step, salt)

    def _judged(self, D: nn.Module, x: Tensor, y: Tensor, terms: dict[str, Tensor],
                metrics: dict[str, float | Tensor] | None = None) -> Tensor:
        """D's real/fake logit of ``x`` for domains ``y``; with ``loss.lambda_cls`` > 0 the same trunk
        pass also scores D's class head against ``y`` (``terms["cls"]``, and its accuracy if asked)."""
        if self.cfg.loss.lambda_cls <= 0:
            return D(x, y)
        logit, classes = D(x, y, classes=True)
        terms["cls"] = classification_loss(classes, y)
        if metrics is not None:
            metrics["cls_acc"] = classification_accuracy(classes, y)
        return logit

    def _d_losses(self, nets: Mapping[str, nn.Module], b: StarGANv2Batch, step: int, latent: bool) -> PhaseLosses:
        D = nets["D"]
        lc = self.cfg.loss
        regularised = step % lc.reg_every == 0
        x = b.x.detach().requires_grad_(regularised)  # R1 is taken with respect to the image, before any shift
        terms: dict[str, Tensor] = {}
        metrics: dict[str, float | Tensor] = {}
        out_real = self._judged(D, self._d_view(x, step, 0), b.y_src, terms, metrics)
        if latent:
            _, fake = self.handoff.for_d(lambda: self._latent_fake(nets, b), step, g_runs_this_step=True)
        else:
            with torch.no_grad():
                fake = nets["G"](b.x, nets["E"](b.x_ref, b.y_trg))
        out_fake = D(self._d_view(fake, step, 1 if latent else 3), b.y_trg)
        terms |= {"real": self.adv.d_real_loss(out_real), "fake": self.adv.d_fake_loss(out_fake)}
        if regularised:
            terms["reg"] = r1_penalty(out_real, x)
        return PhaseLosses(terms, {"reg": lc.lambda_reg * lc.reg_every, "cls": lc.lambda_cls}, metrics)

    @staticmethod
    def _latent_fake(nets: Mapping[str, nn.Module], b: StarGANv2Batch) -> tuple[Tensor, Tensor]:
        """(s~ = F(z, y~), G(x, s~)): the latent-guided style code and fake."""
        s = nets["F"](b.z, b.y_trg)
        return s, nets["G"](b.x, s)

    def _g_losses(self, nets: Mapping[str, nn.Module], b: StarGANv2Batch, step: int, latent: bool) -> PhaseLosses:
        G, D = nets["G"], nets["D"]
        E = nets["E"] if latent else frozen(nets["E"])
        if latent:  # D_latent's (s~, G(x, s~)) if it kept them
            s_trg, fake = self.handoff.for_g(lambda: self._latent_fake(nets, b), step)
        else:
            s_trg = E(b.x_ref, b.y_trg)
            fake = G(b.x, s_trg)
        with torch.no_grad():  # the diversity term pushes only the first fake (the paper's)
            s_trg2 = nets["F"](b.z2, b.y_trg) if latent else E(b.x_ref2, b.y_trg)
            fake2 = G(b.x, s_trg2)
        x_rec = G(fake, E(b.x, b.y_src))
        lc = self.cfg.loss
        terms: dict[str, Tensor] = {}
        out_fake = self._judged(D, self._d_view(fake, step, 2), b.y_trg, terms)
        terms |= {"adv": self.adv.g_loss(out_fake), "sty": l1_loss(E(fake, b.y_trg), s_trg),
                  "ds": l1_loss(fake, fake2), "cyc": cycle_loss(b.x, x_rec)}
        if latent and b.shear is not None:  # E is trained in this phase only
            terms["slant"] = (slant_equivariance_loss(_inner(G).slant, b.x, b.shear)
                              + slant_equivariance_loss(_inner(nets["E"]).slant, b.x, b.shear))
        lam_ds = ds_weight(self.cfg, step)
        return PhaseLosses(terms, {"sty": lc.lambda_sty, "ds": -lam_ds, "cyc": lc.lambda_cyc, "cls": lc.lambda_cls,
                                   "slant": lc.lambda_slant}, {"lambda_ds": lam_ds})

    # ------------------------------------------------------------------ samples
    def sample(self, nets: Mapping[str, nn.Module], step: int, out_dir: Path) -> dict[str, float] | None:
        """Reference and latent grids of held-out images with the EMA networks; returns the mean
        pairwise L1 between latent-guided outputs of the same input (diversity)."""
        if self.sample_set is None:
            return None
        tr = StyleTranslator(nets["G_ema"], nets["F_ema"], nets["E_ema"], self.sample_set.names,
                             self.cfg.net.latent_dim, self.device)
        x, _ = pick_inputs(self.sample_set, self.cfg.sample_count)
        refs, ref_dom = pick_references(self.sample_set, self.cfg.sample_count)
        titles, cols = tr.reference_columns(x, refs, ref_dom)
        save_grid(out_dir / "reference.png", cols, titles)
        titles, cols = tr.latent_columns(x, list(range(len(self.sample_set.names))), 3, seed=step)
        save_grid(out_dir / "latent.png", cols, titles)
        outs = torch.stack(cols[1:], dim=1)  # (N, K*num, C, H, W)
        n_dom = len(self.sample_set.names)
        outs = outs.view(outs.shape[0], n_dom, -1, *outs.shape[2:])
        return {"diversity_l1": float(torch.stack([mean_pairwise_l1(outs[:, k]) for k in range(n_dom)]).mean())}
