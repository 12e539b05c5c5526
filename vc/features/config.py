"""Analysis settings shared by extraction, statistics, training and conversion.

The same ``FeatureConfig`` travels from ``vc-extract`` into every ``<utt>.npz`` and into the
model bundle, so conversion can refuse features made with other settings instead of producing
a silently wrong voice. Values left as ``None`` are derived from the sample rate by
:meth:`FeatureConfig.resolved`; only resolved configs are ever written to disk.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field

from vc.audio.checks import MAX_SAMPLE_RATE
from vc.config import ConfigError, from_dict, to_dict

F0_METHODS = ("dio", "harvest")

# All-pass constants used by sprocket/SPTK recipes for the common rates; other rates fall back to
# pysptk.util.mcepalpha (the best fit of the all-pass warping to the mel scale).
DEFAULT_ALPHAS: dict[int, float] = {
    16000: 0.42,
    22050: 0.455,
    24000: 0.466,
    44100: 0.544,
    48000: 0.554,
}


def default_alpha(sample_rate: int) -> float:
    """All-pass constant for ``sample_rate``: the sprocket table, else pysptk's mel-scale fit."""
    if sample_rate in DEFAULT_ALPHAS:
        return DEFAULT_ALPHAS[sample_rate]
    import warnings

    with warnings.catch_warnings():  # pysptk imports the deprecated pkg_resources (see setup.py)
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
        import pysptk  # deferred: only needed for unusual rates

    return round(float(pysptk.util.mcepalpha(sample_rate)), 3)


def default_fft_size(sample_rate: int, f0_floor: float) -> int:
    """CheapTrick's FFT size: the smallest power of two that holds three periods of ``f0_floor``.

    This is what WORLD itself chooses (1024 at 16-24 kHz, 2048 at 44.1/48 kHz for 71 Hz), so
    envelopes are not smeared for low voices.
    """
    from vc.features._deps import pyworld

    return int(pyworld.get_cheaptrick_fft_size(sample_rate, f0_floor))


@dataclass
class FeatureConfig:
    """WORLD analysis + mel-cepstral coding settings (see docs/formats.md)."""

    sample_rate: int = 16000
    frame_period: float = 5.0  # ms between frames
    f0_method: str = "dio"  # "dio" (DIO + StoneMask refinement) or "harvest" (slower, fewer V/UV errors)
    f0_floor: float = 71.0
    f0_ceil: float = 800.0
    # Per-speaker [floor, ceil] overriding the global range, as in sprocket: a narrow range per
    # speaker avoids octave errors that a 71-800 Hz search makes on very low or high voices.
    speaker_f0_ranges: dict[str, list[float]] = field(default_factory=dict)
    fft_size: int | None = None  # None -> from sample_rate and the lowest F0 floor
    mcep_dim: int = 36  # c0..c35
    alpha: float | None = None  # None -> from sample_rate

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not isinstance(self.sample_rate, int) or self.sample_rate <= 0:
            problems.append(f"sample_rate must be a positive integer, got {self.sample_rate!r}")
        elif _num_bap_bands(self.sample_rate) < 1:
            # pyworld.code_aperiodicity keeps one band per 3 kHz between 3 kHz and Nyquist: below
            # 12 kHz there is no band at all and pyworld fails with an index error.
            problems.append(f"sample_rate must be at least 12000 Hz for band aperiodicity coding, got {self.sample_rate}")
        elif self.sample_rate > MAX_SAMPLE_RATE:  # audio is refused above it, whatever the config says
            problems.append(f"sample_rate must be at most {MAX_SAMPLE_RATE} Hz, got {self.sample_rate}")
        if not self.frame_period > 0:
            problems.append(f"frame_period must be > 0 ms, got {self.frame_period!r}")
        if self.f0_method not in F0_METHODS:
            problems.append(f"f0_method must be one of {', '.join(F0_METHODS)}, got {self.f0_method!r}")
        problems += _range_problems("f0_floor/f0_ceil", self.f0_floor, self.f0_ceil)
        for spk, rng in self.speaker_f0_ranges.items():
            if not isinstance(rng, (list, tuple)) or len(rng) != 2:
                problems.append(f"speaker_f0_ranges.{spk} must be [floor, ceil], got {rng!r}")
            else:
                problems += _range_problems(f"speaker_f0_ranges.{spk}", rng[0], rng[1])
        if self.fft_size is not None and (self.fft_size < 64 or self.fft_size & (self.fft_size - 1)):
            problems.append(f"fft_size must be a power of two >= 64, got {self.fft_size!r}")
        if not isinstance(self.mcep_dim, int) or self.mcep_dim < 2:
            problems.append(f"mcep_dim must be an integer >= 2, got {self.mcep_dim!r}")
        elif self.fft_size is not None and self.mcep_dim > self.fft_size // 2 + 1:
            problems.append(f"mcep_dim {self.mcep_dim} exceeds fft_size/2+1 = {self.fft_size // 2 + 1}")
        if self.alpha is not None and not -1.0 < self.alpha < 1.0:
            problems.append(f"alpha must lie in (-1, 1), got {self.alpha!r}")
        if problems:
            raise ConfigError("invalid feature config: " + "; ".join(problems))
        self.speaker_f0_ranges = {k: [float(v[0]), float(v[1])] for k, v in self.speaker_f0_ranges.items()}

    def lowest_f0_floor(self) -> float:
        """The lowest floor over the global and per-speaker ranges: it sets the FFT size."""
        return min([self.f0_floor] + [rng[0] for rng in self.speaker_f0_ranges.values()])

    def resolved(self) -> "FeatureConfig":
        """A copy with ``fft_size`` and ``alpha`` filled in from the sample rate."""
        fft_size = self.fft_size or default_fft_size(self.sample_rate, self.lowest_f0_floor())
        alpha = self.alpha if self.alpha is not None else default_alpha(self.sample_rate)
        return dataclasses.replace(self, fft_size=fft_size, alpha=float(alpha))

    def f0_range(self, speaker: str | None) -> tuple[float, float]:
        """(floor, ceil) in Hz for ``speaker``; the global range for unknown or ``None`` speakers."""
        if speaker is not None and speaker in self.speaker_f0_ranges:
            floor, ceil = self.speaker_f0_ranges[speaker]
            return float(floor), float(ceil)
        return float(self.f0_floor), float(self.f0_ceil)

    def to_json(self) -> str:
        """Canonical JSON (sorted keys) so equal settings compare equal as text too."""
        return json.dumps(to_dict(self), sort_keys=True)

    @classmethod
    def from_json(cls, s: str) -> "FeatureConfig":
        try:
            data = json.loads(s)
        except json.JSONDecodeError as e:
            raise ConfigError(f"feature settings are not valid JSON: {e}") from e
        if not isinstance(data, dict):
            raise ConfigError(f"feature settings must be a JSON object, got {type(data).__name__}")
        return from_dict(cls, data)


def _num_bap_bands(sample_rate: int) -> int:
    from vc.features._deps import pyworld

    return int(pyworld.get_num_aperiodicities(sample_rate))


def _range_problems(name: str, floor: float, ceil: float) -> list[str]:
    try:
        floor, ceil = float(floor), float(ceil)
    except (TypeError, ValueError):
        return [f"{name} must be numbers, got {floor!r}, {ceil!r}"]
    if not (math.isfinite(floor) and math.isfinite(ceil) and 0 < floor < ceil):
        return [f"{name} must satisfy 0 < floor < ceil, got {floor}, {ceil}"]
    return []
