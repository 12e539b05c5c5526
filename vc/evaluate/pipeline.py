"""``vc-evaluate`` as a Python function: manifests in, scores (table + JSON document) out."""
from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vc.data import DataDir
from vc.evaluate.align import DEFAULT_SILENCE_DB
from vc.evaluate.f0_metrics import f0_variant
from vc.evaluate.mcd import mcd_variant
from vc.evaluate.modulation import msd_variant
from vc.evaluate.pairs import EvalItem, ReferenceIndex, build_items
from vc.evaluate.report import build_report, format_table, summarize, system_order
from vc.evaluate.scoring import EvalSettings, SpeakerInfo, UttScore, evaluate
from vc.features import FeatureConfig

log = logging.getLogger(__name__)


@dataclass
class EvaluationResult:
    items: list[EvalItem]
    scores: list[UttScore]
    systems: list[str]  # display order, "none" last
    per_pair: list[dict[str, Any]]
    overall: list[dict[str, Any]]
    speaker: SpeakerInfo
    report: dict[str, Any]  # the JSON document
    table: str  # the text table with its legend
    ref: DataDir
    index: ReferenceIndex
    features: FeatureConfig

    @property
    def failures(self) -> list[UttScore]:
        return [s for s in self.scores if s.error]


def speaker_variant(info: SpeakerInfo, ref_data: str | os.PathLike) -> str:
    """The definition behind the speaker numbers, or why they are missing."""
    if not info.available:
        return f"unavailable: {info.reason}"
    n = len(info.centroid_utts)
    return (f"{info.description}; SpkCos = cosine to the target speaker's centroid (mean of the unit embeddings "
            f"of ALL its utterances in {ref_data}, none excluded); SpkID = share of utterances whose nearest "
            f"centroid among the {n} speakers of {ref_data} is the target")


def evaluate_manifests(manifests: dict[str, str | os.PathLike], ref_data: str | os.PathLike, *,
                       features: FeatureConfig, src_data: str | os.PathLike | None = None,
                       silence_db: float | None = DEFAULT_SILENCE_DB, speaker_encoder: str | None = "resemblyzer",
                       cache_dir: str | os.PathLike | None = None, nj: int = 1, progress: bool = True,
                       feature_source: str = "", allow_outside_paths: bool = False) -> EvaluationResult:
    """Score each manifest (label -> manifest.tsv) and the no-conversion floor against ``ref_data``.

    A manifest listing a file outside its own folder is refused unless ``allow_outside_paths``
    (see :func:`vc.convert.manifest.read_manifest`)."""
    features = features.resolved()
    ref = DataDir.load(ref_data)
    src = DataDir.load(src_data) if src_data is not None else None
    index = ReferenceIndex(ref, src)
    items, warnings = build_items(manifests, index, allow_outside=allow_outside_paths)
    for w in warnings:
        log.warning("%s", w)
    n_par = sum(it.parallel for it in items if it.system != "none")
    n_conv = sum(it.system != "none" for it in items)
    log.info("%d converted file(s) from %d manifest(s); %d with a parallel reference in %s",
             n_conv, len(manifests), n_par, ref_data)
    if n_conv and not n_par:
        warnings.append(f"no converted utterance has a same-sentence reference in {ref_data}: "
                        "MCD and F0 metrics are skipped (speaker metrics only)")
        log.warning("%s", warnings[-1])

    settings = EvalSettings(features=features, silence_db=silence_db, speaker_encoder=speaker_encoder,
                            cache_dir=str(cache_dir) if cache_dir is not None else None)
    scores, spk_info = evaluate(items, ref, settings, nj=nj, progress=progress)
    systems = system_order(scores, list(manifests))
    per_pair, overall = summarize(scores, systems)
    variants = {
        "mcd": mcd_variant(features.mcep_dim, features.alpha, silence_db),
        "msd": msd_variant(features.frame_period, silence_db),
        "f0": f0_variant() + f" ({features.f0_method}, frame period {features.frame_period:g} ms)",
        "speaker": speaker_variant(spk_info, ref_data),
        "aggregation": "per-utterance scores averaged per (system, source, target) and per system; "
                       "'none' = the source utterance itself scored against the target (no-conversion floor)",
    }
    legend = [f"{k}: {v}" for k, v in variants.items()]
    failures = [s for s in scores if s.error]
    if failures:
        legend.append(f"FAILED: {len(failures)} utterance(s) could not be scored (listed in the JSON 'utterances' "
                      f"with their 'error'); first: {failures[0].system}/{failures[0].utt}: {failures[0].error}")
    report = build_report(
        scores=scores, per_pair=per_pair, overall=overall, systems=systems, variants=variants,
        settings={"features": dataclasses.asdict(features), "feature_source": feature_source,
                  "silence_db": silence_db, "dtw": "librosa.sequence.dtw, euclidean, steps (1,1),(1,0),(0,1)"},
        inputs={"manifests": {k: str(Path(v)) for k, v in manifests.items()}, "ref_data": str(ref_data),
                "src_data": str(src_data) if src_data is not None else None},
        speaker=dataclasses.asdict(spk_info), warnings=warnings)
    return EvaluationResult(items=items, scores=scores, systems=systems, per_pair=per_pair, overall=overall,
                            speaker=spk_info, report=report, table=format_table(per_pair, overall, legend),
                            ref=ref, index=index, features=features)
