"""A few StarGAN steps through the shared trainer on the font set, then translate and evaluate."""
import json
import logging

import pytest
import torch
import yaml
from PIL import Image

from vc.cli import img_evaluate, img_train, img_translate
from vc.config import ConfigError
from vc.gan import TrainContext, Trainer, load_checkpoint
from vc.gan.runtime import DistInfo
from vc.image import fonts
from vc.config import from_dict
from vc.image.labels import LabelSpace
from vc.stargan.bundle import load_bundle
from vc.stargan.config import StarGANConfig
from vc.stargan.task import StarGANTask, build_generator

from gan_step import assert_same_step, one_step

CONFIG = {
    "model": "stargan",
    "config_version": 2,
    "data": {"attributes": list(fonts.ATTRIBUTES), "exclusive_groups": [list(g) for g in fonts.EXCLUSIVE_GROUPS],
             "group_names": ["Family"], "split": "partition", "crop_size": 0, "image_size": 16, "channels": 1,
             "hflip": False, "preload": True, "batch_size": 4},
    "net": {"g_conv_dim": 8, "g_repeat_num": 1, "g_downsample": 1, "d_conv_dim": 8, "d_repeat_num": 2},
    "optim": {"n_critic": 2},
    "trainer": {"max_steps": 4, "lr_decay_start": 2, "log_every": 2, "checkpoint_every": 2, "sample_every": 2},
    "evaluation": {"conv_dim": 4, "repeat_num": 2, "steps": 4, "batch_size": 4},
    "sample_count": 2,
}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("img")
    data = root / "fonts"
    fonts.render_font_set(data, fonts.FontRenderConfig(image_size=16, glyphs="AbQ7", test_glyphs="7", min_family_distance=0.0))
    cfg = dict(CONFIG, data=dict(CONFIG["data"], root=str(data)))
    conf = root / "train.yaml"
    conf.write_text(yaml.safe_dump(cfg))
    exp = root / "exp"
    img_train.main(["--config", str(conf), "--exp", str(exp), "--device", "cpu"])
    return root, data, conf, exp


def test_training_writes_a_complete_bundle(setup):
    _, _, _, exp = setup
    assert (exp / "checkpoints" / "latest").read_text().strip() == "step_00000004.pt"
    assert json.loads((exp / "attributes.json").read_text())["names"] == list(fonts.ATTRIBUTES)
    header = (exp / "logs" / "train.csv").read_text().splitlines()[0].split(",")
    assert {"D/adv_real", "D/gp", "D/cls", "G/adv", "G/cls", "G/cyc"} <= set(header)
    grid = Image.open(exp / "samples" / "step_00000004" / "grid.png")
    assert grid.size == (16 * (1 + 5 + 4), 16 * (2 + 1))
    state = load_checkpoint(exp / "checkpoints" / "step_00000004.pt")
    assert set(state["nets"]) == {"G", "D"} and set(state["optimizers"]) == {"G", "D"}


def test_existing_checkpoints_need_resume(setup, caplog):
    _, _, conf, exp = setup
    with pytest.raises(SystemExit):
        img_train.main(["--config", str(conf), "--exp", str(exp)])
    assert "pass --resume" in caplog.text
    with pytest.raises(SystemExit):  # resuming with another architecture is refused too
        img_train.main(["--config", str(conf), "--exp", str(exp), "--resume", "-o", "net.g_conv_dim=4"])
    assert "resuming with different net.g_conv_dim" in caplog.text
    # a longer schedule is allowed: the run continues from step 4
    img_train.main(["--config", str(conf), "--exp", str(exp), "--resume", "-o", "trainer.max_steps=5", "--no-progress"])
    assert (exp / "checkpoints" / "latest").read_text().strip() == "step_00000005.pt"


