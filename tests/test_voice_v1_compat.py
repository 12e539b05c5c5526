"""Work from before config_version 2 keeps working: an old-layout StarGAN-VC bundle converts
(``Converter.from_bundle``, ``vc-convert``), an old-layout training config loads into today's
config, and the command line names the new key when an override uses an old one."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from vc.config import CONFIG_VERSION, ConfigError, to_dict
from vc.convert.converter import Converter
from vc.features.testsignal import speech_like
from vc.registry import VOICE, bundle_entry, load_model_config
from vc.stargan_vc.bundle import load_bundle, load_generator
from vc.stargan_vc.config import StarGANVCConfig, migrate_v1

from test_train_fixtures import make_dump

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "fixtures"))
from make_v1_bundle import SAMPLE_RATE, V1_CONFIG, make_v1_bundle, make_v1_config  # noqa: E402


@pytest.fixture(scope="module")
def old(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("v1")
    run = subprocess.run([sys.executable, str(REPO / "tests/fixtures/make_v1_bundle.py"), str(root)],
                         capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stderr
    return {"bundle": root / "exp" / "v1", "config": root / "train_v1.yaml", "root": root}


def test_migrate_v1_maps_every_renamed_key():
    new = migrate_v1(V1_CONFIG)
    assert set(new) == {"net", "optim", "loss", "data", "trainer", "validation", "seed"}
    assert new["net"] == V1_CONFIG["model"] and new["trainer"] == V1_CONFIG["schedule"]
    assert new["loss"]["lambda_cyc"] == 7.5 and "lambda_rec" not in new["loss"]
    assert new["optim"]["n_critic"] == 2 and "n_critic" not in new["loss"]
    assert "schedule" in V1_CONFIG and "lambda_rec" in V1_CONFIG["loss"]  # the input is left alone
    with pytest.raises(ConfigError, match="both schedule .* and trainer"):
        migrate_v1({"schedule": {"max_steps": 1}, "trainer": {"max_steps": 2}})


def test_old_layout_config_loads_into_todays_config(old):
    entry, cfg = load_model_config(old["config"], VOICE)
    assert entry.name == "stargan_vc" and isinstance(cfg, StarGANVCConfig)
    assert cfg.model == "stargan_vc" and cfg.config_version == CONFIG_VERSION
    assert cfg.loss.lambda_cyc == 7.5 and cfg.optim.n_critic == 2 and cfg.trainer.max_steps == 3
    assert cfg.net.generator_voicing and len(cfg.net.generator) == 3 and cfg.seed == 3
    # the same config written in today's layout is the same config
    today = dict(migrate_v1(V1_CONFIG), model="stargan_vc", config_version=CONFIG_VERSION)
    path = old["root"] / "train_v2.yaml"
    path.write_text(yaml.safe_dump(today, sort_keys=False))
    assert to_dict(load_model_config(path, VOICE)[1]) == to_dict(cfg)


def test_old_layout_bundle_loads_through_the_registry(old):
    entry, data = bundle_entry(old["bundle"], VOICE)
    assert entry.name == "stargan_vc" and "net" in data and "schedule" not in data
    bundle = load_bundle(old["bundle"], nets=("G", "C"))
    assert bundle.speakers == ["low", "mid", "high"] and bundle.config.net.num_speakers == 3
    assert bundle.features.sample_rate == SAMPLE_RATE and bundle.step == 0
    state = torch.load(old["bundle"] / "checkpoints/step_00000000.pt", weights_only=True)
    for name, tensor in state["nets"]["G"].items():  # parameter names unchanged: the weights load as saved
        assert torch.equal(bundle.generator.state_dict()[name], tensor), name


def test_old_layout_bundle_converts_with_the_api_and_the_cli(old, tmp_path):
    wave, _ = speech_like(0.8, SAMPLE_RATE, 150.0, seed=3)
    converter = Converter.from_bundle(old["bundle"], precision="fp32")
    out, sr = converter.convert(wave, SAMPLE_RATE, "high", source="low")
    assert sr == SAMPLE_RATE and len(out) == len(wave) and np.isfinite(out).all()
    # the same G, loaded directly, gives the same mel-cepstrum
    analysis = converter.analyze(wave, SAMPLE_RATE, source="low")
    G, _, _, stats = load_generator(old["bundle"])
    from vc.stargan_vc.bundle import convert_mcep

    expected = convert_mcep(G, analysis.features.mcep, 0, 2, stats, voiced=analysis.features.voiced)
    plain = Converter.from_bundle(old["bundle"], precision="fp32", pause_db=0.0)
    np.testing.assert_allclose(plain.convert_mcep(analysis, "high"), expected, atol=1e-4)

    src = tmp_path / "in.wav"
    sf.write(str(src), wave, SAMPLE_RATE)
    res = subprocess.run([sys.executable, "-m", "vc.cli.convert", "--model", str(old["bundle"]), "--src", str(src),
                          "--target", "mid", "--source", "low", "--out", str(tmp_path / "out.wav")],
                         capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    written, wsr = sf.read(str(tmp_path / "out.wav"))
    assert wsr == SAMPLE_RATE and len(written) == len(wave)
    # the old bundle is read, never rewritten
    assert "schedule" in yaml.safe_load((old["bundle"] / "config.yaml").read_text())


def test_training_from_an_old_config_writes_a_bundle_that_names_its_model(old, tmp_path):
    from vc.cli.train import main as train_main

    feats, stats = make_dump(tmp_path / "dump", utts_per_speaker=2)
    exp = tmp_path / "exp"
    train_main(["--config", str(old["config"]), "--feats", str(feats), "--stats", str(stats), "--exp", str(exp),
                "--max-steps", "2", "--device", "cpu", "--no-progress", "--set", "trainer.checkpoint_every=2"])
    saved = yaml.safe_load((exp / "config.yaml").read_text())
    assert saved["model"] == "stargan_vc" and saved["config_version"] == CONFIG_VERSION
    assert saved["loss"]["lambda_cyc"] == 7.5 and saved["optim"]["n_critic"] == 2
    assert saved["trainer"]["max_steps"] == 2 and saved["device"] == "cpu"
    assert (exp / "checkpoints/latest").read_text().strip() == "step_00000002.pt"


@pytest.mark.parametrize("flag", ["-o", "--set", "--override"])
def test_an_override_in_an_old_spelling_names_the_new_key(old, tmp_path, flag, caplog, capsys):
    from vc.cli.train import main as train_main

    argv = ["--config", str(old["config"]), "--feats", str(tmp_path), "--stats", str(tmp_path / "none.npz"),
            "--exp", str(tmp_path / "exp"), flag, "schedule.cpu_threads=1"]
    with pytest.raises(SystemExit) as stop:
        train_main(argv)
    assert stop.value.code == 1
    assert "trainer.cpu_threads" in caplog.text and "config_version 2" in caplog.text
    assert ("old spelling" in capsys.readouterr().err) == (flag == "--override")
    caplog.clear()
    with pytest.raises(SystemExit):
        train_main(argv[:-2] + ["-o", "loss.n_critic=5"])
    assert "optim.n_critic" in caplog.text
    caplog.clear()
    with pytest.raises(SystemExit):
        train_main(argv[:-2] + ["-o", "model.generator_norm=instance"])
    assert "net.generator_norm" in caplog.text


def test_vc_train_help_lists_the_models():
    res = subprocess.run([sys.executable, "-m", "vc.cli.train", "--help"], capture_output=True, text=True, cwd=REPO)
    assert res.returncode == 0 and "stargan_vc" in res.stdout and "-o KEY=VALUE, --set KEY=VALUE" in res.stdout


def test_the_config_names_its_model_and_layout():
    with pytest.raises(ConfigError, match="model must be 'stargan_vc'"):
        StarGANVCConfig(model="stargan")
    with pytest.raises(ConfigError, match="config_version must be 2"):
        StarGANVCConfig(config_version=1)
    assert to_dict(StarGANVCConfig())["model"] == "stargan_vc"
    assert list(to_dict(StarGANVCConfig()))[:4] == ["model", "config_version", "seed", "device"]


def test_extract_takes_the_one_override_flag(capsys):
    from vc.cli.extract import build_parser

    args = build_parser().parse_args(["--data", "d", "--out", "o", "-o", "f0_method=harvest", "--set", "mcep_dim=24",
                                      "--override", "sample_rate=22050"])
    assert args.overrides == ["f0_method=harvest", "mcep_dim=24", "sample_rate=22050"]
    assert "--override is an old spelling of -o/--set" in capsys.readouterr().err
