"""vc-evaluate end to end on a tiny synthetic parallel corpus (MFCC speaker encoder: no model)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evaluate_corpus import make_conversions, make_corpus
from vc.cli.evaluate import main
from vc.evaluate.report import SCHEMA
from vc.evaluate.settings import feature_config_from_model
from vc.features import FeatureConfig


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("evalcorpus")
    ref = make_corpus(root, text_style="messy")
    good = make_conversions(root, "good", quality=0.0)
    bad = make_conversions(root, "bad", quality=0.2, seed=3)
    return root, ref, good, bad


def run(args: list[str], tmp_path: Path, *, encoder: str = "mfcc") -> tuple[int, dict]:
    out = tmp_path / "scores.json"
    rc = main([*args, "--out", str(out), "--speaker-encoder", encoder, "--cache-dir", str(tmp_path / "cache"),
               "--no-progress"])
    return rc, json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}


def test_compares_systems_with_the_no_conversion_floor(corpus, tmp_path, capsys):
    root, ref, good, bad = corpus
    rc, report = run(["--manifest", str(good), "--label", "good", "--manifest", str(bad), "--label", "bad",
                      "--ref-data", str(ref)], tmp_path)
    assert rc == 0
    assert report["schema"] == SCHEMA and report["systems"] == ["good", "bad", "none"]
    assert set(report) >= {"metrics", "settings", "inputs", "speaker_encoder", "overall", "pairs", "utterances"}
    assert "MSD [dB]" in report["metrics"]["msd"]
    overall = {g["system"]: g for g in report["overall"]}
    for g in overall.values():
        assert g["n"] == 4 and g["n_failed"] == 0 and g["n_parallel"] == 4
        for key in ("mcd_db", "msd_db", "f0_rmse_cents", "f0_corr", "vuv_error", "spk_cos", "spk_acc"):
            assert isinstance(g[key], float), key
    # a good conversion beats a bad one beats no conversion
    assert overall["good"]["mcd_db"] < overall["bad"]["mcd_db"] < overall["none"]["mcd_db"]
    assert overall["good"]["f0_rmse_cents"] < 100
    assert overall["bad"]["f0_rmse_cents"] == pytest.approx(1200 * np.log2(1.2), abs=40)
    assert overall["none"]["f0_rmse_cents"] > 700  # spkA and spkB are ~10 semitones apart
    assert overall["good"]["spk_acc"] == 1.0 and overall["none"]["spk_acc"] == 0.0
    assert {(p["system"], p["src_spk"], p["tgt_spk"]) for p in report["pairs"]} == {
        (s, a, b) for s in ("good", "bad", "none") for a, b in (("spkA", "spkB"), ("spkB", "spkA"))}
    utts = report["utterances"]
    assert len(utts) == 12  # 8 converted + 4 floors (computed once for both manifests)
    assert all(u["match"] == "text" and u["ref_utt"] == f"{u['tgt_spk']}_{u['utt'].split('_')[1]}" for u in utts)
    # the printed table: one row per (pair, system), ALL rows, and the stated variants
    table = capsys.readouterr().out
    assert "MCD[dB]" in table and "c1-c35" in table and "c0 excluded" in table and "CRUDE" in table
    assert sum(line.startswith("ALL") for line in table.splitlines()) == 1
    rows = [line.split() for line in table.splitlines()]
    assert sum("none" in r[:2] for r in rows) == 3  # two pairs + ALL


def test_failures_are_reported_and_the_rest_scored(corpus, tmp_path):
    root, ref, good, _ = corpus
    broken_dir = tmp_path / "broken"
    broken_dir.mkdir()
    lines = good.read_text(encoding="utf-8").splitlines()
    utt, src, tgt, _ = lines[1].split("\t")
    (broken_dir / "corrupt.wav").write_bytes(b"RIFF....not audio")
    rows = [lines[0], "\t".join([utt, src, tgt, "corrupt.wav"])] + [
        "\t".join(line.split("\t")[:3] + [str((good.parent / line.split("\t")[3]).resolve())]) for line in lines[2:]]
    manifest = broken_dir / "manifest.tsv"
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    # the rows after the first point into another folder: accepted only when asked for
    rc, report = run(["--manifest", str(manifest), "--ref-data", str(ref), "--allow-outside-paths"], tmp_path)
    assert rc == 1
    failed = [u for u in report["utterances"] if u["error"]]
    assert len(failed) == 1 and "corrupt.wav" in failed[0]["error"]
    overall = {g["system"]: g for g in report["overall"]}
    assert overall["broken"]["n_failed"] == 1 and overall["broken"]["n_parallel"] == 3
    assert report["systems"] == ["broken", "none"]  # default label: the manifest's folder name


def test_non_parallel_items_get_speaker_metrics_only(corpus, tmp_path):
    root, _, good, _ = corpus
    # reference data where every sentence has a different transcript: nothing is parallel
    from vc.data import DataDir

    ref = DataDir.load(corpus[1])
    ref.text = {u: f"sentence {i}" for i, u in enumerate(ref.utts)}
    ref_dir = tmp_path / "ref_nonparallel"
    DataDir(wav_scp=ref.wav_scp, utt2spk=ref.utt2spk, text=ref.text).save(ref_dir)
    rc, report = run(["--manifest", str(good), "--ref-data", str(ref_dir)], tmp_path)
    assert rc == 0
    for u in report["utterances"]:
        assert u["match"] == "none" and u["mcd_db"] is None and u["f0_rmse_cents"] is None
        assert isinstance(u["spk_cos"], float) and u["spk_pred"] in ("spkA", "spkB")
    assert any("MCD and F0 metrics are skipped" in w for w in report["warnings"])


def test_speaker_metrics_unavailable_without_resemblyzer(corpus, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "resemblyzer", None)  # makes `import resemblyzer` fail
    _, ref, good, _ = corpus
    rc, report = run(["--manifest", str(good), "--ref-data", str(ref)], tmp_path, encoder="resemblyzer")
    assert rc == 0
    assert report["speaker_encoder"]["available"] is False
    assert "pip install" in report["speaker_encoder"]["reason"]
    assert "unavailable" in report["metrics"]["speaker"]
    assert all(u["spk_cos"] is None and u["spk_pred"] is None for u in report["utterances"])
    assert all(u["mcd_db"] is not None for u in report["utterances"])  # the rest is unaffected


def test_reference_analyses_are_cached(corpus, tmp_path):
    _, ref, good, _ = corpus
    rc1, first = run(["--manifest", str(good), "--ref-data", str(ref)], tmp_path)
    entries = sorted((tmp_path / "cache").rglob("*.npz"))
    assert entries  # reference features and embeddings
    stamps = [p.stat().st_mtime_ns for p in entries]
    rc2, second = run(["--manifest", str(good), "--ref-data", str(ref)], tmp_path)
    assert rc1 == rc2 == 0
    assert [p.stat().st_mtime_ns for p in sorted((tmp_path / "cache").rglob("*.npz"))] == stamps  # reused
    assert [u["mcd_db"] for u in first["utterances"]] == [u["mcd_db"] for u in second["utterances"]]


def test_feature_settings_come_from_the_model_bundle(corpus, tmp_path):
    _, ref, good, _ = corpus
    bundle = tmp_path / "exp" / "m"
    bundle.mkdir(parents=True)
    cfg = FeatureConfig(mcep_dim=24, f0_method="harvest").resolved()
    np.savez(bundle / "stats.npz", speakers=np.array(["spkA", "spkB"]), settings=np.array(cfg.to_json()))
    assert feature_config_from_model(bundle) == cfg
    rc, report = run(["--manifest", str(good), "--ref-data", str(ref), "--model", str(bundle), "--no-cache"], tmp_path)
    assert rc == 0
    assert report["settings"]["features"]["mcep_dim"] == 24 and "c1-c23" in report["metrics"]["mcd"]
    assert "harvest" in report["metrics"]["f0"]
    # a bundle with only config.yaml works too
    other = tmp_path / "exp" / "yaml_only"
    other.mkdir()
    (other / "config.yaml").write_text("features:\n  sample_rate: 22050\n  mcep_dim: 40\n", encoding="utf-8")
    got = feature_config_from_model(other)
    assert (got.sample_rate, got.mcep_dim, got.alpha) == (22050, 40, 0.455)


def _exit_status(argv: list[str]) -> int:
    """main's exit status: its return value, or the code of the SystemExit a user error ends it with."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


