"""The model registry: one entry per model, found by the name a config or bundle gives.

Every config file says which model it is for with its top-level ``model:`` key (``stargan_vc``,
``stargan``, ``stargan_v2``, ...), and every bundle's ``config.yaml`` records it. The front ends
(``vc-train``, ``vc-convert``, ``vc-img-train``, ``vc-img-translate``, ...) look the name up here
and never sniff a file's shape. Adding a model is one package under ``vc/`` and one
:class:`ModelEntry` in :data:`MODELS`.

Entries name their parts as ``"module:attribute"`` strings, imported on first use, so that
listing the models (``--help``) needs neither torch nor the models' code.

Configs and bundles written before the registry (``config_version`` absent) are read through the
model's migration (``ModelEntry.migrate``), which maps the old layout's keys to today's; the
loader logs that it did so.
"""
from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from vc.config import CONFIG_VERSION, ConfigError, apply_overrides, from_dict, read_yaml

log = logging.getLogger(__name__)

VOICE = "voice"
IMAGE = "image"
FAMILIES = (VOICE, IMAGE)


@dataclass(frozen=True)
class ModelEntry:
    """What the toolkit needs to know about one model.

    ``config``: the top-level config dataclass; ``migrate``: ``dict -> dict`` from an older layout
    (its ``config_version``, 1 when absent) to :data:`~vc.config.CONFIG_VERSION`; ``train``: the
    training runner its family's ``*-train`` command calls; ``load_bundle``: the bundle loader its
    family's converting or translating command calls. ``summary`` is the one line ``--help`` shows.

    ``task``: the :class:`vc.gan.GanTask` class its training runner drives, for tools that time or
    inspect a training step (its constructor takes the config first, then what the family's data
    needs). Image models also name what ``vc-img-translate``
    and ``vc-img-evaluate`` run for one of their bundles (``translate``, ``evaluate``:
    ``body(args)`` with the parsed arguments) and ``add_cli_options``, ``hook(group, command)``
    that adds the model's own options of a command to its argument group; empty where a model has
    none.
    """

    name: str
    family: str
    summary: str
    config: str
    migrate: str
    train: str
    load_bundle: str
    task: str = ""
    translate: str = ""
    evaluate: str = ""
    add_cli_options: str = ""

    def resolve(self, part: str) -> Any:
        """The object behind one of the ``"module:attribute"`` fields (``"config"``, ``"train"``, ...)."""
        module, _, attr = getattr(self, part).partition(":")
        return getattr(importlib.import_module(module), attr)

    @property
    def config_class(self) -> type:
        return self.resolve("config")


MODELS: tuple[ModelEntry, ...] = (
    ModelEntry(
        name="stargan_vc", family=VOICE,
        summary="StarGAN-VC (Kameoka et al. 2018): gated 2-D CNN G, PatchGAN D, speaker classifier C",
        config="vc.stargan_vc.config:StarGANVCConfig", migrate="vc.stargan_vc.config:migrate_v1",
        train="vc.stargan_vc.train:train", load_bundle="vc.stargan_vc.bundle:load_bundle",
        task="vc.stargan_vc.task:StarGANVCTask"),
    ModelEntry(
        name="stargan", family=IMAGE,
        summary="StarGAN (Choi et al. 2018): one G for every attribute edit, PatchGAN D with an attribute head",
        config="vc.stargan.config:StarGANConfig", migrate="vc.stargan.config:migrate_v1",
        train="vc.stargan.train:train", load_bundle="vc.stargan.bundle:load_bundle",
        task="vc.stargan.task:StarGANTask",
        translate="vc.stargan.cli:translate", evaluate="vc.stargan.cli:evaluate",
        add_cli_options="vc.stargan.cli:add_cli_options"),
    ModelEntry(
        name="stargan_v2", family=IMAGE,
        summary="StarGAN v2 (Choi et al. 2020): styles from a mapping network or a reference image",
        config="vc.stargan_v2.config:StarGANv2Config", migrate="vc.stargan_v2.config:migrate_v1",
        train="vc.stargan_v2.train:train", load_bundle="vc.stargan_v2.bundle:load_bundle",
        task="vc.stargan_v2.task:StarGANv2Task",
        translate="vc.stargan_v2.cli:translate", evaluate="vc.stargan_v2.cli:evaluate",
        add_cli_options="vc.stargan_v2.cli:add_cli_options"),
)
"""Every model, by family; the first of each family is what a config without ``model:`` meant
before the registry (the layout of ``config_version`` 1)."""


def entries(family: str | None = None) -> tuple[ModelEntry, ...]:
    """The registered models, of one family or all, in registration order."""
    return tuple(e for e in MODELS if family is None or e.family == family)


