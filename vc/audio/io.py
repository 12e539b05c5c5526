"""Reading and writing audio files (any format libsndfile reads: WAV, FLAC, OGG, AIFF, ...)."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import soundfile as sf

from vc.audio.checks import AudioError, check_sample_rate, sample_rate_problem, validate_wave
from vc.audio.resample import resample
from vc.fileio import atomic_path

log = logging.getLogger(__name__)

# File extensions of the libsndfile formats people store speech in; only formats that this
# libsndfile build reports as available are kept (MP3 needs libsndfile >= 1.1, for example).
_EXTENSIONS_BY_FORMAT = {
    "WAV": (".wav",), "WAVEX": (".wav",), "RF64": (".rf64",), "W64": (".w64",),
    "FLAC": (".flac",), "OGG": (".ogg", ".oga", ".opus"), "MP3": (".mp3",),
    "AIFF": (".aif", ".aiff", ".aifc"), "AU": (".au", ".snd"), "CAF": (".caf",), "NIST": (".sph", ".nist"),
}

#: Extensions (lower case, with dot) that data preparation treats as audio.
AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    ext for fmt, exts in _EXTENSIONS_BY_FORMAT.items() if fmt in sf.available_formats() for ext in exts
)

#: Peak that write_audio scales an over-range wave to, leaving headroom for PCM rounding.
WRITE_PEAK = 0.99


def audio_info(path: str | os.PathLike, *, max_duration: float | None = None) -> sf._SoundFileInfo:
    """The header of the audio file ``path`` (rate, frames, channels), checked without reading the
    samples: the file exists and is readable, its sample rate lies in the supported range
    (:func:`~vc.audio.checks.check_sample_rate`) and, when ``max_duration`` is given (seconds;
    None or 0: no limit), it lasts no longer. Raises :class:`AudioError` naming the file."""
    path = Path(path)
    if not path.exists():
        raise AudioError(path, "file not found")
    if path.is_dir():
        raise AudioError(path, "is a directory, not an audio file")
    if not path.is_file():
        raise AudioError(path, "not a regular file")
    if path.stat().st_size == 0:
        raise AudioError(path, "empty file (0 bytes)")
    try:
        info = sf.info(str(path))
    except (sf.SoundFileError, RuntimeError, ValueError, TypeError) as exc:
        raise AudioError(path, f"unreadable audio ({exc})") from exc
    problem = sample_rate_problem(info.samplerate)
    if problem:
        raise AudioError(path, f"{problem} (in its header)")
    if max_duration and info.frames > max_duration * info.samplerate:
        raise AudioError(path, f"too long ({info.frames / info.samplerate:.1f} s > maximum {max_duration:g} s)")
    return info


def load_audio(path: str | os.PathLike, sample_rate: int, *, min_duration: float = 0.1,
               max_duration: float | None = None) -> np.ndarray:
    """Read ``path`` as float64 mono at ``sample_rate`` Hz.

    Multichannel audio is averaged; the checks of :func:`validate_wave` run on the file's own
    rate before resampling, so a NaN is reported where it is and not smeared by the filter.
    The header is checked first (:func:`audio_info`: sample rate in range, at most
    ``max_duration`` seconds), so nothing is read or allocated for a file that would be refused.
    Raises :class:`AudioError` (``"<path>: <reason>"``) for missing, unreadable, empty,
    non-finite, silent, too-short or too-long audio, or a sample rate out of range.
    """
    sample_rate = check_sample_rate(sample_rate, "requested sample rate")
    path = Path(path)
    audio_info(path, max_duration=max_duration)
    try:
        data, file_sr = sf.read(str(path), dtype="float64", always_2d=True)
    except (sf.SoundFileError, RuntimeError, ValueError, TypeError) as exc:
        raise AudioError(path, f"unreadable audio ({exc})") from exc
    mono = validate_wave(data, file_sr, name=str(path), min_duration=min_duration)
    return resample(mono, file_sr, sample_rate)


def write_audio(path: str | os.PathLike, wave: np.ndarray, sample_rate: int, *, subtype: str = "PCM_16") -> None:
    """Write ``wave`` atomically; the format follows the file extension.

    Over-range audio is scaled down to a peak of 0.99 (with a warning) instead of clipping,
    because clipping a converted voice adds audible distortion that looks like a model fault.
    """
    wave = np.asarray(wave, dtype=np.float64)
    if wave.size == 0:
        raise AudioError(path, "refusing to write empty audio (0 samples)")
    if not np.isfinite(wave).all():
        raise AudioError(path, "refusing to write non-finite samples (NaN/inf)")
    sample_rate = check_sample_rate(sample_rate, str(path))
    peak = float(np.max(np.abs(wave)))
    if peak > 1.0:
        log.warning("%s: peak %.3f exceeds full scale; scaled down to %.2f", path, peak, WRITE_PEAK)
        wave = wave * (WRITE_PEAK / peak)
    with atomic_path(path) as tmp:
        sf.write(str(tmp), wave, int(sample_rate), subtype=subtype)
