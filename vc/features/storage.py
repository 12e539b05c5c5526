"""Per-utterance feature files (``<utt>.npz``, see docs/formats.md).

Each file carries the resolved analysis settings as JSON so that any later stage (resumed
extraction, statistics, training, conversion) can check that features agree with its config.
Files are loaded with ``allow_pickle=False``: a feature file can never run code.
"""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from vc.config import ConfigError
from vc.features.config import FeatureConfig
from vc.features.world import Features
from vc.fileio import atomic_path
from vc.errors import VCError

_ARRAYS = ("f0", "mcep", "bap")


class FeatureFileError(VCError, ValueError):
    """A feature file is missing, unreadable or inconsistent; ``str(e)`` starts with its path."""


def save_features(path: str | os.PathLike, feats: Features, cfg: FeatureConfig) -> None:
    """Write ``feats`` and the resolved ``cfg`` to ``path`` (atomically); features holding NaN/inf
    are refused (:class:`FeatureFileError`), never written."""
    if problem := feats.nonfinite():
        raise FeatureFileError(f"{path}: refusing to write non-finite features (NaN/inf in {problem})")
    cfg = cfg.resolved()
    if feats.mcep.shape[1] != cfg.mcep_dim:
        raise ValueError(f"{path}: mcep has {feats.mcep.shape[1]} coefficients but mcep_dim is {cfg.mcep_dim}")
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, f0=feats.f0, mcep=feats.mcep, bap=feats.bap, settings=np.array(cfg.to_json()))


def _open(path: str | os.PathLike) -> np.lib.npyio.NpzFile:
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FeatureFileError(f"{path}: no such feature file") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise FeatureFileError(f"{path}: not a readable feature file ({e})") from e


def _settings(npz: np.lib.npyio.NpzFile, path: str | os.PathLike) -> FeatureConfig:
    if "settings" not in npz.files:
        raise FeatureFileError(f"{path}: no 'settings' entry (not written by vc-extract?)")
    try:
        return FeatureConfig.from_json(str(npz["settings"][()]))
    except (ConfigError, ValueError) as e:
        raise FeatureFileError(f"{path}: bad settings: {e}") from e


def read_settings(path: str | os.PathLike) -> FeatureConfig:
    """Only the settings of a feature file (cheap: the arrays are not read)."""
    with _open(path) as npz:
        return _settings(npz, path)


def has_aperiodicity(path: str | os.PathLike) -> bool:
    """Whether a feature file carries band aperiodicity (False: written by ``vc-extract --no-aperiodicity``)."""
    with _open(path) as npz:
        if "bap" not in npz.files:
            raise FeatureFileError(f"{path}: missing array(s) bap")
        try:
            return npz["bap"].ndim == 2 and npz["bap"].shape[1] > 0
        except (ValueError, OSError, zipfile.BadZipFile) as e:
            raise FeatureFileError(f"{path}: {e}") from e


def load_features(path: str | os.PathLike) -> tuple[Features, FeatureConfig]:
    """Features and the settings they were made with."""
    with _open(path) as npz:
        missing = [k for k in _ARRAYS if k not in npz.files]
        if missing:
            raise FeatureFileError(f"{path}: missing array(s) {', '.join(missing)}")
        cfg = _settings(npz, path)
        try:
            feats = Features(**{k: npz[k] for k in _ARRAYS})
        except (ValueError, OSError, zipfile.BadZipFile) as e:
            raise FeatureFileError(f"{path}: {e}") from e
    if feats.mcep.shape[1] != cfg.mcep_dim:
        raise FeatureFileError(f"{path}: mcep has {feats.mcep.shape[1]} coefficients, settings say {cfg.mcep_dim}")
    return feats, cfg


def feature_path(out_dir: str | os.PathLike, utt: str) -> Path:
    """Where ``vc-extract`` puts the features of ``utt``."""
    return Path(out_dir) / f"{utt}.npz"


def read_feats_scp(dump_dir: str | os.PathLike, name: str = "feats.scp") -> dict[str, Path]:
    """utt -> feature file from ``dump_dir/feats.scp``; relative paths are taken from ``dump_dir``.

    Raises :class:`FeatureFileError` when the index is missing (extraction not run or not merged).
    """
    from vc.data import read_scp  # deferred: vc.data is not needed to read single files

    scp = Path(dump_dir) / name
    if not scp.is_file():
        raise FeatureFileError(f"{scp}: no feature index (run vc-extract, or vc-extract --merge after shards)")
    return {utt: (p if p.is_absolute() else Path(dump_dir) / p) for utt, p in
            ((u, Path(v)) for u, v in read_scp(scp).items())}
