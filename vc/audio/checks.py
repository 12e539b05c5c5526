"""Sanity checks shared by every way audio enters the toolkit.

Bad audio is stopped at the door with the file name and the reason, because a NaN or an
all-zero file that slips through only shows up hours later as a NaN loss or a silent model
(USERS.md: "NaN losses ... and no clue where they came from").
"""
from __future__ import annotations

import numpy as np
from vc.errors import VCError

#: A wave whose absolute peak is below this fraction of full scale (1.0) counts as silent.
#: 1e-4 is -80 dBFS: below the least significant bit of 8-bit audio and a few LSBs of 16-bit
#: audio, so it only catches digital silence and dither, never a quiet but real recording.
SILENCE_PEAK = 1e-4

#: The sample rates (Hz) the toolkit accepts for input and output audio. 1 kHz is below any
#: speech codec; 384 kHz is the highest rate audio interfaces record at. The bounds matter
#: because resampling allocates in proportion to the rate ratio: a file whose header says 1 Hz
#: would otherwise be "resampled" to a billion samples.
MIN_SAMPLE_RATE = 1000
MAX_SAMPLE_RATE = 384000


def sample_rate_problem(rate: object) -> str | None:
    """Why ``rate`` is no usable sample rate (None when it is one): it must be a whole number of
    Hz (an int, or a float with no fraction; not a bool, a string, None or NaN) in
    :data:`MIN_SAMPLE_RATE`..:data:`MAX_SAMPLE_RATE`."""
    if isinstance(rate, (bool, np.bool_)) or not isinstance(rate, (int, float, np.integer, np.floating)):
        return f"sample rate must be a whole number of Hz, got {rate!r} ({type(rate).__name__})"
    if not np.isfinite(rate) or float(rate) != int(rate):
        return f"sample rate must be a whole number of Hz, got {rate!r}"
    if not MIN_SAMPLE_RATE <= int(rate) <= MAX_SAMPLE_RATE:
        return f"sample rate {int(rate)} Hz is outside the supported {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz"
    return None


def check_sample_rate(rate: object, name: str = "<array>") -> int:
    """``rate`` as an int, or :class:`AudioError` (``"<name>: <reason>"``) when it is no usable
    sample rate (:func:`sample_rate_problem`). Cheap, so every entry point calls it before
    anything is allocated or resampled."""
    problem = sample_rate_problem(rate)
    if problem:
        raise AudioError(name, problem)
    return int(rate)  # type: ignore[call-overload]


class AudioError(VCError, ValueError):
    """Audio that cannot be used; ``str(e)`` is ``"<path or name>: <reason>"``."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def to_float(wave: np.ndarray, name: str = "<array>") -> np.ndarray:
    """Convert integer PCM (full scale = the type's range) or float samples to float64.

    Integer arrays are accepted because ``scipy.io.wavfile`` and many user scripts hand out
    int16; scaling them here keeps "full scale = 1.0" true everywhere downstream.
    """
    wave = np.asarray(wave)
    if wave.dtype == np.uint8:  # 8-bit WAV is unsigned with an offset of 128
        return (wave.astype(np.float64) - 128.0) / 128.0
    if np.issubdtype(wave.dtype, np.signedinteger):
        return wave.astype(np.float64) / float(2 ** (8 * wave.dtype.itemsize - 1))
    if np.issubdtype(wave.dtype, np.floating):
        return wave.astype(np.float64)
    raise AudioError(name, f"unsupported sample type {wave.dtype}")


def to_mono(wave: np.ndarray, name: str = "<array>") -> np.ndarray:
    """Average the channels of a 1-D or 2-D wave.

    For 2-D input the shorter axis is taken as the channel axis, so both the soundfile layout
    ``(frames, channels)`` and the librosa layout ``(channels, frames)`` work.
    """
    if wave.ndim == 1:
        return wave
    if wave.ndim == 2 and wave.size == 0:
        return np.zeros(0, dtype=wave.dtype)
    if wave.ndim != 2:
        raise AudioError(name, f"expected a 1-D or 2-D wave, got shape {wave.shape}")
    channel_axis = 1 if wave.shape[1] <= wave.shape[0] else 0
    return wave.mean(axis=channel_axis)


def validate_wave(
    wave: np.ndarray, sample_rate: int, *, name: str = "<array>", min_duration: float = 0.1
) -> np.ndarray:
    """Return ``wave`` as float64 mono, or raise :class:`AudioError` saying why it is unusable.

    Checks, in this order: a usable sample rate (:func:`check_sample_rate`, before any copy is
    made), not empty, all samples finite, not silent (peak below :data:`SILENCE_PEAK`), at least
    ``min_duration`` seconds long at ``sample_rate``.
    """
    sample_rate = check_sample_rate(sample_rate, name)
    mono = to_mono(to_float(wave, name), name)
    if mono.size == 0:
        raise AudioError(name, "empty audio (0 samples)")
    finite = np.isfinite(mono)
    if not finite.all():
        bad = int(mono.size - finite.sum())
        first = int(np.argmin(finite))
        raise AudioError(name, f"{bad} non-finite sample(s) (NaN/inf), first at sample {first}")
    peak = float(np.max(np.abs(mono)))
    if peak < SILENCE_PEAK:
        raise AudioError(name, f"silent audio (peak {peak:.3g} < {SILENCE_PEAK:g} of full scale)")
    duration = mono.size / sample_rate
    if duration < min_duration:
        raise AudioError(name, f"too short ({duration:.3f} s < minimum {min_duration:g} s)")
    return np.ascontiguousarray(mono, dtype=np.float64)
