"""Reference pairing: same sentence by the target speaker, by transcript or utterance-id suffix."""
from __future__ import annotations

from pathlib import Path

import pytest

from vc.convert.manifest import ManifestRow, write_manifest
from vc.data import DataDir
from vc.evaluate.pairs import (MATCH_NONE, MATCH_SUFFIX, MATCH_TEXT, NONE_LABEL, ReferenceIndex, build_items,
                               default_labels, normalize_text, utt_suffix)


def datadir(utts: dict[str, tuple[str, str | None]], root: Path | None = None) -> DataDir:
    """utt -> (speaker, transcript or None); audio paths are placeholders (pairing reads no audio)."""
    base = root or Path("/corpus")
    text = {u: t for u, (_, t) in utts.items() if t is not None}
    return DataDir(wav_scp={u: str(base / f"{u}.wav") for u in utts}, utt2spk={u: s for u, (s, _) in utts.items()},
                   text=text or None)


def test_normalize_text_ignores_case_punctuation_and_spacing():
    assert normalize_text("Hello,  World!") == normalize_text("hello world") == "hello world"
    assert normalize_text("\u00c9t\u00e9") == normalize_text("E\u0301te\u0301".upper())  # NFKC + casefold
    # Tibetan: tsheg (U+0F0B) and shad (U+0F0D) are punctuation; the syllables must still agree
    assert normalize_text("\u0f56\u0f40\u0fb2\u0f0b\u0f64\u0f72\u0f66\u0f0d") == normalize_text("\u0f56\u0f40\u0fb2 \u0f64\u0f72\u0f66")
    assert normalize_text("a b") != normalize_text("a c")


def test_utt_suffix():
    assert utt_suffix("p225_001", "p225") == "001"
    assert utt_suffix("SF1-100001", "SF1") == "100001"
    assert utt_suffix("x_sent3", "p226") == "sent3"  # id without the speaker prefix
    assert utt_suffix("plain", "p226") == "plain"


def test_match_by_text_then_none_when_sentence_differs():
    ref = datadir({"a_1": ("a", "The cat."), "b_x": ("b", "the CAT"), "b_y": ("b", "a dog")})
    index = ReferenceIndex(ref)
    assert index.find("a_1", "a", "b") == ("b_x", MATCH_TEXT)  # ids differ; the sentence decides
    other = ReferenceIndex(datadir({"a_1": ("a", "The cat."), "b_1": ("b", "a dog")}))
    assert other.find("a_1", "a", "b") == (None, MATCH_NONE)  # same id suffix, different sentence


def test_fall_back_to_utterance_suffix_without_text():
    ref = datadir({"a_001": ("a", None), "b_001": ("b", None), "b_002": ("b", None)})
    index = ReferenceIndex(ref)
    assert index.find("a_001", "a", "b") == ("b_001", MATCH_SUFFIX)
    assert index.find("a_003", "a", "b") == (None, MATCH_NONE)


def test_source_text_and_audio_come_from_src_data_first():
    ref = datadir({"b_1": ("b", "hello")})
    src = datadir({"a_1": ("a", "Hello!")}, root=Path("/src"))
    index = ReferenceIndex(ref, src)
    assert index.source_text("a_1") == "Hello!" and index.source_path("a_1") == "/src/a_1.wav"
    assert index.find("a_1", "a", "b") == ("b_1", MATCH_TEXT)


def manifest(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    write_manifest(path, [ManifestRow(u, s, t, str(path.parent / f"{u}-{t}.wav")) for u, s, t in rows])
    return path


def test_build_items_adds_one_floor_per_utterance_and_target(tmp_path):
    ref = datadir({"a_1": ("a", "one"), "a_2": ("a", "two"), "b_1": ("b", "one"), "c_9": ("c", "nine")})
    index = ReferenceIndex(ref)
    m1 = manifest(tmp_path / "m1" / "manifest.tsv", [("a_1", "a", "b"), ("a_2", "a", "b"), ("zz_1", "z", "b")])
    m2 = manifest(tmp_path / "m2" / "manifest.tsv", [("a_1", "a", "b"), ("a_1", "a", "c")])
    items, warnings = build_items({"model": m1, "baseline": m2}, index)
    floors = [(it.utt, it.tgt_spk) for it in items if it.system == NONE_LABEL]
    assert sorted(floors) == [("a_1", "b"), ("a_1", "c"), ("a_2", "b")]  # once each, zz_1 has no audio
    assert any("zz_1" in w and "floor" in w for w in warnings)
    by_key = {(it.system, it.utt, it.tgt_spk): it for it in items}
    assert by_key[("model", "a_1", "b")].ref_utt == "b_1" and by_key[("model", "a_1", "b")].parallel
    assert by_key[(NONE_LABEL, "a_1", "b")].path == "/corpus/a_1.wav"
    assert not by_key[("model", "a_2", "b")].parallel  # b never says "two"
    assert not by_key[("baseline", "a_1", "c")].parallel
    with pytest.raises(ValueError, match="reserved"):
        build_items({NONE_LABEL: m1}, index)


def test_inconsistent_manifests_are_warned(tmp_path):
    index = ReferenceIndex(datadir({"a_1": ("a", "one"), "b_1": ("b", "one")}))
    m = manifest(tmp_path / "manifest.tsv", [("a_1", "b", "b"), ("a_1", "a", "q")])
    _, warnings = build_items({"m": m}, index)
    assert any("source speaker" in w for w in warnings)
    assert any("target speaker(s) q have no utterance" in w for w in warnings)


def test_default_labels_are_unique_folder_names(tmp_path):
    labels = default_labels([tmp_path / "x" / "conv" / "manifest.tsv", tmp_path / "y" / "conv" / "manifest.tsv",
                             tmp_path / "none" / "manifest.tsv"])
    assert labels == ["conv", "conv2", "none2"]
