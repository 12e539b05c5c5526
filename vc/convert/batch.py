"""Batch conversion of a data dir to several target speakers: parallel, shardable, resumable.

Work unit = one source utterance: it is read and analysed once and then converted to every
requested target, because WORLD analysis costs about as much as all the rest of a conversion.
``--nj N`` means N converting processes: this one and N - 1 workers. Each loads the model once
and runs torch on one thread (N processes on N cores beat one process fighting its own thread
pool). The workers are started first, so that their start-up (torch import, model load) overlaps
this process's own, and every process then takes the next utterance from one shared counter
(longest first), so that all of them finish together. Every output is written
atomically, so after a crash or a kill the files that exist are complete and a rerun only does
the rest. Shards (``--num-shards K --shard i``) split the sorted utterance list exactly as
``DataDir.shard`` does for extraction; each writes its own ``manifest.<i>.tsv`` and
``failed.<i>.tsv`` (as vc-extract writes ``feats.<i>.scp``), and :func:`merge_shards` (or a final
unsharded run, which also retries failures) writes the whole set's ``manifest.tsv``.

One job writes into an output folder at a time (:func:`vc.fileio.folder_lock`; the shards of
one job share it), workers end with this process however it ends (:mod:`vc.workers`), a resumed
run converts again any output shorter than its header says, and Ctrl-C ends the run with one
line saying how many conversions are done (exit 130).
"""
from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import soundfile as sf

from vc.convert.manifest import ManifestRow, read_failed, shard_suffix, write_failed, write_manifest
from vc.data import DataDir
from vc.features.parallel import single_thread_env, start_worker_server
from vc.fileio import atomic_write_text, folder_lock, remove_stale_temp_files
from vc.errors import VCError
from vc.workers import end_with_parent, parent_gone

if TYPE_CHECKING:  # torch is imported when the model is loaded
    from vc.convert.converter import Converter, ConverterOptions

log = logging.getLogger(__name__)

#: Records how an output folder was made, so that a resumed run with another model or other
#: options does not silently mix two kinds of output in one manifest.
SETTINGS_FILE = "convert.json"


class BatchError(VCError, ValueError):
    """A batch run that cannot start (bad targets, output folder made with other settings...)."""


class BatchInterrupted(VCError):
    """Ctrl-C during a batch run: how far it got; the files written so far count on a rerun."""

    exit_code = 130  # as for any Ctrl-C (128 + SIGINT)


@dataclass(frozen=True)
class UttJob:
    """One source utterance and the outputs still to be made from it."""

    utt: str
    src_spk: str
    wav_path: str
    outputs: tuple[tuple[str, str], ...]  # (target speaker, output path)


@dataclass
class BatchResult:
    """What a batch run did; ``failures`` holds ``(utt, tgt_spk, reason)``."""

    converted: int = 0
    skipped: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    manifest: Path | None = None
    failed_list: Path | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures


def output_path(outdir: str | os.PathLike, utt: str, tgt: str) -> Path:
    """Where the conversion of ``utt`` to ``tgt`` goes: ``<outdir>/wav/<tgt>/<utt>_to_<tgt>.wav``."""
    return Path(outdir) / "wav" / tgt / f"{utt}_to_{tgt}.wav"


def parse_targets(spec: str, speakers: list[str]) -> list[str]:
    """``"all"`` or a comma list, checked against the model's speakers (unknown -> BatchError)."""
    if spec.strip() == "all":
        return list(speakers)
    wanted = [t.strip() for t in spec.split(",") if t.strip()]
    if not wanted:
        raise BatchError(f"--targets is empty; use 'all' or a comma list of: {', '.join(speakers)}")
    unknown = [t for t in wanted if t not in speakers]
    if unknown:
        raise BatchError(f"unknown target speaker(s) {', '.join(unknown)}; the model knows: {', '.join(speakers)}")
    return list(dict.fromkeys(wanted))  # drop repeats, keep order


