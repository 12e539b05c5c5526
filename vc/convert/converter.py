"""Converting a waveform with a trained model bundle (``exp/<name>/``).

The chain is the one the model was trained for, step for step:

1. WORLD analysis with the bundle's recorded feature settings (input at another rate is
   resampled first; a bundle whose settings this code cannot honour is refused at load);
2. log-Gaussian F0 transform from the source to the target speaker's statistics;
3. MCEP normalised with the source statistics exactly as ``vc.voice.data.normalize_mcep`` does
   during training (all ``mcep_dim`` coefficients including c0; no trimming or other
   preprocessing happens at training time, so none is needed here), converted by G with the
   target's one-hot code (a model trained with source-target conditioning also gets the
   source's, or a uniform source half for an unseen speaker) over the whole utterance at once
   (G is fully convolutional, so long inputs are never cut into chunks whose seams would click),
   de-normalised with the target statistics;
4. the source's band aperiodicity, unchanged; WORLD synthesis.

A source speaker the model does not know (or none given) gets its statistics estimated from
the input itself, which makes any-to-many conversion of a user's own voice possible. With
``baseline="stats"`` G is replaced by the identity: the classic per-speaker mean/variance
normalisation + log-Gaussian F0 rival that recipes score against the network.
"""
from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vc.audio import AudioError, check_sample_rate, resample, sample_rate_problem, validate_wave
from vc.convert.f0 import LogF0Stats, convert_f0
from vc.convert.pauses import limit_pause_level
from vc.features import FeatureConfig, Features, SpeakerStats, analyze
from vc.features.config import F0_METHODS
from vc.errors import VCError
from vc.features.heap import retain_freed_memory
from vc.vocoder import synthesize

if TYPE_CHECKING:
    from vc.voice.bundle import VoiceBundle

log = logging.getLogger(__name__)

BASELINES = ("stats",)

#: Converted audio whose peak exceeds this is scaled down to it (never clipped): the target's
#: c0 statistics can make a loud source louder than full scale.
MAX_PEAK = 0.99


class ConversionError(VCError, ValueError):
    """A conversion that cannot be done as asked; the message says why."""


