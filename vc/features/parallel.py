"""Run independent per-utterance jobs over ``nj`` processes with a progress bar.

Workers are started with the "spawn" method (safe with threads, identical on Linux and macOS)
and limited to one BLAS/OpenMP/torch thread each: ``nj`` single-threaded workers use the
cores far better than ``nj`` workers that each try to use all of them.
"""
from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import sys
from typing import Any, Callable, Iterator, Sequence, TypeVar

from tqdm import tqdm

T = TypeVar("T")
R = TypeVar("R")

THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                   "VECLIB_MAXIMUM_THREADS")


@contextlib.contextmanager
def single_thread_env() -> Iterator[None]:
    """Set the thread-count variables to 1 while workers start (BLAS reads them at import)."""
    saved = {k: os.environ.get(k) for k in THREAD_ENV_VARS}
    os.environ.update({k: "1" for k in THREAD_ENV_VARS})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _init_worker(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    if "torch" in sys.modules:  # only if the job imported it: importing torch costs seconds
        sys.modules["torch"].set_num_threads(1)
    if initializer is not None:
        initializer(*initargs)


def imap_jobs(func: Callable[[T], R], tasks: Sequence[T], nj: int, *,
              initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = (),
              desc: str = "", progress: bool = True) -> Iterator[R]:
    """Yield ``func(task)`` for every task, in completion order.

    ``func`` and ``initializer`` must be module-level functions (spawned workers import them).
    With ``nj <= 1`` everything runs in this process, which is cheaper for small jobs and
    easier to debug.
    """
    bar = tqdm(total=len(tasks), desc=desc, unit="utt", disable=not progress, dynamic_ncols=True)
    try:
        if nj <= 1 or len(tasks) <= 1:
            if initializer is not None:
                initializer(*initargs)
            for task in tasks:
                yield func(task)
                bar.update()
            return
        ctx = mp.get_context("spawn")
        with single_thread_env():
            pool = ctx.Pool(min(nj, len(tasks)), initializer=_init_worker, initargs=(initializer, initargs))
        with pool:
            for result in pool.imap_unordered(func, tasks, chunksize=1):
                yield result
                bar.update()
    finally:
        bar.close()
