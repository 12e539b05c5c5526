"""Issue 34, the input side: bounded memory (sample rates, durations), non-finite features and
statistics, one-line errors for broken bundle files, documented option ranges, workers capped at
the cores, empty data dirs and messages that name the right thing.

Where a check must happen before work is done, the work is replaced by a function that fails the
test when it is reached (``_forbid``), so the tests also pin down the order of the checks.
"""
from __future__ import annotations

import logging
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vc.audio import AudioError, load_audio
from vc.convert.converter import ConversionError, Converter, ConverterOptions
from vc.convert.synthetic import TINY_NET, random_bundle, speaker_waves, write_data_dir
from vc.data import DataDir, write_scp
from vc.errors import VCError
from vc.features import FeatureConfig, Features, SpeakerStats, StatsError

from test_train_fixtures import make_dump, tiny_config

SR = 16000
SPEAKERS = {"spkA": 110.0, "spkB": 180.0}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny bundle, a data dir of 4 short utterances, an empty data dir and a WAV whose header
    says 1 Hz."""
    root = tmp_path_factory.mktemp("reliability")
    bundle = random_bundle(root / "exp" / "tiny", speaker_waves(SPEAKERS, SR, utts=2, duration=0.5),
                           FeatureConfig(sample_rate=SR, mcep_dim=24), net=TINY_NET)
    write_data_dir(speaker_waves(SPEAKERS, SR, utts=2, duration=0.4, seed=7), SR, root / "wav", root / "data")
    (root / "empty").mkdir()
    (root / "empty" / "wav.scp").write_text("")
    (root / "empty" / "utt2spk").write_text("")
    one_hz = root / "one_hz.wav"  # 50 samples "at 1 Hz": 50 s, 800000 samples once at 16 kHz
    sf.write(str(one_hz), np.tile(speaker_waves(SPEAKERS, SR, utts=1)["spkA"][0], 2)[:50], 1, subtype="PCM_16")
    return {"root": root, "bundle": bundle, "data": root / "data", "empty": root / "empty",
            "wav": root / "wav" / "spkA_u0.wav", "one_hz": one_hz}


@pytest.fixture(scope="module")
def converter(setup) -> Converter:
    return Converter.from_bundle(setup["bundle"])


def _forbid(what: str):
    def fail(*args, **kwargs):
        raise AssertionError(f"{what} was reached; the input should have been refused before it")
    return fail


def _cli(main, args, caplog) -> int:
    caplog.clear()
    caplog.set_level("INFO")
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def convert_cli(args, caplog) -> int:
    from vc.cli.convert import main
    return _cli(main, args, caplog)


def _one_line_error(caplog) -> str:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors, caplog.text
    assert "Traceback" not in caplog.text and all(r.exc_info is None for r in errors)
    return errors[-1].getMessage()


# ============================================================ 1. memory bounded by the input checks
@pytest.mark.parametrize("rate", [16000, 1000, 384000, np.int64(22050), 44100.0, np.float32(8000)])
def test_usable_sample_rates_are_accepted(rate) -> None:
    from vc.audio import check_sample_rate

    assert check_sample_rate(rate) == int(rate) and isinstance(check_sample_rate(rate), int)


@pytest.mark.parametrize("rate, words", [
    (1, "1 Hz is outside the supported 1000..384000"), (999, "outside"), (384001, "outside"),
    (0, "outside"), (-16000, "outside"), (16000.5, "whole number"), (True, "bool"), (np.bool_(True), "whole number"),
    ("16000", "str"), (None, "NoneType"), (math.nan, "whole number"), (math.inf, "whole number"),
])
def test_unusable_sample_rates_are_a_clear_error(rate, words) -> None:
    from vc.audio import check_sample_rate

    with pytest.raises(AudioError, match="sample rate") as err:
        check_sample_rate(rate, "x.wav")
    assert isinstance(err.value, VCError) and str(err.value).startswith("x.wav: ") and words in str(err.value)


def test_feature_config_rate_is_bounded_by_the_same_range() -> None:
    from vc.config import ConfigError

    assert FeatureConfig(sample_rate=384000).sample_rate == 384000
    with pytest.raises(ConfigError, match="sample_rate must be at most 384000 Hz, got 500000"):
        FeatureConfig(sample_rate=500000)


def test_wav_header_of_1_hz_is_refused_before_the_samples_are_read(setup, monkeypatch) -> None:
    monkeypatch.setattr("vc.audio.io.sf.read", _forbid("reading the samples"))
    with pytest.raises(AudioError, match=r"one_hz.wav: sample rate 1 Hz is outside .*\(in its header\)"):
        load_audio(setup["one_hz"], SR)


def test_too_long_file_is_refused_from_its_header(setup, monkeypatch) -> None:
    monkeypatch.setattr("vc.audio.io.sf.read", _forbid("reading the samples"))
    with pytest.raises(AudioError, match=r"spkA_u0.wav: too long \(0.4 s > maximum 0.2 s\)"):
        load_audio(setup["wav"], SR, max_duration=0.2)


@pytest.mark.parametrize("rate", [1, True, "16000", None, math.nan, 16000.5, 10**9])
def test_converter_api_refuses_bad_sample_rates_before_any_work(converter, setup, monkeypatch, rate) -> None:
    wave, _ = sf.read(str(setup["wav"]))
    monkeypatch.setattr("vc.convert.converter.resample", _forbid("resampling"))
    monkeypatch.setattr("vc.convert.converter.analyze", _forbid("the analysis"))
    with pytest.raises(AudioError, match="<array>: sample rate"):
        converter.convert(wave, rate, "spkB")


def test_converter_max_duration_is_documented_bounded_and_overridable(converter, setup, monkeypatch) -> None:
    from vc.convert.converter import MAX_DURATION

    assert ConverterOptions().max_duration == MAX_DURATION == 300.0
    wave, _ = sf.read(str(setup["wav"]))  # 0.4 s
    short = Converter(converter.bundle, ConverterOptions(max_duration=0.3))
    with monkeypatch.context() as m:
        m.setattr("vc.convert.converter.analyze", _forbid("the analysis"))
        with pytest.raises(AudioError, match=r"too long \(0.4 s > maximum 0.3 s; .*--max-duration"):
            short.convert(wave, SR, "spkB", name="mine.wav")
        with pytest.raises(AudioError, match="too long"):
            short.load_audio(setup["wav"])
    out, sr = Converter(converter.bundle, ConverterOptions(max_duration=0)).convert(wave, SR, "spkB")  # 0: no limit
    assert sr == SR and len(out) == len(wave)
    for bad in (-1.0, math.nan, True, "long"):
        with pytest.raises(ConversionError, match="max_duration"):
            ConverterOptions(max_duration=bad)


def test_cli_max_duration_is_checked_before_the_model_loads(setup, tmp_path, monkeypatch, caplog) -> None:
    monkeypatch.setattr(Converter, "from_bundle", _forbid("loading the model"))
    code = convert_cli(["--model", setup["bundle"], "--src", setup["wav"], "--target", "spkB",
                        "--out", tmp_path / "o.wav", "--max-duration", "0.1"], caplog)
    assert code == 1 and "too long (0.4 s > maximum 0.1 s)" in _one_line_error(caplog)
    code = convert_cli(["--model", setup["bundle"], "--src", setup["one_hz"], "--target", "spkB",
                        "--out", tmp_path / "o.wav"], caplog)
    assert code == 1 and "sample rate 1 Hz is outside" in _one_line_error(caplog)
    assert not (tmp_path / "o.wav").exists()


def test_batch_lists_bad_rate_and_too_long_files_as_failed_and_carries_on(setup, tmp_path) -> None:
    from vc.convert.batch import run_batch

    wav_scp, utt2spk = dict(DataDir.load(setup["data"]).wav_scp), dict(DataDir.load(setup["data"]).utt2spk)
    long = tmp_path / "long.wav"
    sf.write(str(long), np.tile(sf.read(str(setup["wav"]))[0], 3), SR)  # 1.2 s
    wav_scp.update({"spkA_onehz": str(setup["one_hz"]), "spkA_long": str(long)})
    utt2spk.update({"spkA_onehz": "spkA", "spkA_long": "spkA"})
    DataDir(wav_scp, utt2spk).save(tmp_path / "data")
    result = run_batch(setup["bundle"], tmp_path / "data", tmp_path / "out", options=ConverterOptions(max_duration=1.0),
                       progress=False)
    failed = {utt: why for utt, _, why in result.failures}
    assert sorted(failed) == ["spkA_long", "spkA_onehz"]
    assert "sample rate 1 Hz is outside" in failed["spkA_onehz"] and "too long" in failed["spkA_long"]
    assert result.converted == 4  # every other utterance to its other speaker
    assert "spkA_onehz" in (tmp_path / "out" / "failed.tsv").read_text()


# ============================================================ 2. non-finite features and statistics
def _features(n: int = 50, mcep_dim: int = 24, **bad) -> Features:
    f0 = np.where(np.arange(n) % 5 < 3, 120.0, 0.0)
    feats = Features(f0=f0, mcep=np.random.default_rng(0).normal(size=(n, mcep_dim)), bap=np.full((n, 1), -20.0))
    for name, (frame, value) in bad.items():
        array = getattr(feats, name)
        array[frame] = value
    return feats


def _write_raw_features(path: Path, feats: Features, cfg: FeatureConfig) -> None:
    """An npz as an older (or another) writer could leave it, bypassing save_features' check."""
    np.savez(path, f0=feats.f0, mcep=feats.mcep, bap=feats.bap, settings=np.array(cfg.resolved().to_json()))