def _wav_shortfall(path: Path) -> str | None:
    """Why a RIFF WAV file is shorter than its own header says, or None (also for other formats).

    libsndfile reads a WAV cut short (a copy interrupted, a full disk) without complaint, as
    far as its data goes, so its frame count cannot tell; the chunk sizes in the header can.
    """
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        declared = 8 + int.from_bytes(head[4:8], "little")
        if declared > size:
            return f"{size} bytes where its header declares {declared}"
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk = f.read(8)
            length = int.from_bytes(chunk[4:8], "little")
            if chunk[:4] == b"data":
                end = pos + 8 + length
                return f"{size} bytes where its data chunk ends at byte {end}" if end > size else None
            pos += 8 + length + (length & 1)  # chunks are padded to an even length
    return "no data chunk"


def is_complete(path: Path) -> bool:
    """An existing output that is whole: soundfile opens it, it has samples, and it is as long
    as its header declares (its last frame can be read).

    Outputs are written atomically, so this only rejects files damaged from outside (a copy
    cut short, a full disk while syncing); those are converted again rather than trusted.
    """
    if not path.is_file():
        return False
    try:
        if why := _wav_shortfall(path):
            log.warning("%s: existing output is cut short (%s); converting it again", path, why)
            return False
        with sf.SoundFile(str(path)) as f:
            if f.frames <= 0:
                return False
            f.seek(f.frames - 1)
            if len(f.read(1)) != 1:
                log.warning("%s: existing output ends before its last frame; converting it again", path)
                return False
        return True
    except (sf.SoundFileError, RuntimeError, OSError) as exc:
        log.warning("%s: existing output is unreadable (%s); converting it again", path, exc)
        return False


def plan(data: DataDir, targets: list[str], outdir: Path, *, overwrite: bool = False) -> tuple[list[UttJob], list[ManifestRow], int]:
    """Split the work into jobs still to do and rows already done.

    Returns ``(jobs, done_rows, skipped)``: every utterance goes to every target except its own
    speaker; outputs that already exist complete are skipped unless ``overwrite``.
    """
    jobs: list[UttJob] = []
    done: list[ManifestRow] = []
    for utt in data.utts:
        src = data.utt2spk[utt]
        todo = []
        for tgt in targets:
            if tgt == src:
                continue
            path = output_path(outdir, utt, tgt)
            if not overwrite and is_complete(path):
                done.append(ManifestRow(utt, src, tgt, str(path)))
            else:
                todo.append((tgt, str(path)))
        if todo:
            jobs.append(UttJob(utt, src, data.wav_scp[utt], tuple(todo)))
    return jobs, done, len(done)


def _job_size(job: UttJob) -> int:
    try:
        return os.stat(job.wav_path).st_size * len(job.outputs)
    except OSError:
        return 0  # a missing file fails fast in the worker, with its reason


# ---------------------------------------------------------------------------- worker side
def convert_job(converter: "Converter", job: UttJob) -> list[tuple[str, str, str | None]]:
    """Convert one utterance to its targets; returns ``(tgt, path, error or None)`` per output.

    Errors are caught per utterance/target and returned as reasons so that one bad file ends up
    in ``failed.tsv`` instead of stopping hours of work.
    """
    from vc.audio import write_audio

    try:
        wave = converter.load_audio(job.wav_path)  # header checked first: rate in range, not too long
        analysis = converter.analyze(wave, converter.sample_rate, source=job.src_spk, name=job.wav_path)
    except Exception as exc:  # noqa: BLE001 - reported per output in failed.tsv
        reason = f"{type(exc).__name__}: {exc}"
        return [(tgt, path, reason) for tgt, path in job.outputs]
    results: list[tuple[str, str, str | None]] = []
    for tgt, path in job.outputs:
        try:
            out, sr = converter.convert_analysis(analysis, tgt)
            write_audio(path, out, sr)
            results.append((tgt, path, None))
        except Exception as exc:  # noqa: BLE001 - reported in failed.tsv
            results.append((tgt, path, f"{type(exc).__name__}: {exc}"))
    return results


