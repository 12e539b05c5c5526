"""Score converted files: analysis of every audio file once, then per-item metrics.

Work is split in two parallel passes so that nothing is computed twice: (1) each distinct
audio file (converted outputs, source utterances for the "none" floor, parallel references,
and every reference utterance for the speaker centroids) is loaded and analysed once;
(2) each parallel item is DTW-aligned and scored. Speaker metrics need only the embeddings
and are computed in this process.
"""
from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vc.audio import AudioError, load_audio
from vc.data import DataDir
from vc.evaluate.align import DEFAULT_SILENCE_DB, align
from vc.evaluate.cache import FileCache
from vc.evaluate.f0_metrics import f0_scores
from vc.evaluate.mcd import mel_cepstral_distortion
from vc.evaluate.modulation import modulation_spectrum_distance
from vc.evaluate.pairs import EvalItem
from vc.evaluate.parallel import WorkerPool
from vc.evaluate.speaker import (SpeakerEncoder, check_speaker_encoder, describe_encoder, identify,
                                 make_speaker_encoder, speaker_centroids)
from vc.features import FeatureConfig, sp_to_mcep

log = logging.getLogger(__name__)

# Failures of one file that must not stop the evaluation of the others (reported per item).
FILE_ERRORS = (AudioError, ValueError, OSError, RuntimeError)


@dataclass(frozen=True)
class EvalSettings:
    """What the scores depend on (recorded in the output next to the numbers)."""

    features: FeatureConfig  # resolved analysis settings, the same as the model's
    silence_db: float | None = DEFAULT_SILENCE_DB
    speaker_encoder: str | None = "resemblyzer"  # None: no speaker metrics
    cache_dir: str | None = None  # None: no on-disk cache of reference analyses