def test_features_report_what_is_not_finite() -> None:
    assert _features().nonfinite() is None
    assert _features(f0=(10, np.inf)).nonfinite() == "f0 (1 frame(s), first at frame 10)"
    assert _features(mcep=(3, np.nan)).nonfinite() == "mcep (1 frame(s), first at frame 3)"


def test_save_features_never_writes_nonfinite_features(tmp_path) -> None:
    from vc.features import FeatureFileError, save_features

    with pytest.raises(FeatureFileError, match=r"u1.npz: refusing to write non-finite features \(NaN/inf in mcep"):
        save_features(tmp_path / "u1.npz", _features(mcep=(3, np.nan)), FeatureConfig(mcep_dim=24))
    assert not list(tmp_path.iterdir())


def test_extraction_lists_an_utterance_with_nonfinite_features_as_failed(setup, tmp_path, monkeypatch) -> None:
    import vc.features.extract as extract

    real = extract.analyze

    def analyze(wave, cfg, speaker=None, **kw):
        feats = real(wave, cfg, speaker, **kw)
        if speaker == "spkB":
            feats.mcep[2, 5] = np.nan
        return feats

    monkeypatch.setattr(extract, "analyze", analyze)
    data = DataDir.load(setup["data"])
    summary = extract.extract_dir(data, tmp_path / "dump", FeatureConfig(sample_rate=SR, mcep_dim=24), nj=1,
                                  progress=False)
    assert sorted(summary.failed) == ["spkB_u0", "spkB_u1"] and summary.extracted == 2
    assert "non-finite features (NaN/inf in mcep" in summary.failed["spkB_u0"]
    assert not (tmp_path / "dump" / "spkB_u0.npz").exists()
    assert "spkB_u0\t" in (tmp_path / "dump" / "failed.txt").read_text()


