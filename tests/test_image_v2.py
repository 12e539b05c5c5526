"""StarGAN v2: networks, losses' gradient flow, diversity-weight decay across resume, EMA,
class-balanced references, and the train/translate/evaluate front ends on a tiny model."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
import yaml
from PIL import Image

from vc.config import ConfigError, from_dict, save_config
from vc.gan import Trainer
from vc.gan.runtime import DistInfo, seed_everything
from vc.gan.task import TrainContext
from vc.image.datasets import DataError, ImageLabelDataset
from vc.image.domain_data import balanced_draw, build_domain_set, domain_set, step_generator
from vc.image.fonts import FontRenderConfig, render_font_set
from vc.image.labels import LabelSpace
from vc.stargan_v2.config import StarGANv2Config
from vc.stargan_v2.diversity import lpips_status, mean_pairwise_l1
from vc.stargan_v2.networks import Discriminator, Generator, MappingNetwork, StyleEncoder
from vc.stargan_v2.task import StarGANv2Task, build_networks, ds_weight

from gan_step import assert_same_step, one_step

SIZE = 16


@pytest.fixture(scope="module")
def font_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fonts16")
    render_font_set(root, FontRenderConfig(image_size=SIZE, glyphs="ABCDEab", test_glyphs="Ab", min_family_distance=0.0))
    return root


def tiny_cfg(root: Path, **over) -> StarGANv2Config:
    data = {"data": {"layout": "attributes", "root": str(root), "attributes": ["Sans", "Serif", "Mono", "Bold", "Oblique"],
                     "exclusive_groups": [["Sans", "Serif", "Mono"]], "split": "partition", "crop_size": 0,
                     "image_size": SIZE, "channels": 1, "hflip": False, "preload": True, "batch_size": 2},
            "domains": ["Sans", "Serif", "Mono"],
            "net": {"dim_in": 4, "max_conv_dim": 8, "style_dim": 4, "latent_dim": 3, "mapping_hidden": 8,
                    "mapping_shared_layers": 1, "mapping_head_layers": 2, "g_bottleneck": 1},
            "trainer": {"max_steps": 2, "log_every": 1, "checkpoint_every": 1, "keep_checkpoints": 5,
                        "cpu_threads": 1},
            "evaluation": {"conv_dim": 4, "repeat_num": 2, "steps": 3, "batch_size": 8},
            "diversity": {"num_outputs": 2, "num_refs": 2, "limit": 3},
            "sample_count": 2, "device": "cpu"}
    for key, value in over.items():
        node = data
        *parts, last = key.split(".")
        for p in parts:
            node = node.setdefault(p, {})
        node[last] = value
    return from_dict(StarGANv2Config, data)


# ------------------------------------------------------------------------------ networks
def set_up_task(cfg: StarGANv2Config, root: Path) -> tuple[StarGANv2Task, dict[str, torch.nn.Module]]:
    """A task on ``cfg``'s training set, set up on the CPU, and fresh networks (torch seed 0)."""
    task = StarGANv2Task(cfg, build_domain_set(cfg, "train"), sample_set=None)
    task.setup(TrainContext(torch.device("cpu"), DistInfo(), 0, root))
    torch.manual_seed(0)
    return task, task.build_networks()


def test_shapes_and_style_changes_output() -> None:
    G = Generator(style_dim=5, channels=3, dim_in=4, max_conv_dim=8, downsample=2, bottleneck=1)
    F = MappingNetwork(latent_dim=3, style_dim=5, num_domains=2, hidden=8, shared_layers=2, head_layers=2)
    E = StyleEncoder(32, 5, 2, channels=3, dim_in=4, max_conv_dim=8, downsample=3)
    D = Discriminator(32, 2, channels=3, dim_in=4, max_conv_dim=8, downsample=3)
    x, y = torch.randn(3, 3, 32, 32), torch.tensor([0, 1, 1])
    s = F(torch.randn(3, 3), y)
    assert s.shape == (3, 5) and E(x, y).shape == (3, 5) and D(x, y).shape == (3,)
    out = G(x, s)
    assert out.shape == x.shape
    assert not torch.allclose(out, G(x, s + 1.0)), "the style code must reach the output"
    with pytest.raises(ValueError, match="divisible"):
        G(torch.randn(1, 3, 30, 30), s[:1])