def spectral_features(wave: np.ndarray, cfg: FeatureConfig, speaker: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(F0, mel-cepstrum) exactly as :func:`vc.features.analyze` computes them, without aperiodicity.

    Scoring never uses band aperiodicity, and D4C is about half of WORLD's analysis time, so it
    is skipped here; the F0 extractor and envelope coding are the features package's own.
    """
    import pyworld

    from vc.features.world import extract_f0

    cfg = cfg.resolved()
    x = np.ascontiguousarray(wave, dtype=np.float64)
    f0, times = extract_f0(x, cfg, speaker)
    sp = pyworld.cheaptrick(x, f0, times, cfg.sample_rate, fft_size=cfg.fft_size)
    return f0.astype(np.float32), sp_to_mcep(sp, cfg.mcep_dim, cfg.alpha).astype(np.float32)


@dataclass(frozen=True)
class AnalysisJob:
    """One audio file to analyse; ``speaker`` selects its F0 search range (any speaker with
    the same range gives the same analysis, so jobs are shared between them)."""

    path: str
    speaker: str | None
    features: bool
    embedding: bool
    cacheable: bool  # reference data: stable between runs, worth caching


@dataclass
class Analysis:
    f0: np.ndarray | None = None
    mcep: np.ndarray | None = None
    embedding: np.ndarray | None = None
    error: str | None = None


@dataclass
class UttScore:
    """Every metric of one converted (or, for system "none", unconverted) utterance."""

    system: str
    utt: str
    src_spk: str
    tgt_spk: str
    path: str
    ref_utt: str | None
    match: str
    mcd_db: float | None = None
    msd_db: float | None = None
    f0_rmse_cents: float | None = None
    f0_corr: float | None = None
    vuv_error: float | None = None
    aligned_frames: int | None = None
    voiced_both: int | None = None
    spk_cos: float | None = None
    spk_pred: str | None = None
    spk_correct: bool | None = None
    error: str | None = None


@dataclass
class SpeakerInfo:
    """How the speaker metrics were obtained (or why they are missing)."""

    encoder: str | None
    description: str | None = None
    available: bool = False
    reason: str | None = None
    centroid_utts: dict[str, int] = field(default_factory=dict)


# ------------------------------------------------------------------ worker side
_STATE: dict[str, object] = {}


def _init_state(settings: EvalSettings) -> None:
    _STATE["settings"] = settings
    _STATE["cache"] = FileCache(settings.cache_dir) if settings.cache_dir else None
    _STATE["encoder"] = make_speaker_encoder(settings.speaker_encoder) if settings.speaker_encoder else None


def _analyze_job(job: AnalysisJob) -> Analysis:
    settings: EvalSettings = _STATE["settings"]  # type: ignore[assignment]
    cache: FileCache | None = _STATE["cache"] if job.cacheable else None  # type: ignore[assignment]
    encoder: SpeakerEncoder | None = _STATE["encoder"]  # type: ignore[assignment]
    cfg = settings.features
    out = Analysis()
    wave: np.ndarray | None = None
    try:
        if job.features:
            key = FileCache.key(job.path, "features", cfg.to_json(), repr(cfg.f0_range(job.speaker))) if cache else None
            hit = cache.load(key) if cache else None
            if hit is not None:
                out.f0, out.mcep = hit["f0"], hit["mcep"]
            else:
                wave = load_audio(job.path, cfg.sample_rate)
                out.f0, out.mcep = spectral_features(wave, cfg, job.speaker)
                if cache:
                    cache.save(key, {"f0": out.f0, "mcep": out.mcep})
        if job.embedding and encoder is not None:
            key = FileCache.key(job.path, "embedding", encoder.name, str(cfg.sample_rate)) if cache else None
            hit = cache.load(key) if cache else None
            if hit is not None:
                out.embedding = hit["embedding"]
            else:
                if wave is None:
                    wave = load_audio(job.path, cfg.sample_rate)
                out.embedding = np.asarray(encoder.embed(wave, cfg.sample_rate), dtype=np.float64)
                if not np.all(np.isfinite(out.embedding)) or not np.any(out.embedding):
                    raise ValueError(f"{job.path}: speaker encoder returned a zero or non-finite embedding")
                if cache:
                    cache.save(key, {"embedding": out.embedding})
    except FILE_ERRORS as exc:
        msg = str(exc)
        out.error = msg if job.path in msg else f"{job.path}: {msg}"
    return out


@dataclass(frozen=True)
class PairTask:
    ref_f0: np.ndarray
    ref_mcep: np.ndarray
    conv_f0: np.ndarray
    conv_mcep: np.ndarray
    silence_db: float | None
    frame_period: float


def _score_pair(task: PairTask) -> dict[str, object]:
    try:
        path = align(task.ref_mcep, task.conv_mcep, silence_db=task.silence_db)
        f0 = f0_scores(task.ref_f0, task.conv_f0, path)
        return dict(mcd_db=mel_cepstral_distortion(task.ref_mcep, task.conv_mcep, path),
                    msd_db=modulation_spectrum_distance(task.ref_mcep, task.conv_mcep, task.frame_period,
                                                        task.silence_db),
                    f0_rmse_cents=f0.rmse_cents, f0_corr=f0.corr, vuv_error=f0.vuv_error,
                    aligned_frames=len(path), voiced_both=f0.voiced_both)
    except ValueError as exc:
        return dict(error=f"scoring failed: {exc}")


# ------------------------------------------------------------------ main side
def plan_analysis(items: list[EvalItem], ref: DataDir, cfg: FeatureConfig,
                  want_embeddings: bool) -> tuple[list[AnalysisJob], dict[tuple[str, str | None], AnalysisJob]]:
    """Jobs, one per distinct (file, F0 range) with the union of what is needed of it, and the
    job of every (file, speaker) the items ask for."""
    need: dict[tuple[str, tuple[float, float]], dict[str, Any]] = {}

    def add(path: str, speaker: str | None, *, features: bool, embedding: bool, cacheable: bool) -> None:
        flags = need.setdefault((path, cfg.f0_range(speaker)), {
            "speaker": speaker, "features": False, "embedding": False, "cacheable": cacheable, "users": []})
        flags["features"] |= features
        flags["embedding"] |= embedding and want_embeddings
        flags["cacheable"] &= cacheable
        flags["users"].append((path, speaker))

    for it in items:
        is_source = it.system == "none"
        # a converted file is analysed with the target's F0 range (it should sound like the target)
        add(it.path, analysis_speaker(it), features=it.parallel, embedding=True, cacheable=is_source)
        if it.parallel:
            add(it.ref_path, it.tgt_spk, features=True, embedding=False, cacheable=True)
    if want_embeddings:
        for utt in ref.utts:
            add(ref.wav_scp[utt], ref.utt2spk[utt], features=False, embedding=True, cacheable=True)
    jobs: list[AnalysisJob] = []
    job_of: dict[tuple[str, str | None], AnalysisJob] = {}
    for (path, _), flags in need.items():
        job = AnalysisJob(path, flags["speaker"], flags["features"], flags["embedding"], flags["cacheable"])
        jobs.append(job)
        for user in flags["users"]:
            job_of[user] = job

    def size(job: AnalysisJob) -> int:
        try:
            return os.stat(job.path).st_size
        except OSError:
            return 0

    return sorted(jobs, key=lambda j: (-size(j), j.path)), job_of  # longest first: workers finish together


def analysis_speaker(item: EvalItem) -> str:
    """The speaker whose F0 range analyses ``item.path``: the target's for a conversion, the
    source speaker's for the unconverted source ("none")."""
    return item.src_spk if item.system == "none" else item.tgt_spk


def evaluate(items: list[EvalItem], ref: DataDir, settings: EvalSettings, *, nj: int = 1,
             progress: bool = True) -> tuple[list[UttScore], SpeakerInfo]:
    """Score every item; failures are recorded in ``UttScore.error``, never raised."""
    spk_info = SpeakerInfo(encoder=settings.speaker_encoder)
    if settings.speaker_encoder:
        spk_info.reason = check_speaker_encoder(settings.speaker_encoder)
        if spk_info.reason:
            log.warning("speaker metrics unavailable: %s", spk_info.reason)
            settings = EvalSettings(settings.features, settings.silence_db, None, settings.cache_dir)
        else:
            spk_info.available = True
    else:
        spk_info.reason = "disabled (--speaker-encoder none)"

    jobs, job_of = plan_analysis(items, ref, settings.features, want_embeddings=spk_info.available)
    with WorkerPool(nj, _init_state, (settings,), progress=progress) as pool:
        results = pool.map(_analyze_job, jobs, desc="analyse",
                           on_crash=lambda job, exc: Analysis(error=f"{job.path}: worker crashed: {exc}"))
        by_job = dict(zip(jobs, results))
        analysis = {user: by_job[job] for user, job in job_of.items()}
        by_path: dict[str, Analysis] = {}  # embeddings do not depend on the F0-range speaker
        for j, r in zip(jobs, results):
            if j.embedding or j.path not in by_path:
                by_path[j.path] = r

        scores: list[UttScore] = []
        tasks: list[tuple[int, PairTask]] = []
        for it in items:
            sc = UttScore(it.system, it.utt, it.src_spk, it.tgt_spk, it.path, it.ref_utt, it.match)
            scores.append(sc)
            conv = analysis[(it.path, analysis_speaker(it))]
            if conv.error:
                sc.error = conv.error
                continue
            if it.parallel:
                refa = analysis[(it.ref_path, it.tgt_spk)]
                if refa.error:
                    sc.error = f"reference {it.ref_utt}: {refa.error}"
                    continue
                tasks.append((len(scores) - 1, PairTask(refa.f0, refa.mcep, conv.f0, conv.mcep, settings.silence_db,
                                                        settings.features.frame_period)))

        pair_results = pool.map(_score_pair, [t for _, t in tasks], desc="score",
                                on_crash=lambda task, exc: {"error": f"scoring crashed: {exc}"})
    for (i, _), res in zip(tasks, pair_results):
        for k, v in res.items():
            setattr(scores[i], k, _finite(v) if isinstance(v, float) else v)

    if spk_info.available:
        spk_info.description = describe_encoder(settings.speaker_encoder)
        _speaker_metrics(scores, ref, by_path, spk_info)
    return scores, spk_info


def _speaker_metrics(scores: list[UttScore], ref: DataDir, by_path: dict[str, Analysis], info: SpeakerInfo) -> None:
    """Cosine to the target's centroid (all of its reference utterances) and nearest-centroid ID."""
    per_spk: dict[str, list[np.ndarray]] = {}
    for utt in ref.utts:
        res = by_path.get(ref.wav_scp[utt])
        if res is None or res.embedding is None:
            log.warning("reference %s left out of its speaker centroid: %s", utt,
                        res.error if res is not None else "not analysed")
            continue
        per_spk.setdefault(ref.utt2spk[utt], []).append(res.embedding)
    info.centroid_utts = {spk: len(v) for spk, v in sorted(per_spk.items())}
    if not per_spk:
        info.available = False
        info.reason = "no reference utterance could be embedded"
        return
    speakers, centroids = speaker_centroids(per_spk)
    for sc in scores:
        if sc.error:
            continue
        emb = by_path[sc.path].embedding
        if emb is None:
            continue
        pred, sims = identify(emb, speakers, centroids)
        sc.spk_pred = pred
        sc.spk_correct = pred == sc.tgt_spk
        if sc.tgt_spk in speakers:
            sc.spk_cos = float(sims[speakers.index(sc.tgt_spk)])


def _finite(v: float) -> float | None:
    return None if math.isnan(v) or math.isinf(v) else float(v)
