"""Per-speaker normalization statistics (``stats.npz``, see docs/formats.md).

Statistics are accumulated one utterance at a time with Chan et al.'s pairwise update of
(count, mean, sum of squared deviations) in float64, so a corpus of any size is one streaming
pass with constant memory and no catastrophic cancellation of a naive sum of squares.
Standard deviations are population values (ddof=0).
"""
from __future__ import annotations

import logging
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
from tqdm import tqdm

from vc.features.config import FeatureConfig
from vc.features.storage import load_features
from vc.features.world import Features
from vc.fileio import atomic_path
from vc.errors import VCError

log = logging.getLogger(__name__)

_KEYS = ("speakers", "lf0_mean", "lf0_std", "mcep_mean", "mcep_std", "num_frames", "num_voiced", "settings")


class StatsError(VCError, ValueError):
    """Statistics cannot be computed or loaded (e.g. a speaker without voiced frames)."""


@dataclass
class _Moments:
    """Running count/mean/M2 of row vectors (Chan's parallel algorithm)."""

    n: int = 0
    mean: np.ndarray | float = 0.0
    m2: np.ndarray | float = 0.0

    def add(self, x: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float64)
        nb = x.shape[0]
        if nb == 0:
            return
        mean_b = x.mean(axis=0)
        m2_b = ((x - mean_b) ** 2).sum(axis=0)
        n = self.n + nb
        delta = mean_b - self.mean
        self.mean = self.mean + delta * (nb / n)
        self.m2 = self.m2 + m2_b + delta**2 * (self.n * nb / n)
        self.n = n

    @property
    def std(self) -> np.ndarray | float:
        return np.sqrt(self.m2 / self.n)


@dataclass
class StatsAccumulator:
    """Streaming per-speaker accumulation; feed utterances with :meth:`add`, then :meth:`result`."""

    config: FeatureConfig
    _lf0: dict[str, _Moments] = field(default_factory=dict)
    _mcep: dict[str, _Moments] = field(default_factory=dict)
    _utts: dict[str, int] = field(default_factory=dict)

    def add(self, speaker: str, feats: Features) -> None:
        if feats.mcep.shape[1] != self.config.mcep_dim:
            raise StatsError(f"speaker {speaker}: mcep has {feats.mcep.shape[1]} coefficients, expected {self.config.mcep_dim}")
        if problem := feats.nonfinite():
            raise StatsError(f"speaker {speaker}: features hold NaN/inf ({problem}); statistics would be NaN")
        voiced = feats.f0[feats.voiced].astype(np.float64)
        self._lf0.setdefault(speaker, _Moments()).add(np.log(voiced)[:, None])
        self._mcep.setdefault(speaker, _Moments()).add(feats.mcep)
        self._utts[speaker] = self._utts.get(speaker, 0) + 1

    def result(self, speakers: Sequence[str] | None = None) -> "SpeakerStats":
        speakers = sorted(self._mcep) if speakers is None else list(speakers)
        problems = []
        for spk in speakers:
            if spk not in self._mcep or self._mcep[spk].n == 0:
                problems.append(f"speaker {spk}: no frames at all (no extracted utterances?)")
            elif self._lf0[spk].n == 0:
                floor, ceil = self.config.f0_range(spk)
                problems.append(
                    f"speaker {spk}: no voiced frames in {self._utts[spk]} utterance(s) "
                    f"(F0 search range {floor:g}-{ceil:g} Hz; check the audio or speaker_f0_ranges)"
                )
        if problems:
            raise StatsError("cannot compute speaker statistics:\n" + "\n".join(problems))
        for spk in speakers:
            if self._lf0[spk].n < 100:
                log.warning("speaker %s: log-F0 statistics from only %d voiced frames are unreliable", spk, self._lf0[spk].n)
        stats = SpeakerStats(
            speakers=speakers,
            lf0_mean=np.array([float(self._lf0[s].mean[0]) for s in speakers]),
            lf0_std=np.array([float(self._lf0[s].std[0]) for s in speakers]),
            mcep_mean=np.stack([self._mcep[s].mean for s in speakers]),
            mcep_std=np.stack([self._mcep[s].std for s in speakers]),
            num_frames=np.array([self._mcep[s].n for s in speakers], dtype=np.int64),
            num_voiced=np.array([self._lf0[s].n for s in speakers], dtype=np.int64),
            config=self.config,
        )
        stats.check("the computed statistics")
        return stats


