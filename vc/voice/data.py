"""Training data of the voice models, held in memory: normalised MCEPs of every speaker and a
seeded segment sampler.

Each frame also keeps its voicing decision (F0 > 0 in the dump), which a voicing-conditioned
discriminator or generator (StarGAN-VC's ``net.discriminator_voicing``, ``net.generator_voicing``)
reads beside the spectrum.

A training step must not touch the disk or run Python loops over the batch: the whole set is
read once into one contiguous float32 tensor ``(total_frames, Q)`` whose speaker blocks are
contiguous (``SpeakerCorpus.speaker_frames(s)`` is a view), and a batch is drawn with a handful
of vectorised tensor operations from a seeded ``torch.Generator`` (whose state the trainer
checkpoints, so resumed runs draw the same batches).
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from vc.config import ConfigError, choice_problem
from vc.data import read_scp
from vc.errors import VCError
from vc.features import FeatureConfig, SpeakerStats, load_features, read_feats_scp
from vc.gan.seeds import PROCESS, stream_seed

log = logging.getLogger(__name__)

#: A coefficient whose standard deviation is below this is treated as constant (normalised to 0).
MIN_STD = 1e-8

#: How utterances shorter than a segment are lengthened (``np.pad`` modes).
PAD_MODES = ("reflect", "edge")


@dataclass
class SegmentDataConfig:
    """Random fixed-length training segments (a voice config's ``data:`` section)."""

    segment_frames: int = 128
    batch_size: int = 8
    pad_mode: str = "reflect"  # how utterances shorter than a segment are lengthened: reflect | edge

    def __post_init__(self) -> None:
        if self.segment_frames < 8:
            raise ConfigError(f"data.segment_frames must be >= 8, got {self.segment_frames}")
        if self.batch_size < 1:
            raise ConfigError(f"data.batch_size must be >= 1, got {self.batch_size}")
        problem = choice_problem("data.pad_mode", self.pad_mode, PAD_MODES)
        if problem:
            raise ConfigError(problem)


class TrainDataError(VCError, ValueError):
    """The feature dump cannot be used with these statistics; the message names the file."""


def check_feature_config(found: FeatureConfig, expected: FeatureConfig, where: str) -> None:
    """Features analysed with other settings than the statistics would be normalised wrongly."""
    a, b = found.resolved(), expected.resolved()
    diffs = [f"{k}: {getattr(a, k)!r} vs {getattr(b, k)!r}" for k in
             ("sample_rate", "frame_period", "fft_size", "mcep_dim", "alpha") if getattr(a, k) != getattr(b, k)]
    if diffs:
        raise TrainDataError(f"{where}: analysis settings differ from the statistics' ({'; '.join(diffs)})")


def normalize_mcep(mcep: np.ndarray, stats: SpeakerStats, speaker: int) -> np.ndarray:
    """``(mcep - mean_s) / std_s`` with the speaker's own statistics, as float32."""
    std = np.maximum(stats.mcep_std[speaker], MIN_STD)
    return ((mcep - stats.mcep_mean[speaker]) / std).astype(np.float32)


def denormalize_mcep(mcep: np.ndarray, stats: SpeakerStats, speaker: int) -> np.ndarray:
    """Inverse of ``normalize_mcep`` with (typically the target) speaker's statistics."""
    std = np.maximum(stats.mcep_std[speaker], MIN_STD)
    return (mcep * std + stats.mcep_mean[speaker]).astype(np.float32)


def pad_frames(x: np.ndarray, length: int, mode: str) -> np.ndarray:
    """Lengthen ``(T, Q)`` to ``length`` frames at the end (reflect needs T >= 2, else edge)."""
    extra = length - x.shape[0]
    if extra <= 0:
        return x
    np_mode = "reflect" if mode == "reflect" and x.shape[0] >= 2 else "edge"
    return np.pad(x, ((0, extra), (0, 0)), mode=np_mode)


@dataclass
class Utterance:
    utt: str
    speaker: str
    path: Path


def list_dump(dump_dir: str | os.PathLike, speakers: list[str], *, strict: bool) -> list[Utterance]:
    """Utterances of a dump (``feats.scp`` + ``utt2spk``), sorted by speaker order then id.

    ``strict``: an utterance of a speaker missing from the statistics is an error (training);
    otherwise it is skipped with a warning (held-out sets may hold unseen speakers).
    """
    dump = Path(dump_dir)
    feats = read_feats_scp(dump)
    u2s_path = dump / "utt2spk"
    if not u2s_path.is_file():
        raise TrainDataError(f"{u2s_path}: missing (vc-extract copies the data dir's utt2spk into the dump)")
    utt2spk = read_scp(u2s_path)
    order = {s: i for i, s in enumerate(speakers)}
    items, unknown = [], {}
    for utt, path in feats.items():
        if utt not in utt2spk:
            raise TrainDataError(f"{u2s_path}: no speaker for utterance {utt} listed in {dump / 'feats.scp'}")
        spk = utt2spk[utt]
        if spk not in order:
            unknown[spk] = unknown.get(spk, 0) + 1
            continue
        items.append(Utterance(utt, spk, path))
    if unknown:
        msg = ", ".join(f"{s} ({n} utts)" for s, n in sorted(unknown.items()))
        if strict:
            raise TrainDataError(f"{dump}: speakers not in the statistics: {msg}; recompute stats for this set")
        log.warning("%s: skipping speakers unknown to the model: %s", dump, msg)
    items.sort(key=lambda u: (order[u.speaker], u.utt))
    return items


class SpeakerCorpus:
    """Normalised MCEPs of a set of utterances, padded to at least ``min_frames`` each."""

    def __init__(self, frames: Tensor, utt_offset: Tensor, utt_length: Tensor, utt_speaker: Tensor,
                 utts: list[str], speakers: list[str], voiced: Tensor):
        self.frames = frames            # (total, Q) float32; speaker blocks contiguous
        self.voiced = voiced            # (total,) float32, 1 where the frame is voiced (F0 > 0)
        self.utt_offset = utt_offset    # (U,) first frame of each utterance
        self.utt_length = utt_length    # (U,) frames (after padding)
        self.utt_speaker = utt_speaker  # (U,) speaker index
        self.utts = utts
        self.speakers = speakers

    @property
    def mcep_dim(self) -> int:
        return int(self.frames.shape[1])

    def speaker_frames(self, speaker: int) -> Tensor:
        """The contiguous block of one speaker's frames (a view, no copy)."""
        mask = self.utt_speaker == speaker
        if not bool(mask.any()):
            return self.frames[:0]
        first = int(self.utt_offset[mask][0])
        last = int(self.utt_offset[mask][-1] + self.utt_length[mask][-1])
        return self.frames[first:last]

    def utterance(self, index: int) -> Tensor:
        start, n = int(self.utt_offset[index]), int(self.utt_length[index])
        return self.frames[start:start + n]

    @classmethod
    def load(cls, dump_dir: str | os.PathLike, stats: SpeakerStats, *, min_frames: int, pad_mode: str,
             strict: bool = True, progress: bool = True) -> "SpeakerCorpus":
        """Read a dump once and normalise each utterance with its speaker's statistics.

        Utterances shorter than ``min_frames`` are padded (``pad_mode``), never dropped; how many
        were padded is logged. With ``strict``, every speaker of the statistics must have data.
        """
        items = list_dump(dump_dir, stats.speakers, strict=strict)
        if not items:
            raise TrainDataError(f"{dump_dir}: no utterances of the model's speakers")
        arrays, voicing, lengths, spk_idx, padded = [], [], [], [], 0
        for item in tqdm(items, desc=f"load {Path(dump_dir).name}", unit="utt", disable=not progress,
                         dynamic_ncols=True):
            feats, fcfg = load_features(item.path)
            check_feature_config(fcfg, stats.config, str(item.path))
            if feats.mcep.shape[0] == 0:
                raise TrainDataError(f"{item.path}: no frames")
            if problem := feats.nonfinite():  # refused here, not found later as a NaN loss
                raise TrainDataError(f"{item.path}: features of speaker {item.speaker} hold NaN/inf ({problem}); "
                                     "re-extract them with vc-extract")
            s = stats.index(item.speaker)
            x = normalize_mcep(feats.mcep, stats, s)
            v = feats.voiced.astype(np.float32)[:, None]  # Features checked that f0 and mcep align
            if x.shape[0] < min_frames:
                padded += 1
                x, v = pad_frames(x, min_frames, pad_mode), pad_frames(v, min_frames, pad_mode)
            arrays.append(x)
            voicing.append(v[:, 0])
            lengths.append(x.shape[0])
            spk_idx.append(s)
        if padded:
            log.info("%s: %d of %d utterances are shorter than %d frames and were padded (%s)",
                     dump_dir, padded, len(items), min_frames, pad_mode)
        present = set(spk_idx)
        missing = [s for i, s in enumerate(stats.speakers) if i not in present]
        if strict and missing:
            raise TrainDataError(f"{dump_dir}: no utterances for speakers {', '.join(missing)} of the statistics")
        length = torch.tensor(lengths, dtype=torch.long)
        offset = torch.cumsum(length, 0) - length
        frames = torch.from_numpy(np.concatenate(arrays, axis=0))
        log.info("%s: %d utterances, %d frames, %d speakers, %.1f MB in memory", dump_dir, len(items),
                 frames.shape[0], len(present), frames.numel() * 4 / 1e6)
        return cls(frames, offset, length, torch.tensor(spk_idx, dtype=torch.long), [i.utt for i in items],
                   list(stats.speakers), torch.from_numpy(np.concatenate(voicing)))


class SegmentBatch(NamedTuple):
    """One training batch: segments, their speakers, the targets they are converted to, voicing."""

    x: Tensor        # (B, Q, segment) normalised MCEP
    source: Tensor   # (B,) speaker of each segment
    target: Tensor   # (B,) a different speaker for each segment
    voiced: Tensor   # (B, segment) 1 where the source frame is voiced


class SegmentSampler:
    """Speaker-balanced random segments with a random target speaker different from the source.

    Each example picks a source speaker uniformly, then a segment start uniformly among all
    valid starts of that speaker's utterances (so long utterances give more segments), then a
    target uniformly among the other speakers.

    Its generator is seeded with ``stream_seed(seed, PROCESS, rank)`` (:mod:`vc.gan.seeds`): the
    run's seed on rank 0, a stream of its own on every other rank of a distributed run.
    """

    def __init__(self, corpus: SpeakerCorpus, segment: int, batch_size: int, seed: int, rank: int = 0):
        if int(corpus.utt_length.min()) < segment:
            raise ValueError("corpus utterances must be padded to at least one segment")
        self.corpus, self.segment, self.batch_size = corpus, segment, batch_size
        self.num_speakers = len(corpus.speakers)
        starts = corpus.utt_length - segment + 1                    # valid starts per utterance
        self._cum_end = torch.cumsum(starts, 0)                     # (U,) in the global "start space"
        self._cum_begin = self._cum_end - starts
        counts = torch.zeros(self.num_speakers, dtype=torch.long).index_add_(0, corpus.utt_speaker, starts)
        self._spk_count = counts
        self._spk_begin = torch.cumsum(counts, 0) - counts          # utterances are grouped by speaker
        self._present = torch.nonzero(counts > 0).flatten()
        self._window = torch.arange(segment)
        self.generator = torch.Generator().manual_seed(stream_seed(seed, PROCESS, rank))

    def sample(self) -> SegmentBatch:
        """The next batch of segments (the same sequence for the same seed and state)."""
        g, b = self.generator, self.batch_size
        src = self._present[torch.randint(len(self._present), (b,), generator=g)]
        r = (torch.rand(b, generator=g, dtype=torch.float64) * self._spk_count[src]).long()
        pos = self._spk_begin[src] + torch.minimum(r, self._spk_count[src] - 1)
        utt = torch.searchsorted(self._cum_end, pos, right=True)
        start = self.corpus.utt_offset[utt] + (pos - self._cum_begin[utt])
        frames = start[:, None] + self._window
        x = self.corpus.frames[frames]                               # (B, segment, Q)
        tgt = (src + torch.randint(1, self.num_speakers, (b,), generator=g)) % self.num_speakers
        return SegmentBatch(x.transpose(1, 2).contiguous(), src, tgt, self.corpus.voiced[frames])

    def state_dict(self) -> dict[str, Tensor]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        self.generator.set_state(state["generator"])


def fixed_segments(corpus: SpeakerCorpus, segment: int, max_segments: int | None = None,
                   seed: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    """Non-overlapping segments of every utterance (deterministic), for held-out measurements.

    Returns ``(x (N, Q, segment), speaker (N,), voiced (N, segment))``; with ``max_segments`` a
    seeded subset balanced by taking segments in a fixed random order.
    """
    idx, spk = [], []
    for u in range(len(corpus.utts)):
        off, n = int(corpus.utt_offset[u]), int(corpus.utt_length[u])
        for s in range(0, n - segment + 1, segment):
            idx.append(off + s)
            spk.append(int(corpus.utt_speaker[u]))
    starts = torch.tensor(idx, dtype=torch.long)
    speakers = torch.tensor(spk, dtype=torch.long)
    if max_segments is not None and len(starts) > max_segments:
        keep = torch.randperm(len(starts), generator=torch.Generator().manual_seed(seed))[:max_segments]
        keep = keep.sort().values
        starts, speakers = starts[keep], speakers[keep]
    frames = starts[:, None] + torch.arange(segment)
    return corpus.frames[frames].transpose(1, 2).contiguous(), speakers, corpus.voiced[frames]
