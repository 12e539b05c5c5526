"""Atomic file output.

Every file the toolkit writes (features, checkpoints, audio, manifests) goes through a temp file
in the destination folder followed by ``os.replace``, so an interrupted job never leaves a
half-written file that a resumed job would mistake for a finished one.
"""
from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Iterator

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
