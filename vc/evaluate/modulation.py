"""Modulation spectrum distance (MSD): how a conversion's mel-cepstral trajectories move in time.

MCD compares aligned frames one by one, so a converted voice whose trajectories are smoothed in
time (a common fault of GAN and regression VC, and of this toolkit's demo model) scores well on
it; the modulation spectrum (Takamichi et al. 2016), the power spectrum of each coefficient's
trajectory, shows the lost fluctuation directly, and the StarGAN-VC2 paper (Kaneko et al. 2019)
reports its distance beside MCD. Being a spectrum of the whole trajectory it needs no alignment
of the converted utterance to the reference, only the same sentence.

Variant (printed by :func:`msd_variant`): c1..c(D-1) (c0, the level, excluded as in MCD), the
speech span of each utterance (first to last frame within ``silence_db`` of its loudest), Welch
averaging over Hann-windowed segments of ~320 ms with half overlap and each segment's mean
removed, power in dB, modulation frequencies from the first bin above 0 Hz to the Nyquist
frequency of the frame rate; MSD = RMS over coefficients and frequencies of the difference between
the converted and the reference utterance's modulation spectra.
"""
from __future__ import annotations

import math

import numpy as np

from vc.evaluate.align import DEFAULT_SILENCE_DB, nonsilent_frames

#: Segment duration of the Welch average: long enough to resolve syllable-rate (3-8 Hz)
#: modulation, short enough to give several segments per sentence.
SEGMENT_MS = 320.0


def segment_frames(frame_period_ms: float) -> int:
    """The power of two of frames closest to :data:`SEGMENT_MS` (64 at 5 ms frames)."""
    if not frame_period_ms > 0:
        raise ValueError(f"frame period must be > 0 ms, got {frame_period_ms}")
    return max(8, 2 ** round(math.log2(SEGMENT_MS / frame_period_ms)))


def speech_span(mcep: np.ndarray, silence_db: float | None = DEFAULT_SILENCE_DB) -> np.ndarray:
    """The frames from the first to the last non-silent one (pauses inside are kept: they are
    part of the trajectory's movement)."""
    idx = nonsilent_frames(mcep, silence_db)
    return mcep[idx[0]:idx[-1] + 1]


def modulation_spectrum(mcep: np.ndarray, seg: int) -> np.ndarray:
    """``(D - 1, seg // 2)`` modulation power in dB of c1..c(D-1) of ``mcep`` ``(T, D)``.

    Segments of ``seg`` frames hop by ``seg // 2``; a trajectory shorter than one segment is one
    zero-padded segment. Bin k is k / (seg * frame period), k = 1..seg/2.
    """
    x = np.asarray(mcep, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < 2 or x.shape[0] < 2:
        raise ValueError(f"need a (T >= 2, D >= 2) mel-cepstrum, got shape {np.shape(mcep)}")
    x = x[:, 1:]
    if x.shape[0] < seg:
        starts = [0]
    else:
        starts = list(range(0, x.shape[0] - seg + 1, seg // 2))
    window = np.hanning(seg + 2)[1:-1]  # no zero end points: every frame counts
    power = np.zeros((x.shape[1], seg // 2 + 1))
    for s in starts:
        chunk = x[s:s + seg]
        chunk = chunk - chunk.mean(axis=0)
        padded = np.zeros((seg, x.shape[1]))
        padded[:len(chunk)] = chunk * window[:len(chunk), None]
        power += np.abs(np.fft.rfft(padded, axis=0)).T ** 2
    power /= len(starts)
    return 10.0 * np.log10(power[:, 1:] + 1e-12)


def modulation_spectrum_distance(ref_mcep: np.ndarray, conv_mcep: np.ndarray, frame_period_ms: float,
                                 silence_db: float | None = DEFAULT_SILENCE_DB) -> float:
    """MSD in dB between a converted utterance and a reference of the same sentence; NaN (not an
    error, so the utterance keeps its other scores) when either speech span is a single frame."""
    seg = segment_frames(frame_period_ms)
    spans = speech_span(ref_mcep, silence_db), speech_span(conv_mcep, silence_db)
    if min(len(s) for s in spans) < 2:
        return math.nan
    ref, conv = (modulation_spectrum(s, seg) for s in spans)
    if ref.shape != conv.shape:
        raise ValueError(f"mel-cepstra of different orders: {ref.shape[0] + 1} and {conv.shape[0] + 1}")
    return float(np.sqrt(np.mean((conv - ref) ** 2)))


def msd_variant(frame_period_ms: float, silence_db: float | None = DEFAULT_SILENCE_DB) -> str:
    """The definition behind the reported MSD numbers."""
    seg = segment_frames(frame_period_ms)
    step = 1000.0 / (seg * frame_period_ms)
    span = (f"speech span (first to last frame within {-silence_db:g} dB of the loudest)"
            if silence_db is not None else "whole utterance")
    return (f"MSD [dB] = RMS over c1..c(D-1) and modulation frequencies {step:.3g}-{500.0 / frame_period_ms:g} Hz "
            f"of the difference of log modulation spectra (Welch: Hann segments of {seg} frames, half overlap, "
            f"segment mean removed), converted vs reference of the same sentence, no alignment; {span}; "
            "then mean over utterances")
