"""The feature stages end to end: vc-prepare-data -> vc-extract -> vc-stats -> vc-resynth.

Plus the job mechanics of extraction (resume, settings clash, shards + merge) through the
Python API, which is what the CLI calls.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vc.data import DataDir, read_scp
from vc.features import FeatureConfig, SpeakerStats, load_features
from vc.features.extract import ExtractionError, extract_dir, merge_shards
from vc.features.testsignal import speech_like

SPEAKERS = {"alice": 210.0, "bob": 115.0}


def _cli(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", f"vc.cli.{name}", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """2 speakers x 3 short utterances (one stored at 22.05 kHz, one in stereo) in speaker dirs."""
    root = tmp_path / "corpus"
    for s, (spk, f0) in enumerate(SPEAKERS.items()):
        (root / spk).mkdir(parents=True)
        for k in range(3):
            sr = 22050 if k == 1 else 16000
            wave, _ = speech_like(0.4, sr, f0, vowels="aiu"[k:] + "aiu"[:k], seed=10 * s + k)
            if k == 2:
                wave = np.stack([wave, 0.5 * wave], axis=1)
            sf.write(root / spk / f"utt{k}.wav", wave, sr)
    return root


def test_cli_chain(tmp_path: Path, corpus: Path):
    (corpus / "bob" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEgarbage")
    data, dump, out = tmp_path / "data", tmp_path / "dump", tmp_path / "resynth"
    r = _cli("prepare_data", "--layout", "speaker-dirs", "--root", str(corpus), "--out", str(data))
    assert r.returncode == 0, r.stderr
    assert len(read_scp(data / "wav.scp")) == 7

    # 1 of 7 failed: within a 20% allowance the run succeeds ...
    r = _cli("extract", "--data", str(data), "--out", str(dump), "--nj", "2", "--max-fail-fraction", "0.2")
    assert r.returncode == 0, r.stderr
    feats = read_scp(dump / "feats.scp")
    assert sorted(feats) == [f"{spk}_utt{k}" for spk in SPEAKERS for k in range(3)]
    assert all(Path(p).is_file() for p in feats.values())
    failed = (dump / "failed.txt").read_text().splitlines()
    assert len(failed) == 1 and failed[0].startswith("bob_broken\t") and "broken.wav" in failed[0]
    assert read_scp(dump / "utt2spk") == read_scp(data / "utt2spk")
    assert "1 failed" in r.stderr
    # ... over a 10% allowance it fails (and, resuming, recomputes only the broken file)
    r = _cli("extract", "--data", str(data), "--out", str(dump), "--max-fail-fraction", "0.1")
    assert r.returncode != 0
    assert "0 extracted, 6 already done, 1 failed" in r.stderr and "--max-fail-fraction" in r.stderr

    r = _cli("stats", "--data", str(data), "--feats", str(dump))
    assert r.returncode == 0, r.stderr
    stats = SpeakerStats.load(dump / "stats.npz")
    assert stats.speakers == sorted(SPEAKERS)
    for spk, f0 in SPEAKERS.items():  # the glides span +-12.5% around the mean F0
        assert abs(np.exp(stats.lf0_mean[stats.index(spk)]) / f0 - 1) < 0.1
    assert stats.mcep_mean.shape == stats.mcep_std.shape == (2, 36) and (stats.mcep_std > 0).all()

    r = _cli("resynth", "--feats", str(dump), "--out", str(out), "--nj", "1", "--utts", "4")
    assert r.returncode == 0, r.stderr
    wavs = read_scp(out / "wav.scp")
    assert len(wavs) == 4 and read_scp(out / "utt2spk") == {u: read_scp(data / "utt2spk")[u] for u in wavs}
    for utt, path in wavs.items():
        wave, sr = sf.read(path)
        assert sr == 16000 and 0.35 < len(wave) / sr < 0.5 and np.abs(wave).max() > 0.05


def test_resume_settings_clash_and_shards(tmp_path: Path, corpus: Path):
    data = DataDir.load(_prepare(corpus, tmp_path / "data"))
    dump = tmp_path / "dump"
    cfg = FeatureConfig()
    first = extract_dir(data, dump, cfg, progress=False)
    assert (first.extracted, first.skipped, first.failed) == (6, 0, {})
    stamps = {p.name: p.stat().st_mtime_ns for p in dump.glob("*.npz")}

    (dump / "bob_utt1.npz").unlink()
    again = extract_dir(data, dump, cfg, progress=False)
    assert (again.extracted, again.skipped) == (1, 5)
    for p in dump.glob("*.npz"):
        assert (p.stat().st_mtime_ns == stamps[p.name]) == (p.name != "bob_utt1.npz")
    assert load_features(dump / "bob_utt1.npz")[1] == cfg.resolved()

    with pytest.raises(ExtractionError, match=r"(?s)frame_period 5.0 vs 10.0.*another output directory"):
        extract_dir(data, dump, FeatureConfig(frame_period=10.0), progress=False)
    assert {p.name: p.stat().st_mtime_ns for p in dump.glob("*.npz")}.keys() == stamps.keys()

    # shards write their own indexes; the merge refuses until every shard has run
    sharded = tmp_path / "sharded"
    s1 = extract_dir(data, sharded, cfg, num_shards=2, shard=1, progress=False)
    assert s1.total == 3 and (sharded / "feats.1.scp").is_file() and not (sharded / "feats.scp").exists()
    with pytest.raises(ExtractionError, match="3 utterance.*unfinished shard"):
        merge_shards(data, sharded, cfg)
    extract_dir(data, sharded, cfg, num_shards=2, shard=2, progress=False)
    merged = merge_shards(data, sharded, cfg)
    assert merged.failed == {} and sorted(read_scp(sharded / "feats.scp")) == data.utts
    scp1, scp2 = read_scp(sharded / "feats.1.scp"), read_scp(sharded / "feats.2.scp")
    assert sorted({**scp1, **scp2}) == data.utts and not set(scp1) & set(scp2)


def _prepare(corpus: Path, out: Path) -> Path:
    r = _cli("prepare_data", "--layout", "speaker-dirs", "--root", str(corpus), "--out", str(out))
    assert r.returncode == 0, r.stderr
    return out


def test_training_only_features_without_aperiodicity(tmp_path: Path, corpus: Path):
    """--no-aperiodicity skips D4C: the same F0 and mel-cepstrum, bap with no bands, and features
    that say clearly that they cannot be synthesized; asking for aperiodicity later completes them."""
    data_dir = _prepare(corpus, tmp_path / "data")
    data = DataDir.load(data_dir)
    full, lean = tmp_path / "full", tmp_path / "lean"
    cfg = FeatureConfig()
    extract_dir(data, full, cfg, progress=False)
    r = _cli("extract", "--data", str(data_dir), "--out", str(lean), "--no-aperiodicity")
    assert r.returncode == 0, r.stderr
    for utt in data.utts:
        a, _ = load_features(full / f"{utt}.npz")
        b, _ = load_features(lean / f"{utt}.npz")
        np.testing.assert_array_equal(a.f0, b.f0)
        np.testing.assert_array_equal(a.mcep, b.mcep)
        assert a.has_aperiodicity and not b.has_aperiodicity and b.bap.shape == (len(b.f0), 0)
    # training reads them as any dump (speaker statistics here) ...
    r = _cli("stats", "--data", str(data_dir), "--feats", str(lean))
    assert r.returncode == 0, r.stderr
    # ... but they cannot be synthesized, and say why
    r = _cli("resynth", "--feats", str(lean), "--out", str(tmp_path / "resynth"), "--utts", "1")
    assert r.returncode != 0 and "--no-aperiodicity" in r.stderr
    # a run that asks for aperiodicity analyses them again; a lean run is satisfied by full files
    again = extract_dir(data, lean, cfg, progress=False)
    assert (again.extracted, again.skipped) == (6, 0)
    assert all(load_features(lean / f"{u}.npz")[0].has_aperiodicity for u in data.utts)
    assert extract_dir(data, full, cfg, progress=False, aperiodicity=False).skipped == 6
    # shards and merge: a merge that asks for aperiodicity does not accept lean shards
    sharded = tmp_path / "sharded"
    for shard in (1, 2):
        extract_dir(data, sharded, cfg, num_shards=2, shard=shard, progress=False, aperiodicity=False)
    with pytest.raises(ExtractionError, match="neither extracted nor failed"):
        merge_shards(data, sharded, cfg)
    assert merge_shards(data, sharded, cfg, aperiodicity=False).skipped == 6