def test_tanh_output_is_the_squashed_linear_output() -> None:
    torch.manual_seed(0)
    linear = Generator(style_dim=5, channels=1, dim_in=4, max_conv_dim=8, downsample=1, bottleneck=1)
    squashed = Generator(style_dim=5, channels=1, dim_in=4, max_conv_dim=8, downsample=1, bottleneck=1, tanh=True)
    squashed.load_state_dict(linear.state_dict())  # no weights of its own
    x, s = torch.randn(2, 1, 16, 16), torch.randn(2, 5) * 10
    out = squashed(x, s)
    torch.testing.assert_close(out, torch.tanh(linear(x, s)))
    assert out.abs().max() < 1


def test_styles_depend_on_their_inputs_at_init() -> None:
    """Regression: with PyTorch's default init, F's 8 layers shrank the signal so much that every
    latent code gave nearly the same style (std across z ~1% of |s|) and G, seeing one constant
    style per domain, learned to ignore it (latent diversity 1e-4 after a full font run). He init
    keeps the spread of the styles of the order of their size, and G's output follows them."""
    torch.manual_seed(0)
    F = MappingNetwork(latent_dim=8, style_dim=16, num_domains=3, hidden=64)  # 4 shared + 4 head layers
    E = StyleEncoder(16, 16, 3, channels=1, dim_in=16, max_conv_dim=64, downsample=2)
    G = Generator(style_dim=16, channels=1, dim_in=16, max_conv_dim=64, downsample=1)
    y = torch.zeros(64, dtype=torch.long)
    with torch.no_grad():
        s = F(torch.randn(64, 8), y)
        assert s.std(0).mean() > 0.3 * s.abs().mean(), "F's styles must differ between latent codes"
        se = E(torch.rand(64, 1, 16, 16) * 2 - 1, y)
        assert se.std(0).mean() > 0.3 * se.abs().mean(), "E's styles must differ between images"
        out = G(torch.rand(1, 1, 16, 16).expand(64, -1, -1, -1) * 2 - 1, s)
        assert out.std(0).mean() > 0.1, "one input with different styles must give different outputs"


def test_heads_are_selected_by_domain() -> None:
    torch.manual_seed(0)
    F = MappingNetwork(3, 4, num_domains=3, hidden=8, shared_layers=1, head_layers=2)
    E = StyleEncoder(16, 4, 3, channels=1, dim_in=4, max_conv_dim=8, downsample=2)
    z, x = torch.randn(4, 3), torch.randn(4, 1, 16, 16)
    y = torch.tensor([2, 0, 1, 2])
    s = F(z, y)
    for i, k in enumerate(y.tolist()):
        assert torch.allclose(s[i], F.heads[k](F.shared(z[i:i + 1]))[0])
        assert torch.allclose(E(x, y)[i], E.heads[k](E.trunk(x[i:i + 1]))[0], atol=1e-5)  # batched conv rounding
    with torch.no_grad():  # changing head 1 must not change samples of domains 0 and 2
        for p in F.heads[1].parameters():
            p.add_(1.0)
    s2 = F(z, y)
    assert torch.allclose(s2[[0, 1, 3]], s[[0, 1, 3]]) and not torch.allclose(s2[2], s[2])
    with pytest.raises(ValueError, match="out of range"):
        F(z, torch.tensor([0, 1, 2, 3]))


