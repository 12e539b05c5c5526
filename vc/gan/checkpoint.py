"""Checkpoint files: atomic writes, safe loading, rotation.

A checkpoint is a dict of tensors and plain Python values, so it loads with
``torch.load(weights_only=True)``: opening a model file can never run code. Files are written to
a temp name and renamed, so a crash mid-save leaves the previous checkpoint intact, and
``checkpoints/latest`` (a text file naming the newest checkpoint) is only updated afterwards.
"""
from __future__ import annotations

import logging
import os
import re
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch

from vc.fileio import atomic_path, atomic_write_text, remove_stale_temp_files
from vc.errors import VCError

log = logging.getLogger(__name__)

_STEP_RE = re.compile(r"^step_(\d+)\.pt$")
LATEST = "latest"


class CheckpointError(VCError, RuntimeError):
    """A checkpoint is missing, truncated, corrupt or not loadable safely."""


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write ``state`` atomically with ``torch.save``.

    torch names the archive inside the file after the path it is given; the temp file's random
    name would make two identical states differ in bytes, so it writes through a file object
    (root ``archive``): the same state gives the same file, and ``sha256sum`` compares runs.

    Pickle writes a string once and refers back to it when the same string *object* recurs, so
    equal states whose strings came from different places (the code's literals in a run from
    scratch, the loaded checkpoint's copies in a resumed run: ``"step"`` in Adam's state) would
    differ in bytes; every string is therefore saved as its interned copy."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        torch.save(_interned(state), f)


def _interned(obj: Any) -> Any:
    """``obj`` with every str in its dicts, lists and tuples replaced by its interned copy."""
    if isinstance(obj, str):
        return sys.intern(obj) if type(obj) is str else obj
    if type(obj) in (dict, OrderedDict):
        out = type(obj)((_interned(k), _interned(v)) for k, v in obj.items())
        if type(obj) is OrderedDict:  # a module's state_dict carries its version in ._metadata
            out.__dict__.update(_interned(vars(obj)))
        return out
    if type(obj) in (list, tuple):
        return type(obj)(_interned(v) for v in obj)
    return obj


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; any failure becomes a ``CheckpointError``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # noqa: BLE001 - unpickling a file that is no checkpoint raises anything
        # (KeyError for text, IndexError for a lone "a", "R" or "."): every failure means "not loadable"
        raise CheckpointError(
            f"{path}: cannot load checkpoint ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'no detail'}); "
            "the file is truncated, corrupt or holds objects that are not allowed under weights_only=True"
        ) from e
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: checkpoint must hold a dict, found {type(state).__name__}")
    return state


class CheckpointManager:
    """``<dir>/step_<NNNNNNNN>.pt`` files plus ``<dir>/latest``, keeping the newest ``keep``."""

    def __init__(self, directory: str | os.PathLike, keep: int = 3):
        if keep < 1:
            raise ValueError(f"keep must be >= 1, got {keep}")
        self.dir = Path(directory)
        self.keep = keep

    def path_for(self, step: int) -> Path:
        return self.dir / f"step_{step:08d}.pt"

    def steps(self) -> list[int]:
        """Steps of the checkpoint files present, ascending."""
        if not self.dir.is_dir():
            return []
        found = (_STEP_RE.match(p.name) for p in self.dir.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def latest(self) -> Path | None:
        """The newest checkpoint: the one ``latest`` names, else the highest step on disk."""
        marker = self.dir / LATEST
        if marker.is_file():
            name = marker.read_text(encoding="utf-8").strip()
            if not name or Path(name).name != name or name in (".", ".."):
                # a bundle is self-contained: latest names a file beside it, never one elsewhere
                raise CheckpointError(f"{marker}: names {name!r}, which is not a file in {self.dir}; write the "
                                      "name of one of its step_*.pt files there (or delete it to use the newest)")
            path = self.dir / name
            if path.is_file():
                return path
            log.warning("%s names %s, which does not exist; using the highest step on disk", marker, name)
        steps = self.steps()
        return self.path_for(steps[-1]) if steps else None

    def save(self, step: int, state: dict[str, Any]) -> Path:
        """Write the checkpoint for ``step``, point ``latest`` at it, delete the oldest extras."""
        path = self.path_for(step)
        save_checkpoint(path, state)
        atomic_write_text(self.dir / LATEST, path.name + "\n")
        for old in self.steps()[:-self.keep]:
            self.path_for(old).unlink(missing_ok=True)
        remove_stale_temp_files(self.dir)  # a half-written checkpoint of a killed run: as big as a real one
        return path


def restore_networks(state: dict[str, Any], nets: dict[str, torch.nn.Module], path: str | os.PathLike,
                     section: str = "nets", device: str | torch.device = "cpu") -> dict[str, torch.nn.Module]:
    """Load ``state[section][name]`` into each of ``nets`` and return them on ``device`` in eval mode.

    One place for what every bundle loader must check: a checkpoint that lacks a network, or whose
    weights do not fit the architecture the config builds, is a ``CheckpointError`` naming the file.
    """
    saved = state.get(section, {})
    for name, net in nets.items():
        if name not in saved:
            raise CheckpointError(f"{path}: holds no {section} weights for {name}")
        try:
            net.load_state_dict(saved[name])
        except RuntimeError as e:
            raise CheckpointError(f"{path}: weights of {name} do not fit the configured architecture: "
                                  f"{str(e).splitlines()[0]}") from e
        net.to(device).eval()
    return nets
