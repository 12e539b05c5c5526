"""StarGAN v2's slant style (vc.stargan_v2.slant): the shear, the estimator's loss, and where its
reading enters G, E and F."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from vc.config import ConfigError
from vc.gan import shear
from vc.gan.runtime import DistInfo
from vc.gan.task import TrainContext
from vc.image.domain_data import build_domain_set
from vc.stargan_v2.slant import (ProfileSlantReader, SlantEstimator, make_slant_reader, read_slant,
                            slant_equivariance_loss, with_slant)
from vc.stargan_v2.networks import Generator, MappingNetwork, StyleEncoder
from vc.stargan_v2.task import StarGANv2Task

from test_image_v2 import SIZE, assert_same_weights, font_root, set_up_task, tiny_cfg  # noqa: F401  (font_root is a fixture)


def _stroke(size: int = 16) -> torch.Tensor:
    x = torch.full((1, 1, size, size), -1.0)
    x[..., :, size // 2] = 1.0  # one vertical stroke
    return x


def test_shear_moves_rows_in_proportion_to_height_and_adds_up() -> None:
    x = _stroke()
    torch.testing.assert_close(shear(x, torch.zeros(1)), x)
    leaning = shear(x, torch.tensor([0.5]))
    w = (leaning[0, 0] + 1) / 2
    ink_col = (w * torch.arange(16.0)).sum(1) / w.sum(1)
    assert ink_col[0] > ink_col[8] > ink_col[15]  # the top moves right, the bottom left
    torch.testing.assert_close(ink_col[0] - 8, 8 - ink_col[15], atol=0.3, rtol=0)
    twice = shear(shear(x, torch.tensor([0.25])), torch.tensor([0.25]))
    assert (twice - leaning).abs().mean() < 0.08  # up to the second resampling (bicubic rings at a 1 px line)
    back = shear(leaning, torch.tensor([-0.5]))
    assert (back - x).abs().mean() < 0.1  # and undone by the opposite shear
    with pytest.raises(ValueError, match="k must be"):
        shear(x, torch.zeros(2))


def test_equivariance_loss_is_zero_for_an_exact_slant_reader() -> None:
    class Exact(torch.nn.Module):  # a single stroke's slant: its top row moves by 7.5 k px, its bottom by -7.5 k
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            w = (x[:, 0] + 1) / 2
            cols = (w * torch.arange(x.shape[-1], dtype=x.dtype)).sum(-1) / w.sum(-1)
            return (cols[:, 0] - cols[:, -1]) / 15

    x = _stroke().repeat(3, 1, 1, 1)
    k = torch.tensor([-0.2, 0.1, 0.3])
    assert slant_equivariance_loss(Exact(), x, k) < 1e-3
    class Half(Exact):  # follows only half of each shear: pays 10x the squared miss
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return super().forward(x) / 2

    class Offset(Exact):  # follows shears, but reads the unsheared stroke as 0.1: pays 0.1 squared
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return super().forward(x) + 0.1

    torch.testing.assert_close(slant_equivariance_loss(Half(), x, k), 10 * (k / 2).pow(2).mean(), atol=3e-3, rtol=0)
    torch.testing.assert_close(slant_equivariance_loss(Offset(), x, k), torch.tensor(0.01), atol=1e-3, rtol=0)


def test_read_slant_passes_gradient_to_the_image_only() -> None:
    est = SlantEstimator(1)
    torch.nn.init.normal_(est.out.weight)  # as if trained: the untrained read-out is zero
    x = torch.randn(2, 1, SIZE, SIZE, requires_grad=True)
    read_slant(est, x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in est.parameters())
    torch.testing.assert_close(read_slant(est, x), est(x))


def test_style_codes_carry_the_slant_last() -> None:
    torch.manual_seed(0)
    x, y = torch.randn(4, 1, SIZE, SIZE), torch.tensor([0, 1, 2, 0])
    E = StyleEncoder(SIZE, 5, 3, 1, 4, 8, 2, slant=True)
    torch.nn.init.normal_(E.slant.out.weight)
    code = E(x, y)
    assert code.shape == (4, 6) and code[:, -1].std() > 0
    torch.testing.assert_close(code[:, -1], E.slant(x))
    F = MappingNetwork(3, 5, 3, 8, 1, 2, slant=True)
    z = torch.randn(256, 3)
    drawn = F(z, torch.zeros(256, dtype=torch.long))
    assert drawn.shape == (256, 6)
    assert drawn[:, -1].std() < 0.3 * drawn[:, :-1].std()  # slants start small: no glyph sheared away at step 0
    assert drawn[:, -1].std() > 0  # but they depend on z
    torch.testing.assert_close(with_slant(drawn[:, :-1], drawn[:, -1]), drawn)


def test_generator_applies_the_code_slant_and_straightens_its_input() -> None:
    torch.manual_seed(0)
    G = Generator(style_dim=5, channels=1, dim_in=4, max_conv_dim=8, downsample=1, bottleneck=1, slant=True)
    x, s = torch.randn(2, 1, SIZE, SIZE), torch.randn(2, 5)
    upright = G(x, with_slant(s, torch.zeros(2)))
    leaning = G(x, with_slant(s, torch.full((2,), 0.3)))
    assert upright.shape == (2, 1, SIZE, SIZE) and (upright - leaning).abs().mean() > 1e-3
    torch.testing.assert_close(leaning, shear(upright, torch.full((2,), 0.3)))  # the output image is sheared
    # the input is straightened by G's own reading: an input sheared by k and read as k reaches
    # the encoder as the upright image (up to resampling), one read as 0 does not
    class Reads(torch.nn.Module):
        def __init__(self, value: float):
            super().__init__()
            self.value = value

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.full((x.shape[0],), self.value)

    s0 = with_slant(s, torch.zeros(2))
    sheared = shear(x, torch.full((2,), 0.2))
    G.slant = Reads(0.0)
    reference, unstraightened = G(x, s0), G(sheared, s0)
    G.slant = Reads(0.2)
    straightened = G(sheared, s0)
    assert (straightened - reference).abs().mean() < 0.5 * (unstraightened - reference).abs().mean()


@pytest.mark.parametrize("reader", ["learned", "profile"])
def test_slant_estimators_learn_from_their_own_loss_alone(font_root: Path, reader: str) -> None:  # noqa: F811
    cfg = tiny_cfg(font_root, **{"net.slant": True, "net.slant_reader": reader})
    task, nets = set_up_task(cfg, font_root)
    batch = task.next_batch(1)
    assert batch.shear is not None and batch.shear.abs().max() <= cfg.loss.slant_max
    estimators = list(nets["G"].slant.parameters()) + list(nets["E"].slant.parameters())
    for phase in ("D_latent", "D_ref", "G_latent", "G_ref"):
        out = task.compute_losses(phase, nets, batch, step=1)
        assert ("slant" in out.terms) == (phase == "G_latent"), phase
        for name, term in out.terms.items():
            if not term.requires_grad:
                continue
            grads = torch.autograd.grad(term, estimators, retain_graph=True, allow_unused=True)
            reached = any(g is not None and bool(g.abs().sum() > 0) for g in grads)
            assert reached == (name == "slant"), f"{phase}/{name}"
    assert task.compute_losses("G_latent", nets, batch, step=1).weights["slant"] == cfg.loss.lambda_slant


def test_runs_without_the_slant_draw_what_they_always_drew(font_root: Path) -> None:  # noqa: F811
    plain, slanted = (tiny_cfg(font_root, **{"net.slant": on}) for on in (False, True))
    batches = []
    for cfg in (plain, slanted):
        task = StarGANv2Task(cfg, build_domain_set(cfg, "train"), sample_set=None)
        task.setup(TrainContext(torch.device("cpu"), DistInfo(), 0, font_root))
        batches.append(task.next_batch(3))
    assert batches[0].shear is None
    for field in ("x", "y_src", "y_trg", "x_ref", "x_ref2", "z", "z2"):
        assert torch.equal(getattr(batches[0], field), getattr(batches[1], field)), field


def test_slant_config_is_checked(font_root: Path) -> None:  # noqa: F811
    with pytest.raises(ConfigError, match="loss.slant_max"):
        tiny_cfg(font_root, **{"loss.slant_max": 0.0})
    with pytest.raises(ConfigError, match="loss.lambda_slant"):
        tiny_cfg(font_root, **{"loss.lambda_slant": -1.0})
    with pytest.raises(ConfigError, match="net.slant_reader"):
        tiny_cfg(font_root, **{"net.slant_reader": "moments"})
    with pytest.raises(ValueError, match="unknown slant reader"):
        make_slant_reader("moments", 1)


def test_untrained_estimators_read_every_image_as_upright() -> None:
    torch.manual_seed(0)
    x, y = torch.randn(3, 1, SIZE, SIZE), torch.tensor([0, 1, 2])
    G = Generator(style_dim=5, channels=1, dim_in=4, max_conv_dim=8, downsample=1, bottleneck=1, slant=True)
    E = StyleEncoder(SIZE, 5, 3, 1, 4, 8, 2, slant=True)
    assert torch.equal(G.slant(x), torch.zeros(3)) and torch.equal(E(x, y)[:, -1], torch.zeros(3))
    plain = Generator(style_dim=5, channels=1, dim_in=4, max_conv_dim=8, downsample=1, bottleneck=1)
    plain.load_state_dict({k: v for k, v in G.state_dict().items() if not k.startswith("slant.")})
    s = torch.randn(3, 5)
    torch.testing.assert_close(G(x, with_slant(s, torch.zeros(3))), plain(x, s))  # the paper's G at the start


def test_estimator_is_odd_under_a_mirror() -> None:
    torch.manual_seed(0)
    est = SlantEstimator(1)
    torch.nn.init.normal_(est.out.weight)
    torch.nn.init.normal_(est.out.bias)  # a bias cancels: no drifting zero
    x = torch.randn(3, 1, SIZE, SIZE)
    torch.testing.assert_close(est(x.flip(-1)), -est(x))
    symmetric = torch.cat([x[..., :8], x[..., :8].flip(-1)], dim=-1)
    torch.testing.assert_close(est(symmetric), torch.zeros(3), atol=1e-6, rtol=0)


def test_slant_model_trains_resumes_exactly_translates_and_is_scored(font_root: Path, tmp_path: Path) -> None:  # noqa: F811
    from vc.cli import img_evaluate, img_translate
    from vc.config import save_config
    from vc.gan import Trainer

    cfg = tiny_cfg(font_root, **{"net.slant": True, "trainer.max_steps": 4})
    full = Trainer(StarGANv2Task(cfg), cfg.trainer, tmp_path / "full", device="cpu", seed=0).fit()
    Trainer(StarGANv2Task(cfg), cfg.trainer, tmp_path / "part", device="cpu", seed=0).fit(until=2)
    resumed = Trainer(StarGANv2Task(cfg), cfg.trainer, tmp_path / "part", device="cpu", seed=0).fit(resume=True)
    assert_same_weights(full.checkpoint, resumed.checkpoint)
    a = torch.load(full.checkpoint, weights_only=True)
    assert any(k.startswith("slant.") for k in a["nets"]["G"]) and any(k.startswith("slant.") for k in a["nets"]["E"])

    # the bundle written by vc-img-train loads, translates from a reference and is scored
    from vc.cli import img_train
    conf = tmp_path / "slant.yaml"
    save_config(tiny_cfg(font_root, **{"net.slant": True}), conf)
    exp = tmp_path / "exp"
    img_train.main(["--config", str(conf), "--exp", str(exp), "--no-progress"])
    img = font_root / "img_align_celeba" / "u0041v0_Sans.png"
    ref = font_root / "img_align_celeba" / "u0062v0_Mono-Oblique.png"
    out = tmp_path / "ref.png"
    img_translate.main(["--model", str(exp), "--input", str(img), "--ref", str(ref), "--ref-domain", "Mono",
                        "--out", str(out)])
    assert out.is_file()
    scores = tmp_path / "scores.json"
    img_evaluate.main(["--model", str(exp), "--out", str(scores), "--limit", "2"])
    assert "Oblique" in json.loads(scores.read_text())["style_transfer"]


def _strokes(size: int = SIZE) -> torch.Tensor:
    """An upright, mirror-symmetric "H": two stems and a bar, dark ink on white."""
    x = torch.ones(1, 1, size, size)
    x[..., 3:-3, 4:6] = -1.0
    x[..., 3:-3, -6:-4] = -1.0
    x[..., size // 2, 4:-4] = -1.0
    return x


def test_profile_reader_follows_shears_whatever_the_ink() -> None:
    reader = ProfileSlantReader()
    assert [name for name, _ in reader.named_parameters()] == ["gain"]  # all the equivariance loss can set
    h = _strokes()
    with torch.no_grad():
        readings = torch.cat([reader(shear(h, torch.tensor([k]))) for k in (-0.3, -0.15, 0.0, 0.15, 0.3)])
        assert abs(float(readings[2])) < 1e-6  # upright and symmetric: exactly 0
        assert bool((readings.diff() > 0.05).all()), readings  # each step of shear moves it the same way
        assert 0.5 * 0.3 < float(readings[-1]) < 1.2 * 0.3  # near the shear itself before any calibration
        x = torch.rand(3, 1, SIZE, SIZE) * 2 - 1
        torch.testing.assert_close(reader(x.flip(-1)), -reader(x), atol=1e-6, rtol=0)
        torch.testing.assert_close(reader(-x), reader(x), atol=1e-6, rtol=0)  # light ink on dark reads alike
        torch.testing.assert_close(reader(x.repeat(1, 3, 1, 1)), reader(x))  # colour: the channels' mean


def test_profile_reader_map_is_the_projection_it_replaces() -> None:
    reader = ProfileSlantReader()
    x = torch.rand(2, 1, SIZE, SIZE)
    ink = x - x.mean((2, 3), keepdim=True)
    torch.testing.assert_close(reader.projections(x), reader._project(ink), atol=1e-5, rtol=1e-5)
    assert len(reader._maps) == 1
    big = torch.rand(1, 1, 80, 80)  # past the cached size: projected directly, nothing cached
    assert reader.projections(big).shape == (1, reader.shears.numel(), 160) and len(reader._maps) == 1


def test_profile_reader_gain_is_calibrated_by_the_equivariance_loss() -> None:
    reader = ProfileSlantReader()
    with torch.no_grad():
        reader.gain.fill_(0.5)  # reads half of every slant
    x, k = _strokes().repeat(6, 1, 1, 1), torch.tensor([-0.3, -0.2, -0.1, 0.1, 0.2, 0.3])
    opt = torch.optim.Adam(reader.parameters(), lr=0.05)
    first = float(slant_equivariance_loss(reader, x, k))
    for _ in range(40):
        loss = slant_equivariance_loss(reader, x, k)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(slant_equivariance_loss(reader, x, k)) < 0.1 * first
    assert 0.9 < float(reader.gain) < 1.3
