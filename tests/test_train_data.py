"""In-memory training corpus and segment sampler."""
from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from vc.features import SpeakerStats, load_features, read_feats_scp
from vc.voice.data import (SegmentSampler, SpeakerCorpus, TrainDataError, denormalize_mcep, fixed_segments,
                           normalize_mcep, pad_frames)

from test_train_fixtures import make_dump


@pytest.fixture(scope="module")
def dump(tmp_path_factory):
    return make_dump(tmp_path_factory.mktemp("dump"), speakers=("s1", "s2", "s3", "s4"), utts_per_speaker=4,
                     lengths=(10, 40, 70, 300))


def test_short_utterances_are_padded_not_dropped(dump, caplog):
    feats, stats_path = dump
    stats = SpeakerStats.load(stats_path)
    with caplog.at_level(logging.INFO):
        corpus = SpeakerCorpus.load(feats, stats, min_frames=64, pad_mode="reflect", progress=False)
    assert len(corpus.utts) == 16
    assert "8 of 16 utterances are shorter than 64 frames" in caplog.text
    assert int(corpus.utt_length.min()) == 64
    # normalised with each utterance's own speaker's statistics
    path = read_feats_scp(feats)["s3_003"]
    f, _ = load_features(path)
    i = corpus.utts.index("s3_003")
    expected = normalize_mcep(f.mcep, stats, 2)
    assert torch.allclose(corpus.utterance(i), torch.from_numpy(expected))
    assert np.allclose(denormalize_mcep(expected, stats, 2), f.mcep, atol=1e-4)
    # each frame's voicing is kept beside it (the fixture voices 7 frames in 10)
    start, n = int(corpus.utt_offset[i]), len(f.f0)
    assert torch.equal(corpus.voiced[start:start + n], torch.from_numpy((f.f0 > 0).astype(np.float32)))
    assert corpus.voiced.shape == (corpus.frames.shape[0],)
    # speaker blocks are contiguous views of one float32 array
    block = corpus.speaker_frames(1)
    assert block.dtype == torch.float32 and block.data_ptr() != corpus.frames.data_ptr()
    assert block.untyped_storage().data_ptr() == corpus.frames.untyped_storage().data_ptr()
    assert block.shape[0] == int(corpus.utt_length[corpus.utt_speaker == 1].sum())


def test_pad_modes():
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    assert np.array_equal(pad_frames(x, 5, "reflect")[3:], x[[1, 0]])
    assert np.array_equal(pad_frames(x, 5, "edge")[3:], x[[2, 2]])
    assert pad_frames(x[:1], 4, "reflect").shape == (4, 2)  # one frame: reflect falls back to edge


def test_sampler_is_balanced_seeded_and_targets_differ(dump):
    feats, stats_path = dump
    stats = SpeakerStats.load(stats_path)
    corpus = SpeakerCorpus.load(feats, stats, min_frames=32, pad_mode="edge", progress=False)
    sampler = SegmentSampler(corpus, 32, 256, seed=5)
    x, src, tgt, voiced = sampler.sample()
    assert x.shape == (256, 24, 32) and x.dtype == torch.float32 and voiced.shape == (256, 32)
    assert bool((src != tgt).all())
    counts = torch.bincount(src, minlength=4).float()
    assert counts.min() > 40  # speaker-balanced although speakers' frame counts differ
    assert torch.bincount(tgt, minlength=4).min() > 40
    # every segment is a real window of one utterance of its speaker
    for b in range(0, 256, 37):
        seg = x[b].T
        hits = [(u, s) for u in range(len(corpus.utts)) if corpus.utt_speaker[u] == src[b]
                for s in range(int(corpus.utt_length[u]) - 31) if torch.equal(corpus.utterance(u)[s:s + 32], seg)]
        assert hits, b
        u, s = hits[0]  # ... and comes with that window's voicing
        off = int(corpus.utt_offset[u]) + s
        assert torch.equal(voiced[b], corpus.voiced[off:off + 32])
    state = sampler.state_dict()
    a = sampler.sample()
    sampler.load_state_dict(state)
    b = sampler.sample()
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    other = SegmentSampler(corpus, 32, 256, seed=5)
    assert torch.equal(other.sample()[0], x)


def test_fixed_segments_are_deterministic(dump):
    feats, stats_path = dump
    corpus = SpeakerCorpus.load(feats, SpeakerStats.load(stats_path), min_frames=32, pad_mode="edge",
                                progress=False)
    x, spk, voiced = fixed_segments(corpus, 32)
    assert x.shape[1:] == (24, 32) and len(x) == len(spk) and voiced.shape == (len(x), 32)
    off = int(corpus.utt_offset[0])  # the first segment is the first utterance's first 32 frames
    assert torch.equal(x[0], corpus.frames[off:off + 32].T) and torch.equal(voiced[0], corpus.voiced[off:off + 32])
    y, _, _ = fixed_segments(corpus, 32, max_segments=5)
    assert len(y) == 5 and torch.equal(y, fixed_segments(corpus, 32, max_segments=5)[0])


def test_unknown_speaker_and_mismatched_settings(dump, tmp_path):
    feats, stats_path = dump
    stats = SpeakerStats.load(stats_path)
    fewer = SpeakerStats(stats.speakers[:3], stats.lf0_mean[:3], stats.lf0_std[:3], stats.mcep_mean[:3],
                         stats.mcep_std[:3], stats.num_frames[:3], stats.num_voiced[:3], stats.config)
    with pytest.raises(TrainDataError, match=r"speakers not in the statistics: s4 \(4 utts\)"):
        SpeakerCorpus.load(feats, fewer, min_frames=32, pad_mode="edge", progress=False)
    held_out = SpeakerCorpus.load(feats, fewer, min_frames=32, pad_mode="edge", strict=False, progress=False)
    assert len(held_out.utts) == 12
    other, _ = make_dump(tmp_path / "other", speakers=("s1", "s2"), mcep_dim=20, utts_per_speaker=1)
    with pytest.raises(TrainDataError, match="mcep_dim: 20 vs 24"):
        SpeakerCorpus.load(other, SpeakerStats.load(stats_path), min_frames=32, pad_mode="edge", strict=False,
                           progress=False)
