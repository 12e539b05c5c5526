"""Atomic file output, and one writer per output folder.

Every file the toolkit writes (features, checkpoints, audio, manifests) goes through a temp file
in the destination folder followed by ``os.replace``, so an interrupted job never leaves a
half-written file that a resumed job would mistake for a finished one.

:func:`folder_lock` keeps two jobs from writing into one folder at once (two ``vc-train`` runs on
one ``--exp`` would leave a config that misdescribes the weights): an OS lock that the kernel
drops when its holder dies, however it dies, so a killed job never blocks its rerun.
"""
from __future__ import annotations

import contextlib
import datetime
import fcntl
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

from vc.errors import VCError

#: Names that :func:`atomic_path` gives its temp files: ``.<stem>.<8 random chars>.tmp<suffix>``.
TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp(\.[^.]+)?$")
#: A temp file exists for the length of one write; one this much older belongs to a dead process.
STALE_TEMP_SECONDS = 60.0


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temp path next to ``path``; on success it is renamed over ``path``.

    The temp name keeps the final suffix so that writers that infer the format from the
    extension (soundfile, numpy) behave as for the real name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    # mkstemp creates 0600 files; give the result the mode a plain open() would (0666 & ~umask).
    os.fchmod(fd, 0o666 & ~_umask())
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def remove_stale_temp_files(folder: str | os.PathLike, older_than: float = STALE_TEMP_SECONDS) -> int:
    """Delete the temp files of killed writers under ``folder``; returns how many.

    A process killed inside :func:`atomic_path` leaves its hidden temp file behind (the finished
    outputs are whole; only the clutter remains). Files are removed only when they are older than
    ``older_than`` seconds, so the temp file of a live writer in another process (a concurrent
    shard of the same job) is never touched.
    """
    root = Path(folder)
    if not root.is_dir():
        return 0
    now, removed = time.time(), 0
    for path in root.rglob(".*.tmp*"):
        try:
            if TEMP_NAME.match(path.name) and path.is_file() and now - path.stat().st_mtime > older_than:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # its writer finished or another cleaner got there first
            continue
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write bytes atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


# ---------------------------------------------------------------------------- one writer per folder
#: The lock file of a folder: ``<folder>/.lock``; a shard's is ``<folder>/.lock.<shard>``.
LOCK_NAME = ".lock"


class OutputFolderError(VCError):
    """An output folder that cannot be written (not a folder, no permission)."""


class FolderBusyError(OutputFolderError):
    """Another live process holds the writer lock of an output folder."""


# Lock files this process holds (path -> fd), so that a runner and the training loop it calls
# can both take the lock of one folder (flock would refuse the second open file description).
_held: dict[str, int] = {}
_held_guard = threading.Lock()


def _try_flock(path: Path, mode: int) -> int | None:
    """An fd of ``path`` locked with ``mode`` (LOCK_EX or LOCK_SH), or None when another holds it.

    The last holder deletes the file on release; a process that opened it just before then
    locks a deleted file, so the lock only counts once the path still names the locked file.
    """
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except FileNotFoundError:  # the folder went with the last holder (see folder_lock)
            path.parent.mkdir(parents=True, exist_ok=True)
            continue
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        try:
            here = os.stat(path)
            mine = os.fstat(fd)
            if (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino):
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def _release(path: Path, fd: int) -> None:
    """Unlock, deleting the lock file when no other process holds it (shards share one)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        path.unlink(missing_ok=True)
    except BlockingIOError:
        pass  # another shard still holds it and deletes it last
    finally:
        os.close(fd)


def _stamp(fd: int, what: str) -> None:
    """Write ``<pid>\t<what>\t<start time>`` into a lock file this process holds exclusively."""
    os.ftruncate(fd, 0)
    started = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    os.pwrite(fd, f"{os.getpid()}\t{what}\t{started}\n".encode("utf-8"), 0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _holders(paths: list[Path]) -> list[str]:
    """``"<what> (PID n, since t)"`` for each live holder named in ``paths``."""
    out = []
    for path in paths:
        try:
            pid_text, what, since = (path.read_text(encoding="utf-8").strip().split("\t") + ["", "", ""])[:3]
            pid = int(pid_text)
        except (OSError, ValueError):
            continue
        if _alive(pid):  # a killed holder's record stays in the file; its lock does not
            out.append(f"{what or 'a job'} (PID {pid}{', since ' + since if since else ''})")
    return out


def _busy(folder: Path, lock: Path, whole: bool) -> FolderBusyError:
    paths = [lock]
    if whole:  # the holders may be the shards of a sharded job
        paths += sorted(folder.glob(LOCK_NAME + ".*"))
    holders = _holders(paths) or ["a job that is just starting (PID not yet recorded)"]
    return FolderBusyError(f"{folder}: another job is writing into this folder: {', '.join(holders)}; "
                           "wait for it to end or stop it, then run this again (a killed job frees the folder at once)")


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, what: str, *, shard: int | None = None,
                enabled: bool = True) -> Iterator[None]:
    """Hold the writer lock of ``folder`` for the body of the ``with``.

    The folder is created if missing (and removed again if the job left it empty).

    Without ``shard`` the folder is taken whole: no other job may write into it meanwhile. With
    ``shard=i`` (one task of a ``--num-shards`` job) the folder is shared with the job's other
    shards, which write disjoint files side by side, while shard ``i`` itself and any
    whole-folder writer (an unsharded run, the ``--merge`` step) are kept out. A second writer
    gets :class:`FolderBusyError`, one line naming the holder's PID, at once: nothing waits.
    ``what`` (e.g. ``"vc-convert shard 2/4"``) says what this job is, in the holder's record and
    in refusals. Locks are per process and reentrant within one; ``enabled=False`` is a no-op
    (ranks other than 0 under torchrun, which write nothing).
    """
    if not enabled:
        yield
        return
    root = Path(folder)
    created = not root.exists()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputFolderError(f"{root}: exists and is not a folder; choose another output folder") from None
    except OSError as exc:
        raise OutputFolderError(f"{root}: cannot create the output folder ({exc.strerror or exc})") from exc
    whole_path = root / LOCK_NAME
    wanted = [(whole_path, fcntl.LOCK_EX if shard is None else fcntl.LOCK_SH)]
    if shard is not None:
        wanted.append((root / f"{LOCK_NAME}.{shard}", fcntl.LOCK_EX))
    taken: list[tuple[Path, int]] = []
    try:
        with _held_guard:
            for path, mode in wanted:
                key = str(path.absolute())
                if key in _held:  # this process holds it already (a runner, then its training loop)
                    continue
                try:
                    fd = _try_flock(path, mode)
                except OSError as exc:
                    raise OutputFolderError(f"{root}: cannot write its lock file {path.name} "
                                            f"({exc.strerror or exc}); is the folder writable?") from exc
                if fd is None:
                    raise _busy(root, path, whole=mode == fcntl.LOCK_EX and path == whole_path)
                _held[key] = fd
                taken.append((path, fd))
                if mode == fcntl.LOCK_EX:
                    _stamp(fd, what)
                else:  # shards never write the shared file: whatever it holds is a dead writer's record
                    os.ftruncate(fd, 0)
        yield
    finally:
        with _held_guard:
            for path, fd in reversed(taken):
                del _held[str(path.absolute())]
                _release(path, fd)
            if created and taken:  # a job that wrote nothing (refused early) leaves no empty folder
                with contextlib.suppress(OSError):
                    root.rmdir()
