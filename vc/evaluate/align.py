"""Silence removal and DTW alignment of two mel-cepstral sequences.

MCD and the F0 metrics compare a converted utterance with a reference spoken at another pace,
so both are scored along one time alignment. Computing it once here (and handing the frame
pairs to every metric) guarantees that F0 errors and spectral errors describe the same frames.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# 20/ln(10): SPTK's c0 is the mean log *amplitude*, so this turns c0 into a level in dB.
C0_TO_DB = 20.0 / math.log(10.0)
DEFAULT_SILENCE_DB = -40.0


@dataclass(frozen=True)
class Alignment:
    """Pairs of frame indices (``ref[i]`` aligned with ``conv[i]``) into the *untrimmed* arrays.

    Indexing the original arrays (not the silence-trimmed copies) lets F0, V/UV and any other
    frame-rate feature of the same utterances be compared along the path without re-trimming.
    """

    ref: np.ndarray  # (N,) int
    conv: np.ndarray  # (N,) int
    ref_kept: int  # non-silent frames of the reference that entered the alignment
    conv_kept: int

    def __len__(self) -> int:
        return int(self.ref.shape[0])


def frame_level_db(mcep: np.ndarray) -> np.ndarray:
    """Per-frame level in dB read from c0 (the mean log-spectral amplitude)."""
    return C0_TO_DB * np.asarray(mcep, dtype=np.float64)[:, 0]


def nonsilent_frames(mcep: np.ndarray, threshold_db: float | None = DEFAULT_SILENCE_DB) -> np.ndarray:
    """Indices of frames whose c0 level is within ``threshold_db`` of the loudest frame.

    The threshold is relative to the utterance's own maximum so that recordings at different
    gains (or a converted voice that is quieter than the reference) lose comparable parts.
    ``None`` keeps every frame.
    """
    mcep = _check_mcep(mcep, "mcep")
    if threshold_db is None:
        return np.arange(mcep.shape[0])
    if threshold_db >= 0:
        raise ValueError(f"silence threshold must be negative (dB below the loudest frame), got {threshold_db}")
    level = frame_level_db(mcep)
    return np.flatnonzero(level >= level.max() + threshold_db)


def dtw_path(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-cost monotonic path between frame sequences ``x`` (N, d) and ``y`` (M, d).

    librosa's DTW (symmetric steps (1,1), (1,0), (0,1), Euclidean local cost) does the work;
    its path comes back end-first, so it is reversed into time order here.
    """
    import librosa  # deferred: librosa's import is slow and only alignment needs it

    _, wp = librosa.sequence.dtw(X=np.ascontiguousarray(x.T), Y=np.ascontiguousarray(y.T),
                                 metric="euclidean", backtrack=True)
    wp = wp[::-1]
    return wp[:, 0].astype(np.int64), wp[:, 1].astype(np.int64)


def align(ref_mcep: np.ndarray, conv_mcep: np.ndarray, *, silence_db: float | None = DEFAULT_SILENCE_DB,
          use_dtw: bool = True) -> Alignment:
    """Drop silent frames from both sides, then DTW-align on c1.. (c0 carries only loudness).

    With ``use_dtw=False`` the (trimmed) sequences must have equal length and are paired
    frame by frame; this is for inputs that are already time-aligned.
    """
    ref_mcep = _check_mcep(ref_mcep, "reference mcep")
    conv_mcep = _check_mcep(conv_mcep, "converted mcep")
    if ref_mcep.shape[1] != conv_mcep.shape[1]:
        raise ValueError(f"mcep dimensions differ: reference {ref_mcep.shape[1]}, converted {conv_mcep.shape[1]}")
    ref_idx = nonsilent_frames(ref_mcep, silence_db)
    conv_idx = nonsilent_frames(conv_mcep, silence_db)
    if use_dtw:
        i, j = dtw_path(ref_mcep[ref_idx, 1:], conv_mcep[conv_idx, 1:])
    else:
        if len(ref_idx) != len(conv_idx):
            raise ValueError(f"use_dtw=False needs equally long inputs after silence removal, "
                             f"got {len(ref_idx)} and {len(conv_idx)} frames")
        i = j = np.arange(len(ref_idx))
    return Alignment(ref=ref_idx[i], conv=conv_idx[j], ref_kept=len(ref_idx), conv_kept=len(conv_idx))


def _check_mcep(mcep: np.ndarray, name: str) -> np.ndarray:
    mcep = np.asarray(mcep, dtype=np.float64)
    if mcep.ndim != 2 or mcep.shape[0] == 0 or mcep.shape[1] < 2:
        raise ValueError(f"{name}: expected a (frames, dims>=2) array with at least one frame, got shape {mcep.shape}")
    if not np.all(np.isfinite(mcep)):
        raise ValueError(f"{name}: contains non-finite values")
    return mcep