def test_vc_stats_refuses_nonfinite_input_naming_every_file(tmp_path, caplog) -> None:
    from vc.cli.stats import main

    dump, _ = make_dump(tmp_path / "dump", utts_per_speaker=2)
    cfg = FeatureConfig(sample_rate=SR, mcep_dim=24)
    _write_raw_features(dump / "spkA_001.npz", _features(mcep=(4, np.nan)), cfg)
    _write_raw_features(dump / "spkB_000.npz", _features(f0=(10, np.inf)), cfg)
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(dump / "utt2spk", data / "utt2spk")
    write_scp(data / "wav.scp", {u: f"{u}.wav" for u in (dump / "utt2spk").read_text().split()[::2]})
    code = _cli(main, ["--data", data, "--feats", dump, "--out", tmp_path / "stats.npz", "--no-progress"], caplog)
    message = _one_line_error(caplog)
    assert code == 1 and "2 feature file(s) hold NaN/inf" in message
    assert "spkA_001.npz (mcep" in message and "spkB_000.npz (f0" in message
    assert not (tmp_path / "stats.npz").exists()


def _stats(**bad) -> SpeakerStats:
    stats = SpeakerStats(speakers=["spkA", "spkB"], lf0_mean=np.log([110.0, 180.0]), lf0_std=np.array([0.1, 0.2]),
                         mcep_mean=np.zeros((2, 24)), mcep_std=np.ones((2, 24)), num_frames=np.array([500, 500]),
                         num_voiced=np.array([300, 300]), config=FeatureConfig(sample_rate=SR, mcep_dim=24))
    for name, (index, value) in bad.items():
        getattr(stats, name)[index] = value
    return stats


