"""vc-convert: one-file conversion, batch conversion (resume, shards, failures) and its errors."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vc.cli.convert import main
from vc.convert.batch import BatchError, run_batch
from vc.convert.discovery import MODEL_ENV
from vc.convert.manifest import read_manifest
from vc.convert.synthetic import TINY_NET, random_bundle, speaker_waves, write_data_dir
from vc.data import DataDir
from vc.features import FeatureConfig

SR = 16000
SPEAKERS = {"spkA": 110.0, "spkB": 160.0, "spkC": 220.0}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny bundle under <root>/exp/tiny and a data dir of two short utterances per speaker."""
    root = tmp_path_factory.mktemp("cli")
    waves = speaker_waves(SPEAKERS, SR, utts=2, duration=0.5)
    bundle = random_bundle(root / "exp" / "tiny", waves, FeatureConfig(sample_rate=SR, mcep_dim=24), net=TINY_NET)
    # a space in the path, as data dirs allow
    write_data_dir(speaker_waves(SPEAKERS, SR, utts=2, duration=0.4, seed=7), SR, root / "wav dir", root / "data")
    return {"root": root, "bundle": bundle, "data": root / "data", "wav": root / "wav dir" / "spkA_u0.wav"}


def run_cli(args: list[str], caplog: pytest.LogCaptureFixture) -> int:
    caplog.clear()
    caplog.set_level("INFO")
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


# ---------------------------------------------------------------------------- one file
def test_one_file_default_output_in_cwd_from_newest_exp_bundle(setup, tmp_path, monkeypatch, caplog) -> None:
    monkeypatch.delenv(MODEL_ENV, raising=False)
    monkeypatch.chdir(setup["root"])  # ./exp/tiny is the only bundle
    out = setup["root"] / "spkA_u0_to_spkC.wav"
    out.unlink(missing_ok=True)
    assert run_cli(["--src", setup["wav"], "--target", "spkC"], caplog) == 0
    assert "newest bundle" in caplog.text and "tiny" in caplog.text
    data, sr = sf.read(str(out))
    assert sr == SR and len(data) == sf.info(str(setup["wav"])).frames and np.isfinite(data).all()
    # an existing output is not replaced without --overwrite
    assert run_cli(["--src", setup["wav"], "--target", "spkC"], caplog) == 1
    assert "already exists" in caplog.text and "--overwrite" in caplog.text
    assert run_cli(["--src", setup["wav"], "--target", "spkC", "--overwrite", "--out-sr", "8000"], caplog) == 0
    assert sf.info(str(out)).samplerate == 8000
    out.unlink()


def test_unknown_target_lists_the_speakers(setup, tmp_path, caplog) -> None:
    code = run_cli(["--src", setup["wav"], "--target", "p225", "--model", setup["bundle"],
                    "--out", tmp_path / "x.wav"], caplog)
    assert code == 1 and "p225" in caplog.text and "spkA, spkB, spkC" in caplog.text
    assert not (tmp_path / "x.wav").exists()


