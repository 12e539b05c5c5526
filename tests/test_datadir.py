"""vc.data.DataDir: round trip, sorting, and every validation problem reported as file:line, all at once."""
from __future__ import annotations

from pathlib import Path

import pytest

from vc.data import DataDir, DataDirError, read_scp, write_scp


def make(tmp_path: Path, n_spk: int = 2, n_utt: int = 3) -> DataDir:
    wav, u2s, text = {}, {}, {}
    for s in range(n_spk):
        for u in range(n_utt):
            utt = f"spk{s}_{u:03d}"
            path = tmp_path / "corpus with spaces" / f"spk{s}" / f"{u:03d}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"")
            wav[utt], u2s[utt], text[utt] = str(path), f"spk{s}", f"sentence {u}  ང་ཚོ་ཡིན།"
    return DataDir(wav, u2s, text)


def write(d: Path, name: str, content: str | bytes) -> None:
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(content.encode("utf-8") if isinstance(content, str) else content)


def problems_of(path: Path, **kwargs) -> list[str]:
    with pytest.raises(DataDirError) as info:
        DataDir.load(path, **kwargs)
    return info.value.problems


def test_round_trip_sorted_with_spaces_and_unicode(tmp_path):
    data = make(tmp_path)
    out = tmp_path / "data" / "all"
    data.save(out)
    loaded = DataDir.load(out, check_files=True)
    assert loaded == data
    assert loaded.utts == sorted(data.wav_scp) and loaded.speakers == ["spk0", "spk1"]
    assert loaded.spk2utt == {"spk0": ["spk0_000", "spk0_001", "spk0_002"], "spk1": ["spk1_000", "spk1_001", "spk1_002"]}
    lines = (out / "wav.scp").read_text(encoding="utf-8").splitlines()
    assert lines == sorted(lines) and " with spaces" in lines[0]
    assert (out / "spk2utt").read_text().splitlines()[0] == "spk0 spk0_000 spk0_001 spk0_002"
    assert read_scp(out / "text")["spk1_002"] == "sentence 2  ང་ཚོ་ཡིན།"  # inner spacing kept exactly
    assert sorted(p.name for p in out.iterdir()) == ["spk2utt", "text", "utt2spk", "wav.scp"]


def test_sort_order_is_byte_order(tmp_path):
    write_scp(tmp_path / "scp", {"b": "1", "B": "2", "a_1": "3", "a": "4", "é": "5"})
    keys = [line.split()[0] for line in (tmp_path / "scp").read_text(encoding="utf-8").splitlines()]
    assert keys == sorted(keys, key=lambda k: k.encode("utf-8")) == ["B", "a", "a_1", "b", "é"]


def test_no_text_file_means_text_none_and_stale_text_removed(tmp_path):
    data = make(tmp_path)
    out = tmp_path / "d"
    data.save(out)
    DataDir(data.wav_scp, data.utt2spk).save(out)
    assert not (out / "text").exists() and DataDir.load(out).text is None


def test_partial_text_is_valid(tmp_path):
    data = make(tmp_path)
    data.text = {k: v for k, v in data.text.items() if k.endswith("1")}
    data.save(tmp_path / "d")
    assert sorted(DataDir.load(tmp_path / "d").text) == ["spk0_001", "spk1_001"]


def test_every_problem_reported_at_once_with_file_and_line(tmp_path):
    d = tmp_path / "broken"
    write(d, "wav.scp", "u1 /a/x 1.wav\nu3 /c.wav\nu2 /b.wav\nu3 /dup.wav\nbad/id /e.wav\nu5\nu6 cmd |\n")
    write(d, "utt2spk", "u1 s1\nu2 s2\nu3 s1\nu4 s2\n")
    write(d, "spk2utt", "s1 u1\ns2 u2 u4\ns9 u1\n")
    write(d, "text", b"u1 hello\nu2 \xff\xfeoops\nu7 who\n")
    probs = problems_of(d)
    expected = [
        f"{d}/wav.scp:3: not sorted: 'u2' after 'u3'",
        f"{d}/wav.scp:4: duplicate utterance 'u3' (first on line 2)",
        f"{d}/wav.scp:5: utterance id 'bad/id' contains '/'",
        f"{d}/wav.scp:6: utterance 'u5' has no value",
        f"{d}/wav.scp:7: pipe commands are not supported",
        f"{d}/wav.scp:7: utterance 'u6' has no speaker in utt2spk",
        f"{d}/utt2spk:4: utterance 'u4' is not in wav.scp",
        f"{d}/text:2: not valid UTF-8 (byte 0xff at column 4)",
        f"{d}/text:3: transcript for unknown utterance 'u7'",
        f"{d}/spk2utt:1: speaker 's1': missing utterances of this speaker in utt2spk: u3",
        f"{d}/spk2utt:3: speaker 's9' has no utterances in utt2spk",
    ]
    for want in expected:
        assert any(p.startswith(want) for p in probs), (want, probs)
    assert len(probs) == len(expected)


