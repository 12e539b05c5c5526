"""Feature extraction for a whole data dir: parallel, resumable, shardable, failure-tolerant.

The feature files themselves are the record of progress: an ``<utt>.npz`` whose settings
match the config is finished (files are written atomically, so one that exists is complete).
That makes three ways of running the same job equivalent:

* one run with ``nj`` processes;
* a rerun after an interruption (only missing utterances are computed);
* ``num_shards`` independent runs (e.g. a Slurm array job), each writing its own
  ``feats.<i>.scp``/``failed.<i>.txt``, followed by :func:`merge_shards` (or by an un-sharded
  run, which also retries the failures).

A file that cannot be analysed is recorded in ``failed.txt`` with the reason and never stops
the other files. One job writes into an output folder at a time (:func:`vc.fileio.folder_lock`;
the shards of one job share it), and the workers end with the job however it ends.
"""
from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from vc.audio import AudioError, load_audio
from vc.data import DataDir, write_scp
from vc.features.config import FeatureConfig
from vc.features.parallel import imap_jobs
from vc.features.storage import FeatureFileError, feature_path, has_aperiodicity, read_settings, save_features
from vc.features.world import analyze
from vc.fileio import atomic_write_text, folder_lock, remove_stale_temp_files
from vc.errors import VCError

log = logging.getLogger(__name__)


class ExtractionError(VCError, RuntimeError):
    """The job cannot run as asked (settings clash with existing files, unfinished shards)."""


@dataclass
class ExtractionSummary:
    """What one run did; ``failed`` maps utterance id -> reason."""

    total: int
    extracted: int = 0
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def failed_fraction(self) -> float:
        return len(self.failed) / self.total if self.total else 0.0

    def describe(self) -> str:
        return (f"{self.total} utterance(s): {self.extracted} extracted, {self.skipped} already done, "
                f"{len(self.failed)} failed ({100 * self.failed_fraction:.1f}%)")


def index_names(num_shards: int = 1, shard: int | None = None) -> tuple[str, str]:
    """File names of the feature index and failure list for a shard (or the whole set)."""
    if num_shards > 1 and shard is not None:
        return f"feats.{shard}.scp", f"failed.{shard}.txt"
    return "feats.scp", "failed.txt"


def _differences(a: FeatureConfig, b: FeatureConfig) -> str:
    diffs = [f"{f.name} {getattr(a, f.name)!r} vs {getattr(b, f.name)!r}"
             for f in dataclasses.fields(a) if getattr(a, f.name) != getattr(b, f.name)]
    return ", ".join(diffs)


def _existing_state(data: DataDir, out_dir: Path, cfg: FeatureConfig,
                    aperiodicity: bool = True) -> tuple[set[str], list[str]]:
    """Utterances already finished with ``cfg``, and descriptions of files made with other settings.

    A file without aperiodicity does not count as finished when aperiodicity is asked for (it is
    analysed again, and completed); one with it always does (it holds more than was asked)."""
    done, clashes, incomplete = set(), [], 0
    for utt in data.utts:
        path = feature_path(out_dir, utt)
        if not path.exists():
            continue
        try:
            old = read_settings(path)
            if old == cfg and aperiodicity and not has_aperiodicity(path):
                incomplete += 1
                continue
        except FeatureFileError as e:
            log.warning("%s; it will be recomputed", e)
            continue
        if old == cfg:
            done.add(utt)
        else:
            clashes.append(f"{path}: {_differences(old, cfg)} (existing vs requested)")
    if incomplete:
        log.info("%s: %d file(s) were extracted without aperiodicity; analysing them again with it",
                 out_dir, incomplete)
    return done, clashes


# ----------------------------------------------------------------------------- worker side
_WORKER_CFG: FeatureConfig | None = None
_WORKER_APERIODICITY = True


def _init_worker(cfg_json: str, aperiodicity: bool = True) -> None:
    global _WORKER_CFG, _WORKER_APERIODICITY
    _WORKER_CFG = FeatureConfig.from_json(cfg_json)
    _WORKER_APERIODICITY = aperiodicity


def _extract_one(task: tuple[str, str, str | None, str]) -> tuple[str, str | None]:
    """Analyse one utterance; returns (utt, None) on success or (utt, reason) on failure."""
    utt, wav_path, speaker, out_path = task
    cfg = _WORKER_CFG
    assert cfg is not None, "worker used before _init_worker"
    try:
        wave = load_audio(wav_path, cfg.sample_rate)
        feats = analyze(wave, cfg, speaker, aperiodicity=_WORKER_APERIODICITY)
        if problem := feats.nonfinite():  # never stored: it would poison the statistics
            return utt, f"{wav_path}: the analysis gave non-finite features (NaN/inf in {problem})"
        save_features(out_path, feats, cfg)
    except AudioError as e:
        return utt, str(e)
    except Exception as e:  # noqa: BLE001 - any per-file failure is recorded in failed.txt, not hidden
        return utt, f"{wav_path}: {type(e).__name__}: {e}"
    return utt, None


# ----------------------------------------------------------------------------- driver
def _write_indexes(out_dir: Path, names: tuple[str, str], done: list[str], failed: dict[str, str]) -> None:
    scp_name, failed_name = names
    write_scp(out_dir / scp_name, {u: str(feature_path(out_dir, u)) for u in done})
    failed_path = out_dir / failed_name
    if failed:
        lines = "".join(f"{u}\t{' '.join(failed[u].split())}\n" for u in sorted(failed))
        atomic_write_text(failed_path, lines)
    elif failed_path.exists():
        failed_path.unlink()  # a rerun fixed the earlier failures