def test_missing_model_says_how_to_train(setup, tmp_path, monkeypatch, caplog) -> None:
    monkeypatch.delenv(MODEL_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert run_cli(["--src", setup["wav"], "--target", "spkB"], caplog) == 1
    assert "vc-train" in caplog.text and "make demo" in caplog.text and "--model" in caplog.text


def test_unreadable_or_missing_input_is_named(setup, tmp_path, caplog) -> None:
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00not really a wave file")
    assert run_cli(["--src", bad, "--target", "spkB", "--model", setup["bundle"], "--out", tmp_path / "o.wav"],
                   caplog) == 1
    assert str(bad) in caplog.text and "unreadable" in caplog.text
    assert run_cli(["--src", tmp_path / "nope.wav", "--target", "spkB", "--model", setup["bundle"]], caplog) == 1
    assert "nope.wav: input file not found" in caplog.text


def test_output_may_never_be_the_input(setup, tmp_path, caplog) -> None:
    src = tmp_path / "mine.wav"
    shutil.copy(setup["wav"], src)
    before = src.read_bytes()
    for out in (src, tmp_path / "." / "mine.wav"):
        code = run_cli(["--src", src, "--target", "spkB", "--model", setup["bundle"], "--out", out, "--overwrite"],
                       caplog)
        assert code == 1 and "overwrite the input" in caplog.text
    assert src.read_bytes() == before


def test_argument_errors(setup, caplog) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--target", "spkA"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit):
        main(["--data", str(setup["data"]), "--outdir", "x", "--num-shards", "2"])


# ---------------------------------------------------------------------------- batch
def expected_rows(targets=("spkA", "spkB", "spkC")) -> list[tuple[str, str, str]]:
    return sorted((f"{s}_u{i}", s, t) for s in SPEAKERS for i in range(2) for t in targets if t != s)


def test_batch_converts_every_utterance_to_every_other_target_and_resumes(setup, tmp_path, caplog) -> None:
    out = tmp_path / "out"
    args = ["--model", setup["bundle"], "--data", setup["data"], "--targets", "all", "--outdir", out, "--no-progress"]
    assert run_cli(args, caplog) == 0
    manifest = (out / "manifest.tsv").read_bytes()
    rows = read_manifest(out / "manifest.tsv")
    assert [(r.utt, r.src_spk, r.tgt_spk) for r in rows] == expected_rows()
    assert all(Path(r.path) == out / "wav" / r.tgt_spk / f"{r.utt}_to_{r.tgt_spk}.wav" for r in rows)
    for r in rows:
        info = sf.info(r.path)
        assert info.frames == sf.info(str(setup["data"].parent / "wav dir" / f"{r.utt}.wav")).frames
    assert not (out / "failed.tsv").exists()

    # an interrupted run: some outputs gone, one damaged, the manifest lost
    gone = [rows[0].path, rows[5].path]
    for p in gone:
        Path(p).unlink()
    Path(rows[3].path).write_bytes(b"RIFF")
    (out / "manifest.tsv").unlink()
    mtime = Path(rows[1].path).stat().st_mtime_ns
    result = run_batch(setup["bundle"], setup["data"], out, progress=False)
    assert (result.converted, result.skipped) == (3, len(rows) - 3)
    assert (out / "manifest.tsv").read_bytes() == manifest
    assert Path(rows[1].path).stat().st_mtime_ns == mtime  # finished files are not redone


def test_batch_with_worker_processes_equals_one_process(setup, tmp_path) -> None:
    one = run_batch(setup["bundle"], setup["data"], tmp_path / "one", targets="spkA,spkC", progress=False)
    three = run_batch(setup["bundle"], setup["data"], tmp_path / "three", targets="spkA,spkC", nj=3, progress=False)
    assert one.converted == three.converted == len(expected_rows(("spkA", "spkC"))) and not three.failures
    assert (tmp_path / "one" / "manifest.tsv").read_bytes() == (tmp_path / "three" / "manifest.tsv").read_bytes()
    for r in read_manifest(tmp_path / "one" / "manifest.tsv"):  # same samples, whichever process made them
        assert Path(r.path).read_bytes() == (tmp_path / "three" / Path(r.path).relative_to(tmp_path / "one")).read_bytes()


def test_batch_refuses_to_mix_settings_in_one_outdir(setup, tmp_path) -> None:
    out = tmp_path / "out"
    run_batch(setup["bundle"], setup["data"], out, targets="spkA", progress=False)
    from vc.convert.converter import ConverterOptions

    with pytest.raises(BatchError, match="f0_scale"):
        run_batch(setup["bundle"], setup["data"], out, targets="spkA", options=ConverterOptions(f0_scale=2.0),
                  progress=False)
    with pytest.raises(BatchError, match="unknown target.*nobody.*spkA, spkB, spkC"):
        run_batch(setup["bundle"], setup["data"], out, targets="spkA,nobody", progress=False)
    # --overwrite redoes this run's outputs with the new settings, and later runs resume with them
    redone = run_batch(setup["bundle"], setup["data"], out, targets="spkA", options=ConverterOptions(f0_scale=2.0),
                       overwrite=True, progress=False)
    assert redone.converted == 4 and redone.skipped == 0
    again = run_batch(setup["bundle"], setup["data"], out, targets="spkA", options=ConverterOptions(f0_scale=2.0),
                      progress=False)
    assert again.converted == 0 and again.skipped == 4


def test_shards_union_equals_the_whole_run_and_merge(setup, tmp_path, caplog) -> None:
    whole = tmp_path / "whole"
    run_batch(setup["bundle"], setup["data"], whole, targets="spkB,spkC", progress=False)
    sharded = tmp_path / "sharded"
    for i in (1, 2, 3):
        run_batch(setup["bundle"], setup["data"], sharded, targets="spkB,spkC", num_shards=3, shard=i,
                  progress=False)
    union = sorted(line for i in (1, 2, 3)
                   for line in (sharded / f"manifest.{i}.tsv").read_text().splitlines()[1:])
    assert union == (whole / "manifest.tsv").read_text().splitlines()[1:]
    base = ["--model", setup["bundle"], "--data", setup["data"], "--targets", "spkB,spkC", "--outdir", sharded]
    # a lost shard: --merge names what is missing; rerunning that shard fixes it
    lost = read_manifest(sharded / "manifest.2.tsv")
    for r in lost:
        Path(r.path).unlink()
    assert run_cli(base + ["--merge"], caplog) == 1 and "unfinished shard" in caplog.text
    assert run_cli(base + ["--num-shards", "3", "--shard", "2", "--no-progress"], caplog) == 0
    assert run_cli(base + ["--merge"], caplog) == 0
    assert (sharded / "manifest.tsv").read_bytes() == (whole / "manifest.tsv").read_bytes()


def test_batch_failures_are_listed_and_exit_nonzero(setup, tmp_path) -> None:
    data = DataDir.load(setup["data"])
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not audio")
    data.wav_scp["spkB_u1"] = str(broken)
    data.save(tmp_path / "data")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "vc.cli.convert", "--model", str(setup["bundle"]), "--data", str(tmp_path / "data"),
           "--targets", "spkA,spkC", "--outdir", str(out), "--nj", "2", "--no-progress"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 1, res.stderr
    failed = (out / "failed.tsv").read_text().splitlines()
    assert failed[0] == "utt\ttgt_spk\treason"
    assert [line.split("\t")[:2] for line in failed[1:]] == [["spkB_u1", "spkA"], ["spkB_u1", "spkC"]]
    assert str(broken) in failed[1] and "unreadable" in failed[1]
    rows = read_manifest(out / "manifest.tsv")
    assert len(rows) == len(expected_rows(("spkA", "spkC"))) - 2
    assert "2 conversion(s) failed" in res.stderr


def test_batch_killed_midway_resumes_to_the_same_result(setup, tmp_path) -> None:
    """A real SIGKILL in the middle of a batch: what is on disk is complete, and a rerun finishes
    the job with the manifest and audio of an uninterrupted run."""
    write_data_dir(speaker_waves(SPEAKERS, SR, utts=8, duration=1.0, seed=11), SR, tmp_path / "wav", tmp_path / "data",
                   utt="{spk}_k{i}")
    whole = run_batch(setup["bundle"], tmp_path / "data", tmp_path / "whole", progress=False)
    assert whole.converted == 48 and not whole.failures

    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "vc.cli.convert", "--model", str(setup["bundle"]), "--data", str(tmp_path / "data"),
           "--targets", "all", "--outdir", str(out), "--nj", "1", "--no-progress"]

    def outputs() -> list[Path]:  # not the hidden temp file of a write in progress
        return sorted(p for p in out.glob("wav/*/*.wav") if not p.name.startswith("."))

    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while proc.poll() is None and len(outputs()) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    finished = outputs()
    assert 0 < len(finished) < 48, "the run was not interrupted midway"
    assert not (out / "manifest.tsv").exists()
    for path in finished:  # every file left is a whole conversion, never a truncated one
        utt = path.stem.split("_to_")[0]
        assert sf.info(str(path)).frames == sf.info(str(tmp_path / "wav" / f"{utt}.wav")).frames

    # the killed process may have left its hidden temp file; one an hour old is surely stale
    (out / "wav" / "spkA").mkdir(parents=True, exist_ok=True)
    (out / "wav" / "spkA" / ".spkB_k0_to_spkA.q1w2e3r4.tmp.wav").write_bytes(b"RIFF")
    for tmp in out.glob("wav/*/.*.tmp*"):
        os.utime(tmp, (time.time() - 3600, time.time() - 3600))
    resumed = run_batch(setup["bundle"], tmp_path / "data", out, progress=False)
    assert resumed.converted + resumed.skipped == 48 and resumed.skipped >= len(finished)
    assert not list(out.glob("wav/*/.*"))  # the rerun cleared the stale temp files
    assert (out / "manifest.tsv").read_bytes() == (tmp_path / "whole" / "manifest.tsv").read_bytes()
    for row in read_manifest(out / "manifest.tsv"):
        ref = tmp_path / "whole" / Path(row.path).relative_to(out)
        np.testing.assert_array_equal(sf.read(row.path)[0], sf.read(str(ref))[0])


def test_pause_rule_option_reaches_the_converter_and_is_checked(setup, tmp_path, caplog) -> None:
    from vc.cli.convert import build_parser, converter_options

    args = build_parser().parse_args(["--src", "a.wav", "--target", "spkA", "--pause-db", "0"])
    assert converter_options(args).pause_db == 0.0
    assert converter_options(build_parser().parse_args(["--src", "a.wav", "--target", "spkA"])).pause_db == 26.0
    assert run_cli(["--src", setup["wav"], "--target", "spkB", "--model", setup["bundle"], "--pause-db", "-3",
                    "--out", tmp_path / "x.wav"], caplog) == 2
    out = tmp_path / "off"
    assert run_cli(["--model", setup["bundle"], "--data", setup["data"], "--targets", "spkA", "--outdir", out,
                    "--pause-db", "0", "--no-progress"], caplog) == 0
    assert json.loads((out / "convert.json").read_text())["pause_db"] == 0.0