# ------------------------------------------------------------------------------ data
def test_domain_set_and_balanced_references(font_root: Path) -> None:
    ds = build_domain_set(tiny_cfg(font_root), "train")
    assert ds.names == ("Sans", "Serif", "Mono") and len(ds) == 5 * 12
    draw = balanced_draw(ds, 64, step_generator(0, 1))
    assert torch.equal(ds.domain[draw.ref], draw.y_trg) and torch.equal(ds.domain[draw.ref2], draw.y_trg)
    assert bool((draw.ref != draw.ref2).all()), "the two references of a sample must differ"
    again = balanced_draw(ds, 64, step_generator(0, 1))
    assert torch.equal(again.src, draw.src) and torch.equal(again.ref2, draw.ref2)  # a function of the step
    counts = torch.bincount(ds.domain[balanced_draw(ds, 3000, step_generator(0, 2)).src], minlength=3)
    assert counts.min() > 900  # balanced over domains


def test_domain_set_rejects_images_with_two_domains(tmp_path: Path) -> None:
    space = LabelSpace.create(["a", "b", "c"])
    labels = torch.tensor([[1, 0, 0], [1, 1, 0], [0, 1, 1]], dtype=torch.float32).numpy()
    paths = [tmp_path / f"{i}.png" for i in range(3)]
    for p in paths:
        Image.new("L", (8, 8)).save(p)
    dataset = ImageLabelDataset(paths, labels, space, channels=1, crop_size=0, image_size=8)
    with pytest.raises(DataError, match="1.png: 2 of the domains"):
        domain_set(dataset, ["a", "b"])


# ------------------------------------------------------------------------------ losses
def _grads_by_net(term: torch.Tensor, nets: dict[str, torch.nn.Module]) -> set[str]:
    names = ["G", "F", "E", "D"]
    params = [list(nets[n].parameters()) for n in names]
    flat = [p for ps in params for p in ps]
    grads = torch.autograd.grad(term, flat, retain_graph=True, allow_unused=True)
    out, i = set(), 0
    for n, ps in zip(names, params):
        if any(g is not None and bool(g.abs().sum() > 0) for g in grads[i:i + len(ps)]):
            out.add(n)
        i += len(ps)
    return out


# with DiffAugment shifts, the same routes; with the class head, its term too
@pytest.mark.parametrize("d_shift,lambda_cls", [(0.0, 0.0), (0.25, 0.0), (0.0, 0.5)])
def test_each_loss_term_sends_gradient_to_the_right_networks(font_root: Path, d_shift: float,
                                                             lambda_cls: float) -> None:
    cfg = tiny_cfg(font_root, **{"loss.d_shift": d_shift, "loss.lambda_cls": lambda_cls})
    task, nets = set_up_task(cfg, font_root)
    batch = task.next_batch(1)
    expected = {
        "D_latent": {"real": {"D"}, "fake": {"D"}, "reg": {"D"}},
        "D_ref": {"real": {"D"}, "fake": {"D"}, "reg": {"D"}},
        # the adversarial term reaches D too, but only G's optimizer (G, F, E) steps in G phases
        "G_latent": {"adv": {"G", "F", "D"}, "sty": {"G", "F", "E"}, "ds": {"G", "F"}, "cyc": {"G", "F", "E"}},
        # reference-guided: E is used frozen, F is not used
        "G_ref": {"adv": {"G", "D"}, "sty": {"G"}, "ds": {"G"}, "cyc": {"G"}},
    }
    if lambda_cls:  # D learns to classify real images; G is scored by that head on its outputs
        cls_routes = {"D_latent": {"D"}, "D_ref": {"D"}, "G_latent": {"G", "F", "D"}, "G_ref": {"G", "D"}}
        for phase, route in cls_routes.items():
            expected[phase]["cls"] = route
    else:
        assert nets["D"].cls is None  # the paper's D: no class head, so old bundles still load
    for phase, terms in expected.items():
        out = task.compute_losses(phase, nets, batch, step=1)
        assert set(out.terms) == set(terms), phase
        for name, want in terms.items():
            assert _grads_by_net(out.terms[name], nets) == want, f"{phase}/{name}"
        if phase.startswith("G"):
            assert out.weights["ds"] == -1.0 and out.weights["sty"] == 1.0 and out.weights["cyc"] == 1.0
        else:
            assert out.weights["reg"] == 1.0
        assert out.weights.get("cls", 0.0) == lambda_cls


