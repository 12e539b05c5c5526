"""WORLD features: analysis, mel-cepstral coding, per-utterance storage and speaker statistics.

The names below are loaded on first use (PEP 562), so that importing a light submodule such as
``vc.features.parallel`` does not pay for numpy and pyworld: ``vc-extract --nj N`` starts its
worker server before it imports them itself, and the two imports run side by side.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "FeatureConfig": "vc.features.config",
    "default_alpha": "vc.features.config",
    "default_fft_size": "vc.features.config",
    "mcep_to_sp": "vc.features.mcep",
    "sp_to_mcep": "vc.features.mcep",
    "SpeakerStats": "vc.features.stats",
    "StatsAccumulator": "vc.features.stats",
    "StatsError": "vc.features.stats",
    "FeatureFileError": "vc.features.storage",
    "feature_path": "vc.features.storage",
    "load_features": "vc.features.storage",
    "read_feats_scp": "vc.features.storage",
    "read_settings": "vc.features.storage",
    "save_features": "vc.features.storage",
    "Features": "vc.features.world",
    "analyze": "vc.features.world",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from vc.features.config import FeatureConfig, default_alpha, default_fft_size
    from vc.features.mcep import mcep_to_sp, sp_to_mcep
    from vc.features.stats import SpeakerStats, StatsAccumulator, StatsError
    from vc.features.storage import (FeatureFileError, feature_path, load_features, read_feats_scp, read_settings,
                                     save_features)
    from vc.features.world import Features, analyze


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'vc.features' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
