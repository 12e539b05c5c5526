"""Image configs and bundles written before ``config_version`` 2 load through the registry's
migration and translate; the image front ends dispatch by the model a config or bundle names."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
import torch
import yaml
from PIL import Image

from vc.cli import img_evaluate, img_train, img_translate
from vc.config import ConfigError, from_dict, to_dict
from vc.image import fonts
from vc.registry import IMAGE, bundle_entry, load_model_config
from vc.stargan.config import StarGANConfig
from vc.stargan.config import migrate_v1 as migrate_stargan
from vc.stargan_v2.config import StarGANv2Config
from vc.stargan_v2.config import migrate_v1 as migrate_stargan_v2

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
from make_v1_image_bundles import SIZE, make_v1_bundle, make_v1_config  # noqa: E402


@pytest.fixture(scope="module")
def font_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fonts")
    fonts.render_font_set(root, fonts.FontRenderConfig(image_size=SIZE, glyphs="AbQ7", test_glyphs="7",
                                                       min_family_distance=0.0))
    return root


def test_old_configs_migrate_to_the_one_vocabulary(font_root: Path, tmp_path: Path) -> None:
    entry, cfg = load_model_config(make_v1_config("stargan", tmp_path / "a.yaml", font_root), IMAGE)
    assert entry.name == "stargan" and isinstance(cfg, StarGANConfig)
    assert cfg.model == "stargan" and cfg.config_version == 2
    assert cfg.net.g_conv_dim == 8 and cfg.data.batch_size == 4 and cfg.loss.lambda_cyc == 7.5
    assert cfg.optim.betas == (0.4, 0.999)  # beta2 not given: its default
    entry, cfg = load_model_config(make_v1_config("stargan_v2", tmp_path / "b.yaml", font_root), IMAGE)
    assert entry.name == "stargan_v2" and isinstance(cfg, StarGANv2Config)
    assert cfg.data.batch_size == 2 and cfg.optim.betas == (0.0, 0.9) and cfg.config_version == 2
    # a config without a model section is an old StarGAN one; a v2 one without a data section keeps
    # the folder layout it meant when its batch size moves into data
    assert load_model_config(None, IMAGE)[0].name == "stargan"
    moved = from_dict(StarGANv2Config, migrate_stargan_v2({"model": "stargan_v2", "optim": {"batch_size": 3}}))
    assert moved.data.layout == "folders" and moved.data.batch_size == 3 and moved.data.crop_size == 0
    assert to_dict(from_dict(StarGANv2Config, migrate_stargan_v2({"model": "stargan_v2"}))) == to_dict(StarGANv2Config())
    with pytest.raises(ConfigError, match="loss.lambda_rec .* and loss.lambda_cyc"):
        migrate_stargan({"loss": {"lambda_rec": 1.0, "lambda_cyc": 2.0}})
    with pytest.raises(ConfigError, match="optim.betas"):
        migrate_stargan({"optim": {"beta1": 0.5, "betas": [0.5, 0.9]}})


def test_the_new_layout_is_validated_naming_the_key() -> None:
    with pytest.raises(ConfigError, match="model must be 'stargan'"):
        StarGANConfig(model="stargan_v2")
    with pytest.raises(ConfigError, match="optim.betas"):
        from_dict(StarGANConfig, {"optim": {"betas": [0.5, 1.5]}})
    with pytest.raises(ConfigError, match="data.batch_size"):
        from_dict(StarGANv2Config, {"data": {"batch_size": 0}})
    with pytest.raises(ConfigError, match="net.d_repeat_num"):
        from_dict(StarGANConfig, {"data": {"image_size": 16}, "net": {"d_repeat_num": 5}})
    with pytest.raises(ConfigError, match="unknown option.*lambda_rec"):  # the old key in the new layout
        from_dict(StarGANConfig, {"loss": {"lambda_rec": 10.0}})


@pytest.mark.parametrize("model", ["stargan", "stargan_v2"])
def test_an_old_config_trains_into_a_bundle_of_the_new_layout(font_root: Path, tmp_path: Path, model: str) -> None:
    conf = make_v1_config(model, tmp_path / "old.yaml", font_root)
    exp = tmp_path / "exp"
    img_train.main(["--config", str(conf), "--exp", str(exp), "--no-progress", "--override", "trainer.max_steps=1"])
    saved = yaml.safe_load((exp / "config.yaml").read_text())
    assert saved["model"] == model and saved["config_version"] == 2 and saved["trainer"]["max_steps"] == 1
    assert "batch_size" in saved["data"] and "betas" in saved["optim"]
    out = tmp_path / "out.png"
    img = font_root / "img_align_celeba" / "u0037v0_Sans.png"
    mode = ["--edit", "Serif=1"] if model == "stargan" else ["--latent", "--num", "2"]
    img_translate.main(["--model", str(exp), "--src", str(img), *mode, "--out", str(out), "--device", "cpu"])
    assert out.is_file()


def test_old_bundles_load_and_translate(font_root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    img = font_root / "img_align_celeba" / "u0037v0_Sans.png"
    v1 = make_v1_bundle("stargan", tmp_path / "v1", font_root)
    old = yaml.safe_load((v1 / "config.yaml").read_text())
    assert "config_version" not in old and isinstance(old["model"], dict) and "lambda_rec" in old["loss"]
    entry, data = bundle_entry(v1, IMAGE)
    assert entry.name == "stargan" and data["net"]["g_conv_dim"] == 8 and data["loss"]["lambda_cyc"] == 7.5
    out = tmp_path / "edit.png"
    img_translate.main(["--model", str(v1), "--src", str(img), "--edit", "Serif=1,Bold=1", "--src-attrs",
                        "Sans=1,Bold=0,Oblique=0", "--out", str(out), "--device", "cpu"])
    assert Image.open(out).size == (SIZE, SIZE) and "[Serif+Bold]" in caplog.text
    assert "migrated to 2" in caplog.text

    v2 = make_v1_bundle("stargan_v2", tmp_path / "v2", font_root)
    old = yaml.safe_load((v2 / "config.yaml").read_text())
    assert old["model"] == "stargan_v2" and "config_version" not in old and "batch_size" in old["optim"]
    from vc.stargan_v2.bundle import load_bundle

    bundle = load_bundle(v2)
    assert bundle.cfg.data.batch_size == 2 and bundle.cfg.optim.betas == (0.0, 0.9)
    for name in ("G", "F", "E"):  # the weights the fixture wrote
        state = torch.load(v2 / "checkpoints" / "step_00000001.pt", weights_only=True)
        for key, value in bundle.nets[name].state_dict().items():
            assert torch.equal(value, state["ema"][name][key])
    out = tmp_path / "latent.png"
    img_translate.main(["--model", str(v2), "--src", str(img), "--latent", "--num", "2", "--out", str(out),
                        "--device", "cpu"])
    assert Image.open(out).size == ((1 + 3 * 2) * SIZE, 2 * SIZE)


def test_front_ends_refuse_another_models_options_and_the_old_edit_flag(font_root: Path, tmp_path: Path,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    v1 = make_v1_bundle("stargan", tmp_path / "v1", font_root)
    img = font_root / "img_align_celeba" / "u0037v0_Sans.png"
    out = tmp_path / "o.png"
    with pytest.raises(SystemExit):
        img_translate.main(["--model", str(v1), "--src", str(img), "--latent", "--out", str(out)])
    assert "--latent: option(s) of stargan_v2, but this is a stargan model" in caplog.text
    with pytest.raises(SystemExit):
        img_translate.main(["--model", str(v1), "--src", str(img), "--set", "Bold=1", "--out", str(out)])
    assert "the attribute edit is --edit" in caplog.text
    with pytest.raises(SystemExit):
        img_evaluate.main(["--model", str(v1), "--seed", "3"])
    assert "--seed: option(s) of stargan_v2" in caplog.text
    with pytest.raises(SystemExit):
        img_translate.main(["--model", str(tmp_path), "--src", str(img), "--edit", "Bold=1", "--out", str(out)])
    assert "not an image model bundle" in caplog.text


@pytest.mark.parametrize("cli", [img_translate, img_evaluate, img_train])
def test_every_front_end_help_lists_every_image_model(cli, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    assert "stargan " in text and "stargan_v2 " in text
    if cli is img_translate:
        assert "stargan options:" in text and "stargan_v2 options:" in text and "--latent" in text and "--edit" in text


def test_the_fixture_script_writes_configs_and_bundles(font_root: Path, tmp_path: Path) -> None:
    import subprocess

    script = Path(__file__).parent / "fixtures" / "make_v1_image_bundles.py"
    run = subprocess.run([sys.executable, str(script), str(tmp_path), str(font_root)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    for model in ("stargan", "stargan_v2"):
        assert load_model_config(tmp_path / f"{model}_v1.yaml", IMAGE)[0].name == model
        assert bundle_entry(tmp_path / "exp" / f"{model}_v1", IMAGE)[0].name == model