@pytest.mark.parametrize("bad, words", [
    ({"lf0_mean": (1, np.inf)}, "speaker spkB: non-finite lf0_mean"),
    ({"mcep_std": ((0, 3), np.nan)}, "speaker spkA: non-finite mcep_std"),
    ({"lf0_std": (0, -0.1)}, "speaker spkA: negative standard deviation"),
])
def test_statistics_are_validated_when_loaded_naming_file_and_speaker(tmp_path, bad, words) -> None:
    _stats(**bad).save(tmp_path / "stats.npz")
    with pytest.raises(StatsError, match="stats.npz: unusable statistics") as err:
        SpeakerStats.load(tmp_path / "stats.npz")
    assert words in str(err.value)


def test_statistics_from_nonfinite_features_are_refused() -> None:
    from vc.features import StatsAccumulator

    acc = StatsAccumulator(FeatureConfig(sample_rate=SR, mcep_dim=24).resolved())
    with pytest.raises(StatsError, match=r"speaker spkA: features hold NaN/inf \(f0"):
        acc.add("spkA", _features(f0=(1, np.inf)))


def test_conversion_with_nonfinite_bundle_statistics_is_a_one_line_error(setup, tmp_path, caplog) -> None:
    bundle = tmp_path / "nan_stats"
    shutil.copytree(setup["bundle"], bundle)
    stats = SpeakerStats.load(bundle / "stats.npz")
    stats.mcep_mean[1, 0] = np.nan
    stats.save(bundle / "stats.npz")
    with pytest.raises(ConversionError, match=r"stats.npz: unusable statistics: speaker spkB: non-finite mcep_mean"):
        Converter.from_bundle(bundle)
    code = convert_cli(["--model", bundle, "--src", setup["wav"], "--target", "spkB", "--out", tmp_path / "o.wav"],
                       caplog)
    assert code == 1 and "speaker spkB: non-finite mcep_mean" in _one_line_error(caplog)


def test_training_refuses_inf_f0_and_nonfinite_statistics(tmp_path) -> None:
    from vc.config import from_dict
    from vc.stargan_vc.config import StarGANVCConfig
    from vc.stargan_vc.train import train
    from vc.voice.data import TrainDataError

    dump, stats_path = make_dump(tmp_path / "dump", utts_per_speaker=2)
    cfg = from_dict(StarGANVCConfig, tiny_config(trainer={"max_steps": 1}))
    # finite statistics, but one utterance's F0 holds inf: refused when the data is read
    feats = _features(n=60, f0=(7, np.inf))
    _write_raw_features(dump / "spkB_001.npz", feats, FeatureConfig(sample_rate=SR, mcep_dim=24))
    with pytest.raises(TrainDataError, match=r"spkB_001.npz: features of speaker spkB hold NaN/inf \(f0") as err:
        train(cfg, dump, stats_path, tmp_path / "exp", device="cpu", progress=False)
    assert "learning rate" not in str(err.value)
    # statistics computed from such features: refused when they are loaded, naming file and speaker
    bad = SpeakerStats.load(stats_path)
    bad.lf0_mean[1] = np.inf
    bad.save(tmp_path / "bad_stats.npz")
    with pytest.raises(StatsError, match=r"bad_stats.npz: unusable statistics: speaker spkB: non-finite lf0_mean"):
        train(cfg, dump, tmp_path / "bad_stats.npz", tmp_path / "exp2", device="cpu", progress=False)
    assert not (tmp_path / "exp2").exists()


