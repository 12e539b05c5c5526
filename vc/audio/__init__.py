"""Audio in and out: any libsndfile-readable file to float64 mono at the project rate.

Every entry point (files via :func:`load_audio`, arrays via :func:`validate_wave`) applies the
same checks, so the CLI and the Python API reject the same bad input with the same message.
Sample rates must be whole numbers of Hz in ``MIN_SAMPLE_RATE``..``MAX_SAMPLE_RATE``
(1000..384000), checked before any sample is read or resampled.
"""
from vc.audio.checks import (MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, SILENCE_PEAK, AudioError, check_sample_rate,
                             sample_rate_problem, validate_wave)
from vc.audio.io import AUDIO_EXTENSIONS, audio_info, load_audio, write_audio
from vc.audio.resample import resample

__all__ = [
    "AUDIO_EXTENSIONS",
    "MAX_SAMPLE_RATE",
    "MIN_SAMPLE_RATE",
    "SILENCE_PEAK",
    "AudioError",
    "audio_info",
    "check_sample_rate",
    "load_audio",
    "resample",
    "sample_rate_problem",
    "validate_wave",
    "write_audio",
]