def _claim(counter: Any) -> int:
    """The index of the next job nobody has taken yet (shared by every converting process)."""
    with counter.get_lock():
        i = counter.value
        counter.value = i + 1
    return i


def _worker_main(model_dir: str, options: "ConverterOptions", log_level: int, inbox: Any, results: Any,
                 counter: Any) -> None:
    """A worker process: load the model, receive the job list, convert jobs until none are left.

    Sends ``(index, outcomes)`` per job, or ``("error", reason)`` if the model cannot be loaded
    (the other processes then do the work). A ``None`` job list means there is nothing to do.
    """
    end_with_parent()
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s",
                        datefmt="%H:%M:%S")
    import torch

    torch.set_num_threads(1)
    from vc.convert.converter import Converter

    try:
        converter = Converter.from_bundle(model_dir, options=options)
    except Exception as exc:  # noqa: BLE001 - reported by the driver, which converts without us
        results.put(("error", f"worker {os.getpid()} could not load {model_dir}: {type(exc).__name__}: {exc}"))
        return
    while True:
        try:
            jobs = inbox.get(timeout=1.0)
            break
        except queue.Empty:
            if parent_gone():
                return
    if not jobs:
        return
    while not parent_gone() and (i := _claim(counter)) < len(jobs):
        results.put((i, convert_job(converter, jobs[i])))


class _Workers:
    """``n`` worker processes started now (forked from the preloaded server where there is one)
    that load the model while the caller loads its own; :meth:`share` then hands them the jobs."""

    def __init__(self, n: int, model_dir: str, options: "ConverterOptions", log_level: int) -> None:
        methods = mp.get_all_start_methods()
        ctx = mp.get_context("forkserver" if "forkserver" in methods else "spawn")
        self.counter = ctx.Value("q", 0)
        self.inbox, self.results = ctx.Queue(), ctx.Queue()
        self.procs = [ctx.Process(target=_worker_main, daemon=True, name=f"vc-convert-{k + 1}",
                                  args=(model_dir, options, log_level, self.inbox, self.results, self.counter))
                      for k in range(n)]
        self._starter = threading.Thread(target=self._start, name="vc-convert-start", daemon=True)
        if ctx.get_start_method() == "forkserver":
            # Process.start() waits until the fork server (whose environment start_worker_server
            # made single-threaded) has imported torch, seconds: start them from a thread, so
            # that this process imports torch and loads its model meanwhile.
            self._starter.start()
        else:
            with single_thread_env():  # spawned children read the BLAS thread counts at import
                self._start()
            self._starter = threading.Thread()  # joinable no-op
            self._starter.start()

    def _start(self) -> None:
        try:
            for proc in self.procs:
                proc.start()
        except (OSError, EOFError) as exc:  # e.g. the fork server was stopped: the others do the work
            log.warning("could not start conversion worker processes (%s: %s); converting without them",
                        type(exc).__name__, exc)

    def share(self, jobs: list[UttJob]) -> None:
        for _ in self.procs:
            self.inbox.put(jobs)

    def poll(self, timeout: float | None = None) -> list[tuple[Any, Any]]:
        """Messages that have arrived (waiting up to ``timeout`` s for the first one)."""
        out = []
        try:
            out.append(self.results.get(timeout=timeout) if timeout else self.results.get_nowait())
            while True:
                out.append(self.results.get_nowait())
        except queue.Empty:
            pass
        return out

    def alive(self) -> bool:
        self._starter.join()
        return any(p.is_alive() for p in self.procs)

    def exit_codes(self) -> list[int | None]:
        return [p.exitcode for p in self.procs]

    def stop(self, at_once: bool = False) -> None:
        """Send 'nothing to do' to the workers still waiting, and end any still running
        (``at_once``: without letting them finish their current utterance, after Ctrl-C)."""
        for _ in self.procs:
            self.inbox.put(None)
        self._starter.join()
        for p in self.procs:
            if p.pid is None:  # never started
                continue
            p.join(timeout=0.0 if at_once else 5.0)
            if p.is_alive():
                p.terminate()
                p.join()
        self.inbox.cancel_join_thread()
        self.results.cancel_join_thread()