def get(name: str, family: str | None = None) -> ModelEntry:
    """The entry named ``name``; an unknown name (or one of another family) is a ConfigError
    listing the known ones."""
    for e in entries(family):
        if e.name == name:
            return e
    known = ", ".join(e.name for e in entries(family))
    kind = f"{family} model" if family else "model"
    raise ConfigError(f"unknown {kind} {name!r}; known: {known}")


def models_help(family: str) -> str:
    """The ``--help`` paragraph that lists a family's models and how a config selects one."""
    lines = [f"models (a config's top-level 'model:' selects one):"]
    lines += [f"  {e.name:<14} {e.summary}" for e in entries(family)]
    return "\n".join(lines)


def model_name(data: Mapping[str, Any], family: str, where: str = "config") -> str:
    """The model a config mapping is for: its ``model:`` string, or, for a layout older than the
    registry (where ``model`` was a mapping of widths or absent), the family's first model."""
    name = data.get("model")
    if isinstance(name, str):
        return name
    if "config_version" in data:
        raise ConfigError(f"{where}: 'model' must name the model ({', '.join(e.name for e in entries(family))})")
    return entries(family)[0].name


def migrate(entry: ModelEntry, data: dict[str, Any], where: str = "config") -> dict[str, Any]:
    """``data`` in today's layout: the model's migration applied when its ``config_version`` is
    older; a newer version than this toolkit knows is a ConfigError."""
    version = data.get("config_version", 1)
    if not isinstance(version, int) or version < 1:
        raise ConfigError(f"{where}: config_version must be a whole number >= 1, got {version!r}")
    if version > CONFIG_VERSION:
        raise ConfigError(f"{where}: config_version {version} is newer than this toolkit reads ({CONFIG_VERSION}); "
                          "update stargan-vc")
    if version < CONFIG_VERSION:
        fn: Callable[[dict[str, Any]], dict[str, Any]] = entry.resolve("migrate")
        data = fn(dict(data))
        data["model"] = entry.name
        data["config_version"] = CONFIG_VERSION
        log.info("%s: read in the layout of config_version %d and migrated to %d", where, version, CONFIG_VERSION)
    return data


def _leaves(node: Any, prefix: str = "") -> list[str]:
    if isinstance(node, dict) and node:
        return [k for key, value in node.items() for k in _leaves(value, f"{prefix}{key}.")]
    return [prefix[:-1]]


def refuse_old_keys(entry: ModelEntry, keys: Iterable[str]) -> None:
    """A ConfigError for an override key of an older config layout, naming today's key.

    Overrides apply to the migrated config, so an old key (``schedule.amp``) would otherwise
    surface as an unknown section; each key is passed through the model's migration alone to
    find where it went (``trainer.amp``).
    """
    fn: Callable[[dict[str, Any]], dict[str, Any]] = entry.resolve("migrate")
    added = set(_leaves(fn({})))  # what the migration fills in by itself
    for key in keys:
        try:
            moved = [k for k in _leaves(fn(apply_overrides({}, {key: None}))) if k not in added]
        except ConfigError:
            continue  # not a key of the old layout; the config class judges it
        if len(moved) == 1 and moved[0] != key:
            raise ConfigError(f"-o {key}: the option is {moved[0]} in this config layout "
                              f"(config_version {CONFIG_VERSION}); use -o {moved[0]}=...")


def config_from_mapping(data: Mapping[str, Any], family: str, overrides: Mapping[str, Any] | None = None,
                        where: str = "config") -> tuple[ModelEntry, Any]:
    """The registry entry and the validated config object for a config mapping of ``family``."""
    entry = get(model_name(data, family, where), family)
    refuse_old_keys(entry, (overrides or {}).keys())
    current = migrate(entry, dict(data), where)
    current = apply_overrides(current, overrides or {})
    if current.get("model") != entry.name:
        raise ConfigError(f"{where}: an override cannot change the model ({entry.name})")
    return entry, from_dict(entry.config_class, current, where="")


def load_model_config(path: str | os.PathLike | None, family: str, overrides: Mapping[str, Any] | None = None,
                      default_model: str | None = None) -> tuple[ModelEntry, Any]:
    """Load a config file of ``family`` (``None``: the defaults of ``default_model``, or of the
    family's first model) with dotted ``overrides``; returns the entry and the config object."""
    if path is None:
        data: dict[str, Any] = {"model": default_model or entries(family)[0].name, "config_version": CONFIG_VERSION}
        return config_from_mapping(data, family, overrides)
    return config_from_mapping(read_yaml(path), family, overrides, where=str(path))


def bundle_entry(exp_dir: str | os.PathLike, family: str) -> tuple[ModelEntry, dict[str, Any]]:
    """The entry of the model a bundle holds and its ``config.yaml`` migrated to today's layout."""
    path = Path(exp_dir) / "config.yaml"
    data = read_yaml(path)
    entry = get(model_name(data, family, str(path)), family)
    return entry, migrate(entry, data, str(path))
