"""Aggregate per-utterance scores and present them: a text table and a JSON document.

Scores are averaged per utterance (each utterance weighs the same, whatever its length) for
every (system, source speaker, target speaker) and for every system overall. Systems are shown
side by side in one table with the "none" (no conversion) floor, so every number is read
against what doing nothing would score.

JSON document (``schema`` = ``SCHEMA``; NaN/undefined values are ``null``)::

    schema       "stargan-vc.evaluate/1"
    systems      ["<label>", ..., "none"]                     display order
    metrics      {mcd, msd, f0, speaker, aggregation}: the exact definition of every number
    settings     {features: resolved FeatureConfig, feature_source, silence_db, dtw}
    inputs       {manifests: {label: path}, ref_data, src_data}
    speaker_encoder {encoder, description, available, reason, centroid_utts: {spk: n}}
    overall      [group per system]
    pairs        [group per (system, src_spk, tgt_spk)]
    utterances   [{system, utt, src_spk, tgt_spk, path, ref_utt, match ("text"|"utt-suffix"|"none"),
                   mcd_db, msd_db, f0_rmse_cents, f0_corr, vuv_error (0..1), aligned_frames, voiced_both,
                   spk_cos, spk_pred, spk_correct, error}]
    warnings     [str]
    environment  {date, python, torch, commit, cpu, cpu_features, cores, torch_threads, gpu, ...}:
                 where the scores were made (vc.evaluate.results.environment; RESULTS.md shows it)

A group is ``{system[, src_spk, tgt_spk], n, n_failed, n_parallel, mcd_db, mcd_db_std, msd_db, f0_rmse_cents,
f0_corr, vuv_error, spk_cos, spk_acc}`` (means over the utterances where the metric is defined,
each with ``<metric>_n``, the number of utterances behind it; ``spk_acc`` and ``vuv_error`` are 0..1).
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
from typing import Any, Iterable

import numpy as np

from vc.evaluate.pairs import NONE_LABEL
from vc.evaluate.results import environment
from vc.evaluate.scoring import UttScore
from vc.fileio import atomic_write_text

SCHEMA = "stargan-vc.evaluate/1"
# (key in the JSON groups, table header, scale for display, decimals)
COLUMNS: tuple[tuple[str, str, float, int], ...] = (
    ("mcd_db", "MCD[dB]", 1.0, 2),
    ("msd_db", "MSD[dB]", 1.0, 2),
    ("f0_rmse_cents", "F0RMSE[cent]", 1.0, 1),
    ("f0_corr", "F0corr", 1.0, 3),
    ("vuv_error", "V/UV[%]", 100.0, 1),
    ("spk_cos", "SpkCos", 1.0, 3),
    ("spk_acc", "SpkID[%]", 100.0, 1),
)
MEAN_OF = {"mcd_db": "mcd_db", "msd_db": "msd_db", "f0_rmse_cents": "f0_rmse_cents", "f0_corr": "f0_corr",
           "vuv_error": "vuv_error", "spk_cos": "spk_cos", "spk_acc": "spk_correct"}


def system_order(scores: Iterable[UttScore], labels: list[str]) -> list[str]:
    """The given labels in order, then the no-conversion floor."""
    present = {s.system for s in scores}
    return [s for s in labels if s in present] + ([NONE_LABEL] if NONE_LABEL in present else [])


def _group(scores: list[UttScore], **key: str) -> dict[str, Any]:
    ok = [s for s in scores if not s.error]
    out: dict[str, Any] = dict(key)
    out.update(n=len(scores), n_failed=len(scores) - len(ok), n_parallel=sum(s.mcd_db is not None for s in ok))
    for name, attr in MEAN_OF.items():
        vals = [float(getattr(s, attr)) for s in ok if getattr(s, attr) is not None]
        out[name] = float(np.mean(vals)) if vals else None
        out[f"{name}_n"] = len(vals)
    mcd = [s.mcd_db for s in ok if s.mcd_db is not None]
    out["mcd_db_std"] = float(np.std(mcd)) if mcd else None
    return out


def summarize(scores: list[UttScore], systems: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(per-pair groups, per-system overall groups), each in display order."""
    pairs = sorted({(s.src_spk, s.tgt_spk) for s in scores})
    per_pair = []
    for src, tgt in pairs:
        for system in systems:
            sel = [s for s in scores if s.system == system and s.src_spk == src and s.tgt_spk == tgt]
            if sel:
                per_pair.append(_group(sel, system=system, src_spk=src, tgt_spk=tgt))
    overall = [_group([s for s in scores if s.system == system], system=system) for system in systems]
    return per_pair, overall


def _cell(value: float | None, scale: float, decimals: int) -> str:
    return "-" if value is None else f"{value * scale:.{decimals}f}"


def format_table(per_pair: list[dict[str, Any]], overall: list[dict[str, Any]], legend: list[str]) -> str:
    """Fixed-width text table: one row per (pair, system), then ALL rows, then the legend.

    ``n`` counts scored utterances (failed ones in brackets); ``par`` those with a parallel
    reference (MCD/F0 need one; speaker metrics do not).
    """
    rows = [(f"{g['src_spk']}->{g['tgt_spk']}", g) for g in per_pair] + [("ALL", g) for g in overall]
    pair_w = max([4] + [len(r[0]) for r in rows])
    sys_w = max([6] + [len(r[1]["system"]) for r in rows])
    head = f"{'pair':<{pair_w}}  {'system':<{sys_w}}  {'n':>5}  {'par':>4}" + "".join(
        f"  {title:>{max(len(title), 7)}}" for _, title, _, _ in COLUMNS)
    lines = [head, "-" * len(head)]
    last_pair = None
    for pair, g in rows:
        if last_pair is not None and pair != last_pair:
            lines.append("")
        shown = pair if pair != last_pair else ""
        last_pair = pair
        n = f"{g['n'] - g['n_failed']}" + (f"({g['n_failed']})" if g["n_failed"] else "")
        line = f"{shown:<{pair_w}}  {g['system']:<{sys_w}}  {n:>5}  {g['n_parallel']:>4}"
        for key, title, scale, dec in COLUMNS:
            line += f"  {_cell(g[key], scale, dec):>{max(len(title), 7)}}"
        lines.append(line)
    return "\n".join(lines + [""] + legend) + "\n"


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    return value


def build_report(*, scores: list[UttScore], per_pair: list[dict[str, Any]], overall: list[dict[str, Any]],
                 systems: list[str], variants: dict[str, str], settings: dict[str, Any],
                 inputs: dict[str, Any], speaker: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """The JSON document written by ``vc-evaluate --out`` (schema ``SCHEMA``, see docs)."""
    return _jsonable({
        "schema": SCHEMA,
        "systems": systems,
        "metrics": variants,
        "settings": settings,
        "inputs": inputs,
        "speaker_encoder": speaker,
        "overall": overall,
        "pairs": per_pair,
        "utterances": [dataclasses.asdict(s) for s in scores],
        "warnings": warnings,
        "environment": environment(),
    })


def write_report(path: str | os.PathLike, report: dict[str, Any]) -> None:
    """Write the JSON report atomically (UTF-8, ids and transcripts unescaped)."""
    atomic_write_text(path, json.dumps(report, indent=1, ensure_ascii=False, allow_nan=False) + "\n")