def test_lazy_r1_runs_on_every_kth_step_with_k_times_the_weight(font_root: Path) -> None:
    with pytest.raises(ConfigError, match="loss.reg_every"):
        tiny_cfg(font_root, **{"loss.reg_every": 0})
    cfg = tiny_cfg(font_root, **{"loss.reg_every": 4})
    task, nets = set_up_task(cfg, font_root)
    for step in range(1, 9):
        batch = task.next_batch(step)
        for phase in ("D_latent", "D_ref"):
            out = task.compute_losses(phase, nets, batch, step=step)
            assert out.weights["reg"] == 4.0
            assert ("reg" in out.terms) == (step % 4 == 0), (phase, step)
            if step % 4 == 0:
                assert _grads_by_net(out.terms["reg"], nets) == {"D"}


def test_discriminator_class_head_shares_the_trunk() -> None:
    torch.manual_seed(0)
    x, y = torch.randn(3, 1, SIZE, SIZE), torch.tensor([0, 2, 1])
    plain = Discriminator(SIZE, 3, 1, 4, 8, 2)
    with pytest.raises(RuntimeError, match="no classification head"):
        plain(x, y, classes=True)
    with_head = Discriminator(SIZE, 3, 1, 4, 8, 2, classifier=True)
    missing, unexpected = with_head.load_state_dict(plain.state_dict(), strict=False)
    assert sorted(missing) == ["cls.bias", "cls.weight"] and not unexpected
    logit, classes = with_head(x, y, classes=True)
    assert logit.shape == (3,) and classes.shape == (3, 3)
    torch.testing.assert_close(logit, plain(x, y))  # the real/fake path is the paper's D, unchanged
    torch.testing.assert_close(with_head(x, y), logit)


def test_diversity_weight_schedule() -> None:
    cfg = from_dict(StarGANv2Config, {"loss": {"lambda_ds": 2.0, "ds_decay_steps": 4}})
    assert [ds_weight(cfg, s) for s in range(1, 7)] == [2.0, 1.5, 1.0, 0.5, 0.0, 0.0]


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def assert_same_weights(a_path: Path, b_path: Path) -> None:
    """Every network and EMA tensor of two checkpoints equal (an exact resume)."""
    a = torch.load(a_path, weights_only=True)
    b = torch.load(b_path, weights_only=True)
    for group in ("nets", "ema"):
        for name, state in a[group].items():
            for key, value in state.items():
                assert torch.equal(value, b[group][name][key]), f"{group}/{name}/{key} differs after resume"


@pytest.mark.parametrize("d_shift", [0.0, 0.25])  # the shifts D sees are drawn again exactly too
def test_lambda_ds_decay_and_weights_survive_resume(font_root: Path, tmp_path: Path, d_shift: float) -> None:
    cfg = tiny_cfg(font_root, **{"loss.ds_decay_steps": 4, "trainer.max_steps": 5, "loss.d_shift": d_shift})
    full = Trainer(StarGANv2Task(cfg), cfg.trainer, tmp_path / "full", device="cpu", seed=0).fit()
    Trainer(StarGANv2Task(cfg), cfg.trainer, tmp_path / "part", device="cpu", seed=0).fit(until=2)
    resumed = Trainer(StarGANv2Task(cfg), cfg.trainer, tmp_path / "part", device="cpu", seed=0).fit(resume=True)
    assert full.step == resumed.step == 5
    for run in ("full", "part"):
        rows = _read_csv(tmp_path / run / "logs" / "train.csv")
        assert [float(r["G_latent/lambda_ds"]) for r in rows] == [1.0, 0.75, 0.5, 0.25, 0.0]
    assert_same_weights(full.checkpoint, resumed.checkpoint)