@pytest.mark.parametrize("d_shift, gp_every", [(0.0, 1), (0.125, 1), (0.0, 2)])
def test_resume_continues_exactly(setup, tmp_path, d_shift, gp_every):
    _, data, conf, _ = setup
    cfg = from_dict(StarGANConfig, yaml.safe_load(conf.read_text()))
    cfg.trainer.sample_every = 0
    cfg.loss.d_shift = d_shift  # the shifts D sees are drawn again exactly after a resume
    cfg.loss.gp_every = gp_every  # a lazy penalty's steps are a function of the step
    Trainer(StarGANTask(cfg), cfg.trainer, tmp_path / "a", device="cpu").fit()
    Trainer(StarGANTask(cfg), cfg.trainer, tmp_path / "b", device="cpu").fit(until=3)
    Trainer(StarGANTask(cfg), cfg.trainer, tmp_path / "b", device="cpu").fit(resume=True)
    a = load_checkpoint(tmp_path / "a" / "checkpoints" / "step_00000004.pt")["nets"]
    b = load_checkpoint(tmp_path / "b" / "checkpoints" / "step_00000004.pt")["nets"]
    for net in ("G", "D"):
        for key, value in a[net].items():
            assert torch.equal(value, b[net][key]), f"{net}.{key} differs after resume"


def test_discriminator_sees_shifted_images_when_asked(setup, tmp_path):
    _, _, conf, _ = setup
    raw = yaml.safe_load(conf.read_text())
    with pytest.raises(ConfigError, match="loss.d_shift"):
        from_dict(StarGANConfig, dict(raw, loss={"d_shift": 0.5}))
    cfg = from_dict(StarGANConfig, dict(raw, loss={"d_shift": 0.125}))
    task = StarGANTask(cfg)
    task.setup(TrainContext(torch.device("cpu"), DistInfo(), 0, tmp_path))
    x = torch.zeros(8, 1, 16, 16, requires_grad=True)
    with torch.no_grad():
        x[:, :, 6:10, 6:10] = 1.0
    seen = task._d_view(x, step=3, salt=2)
    assert torch.equal(seen, task._d_view(x, step=3, salt=2))  # a function of the step: exact resume
    assert not torch.equal(seen, task._d_view(x, step=4, salt=2))
    assert any(not torch.equal(v, x[0]) for v in seen)  # moved by up to 2 px ...
    assert torch.equal(seen.detach().sum((1, 2, 3)), x.detach().sum((1, 2, 3)))  # ... never cut off
    seen.sum().backward()
    assert x.grad.sum() == x.numel() and x.grad.min() >= 0  # G's gradient passes through the shift
    task.cfg.loss.d_shift = 0.0
    assert task._d_view(x, step=3, salt=2) is x


def test_lazy_gradient_penalty_runs_on_every_kth_d_step_with_k_times_the_weight(setup, tmp_path):
    _, _, conf, _ = setup
    raw = yaml.safe_load(conf.read_text())
    with pytest.raises(ConfigError, match="loss.gp_every"):
        from_dict(StarGANConfig, dict(raw, loss={"gp_every": 0}))
    task = StarGANTask(from_dict(StarGANConfig, dict(raw, loss={"gp_every": 3})))
    task.setup(TrainContext(torch.device("cpu"), DistInfo(), 0, tmp_path))
    nets = task.build_networks()
    for step in range(7):
        losses = task.compute_losses("D", nets, task.next_batch(step), step)
        if step % 3 == 0:
            assert losses.weights["gp"] == 30.0 and losses.terms["gp"] > 0
        else:
            assert "gp" not in losses.terms and "gp" not in losses.weights
    task.cfg.loss.gp_every = 1  # the default: every D step, the paper's weight
    assert task.compute_losses("D", nets, task.next_batch(1), 1).weights["gp"] == 10.0


def test_compile_with_a_gradient_penalty_is_a_clear_error(setup, tmp_path, caplog):
    _, _, conf, _ = setup
    with pytest.raises(SystemExit):
        img_train.main(["--config", str(conf), "--exp", str(tmp_path / "c"), "-o", "trainer.compile=true"])
    assert "trainer.compile cannot train this model" in caplog.text
    assert not (tmp_path / "c" / "checkpoints").exists()


