"""StarGAN-VC as a ``vc.gan`` task: data, networks, the three update phases and validation samples.

Objective (Kameoka et al. 2018):

* D phase: ``L_adv^D`` on real ``(x, c_src)`` and fake ``(G(x, c_tgt), c_tgt)`` (+ gradient
  penalty when ``loss.adversarial`` is ``wgan``).
* C phase: ``L_cls^C`` = cross-entropy of C on *real* segments and their speakers.
* G phase: ``L_adv^G + lambda_cls L_cls^G + lambda_cyc L_cyc + lambda_id L_id`` where ``L_cls^G``
  is C's cross-entropy on G's *output* ``G(x, c_tgt)`` against the target speaker. (Computing it
  on the real input, as some public code does, gives G no classification gradient at all.)

The codes are :func:`vc.stargan_vc.networks.speaker_code`'s: under ``net.conditioning:
source_target`` (StarGAN-VC2) ``c_tgt`` stands for the pair (source, target) and the real segment
is judged under (target, source), i.e. as a conversion into its own speaker from the batch's other
one; the cycle maps back under (target, source) and the identity term runs under (source, source).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

import torch.nn as nn
from torch import Tensor

from vc.features import SpeakerStats
from vc.gan import (FakeHandoff, GanTask, OptimizerSpec, Phase, PhaseLosses, TrainContext, classification_accuracy,
                    classification_loss, cycle_loss, get_adversarial_loss, gradient_penalty, identity_loss)
from vc.stargan_vc.bundle import convert_mcep
from vc.stargan_vc.config import StarGANVCConfig
from vc.stargan_vc.networks import build_stargan_vc, convert_segments, speaker_code
from vc.voice.assess import held_out_accuracy, write_samples
from vc.voice.data import SegmentSampler, SpeakerCorpus

log = logging.getLogger(__name__)


class StarGANVCTask(GanTask):
    """Trains G, D and C of StarGAN-VC on a feature dump normalised with per-speaker statistics."""

    def __init__(self, cfg: StarGANVCConfig, feats_dir: str | Path, stats: SpeakerStats,
                 dev_dir: str | Path | None = None, progress: bool = True):
        self.cfg = cfg
        self.feats_dir = Path(feats_dir)
        self.dev_dir = Path(dev_dir) if dev_dir is not None else None
        self.stats = stats
        self.num_speakers = len(stats.speakers)
        self.adv = get_adversarial_loss(cfg.loss.adversarial)
        self.progress = progress
        self.sampler: SegmentSampler | None = None
        self.handoff: FakeHandoff[Tensor] = FakeHandoff()

    # ---------------------------------------------------------------- GanTask
    def setup(self, ctx: TrainContext) -> None:
        self.device = ctx.device
        self.handoff = FakeHandoff(ctx.dist)
        seg = self.cfg.data.segment_frames
        self.corpus = SpeakerCorpus.load(self.feats_dir, self.stats, min_frames=seg, pad_mode=self.cfg.data.pad_mode,
                                         progress=self.progress and ctx.dist.is_main)
        self.sampler = SegmentSampler(self.corpus, seg, self.cfg.data.batch_size, seed=ctx.seed, rank=ctx.dist.rank)
        self.dev_corpus = None
        if ctx.dist.is_main:
            self.dev_corpus = self._load_dev(seg)

    def _load_dev(self, seg: int) -> SpeakerCorpus:
        if self.dev_dir is None:
            log.warning("no --dev-feats: validation samples and accuracies use training utterances")
            return self.corpus
        return SpeakerCorpus.load(self.dev_dir, self.stats, min_frames=seg, pad_mode=self.cfg.data.pad_mode,
                                  strict=False, progress=False)

    def build_networks(self) -> dict[str, nn.Module]:
        return build_stargan_vc(self.cfg.net)

    def optimizers(self) -> dict[str, OptimizerSpec]:
        o = self.cfg.optim
        betas = (o.betas[0], o.betas[1])
        return {
            "D": OptimizerSpec(("D",), o.lr_d, betas, o.weight_decay),
            "C": OptimizerSpec(("C",), o.lr_c, betas, o.weight_decay),
            "G": OptimizerSpec(("G",), o.lr_g, betas, o.weight_decay),
        }

    def phases(self) -> list[Phase]:
        return [Phase("D", "D"), Phase("C", "C"), Phase("G", "G", every=self.cfg.optim.n_critic)]

    def next_batch(self, step: int) -> dict[str, Tensor]:
        assert self.sampler is not None, "setup() must run first"
        x, src, tgt, voiced = self.sampler.sample()
        x = x.to(self.device, non_blocking=True)
        src, tgt = src.to(self.device), tgt.to(self.device)
        mode, k = self.cfg.net.conditioning, self.num_speakers
        # c_tgt: the conversion src -> tgt; c_src: the way back (and the real segment's own code);
        # c_id: the identity mapping src -> src. Under "target" conditioning c_id equals c_src.
        return {"x": x, "src": src, "tgt": tgt, "voiced": voiced.to(self.device),
                "c_src": speaker_code(mode, tgt, src, k), "c_tgt": speaker_code(mode, src, tgt, k),
                "c_id": speaker_code(mode, src, src, k)}

    def compute_losses(self, phase: str, nets: Mapping[str, nn.Module], batch: Any, step: int) -> PhaseLosses:
        if phase == "D":
            return self.d_losses(nets, batch, step)
        if phase == "C":
            return self.c_losses(nets, batch)
        if phase == "G":
            return self.g_losses(nets, batch, step)
        raise ValueError(f"unknown phase {phase!r}")

    def d_losses(self, nets: Mapping[str, nn.Module], b: dict[str, Tensor], step: int) -> PhaseLosses:
        G, D = nets["G"], nets["D"]
        fake = self.handoff.for_d(lambda: G(b["x"], b["c_tgt"], b["voiced"]), step,
                                  g_runs_this_step=step % self.cfg.optim.n_critic == 0)
        # a conversion keeps the source's voicing (its F0 track drives the vocoder), so the fake is
        # judged under the same voicing mask as the real segment it came from
        real_out, fake_out = D(b["x"], b["c_src"], b["voiced"]), D(fake, b["c_tgt"], b["voiced"])
        terms = {"adv": self.adv.d_loss(real_out, fake_out)}
        weights = {}
        if self.adv.name == "wgan":
            terms["gp"] = gradient_penalty(lambda y: D(y, b["c_tgt"], b["voiced"]), b["x"], fake)
            weights["gp"] = self.cfg.loss.lambda_gp
        return PhaseLosses(terms, weights)

    def c_losses(self, nets: Mapping[str, nn.Module], b: dict[str, Tensor]) -> PhaseLosses:
        logits = nets["C"](b["x"])
        return PhaseLosses({"cls": classification_loss(logits, b["src"])},
                           metrics={"acc": classification_accuracy(logits, b["src"])})

    def g_losses(self, nets: Mapping[str, nn.Module], b: dict[str, Tensor], step: int) -> PhaseLosses:
        G, D, C = nets["G"], nets["D"], nets["C"]
        lc = self.cfg.loss
        # G is told (with net.generator_voicing) the voicing its output will be synthesised with:
        # the source's, for the conversion and for the way back alike
        fake = self.handoff.for_g(lambda: G(b["x"], b["c_tgt"], b["voiced"]), step)  # the D phase's if kept
        cls_logits = C(fake)
        terms = {
            "adv": self.adv.g_loss(D(fake, b["c_tgt"], b["voiced"])),
            "cls": classification_loss(cls_logits, b["tgt"]),
            "cyc": cycle_loss(b["x"], G(fake, b["c_src"], b["voiced"])),
        }
        weights = {"cls": lc.lambda_cls, "cyc": lc.lambda_cyc}
        if lc.lambda_id > 0 and (lc.identity_until is None or step <= lc.identity_until):
            terms["id"] = identity_loss(b["x"], G(b["x"], b["c_id"], b["voiced"]))
            weights["id"] = lc.lambda_id
        return PhaseLosses(terms, weights, {"acc": classification_accuracy(cls_logits, b["tgt"])})

    def ema_decays(self) -> dict[str, float]:
        return {}

    def sample(self, nets: Mapping[str, nn.Module], step: int, out_dir: Path) -> dict[str, float] | None:
        if self.dev_corpus is None:
            return None
        G, C, k = nets["G"], nets["C"], self.num_speakers
        metrics = held_out_accuracy(lambda x, src, tgt, voiced: convert_segments(G, x, src, tgt, voiced, k), C,
                                    self.dev_corpus, self.cfg.data.segment_frames, self.cfg.validation.max_segments,
                                    self.device)
        n = self.cfg.validation.num_utterances
        if n > 0:
            write_samples(lambda mcep, src, tgt, voiced: convert_mcep(G, mcep, src, tgt, self.stats, voiced=voiced),
                          self.dev_corpus, self.stats, self.dev_dir or self.feats_dir, out_dir, n)
        log.info("step %d: C accuracy on held-out real %.3f, converted-as-target %.3f",
                 step, metrics["acc_real"], metrics["acc_converted"])
        return metrics

    def state_dict(self) -> dict[str, Any]:
        assert self.sampler is not None
        return {"sampler": self.sampler.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        assert self.sampler is not None
        self.sampler.load_state_dict(state["sampler"])

