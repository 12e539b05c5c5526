"""Corpus preparers and vc-prepare-data on fake corpora generated here (speaker dirs, VCTK 0.80/0.92, XBMU-AMDO31)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vc.cli import prepare_data
from vc.data import DataDir
from vc.data.corpora import CorpusError, prepare
from vc.data.corpora.common import make_utt_id, sanitize_id

SR = 16000
WAVE = 0.3 * np.sin(2 * np.pi * 200 * np.arange(SR // 4) / SR)


def audio(path: Path, fmt: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, WAVE, SR, format=fmt or path.suffix.lstrip(".").upper())
    return path


def text(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vc.cli.prepare_data", *args], capture_output=True, text=True)


# ---------------------------------------------------------------- id rules
def test_utt_id_rule():
    assert make_utt_id("alice", "001") == "alice_001"
    assert make_utt_id("alice", "alice_001") == "alice_001"
    assert make_utt_id("alice", "alice-001") == "alice-001"
    assert make_utt_id("alice", "alice001") == "alice_alice001"  # no separator: not a prefix
    assert make_utt_id("bob", "take 2") == "bob_take_2"
    assert sanitize_id(" John  Smith ") == "John_Smith"


# ------------------------------------------------------------ speaker-dirs
@pytest.fixture()
def speaker_corpus(tmp_path: Path) -> Path:
    root = tmp_path / "my corpus"
    audio(root / "Mary Ann" / "hello there.wav")
    text(root / "Mary Ann" / "hello there.txt", "  Hello,\n\tthere  world \n")
    audio(root / "Mary Ann" / "Mary_Ann-2.flac")
    audio(root / "bob" / "001.wav")
    audio(root / "bob" / "002.WAV", "WAV")
    audio(root / "bob" / "003.ogg")
    text(root / "bob" / "003.txt", "ང་ཚོ་ཡིན།")
    audio(root / "carol" / "c1.wav")
    (root / "bob" / "._001.wav").write_bytes(b"\x00\x05\x16\x07")  # macOS resource fork: skipped
    (root / "bob" / "notes.md").write_text("ignored")
    (root / "empty").mkdir()
    return root


def test_speaker_dirs_with_spaces_and_transcripts(speaker_corpus, tmp_path):
    out = tmp_path / "data dir" / "all"
    prepare_data.main(["--layout", "speaker-dirs", "--root", str(speaker_corpus), "--out", str(out)])
    data = DataDir.load(out, check_files=True)
    assert data.speakers == ["Mary_Ann", "bob", "carol"]
    assert data.utts == ["Mary_Ann-2", "Mary_Ann_hello_there", "bob_001", "bob_002", "bob_003", "carol_c1"]
    assert data.wav_scp["Mary_Ann_hello_there"] == str(speaker_corpus / "Mary Ann" / "hello there.wav")
    assert all(Path(p).is_absolute() for p in data.wav_scp.values())
    assert data.text == {"Mary_Ann_hello_there": "Hello, there world", "bob_003": "ང་ཚོ་ཡིན།"}


def test_speaker_selection(speaker_corpus, tmp_path):
    data = prepare("speaker-dirs", speaker_corpus, speakers=["carol", "bob"])
    assert data.speakers == ["bob", "carol"]
    assert prepare("speaker-dirs", speaker_corpus, num_speakers=1).speakers == ["bob"]  # 3 utterances
    assert prepare("speaker-dirs", speaker_corpus, num_speakers=2).speakers == ["Mary_Ann", "bob"]
    with pytest.raises(CorpusError, match="unknown speaker.*zed; available: Mary_Ann, bob, carol"):
        prepare("speaker-dirs", speaker_corpus, speakers=["zed"])
    with pytest.raises(CorpusError, match="between 1 and 3"):
        prepare("speaker-dirs", speaker_corpus, num_speakers=4)


def test_num_speakers_ties_broken_by_name(tmp_path):
    for spk in ("zoe", "amy", "kim"):
        for i in range(2):
            audio(tmp_path / "c" / spk / f"{i}.wav")
    assert prepare("speaker-dirs", tmp_path / "c", num_speakers=2).speakers == ["amy", "kim"]


def test_duplicate_ids_are_an_error_naming_both_files(tmp_path):
    root = tmp_path / "c"
    audio(root / "s" / "a.wav")
    audio(root / "s" / "a.flac")
    audio(root / "s" / "s_b.wav")
    audio(root / "s" / "b.wav")
    with pytest.raises(CorpusError) as info:
        prepare("speaker-dirs", root)
    msg = str(info.value)
    assert "'s_a' is used by 2 files" in msg and "a.flac" in msg and "a.wav" in msg and "'s_b' is used by 2 files" in msg


def test_bad_transcript_encoding_and_empty_root(tmp_path):
    root = tmp_path / "c"
    audio(root / "s" / "a.wav")
    text(root / "s" / "a.txt", b"caf\xe9")
    with pytest.raises(CorpusError, match=r"a\.txt: transcript is not valid UTF-8"):
        prepare("speaker-dirs", root)
    loose = tmp_path / "loose"
    audio(loose / "x.wav")
    with pytest.raises(CorpusError, match="1 audio files lie directly in it"):
        prepare("speaker-dirs", loose)


def test_check_audio_lists_every_broken_file(speaker_corpus, tmp_path):
    (speaker_corpus / "carol" / "c1.wav").write_bytes(b"RIFF....WAVEnot really")
    (speaker_corpus / "bob" / "001.wav").write_bytes(b"")
    prepare("speaker-dirs", speaker_corpus)  # headers are only read on request
    with pytest.raises(CorpusError) as info:
        prepare("speaker-dirs", speaker_corpus, check_audio=True)
    assert [p.split(":")[0] for p in info.value.problems[:2]] == [
        str(speaker_corpus / "bob" / "001.wav"), str(speaker_corpus / "carol" / "c1.wav")]
    assert "2 unreadable audio file(s)" in info.value.problems[-1]
    res = run_cli("--layout", "speaker-dirs", "--root", str(speaker_corpus), "--out", str(tmp_path / "o"), "--check-audio")
    assert res.returncode == 1 and "c1.wav: unreadable audio" in res.stderr and not (tmp_path / "o").exists()


def test_cli_errors(speaker_corpus, tmp_path):
    res = run_cli("--layout", "speaker-dirs", "--root", str(speaker_corpus), "--out", str(tmp_path / "o"), "--speakers", "nobody")
    assert res.returncode == 1 and "available: Mary_Ann, bob, carol" in res.stderr
    res = run_cli("--layout", "speaker-dirs", "--root", str(speaker_corpus), "--out", str(tmp_path / "o"), "--mic", "mic2")
    assert res.returncode == 2 and "--mic applies to --layout vctk only" in res.stderr
    res = run_cli("--layout", "speaker-dirs", "--root", str(speaker_corpus), "--out", str(speaker_corpus / "bob"))
    assert res.returncode == 1 and "written into the corpus" in res.stderr
    assert not (speaker_corpus / "bob" / "wav.scp").exists()
    assert "example" in run_cli("--help").stdout


# -------------------------------------------------------------------- VCTK
TXT = {"001": "Please call Stella.", "002": "Ask her to bring these things\nwith her from the store."}


def fake_vctk(root: Path, release: str) -> Path:
    for spk in ("p225", "p226"):
        for n in ("001", "002", "003"):
            stem = f"{spk}_{n}"
            if release == "0.80":
                audio(root / "wav48" / spk / f"{stem}.wav")
            else:
                for mic in ("mic1", "mic2"):
                    if not (spk == "p226" and n == "003" and mic == "mic2"):
                        audio(root / "wav48_silence_trimmed" / spk / f"{stem}_{mic}.flac")
            if n in TXT:
                text(root / "txt" / spk / f"{stem}.txt", TXT[n] + "\n")
    if release == "0.80":
        audio(root / "wav48" / "p315" / "p315_001.wav")  # no txt/p315 in 0.80
    (root / "speaker-info.txt").write_text("ID AGE GENDER ACCENTS\n")
    return root


@pytest.mark.parametrize("release", ["0.80", "0.92"])
def test_vctk_both_releases(tmp_path, release):
    root = fake_vctk(tmp_path / "VCTK", release)
    data = prepare("vctk", root)
    speakers = ["p225", "p226", "p315"] if release == "0.80" else ["p225", "p226"]
    assert data.speakers == speakers
    assert data.utts[:3] == ["p225_001", "p225_002", "p225_003"]
    assert data.text["p226_002"] == "Ask her to bring these things with her from the store."
    assert "p225_003" not in data.text and "p225_003" in data.wav_scp  # kept, untranscribed
    if release == "0.92":
        assert data.wav_scp["p225_001"].endswith("p225_001_mic1.flac")
        mic2 = prepare("vctk", root, mic="mic2")
        assert mic2.wav_scp["p225_001"].endswith("p225_001_mic2.flac") and "p226_003" not in mic2.wav_scp


def test_vctk_detects_release_one_level_down_and_cli(tmp_path):
    fake_vctk(tmp_path / "download" / "VCTK-Corpus", "0.80")
    out = tmp_path / "data"
    res = run_cli("--layout", "vctk", "--root", str(tmp_path / "download"), "--out", str(out), "--speakers", "p225,p226")
    assert res.returncode == 0, res.stderr
    assert DataDir.load(out).speakers == ["p225", "p226"]


def test_vctk_unknown_layout_says_what_it_looked_for(tmp_path):
    (tmp_path / "nothing" / "here").mkdir(parents=True)
    with pytest.raises(CorpusError, match=r"looked for wav48_silence_trimmed/ \(release 0.92\) or wav48/ \(release 0.80\)"):
        prepare("vctk", tmp_path / "nothing")


# ------------------------------------------------------------- XBMU-AMDO31
TIBETAN = {
    "A70_31050": "ཁྱོད ཚོ འབྲོག པ ས ཆ གི མྱིས གོན ན ད ངེས ངེས འེབ དེ ཡིན",
    "A70_31051": "ང་ཚོ་ཡིན།",
    "B12_00007": "བཀྲ་ཤིས་བདེ་ལེགས། ཐུགས་རྗེ་ཆེ།",
    "a_0_cacm-B12_00008": "རྒྱལ ཁ ཡང ནས ཡང དུ བླང",  # keyed by the full stem
}


def fake_xbmu(root: Path) -> Path:
    data = root / "data"
    audio(data / "wav" / "train" / "A70" / "a_0_cacm-A70_31050.wav")
    audio(data / "wav" / "train" / "A70" / "a_0_cacm-A70_31051.wav")
    audio(data / "wav" / "dev" / "B12" / "a_0_cacm-B12_00007.wav")
    audio(data / "wav" / "dev" / "B12" / "a_0_cacm-B12_00008.wav")
    audio(data / "wav" / "test" / "C3" / "x-99.wav")  # no transcript; key does not start with the speaker
    lines = "".join(f"{k} {v}\n" for k, v in TIBETAN.items())
    text(data / "transcript" / "transcript_clean.txt", lines + "\n")
    return root


def test_xbmu_tibetan_preserved_byte_for_byte(tmp_path):
    root = fake_xbmu(tmp_path / "xbmu_amdo31")
    out = tmp_path / "data" / "all"
    prepare_data.main(["--layout", "xbmu-amdo31", "--root", str(root), "--out", str(out)])
    data = DataDir.load(out, check_files=True)
    assert data.utts == ["A70_31050", "A70_31051", "B12_00007", "B12_00008", "C3_99"]
    assert all(data.utt2spk[u].startswith(u.split("_")[0]) for u in data.utts)
    assert data.speakers == ["A70", "B12", "C3"]
    written = {line.split(b" ", 1)[0]: line.split(b" ", 1)[1] for line in (out / "text").read_bytes().splitlines()}
    assert written[b"A70_31050"] == TIBETAN["A70_31050"].encode("utf-8")
    assert written[b"A70_31051"] == TIBETAN["A70_31051"].encode("utf-8")
    assert written[b"B12_00007"] == TIBETAN["B12_00007"].encode("utf-8")
    assert written[b"B12_00008"] == TIBETAN["a_0_cacm-B12_00008"].encode("utf-8")
    assert b"C3_99" not in written


def test_xbmu_subsets_and_errors(tmp_path):
    root = fake_xbmu(tmp_path / "x")
    assert prepare("xbmu-amdo31", root, subsets=("dev",)).speakers == ["B12"]
    assert prepare("xbmu-amdo31", root / "data").speakers == ["A70", "B12", "C3"]  # root may be data/
    with pytest.raises(CorpusError, match="unknown subset"):
        prepare("xbmu-amdo31", root, subsets=("valid",))
    with pytest.raises(CorpusError, match=r"data/wav/\{train,dev,test\}"):
        prepare("xbmu-amdo31", tmp_path)
    (root / "data" / "wav" / "test").rename(root / "data" / "wav" / "moved")
    (root / "data" / "wav" / "test.tar.gz").write_bytes(b"")
    with pytest.raises(CorpusError, match="extract .*test.tar.gz first"):
        prepare("xbmu-amdo31", root)
    text(root / "data" / "transcript" / "transcript_clean.txt", b"A70_31050 \xff\n")
    with pytest.raises(CorpusError, match=r"transcript_clean.txt:1: not valid UTF-8"):
        prepare("xbmu-amdo31", root, subsets=("train",))
