"""What every worker process of the toolkit does first: end with its parent, leave Ctrl-C to it.

A worker that outlives its parent keeps writing into an output folder whose lock died with the
parent, so a rerun would run beside it. :func:`end_with_parent` covers both ways workers are
made:

* spawned workers are children of the job's process: on Linux the kernel sends them SIGKILL
  when it dies (``prctl(PR_SET_PDEATHSIG)``), however it dies, SIGKILL included;
* workers forked by multiprocessing's fork server are the server's children, and the server
  lives as long as any of them does; they watch the pipe that multiprocessing keeps open to the
  process that started them (its "sentinel"), which reads end-of-file the moment that process
  is gone, and end at once.

:func:`parent_gone` is the same question asked between items, for platforms without either.

Ctrl-C reaches every process of the terminal's process group; workers ignore it, and the parent
stops them and reports (one line, not a traceback from each worker).

Standard library only: imported by workers before numpy or torch.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
from typing import Any

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

_parent_pid: int | None = None
_parent: Any = None  # multiprocessing's handle of the process that started this worker


def end_with_parent() -> None:
    """Make this worker end when the process that started it does, and ignore Ctrl-C (see the module)."""
    global _parent_pid, _parent
    _parent_pid = os.getppid()
    _parent = multiprocessing.parent_process()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # no usable libc: the watcher below still holds
            pass
    if _parent is not None:
        threading.Thread(target=_watch, args=(_parent.sentinel,), name="end-with-parent", daemon=True).start()
    if parent_gone():  # it died before any of this took effect
        os._exit(1)


def _watch(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])  # returns when the starting process is gone
    os._exit(1)


def parent_gone() -> bool:
    """Whether the process that started this worker (see :func:`end_with_parent`) has died."""
    if _parent_pid is None:
        return False
    return os.getppid() != _parent_pid or (_parent is not None and not _parent.is_alive())


def session_processes(sid: int) -> list[int]:
    """PIDs of the live (not zombie) processes of session ``sid`` (Linux ``/proc``): what a job
    started with ``start_new_session=True`` still has running, for the checks that no worker
    outlives its parent (tests, bench/fault_injection.py)."""
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(os.path.join(entry.path, "stat"), encoding="utf-8") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids
