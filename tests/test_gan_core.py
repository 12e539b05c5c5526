"""Tests of the shared GAN core (vc.gan) on tiny synthetic problems."""
from __future__ import annotations

import csv
import math

import pytest
import torch
import torch.nn as nn

from vc.gan import (EMA, AdaIN, CheckpointError, CheckpointManager, ConditionalInstanceNorm, GanTask, GatedConv1d,
                    GatedConv2d, GatedConvTranspose2d, LinearSchedule, NonFiniteLossError, OptimizerSpec, Phase,
                    PhaseLosses, Trainer, TrainerConfig, classification_accuracy, classification_loss, concat_code,
                    get_adversarial_loss, gradient_penalty, init_upsampling_, linear_decay_factor, load_checkpoint,
                    nearest_upsample_init_, one_hot, r1_penalty)


# ------------------------------------------------------------------ losses
@pytest.mark.parametrize("kind", ["nonsaturating", "bce", "lsgan", "wgan", "hinge"])
def test_adversarial_losses_prefer_correct_decisions(kind):
    loss = get_adversarial_loss(kind)
    good = loss.d_loss(torch.full((4, 3, 5), 3.0), torch.full((4, 3, 5), -3.0))
    bad = loss.d_loss(torch.full((4, 3, 5), -3.0), torch.full((4, 3, 5), 3.0))
    assert good < bad
    assert loss.g_loss(torch.full((4,), 3.0)) < loss.g_loss(torch.full((4,), -3.0))


def test_nonsaturating_is_stable_and_exact():
    loss = get_adversarial_loss("bce")
    assert math.isclose(float(loss.d_loss(torch.zeros(3), torch.zeros(3))), 2 * math.log(2), rel_tol=1e-6)
    huge = loss.d_loss(torch.tensor([1e4]), torch.tensor([-1e4]))
    assert torch.isfinite(huge) and float(huge) == pytest.approx(0.0, abs=1e-6)
    # mean over patches of per-patch log-probabilities = log of the product of probabilities / #patches
    logits = torch.randn(2, 1, 4, 6)
    p = torch.sigmoid(logits)
    expected = -torch.log(p.flatten(1).prod(dim=1)).mean() / 24
    assert torch.allclose(loss.g_loss(logits), expected, atol=1e-5)


def test_unknown_adversarial_kind():
    with pytest.raises(ValueError, match="unknown adversarial loss"):
        get_adversarial_loss("vanilla2")


def test_classification_loss_ce_per_segment_and_multilabel():
    logits = torch.randn(3, 4, 7)  # 3 samples, 4 classes, 7 segments
    target = torch.tensor([0, 2, 3])
    expected = torch.stack([torch.nn.functional.cross_entropy(logits[:, :, i], target) for i in range(7)]).mean()
    assert torch.allclose(classification_loss(logits, target), expected, atol=1e-6)
    ml_logits = torch.randn(5, 3)
    ml_target = torch.randint(0, 2, (5, 3)).float()
    bce = torch.nn.functional.binary_cross_entropy_with_logits(ml_logits, ml_target, reduction="sum") / 5
    assert torch.allclose(classification_loss(ml_logits, ml_target), bce, atol=1e-6)
    strong = torch.full((3, 4), -10.0)
    strong[torch.arange(3), target] = 10.0
    assert float(classification_accuracy(strong, target)) == 1.0


def test_gradient_penalty_of_linear_critic():
    w = torch.tensor([3.0, 4.0])  # gradient norm 5 everywhere
    gp = gradient_penalty(lambda x: x @ w, torch.randn(6, 2), torch.randn(6, 2))
    assert float(gp) == pytest.approx(16.0)
    x = torch.randn(6, 2).requires_grad_(True)
    assert float(r1_penalty(x @ w, x)) == pytest.approx(0.5 * 25.0)
    with pytest.raises(ValueError, match="requires_grad"):
        r1_penalty(torch.randn(6, 2) @ w, torch.randn(6, 2))


# ------------------------------------------------------------------ conditioning, layers, EMA
def test_conditioning_helpers():
    code = one_hot(torch.tensor([1, 0]), 3)
    x = torch.randn(2, 5, 4, 7)
    y = concat_code(x, code)
    assert y.shape == (2, 8, 4, 7) and torch.equal(y[0, 5 + 1], torch.ones(4, 7))
    assert concat_code(torch.randn(2, 5, 9), code).shape == (2, 8, 9)
    cin = ConditionalInstanceNorm(5, 3)
    with torch.no_grad():
        cin.beta.weight[:, 1] = 2.0
    out = cin(x, code)
    assert torch.allclose(out[0].mean(dim=(1, 2)), torch.full((5,), 2.0), atol=1e-4)
    assert torch.allclose(out[1].mean(dim=(1, 2)), torch.zeros(5), atol=1e-4)
    assert AdaIN(8, 5)(x, torch.randn(2, 8)).shape == x.shape


def test_gated_layers_shapes():
    x = torch.randn(2, 3, 12, 20)
    h = GatedConv2d(3, 6, (3, 5), (2, 2), (1, 2))(x)
    assert h.shape == (2, 6, 6, 10)
    assert GatedConvTranspose2d(6, 3, (4, 4), (2, 2), (1, 1))(h).shape == (2, 3, 12, 20)
    assert GatedConv1d(3, 4, 5, 1, 2, norm="instance")(torch.randn(2, 3, 11)).shape == (2, 4, 11)
    with pytest.raises(ValueError, match="unknown norm"):
        GatedConv2d(3, 6, 3, norm="layer")


def test_ema_tracks_weights():
    net = nn.Linear(2, 2)
    ema = EMA(net, decay=0.5)
    before = ema.shadow.weight.clone()
    with torch.no_grad():
        net.weight.add_(1.0)
    ema.update(net)
    assert torch.allclose(ema.shadow.weight, before + 0.5)
    assert not any(p.requires_grad for p in ema.shadow.parameters())


def test_schedules():
    s = LinearSchedule(1.0, 0.0, 10, 20)
    assert s(5) == 1.0 and s(15) == pytest.approx(0.5) and s(30) == 0.0
    assert linear_decay_factor(7, None, 10) == 1.0
    assert linear_decay_factor(5, 5, 10) == 1.0 and 0 < linear_decay_factor(10, 5, 10) < 0.2


# ------------------------------------------------------------------ checkpoints
def test_checkpoint_roundtrip_rotation_and_corruption(tmp_path):
    mgr = CheckpointManager(tmp_path / "ck", keep=2)
    for step in (1, 2, 3):
        mgr.save(step, {"step": step, "w": torch.full((3,), float(step))})
    assert mgr.steps() == [2, 3]
    assert mgr.latest().name == "step_00000003.pt"
    assert torch.equal(load_checkpoint(mgr.latest())["w"], torch.full((3,), 3.0))
    data = mgr.latest().read_bytes()
    mgr.latest().write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="step_00000003.pt"):
        load_checkpoint(mgr.latest())
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nope.pt")


def test_checkpoint_save_clears_a_half_written_checkpoint_of_a_killed_run(tmp_path):
    import os
    import time

    mgr = CheckpointManager(tmp_path / "ck", keep=2)
    mgr.save(1, {"step": 1})
    stale = tmp_path / "ck" / ".step_00000002.k1ll3d00.tmp.pt"  # atomic_path's temp, writer killed
    stale.write_bytes(b"half a checkpoint")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    mgr.save(2, {"step": 2})
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == ["latest", "step_00000001.pt", "step_00000002.pt"]


class _Evil:
    pass


def test_checkpoint_refuses_arbitrary_objects(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"obj": _Evil()}, path)
    with pytest.raises(CheckpointError, match="weights_only"):
        load_checkpoint(path)


# ------------------------------------------------------------------ trainer on a toy conditional GAN
class ToyTask(GanTask):
    """Conditional 2-D Gaussians: class k is centred at (2k, -k). G maps noise+code to points."""

    def __init__(self, adv="wgan", n_critic=2, nan_at=None, ema=True, lr=1e-3):
        self.lr = lr
        self.adv = get_adversarial_loss(adv)
        self.n_critic = n_critic
        self.nan_at = nan_at
        self.use_ema = ema
        self.K = 3

    def setup(self, ctx):
        self.device = ctx.device
        self.gen = torch.Generator().manual_seed(ctx.seed + 1000 * ctx.dist.rank)

    def build_networks(self):
        g = nn.Sequential(nn.Linear(2 + self.K, 16), nn.ReLU(), nn.Linear(16, 2))
        d = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1 + self.K))
        return {"G": g, "D": d}

    def optimizers(self):
        return {"D": OptimizerSpec(("D",), self.lr, (0.5, 0.9)), "G": OptimizerSpec(("G",), self.lr, (0.5, 0.9))}

    def phases(self):
        return [Phase("D", "D"), Phase("G", "G", every=self.n_critic)]

    def ema_decays(self):
        return {"G": 0.9} if self.use_ema else {}

    def next_batch(self, step):
        label = torch.randint(0, self.K, (16,), generator=self.gen)
        centre = torch.stack([2.0 * label, -1.0 * label], dim=1)
        x = centre + 0.1 * torch.randn(16, 2, generator=self.gen)
        return x, label

    def compute_losses(self, phase, nets, batch, step):
        x, label = batch
        code = one_hot(label, self.K)
        z = torch.randn(x.shape[0], 2)
        if phase == "D":
            with torch.no_grad():
                fake = nets["G"](torch.cat([z, code], 1))
            out_real, out_fake = nets["D"](x), nets["D"](fake)
            terms = {"adv": self.adv.d_loss(out_real[:, 0], out_fake[:, 0]),
                     "cls": classification_loss(out_real[:, 1:], label),
                     "gp": gradient_penalty(lambda v: nets["D"](v)[:, 0], x, fake)}
            if self.nan_at == step:
                terms["adv"] = terms["adv"] * float("nan")
            return PhaseLosses(terms, {"gp": 10.0}, {"acc": classification_accuracy(out_real[:, 1:], label)})
        fake = nets["G"](torch.cat([z, code], 1))
        out = nets["D"](fake)
        return PhaseLosses({"adv": self.adv.g_loss(out[:, 0]), "cls": classification_loss(out[:, 1:], label)})

    def state_dict(self):
        return {"gen": self.gen.get_state()}

    def load_state_dict(self, state):
        self.gen.set_state(state["gen"])


def _cfg(**kw):
    base = dict(max_steps=6, log_every=1, checkpoint_every=3, keep_checkpoints=5, lr_decay_start=2, amp="off",
                cpu_threads=1)
    base.update(kw)
    return TrainerConfig(**base)


def _all_tensors(trainer):
    state = trainer.state_dict()
    out = {f"net.{k}.{n}": t for k, sd in state["nets"].items() for n, t in sd.items()}
    out.update({f"ema.{k}.{n}": t for k, sd in state["ema"].items() for n, t in sd.items()})
    for k, sd in state["optimizers"].items():
        for pid, st in sd["state"].items():
            out.update({f"opt.{k}.{pid}.{n}": t for n, t in st.items() if torch.is_tensor(t)})
    return out


def test_resume_is_bit_exact(tmp_path):
    straight = Trainer(ToyTask(), _cfg(), tmp_path / "a", device="cpu", seed=3)
    straight.fit()
    first = Trainer(ToyTask(), _cfg(), tmp_path / "b", device="cpu", seed=3)
    assert first.fit(until=3).step == 3
    second = Trainer(ToyTask(), _cfg(), tmp_path / "b", device="cpu", seed=3)
    assert second.fit(resume=True).step == 6
    a, b = _all_tensors(straight), _all_tensors(second)
    assert a.keys() == b.keys() and len(a) > 10
    for k in a:
        assert torch.equal(a[k], b[k]), k
    rows_a = list(csv.DictReader(open(tmp_path / "a/logs/train.csv")))
    rows_b = list(csv.DictReader(open(tmp_path / "b/logs/train.csv")))
    assert [r["step"] for r in rows_b] == ["1", "2", "3", "4", "5", "6"]
    assert rows_a == rows_b


def test_foreach_adam_takes_the_loops_steps_to_the_bit(tmp_path):
    """The default optimizer (foreach) is a faster form of torch's per-tensor loop, not another
    arithmetic: the same run with either ends in the same tensors."""
    runs = {}
    for impl in ("foreach", "single"):
        tr = Trainer(ToyTask(), _cfg(adam_impl=impl), tmp_path / impl, device="cpu", seed=3)
        tr.fit()
        runs[impl] = _all_tensors(tr)
    assert runs["foreach"].keys() == runs["single"].keys()
    for k in runs["single"]:
        assert torch.equal(runs["foreach"][k], runs["single"][k]), k
    assert TrainerConfig().adam_impl == "foreach"


def test_phases_schedule_lr_decay_and_logging(tmp_path):
    tr = Trainer(ToyTask(n_critic=2), _cfg(max_steps=4, lr_decay_start=2), tmp_path, device="cpu")
    res = tr.fit()
    rows = list(csv.DictReader(open(tmp_path / "logs/train.csv")))
    assert [r["G/adv"] != "" for r in rows] == [False, True, False, True]  # n_critic = 2
    assert {"D/adv", "D/cls", "D/gp", "D/acc", "lr/D", "lr/G"} <= set(rows[0])
    lrs = [float(r["lr/G"]) for r in rows]
    assert lrs[0] == lrs[1] == pytest.approx(1e-3) and lrs[2] < lrs[1] and lrs[3] < lrs[2]
    assert res.checkpoint.name == "step_00000004.pt"
    assert (tmp_path / "checkpoints/latest").read_text().strip() == "step_00000004.pt"
    with pytest.raises(FileExistsError, match="already holds checkpoints"):
        Trainer(ToyTask(), _cfg(), tmp_path, device="cpu").fit()


