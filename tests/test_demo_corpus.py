"""The demo corpus synthesizer (egs/demo/local/make_corpus.py) and its sentence list."""
from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

LOCAL = Path(__file__).resolve().parents[1] / "egs" / "demo" / "local"
SCRIPT = LOCAL / "make_corpus.py"

needs_flite = pytest.mark.skipif(shutil.which("flite") is None, reason="flite is not installed (apt-get install flite)")


def load_module():
    """The script as a module (it is not part of the package); registered so dataclasses work."""
    if "make_corpus" not in sys.modules:
        spec = importlib.util.spec_from_file_location("make_corpus", SCRIPT)
        module = importlib.util.module_from_spec(spec)
        sys.modules["make_corpus"] = module
        spec.loader.exec_module(module)
    return sys.modules["make_corpus"]


def make(out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), *args],
                          capture_output=True, text=True, timeout=120)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_sentence_list_is_large_varied_and_well_formed():
    sentences = load_module().read_sentences(LOCAL / "sentences.txt")
    texts = [text for _, text in sentences]
    assert len(set(t.lower() for t in texts)) == len(texts) >= 200
    for sent_id, text in sentences:
        assert re.fullmatch(r"s\d{4}", sent_id)
        assert 6 <= len(text.split()) <= 15, text
        assert text[0].isupper() and text[-1] in ".?!", text
    first_words = {t.split()[0] for t in texts}
    assert len(first_words) >= 25  # not one template with the nouns swapped


def test_bad_sentence_list_names_every_problem(tmp_path):
    bad = tmp_path / "s.txt"
    bad.write_text("# header\na1 One sentence here.\nlonely\na_2 Underscore in the id.\na1 Duplicate id.\n", encoding="utf-8")
    module = load_module()
    with pytest.raises(module.CorpusError) as err:
        module.read_sentences(bad)
    message = str(err.value)
    assert f"{bad}:3: expected '<id> <sentence>'" in message
    assert f"{bad}:4: id 'a_2' may not contain" in message
    assert f"{bad}:5: duplicate id 'a1' (first on line 2)" in message


@needs_flite
def test_corpus_files_format_determinism_and_resume(tmp_path):
    args = ("--voices", "slt,rms", "--num-sentences", "3", "--nj", "2")
    res = make(tmp_path / "a", *args)
    assert res.returncode == 0, res.stderr
    sentences = dict(load_module().read_sentences(LOCAL / "sentences.txt")[:3])
    for voice in ("slt", "rms"):
        for sent_id, text in sentences.items():
            wav = tmp_path / "a" / voice / f"{voice}_{sent_id}.wav"
            info = sf.info(wav)
            assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
            assert 1.0 < info.duration < 10.0
            assert (tmp_path / "a" / voice / f"{voice}_{sent_id}.txt").read_text(encoding="utf-8") == text + "\n"
    first = snapshot(tmp_path / "a")
    assert len([k for k in first if k.endswith(".wav")]) == 6
    assert not any(Path(k).name.startswith(".") for k in first)  # no temp files left

    assert make(tmp_path / "b", *args).returncode == 0
    assert snapshot(tmp_path / "b") == first  # same bytes on a fresh run

    # resume: one file lost, one pair with an outdated sentence; only those are made again
    victim = tmp_path / "a" / "rms" / "rms_s0002.wav"
    victim.unlink()
    stale = tmp_path / "a" / "slt" / "slt_s0001.txt"
    stale.write_text("An older version of this sentence.\n", encoding="utf-8")
    kept = tmp_path / "a" / "slt" / "slt_s0003.wav"
    kept_mtime = kept.stat().st_mtime_ns
    res = make(tmp_path / "a", *args)
    assert res.returncode == 0 and "4 already done, 2 to synthesize" in res.stderr
    assert snapshot(tmp_path / "a") == first
    assert kept.stat().st_mtime_ns == kept_mtime


@needs_flite
def test_other_sample_rate_is_resampled(tmp_path):
    res = make(tmp_path / "c", "--voices", "slt", "--num-sentences", "1", "--sample-rate", "22050", "--nj", "1")
    assert res.returncode == 0, res.stderr
    wave, sr = sf.read(tmp_path / "c" / "slt" / "slt_s0001.wav")
    assert sr == 22050 and wave.ndim == 1
    assert make(tmp_path / "d", "--voices", "slt", "--num-sentences", "1", "--nj", "1").returncode == 0
    ref, ref_sr = sf.read(tmp_path / "d" / "slt" / "slt_s0001.wav")
    assert abs(len(wave) / sr - len(ref) / ref_sr) < 1e-3  # same speech, other rate
    assert np.max(np.abs(wave)) > 0.05


@needs_flite
def test_unknown_voice_is_refused_with_the_available_ones(tmp_path):
    res = make(tmp_path / "x", "--voices", "slt,nosuchvoice")
    assert res.returncode == 1
    assert "unknown flite voice(s) nosuchvoice" in res.stderr and "slt" in res.stderr
    assert not (tmp_path / "x").exists()
