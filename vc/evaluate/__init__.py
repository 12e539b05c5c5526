"""Objective evaluation of converted speech (MCD, F0, speaker similarity) and the listening page.

``vc-evaluate`` is :func:`evaluate_manifests` + :func:`write_report` + :func:`build_sample_page`;
the metric functions work on plain arrays and can be used on their own. Names are loaded on
first use (PEP 562) so that ``vc-evaluate --help`` and light submodules stay quick to import.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Alignment": "vc.evaluate.align",
    "align": "vc.evaluate.align",
    "nonsilent_frames": "vc.evaluate.align",
    "F0Scores": "vc.evaluate.f0_metrics",
    "f0_scores": "vc.evaluate.f0_metrics",
    "mcd_variant": "vc.evaluate.mcd",
    "mel_cepstral_distortion": "vc.evaluate.mcd",
    "build_sample_page": "vc.evaluate.page",
    "EvaluationResult": "vc.evaluate.pipeline",
    "evaluate_manifests": "vc.evaluate.pipeline",
    "write_report": "vc.evaluate.report",
    "SpeakerEncoder": "vc.evaluate.speaker",
    "SpeakerEncoderUnavailable": "vc.evaluate.speaker",
    "make_speaker_encoder": "vc.evaluate.speaker",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from vc.evaluate.align import Alignment, align, nonsilent_frames
    from vc.evaluate.f0_metrics import F0Scores, f0_scores
    from vc.evaluate.mcd import mcd_variant, mel_cepstral_distortion
    from vc.evaluate.page import build_sample_page
    from vc.evaluate.pipeline import EvaluationResult, evaluate_manifests
    from vc.evaluate.report import write_report
    from vc.evaluate.speaker import SpeakerEncoder, SpeakerEncoderUnavailable, make_speaker_encoder


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'vc.evaluate' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
