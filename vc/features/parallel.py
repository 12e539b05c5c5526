"""Run independent per-utterance jobs over ``nj`` processes with a progress bar.

Workers come from multiprocessing's "forkserver" (Python 3.14's default on Linux; "spawn" where
it is missing): a fresh single-threaded server imports the job's module once and forks each
worker from it, which is as safe as spawn (no threads or locks are inherited from the caller)
without every worker paying the imports again. :func:`start_worker_server` starts it early so
that its imports overlap the caller's own. Workers are limited to one BLAS/OpenMP/torch thread:
``nj`` single-threaded workers use the cores far better than ``nj`` workers that each try to
use all of them.

This module must stay light (stdlib + tqdm): it is imported before numpy and pyworld.
"""
from __future__ import annotations

import contextlib
import functools
import multiprocessing as mp
import os
import signal
import sys
import threading
from typing import Any, Callable, Iterator, Sequence, TypeVar

from vc.workers import end_with_parent, parent_gone

T = TypeVar("T")
R = TypeVar("R")

THREAD_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                   "VECLIB_MAXIMUM_THREADS")


@contextlib.contextmanager
def single_thread_env() -> Iterator[None]:
    """Set the thread-count variables to 1 while worker processes start (BLAS reads them at import)."""
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


def _context() -> Any:
    methods = mp.get_all_start_methods()
    return mp.get_context("forkserver" if "forkserver" in methods else "spawn")


def start_worker_server(preload: Sequence[str]) -> None:
    """Start the process that workers are forked from, importing ``preload`` in it, now.

    Optional: :func:`imap_jobs` starts it anyway, but only when the first pool is made. Has
    no effect once the server runs, or where there is no forkserver.
    """
    if "forkserver" not in mp.get_all_start_methods():
        return
    from multiprocessing import forkserver

    mp.set_forkserver_preload(list(preload))
    with single_thread_env(), _ctrl_c_ignored():
        forkserver.ensure_running()


@contextlib.contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    """Start child programs with SIGINT ignored (the setting survives exec): Ctrl-C in the middle
    of the fork server's imports would otherwise print its traceback; this process handles
    Ctrl-C and stops the workers itself."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _init_worker(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    end_with_parent()  # a worker never outlives the job (a rerun would run beside it)
    if "torch" in sys.modules:  # only if the job imported it: importing torch costs seconds
        sys.modules["torch"].set_num_threads(1)
    if initializer is not None:
        initializer(*initargs)


def _guarded(func: Callable[[T], R], task: T) -> R:
    """``func(task)``, unless this worker's parent has died meanwhile: then end at once."""
    if parent_gone():
        os._exit(1)
    return func(task)


def imap_jobs(func: Callable[[T], R], tasks: Sequence[T], nj: int, *,
              initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = (),
              desc: str = "", progress: bool = True) -> Iterator[R]:
    """Yield ``func(task)`` for every task, in completion order.

    ``func`` and ``initializer`` must be module-level functions (workers import them by name).
    With ``nj <= 1`` everything runs in this process, which is cheaper for small jobs and
    easier to debug.
    """
    from tqdm import tqdm

    if nj <= 1 or len(tasks) <= 1:
        if initializer is not None:
            initializer(*initargs)
        with tqdm(total=len(tasks), desc=desc, unit="utt", disable=not progress, dynamic_ncols=True) as bar:
            for task in tasks:
                yield func(task)
                bar.update()
        return
    start_worker_server([func.__module__])  # no-op if already running
    with single_thread_env():
        pool = _context().Pool(min(nj, len(tasks)), initializer=_init_worker, initargs=(initializer, initargs))
    with pool, tqdm(total=len(tasks), desc=desc, unit="utt", disable=not progress, dynamic_ncols=True) as bar:
        for result in pool.imap_unordered(functools.partial(_guarded, func), tasks, chunksize=1):
            yield result
            bar.update()