def test_spk2utt_extra_and_missing_speaker(tmp_path):
    d = tmp_path / "d"
    write(d, "wav.scp", "a /a\nb /b\n")
    write(d, "utt2spk", "a s1\nb s2\n")
    write(d, "spk2utt", "s1 a b\n")
    probs = problems_of(d)
    assert any(p.startswith(f"{d}/spk2utt:1: speaker 's1': utterances not mapped to this speaker in utt2spk: b") for p in probs)
    assert any("speaker 's2' of utt2spk is missing" in p for p in probs)


def test_missing_files_and_missing_audio(tmp_path):
    assert problems_of(tmp_path / "nope") == [f"{tmp_path / 'nope'}: not a directory"]
    d = tmp_path / "d"
    write(d, "text", "a hi\n")
    assert {f"{d}/wav.scp: missing", f"{d}/utt2spk: missing"} <= set(problems_of(d))
    write(d, "wav.scp", f"a {tmp_path}/not here.wav\n")
    write(d, "utt2spk", "a s\n")
    DataDir.load(d)  # paths are only checked on request
    assert problems_of(d, check_files=True) == [f"{d}/wav.scp:1: audio file not found: {tmp_path}/not here.wav"]


def test_crlf_bom_and_tabs_are_tolerated(tmp_path):
    d = tmp_path / "d"
    write(d, "wav.scp", "\ufeffa\t/x y.wav\r\nb /z.wav\r\n")
    write(d, "utt2spk", "a s\nb s\n")
    assert DataDir.load(d).wav_scp == {"a": "/x y.wav", "b": "/z.wav"}


def test_in_memory_validation_and_save_refuses_invalid(tmp_path):
    bad = DataDir({"a b": "/x", "c": "/y", "d": "/z"}, {"c": "s/1", "d": "s", "e": "s"}, {"c": "", "q": "t"})
    with pytest.raises(DataDirError) as info:
        bad.save(tmp_path / "out")
    msg = str(info.value)
    for part in ["utterance id 'a b' contains whitespace", "speaker id 's/1' contains '/'",
                 "'e' is not in wav.scp", "transcript must be one non-empty line", "unknown utterance 'q'",
                 "'a b' has no speaker"]:
        assert part in msg, (part, msg)
    assert not (tmp_path / "out").exists()


def test_read_scp_reports_all_problems(tmp_path):
    write(tmp_path, "feats.scp", "a 1\na 2\n b 3\n")
    with pytest.raises(DataDirError) as info:
        read_scp(tmp_path / "feats.scp")
    assert info.value.problems == [f"{tmp_path}/feats.scp:2: duplicate utterance 'a' (first on line 1)",
                                   f"{tmp_path}/feats.scp:3: line starts with whitespace"]


def test_subset_and_shards(tmp_path):
    data = make(tmp_path, n_spk=3, n_utt=4)
    sub = data.subset(["spk1_000", "spk2_003"])
    assert sub.utts == ["spk1_000", "spk2_003"] and sub.speakers == ["spk1", "spk2"]
    assert sub.text == {u: data.text[u] for u in sub.utts}
    with pytest.raises(DataDirError, match="unknown utterance 'zzz'"):
        data.subset(["zzz"])
    for n in (1, 2, 5, 12, 15):
        shards = [data.shard(n, j) for j in range(1, n + 1)]
        seen = [u for s in shards for u in s.utts]
        assert seen == data.utts  # union == whole, disjoint, in order
        sizes = [len(s) for s in shards]
        assert max(sizes) - min(sizes) <= 1
        assert [s.utts for s in shards] == [data.shard(n, j).utts for j in range(1, n + 1)]
    with pytest.raises(ValueError, match="1-based"):
        data.shard(3, 0)
    with pytest.raises(ValueError):
        data.shard(0, 1)


# ------------------------------------------------------------------ splits
from vc.data.split import SplitError, default_mode, sentence_key, split  # noqa: E402


def parallel_corpus(n_spk: int = 4, shared: int = 6, own: int = 5) -> DataDir:
    """Every speaker reads `shared` common sentences (with punctuation/case variants) plus `own` unique ones."""
    wav, u2s, text = {}, {}, {}
    for s in range(n_spk):
        spk = f"s{s}"
        for i in range(shared):
            utt = f"{spk}_c{i:02d}"
            wav[utt], u2s[utt] = f"/a/{utt}.wav", spk
            text[utt] = f"Common sentence number {i}." if s % 2 else f"common  sentence NUMBER {i}"
        for i in range(own):
            utt = f"{spk}_o{i:02d}"
            wav[utt], u2s[utt], text[utt] = f"/a/{utt}.wav", spk, f"{spk} says own line {i}"
    # one sentence only two speakers read
    for spk in ("s0", "s1"):
        utt = f"{spk}_pair"
        wav[utt], u2s[utt], text[utt] = f"/a/{utt}.wav", spk, "a pair sentence"
    return DataDir(wav, u2s, text)


def sentences(d: DataDir) -> set[str]:
    return {sentence_key(d.text[u]) for u in d.utts}


