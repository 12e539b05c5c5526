"""Choosing the model bundle: --model > $VC_MODEL > newest under ./exp, with helpful errors."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from vc.convert.discovery import MODEL_ENV, ModelNotFoundError, find_bundles, resolve_model
from vc.convert.manifest import ManifestRow, read_manifest, shard_suffix, write_failed, write_manifest


def fake_bundle(path: Path, mtime: float) -> Path:
    (path / "checkpoints").mkdir(parents=True)
    (path / "speakers.json").write_text('["a", "b"]')
    latest = path / "checkpoints" / "latest"
    latest.write_text("step_00000010.pt\n")
    os.utime(latest, (mtime, mtime))
    return path


def test_newest_bundle_under_exp_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MODEL_ENV, raising=False)
    fake_bundle(tmp_path / "exp" / "old", 1_000)
    new = fake_bundle(tmp_path / "exp" / "group" / "new", 2_000)
    (tmp_path / "exp" / "not_a_bundle").mkdir()
    assert find_bundles(tmp_path / "exp") == [new, tmp_path / "exp" / "old"]
    chosen, how = resolve_model(None, search_root=tmp_path / "exp")
    assert chosen == new and "newest" in how and "old" in how


def test_env_then_explicit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = fake_bundle(tmp_path / "a", 1)
    b = fake_bundle(tmp_path / "b", 2)
    monkeypatch.setenv(MODEL_ENV, str(a))
    assert resolve_model(None, search_root=tmp_path / "none") == (a, f"${MODEL_ENV}")
    assert resolve_model(b, search_root=tmp_path / "none")[0] == b


def test_missing_model_says_how_to_train(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MODEL_ENV, raising=False)
    with pytest.raises(ModelNotFoundError, match="vc-train.*make demo.*--model"):
        resolve_model(None, search_root=tmp_path / "exp")
    with pytest.raises(ModelNotFoundError, match="model folder not found"):
        resolve_model(tmp_path / "nope")
    (tmp_path / "partial").mkdir()
    (tmp_path / "partial" / "speakers.json").write_text("[]")
    with pytest.raises(ModelNotFoundError, match="no saved checkpoint"):
        resolve_model(tmp_path / "partial")


def test_manifest_is_sorted_relative_and_round_trips(tmp_path: Path) -> None:
    out = tmp_path / "out"
    rows = [ManifestRow("u2", "s1", "s2", str(out / "wav" / "s2" / "u2_to_s2.wav")),
            ManifestRow("u1", "s1", "s2", str(out / "wav" / "s2" / "u1_to_s2.wav"))]
    write_manifest(out / "manifest.tsv", rows)
    lines = (out / "manifest.tsv").read_text().splitlines()
    assert lines[0] == "utt\tsrc_spk\ttgt_spk\tpath"
    assert lines[1] == "u1\ts1\ts2\twav/s2/u1_to_s2.wav"
    assert read_manifest(out / "manifest.tsv") == sorted(rows)
    assert shard_suffix(1, 1) == "" and shard_suffix(4, 2) == ".2"


def test_failed_list_written_and_removed_when_clean(tmp_path: Path) -> None:
    path = tmp_path / "failed.tsv"
    write_failed(path, [("u1", "s2", "AudioError: x.wav: bad\nsecond line")])
    assert path.read_text() == "utt\ttgt_spk\treason\nu1\ts2\tAudioError: x.wav: bad | second line\n"
    write_failed(path, [])
    assert not path.exists()