# ============================================================ 3. tracebacks -> one-line errors
@pytest.mark.parametrize("content", [b"hello world\n", b"a", b"R", b"."], ids=["text", "a", "R", "dot"])
def test_checkpoint_that_unpickles_to_garbage_is_a_checkpoint_error(setup, tmp_path, caplog, content) -> None:
    from vc.gan.checkpoint import CheckpointError, load_checkpoint

    bundle = tmp_path / "bad"
    shutil.copytree(setup["bundle"], bundle)
    ckpt = next((bundle / "checkpoints").glob("step_*.pt"))
    ckpt.write_bytes(content)
    with pytest.raises(CheckpointError, match=f"{ckpt.name}: cannot load checkpoint"):
        load_checkpoint(ckpt)
    with pytest.raises(ConversionError, match=f"{ckpt.name}: cannot load checkpoint"):
        Converter.from_bundle(bundle)
    code = convert_cli(["--model", bundle, "--src", setup["wav"], "--target", "spkB", "--out", tmp_path / "o.wav"],
                       caplog)
    assert code == 1 and f"{ckpt.name}: cannot load checkpoint" in _one_line_error(caplog)


def test_resume_from_a_checkpoint_holding_text_is_a_one_line_error(tmp_path, caplog) -> None:
    import yaml

    from vc.cli.train import main

    dump, stats = make_dump(tmp_path / "dump", utts_per_speaker=2)
    conf = tmp_path / "train.yaml"
    conf.write_text(yaml.safe_dump(tiny_config(trainer={"max_steps": 2, "checkpoint_every": 2})))
    args = ["--config", conf, "--feats", dump, "--stats", stats, "--exp", tmp_path / "exp", "--device", "cpu",
            "--no-progress"]
    assert _cli(main, args, caplog) == 0
    ckpt = tmp_path / "exp" / "checkpoints" / "step_00000002.pt"
    for content in (b"some text\n", b"R"):
        ckpt.write_bytes(content)
        code = _cli(main, [*args, "--resume", "--max-steps", "4"], caplog)
        assert code == 1 and "step_00000002.pt: cannot load checkpoint" in _one_line_error(caplog)


@pytest.mark.parametrize("damage, words", [
    ("yaml", "config.yaml: not valid YAML (line 2"),
    ("no_stats", "stats.npz: no such statistics file"),
    ("truncated_stats", "stats.npz: not a readable statistics file"),
])
def test_broken_bundle_files_are_one_line_errors(setup, tmp_path, caplog, damage, words) -> None:
    bundle = tmp_path / damage
    shutil.copytree(setup["bundle"], bundle)
    if damage == "yaml":
        (bundle / "config.yaml").write_text("model: [stargan_vc\nnet: {")
    elif damage == "no_stats":
        (bundle / "stats.npz").unlink()
    else:
        (bundle / "stats.npz").write_bytes((setup["bundle"] / "stats.npz").read_bytes()[:700])
    with pytest.raises(ConversionError, match="cannot load the model") as err:
        Converter.from_bundle(bundle)
    assert words in str(err.value)
    code = convert_cli(["--model", bundle, "--src", setup["wav"], "--target", "spkB", "--out", tmp_path / "o.wav"],
                       caplog)
    assert code == 1 and words in _one_line_error(caplog)


# ============================================================ 4. documented ranges, checked first
def test_conversion_option_ranges() -> None:
    from vc.convert.converter import F0_SCALE_RANGE

    assert F0_SCALE_RANGE == (0.25, 4.0)
    for ok in (0.25, 1.0, 4.0):
        assert ConverterOptions(f0_scale=ok).f0_scale == ok
    for bad in (1e6, 0.001, math.inf, math.nan, 0.0, -1.0, True):
        with pytest.raises(ConversionError, match="f0_scale must lie in 0.25..4"):
            ConverterOptions(f0_scale=bad)
    assert ConverterOptions(out_sr=48000).out_sr == 48000
    for bad in (100, 16000.5, True, 10**7, "16000"):
        with pytest.raises(ConversionError, match="out_sr: sample rate"):
            ConverterOptions(out_sr=bad)