def test_gan_training_learns_toy_problem(tmp_path):
    torch.manual_seed(0)
    tr = Trainer(ToyTask(adv="nonsaturating", n_critic=1, ema=False, lr=5e-3),
                 _cfg(max_steps=300, log_every=50, checkpoint_every=300, lr_decay_start=None), tmp_path, device="cpu")
    res = tr.fit()
    assert res.metrics["D/acc"] > 0.9  # the auxiliary classifier separates the classes
    g, d = tr.nets["G"].eval(), tr.nets["D"].eval()
    label = torch.arange(300) % 3
    with torch.no_grad():
        fake = g(torch.cat([torch.randn(300, 2), one_hot(label, 3)], 1))
        fake_acc = float(classification_accuracy(d(fake)[:, 1:], label))
        centre = torch.stack([2.0 * label, -1.0 * label], dim=1)
    assert fake_acc > 0.8  # G's outputs are classified as the requested class
    assert (fake - centre).norm(dim=1).mean() < (torch.zeros_like(fake) - centre).norm(dim=1).mean()


def test_nan_stops_with_step_and_term(tmp_path):
    tr = Trainer(ToyTask(nan_at=5), _cfg(max_steps=8, checkpoint_every=2), tmp_path, device="cpu")
    with pytest.raises(NonFiniteLossError, match=r"step 5, phase 'D': adv=nan.*step_00000004\.pt"):
        tr.fit()
    assert CheckpointManager(tmp_path / "checkpoints").steps() == [2, 4]
    state = load_checkpoint(tmp_path / "checkpoints/step_00000004.pt")
    assert all(torch.isfinite(t).all() for t in state["nets"]["D"].values())


def test_trainer_rejects_bad_specs(tmp_path):
    class Bad(ToyTask):
        def optimizers(self):
            return {"G": OptimizerSpec(("G", "X"), 1e-3)}
    with pytest.raises(ValueError, match="unknown network 'X'"):
        Trainer(Bad(), _cfg(), tmp_path, device="cpu").fit()
    with pytest.raises(ValueError, match="max_steps"):
        Trainer(ToyTask(), TrainerConfig(max_steps=0), tmp_path)


def test_corrupt_latest_checkpoint_on_resume(tmp_path):
    Trainer(ToyTask(), _cfg(max_steps=3), tmp_path, device="cpu").fit()
    latest = CheckpointManager(tmp_path / "checkpoints").latest()
    latest.write_bytes(b"not a zip file at all")
    with pytest.raises(CheckpointError, match=latest.name):
        Trainer(ToyTask(), _cfg(max_steps=6), tmp_path, device="cpu").fit(resume=True)


def test_ema_follows_its_phases_only(tmp_path):
    class TwoG(ToyTask):
        def phases(self):
            return [Phase("D", "D"), Phase("G", "G", ema=False), Phase("G2", "G")]

        def compute_losses(self, phase, nets, batch, step):
            return super().compute_losses("G" if phase == "G2" else phase, nets, batch, step)

    tr = Trainer(TwoG(ema=True), _cfg(max_steps=2), tmp_path, device="cpu", progress=False)
    tr.setup()
    calls = []
    update = tr.emas["G"].update
    tr.emas["G"].update = lambda m: (calls.append(1), update(m))
    tr.train_step(1)
    assert len(calls) == 1  # one EMA update per step although G is stepped twice
    assert not torch.equal(tr.emas["G"].shadow[0].weight, tr.nets["G"][0].weight)


