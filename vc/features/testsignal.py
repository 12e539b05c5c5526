"""Deterministic speech-like signals with a known F0, for tests and benchmarks without a corpus.

A glottal pulse train (impulses at the instants of a gliding, vibrato-modulated F0, shaped by a
two-pole glottal low-pass) passes through vowel formant resonators and a lip-radiation
differentiator; a noise burst stands in for an unvoiced consonant and short silences pad the
ends. WORLD analyses this like speech (voiced/unvoiced frames, formant envelope, harmonic
F0), which is all the feature, stats and vocoder tests need.
"""
from __future__ import annotations

import numpy as np

# (F1, F2, F3) in Hz of a few vowels (Peterson & Barney averages, rounded)
VOWELS: dict[str, tuple[float, float, float]] = {
    "a": (730.0, 1090.0, 2440.0),
    "i": (270.0, 2290.0, 3010.0),
    "u": (300.0, 870.0, 2240.0),
    "e": (530.0, 1840.0, 2480.0),
}
BANDWIDTHS = (80.0, 100.0, 140.0)


def _resonator(freq: float, bw: float, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Two-pole resonator with unit gain at DC."""
    r = np.exp(-np.pi * bw / sample_rate)
    theta = 2 * np.pi * freq / sample_rate
    a = np.array([1.0, -2 * r * np.cos(theta), r * r])
    return np.array([a.sum()]), a


def f0_contour(num_samples: int, sample_rate: int, f0_mean: float, *, glide: float = 0.25,
               vibrato_hz: float = 5.0, vibrato_depth: float = 0.03) -> np.ndarray:
    """Per-sample F0: a glide from (1+glide/2) to (1-glide/2) times ``f0_mean`` plus vibrato."""
    t = np.arange(num_samples) / sample_rate
    ramp = np.linspace(1 + glide / 2, 1 - glide / 2, num_samples)
    return f0_mean * ramp * (1 + vibrato_depth * np.sin(2 * np.pi * vibrato_hz * t))


def speech_like(duration: float = 1.0, sample_rate: int = 16000, f0_mean: float = 140.0, *,
                vowels: str = "aiu", seed: int = 0, unvoiced: bool = True,
                peak: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """A speech-like wave and its per-sample true F0 (0 where unvoiced or silent).

    The signal is 5% silence, then (if ``unvoiced``) a 10% noise burst, then voiced vowels in
    ``vowels`` order, then 5% silence. Same arguments give the same samples.
    """
    from scipy.signal import lfilter  # deferred: scipy.signal is slow to import

    rng = np.random.default_rng(seed)
    n = int(round(duration * sample_rate))
    if n < sample_rate // 20:
        raise ValueError(f"duration {duration} s is too short for a speech-like signal")
    pad = n // 20
    burst = n // 10 if unvoiced else 0
    start, stop = pad + burst, n - pad
    f0 = np.zeros(n)
    f0[start:stop] = f0_contour(stop - start, sample_rate, f0_mean)

    # glottal source: one impulse per period, placed where the running phase wraps
    phase = np.cumsum(f0 / sample_rate)
    pulses = np.zeros(n)
    pulses[1:][np.diff(np.floor(phase)) > 0] = 1.0
    pole = np.exp(-2 * np.pi * 300.0 / sample_rate)  # two poles near 300 Hz: -12 dB/oct tilt
    source = lfilter([1.0], [1.0, -2 * pole, pole * pole], pulses)
    source[start:stop] += 0.02 * rng.standard_normal(stop - start) * source[start:stop].std()  # aspiration

    # vowel segments, each with its own formants; filter state carries over between segments
    out = np.zeros(n)
    bounds = np.linspace(start, stop, len(vowels) + 1).astype(int)
    states = [np.zeros(2) for _ in BANDWIDTHS]
    for k, vowel in enumerate(vowels):
        seg = source[bounds[k]:bounds[k + 1]]
        for j, (freq, bw) in enumerate(zip(VOWELS[vowel], BANDWIDTHS)):
            b, a = _resonator(freq, bw, sample_rate)
            seg, states[j] = lfilter(b, a, seg, zi=states[j])
        out[bounds[k]:bounds[k + 1]] = seg
    out = np.diff(out, prepend=0.0)  # lip radiation
    ramp = min(sample_rate // 100, (stop - start) // 4)
    env = np.ones(stop - start)
    env[:ramp] = np.linspace(0, 1, ramp)
    env[-ramp:] = np.linspace(1, 0, ramp)
    out[start:stop] *= env
    out /= np.abs(out).max()

    if burst:  # fricative-like band-limited noise (first difference tilts it to high frequencies)
        noise = np.diff(rng.standard_normal(burst + 1))
        out[pad:start] = 0.15 * noise / np.abs(noise).max() * np.hanning(burst)
    out += 1e-4 * rng.standard_normal(n)  # a noise floor: real recordings are never digital silence
    return peak * out / np.abs(out).max(), f0
