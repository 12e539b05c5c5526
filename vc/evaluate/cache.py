"""On-disk cache of per-file analysis results (reference features and speaker embeddings).

Evaluating several models (or checkpoints) against one reference set analyses the same
reference recordings again and again; the cache keys each result by the file's absolute path,
size and modification time plus the settings that produced it, so a changed file or changed
settings never return a stale entry.
"""
from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np

from vc.fileio import atomic_path

log = logging.getLogger(__name__)

# Part of every key: bump it when what is cached (analysis or embedding code) changes meaning.
CACHE_VERSION = "1"


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/stargan-vc/evaluate`` (``~/.cache/...`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "stargan-vc" / "evaluate"


class FileCache:
    """npz entries under ``root``, one per (file identity, settings) key."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    @staticmethod
    def key(path: str | os.PathLike, *settings: str) -> str | None:
        """Cache key of ``path`` analysed with ``settings``; None if the file cannot be stat'ed."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        ident = "\0".join([CACHE_VERSION, os.path.abspath(path), str(st.st_size), str(st.st_mtime_ns), *settings])
        return hashlib.sha1(ident.encode("utf-8")).hexdigest()

    def _file(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npz"

    def load(self, key: str | None) -> dict[str, np.ndarray] | None:
        """The arrays stored under ``key``, or None (missing or unreadable entries are misses)."""
        if key is None:
            return None
        file = self._file(key)
        if not file.is_file():
            return None
        try:
            with np.load(file, allow_pickle=False) as npz:
                return {k: npz[k] for k in npz.files}
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable cache entry %s: %s", file, exc)
            return None

    def save(self, key: str | None, arrays: dict[str, np.ndarray]) -> None:
        """Store ``arrays`` under ``key`` atomically (a cache write failure only costs speed)."""
        if key is None:
            return
        try:
            with atomic_path(self._file(key)) as tmp:
                np.savez(tmp, **arrays)
        except OSError as exc:
            log.warning("could not write cache entry under %s: %s", self.root, exc)
