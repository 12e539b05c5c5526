"""The analysis settings to evaluate with: the model's own, so scores match its features.

MCD depends on the mel-cepstral order and all-pass constant, F0 errors on the F0 extractor, so
evaluation must analyse audio exactly as the model's training data was analysed. Those settings
travel in the model bundle (``stats.npz`` ``settings`` and ``config.yaml``, docs/formats.md).
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import yaml

from vc.config import ConfigError, from_dict, load_config
from vc.features import FeatureConfig, FeatureFileError, read_settings

log = logging.getLogger(__name__)

# Keys under which a training config may nest the feature settings.
_CONFIG_KEYS = ("features", "feats", "feature")


def feature_config_from_model(model_dir: str | os.PathLike) -> FeatureConfig:
    """The resolved FeatureConfig of a model bundle (``stats.npz`` first, then ``config.yaml``)."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ConfigError(f"{model_dir}: model bundle not found (not a directory)")
    stats = model_dir / "stats.npz"
    problems = []
    if stats.is_file():
        try:
            return read_settings(stats).resolved()
        except FeatureFileError as exc:
            problems.append(str(exc))
    else:
        problems.append(f"{stats}: missing")
    config = model_dir / "config.yaml"
    if config.is_file():
        try:
            data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{config}: not valid YAML: {exc}") from exc
        for key in _CONFIG_KEYS:
            if isinstance(data, dict) and isinstance(data.get(key), dict):
                return from_dict(FeatureConfig, data[key], where=f"{config}:{key}").resolved()
        problems.append(f"{config}: no feature settings under any of {', '.join(_CONFIG_KEYS)}")
    else:
        problems.append(f"{config}: missing")
    raise ConfigError(f"{model_dir}: cannot find the model's feature settings ({'; '.join(problems)})")


def resolve_feature_config(model: str | os.PathLike | None = None,
                           feats_conf: str | os.PathLike | None = None) -> tuple[FeatureConfig, str]:
    """(resolved FeatureConfig, where it came from) from a bundle, a feats YAML or the defaults."""
    if model is not None and feats_conf is not None:
        raise ConfigError("give either a model bundle or a feature config, not both")
    if model is not None:
        return feature_config_from_model(model), f"model bundle {model}"
    if feats_conf is not None:
        return load_config(FeatureConfig, feats_conf).resolved(), f"feature config {feats_conf}"
    log.warning("no --model or --feats-conf: analysing with the default feature settings; "
                "MCD is only comparable with the model's own settings")
    return FeatureConfig().resolved(), "defaults (FeatureConfig())"