def test_ema_is_updated_once_per_step(font_root: Path, tmp_path: Path) -> None:
    cfg = tiny_cfg(font_root, **{"optim.ema_beta": 0.9, "trainer.max_steps": 1})
    seed_everything(0)  # what the trainer does before building the networks
    init = build_networks(cfg, 3)
    result = Trainer(StarGANv2Task(cfg), cfg.trainer, tmp_path / "run", device="cpu", seed=0).fit()
    state = torch.load(result.checkpoint, weights_only=True)
    assert set(state["ema"]) == {"G", "F", "E"}
    for name in ("G", "F", "E"):
        for key, w0 in init[name].state_dict().items():
            w1 = state["nets"][name][key]
            assert torch.allclose(state["ema"][name][key], 0.9 * w0 + 0.1 * w1, atol=1e-6), f"{name}.{key}"
    moved = [k for k, w0 in init["G"].state_dict().items() if not torch.equal(w0, state["nets"]["G"][k])]
    assert moved, "one training step must change G"


def test_compile_is_refused_since_r1_differentiates_a_gradient(font_root: Path, tmp_path: Path) -> None:
    cfg = tiny_cfg(font_root, **{"trainer.compile": True})
    with pytest.raises(ConfigError, match="trainer.compile cannot train this model"):
        Trainer(StarGANv2Task(cfg), cfg.trainer, tmp_path / "run", device="cpu").fit()


# ------------------------------------------------------------------------------ diversity
def test_pairwise_l1_and_lpips_status() -> None:
    x = torch.zeros(2, 3, 1, 4, 4)
    assert float(mean_pairwise_l1(x)) == 0.0  # a deterministic translator
    x[:, 1] = 1.0  # outputs 0, 1, 0 -> pair distances 0.5, 0, 0.5 on the [0, 1] scale
    assert float(mean_pairwise_l1(x)) == pytest.approx(1.0 / 3.0)
    ok, why = lpips_status()
    assert isinstance(ok, bool) and why
    with pytest.raises(ValueError):
        mean_pairwise_l1(x[:, :1])


