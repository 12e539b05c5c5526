"""Every configuration a recipe ships loads into the config class its command reads it with.

The recipes pass these files to the CLIs only at the stage that needs them, so a misspelt key
in, say, a long-run config would otherwise surface after an hour of earlier stages.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from vc.config import load_config, to_dict
from vc.features import FeatureConfig
from vc.image.fonts import FontRenderConfig
from vc.registry import IMAGE, VOICE, load_model_config

REPO = Path(__file__).resolve().parents[1]
VOICE_RECIPES = ("demo", "vctk", "tibetan")
CONFIGS = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "egs").glob("*/conf/*.yaml"))


def load(relpath: str) -> object:
    path = REPO / relpath
    recipe, name = path.parts[-3], path.name
    if name.startswith("feats"):
        return load_config(FeatureConfig, path).resolved()
    if name.startswith("render"):
        return load_config(FontRenderConfig, path)
    # training configs: the model their top-level `model:` names, through the registry (as the CLIs load them)
    return load_model_config(path, VOICE if recipe in VOICE_RECIPES else IMAGE)[1]


def test_the_recipes_ship_configs():
    assert "egs/fonts/conf/train_long.yaml" in CONFIGS and "egs/demo/conf/train_full.yaml" in CONFIGS


@pytest.mark.parametrize("relpath", CONFIGS)
def test_recipe_config_loads(relpath: str):
    load(relpath)


def test_the_long_font_config_is_the_default_trained_longer():
    """train_long.yaml is a copy of train.yaml (the YAML loader has no includes); this keeps the
    copy from drifting: only the schedule may differ (steps, decay, and how often the gradient
    penalty runs: the long run was measured with it on every step) and G's skip (measured
    without), so its README scores stay comparable."""
    default, long = (to_dict(load(f"egs/fonts/conf/{name}.yaml")) for name in ("train", "train_long"))
    assert long["loss"]["gp_every"] == 1 and long["net"]["g_skip"] is False
    for cfg in (default, long):
        del cfg["trainer"]["max_steps"], cfg["trainer"]["lr_decay_start"], cfg["loss"]["gp_every"]
        del cfg["net"]["g_skip"]
    assert long == default
