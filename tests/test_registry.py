"""The registry, the one config vocabulary, the seed rule and the CLI conventions every model shares."""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from vc import registry
from vc.cli.common import add_override_option, add_verbose_option, positive_int, run_command
from vc.config import CONFIG_VERSION, ConfigError, move_key
from vc.errors import VCError
from vc.gan.seeds import AUGMENT, PROCESS, RANK_STRIDE, stream_seed

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("entry", registry.entries(), ids=lambda e: e.name)
def test_every_entry_resolves_and_its_default_config_round_trips(entry):
    for part in ("config", "migrate", "train", "load_bundle", "task", "translate", "evaluate", "add_cli_options"):
        if getattr(entry, part):
            assert entry.resolve(part) is not None
    got, cfg = registry.load_model_config(None, entry.family, default_model=entry.name)
    assert got is entry and cfg.model == entry.name and cfg.config_version == CONFIG_VERSION
    # the sections of the one vocabulary, in every model
    for section in ("net", "data", "optim", "loss", "trainer"):
        assert hasattr(cfg, section), (entry.name, section)
    assert hasattr(cfg.data, "batch_size") and hasattr(cfg.loss, "lambda_cyc") and hasattr(cfg.optim, "betas")


def test_a_config_names_its_model_and_unknown_or_foreign_models_are_refused(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: stargan_v2\nconfig_version: 2\n")
    entry, _ = registry.load_model_config(cfg, registry.IMAGE)
    assert entry.name == "stargan_v2"
    with pytest.raises(ConfigError, match="unknown voice model 'stargan_v2'; known: stargan_vc"):
        registry.load_model_config(cfg, registry.VOICE)
    cfg.write_text("model: nosuch\nconfig_version: 2\n")
    with pytest.raises(ConfigError, match="unknown image model 'nosuch'"):
        registry.load_model_config(cfg, registry.IMAGE)
    cfg.write_text("model: stargan\nconfig_version: 9\n")
    with pytest.raises(ConfigError, match="newer than this toolkit"):
        registry.load_model_config(cfg, registry.IMAGE)


def test_config_file_errors_are_one_line_config_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: not valid YAML \(line"):
        registry.load_model_config(bad, registry.VOICE)
    bad.write_text("- a list\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        registry.load_model_config(bad, registry.VOICE)
    with pytest.raises(ConfigError, match="config file not found"):
        registry.load_model_config(tmp_path / "missing.yaml", registry.VOICE)


@pytest.mark.parametrize("family,old,new", [
    ("voice", "schedule.max_steps", "trainer.max_steps"),
    ("voice", "loss.lambda_rec", "loss.lambda_cyc"),
    ("image", "optim.batch_size", "data.batch_size"),
    ("image", "loss.lambda_rec", "loss.lambda_cyc"),
])
def test_an_override_in_the_old_layout_names_the_new_key(family, old, new):
    with pytest.raises(ConfigError, match=f"-o {old}: the option is {new} in this config layout"):
        registry.load_model_config(None, family, {old: 3})


def test_override_of_a_new_key_wins_over_the_file(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: stargan_vc\nconfig_version: 2\ntrainer: {max_steps: 7}\n")
    _, c = registry.load_model_config(cfg, registry.VOICE, {"trainer.max_steps": 11, "loss.lambda_cyc": 3})
    assert c.trainer.max_steps == 11 and c.loss.lambda_cyc == 3.0


def test_move_key_moves_once_and_refuses_both_spellings():
    data = {"loss": {"lambda_rec": 4}}
    move_key(data, "loss.lambda_rec", "loss.lambda_cyc")
    assert data == {"loss": {"lambda_cyc": 4}}
    with pytest.raises(ConfigError, match="both loss.lambda_rec"):
        move_key({"loss": {"lambda_rec": 1, "lambda_cyc": 2}}, "loss.lambda_rec", "loss.lambda_cyc")


def test_stream_seeds_keep_one_process_runs_and_part_ranks_and_streams():
    assert stream_seed(5, PROCESS, 0) == 5 and stream_seed(5, AUGMENT, 0) == 5 * 7919
    seeds = {stream_seed(5, s, r) for s in (PROCESS, AUGMENT) for r in range(64)}
    assert len(seeds) == 128
    # NumPy's legacy seeding reduces modulo 2**32: ranks must stay apart there too
    assert len({stream_seed(5, PROCESS, r) % 2**32 for r in range(64)}) == 64
    assert RANK_STRIDE < 2**32
    with pytest.raises(ValueError):
        stream_seed(-1)


def _toy(argv, body):
    p = argparse.ArgumentParser(prog="toy")
    add_override_option(p, old=("--override",))
    add_verbose_option(p)
    p.add_argument("--n", type=positive_int, default=1)
    return run_command(p, body, argv)


def test_run_command_turns_user_errors_into_one_line_and_exit_1(caplog):
    def body(args):
        raise ConfigError("conf.yaml: loss.lambda_cyc must be >= 0")

    with pytest.raises(SystemExit) as exc:
        _toy([], body)
    assert exc.value.code == 1
    assert "loss.lambda_cyc must be >= 0" in caplog.text and "Traceback" not in caplog.text


def test_run_command_ctrl_c_exits_130_and_other_bugs_propagate():
    def interrupted(args):
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as exc:
        _toy([], interrupted)
    assert exc.value.code == 130

    def bug(args):
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):  # a bug in the toolkit is not dressed up as a user error
        _toy([], bug)


def test_override_spellings_and_positive_counts(capsys):
    got = _toy(["-o", "a=1", "--set", "b=2", "--override", "c=3"], lambda a: a.overrides)
    assert got == ["a=1", "b=2", "c=3"]
    assert "--override is an old spelling of -o/--set" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        _toy(["--n", "0"], lambda a: None)
    assert exc.value.code == 2 and "argument --n: must be >= 1, got 0" in capsys.readouterr().err


def test_every_user_error_class_is_a_vcerror():
    import vc.audio.checks, vc.convert.batch, vc.convert.converter, vc.data.tables, vc.features.stats  # noqa: E401
    import vc.gan.checkpoint, vc.gan.trainer, vc.voice.bundle  # noqa: E401

    for cls in (vc.audio.checks.AudioError, vc.convert.batch.BatchError, vc.convert.converter.ConversionError,
                vc.data.tables.DataDirError, vc.features.stats.StatsError, vc.gan.checkpoint.CheckpointError,
                vc.gan.trainer.NonFiniteLossError, vc.voice.bundle.BundleError, ConfigError):
        assert issubclass(cls, VCError), cls


@pytest.mark.parametrize("command,models", [
    ("vc.cli.train", ["stargan_vc"]),
    ("vc.cli.img_train", ["stargan", "stargan_v2"]),
    ("vc.cli.img_translate", ["stargan", "stargan_v2"]),
    ("vc.cli.img_evaluate", ["stargan", "stargan_v2"]),
])
def test_every_front_end_help_lists_its_models(command, models):
    out = subprocess.run([sys.executable, "-m", command, "--help"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    for name in models:
        assert name in out.stdout


def test_no_front_end_sniffs_a_config_or_argv():
    text = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "vc").rglob("*.py"))
    assert "wants_v2" not in text and "config_model(" not in text
