"""Speaker similarity: embeddings, per-speaker centroids, cosine scores and speaker-ID.

The encoder is pluggable (anything with ``name`` and ``embed(wave, sr)``) because the useful
one, Resemblyzer's GE2E d-vector model, is an optional dependency (``pip install
"stargan-vc[eval]"``). When it is missing the metrics are reported as unavailable rather than
replaced by something weaker under the same name; the MFCC statistics encoder is offered
only under its own, clearly crude, label.
"""
from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

import numpy as np
from vc.errors import VCError

log = logging.getLogger(__name__)

INSTALL_HINT = 'pip install "stargan-vc[eval]"  (or: pip install resemblyzer)'
ENCODERS = ("resemblyzer", "mfcc")


class SpeakerEncoderUnavailable(VCError, RuntimeError):
    """The requested speaker encoder cannot be used here; the message says how to get it."""


@runtime_checkable
class SpeakerEncoder(Protocol):
    """Maps a waveform to a fixed-size speaker embedding (compared with cosine similarity)."""

    name: str  # recorded in the scores and in the embedding cache key
    description: str

    def embed(self, wave: np.ndarray, sample_rate: int) -> np.ndarray: ...


class ResemblyzerEncoder:
    """Resemblyzer's pretrained GE2E speaker encoder (256-d d-vectors, weights ship in the wheel)."""

    name = "resemblyzer"
    description = "Resemblyzer GE2E d-vector (256-d), cosine similarity"
    sample_rate = 16000  # the rate the pretrained model expects

    def __init__(self) -> None:
        try:
            from resemblyzer import VoiceEncoder
        except ImportError as exc:
            raise SpeakerEncoderUnavailable(f"speaker encoder 'resemblyzer' is not installed ({exc}); "
                                            f"install it with: {INSTALL_HINT}") from exc
        self._encoder = VoiceEncoder(device="cpu", verbose=False)

    def embed(self, wave: np.ndarray, sample_rate: int) -> np.ndarray:
        from resemblyzer import preprocess_wav

        from vc.audio import resample

        x = resample(np.asarray(wave, dtype=np.float64), sample_rate, self.sample_rate).astype(np.float32)
        trimmed = preprocess_wav(x)  # loudness normalisation + VAD removal of long pauses
        if len(trimmed) < self.sample_rate // 10:
            # The VAD found (almost) no speech; embed the whole wave rather than nothing.
            log.debug("VAD kept %d samples; embedding the untrimmed wave", len(trimmed))
            trimmed = x
        return np.asarray(self._encoder.embed_utterance(trimmed), dtype=np.float64)


class MFCCEncoder:
    """Mean and standard deviation of MFCC 1..19 over non-silent frames: a CRUDE baseline.

    It tracks spectral envelope statistics, which conversion changes, so it does move with
    speaker identity, but it is not a speaker-verification model; use it for tests and as a
    sanity check only.
    """

    name = "mfcc"
    description = "CRUDE baseline: mean+std of MFCC 1-19 over non-silent frames (not a speaker model)"

    def __init__(self, n_mfcc: int = 20, silence_db: float = -40.0) -> None:
        self.n_mfcc = n_mfcc
        self.silence_db = silence_db

    def embed(self, wave: np.ndarray, sample_rate: int) -> np.ndarray:
        import librosa

        win = int(round(0.025 * sample_rate))
        n_fft = 1 << (win - 1).bit_length()
        hop = int(round(0.010 * sample_rate))
        y = np.asarray(wave, dtype=np.float32)
        mfcc = librosa.feature.mfcc(y=y, sr=sample_rate, n_mfcc=self.n_mfcc, n_fft=n_fft, hop_length=hop,
                                    win_length=win)
        rms = librosa.feature.rms(y=y, frame_length=n_fft, hop_length=hop)[0][: mfcc.shape[1]]
        level = 20 * np.log10(np.maximum(rms, 1e-10))
        keep = level >= level.max() + self.silence_db
        feats = mfcc[1:, keep].astype(np.float64)  # c0 is loudness, not identity
        return np.concatenate([feats.mean(axis=1), feats.std(axis=1)])


_CLASSES: dict[str, type] = {"resemblyzer": ResemblyzerEncoder, "mfcc": MFCCEncoder}


def describe_encoder(name: str) -> str:
    """The one-line description of encoder ``name`` (shown beside its scores)."""
    return _CLASSES[name].description


def make_speaker_encoder(name: str) -> SpeakerEncoder:
    """The encoder called ``name`` (see ``ENCODERS``); raises SpeakerEncoderUnavailable."""
    if name in _CLASSES:
        return _CLASSES[name]()
    raise SpeakerEncoderUnavailable(f"unknown speaker encoder {name!r}; choose one of {', '.join(ENCODERS)}")


def check_speaker_encoder(name: str) -> str | None:
    """None if encoder ``name`` can be used, else the reason (with the install hint).

    Only imports what the encoder needs, without loading model weights, so the main process
    can decide before starting workers.
    """
    if name == "resemblyzer":
        try:
            import resemblyzer  # noqa: F401
        except ImportError as exc:
            return f"speaker encoder 'resemblyzer' is not installed ({exc}); install it with: {INSTALL_HINT}"
        return None
    if name == "mfcc":
        return None
    return f"unknown speaker encoder {name!r}; choose one of {', '.join(ENCODERS)}"


def unit(v: np.ndarray) -> np.ndarray:
    """``v`` scaled to unit length (rows, for a 2-D array)."""
    v = np.asarray(v, dtype=np.float64)
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    if np.any(norm == 0) or not np.all(np.isfinite(norm)):
        raise ValueError("cannot normalise a zero or non-finite embedding")
    return v / norm


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two embeddings."""
    return float(np.dot(unit(a), unit(b)))


def speaker_centroids(embeddings: dict[str, list[np.ndarray]]) -> tuple[list[str], np.ndarray]:
    """(sorted speakers, (S, E) unit centroids): the mean of each speaker's unit embeddings."""
    speakers = sorted(spk for spk, embs in embeddings.items() if embs)
    if not speakers:
        raise ValueError("no reference embeddings to build speaker centroids from")
    return speakers, unit(np.stack([unit(np.stack(embeddings[s])).mean(axis=0) for s in speakers]))


def identify(embedding: np.ndarray, speakers: list[str], centroids: np.ndarray) -> tuple[str, np.ndarray]:
    """(nearest speaker by cosine, cosine to every centroid)."""
    scores = centroids @ unit(embedding)
    return speakers[int(np.argmax(scores))], scores