def extract_dir(data: DataDir, out_dir: str | os.PathLike, cfg: FeatureConfig, *, nj: int = 1,
                num_shards: int = 1, shard: int | None = None, progress: bool = True,
                aperiodicity: bool = True) -> ExtractionSummary:
    """Extract features of ``data`` (or of one shard of it) into ``out_dir``.

    ``aperiodicity=False`` writes training-only features (no D4C: see :func:`vc.features.analyze`).
    Raises :class:`ExtractionError` before doing any work if ``out_dir`` holds features of these
    utterances made with other settings.
    """
    cfg = cfg.resolved()
    out_dir = Path(out_dir).absolute()
    if not data.utts:
        raise ExtractionError("the data dir holds no utterances (its wav.scp is empty); nothing to extract")
    if num_shards > 1:
        if shard is None:
            raise ValueError("a shard number is required with num_shards > 1")
        part = data.shard(num_shards, shard)
    else:
        part = data
    # One writer per folder; the shards of one job write disjoint files side by side, so each
    # takes only its own shard (and keeps unsharded runs and --merge out meanwhile).
    sharded = num_shards > 1
    with folder_lock(out_dir, f"vc-extract shard {shard}/{num_shards}" if sharded else "vc-extract",
                     shard=shard if sharded else None):
        return _extract_locked(data, part, out_dir, cfg, nj, num_shards, shard, progress, aperiodicity)


def _extract_locked(data: DataDir, part: DataDir, out_dir: Path, cfg: FeatureConfig, nj: int, num_shards: int,
                    shard: int | None, progress: bool, aperiodicity: bool) -> ExtractionSummary:
    done, clashes = _existing_state(part, out_dir, cfg, aperiodicity)
    if clashes:
        shown = "\n".join(clashes[:5]) + (f"\n... and {len(clashes) - 5} more" if len(clashes) > 5 else "")
        raise ExtractionError(
            f"{out_dir}: {len(clashes)} existing feature file(s) were made with other settings:\n{shown}\n"
            "Choose another output directory (--out) or delete these files."
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    if stale := remove_stale_temp_files(out_dir):
        log.info("%s: removed %d temp file(s) left by an interrupted run", out_dir, stale)
    write_scp(out_dir / "utt2spk", data.utt2spk)  # the dump is self-contained for training

    summary = ExtractionSummary(total=len(part.utts), skipped=len(done))
    tasks = [(u, part.wav_scp[u], part.utt2spk.get(u), str(feature_path(out_dir, u)))
             for u in part.utts if u not in done]
    if done:
        log.info("%s: %d of %d utterance(s) already extracted; %d to go", out_dir, len(done), summary.total, len(tasks))
    finished = set(done)
    for utt, reason in imap_jobs(_extract_one, tasks, nj, initializer=_init_worker,
                                 initargs=(cfg.to_json(), aperiodicity),
                                 desc="extract", progress=progress):
        if reason is None:
            finished.add(utt)
            summary.extracted += 1
        else:
            log.warning("failed: %s", reason)
            summary.failed[utt] = reason
    _write_indexes(out_dir, index_names(num_shards, shard), sorted(finished), summary.failed)
    return summary


def merge_shards(data: DataDir, out_dir: str | os.PathLike, cfg: FeatureConfig,
                 aperiodicity: bool = True) -> ExtractionSummary:
    """Write ``feats.scp``/``failed.txt`` for the whole set after sharded runs; computes nothing.

    The feature files are the truth (an utterance is done when its file exists with matching
    settings); the shards' ``failed.<i>.txt`` give the reasons for the others. Utterances that
    are neither done nor failed mean a shard did not finish: that is an error naming them.
    """
    cfg = cfg.resolved()
    out_dir = Path(out_dir).absolute()
    with folder_lock(out_dir, "vc-extract --merge"):  # no shard may still be writing
        return _merge_locked(data, out_dir, cfg, aperiodicity)


def _merge_locked(data: DataDir, out_dir: Path, cfg: FeatureConfig, aperiodicity: bool) -> ExtractionSummary:
    done, clashes = _existing_state(data, out_dir, cfg, aperiodicity)
    if clashes:
        raise ExtractionError(f"{out_dir}: feature files made with other settings:\n" + "\n".join(clashes[:5]))
    reasons: dict[str, str] = {}
    for path in sorted(out_dir.glob("failed.*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            utt, _, reason = line.partition("\t")
            if utt:
                reasons[utt] = reason
    failed = {u: reasons[u] for u in data.utts if u not in done and u in reasons}
    missing = [u for u in data.utts if u not in done and u not in failed]
    if missing:
        raise ExtractionError(
            f"{out_dir}: {len(missing)} utterance(s) neither extracted nor failed (unfinished shard?): "
            + ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
            + "\nRerun the missing shards, or run without --merge to extract them here."
        )
    write_scp(out_dir / "utt2spk", data.utt2spk)
    _write_indexes(out_dir, index_names(), sorted(done), failed)
    return ExtractionSummary(total=len(data.utts), skipped=len(done), failed=failed)