def test_joint_forward_matches_two_passes_values_and_gradients():
    from vc.gan import joint_forward, r1_penalty
    torch.manual_seed(0)

    class TwoHead(nn.Module):  # no batch statistics, like the image discriminators
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(1, 4, 3, 2, 1), nn.LeakyReLU(0.2))
            self.src, self.cls = nn.Conv2d(4, 1, 3, 1, 1), nn.Linear(4 * 4 * 4, 3)

        def forward(self, x, y):
            h = self.body(x)
            return self.src(h) * y[:, None, None, None], self.cls(h.flatten(1))

    net = TwoHead()
    real, fake = torch.randn(3, 1, 8, 8), torch.randn(5, 1, 8, 8)
    yr, yf = torch.rand(3), torch.rand(5)

    def loss_of(outs_real, outs_fake, x):
        (sr, cr), (sf, _) = outs_real, outs_fake
        return sr.mean() - sf.mean() + cr.pow(2).mean() + r1_penalty(sr, x)

    grads = []
    for joint in (False, True):
        net.zero_grad()
        x = real.clone().requires_grad_(True)
        outs = joint_forward(net, (x, yr), (fake, yf)) if joint else (net(x, yr), net(fake, yf))
        if joint:
            assert outs[0][0].shape == (3, 1, 4, 4) and outs[1][1].shape == (5, 3)
        loss_of(*outs, x).backward()
        grads.append([p.grad.clone() for p in net.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="cannot be stacked"):
        joint_forward(net, (real, yr), (torch.randn(5, 1, 4, 4), yf))


@pytest.mark.parametrize("kernel,stride,padding", [(8, 2, 3), (4, 2, 1), (6, 3, 0)])
def test_nearest_upsample_init_is_nearest_upsampling_then_a_convolution(kernel, stride, padding):
    torch.manual_seed(0)
    conv = nn.ConvTranspose1d(2, 3, kernel, stride, padding, bias=False)
    assert nearest_upsample_init_(conv)
    x = torch.randn(1, 2, 12)
    taps = conv.weight[:, :, ::stride]  # (in, out, kernel // stride): the kept taps
    n_out = conv(x).shape[-1]
    expected = torch.zeros(1, 3, n_out)
    for o in range(n_out):  # out[o] = sum_q v[q] x[(o + padding) // stride - q]
        for q in range(kernel // stride):
            i = (o + padding) // stride - q
            if 0 <= i < x.shape[-1]:
                expected[0, :, o] += x[0, :, i] @ taps[:, :, q]
    assert torch.allclose(conv(x), expected, atol=1e-6)


def test_nearest_upsample_init_leaves_no_checkerboard_and_skips_what_it_cannot_do():
    torch.manual_seed(0)
    layer = nn.ConvTranspose2d(4, 2, (4, 8), (2, 2), (1, 3), bias=False)
    flat = torch.ones(1, 4, 8, 16)  # a constant input: any period-2 pattern is the layer's own
    inner = (slice(None), slice(None), slice(3, -3), slice(6, -6))
    assert layer(flat)[inner].std(dim=(2, 3)).min() > 1e-3  # PyTorch's init: the phases differ
    assert init_upsampling_(nn.Sequential(layer, nn.ReLU())) == 1
    assert layer(flat)[inner].std(dim=(2, 3)).max() < 1e-5
    assert not nearest_upsample_init_(nn.ConvTranspose2d(2, 2, 3, 2, 1))  # 3 is not a multiple of 2
    assert not nearest_upsample_init_(nn.ConvTranspose2d(2, 2, (9, 5), (9, 1), (0, 2)))  # no overlap, no upsampling
    assert not nearest_upsample_init_(nn.ConvTranspose2d(2, 2, 3, 1, 1))  # no upsampling
    assert init_upsampling_(nn.ConvTranspose2d(2, 2, 4, 2, 1), "default") == 0
    with pytest.raises(ValueError, match="unknown upsampling init"):
        init_upsampling_(layer, "bilinear")


@pytest.mark.parametrize("features, native", [
    ({"amx_bf16": True, "avx512_bf16": True}, True),   # Xeon since Sapphire Rapids
    ({"avx512_bf16": True}, True),                     # Zen 4, Cooper Lake
    ({"avx2": True, "avx512_bf16": False}, False),
    ({}, False),
])
def test_amp_modes_on_the_cpu(monkeypatch, features, native):
    from vc.gan.runtime import resolve_amp

    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: features)
    cpu = torch.device("cpu")
    assert resolve_amp("native", cpu) == (torch.bfloat16 if native else None)
    assert resolve_amp("auto", cpu) is None and resolve_amp("off", cpu) is None  # auto stays fp32 on any CPU
    assert resolve_amp("bf16", cpu) == torch.bfloat16  # forced, even where it is emulated
    with pytest.raises(ValueError, match="amp must be one of"):
        resolve_amp("fast", cpu)


def test_the_same_state_saves_to_the_same_bytes(tmp_path):
    """Checkpoint files compare by sha256: the temp file's random name must not reach the archive."""
    from vc.gan.checkpoint import save_checkpoint

    state = {"nets": {"G": {"w": torch.arange(6.0).reshape(2, 3)}}, "step": 3}
    save_checkpoint(tmp_path / "a.pt", state)
    save_checkpoint(tmp_path / "b.pt", state)
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()
