"""Finding the model bundle to convert with.

Users mostly have one or two trained models; making them type ``--model exp/...`` every time is
friction, and guessing silently is worse. So the choice is explicit flag > ``$VC_MODEL`` > the
most recently trained bundle under ``./exp/``, and the caller always says which one it took.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from vc.errors import VCError

log = logging.getLogger(__name__)

#: Environment variable naming the default model bundle.
MODEL_ENV = "VC_MODEL"

#: A bundle's checkpoint pointer (docs/formats.md); rewritten at every save, so its mtime is
#: the time the bundle was last trained.
LATEST = Path("checkpoints") / "latest"

TRAIN_HINT = (
    "train one first (for example `vc-train --config conf/train.yaml --exp exp/NAME`, "
    "or `make demo` for the small demo model), or name one with --model DIR or $VC_MODEL"
)


class ModelNotFoundError(VCError, FileNotFoundError):
    """No usable model bundle; the message says how to get one."""


def is_bundle(path: Path) -> bool:
    """True for a folder that holds a speaker list and at least one saved checkpoint."""
    return (path / "speakers.json").is_file() and (path / LATEST).is_file()


def _trained_at(path: Path) -> float:
    return (path / LATEST).stat().st_mtime


def find_bundles(root: Path) -> list[Path]:
    """All bundles directly (or one level of grouping deeper) under ``root``, newest first."""
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and is_bundle(p)]
    found += [q for p in root.iterdir() if p.is_dir() and not is_bundle(p)
              for q in p.iterdir() if q.is_dir() and is_bundle(q)]
    return sorted(found, key=lambda p: (-_trained_at(p), str(p)))


def resolve_model(model: str | os.PathLike | None, *, search_root: str | os.PathLike = "exp") -> tuple[Path, str]:
    """Return (bundle dir, how it was chosen) or raise ModelNotFoundError with a hint.

    ``model`` is the explicit ``--model`` value; when None, ``$VC_MODEL`` and then the newest
    bundle under ``search_root`` are tried.
    """
    if model is not None:
        chosen, how = Path(model), "--model"
    elif os.environ.get(MODEL_ENV):
        chosen, how = Path(os.environ[MODEL_ENV]), f"${MODEL_ENV}"
    else:
        bundles = find_bundles(Path(search_root))
        if not bundles:
            raise ModelNotFoundError(
                f"no trained model given and none found under {Path(search_root).resolve()}; {TRAIN_HINT}")
        chosen, how = bundles[0], f"newest bundle under {search_root}/"
        if len(bundles) > 1:
            how += f" (of {len(bundles)}: {', '.join(p.name for p in bundles)})"
    if chosen.is_file():
        raise ModelNotFoundError(f"{chosen} (from {how}): is a file, not a model folder; a model bundle is the "
                                 "folder vc-train writes (e.g. exp/NAME, holding config.yaml and checkpoints/)")
    if not chosen.is_dir():
        raise ModelNotFoundError(f"{chosen} (from {how}): model folder not found; {TRAIN_HINT}")
    if not (chosen / "speakers.json").is_file():
        raise ModelNotFoundError(f"{chosen} (from {how}): not a model bundle (no speakers.json); {TRAIN_HINT}")
    if not (chosen / LATEST).is_file():
        raise ModelNotFoundError(
            f"{chosen} (from {how}): the bundle has no saved checkpoint yet ({LATEST} is missing); "
            "let training reach its first checkpoint or resume it with vc-train")
    return chosen, how
