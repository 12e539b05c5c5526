"""WORLD analysis of one waveform into the stored features (F0, mel-cepstrum, band aperiodicity)."""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from vc.features._deps import pyworld
from vc.features.config import FeatureConfig
from vc.features.mcep import sp_to_mcep


@dataclass
class Features:
    """Frame-synchronous features of one utterance (float32, one row per frame)."""

    f0: np.ndarray  # (T,) Hz, 0 where unvoiced
    mcep: np.ndarray  # (T, D) mel-cepstrum c0..c(D-1)
    bap: np.ndarray  # (T, B) band aperiodicity in dB; B = 0: analysed without it (training only)

    def __post_init__(self) -> None:
        self.f0 = np.asarray(self.f0, dtype=np.float32)
        self.mcep = np.asarray(self.mcep, dtype=np.float32)
        self.bap = np.asarray(self.bap, dtype=np.float32)
        if self.f0.ndim != 1 or self.mcep.ndim != 2 or self.bap.ndim != 2:
            raise ValueError(
                f"features must be f0 (T,), mcep (T, D), bap (T, B); got {self.f0.shape}, {self.mcep.shape}, {self.bap.shape}"
            )
        if not len(self.f0) == len(self.mcep) == len(self.bap):
            raise ValueError(
                f"frame counts differ: f0 {len(self.f0)}, mcep {len(self.mcep)}, bap {len(self.bap)}"
            )

    @property
    def num_frames(self) -> int:
        return len(self.f0)

    def nonfinite(self) -> str | None:
        """Which arrays hold NaN/inf, e.g. ``"f0 (2 frame(s), first at frame 10)"``; None when all
        are finite. Such features must never be stored or used: one NaN frame turns a speaker's
        statistics, and through them every training step, into NaN."""
        found = []
        for name in ("f0", "mcep", "bap"):
            array = getattr(self, name)
            bad = ~np.isfinite(array)
            if bad.any():
                frames = bad if bad.ndim == 1 else bad.any(axis=1)
                found.append(f"{name} ({int(frames.sum())} frame(s), first at frame {int(np.argmax(frames))})")
        return "; ".join(found) or None

    @property
    def has_aperiodicity(self) -> bool:
        """False for features analysed without D4C (``vc-extract --no-aperiodicity``)."""
        return self.bap.shape[1] > 0

    @property
    def voiced(self) -> np.ndarray:
        """Boolean mask of voiced frames (F0 > 0)."""
        return self.f0 > 0