def test_bad_command_lines_exit_2_with_a_reason(corpus, tmp_path, caplog):
    _, ref, good, _ = corpus
    assert _exit_status(["--manifest", str(good), "--label", "a", "--label", "b", "--ref-data", str(ref)]) == 2
    assert _exit_status(["--manifest", str(good), "--label", "none", "--ref-data", str(ref)]) == 2
    assert _exit_status(["--manifest", str(tmp_path / "missing.tsv"), "--ref-data", str(ref)]) == 2
    assert _exit_status(["--manifest", str(good), "--ref-data", str(tmp_path / "nodir")]) == 2
    assert _exit_status(["--manifest", str(good), "--ref-data", str(ref), "--model", str(tmp_path / "nomodel")]) == 2
    assert "nomodel" in caplog.text and "missing.tsv" in caplog.text


def test_help_describes_the_command():
    out = subprocess.run([sys.executable, "-m", "vc.cli.evaluate", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "--manifest" in out and "--ref-data" in out and "no-conversion floor" in out


@pytest.mark.slow
def test_parallel_run_matches_serial_and_resemblyzer(corpus, tmp_path):
    pytest.importorskip("resemblyzer")
    _, ref, good, _ = corpus
    rc1, serial = run(["--manifest", str(good), "--ref-data", str(ref), "--no-cache"], tmp_path, encoder="resemblyzer")
    rc2, par = run(["--manifest", str(good), "--ref-data", str(ref), "--no-cache", "--nj", "2"], tmp_path,
                   encoder="resemblyzer")
    assert rc1 == rc2 == 0
    for a, b in zip(serial["utterances"], par["utterances"]):
        assert a["mcd_db"] == pytest.approx(b["mcd_db"]) and a["spk_cos"] == pytest.approx(b["spk_cos"], abs=1e-5)
    overall = {g["system"]: g for g in par["overall"]}
    assert overall["good"]["spk_cos"] > overall["none"]["spk_cos"]
