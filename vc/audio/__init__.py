"""Audio in and out: any libsndfile-readable file to float64 mono at the project rate.

Every entry point (files via :func:`load_audio`, arrays via :func:`validate_wave`) applies the
same checks, so the CLI and the Python API reject the same bad input with the same message.
"""
from vc.audio.checks import SILENCE_PEAK, AudioError, validate_wave
from vc.audio.io import AUDIO_EXTENSIONS, load_audio, write_audio
from vc.audio.resample import resample

__all__ = [
    "AUDIO_EXTENSIONS",
    "SILENCE_PEAK",
    "AudioError",
    "load_audio",
    "resample",
    "validate_wave",
    "write_audio",
]
