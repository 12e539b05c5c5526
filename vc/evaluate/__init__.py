"""Objective evaluation of converted speech (MCD, F0, speaker similarity) and the listening page.

``vc-evaluate`` is :func:`evaluate_manifests` + :func:`write_report` + :func:`build_sample_page`;
the metric functions work on plain arrays and can be used on their own.
"""
from vc.evaluate.align import Alignment, align, nonsilent_frames
from vc.evaluate.f0_metrics import F0Scores, f0_scores
from vc.evaluate.mcd import mcd_variant, mel_cepstral_distortion
from vc.evaluate.page import build_sample_page
from vc.evaluate.pipeline import EvaluationResult, evaluate_manifests
from vc.evaluate.report import write_report
from vc.evaluate.speaker import SpeakerEncoder, SpeakerEncoderUnavailable, make_speaker_encoder

__all__ = [
    "Alignment",
    "EvaluationResult",
    "F0Scores",
    "SpeakerEncoder",
    "SpeakerEncoderUnavailable",
    "align",
    "build_sample_page",
    "evaluate_manifests",
    "f0_scores",
    "make_speaker_encoder",
    "mcd_variant",
    "mel_cepstral_distortion",
    "nonsilent_frames",
    "write_report",
]