# ---------------------------------------------------------------------------- driver side
def _check_settings(outdir: Path, settings: dict[str, Any]) -> None:
    """Refuse to resume in a folder whose outputs were made with another model or options."""
    path = outdir / SETTINGS_FILE
    if not path.is_file():
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BatchError(f"{path}: unreadable ({exc}); use --overwrite to convert everything again") from exc
    if old != settings:
        diff = ", ".join(f"{k}: {old.get(k)!r} -> {settings.get(k)!r}"
                         for k in sorted(set(old) | set(settings)) if old.get(k) != settings.get(k))
        raise BatchError(f"{outdir} holds outputs made with other settings ({diff}); "
                         "use another --outdir, or --overwrite to convert them again")


def _remove_outputs(jobs: list[UttJob]) -> int:
    """Delete the existing outputs of ``jobs`` before they are redone (``--overwrite``).

    Deleting first, not replacing one by one, keeps the folder truthful if the run is
    interrupted: what remains was made with the recorded settings, and what is missing is
    converted by the next run. Only this run's (this shard's) files are touched.
    """
    removed = 0
    for job in jobs:
        for _, path in job.outputs:
            if os.path.exists(path):
                os.unlink(path)
                removed += 1
    return removed


def _load_data(data_dir: str | os.PathLike, num_shards: int, shard: int | None) -> DataDir:
    data = DataDir.load(data_dir)
    if not data.utts:
        raise BatchError(f"{data_dir}: the data dir holds no utterances (its wav.scp is empty); nothing to convert")
    if num_shards > 1:
        if shard is None:
            raise BatchError("a shard number (--shard) is required with --num-shards > 1")
        data = data.shard(num_shards, shard)
    return data