@dataclass
class SpeakerStats:
    """Per-speaker log-F0 and MCEP mean/std, arrays indexed in ``speakers`` order."""

    speakers: list[str]
    lf0_mean: np.ndarray  # (S,) natural-log F0 over voiced frames
    lf0_std: np.ndarray  # (S,)
    mcep_mean: np.ndarray  # (S, D)
    mcep_std: np.ndarray  # (S, D)
    num_frames: np.ndarray  # (S,) int64
    num_voiced: np.ndarray  # (S,) int64
    config: FeatureConfig

    def problems(self) -> list[str]:
        """What makes these statistics unusable (empty when nothing does): arrays whose shapes do
        not fit the speaker list, and per speaker any NaN/inf mean or std, or a negative std."""
        n = len(self.speakers)
        shapes = {"lf0_mean": (n,), "lf0_std": (n,), "num_frames": (n,), "num_voiced": (n,)}
        found = [f"{k} has shape {np.shape(getattr(self, k))}, expected {want} for {n} speaker(s)"
                 for k, want in shapes.items() if np.shape(getattr(self, k)) != want]
        for k in ("mcep_mean", "mcep_std"):
            shape = np.shape(getattr(self, k))
            if len(shape) != 2 or shape[0] != n:
                found.append(f"{k} has shape {shape}, expected ({n}, mcep_dim)")
        if found:
            return found
        for i, spk in enumerate(self.speakers):
            bad = [k for k in ("lf0_mean", "lf0_std", "mcep_mean", "mcep_std")
                   if not np.isfinite(np.asarray(getattr(self, k)[i], dtype=np.float64)).all()]
            if bad:
                found.append(f"speaker {spk}: non-finite {', '.join(bad)} (NaN/inf)")
            elif (np.asarray(self.lf0_std[i]) < 0).any() or (np.asarray(self.mcep_std[i]) < 0).any():
                found.append(f"speaker {spk}: negative standard deviation")
        return found

    def check(self, where: str | os.PathLike) -> None:
        """Raise :class:`StatsError` naming ``where`` (the file) and each speaker whose statistics
        are unusable (:meth:`problems`): training would stop with a NaN loss and conversion would
        write noise, far from the cause."""
        found = self.problems()
        if found:
            raise StatsError(f"{where}: unusable statistics: " + "; ".join(found[:5])
                             + (f"; ... ({len(found) - 5} more)" if len(found) > 5 else "")
                             + " (recompute them with vc-stats from finite features)")

    def index(self, speaker: str) -> int:
        try:
            return self.speakers.index(speaker)
        except ValueError:
            raise KeyError(f"unknown speaker {speaker!r}; known speakers: {', '.join(self.speakers)}") from None

    @staticmethod
    def from_features(
        items: Iterable[tuple[str, Features]],
        config: FeatureConfig,
        speakers: Sequence[str] | None = None,
    ) -> "SpeakerStats":
        """Statistics from ``(speaker, features)`` pairs, consumed as a stream.

        ``speakers`` fixes the order (and demands that each has data); by default the sorted
        set of speakers seen.
        """
        acc = StatsAccumulator(config.resolved())
        for spk, feats in items:
            acc.add(spk, feats)
        return acc.result(speakers)

    def save(self, path: str | os.PathLike) -> None:
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(
                fh,
                speakers=np.array(self.speakers, dtype=str),
                lf0_mean=np.asarray(self.lf0_mean, dtype=np.float64),
                lf0_std=np.asarray(self.lf0_std, dtype=np.float64),
                mcep_mean=np.asarray(self.mcep_mean, dtype=np.float64),
                mcep_std=np.asarray(self.mcep_std, dtype=np.float64),
                num_frames=np.asarray(self.num_frames, dtype=np.int64),
                num_voiced=np.asarray(self.num_voiced, dtype=np.int64),
                settings=np.array(self.config.resolved().to_json()),
            )

    @classmethod
    def load(cls, path: str | os.PathLike) -> "SpeakerStats":
        try:
            with np.load(path, allow_pickle=False) as npz:
                missing = [k for k in _KEYS if k not in npz.files]
                if missing:
                    raise StatsError(f"{path}: missing entries {', '.join(missing)} (not written by vc-stats?)")
                data = {k: npz[k] for k in _KEYS}
        except FileNotFoundError:
            raise StatsError(f"{path}: no such statistics file") from None
        except StatsError:
            raise
        except (OSError, ValueError, zipfile.BadZipFile) as e:
            raise StatsError(f"{path}: not a readable statistics file ({e})") from e
        stats = cls(
            speakers=[str(s) for s in data["speakers"]],
            lf0_mean=data["lf0_mean"],
            lf0_std=data["lf0_std"],
            mcep_mean=data["mcep_mean"],
            mcep_std=data["mcep_std"],
            num_frames=data["num_frames"],
            num_voiced=data["num_voiced"],
            config=FeatureConfig.from_json(str(data["settings"][()])),
        )
        stats.check(path)
        return stats


def stats_from_files(feats: Mapping[str, str | os.PathLike], utt2spk: Mapping[str, str],
                     speakers: Sequence[str] | None = None, *, progress: bool = True) -> SpeakerStats:
    """Statistics over feature files (utt -> npz), reading one file at a time.

    Every file must carry the same settings: statistics mixing analysis settings would
    normalize nothing correctly.
    """
    acc: StatsAccumulator | None = None
    first: Path | None = None
    nonfinite: list[str] = []
    for utt in tqdm(sorted(feats), desc="stats", unit="utt", disable=not progress, dynamic_ncols=True):
        if utt not in utt2spk:
            raise StatsError(f"{feats[utt]}: utterance {utt} has no speaker in utt2spk")
        f, cfg = load_features(feats[utt])
        if problem := f.nonfinite():  # every such file is named, not only the first
            nonfinite.append(f"{feats[utt]} ({problem})")
            continue
        if acc is None:
            acc, first = StatsAccumulator(cfg), Path(feats[utt])
        elif cfg != acc.config:
            raise StatsError(f"{feats[utt]}: settings differ from those of {first}; "
                             "all features of a set must come from one vc-extract configuration")
        acc.add(utt2spk[utt], f)
    if nonfinite:
        raise StatsError(f"{len(nonfinite)} feature file(s) hold NaN/inf values: " + ", ".join(nonfinite[:10])
                         + (" ..." if len(nonfinite) > 10 else "")
                         + "; re-extract them (vc-extract refuses to write such features) or remove them "
                         "from feats.scp")
    if acc is None:
        raise StatsError("no feature files to compute statistics from")
    return acc.result(speakers)