def test_an_ema_generator_is_kept_resumed_and_loaded_when_asked(setup, tmp_path):
    _, _, conf, _ = setup
    raw = yaml.safe_load(conf.read_text())
    with pytest.raises(ConfigError, match="optim.ema_beta"):
        from_dict(StarGANConfig, dict(raw, optim=dict(raw["optim"], ema_beta=1.0)))
    cfg = from_dict(StarGANConfig, dict(raw, optim=dict(raw["optim"], ema_beta=0.5)))
    cfg.trainer.sample_every = 0
    Trainer(StarGANTask(cfg), cfg.trainer, tmp_path / "a", device="cpu").fit()
    Trainer(StarGANTask(cfg), cfg.trainer, tmp_path / "b", device="cpu").fit(until=3)
    Trainer(StarGANTask(cfg), cfg.trainer, tmp_path / "b", device="cpu").fit(resume=True)
    a = load_checkpoint(tmp_path / "a" / "checkpoints" / "step_00000004.pt")
    b = load_checkpoint(tmp_path / "b" / "checkpoints" / "step_00000004.pt")
    assert set(a["ema"]) == {"G"}
    for key, value in a["ema"]["G"].items():
        assert torch.equal(value, b["ema"]["G"][key]), f"G_ema.{key} differs after resume"
    exp = tmp_path / "a"  # made a bundle: the config and label space beside the checkpoints
    (exp / "config.yaml").write_text(yaml.safe_dump(dict(raw, optim=dict(raw["optim"], ema_beta=0.5))))
    (exp / "attributes.json").write_text((setup[3] / "attributes.json").read_text())
    ema, trained = load_bundle(exp), load_bundle(exp, ema=False)
    assert ema.g_is_ema and not trained.g_is_ema
    for key, value in a["ema"]["G"].items():
        assert torch.equal(ema.G.state_dict()[key], value)
        assert torch.equal(trained.G.state_dict()[key], a["nets"]["G"][key])
    assert any(not torch.equal(v, a["nets"]["G"][k]) for k, v in a["ema"]["G"].items())
    # a run without an EMA loads its trained G either way
    assert not load_bundle(setup[3]).g_is_ema


def test_generator_starts_positively_correlated_with_its_input_unless_asked_not_to(setup, tmp_path):
    _, _, conf, _ = setup
    raw = yaml.safe_load(conf.read_text())

    def start_signs(sign: str) -> list[float]:
        task = StarGANTask(from_dict(StarGANConfig, dict(raw, net=dict(raw["net"], g_output_sign=sign))))
        task.setup(TrainContext(torch.device("cpu"), DistInfo(), 0, tmp_path))
        x = torch.stack([task.train_set.image(i) for i in range(len(task.train_set))])
        signs = []
        for seed in range(6):
            torch.manual_seed(seed)
            G = task.build_networks()["G"]
            with torch.no_grad():
                y = G(x, task.train_set.labels)
            signs.append(float(((x - x.mean()) * (y - y.mean())).sum()))
        return signs

    assert min(start_signs("random")) < 0 < max(start_signs("random"))  # PyTorch draws either sign
    assert min(start_signs("input")) > 0


def test_generator_skip_is_built_from_the_config(setup):
    _, _, conf, _ = setup
    raw = yaml.safe_load(conf.read_text())
    for skip in (False, True):
        cfg = from_dict(StarGANConfig, dict(raw, net=dict(raw["net"], g_skip=skip)))
        G = build_generator(cfg, LabelSpace.create(cfg.data.attributes, cfg.data.exclusive_groups))
        assert G.skip is skip and G.main[-2].in_channels == raw["net"]["g_conv_dim"] * (1 + skip)


