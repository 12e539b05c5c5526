"""Each term of the StarGAN-VC objective sends gradient to the network it trains, and the trainer
updates only the phase's own network."""
from __future__ import annotations

import pytest
import torch

from vc.config import from_dict
from vc.features import SpeakerStats
from vc.gan import Trainer
from vc.gan.task import TrainContext
from vc.gan.runtime import DistInfo
from vc.stargan_vc.bundle import resolve_config
from vc.stargan_vc.config import StarGANVCConfig
from vc.stargan_vc.networks import convert_segments
from vc.stargan_vc.task import StarGANVCTask
from vc.voice.assess import held_out_accuracy

from gan_step import assert_same_step, one_step
from test_train_fixtures import make_dump, tiny_config


@pytest.fixture(scope="module")
def dump(tmp_path_factory):
    return make_dump(tmp_path_factory.mktemp("dump"), utts_per_speaker=3)


def _task(dump, tmp_path, net=None, **loss):
    feats, stats_path = dump
    stats = SpeakerStats.load(stats_path)
    cfg = resolve_config(from_dict(StarGANVCConfig, tiny_config(loss=loss, **({"net": net} if net else {}))), stats)
    task = StarGANVCTask(cfg, feats, stats, progress=False)
    task.setup(TrainContext(torch.device("cpu"), DistInfo(), 0, tmp_path))
    return task


def _grad_norms(term, nets):
    out = {}
    for name, net in nets.items():
        params = [p for p in net.parameters() if p.requires_grad]
        grads = torch.autograd.grad(term, params, retain_graph=True, allow_unused=True)
        out[name] = sum(float(g.abs().sum()) for g in grads if g is not None)
    return out


@pytest.mark.parametrize("adversarial", ["lsgan", "nonsaturating", "wgan", "hinge"])
def test_each_term_reaches_the_right_network(dump, tmp_path, adversarial):
    torch.manual_seed(0)
    task = _task(dump, tmp_path, adversarial=adversarial)
    nets = task.build_networks()
    batch = task.next_batch(1)
    d = task.compute_losses("D", nets, batch, 1)
    expected_d = {"adv", "gp"} if adversarial == "wgan" else {"adv"}
    assert set(d.terms) == expected_d
    for name, term in d.terms.items():
        g = _grad_norms(term, nets)
        assert g["D"] > 0 and g["G"] == 0 and g["C"] == 0, (name, g)
    c = task.compute_losses("C", nets, batch, 1)
    g = _grad_norms(c.terms["cls"], nets)
    assert g["C"] > 0 and g["G"] == 0 and g["D"] == 0
    gl = task.compute_losses("G", nets, batch, 1)
    assert set(gl.terms) == {"adv", "cls", "cyc", "id"}
    for name, term in gl.terms.items():
        g = _grad_norms(term, nets)
        assert g["G"] > 0, (name, g)          # G's classification loss is on G's output
        if name in ("cyc", "id"):
            assert g["D"] == 0 and g["C"] == 0, (name, g)


def test_identity_term_stops_after_configured_step(dump, tmp_path):
    task = _task(dump, tmp_path, identity_until=2, lambda_id=3.0)
    nets = task.build_networks()
    batch = task.next_batch(1)
    assert task.compute_losses("G", nets, batch, 2).weights["id"] == 3.0
    assert "id" not in task.compute_losses("G", nets, batch, 3).terms


def test_trainer_updates_only_the_phase_network(dump, tmp_path):
    feats, stats_path = dump
    task = _task(dump, tmp_path)
    trainer = Trainer(task, task.cfg.trainer, tmp_path / "exp", device="cpu", progress=False)
    trainer._setup()
    batch = task.next_batch(1)
    for phase in trainer.phases:
        before = {k: [p.detach().clone() for p in m.parameters()] for k, m in trainer.nets.items()}
        grads = {k: [None if p.grad is None else p.grad.clone() for p in m.parameters()]
                 for k, m in trainer.nets.items()}
        trainer._run_phase(phase, batch, 1)
        for name, net in trainer.nets.items():
            changed = any(not torch.equal(a, p) for a, p in zip(before[name], net.parameters()))
            assert changed == (name == phase.optimizer), (phase.name, name)
            if name != phase.optimizer:  # no gradient was even computed for the other networks
                for g0, p in zip(grads[name], net.parameters()):
                    assert (g0 is None and p.grad is None) or torch.equal(g0, p.grad), (phase.name, name)


def test_g_phase_reuses_the_d_phase_fake(dump, tmp_path):
    """G does not change between the D and G phases of a step, so the G phase reuses the D phase's
    fake (made with G's graph) instead of running G on the same input again: same losses, same
    networks after the step, one G forward fewer (cycle, identity and the shared fake)."""
    cfg = _task(dump, tmp_path).cfg
    new = one_step(lambda: _task(dump, tmp_path), cfg.trainer, tmp_path / "new", handoff=True)
    old = one_step(lambda: _task(dump, tmp_path), cfg.trainer, tmp_path / "old", handoff=False)
    assert (new[2], old[2]) == (3, 4)
    assert_same_step(new, old)


def test_no_fake_reuse_under_ddp(dump, tmp_path):
    """Under DDP G's gradients must come from a forward through its wrapper (the G phase's)."""
    feats, stats_path = dump
    stats = SpeakerStats.load(stats_path)
    cfg = resolve_config(from_dict(StarGANVCConfig, tiny_config()), stats)
    task = StarGANVCTask(cfg, feats, stats, progress=False)
    task.setup(TrainContext(torch.device("cpu"), DistInfo(rank=1, world_size=2), 0, tmp_path))
    assert not task.handoff.enabled


@pytest.mark.parametrize("conditioning", ["target", "source_target"])
def test_batch_codes_follow_the_conditioning(dump, tmp_path, conditioning):
    """c_tgt codes the conversion src -> tgt, c_src the way back (which is also the code a real
    segment is judged under), c_id the identity src -> src; StarGAN-VC2 puts both speakers in."""
    task = _task(dump, tmp_path, net={"conditioning": conditioning})
    b = task.next_batch(1)
    k = task.num_speakers
    eye = torch.eye(k)
    src, tgt = eye[b["src"]], eye[b["tgt"]]
    assert (b["src"] != b["tgt"]).all()
    if conditioning == "target":
        expected = {"c_tgt": tgt, "c_src": src, "c_id": src}
    else:
        expected = {"c_tgt": torch.cat([src, tgt], 1), "c_src": torch.cat([tgt, src], 1),
                    "c_id": torch.cat([src, src], 1)}
    for key, value in expected.items():
        assert torch.equal(b[key], value), key
    nets = task.build_networks()
    for phase in ("D", "C", "G"):
        losses = task.compute_losses(phase, nets, b, 1)
        assert all(torch.isfinite(t) for t in losses.terms.values())
    # validation converts with the code G was trained with (read off G itself)
    G, C = nets["G"].eval(), nets["C"].eval()
    acc = held_out_accuracy(lambda x, s, t, v: convert_segments(G, x, s, t, v, k), C, task.corpus,
                            task.cfg.data.segment_frames, 8, torch.device("cpu"))
    assert 0 <= acc["acc_converted"] <= 1 and acc["segments"] > 0