def test_sentence_key_ignores_case_punctuation_and_spacing():
    assert sentence_key("Hello, World!") == sentence_key("hello   world") == "helloworld"
    assert sentence_key("ང་ཚོ་ཡིན།") == sentence_key("ང ཚོ ཡིན")
    assert sentence_key("ང་ཚོ་ཡིན།") != sentence_key("ཁྱོད་ཚོ་ཡིན།")


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_split_by_sentence_never_leaks(seed):
    data = parallel_corpus()
    assert default_mode(data) == "sentence"
    sets = split(data, n_dev=2, n_eval=3, seed=seed)
    train, dev, ev = sentences(sets["train"]), sentences(sets["dev"]), sentences(sets["eval"])
    assert len(ev) == 3 and len(dev) == 2
    assert not (train & ev) and not (train & dev) and not (dev & ev)
    assert sorted(sets["train"].utts + sets["dev"].utts + sets["eval"].utts) == data.utts
    # held-out sentences are the ones every speaker read (parallel references exist)
    for name in ("dev", "eval"):
        for key in sentences(sets[name]):
            assert len({data.utt2spk[u] for u in data.utts if sentence_key(data.text[u]) == key}) == 4
    assert sets["train"].speakers == data.speakers
    again = split(data, n_dev=2, n_eval=3, seed=seed)
    assert all(again[k].utts == sets[k].utts for k in sets)


def test_split_seed_changes_choice_among_ties():
    data = parallel_corpus(shared=10)
    choices = {tuple(split(data, 1, 3, seed=s)["eval"].utts) for s in range(6)}
    assert len(choices) > 1


def test_split_by_sentence_keeps_training_data_for_every_speaker():
    reads = {"s0": ["c0", "c1"], "s1": ["c0", "c1"], "s2": ["o0", "o1", "o2"]}
    utts = {f"{spk}_{t}": (spk, t) for spk, texts in reads.items() for t in texts}
    data = DataDir({u: f"/a/{u}" for u in utts}, {u: v[0] for u, v in utts.items()}, {u: v[1] for u, v in utts.items()})
    # c0 or c1 (the widest read) goes to eval; taking the other too would leave s0 and s1 without training data
    sets = split(data, n_dev=2, n_eval=1)
    assert sentences(sets["eval"]) in ({"c0"}, {"c1"}) and len(sentences(sets["train"]) & {"c0", "c1"}) == 1
    assert sets["train"].speakers == data.speakers
    with pytest.raises(SplitError, match="only 3 sentences can be held out without leaving a speaker with no training data"):
        split(data, n_dev=2, n_eval=2)
    with pytest.raises(SplitError, match="5 distinct sentences"):
        split(data, n_dev=2, n_eval=3)


def test_split_by_sentence_requires_transcripts():
    data = parallel_corpus()
    del data.text["s0_o00"]
    assert default_mode(data) == "utterance"
    with pytest.raises(SplitError, match="1 utterance.*no transcript.*--by utterance"):
        split(data, 1, 1, by="sentence")


def test_split_by_utterance():
    data = parallel_corpus(own=3)
    data.text = None
    sets = split(data, n_dev=1, n_eval=2, seed=3)
    for spk in data.speakers:
        assert len(sets["eval"].spk2utt[spk]) == 2 and len(sets["dev"].spk2utt[spk]) == 1
    assert sorted(u for s in sets.values() for u in s.utts) == data.utts
    # a speaker's draw does not depend on the other speakers
    fewer = data.subset(u for u in data.utts if data.utt2spk[u] != "s3")
    assert split(fewer, 1, 2, seed=3)["eval"].spk2utt["s0"] == sets["eval"].spk2utt["s0"]
    with pytest.raises(SplitError, match=r"s2 \(9\)"):
        split(data, n_dev=4, n_eval=5, by="utterance")


def test_split_cli_writes_three_dirs_and_protects_input(tmp_path):
    import subprocess
    import sys

    data = parallel_corpus()
    data.save(tmp_path / "all")
    cmd = [sys.executable, "-m", "vc.cli.split_data", "--data", str(tmp_path / "all"), "--out-dir", str(tmp_path),
           "--dev", "1", "--eval", "2", "--seed", "5"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    loaded = {n: DataDir.load(tmp_path / n) for n in ("train", "dev", "eval")}
    assert not (sentences(loaded["train"]) & sentences(loaded["eval"]))
    assert sorted(u for d in loaded.values() for u in d.utts) == data.utts
    (tmp_path / "inp").mkdir()
    data.save(tmp_path / "inp" / "train")
    before = (tmp_path / "inp" / "train" / "wav.scp").read_bytes()
    res = subprocess.run(cmd[:4] + [str(tmp_path / "inp" / "train"), "--out-dir", str(tmp_path / "inp"), "--dev", "1", "--eval", "1"],
                         capture_output=True, text=True)
    assert res.returncode == 1 and "overwrite the input" in res.stderr
    assert (tmp_path / "inp" / "train" / "wav.scp").read_bytes() == before