def extract_f0(wave: np.ndarray, cfg: FeatureConfig, speaker: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """F0 contour and frame times (s) with the configured method and the speaker's F0 range."""
    floor, ceil = cfg.f0_range(speaker)
    if cfg.f0_method == "dio":
        f0, times = pyworld.dio(wave, cfg.sample_rate, f0_floor=floor, f0_ceil=ceil, frame_period=cfg.frame_period)
        # DIO alone is coarse; StoneMask refines each voiced frame's F0 from instantaneous frequency.
        f0 = pyworld.stonemask(wave, f0, times, cfg.sample_rate)
    elif cfg.f0_method == "harvest":
        f0, times = pyworld.harvest(wave, cfg.sample_rate, f0_floor=floor, f0_ceil=ceil, frame_period=cfg.frame_period)
    else:  # FeatureConfig validates this; kept for configs mutated after construction
        raise ValueError(f"unknown f0_method {cfg.f0_method!r}")
    return f0, times


#: WORLD's band spacing for coded aperiodicity (kFrequencyInterval): bands sit at 3, 6, 9... kHz.
_BAND_SPACING_HZ = 3000.0
_log10 = np.frompyfunc(math.log10, 1, 1)  # the C library's log10, as WORLD's coder calls it


def code_aperiodicity(ap: np.ndarray, sample_rate: int) -> np.ndarray:
    """``pyworld.code_aperiodicity``, bit for bit, reading only the bins it interpolates.

    WORLD's coder takes ``20 log10`` of all ``fft_size/2 + 1`` bins of every frame and then
    linearly interpolates that at each band frequency; only the two bins around each band matter,
    which makes this ~10x cheaper. tests/test_features_bap.py checks equality with pyworld.
    """
    ap = np.asarray(ap, dtype=np.float64)
    bins = ap.shape[1]
    delta = sample_rate / (2.0 * (bins - 1))  # Hz per bin
    bands = _BAND_SPACING_HZ * np.arange(1.0, pyworld.get_num_aperiodicities(sample_rate) + 1.0)
    base = (bands / delta).astype(np.int64)  # WORLD's interp1Q: truncation, then the fraction
    frac = bands / delta - base
    lo = 20 * _log10(ap[:, base]).astype(np.float64)
    has_next = base + 1 < bins
    hi = 20 * _log10(ap[:, np.minimum(base + 1, bins - 1)]).astype(np.float64)
    return lo + np.where(has_next, hi - lo, 0.0) * frac


#: WORLD's kMySafeGuardMinimum: a fully aperiodic bin is stored as 1 - this.
_SAFE_GUARD = 1e-12


@functools.lru_cache(maxsize=8)
def _band_interpolation(sample_rate: int, fft_size: int) -> np.ndarray:
    """(bands + 2, fft_size/2 + 1) weights of WORLD's linear interpolation in dB from its coarse
    axis (0 Hz, the band centres, Nyquist) to every FFT bin, as ``interp1`` in DecodeAperiodicity."""
    bands = pyworld.get_num_aperiodicities(sample_rate)
    coarse = np.concatenate([[0.0], _BAND_SPACING_HZ * np.arange(1.0, bands + 1.0), [sample_rate / 2.0]])
    freq = sample_rate / fft_size * np.arange(fft_size // 2 + 1)
    seg = np.clip(np.searchsorted(coarse, freq, side="right") - 1, 0, bands)  # coarse[seg] <= f < coarse[seg + 1]
    frac = (freq - coarse[seg]) / (coarse[seg + 1] - coarse[seg])
    weights = np.zeros((bands + 2, len(freq)))
    cols = np.arange(len(freq))
    weights[seg, cols] = 1.0 - frac
    weights[seg + 1, cols] += frac
    return weights


def decode_aperiodicity(bap: np.ndarray, sample_rate: int, fft_size: int) -> np.ndarray:
    """``pyworld.decode_aperiodicity`` (to float rounding) as one matrix product over all frames.

    WORLD interpolates each frame's band values in dB between -60 dB at 0 Hz and 0 dB at Nyquist
    and takes ``10 ** (dB / 20)``, frame by frame; frames whose bands average above -0.5 dB stay
    fully aperiodic. Here the interpolation is a fixed (bands + 2, bins) weight matrix, 3-12x
    cheaper than pyworld's loop on 30 s of audio (11 ms against 35-127 ms, one core): that loop
    was most of what synthesis added to bare WORLD synthesis besides the envelope decoding.
    tests/test_features_bap.py compares the two.
    """
    bap = np.asarray(bap, dtype=np.float64)
    bands = pyworld.get_num_aperiodicities(sample_rate)
    if bap.ndim != 2 or bap.shape[1] != bands:
        raise ValueError(f"band aperiodicity at {sample_rate} Hz needs shape (frames, {bands}), got {bap.shape}")
    coarse = np.empty((len(bap), bands + 2))
    coarse[:, 0], coarse[:, 1:-1], coarse[:, -1] = -60.0, bap, -_SAFE_GUARD
    ap = coarse @ _band_interpolation(int(sample_rate), int(fft_size))
    np.multiply(ap, math.log(10.0) / 20.0, out=ap)
    np.exp(ap, out=ap)
    ap[bap.mean(axis=1) > -0.5] = 1.0 - _SAFE_GUARD  # WORLD's CheckVUV: treated as unvoiced
    return ap


def analyze(wave: np.ndarray, cfg: FeatureConfig, speaker: str | None = None, *,
            aperiodicity: bool = True) -> Features:
    """WORLD analysis of a mono float waveform at ``cfg.sample_rate``.

    ``speaker`` selects a per-speaker F0 range from ``cfg.speaker_f0_ranges``; the spectral
    envelope is coded to mel-cepstrum exactly as pysptk.sp2mc would, and the aperiodicity to
    pyworld's band aperiodicity. ``aperiodicity=False`` skips D4C, about half of the analysis
    time, for features that only train a model (training reads F0 and the mel-cepstrum): ``bap``
    then has no bands, and the features cannot be synthesized.
    """
    cfg = cfg.resolved()
    x = np.ascontiguousarray(wave, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"expected a non-empty mono waveform, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("waveform contains NaN or infinite samples")
    f0, times = extract_f0(x, cfg, speaker)
    sp = pyworld.cheaptrick(x, f0, times, cfg.sample_rate, fft_size=cfg.fft_size)
    mcep = sp_to_mcep(sp, cfg.mcep_dim, cfg.alpha)
    if not aperiodicity:
        return Features(f0=f0, mcep=mcep, bap=np.zeros((len(f0), 0), dtype=np.float32))
    ap = pyworld.d4c(x, f0, times, cfg.sample_rate, fft_size=cfg.fft_size)
    return Features(f0=f0, mcep=mcep, bap=code_aperiodicity(ap, cfg.sample_rate))