def test_translate_edit_and_grid(setup, caplog):
    caplog.set_level(logging.INFO)
    root, data, _, exp = setup
    src = data / "img_align_celeba" / "u0037v0_Sans.png"
    out = root / "edit.png"
    img_translate.main(["--model", str(exp), "--src", str(src), "--edit", "Serif=1,Bold=1", "--out", str(out),
                        "--src-attrs", "Sans=1,Bold=0,Oblique=0"])
    assert Image.open(out).size == (16, 16)
    assert "[Sans] ->" in caplog.text and "[Serif+Bold]" in caplog.text
    grid = root / "grid.png"
    img_translate.main(["--model", str(exp), "--grid", "--data", str(data), "--num", "3", "--out", str(grid)])
    assert Image.open(grid).size == (16 * 10, 16 * 4)
    with pytest.raises(SystemExit):
        img_translate.main(["--model", str(exp), "--src", str(src), "--edit", "Bold=1", "--out", str(src)])
    assert "refusing to overwrite" in caplog.text
    with pytest.raises(SystemExit):
        img_translate.main(["--model", str(exp), "--src", str(src), "--edit", "Italic=1", "--out", str(out)])
    assert "unknown attribute 'Italic'" in caplog.text


def test_evaluate_trains_its_classifier_and_reports_the_baseline(setup, capsys):
    root, data, _, exp = setup
    img_evaluate.main(["--model", str(exp), "--data", str(data), "--device", "cpu"])
    result = json.loads((exp / "eval.json").read_text())
    assert (exp / "eval_classifier" / "checkpoints" / "latest").is_file()
    # 9 edits per image, one of which sets the image's own family and is not counted
    assert result["num_images"] == 12 and result["num_translations"] == 12 * 8 and result["num_no_op_edits"] == 12
    assert result["ground_truth_pairs"] == 12 * 8  # every font translation has its ground truth
    for method in ("stargan", "identity"):
        r = result["methods"][method]
        assert set(r["accuracy"]) == set(fonts.ATTRIBUTES) and 0 <= r["l1"] <= 1 and r["psnr"] > 0
    ident = result["methods"]["identity"]
    assert all(v is None or 0 <= v <= 1 for v in ident["accuracy_changed"].values())
    assert set(result["per_edit"]) == set(result["edits"]) and "l1" in result["per_edit"]["Bold"]["identity"]
    table = capsys.readouterr().out
    assert "identity" in table and "stargan" in table and "PSNR" in table and "Family+Bold+Oblique" in table
    # three judges by default: the scores are their mean logits', and each one's own reading is kept
    assert (exp / "eval_classifier" / "member2" / "checkpoints" / "latest").is_file()
    assert [len(result["judges"][k]) for k in ("real", "stargan")] == [3, 3]
    assert all(set(a) == set(fonts.ATTRIBUTES) for a in result["judges"]["stargan"])
    assert "stargan, single judges" in table


class _IdentityTranslator:
    """Stands in for a Translator whose G returns its input."""

    batch_size = 8

    def __init__(self, space):
        self.space = space

    def translate(self, x, target):
        return x.clone()


def test_a_translator_that_changes_nothing_scores_exactly_as_the_identity_baseline(setup):
    from vc.image.classifier import AttributeClassifier
    from vc.image.datasets import build_dataset
    from vc.stargan.evaluate import evaluate

    _, data, conf, _ = setup
    cfg = from_dict(StarGANConfig, yaml.safe_load(conf.read_text()))
    test = build_dataset(cfg.data, "test")
    torch.manual_seed(0)
    result = evaluate(_IdentityTranslator(test.space), AttributeClassifier(5, 1, 4, 2).eval(), test)
    assert result["methods"]["stargan"] == result["methods"]["identity"]
    assert result["methods"]["identity"]["l1"] > 0  # every counted edit changes the ground truth


@pytest.mark.parametrize("step", [1, 2])  # n_critic 2: G runs on even steps only
def test_g_phase_reuses_the_d_phase_fake(setup, tmp_path, step):
    """The G phase takes the D phase's G(x, c~) (made with G's graph) on steps where it runs:
    the same losses and networks as making it again, one G forward fewer."""
    _, _, conf, _ = setup
    cfg = from_dict(StarGANConfig, yaml.safe_load(conf.read_text()))
    new = one_step(lambda: StarGANTask(cfg), cfg.trainer, tmp_path / "new", handoff=True, step=step)
    old = one_step(lambda: StarGANTask(cfg), cfg.trainer, tmp_path / "old", handoff=False, step=step)
    assert new[2] == old[2] - (1 if step == 2 else 0)
    assert_same_step(new, old)