@pytest.mark.parametrize("option, words", [
    (["--f0-scale", "1e6"], "--f0-scale must lie in 0.25..4"),
    (["--f0-scale", "0.001"], "--f0-scale must lie in 0.25..4"),
    (["--f0-scale", "inf"], "--f0-scale must lie in 0.25..4"),
    (["--out-sr", "100"], "--out-sr: sample rate 100 Hz is outside the supported 1000..384000 Hz"),
    (["--max-duration", "-1"], "--max-duration must be >= 0"),
])
def test_cli_option_ranges_are_checked_before_the_model_loads(setup, tmp_path, monkeypatch, capsys, caplog,
                                                              option, words) -> None:
    monkeypatch.setattr(Converter, "from_bundle", _forbid("loading the model"))
    code = convert_cli(["--model", setup["bundle"], "--src", setup["wav"], "--target", "spkB",
                        "--out", tmp_path / "o.wav", *option], caplog)
    assert code == 2 and words in capsys.readouterr().err


def test_cap_jobs_limits_workers_to_the_usable_cores(monkeypatch, caplog) -> None:
    import vc.cli.common as common

    monkeypatch.setattr(common, "cpu_cores", lambda: 2)
    caplog.set_level("INFO")
    assert common.cap_jobs(2) == 2 and common.cap_jobs(1) == 1 and not caplog.records
    assert common.cap_jobs(16) == 2
    assert "--nj 16: this process may use 2 core(s); running 2 worker process(es)" in caplog.text


class _Stop(VCError):
    """Raised by a stand-in for the work, once the arguments it got are recorded."""


def _record_nj(seen: dict):
    def stand_in(*args, **kwargs):
        seen["nj"] = kwargs["nj"]
        raise _Stop("stopped after recording nj")
    return stand_in


@pytest.mark.parametrize("command", ["extract", "convert", "resynth", "evaluate"])
def test_every_worker_command_caps_nj(setup, tmp_path, monkeypatch, caplog, command) -> None:
    import importlib

    import vc.cli.common as common

    monkeypatch.setattr(common, "cpu_cores", lambda: 1)
    seen: dict = {}
    target, args = {
        "extract": ("vc.features.extract.extract_dir", ["--data", setup["data"], "--out", tmp_path / "dump"]),
        "convert": ("vc.convert.batch.run_batch", ["--model", setup["bundle"], "--data", setup["data"],
                                                   "--outdir", tmp_path / "out"]),
        "resynth": ("vc.vocoder.resynth.resynthesize_dump", ["--feats", tmp_path / "dump", "--out", tmp_path / "rs"]),
        "evaluate": ("vc.evaluate.pipeline.evaluate_manifests", ["--manifest", tmp_path / "manifest.tsv",
                                                                "--ref-data", setup["data"],
                                                                "--speaker-encoder", "none"]),
    }[command]
    (tmp_path / "manifest.tsv").write_text("")
    module, _, name = target.rpartition(".")
    monkeypatch.setattr(importlib.import_module(module), name, _record_nj(seen))
    main = importlib.import_module(f"vc.cli.{command}").main
    code = _cli(main, [*args, "--nj", "16"], caplog)
    assert code != 0 and seen == {"nj": 1}, caplog.text  # the stand-in stops every command
    assert "--nj 16: this process may use 1 core(s)" in caplog.text