def run_batch(
    model_dir: str | os.PathLike,
    data_dir: str | os.PathLike,
    outdir: str | os.PathLike,
    *,
    targets: str = "all",
    options: "ConverterOptions | None" = None,
    nj: int = 1,
    num_shards: int = 1,
    shard: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> BatchResult:
    """Convert every utterance of ``data_dir`` (or one shard of it) to every target.

    ``nj`` processes convert: this one and ``nj - 1`` workers, which are started first so that
    their start-up overlaps the loading of the model here (used to check the targets and the
    output folder before any output is written, and then to convert like the workers).
    """
    from vc.convert.converter import ConverterOptions

    if nj < 1:
        raise BatchError(f"--nj must be >= 1, got {nj}")
    options = options or ConverterOptions()
    start = time.perf_counter()
    outdir = Path(outdir)
    data = _load_data(data_dir, num_shards, shard)
    # One writer per folder; the shards of one job write disjoint files side by side, so each
    # takes only its own shard (and keeps unsharded runs and --merge out meanwhile).
    sharded = num_shards > 1
    with folder_lock(outdir, f"vc-convert shard {shard}/{num_shards}" if sharded else "vc-convert",
                     shard=shard if sharded else None):
        return _run_locked(model_dir, data, data_dir, outdir, targets, options, nj, num_shards, shard, overwrite,
                           progress, start)


def _run_locked(model_dir: str | os.PathLike, data: DataDir, data_dir: str | os.PathLike, outdir: Path,
                targets: str, options: "ConverterOptions", nj: int, num_shards: int, shard: int | None,
                overwrite: bool, progress: bool, start: float) -> BatchResult:
    workers = None
    if nj > 1:  # started before our own model load so that theirs overlaps it
        # workers fork from a server that has imported torch and the model code meanwhile
        from vc.registry import VOICE, entries

        start_worker_server([__name__, "vc.convert.converter", "vc.voice.bundle",
                             *(e.load_bundle.partition(":")[0] for e in entries(VOICE))])
        workers = _Workers(min(nj, len(data.utts)) - 1, str(model_dir), options,
                           logging.getLogger().getEffectiveLevel()) if len(data.utts) > 1 else None
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the same per-process work as each worker (and a faster model load)
    interrupted = False
    try:
        return _run(model_dir, data, data_dir, outdir, targets, options, num_shards, shard, overwrite, progress,
                    workers, start)
    except BatchInterrupted:
        interrupted = True
        raise
    finally:
        if workers is not None:
            workers.stop(at_once=interrupted)
        torch.set_num_threads(threads)


def _run(model_dir: str | os.PathLike, data: DataDir, data_dir: str | os.PathLike, outdir: Path, targets: str,
         options: "ConverterOptions", num_shards: int, shard: int | None, overwrite: bool, progress: bool,
         workers: _Workers | None, start: float) -> BatchResult:
    from tqdm import tqdm

    from vc.convert.converter import Converter

    converter = Converter.from_bundle(model_dir, options=options)
    target_list = parse_targets(targets, converter.speakers)
    if not overwrite:
        _check_settings(outdir, converter.describe())
    jobs, rows, skipped = plan(data, target_list, outdir, overwrite=overwrite)
    if overwrite:
        log.info("--overwrite: removed %d existing output(s) of this run", _remove_outputs(jobs))
    atomic_write_text(outdir / SETTINGS_FILE, json.dumps(converter.describe(), indent=1, sort_keys=True) + "\n")
    if stale := remove_stale_temp_files(outdir):
        log.info("%s: removed %d temp file(s) left by an interrupted run", outdir, stale)
    jobs.sort(key=lambda j: (-_job_size(j), j.utt))  # longest first: the processes finish together
    result = BatchResult(skipped=skipped)
    tag = shard_suffix(num_shards, shard)
    log.info("%s%s: %d utterance(s) x %d target(s): %d file(s) to convert, %d already done",
             data_dir, f" (shard {shard} of {num_shards})" if tag else "", len(data.utts), len(target_list),
             sum(len(j.outputs) for j in jobs), skipped)

    def record(job: UttJob, outcomes: list[tuple[str, str, str | None]]) -> None:
        for tgt, path, error in outcomes:
            if error is None:
                result.converted += 1
                rows.append(ManifestRow(job.utt, job.src_spk, tgt, path))
            else:
                log.error("%s -> %s: %s", job.utt, tgt, error)
                result.failures.append((job.utt, tgt, error))

    done: set[int] = set()

    def receive(messages: list[tuple[Any, Any]]) -> None:
        for key, value in messages:
            if key == "error":
                log.warning("%s; the other processes convert its share", value)
            else:
                done.add(key)
                record(jobs[key], value)
                bar.update()

    if workers is not None and len(jobs) <= 1:
        workers.stop()  # not worth their start-up
        workers = None
    bar = tqdm(total=len(jobs), desc="convert", unit="utt", disable=not progress, dynamic_ncols=True)
    try:
        if workers is None:
            for i, job in enumerate(jobs):
                record(job, convert_job(converter, job))
                done.add(i)
                bar.update()
        else:
            workers.share(jobs)
            while (i := _claim(workers.counter)) < len(jobs):
                outcomes = convert_job(converter, jobs[i])
                done.add(i)
                record(jobs[i], outcomes)
                bar.update()
                receive(workers.poll())
            while len(done) < len(jobs):  # the workers' last jobs
                receive(workers.poll(timeout=0.5))
                if len(done) < len(jobs) and not workers.alive():
                    receive(workers.poll())
                    lost = [k for k in range(len(jobs)) if k not in done]
                    why = f"worker process died (exit codes {workers.exit_codes()})"
                    for k in lost:
                        done.add(k)
                        record(jobs[k], [(tgt, path, why) for tgt, path in jobs[k].outputs])
                        bar.update()
    except KeyboardInterrupt:
        # Every file written so far is whole (atomic writes) and counts as done on a rerun; the
        # manifest is left for the run that finishes, so no one scores a partial set unawares.
        if workers is not None:
            workers.stop(at_once=True)  # first: they ignore Ctrl-C
        # what a rerun will skip: the outputs reported, and those of utterances cut off midway
        # (written by a worker that was stopped before it reported them)
        unreported = sum(is_complete(Path(path)) for k, job in enumerate(jobs) if k not in done
                         for _, path in job.outputs)
        total = skipped + sum(len(j.outputs) for j in jobs)
        finished = skipped + result.converted + unreported
        raise BatchInterrupted(
            f"interrupted: {finished} of {total} conversion(s) done in {outdir} ({finished - skipped} in this run); "
            f"run the same command again to convert the other {total - finished}") from None
    finally:
        bar.close()

    result.manifest = outdir / f"manifest{tag}.tsv"
    write_manifest(result.manifest, rows)
    result.failed_list = outdir / f"failed{tag}.tsv"
    write_failed(result.failed_list, result.failures)
    result.seconds = time.perf_counter() - start
    log.info("converted %d, skipped %d (already done), failed %d in %.1f s; manifest: %s%s",
             result.converted, result.skipped, len(result.failures), result.seconds, result.manifest,
             f"; failures: {result.failed_list}" if result.failures else "")
    return result


def merge_shards(model_dir: str | os.PathLike, data_dir: str | os.PathLike, outdir: str | os.PathLike, *,
                 targets: str = "all") -> BatchResult:
    """Write ``manifest.tsv``/``failed.tsv`` for the whole set after sharded runs; converts nothing.

    The output files are the truth (a conversion is done when its file is complete); the
    shards' ``failed.<i>.tsv`` give the reasons for the others. Outputs that are neither done nor
    failed mean a shard did not finish, which is an error naming them (rerun that shard, or run
    without --merge to convert them here).
    """
    outdir = Path(outdir)
    with folder_lock(outdir, "vc-convert --merge"):  # no shard may still be writing
        return _merge_locked(model_dir, data_dir, outdir, targets)


def _merge_locked(model_dir: str | os.PathLike, data_dir: str | os.PathLike, outdir: Path, targets: str) -> BatchResult:
    from vc.voice.bundle import read_speakers

    data = DataDir.load(data_dir)
    target_list = parse_targets(targets, read_speakers(model_dir))
    jobs, rows, skipped = plan(data, target_list, outdir)
    reasons: dict[tuple[str, str], str] = {}
    for path in sorted(outdir.glob("failed.*.tsv")):
        reasons.update({(utt, tgt): why for utt, tgt, why in read_failed(path)})
    result = BatchResult(skipped=skipped)
    missing = []
    for job in jobs:
        for tgt, _ in job.outputs:
            if (job.utt, tgt) in reasons:
                result.failures.append((job.utt, tgt, reasons[(job.utt, tgt)]))
            else:
                missing.append(f"{job.utt}->{tgt}")
    if missing:
        raise BatchError(f"{outdir}: {len(missing)} conversion(s) neither done nor failed (unfinished shard?): "
                         + ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
                         + "\nRerun the missing shards, or run without --merge to convert them here.")
    result.manifest = outdir / "manifest.tsv"
    write_manifest(result.manifest, rows)
    result.failed_list = outdir / "failed.tsv"
    write_failed(result.failed_list, result.failures)
    log.info("merged: %d converted file(s), %d failure(s); manifest: %s", len(rows), len(result.failures),
             result.manifest)
    return result
