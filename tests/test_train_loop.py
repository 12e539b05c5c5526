"""vc-train end to end on a synthetic dump: exact resume, learning, NaN stop, bundle, CLI, config."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from vc.config import CONFIG_VERSION, ConfigError, from_dict, load_config, save_config, to_dict
from vc.features import SpeakerStats
from vc.gan import CheckpointError, NonFiniteLossError
from vc.registry import VOICE, load_model_config
from vc.stargan_vc.bundle import BundleError, convert_mcep, load_generator, load_networks, resolve_config
from vc.stargan_vc.config import StarGANVCConfig
from vc.stargan_vc.task import StarGANVCTask
from vc.stargan_vc.train import train

from test_train_fixtures import make_dump, tiny_config

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dump(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    train_dir, stats = make_dump(root / "train", utts_per_speaker=4)
    dev_dir, _ = make_dump(root / "dev", utts_per_speaker=2, seed=1)
    return train_dir, stats, dev_dir


def _cfg(**sections) -> StarGANVCConfig:
    return from_dict(StarGANVCConfig, tiny_config(**sections))


def load_train_config(path) -> StarGANVCConfig:
    return load_model_config(path, VOICE)[1]


def _checkpoint_tensors(path: Path) -> dict[str, torch.Tensor]:
    state = torch.load(path, weights_only=True)
    out = {f"nets.{k}.{n}": t for k, sd in state["nets"].items() for n, t in sd.items()}
    for k, sd in state["optimizers"].items():
        for pid, st in sd["state"].items():
            out.update({f"opt.{k}.{pid}.{n}": t for n, t in st.items() if torch.is_tensor(t)})
    return out


@pytest.mark.parametrize("variant", ["paper", "voicing_wgan", "source_target"])
def test_resume_continues_bit_for_bit(dump, tmp_path, variant):
    feats, stats, _ = dump
    voicing = {"discriminator_voicing": True, "generator_voicing": True}
    extra = {"paper": {}, "voicing_wgan": {"net": voicing, "loss": {"adversarial": "wgan"}},
             "source_target": {"net": {**voicing, "conditioning": "source_target"}}}[variant]
    cfg = _cfg(trainer={"max_steps": 6, "checkpoint_every": 3, "lr_decay_start": 2}, **extra)
    train(cfg, feats, stats, tmp_path / "straight", device="cpu", progress=False)
    train(cfg, feats, stats, tmp_path / "resumed", device="cpu", until=3, progress=False)
    assert (tmp_path / "resumed/checkpoints/latest").read_text().strip() == "step_00000003.pt"
    train(cfg, feats, stats, tmp_path / "resumed", device="cpu", resume=True, progress=False)
    a = _checkpoint_tensors(tmp_path / "straight/checkpoints/step_00000006.pt")
    b = _checkpoint_tensors(tmp_path / "resumed/checkpoints/step_00000006.pt")
    assert a.keys() == b.keys() and any(k.startswith("opt.G") for k in a)
    for key in a:
        assert torch.equal(a[key], b[key]), key
    rows = [list(csv.DictReader(open(tmp_path / d / "logs/train.csv"))) for d in ("straight", "resumed")]
    assert rows[0] == rows[1] and len(rows[0]) == 6


def test_losses_fall_on_a_tiny_set(dump, tmp_path):
    feats, stats, _ = dump
    cfg = _cfg(trainer={"max_steps": 100, "log_every": 20, "checkpoint_every": 100},
               optim={"lr_g": 1e-3, "lr_d": 5e-4, "lr_c": 1e-3})
    train(cfg, feats, stats, tmp_path / "exp", device="cpu", progress=False)
    rows = list(csv.DictReader(open(tmp_path / "exp/logs/train.csv")))
    first, last = rows[0], rows[-1]
    # rows are means over 20 steps; the first row already includes 20 steps of learning
    assert float(last["C/cls"]) < 0.8 * float(first["C/cls"])
    assert float(last["C/acc"]) > 0.75
    assert float(last["G/cls"]) < 0.7 * float(first["G/cls"])
    assert float(last["G/cyc"]) < 0.85 * float(first["G/cyc"])


def test_nan_loss_stops_with_step_and_term(dump, tmp_path, monkeypatch):
    feats, stats, _ = dump
    original = StarGANVCTask.compute_losses

    def poisoned(self, phase, nets, batch, step):
        out = original(self, phase, nets, batch, step)
        if phase == "G" and step == 3:
            out.terms["cyc"] = out.terms["cyc"] * float("inf")
        return out

    monkeypatch.setattr(StarGANVCTask, "compute_losses", poisoned)
    cfg = _cfg(trainer={"max_steps": 6, "checkpoint_every": 2})
    with pytest.raises(NonFiniteLossError, match=r"step 3, phase 'G': cyc=inf.*step_00000002\.pt"):
        train(cfg, feats, stats, tmp_path / "exp", device="cpu", progress=False)
    assert (tmp_path / "exp/checkpoints/latest").read_text().strip() == "step_00000002.pt"


def test_cli_smoke_produces_a_loadable_bundle(dump, tmp_path, capsys):
    feats, stats, dev = dump
    conf = tmp_path / "train.yaml"
    conf.write_text(yaml.safe_dump(tiny_config(trainer={"sample_every": 2})))
    exp = tmp_path / "exp" / "smoke run"
    cmd = [sys.executable, "-m", "vc.cli.train", "--config", str(conf), "--feats", str(feats), "--stats", str(stats),
           "--exp", str(exp), "--dev-feats", str(dev), "--max-steps", "3", "--seed", "4", "--device", "cpu",
           "--no-progress"]
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stderr
    assert (exp / "checkpoints/latest").read_text().strip() == "step_00000003.pt"
    assert json.loads((exp / "speakers.json").read_text()) == ["spkA", "spkB", "spkC"]
    assert (exp / "stats.npz").read_bytes() == Path(stats).read_bytes()
    raw = yaml.safe_load((exp / "config.yaml").read_text())
    assert raw["model"] == "stargan_vc" and raw["config_version"] == CONFIG_VERSION
    saved = load_config(StarGANVCConfig, exp / "config.yaml")
    assert saved.net.num_speakers == 3 and saved.net.mcep_dim == 24 and saved.seed == 4
    assert saved.trainer.max_steps == 3 and saved.features["sample_rate"] == 16000 and saved.device == "cpu"
    assert sorted(p.name for p in (exp / "samples/step_00000002").glob("*.wav")) == ["spkA_000_to_spkB.wav"]
    header = next(csv.reader(open(exp / "logs/train.csv")))
    assert {"D/adv", "C/cls", "G/adv", "G/cls", "G/cyc", "G/id", "sample/acc_real", "sample/acc_converted"} <= set(header)
    torch.load(exp / "checkpoints/step_00000003.pt", weights_only=True)

    G, speakers, cfg, st = load_generator(exp, "cpu")
    assert speakers == ["spkA", "spkB", "spkC"] and not G.training
    mcep = torch.randn(53, 24).numpy() + st.mcep_mean[0]
    out = convert_mcep(G, mcep, 0, 2, st)
    assert out.shape == (53, 24)

    # no silent overwrite; --resume continues (in-process: same code path, no interpreter start-up)
    from vc.cli.train import main as train_main
    from vc.cli.assess import main as assess_main

    with pytest.raises(SystemExit) as stop:
        train_main(cmd[3:])
    assert stop.value.code == 1
    train_main(cmd[3:-5] + ["--max-steps", "4", "--device", "cpu", "--no-progress", "--resume"])
    assert (exp / "checkpoints/latest").read_text().strip() == "step_00000004.pt"

    capsys.readouterr()
    assess_main(["--exp", str(exp), "--feats", str(dev), "--device", "cpu", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert 0 <= result["acc_real"] <= 1 and 0 <= result["acc_converted"] <= 1 and result["segments"] > 0


def test_corrupt_checkpoint_and_changed_bundle(dump, tmp_path):
    feats, stats, _ = dump
    exp = tmp_path / "exp"
    train(_cfg(trainer={"max_steps": 2}), feats, stats, exp, device="cpu", progress=False)
    latest = exp / "checkpoints/step_00000002.pt"
    latest.write_bytes(latest.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="step_00000002.pt.*truncated, corrupt"):
        load_generator(exp)
    with pytest.raises(CheckpointError, match="step_00000002.pt"):
        train(_cfg(trainer={"max_steps": 4}), feats, stats, exp, device="cpu", resume=True, progress=False)
    changed = _cfg(trainer={"max_steps": 4}, net={"generator_norm": "instance"})
    with pytest.raises(BundleError, match="model or feature settings differ"):
        train(changed, feats, stats, exp, device="cpu", resume=True, progress=False)
    with pytest.raises(BundleError, match="missing"):
        load_networks(tmp_path / "nothing")


def test_config_round_trip_and_errors(dump, tmp_path):
    _, stats, _ = dump
    cfg = resolve_config(_cfg(loss={"adversarial": "wgan"}, optim={"n_critic": 5}), SpeakerStats.load(stats))
    save_config(cfg, tmp_path / "c.yaml")
    assert load_config(StarGANVCConfig, tmp_path / "c.yaml") == cfg
    assert to_dict(load_train_config(tmp_path / "c.yaml")) == to_dict(cfg)
    bad = tmp_path / "bad.yaml"
    bad.write_text("optim:\n  lr_gen: 0.1\n")
    with pytest.raises(ConfigError, match="lr_gen"):
        load_train_config(bad)
    for text, key in (("loss:\n  adversarial: vanilla\n", "loss.adversarial"), ("data:\n  pad_mode: zero\n", "data.pad_mode"),
                      ("optim:\n  n_critic: 0\n", "optim.n_critic"), ("loss:\n  lambda_cyc: -1\n", "loss.lambda_cyc"),
                      ("trainer:\n  max_steps: 0\n", "trainer.max_steps"), ("device: gpu\n", "device")):
        bad.write_text("model: stargan_vc\nconfig_version: 2\n" + text)
        with pytest.raises(ConfigError, match=key):
            load_train_config(bad)
    with pytest.raises(ConfigError, match="num_speakers is 5"):
        resolve_config(_cfg(net={"num_speakers": 5}), SpeakerStats.load(stats))


@pytest.mark.parametrize("name", ["train.yaml", "train_full.yaml"])
def test_demo_configs_are_valid(name):
    path = REPO / "egs/demo/conf" / name
    cfg = load_train_config(path)
    assert cfg.trainer.max_steps > 0 and cfg.model == "stargan_vc"


def test_training_without_aperiodicity_keeps_its_accuracies_and_skips_audio(tmp_path, caplog):
    """A dump made with vc-extract --no-aperiodicity trains; without --dev-feats its samples would
    need audio it cannot make: a warning, the held-out accuracies still, no crash."""
    feats, stats = make_dump(tmp_path / "lean", utts_per_speaker=3, aperiodicity=False)
    cfg = _cfg(trainer={"sample_every": 2, "max_steps": 2})
    with caplog.at_level("WARNING"):
        train(cfg, feats, stats, tmp_path / "exp", device="cpu", progress=False)
    assert "cannot be synthesized" in caplog.text
    assert not list((tmp_path / "exp" / "samples").rglob("*.wav"))
    header = next(csv.reader(open(tmp_path / "exp" / "logs" / "train.csv")))
    assert "sample/acc_real" in header

