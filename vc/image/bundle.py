"""What every image model bundle ``exp/<name>/`` shares (see ``docs/formats.md``).

``config.yaml`` is the resolved config of the model, with ``model`` (which model the bundle
holds) and ``config_version``; a bundle written before ``config_version`` 2 is read through the
model's migration (:func:`vc.registry.bundle_entry`). ``attributes.json`` is the data's label
space (ordered attribute names, exclusive groups, single-label flag; the analogue of a voice
bundle's ``speakers.json``), ``checkpoints/`` is written by the shared trainer, ``logs/train.csv``
and ``samples/`` by the training run, ``eval_classifier/`` by the judges. Each model's
``bundle`` module (:mod:`vc.stargan.bundle`, :mod:`vc.stargan_v2.bundle`) adds its own files and
its loader.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Sequence

from vc.config import ConfigError, from_dict, to_dict
from vc.errors import VCError
from vc.fileio import atomic_write_text, folder_lock
from vc.gan import CheckpointManager, GanTask, Trainer, TrainResult
from vc.gan.runtime import launched_as_main
from vc.image.labels import LabelSpace
from vc.registry import IMAGE, bundle_entry

log = logging.getLogger(__name__)

CONFIG = "config.yaml"
ATTRIBUTES = "attributes.json"
CHECKPOINTS = "checkpoints"


class BundleError(VCError, ValueError):
    """A folder is not the image model bundle a command needs (missing files, another model,
    checkpoints a new run would overwrite)."""


def require_files(exp: str | os.PathLike, names: Sequence[str], what: str) -> Path:
    """``exp`` as a Path after checking that it holds ``names``; else a BundleError naming ``what``."""
    exp = Path(exp)
    for name in names:
        if not (exp / name).is_file():
            raise BundleError(f"{exp}: not {what} (no {name})")
    return exp


def read_config(exp: str | os.PathLike, model: str) -> Any:
    """The config object of the bundle ``exp`` (migrated from an older layout when needed), which
    must hold ``model``."""
    entry, data = bundle_entry(exp, IMAGE)
    if entry.name != model:
        raise BundleError(f"{exp}: holds a {entry.name} model, not {model}")
    return from_dict(entry.config_class, data, where=str(Path(exp) / CONFIG))


def read_space(exp: str | os.PathLike) -> LabelSpace:
    return LabelSpace.from_dict(json.loads((Path(exp) / ATTRIBUTES).read_text(encoding="utf-8")))


def write_space(exp: str | os.PathLike, space: LabelSpace) -> None:
    atomic_write_text(Path(exp) / ATTRIBUTES, json.dumps(space.to_dict(), indent=1) + "\n")


def check_new_run(exp: str | os.PathLike, resume: bool) -> Path | None:
    """The newest checkpoint in ``exp`` (None: none); a new run (``resume`` False) refuses to
    start over one."""
    exp = Path(exp)
    existing = CheckpointManager(exp / CHECKPOINTS).latest()
    if existing is not None and not resume:
        raise BundleError(f"{exp} already holds checkpoints ({existing.name}); pass --resume to continue "
                          "that run, or choose another --exp")
    return existing


def fit(task: GanTask, cfg: Any, exp: str | os.PathLike, *, resume: bool = False, until: int | None = None,
        progress: bool = True) -> TrainResult:
    """Train ``task`` with ``cfg.trainer`` into the bundle ``exp`` (its bundle files written by
    the model's runner first), from the newest checkpoint with ``resume``."""
    trainer = Trainer(task, cfg.trainer, exp, device=cfg.device, seed=cfg.seed, progress=progress)
    # one writer per bundle (the model's runner holds it already, over its bundle files too)
    with folder_lock(exp, "vc-img-train", enabled=launched_as_main()):
        try:
            result = trainer.fit(resume=resume, until=until)
        finally:
            trainer.close()
    if result.checkpoint is not None:
        log.info("finished at step %d; newest checkpoint %s", result.step, result.checkpoint)
    return result


def changed_keys(exp: str | os.PathLike, model: str, new: dict[str, Any]) -> list[str]:
    """The dotted keys in which the config ``new`` (a plain dict) differs from the bundle's."""
    return diff_keys(to_dict(read_config(exp, model)), new)


def refuse_changes(exp: str | os.PathLike, changed: Sequence[str], fixed: Sequence[str]) -> list[str]:
    """The ``changed`` keys that do not touch ``fixed`` (dotted prefixes); a change of a fixed
    key is a ConfigError: the checkpoints were made with the bundle's settings."""
    bad = [k for k in changed if any(k == f or k.startswith(f + ".") for f in fixed)]
    if bad:
        raise ConfigError(f"{Path(exp) / CONFIG}: resuming with different {', '.join(bad)}; the checkpoints were "
                          "made for the bundle's settings: use them, or train into a new folder")
    return [k for k in changed if k not in bad]


def diff_keys(a: object, b: object, prefix: str = "") -> list[str]:
    """The dotted keys in which two nested dicts differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for k in sorted(set(a) | set(b)):
            out += diff_keys(a.get(k), b.get(k), f"{prefix}{k}.")
        return out
    return [] if a == b else [prefix.rstrip(".")]