# ------------------------------------------------------------------------------ CLI
def test_cli_train_translate_evaluate(font_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from vc.cli import img_evaluate, img_train, img_translate

    conf = tmp_path / "stargan_v2.yaml"
    save_config(tiny_cfg(font_root), conf)
    assert yaml.safe_load(conf.read_text())["model"] == "stargan_v2"
    exp = tmp_path / "exp"
    img_train.main(["--config", str(conf), "--exp", str(exp), "--no-progress"])
    assert "it/s" not in capsys.readouterr().err  # the flag reaches the trainer (no progress bar)
    assert (exp / "domains.json").is_file() and (exp / "samples" / "step_00000002" / "latent.png").is_file()
    with pytest.raises(SystemExit):  # existing checkpoints without --resume
        img_train.main(["--config", str(conf), "--exp", str(exp)])

    imgs = sorted((font_root / "img_align_celeba").glob("u0041v0_*.png"))[:3]  # 'A', held out
    out = tmp_path / "latent.png"
    img_translate.main(["--model", str(exp), "--src", *map(str, imgs), "--latent", "--domain", "Serif",
                        "--num", "3", "--out", str(out)])
    assert Image.open(out).size == ((1 + 3) * SIZE, (1 + len(imgs)) * SIZE)  # header + one row per input
    img_translate.main(["--exp", str(exp), "--input", *map(str, imgs), "--latent", "--num", "2", "--out", str(out)])
    assert Image.open(out).size == ((1 + 3 * 2) * SIZE, (1 + len(imgs)) * SIZE)  # every domain
    refs = [font_root / "img_align_celeba" / "u0062v0_Mono-Bold.png", font_root / "img_align_celeba" / "u0062v0_Serif.png"]
    out_ref = tmp_path / "ref.png"
    img_translate.main(["--model", str(exp), "--input", *map(str, imgs), "--ref", *map(str, refs),
                        "--ref-domain", "Mono,Serif", "--out", str(out_ref)])
    assert Image.open(out_ref).size == ((1 + 2) * SIZE, (2 + len(imgs)) * SIZE)  # header + reference row
    with pytest.raises(SystemExit):  # the output must never overwrite an input
        img_translate.main(["--model", str(exp), "--input", str(imgs[0]), "--latent", "--out", str(imgs[0])])
    with pytest.raises(SystemExit):  # no way to know the references' domain without a classifier
        img_translate.main(["--model", str(exp), "--input", str(imgs[0]), "--ref", str(refs[0]), "--out", str(out_ref)])

    scores = tmp_path / "scores.json"
    img_evaluate.main(["--model", str(exp), "--out", str(scores), "--limit", "3"])
    result = json.loads(scores.read_text())
    assert result["num_inputs"] == 3 and result["stargan_v1_diversity"] == 0.0
    assert 0.0 <= result["domain_accuracy"]["latent"] <= 1.0
    assert result["diversity_l1"]["latent"] > 0.0  # different latent codes give different outputs
    assert set(result["style_transfer"]) == {"Bold", "Oblique"}
    assert all(0.0 <= v <= 1.0 for v in result["classifier_real_style_accuracy"].values())  # the judge's ceiling
    assert set(result["classifier_real_style_accuracy"]) == {"Bold", "Oblique"}
    assert {k: len(v) for k, v in result["judges"].items()} == {"real": 3, "latent": 3, "reference": 3}
    pairs = result["domain_accuracy_by_pair"]
    assert set(pairs) == {f"{a}->{b}" for a in ("Sans", "Serif", "Mono") for b in ("Sans", "Serif", "Mono") if a != b}
    scored = [v["latent"] for v in pairs.values() if v["latent"] is not None]
    assert scored and all(0.0 <= v <= 1.0 for v in scored)
    assert min(scored) - 1e-9 <= result["domain_accuracy"]["latent"] <= max(scored) + 1e-9  # a weighted mean of them
    assert all(0.0 < result["content_l1"][m][who] < 1.0 for m in ("latent", "reference") for who in ("output", "input"))
    assert "each judge alone" in capsys.readouterr().out
    if not lpips_status()[0]:
        assert result["diversity_lpips"].startswith("unavailable")
    trained = tmp_path / "scores_trained.json"  # the trained weights rather than their EMA: other outputs
    img_evaluate.main(["--model", str(exp), "--out", str(trained), "--limit", "3", "--no-ema"])
    assert json.loads(trained.read_text())["content_l1"]["latent"]["output"] != result["content_l1"]["latent"]["output"]


def test_judges_train_before_the_model_and_evaluation_reuses_them(font_root: Path, tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    """vc-img-judges needs only the config (the recipe runs it beside vc-img-train)."""
    from vc.cli import img_evaluate, img_judges, img_train
    from vc.image.classifier import CLASSIFIER_DIR, is_trained

    conf = tmp_path / "stargan_v2.yaml"
    cfg = tiny_cfg(font_root)
    save_config(cfg, conf)
    exp = tmp_path / "exp"
    img_judges.main(["--config", str(conf), "--exp", str(exp), "-o", "seed=4"])
    assert is_trained(exp / CLASSIFIER_DIR, cfg.evaluation) and not (exp / "checkpoints").exists()
    assert json.loads((exp / CLASSIFIER_DIR / "classifier.json").read_text())["config"]["judges"] == 3
    caplog.clear()
    with caplog.at_level("INFO"):
        img_judges.main(["--config", str(conf), "--exp", str(exp)])  # a rerun leaves them as they are
    assert "are trained" in caplog.text
    img_train.main(["--config", str(conf), "--exp", str(exp), "--no-progress"])  # the judges' folder is no obstacle
    caplog.clear()
    with caplog.at_level("INFO"):
        img_evaluate.main(["--model", str(exp), "--out", str(tmp_path / "scores.json"), "--limit", "2"])
    assert "training the evaluation classifier" not in caplog.text
    with pytest.raises(SystemExit):  # no data there: a clear error, not a traceback
        img_judges.main(["--config", str(conf), "--exp", str(tmp_path / "other"), "-o", f"data.root={tmp_path / 'none'}"])


class _StubTranslator:
    """A StyleTranslator stand-in: ``draw`` maps (inputs, domain) to outputs, styles carry the domain."""

    latent_dim = 2
    domains = ("Sans", "Serif", "Mono")

    def __init__(self, draw):
        self.draw = draw

    def latent_styles(self, z: torch.Tensor, domain: int) -> torch.Tensor:
        return torch.full((z.shape[0], 1), float(domain))

    def reference_styles(self, refs: torch.Tensor, domain: int) -> torch.Tensor:
        return torch.full((refs.shape[0], 1), float(domain))

    def generate(self, x: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        return self.draw(x, int(styles.flatten()[0]))


def test_content_l1_exposes_a_translator_that_drops_its_input(font_root: Path) -> None:
    from vc.image.classifier import AttributeClassifier
    from vc.stargan_v2.evaluate import Judge, evaluate

    cfg = tiny_cfg(font_root)
    test = build_domain_set(cfg, "test")
    space = test.dataset.space
    judge = Judge(AttributeClassifier(space.dim, 1, 4, 2).eval(), space, test.names)
    cfg.diversity.limit = 0
    same = evaluate(_StubTranslator(lambda x, k: x.clone()), judge, test, cfg.diversity)
    cl = same["content_l1"]
    assert cl["latent"]["output"] == pytest.approx(cl["latent"]["input"]) and cl["latent"]["input"] > 0
    assert cl["reference"]["output"] == pytest.approx(cl["reference"]["input"])
    # a real rendering of the target domain, but of the *other* held-out glyph: right family, wrong glyph
    imgs = test.images(range(len(test.dataset)))
    content = test.dataset.content_ids
    assert len(set(content)) == 2

    def other_glyph(x: torch.Tensor, k: int) -> torch.Tensor:
        out = []
        for xi in x:
            i = next(j for j in range(len(imgs)) if torch.equal(imgs[j], xi))
            out.append(next(imgs[j] for j in test.members[k].tolist() if content[j] != content[i]))
        return torch.stack(out)

    other = evaluate(_StubTranslator(other_glyph), judge, test, cfg.diversity)
    assert other["content_l1"]["latent"]["output"] > cl["latent"]["input"]
    assert other["content_l1"]["reference"]["output"] > cl["reference"]["input"]


def test_g_latent_phase_reuses_the_d_latent_fake(font_root: Path, tmp_path: Path) -> None:
    """D_latent's (F(z, y~), G(x, s~)) are what G_latent would make again (only D changes between):
    taken with their graphs, the step is the same, with one G forward fewer."""
    cfg = tiny_cfg(font_root)

    def make() -> StarGANv2Task:
        return StarGANv2Task(cfg, build_domain_set(cfg, "train"), sample_set=None)

    new = one_step(make, cfg.trainer, tmp_path / "new", handoff=True)
    old = one_step(make, cfg.trainer, tmp_path / "old", handoff=False)
    # D phases 1 each; G phases: fake, second fake, cycle each (the latent one's fake taken from D)
    assert (new[2], old[2]) == (7, 8)
    assert_same_step(new, old)