# ============================================================ 5. empty input
def test_empty_data_dir_is_an_error(setup, tmp_path, monkeypatch, caplog) -> None:
    from vc.cli.extract import main as extract_main
    from vc.convert.batch import BatchError, run_batch
    from vc.features.extract import ExtractionError, extract_dir

    code = _cli(extract_main, ["--data", setup["empty"], "--out", tmp_path / "dump"], caplog)
    assert code == 1 and "empty: the data dir holds no utterances" in _one_line_error(caplog)
    with pytest.raises(ExtractionError, match="no utterances"):
        extract_dir(DataDir.load(setup["empty"]), tmp_path / "dump", FeatureConfig(), progress=False)
    with pytest.raises(BatchError, match="no utterances"):
        run_batch(setup["bundle"], setup["empty"], tmp_path / "out", progress=False)
    monkeypatch.setattr(Converter, "from_bundle", _forbid("loading the model"))
    code = convert_cli(["--model", setup["bundle"], "--data", setup["empty"], "--outdir", tmp_path / "out"], caplog)
    assert code == 1 and "empty: the data dir holds no utterances" in _one_line_error(caplog)


# ============================================================ 6. messages
def test_messages_name_the_right_thing(setup, tmp_path, monkeypatch, caplog) -> None:
    code = convert_cli(["--model", setup["bundle"], "--src", setup["root"] / "wav", "--target", "spkB"], caplog)
    assert code == 1 and "wav: is a directory; --src takes one audio file" in _one_line_error(caplog)
    code = convert_cli(["--model", setup["wav"], "--src", setup["wav"], "--target", "spkB",
                        "--out", tmp_path / "o.wav"], caplog)
    assert code == 1 and "spkA_u0.wav (from --model): is a file, not a model folder" in _one_line_error(caplog)
    with pytest.raises(ConversionError, match="spkA_u0.wav: is a file, not a model folder"):
        Converter.from_bundle(setup["wav"])
    # inputs are checked before the model loads: an unknown target, an unreadable input
    monkeypatch.setattr(Converter, "from_bundle", _forbid("loading the model"))
    code = convert_cli(["--model", setup["bundle"], "--src", setup["wav"], "--target", "p225",
                        "--out", tmp_path / "o.wav"], caplog)
    assert code == 1 and "unknown speaker 'p225'; the model tiny knows: spkA, spkB" in _one_line_error(caplog)
    (tmp_path / "bad.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEgarbage")
    code = convert_cli(["--model", setup["bundle"], "--src", tmp_path / "bad.wav", "--target", "spkB",
                        "--out", tmp_path / "o.wav"], caplog)
    assert code == 1 and "bad.wav: unreadable audio" in _one_line_error(caplog)
    code = convert_cli(["--model", setup["bundle"], "--data", setup["data"], "--targets", "spkB,p225",
                        "--outdir", tmp_path / "out"], caplog)
    assert code == 1 and "unknown target speaker(s) p225" in _one_line_error(caplog)


def test_scaled_down_peak_warning_names_the_file(converter, setup, monkeypatch, caplog) -> None:
    wave, _ = sf.read(str(setup["wav"]))
    monkeypatch.setattr("vc.convert.converter.synthesize",
                        lambda f0, mcep, bap, cfg: 1.14 * np.sin(np.arange(len(f0) * 80) / 5.0))
    caplog.set_level("WARNING")
    out, _ = converter.convert(wave, SR, "spkB", name="/data/in/utt7.wav")
    assert np.abs(out).max() <= 0.99
    assert "/data/in/utt7.wav -> spkB: converted audio peaks at 1.14 of full scale" in caplog.text


def test_extract_failure_message_names_failed_txt(setup, tmp_path, caplog) -> None:
    from vc.cli.extract import main

    data = DataDir.load(setup["data"])
    (tmp_path / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEgarbage")
    DataDir({**data.wav_scp, "spkA_broken": str(tmp_path / "broken.wav")},
            {**data.utt2spk, "spkA_broken": "spkA"}).save(tmp_path / "data")
    code = _cli(main, ["--data", tmp_path / "data", "--out", tmp_path / "dump", "--no-progress",
                       "--max-fail-fraction", "0.1", "-o", "mcep_dim=24"], caplog)
    assert code == 1
    failed_txt = str(tmp_path / "dump" / "failed.txt")
    assert f"failed utterances (all listed in {failed_txt})" in caplog.text
    assert f"the reasons are in {failed_txt}" in _one_line_error(caplog)
