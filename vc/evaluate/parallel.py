"""Run independent per-file tasks in ``nj`` processes with a progress bar.

Spawned (not forked) workers: the speaker encoder runs torch, whose thread pools do not
survive a fork. Each worker is limited to one compute thread so ``nj`` processes use ``nj``
cores, and one pool serves every phase of a run so the (slow) imports and model loading happen
once per worker. With ``nj == 1`` everything runs in this process (no start-up cost), also
limited to one compute thread.
"""
from __future__ import annotations

import logging
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from types import TracebackType
from typing import Any, Callable, Sequence, TypeVar

from tqdm import tqdm

from vc.workers import end_with_parent, parent_gone

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


def limit_threads() -> None:
    """One BLAS/OpenMP/torch thread per process (exact when run before torch is imported)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _init(log_level: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    end_with_parent()  # a worker never outlives the job that started it
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s",
                        datefmt="%H:%M:%S")
    limit_threads()
    if initializer is not None:
        initializer(*initargs)


def _guarded(fn: Callable[[T], R], task: T) -> R:
    """``fn(task)``, unless this worker's parent has died meanwhile: then end at once."""
    if parent_gone():
        os._exit(1)
    return fn(task)


class WorkerPool:
    """``nj`` worker processes (or this process when ``nj == 1``), each set up by ``initializer``."""

    def __init__(self, nj: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = (),
                 *, progress: bool = True) -> None:
        if nj < 1:
            raise ValueError(f"nj must be >= 1, got {nj}")
        self.nj = nj
        self.progress = progress
        self._initializer, self._initargs = initializer, initargs
        self._pool: ProcessPoolExecutor | None = None
        self._local_ready = False

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=exc is not None)
            self._pool = None

    def _local(self) -> None:
        if not self._local_ready:
            # One thread here too: the per-file models are small, and torch's OpenMP threads
            # competing with other processes made the speaker encoder 4x slower on a busy machine.
            limit_threads()
            if self._initializer is not None:
                self._initializer(*self._initargs)
        self._local_ready = True

    def map(self, fn: Callable[[T], R], tasks: Sequence[T], *, desc: str,
            on_crash: Callable[[T, BaseException], R]) -> list[R]:
        """``[fn(t) for t in tasks]`` in task order.

        ``fn`` is expected to turn its own failures into results; ``on_crash`` builds the
        result of a task whose worker died or raised anyway, so one bad file never loses the rest.
        """
        results: list[Any] = [None] * len(tasks)
        bar = tqdm(total=len(tasks), desc=desc, unit="file", disable=not self.progress or not tasks)
        try:
            if self.nj == 1:
                self._local()
                for i, task in enumerate(tasks):
                    results[i] = fn(task)
                    bar.update()
                return results
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.nj, mp_context=get_context("spawn"), initializer=_init,
                    initargs=(logging.getLogger().level, self._initializer, self._initargs))
            futures = {self._pool.submit(_guarded, fn, task): i for i, task in enumerate(tasks)}
            for fut in as_completed(futures):
                i = futures[fut]
                try:
                    results[i] = fut.result()
                except Exception as exc:  # noqa: BLE001 - a dead worker: report its task, keep the rest
                    log.error("%s task %d failed in its worker: %s: %s", desc, i, type(exc).__name__, exc)
                    results[i] = on_crash(tasks[i], exc)
                bar.update()
        finally:
            bar.close()
        return results