class UnknownSpeakerError(ConversionError, KeyError):
    """A target speaker the model does not know; the message lists the ones it does."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


PRECISIONS = ("auto", "fp32", "bf16")

#: The allowed ``f0_scale`` (inclusive): two octaves down to two octaves up. Beyond that the
#: converted F0 leaves the vocoder's range (every frame ends unvoiced, or a 1e6-fold pitch)
#: and the output is no voice at all.
F0_SCALE_RANGE = (0.25, 4.0)

#: Default of ``max_duration``: the longest input (seconds) one conversion accepts. WORLD's
#: spectra and G's activations grow with the length (G converts an utterance whole), so
#: this bounds the memory one input can take; five minutes is far above an utterance.
MAX_DURATION = 300.0


@dataclass
class ConverterOptions:
    """Settings on top of the bundle's. The defaults are the ones that sound best (see below).

    * ``baseline``: ``None`` runs the network; ``"stats"`` replaces G by the identity.
    * ``f0_method``: ``None`` keeps the bundle's F0 tracker, the default because the speaker
      log-F0 statistics were measured with it; another tracker (``"harvest"``: fewer
      voiced/unvoiced errors, ~5x slower analysis) shifts the source statistics slightly.
    * ``f0_scale``: multiplies the converted F0 (1.0 = the pure statistical transform), within
      :data:`F0_SCALE_RANGE` (0.25..4).
    * ``out_sr``: output rate; ``None`` keeps the model's analysis rate, since the model
      produces nothing above that Nyquist frequency and upsampling would only add bytes.
      A whole number of Hz in ``vc.audio.MIN_SAMPLE_RATE``..``MAX_SAMPLE_RATE`` (1000..384000).
    * ``max_duration``: the longest input in seconds (default :data:`MAX_DURATION`, 300 s);
      a longer one is refused before it is analysed (or, from a file, read), which bounds the
      memory one conversion takes. 0 removes the limit.
    * ``device``: torch device for G (``"cpu"``, ``"cuda"``...).
    * ``precision``: arithmetic of G: ``"auto"`` (default) is bf16 on a CPU with native bf16 dot
      products (AMX or AVX512-BF16) and fp32 elsewhere
      (:func:`vc.convert.inference.resolve_precision`); ``"fp32"`` and ``"bf16"`` force one. bf16 is
      a copy of G cast once (not autocast, which re-cast the weights on every call and gained
      nothing). Where the CPU computes bf16 natively it runs G severalfold faster than fp32 and
      moves the converted mel-cepstrum by a few hundredths of a dB of MCD
      (``bench/convert_speed.py`` measures both on the machine at hand).
    * ``pause_db``: frames that the statistical mapping of c0 puts more than this many dB below
      the utterance's loudest frame are pauses, and the network's c0 there is lowered to the
      mapping's (:mod:`vc.convert.pauses`: G returns pauses too loud); 0 turns it off. The
      default was chosen on the demo's evaluation set among 17, 26 and 35 dB
      (``egs/demo/local/pause_levels.py`` shows the levels).
    """

    baseline: str | None = None
    f0_method: str | None = None
    f0_scale: float = 1.0
    out_sr: int | None = None
    device: str = "cpu"
    precision: str = "auto"
    pause_db: float = 26.0
    max_duration: float = MAX_DURATION

    def __post_init__(self) -> None:
        problems = []
        if self.baseline is not None and self.baseline not in BASELINES:
            problems.append(f"baseline must be one of {', '.join(BASELINES)} (or None), got {self.baseline!r}")
        if self.f0_method is not None and self.f0_method not in F0_METHODS:
            problems.append(f"f0_method must be one of {', '.join(F0_METHODS)}, got {self.f0_method!r}")
        low, high = F0_SCALE_RANGE
        if not _is_number(self.f0_scale) or not low <= self.f0_scale <= high:
            problems.append(f"f0_scale must lie in {low:g}..{high:g}, got {self.f0_scale!r}")
        if self.precision not in PRECISIONS:
            problems.append(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if not (_is_number(self.pause_db) and np.isfinite(self.pause_db) and self.pause_db >= 0):
            problems.append(f"pause_db must be a number >= 0 (0: off), got {self.pause_db!r}")
        if self.out_sr is not None and (problem := sample_rate_problem(self.out_sr)):
            problems.append(f"out_sr: {problem}")
        if not (_is_number(self.max_duration) and np.isfinite(self.max_duration) and self.max_duration >= 0):
            problems.append(f"max_duration must be a number of seconds >= 0 (0: no limit), got {self.max_duration!r}")
        if problems:
            raise ConversionError("invalid conversion options: " + "; ".join(problems))


def _is_number(value: Any) -> bool:
    """An int or float that is no bool (``True`` is an int to Python, and no option's value)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


@dataclass
class SourceAnalysis:
    """An analysed input and the source statistics it will be converted with.

    Kept separate from the conversion so that one analysis serves several targets (batch
    conversion analyses each utterance once).
    """

    features: Features
    num_samples: int          # input length at the analysis rate: the output's length
    source: str | None        # the speaker name given, if any
    source_index: int | None  # its index in the bundle, None for an unseen speaker
    lf0: LogF0Stats | None    # None: nothing voiced (the output stays unvoiced)
    mcep_mean: np.ndarray     # (D,)
    mcep_std: np.ndarray      # (D,)
    name: str = "<array>"     # the input's name (a file path) for messages

    @property
    def estimated(self) -> bool:
        """True when the source statistics come from the input itself."""
        return self.source_index is None


class Converter:
    """A loaded model bundle that converts waveforms; build with :meth:`from_bundle`.

    Loading happens once; :meth:`convert` can then be called any number of times (a notebook,
    a server, a batch worker).
    """

    def __init__(self, bundle: VoiceBundle, options: ConverterOptions | None = None, *, name: str | None = None) -> None:
        self.options = options or ConverterOptions()
        self.bundle = bundle
        self.speakers = list(bundle.speakers)
        self.stats = bundle.stats
        self.name = name or bundle.path.resolve().name
        self.checkpoint = bundle.checkpoint.name
        base = bundle.features.resolved()
        self.feature_config = (dataclasses.replace(base, f0_method=self.options.f0_method)
                               if self.options.f0_method else base)
        self._check_consistency()

    @property
    def generator(self) -> Any:
        """The network that converts the mel-cepstrum (as prepared for inference)."""
        return self.bundle.generator

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_bundle(cls, path: str | os.PathLike, device: str | None = None, *,
                    options: ConverterOptions | None = None, **option_fields: Any) -> "Converter":
        """Load ``exp/<name>`` (its newest checkpoint) for conversion, whichever voice model it
        holds (its ``config.yaml`` names the model; ``vc.registry`` finds its loader).

        Options may be given as a :class:`ConverterOptions` or as keywords
        (``baseline="stats"``, ``f0_scale=1.2``, ...); ``device`` is a shortcut for the option.
        """
        import torch

        from vc.convert.inference import DTYPES, resolve_precision
        from vc.voice.bundle import load_voice_bundle

        retain_freed_memory()  # every utterance reuses the previous one's memory (no page faults)
        if device is not None:
            option_fields["device"] = device
        opts = dataclasses.replace(options or ConverterOptions(), **option_fields)
        bundle = Path(path)
        if bundle.is_file():
            raise ConversionError(f"{bundle}: is a file, not a model folder (a bundle is the folder vc-train "
                                  "writes, e.g. exp/NAME)")
        if not bundle.is_dir():
            raise ConversionError(f"{bundle}: model folder not found")
        try:
            device_type = torch.device(opts.device).type
        except RuntimeError as exc:
            raise ConversionError(f"invalid device {opts.device!r}: {exc}") from exc
        if device_type == "cuda" and not torch.cuda.is_available():
            raise ConversionError(f"device {opts.device!r} asked for, but torch {torch.__version__} sees no CUDA "
                                  "device; use --device cpu")
        opts = dataclasses.replace(opts, precision=resolve_precision(opts.precision, opts.device))
        try:
            loaded = load_voice_bundle(bundle, opts.device)
        except VCError as exc:
            raise ConversionError(f"{bundle}: cannot load the model: {exc}") from exc
        if opts.baseline is None:
            loaded.prepare_for_inference(DTYPES[opts.precision])
        return cls(loaded, opts)

    def _check_consistency(self) -> None:
        """Refuse statistics and features that do not describe the same analysis."""
        ours, theirs = self.feature_config.resolved(), self.stats.config.resolved()
        keys = ("sample_rate", "frame_period", "fft_size", "mcep_dim", "alpha")
        diffs = [f"{k} {getattr(ours, k)!r} vs {getattr(theirs, k)!r}" for k in keys
                 if getattr(ours, k) != getattr(theirs, k)]
        if diffs:
            raise ConversionError(f"{self.name}: the model's feature settings and its statistics disagree "
                                  f"({', '.join(diffs)})")
        missing = [s for s in self.speakers if s not in self.stats.speakers]
        if missing:
            raise ConversionError(f"{self.name}: no statistics for speaker(s) {', '.join(missing)}")
        if self.stats.mcep_mean.shape[1] != ours.mcep_dim:
            raise ConversionError(f"{self.name}: statistics have {self.stats.mcep_mean.shape[1]} MCEP "
                                  f"coefficients, the features {ours.mcep_dim}")

    # ------------------------------------------------------------------ properties
    @property
    def sample_rate(self) -> int:
        """The analysis rate: inputs at other rates are resampled to it."""
        return int(self.feature_config.sample_rate)

    @property
    def output_sample_rate(self) -> int:
        return int(self.options.out_sr or self.sample_rate)

    def describe(self) -> dict[str, Any]:
        """What determines the outputs (recorded next to batch outputs to guard resumed runs)."""
        return {"model": self.name, "checkpoint": self.checkpoint, "speakers": self.speakers,
                "baseline": self.options.baseline, "f0_method": self.feature_config.f0_method,
                "f0_scale": self.options.f0_scale, "out_sr": self.output_sample_rate,
                "precision": self.generator_precision(),
                "pause_db": None if self.options.baseline is not None else self.options.pause_db}

    def generator_precision(self) -> str:
        """G's arithmetic ("none" for the statistical baseline, which has no G)."""
        return "none" if self.options.baseline is not None else self.options.precision

    def speaker_index(self, speaker: str) -> int:
        """Index of a bundle speaker; :class:`UnknownSpeakerError` lists the known ones."""
        if speaker not in self.speakers:
            raise UnknownSpeakerError(
                f"unknown speaker {speaker!r}; the model {self.name} knows: {', '.join(self.speakers)}")
        return self.speakers.index(speaker)

    # ------------------------------------------------------------------ conversion
    def load_audio(self, path: str | os.PathLike) -> np.ndarray:
        """An audio file as float64 mono at the analysis rate, its header checked first (sample
        rate in range, at most ``options.max_duration`` seconds) so that a file that would be
        refused is never read."""
        from vc.audio import load_audio

        return load_audio(path, self.sample_rate, max_duration=self.options.max_duration or None)

    def analyze(self, wave: np.ndarray, sample_rate: int, source: str | None = None, *,
                name: str = "<array>") -> SourceAnalysis:
        """Validate, resample to the analysis rate, analyse, and pick the source statistics.

        The sample rate is checked first (``vc.audio.check_sample_rate``), then the duration
        (``options.max_duration``), before anything is resampled or analysed."""
        sample_rate = check_sample_rate(sample_rate, name)
        wave = validate_wave(wave, sample_rate, name=name)
        limit = self.options.max_duration
        if limit and wave.size > limit * sample_rate:
            raise AudioError(name, f"too long ({wave.size / sample_rate:.1f} s > maximum {limit:g} s; "
                             "raise the limit with --max-duration / ConverterOptions.max_duration, 0: none)")
        if sample_rate != self.sample_rate:
            wave = resample(wave, sample_rate, self.sample_rate)
        feats = analyze(wave, self.feature_config, source)
        if source is not None and source in self.speakers:
            i = self.stats.index(source)
            return SourceAnalysis(feats, len(wave), source, self.speakers.index(source),
                                  LogF0Stats(float(self.stats.lf0_mean[i]), float(self.stats.lf0_std[i])),
                                  self.stats.mcep_mean[i], self.stats.mcep_std[i], name)
        lf0 = LogF0Stats.estimate(feats.f0)
        mcep = feats.mcep.astype(np.float64)
        why = "no source speaker given" if source is None else f"source speaker {source!r} is not in the model"
        log.info("%s: %s; using statistics estimated from the input itself (%d frames, %d voiced%s)",
                 name, why, len(mcep), int(feats.voiced.sum()),
                 f", mean F0 {np.exp(lf0.mean):.1f} Hz" if lf0 else "")
        if lf0 is None:
            log.warning("%s: no voiced frames found; the output will be unvoiced", name)
        # Same definition as vc-stats: mean and population std over all frames.
        return SourceAnalysis(feats, len(wave), source, None, lf0, mcep.mean(axis=0), mcep.std(axis=0), name)

    def statistical_mapping(self, analysis: SourceAnalysis, target: str) -> np.ndarray:
        """The (T, D) mel-cepstrum normalised with the source's statistics and de-normalised with
        the target's: the statistical baseline's output, and what the pause rule reads c0 from."""
        from vc.voice.data import MIN_STD, denormalize_mcep, normalize_mcep

        mcep = analysis.features.mcep
        if analysis.source_index is not None:
            x = normalize_mcep(mcep, self.stats, self.stats.index(analysis.source))
        else:
            x = ((mcep - analysis.mcep_mean) / np.maximum(analysis.mcep_std, MIN_STD)).astype(np.float32)
        return denormalize_mcep(x, self.stats, self.stats.index(target))

    def convert_mcep(self, analysis: SourceAnalysis, target: str) -> np.ndarray:
        """The converted (T, D) mel-cepstrum: normalise, G (or identity), de-normalise; then, for
        G, the pause rule (``options.pause_db``) on c0."""
        if self.options.baseline == "stats":
            return self.statistical_mapping(analysis, target)
        import torch

        tgt = self.stats.index(target)
        mcep = analysis.features.mcep
        with torch.inference_mode():  # no autograd bookkeeping: G is a fixed function here
            # the source's voicing is what the vocoder will excite the converted envelope with
            # (the bundle converts as its model's training samples do)
            voiced = analysis.features.voiced
            if analysis.source_index is not None:
                out = self.bundle.convert_mcep(mcep, self.stats.index(analysis.source), tgt, voiced=voiced)
            else:
                out = self.bundle.convert_mcep(mcep, 0, tgt, source_stats=(analysis.mcep_mean, analysis.mcep_std),
                                               voiced=voiced)
        if self.options.pause_db > 0:
            mapped_c0 = self.statistical_mapping(analysis, target)[:, 0]
            out[:, 0] = limit_pause_level(out[:, 0], mapped_c0, self.options.pause_db)
        return out

    def convert_features(self, analysis: SourceAnalysis, target: str) -> Features:
        """The converted features (F0, MCEP, the source's BAP) that synthesis turns into audio."""
        self.speaker_index(target)
        i = self.stats.index(target)
        feats = analysis.features
        if analysis.lf0 is None:
            f0 = np.zeros_like(feats.f0)
        else:
            target_lf0 = LogF0Stats(float(self.stats.lf0_mean[i]), float(self.stats.lf0_std[i]))
            f0 = convert_f0(feats.f0, analysis.lf0, target_lf0, scale=self.options.f0_scale)
        mcep = self.convert_mcep(analysis, target)
        if not np.isfinite(mcep).all():
            raise ConversionError(f"the converted spectrum for {target} holds NaN/inf (a broken checkpoint?)")
        return Features(f0=f0, mcep=mcep, bap=feats.bap)

    def convert_analysis(self, analysis: SourceAnalysis, target: str) -> tuple[np.ndarray, int]:
        """Convert an analysed input to ``target``; returns ``(wave, sample_rate)``."""
        conv = self.convert_features(analysis, target)
        wave = synthesize(conv.f0, conv.mcep, conv.bap, self.feature_config)
        wave = _fit_length(wave, analysis.num_samples)
        if self.output_sample_rate != self.sample_rate:
            wave = resample(wave, self.sample_rate, self.output_sample_rate)
        peak = float(np.max(np.abs(wave))) if wave.size else 0.0
        if peak > MAX_PEAK:
            log.warning("%s -> %s: converted audio peaks at %.2f of full scale; scaled down to %.2f",
                        analysis.name, target, peak, MAX_PEAK)
            scale = MAX_PEAK / peak
            while peak * scale > MAX_PEAK:  # rounding may leave the peak one ulp above the limit
                scale = np.nextafter(scale, 0.0)
            wave = wave * scale
        return wave, self.output_sample_rate

    def convert(self, wave: np.ndarray, sample_rate: int, target: str, source: str | None = None, *,
                name: str = "<array>") -> tuple[np.ndarray, int]:
        """Convert ``wave`` (any rate, mono or multichannel) to speaker ``target``.

        ``source`` names the input's speaker when the model knows it; otherwise (or when None)
        the source statistics are estimated from ``wave``. Returns ``(wave, sample_rate)``; the
        output lasts exactly as long as the input. ``sample_rate`` must be a whole number of Hz
        in 1000..384000 and the input at most ``options.max_duration`` seconds long, else
        :class:`~vc.audio.AudioError` (a :class:`~vc.errors.VCError`) before any work.
        """
        self.speaker_index(target)  # fail before the analysis, not after
        return self.convert_analysis(self.analyze(wave, sample_rate, source, name=name), target)

    def __repr__(self) -> str:
        mode = "statistical baseline" if self.options.baseline else self.bundle.model
        return (f"Converter({self.name!r}, {mode}, {len(self.speakers)} speakers, "
                f"{self.sample_rate} Hz, checkpoint={self.checkpoint!r})")


def _fit_length(wave: np.ndarray, length: int) -> np.ndarray:
    """Crop or zero-pad to ``length`` samples.

    WORLD synthesises (frames - 1) * frame period + 1 samples, which differs from the input by
    less than one frame; matching the input exactly keeps converted and source files aligned.
    """
    if len(wave) >= length:
        return wave[:length]
    return np.pad(wave, (0, length - len(wave)))
