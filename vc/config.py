"""Dataclass configs that round-trip through YAML.

Every tunable of the toolkit lives in a dataclass so that a config is typed, documented in one
place and recorded verbatim in each model bundle. YAML files may set any subset of fields;
unknown keys are errors (a misspelt option must never be silently ignored).

One vocabulary for every model (``vc.registry`` picks the model by the top-level ``model:``):

- ``model``: the model's name; ``config_version``: the layout (:data:`CONFIG_VERSION`; older
  layouts are migrated when read); ``seed``; ``device``;
- ``net``: the networks' widths and depths; ``data``: what a batch is, including ``batch_size``;
- ``optim``: Adam (``lr_*``, ``betas``, ``weight_decay``), ``n_critic`` and ``ema_beta``;
- ``loss``: the objective: ``adversarial`` and ``lambda_*`` weights, with ``lambda_cyc`` the cycle
  weight in every model;
- ``trainer``: steps, schedule, checkpoints, precision (:class:`vc.gan.TrainerConfig`).

One validation style: each dataclass checks its own values in ``__post_init__`` and raises
:class:`ConfigError` naming the dotted key (cross-section checks sit in the top-level class's
``__post_init__``), so an invalid config cannot be built, from YAML or from Python.
"""
from __future__ import annotations

import copy
import dataclasses
import os
import types
import typing
from pathlib import Path
from typing import Any, Iterable, Mapping, TypeVar

import yaml

from vc.errors import VCError
from vc.fileio import atomic_write_text

T = TypeVar("T")

CONFIG_VERSION = 2  # the layout above; 1: before the registry (``schedule``, ``lambda_rec``, ...)


class ConfigError(VCError, ValueError):
    """A config file or override does not fit its dataclass."""


def choice_problem(name: str, value: Any, choices: Iterable[str]) -> str | None:
    """The message for a field whose value is not one of ``choices`` (None when it is), worded
    alike across every config so that users see the allowed values."""
    choices = tuple(choices)
    if value in choices:
        return None
    return f"{name} must be one of {', '.join(choices)}, got {value!r}"


DEVICES = ("auto", "cpu", "cuda")


def device_problem(name: str, value: str) -> str | None:
    """The message for a device string that is not auto, cpu, cuda or cuda:N (None when it is)."""
    if value in DEVICES or (value.startswith("cuda:") and value[5:].isdigit()):
        return None
    return f"{name} must be auto, cpu, cuda or cuda:N, got {value!r}"


def betas_problem(name: str, betas: Iterable[float]) -> str | None:
    """The message for Adam betas that are not two numbers in [0, 1) (None when they are)."""
    betas = list(betas)
    if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
        return f"{name} must be two numbers in [0, 1), got {betas}"
    return None


def check_model_header(cfg: Any, model: str) -> None:
    """The checks of the fields every model's top-level config starts with (``model``,
    ``config_version``, ``seed``, ``device``); called from its ``__post_init__``."""
    if cfg.model != model:
        raise ConfigError(f"model must be {model!r} for this config, got {cfg.model!r}")
    if cfg.config_version != CONFIG_VERSION:
        raise ConfigError(f"config_version must be {CONFIG_VERSION}, got {cfg.config_version} (older layouts "
                          "are migrated when read through vc.registry)")
    if cfg.seed < 0:
        raise ConfigError(f"seed must be >= 0, got {cfg.seed}")
    problem = device_problem("device", cfg.device)
    if problem:
        raise ConfigError(problem)


def move_key(data: dict[str, Any], old: str, new: str) -> None:
    """Move the dotted key ``old`` of ``data`` to ``new`` in place (pure dict work for the models'
    ``migrate_v1``); an old key whose new one is set too is a ConfigError, an emptied section goes."""
    old_parent, _, old_key = old.rpartition(".")
    new_parent, _, new_key = new.rpartition(".")
    src = data.get(old_parent) if old_parent else data
    if not isinstance(src, dict) or old_key not in src:
        return
    dst = data.setdefault(new_parent, {}) if new_parent else data
    if not isinstance(dst, dict):
        raise ConfigError(f"{new_parent} must be a mapping, got {dst!r}")
    if new_key in dst:
        raise ConfigError(f"both {old} (the layout before config_version 2) and {new} are set; keep {new}")
    dst[new_key] = src.pop(old_key)
    if old_parent and not src:
        del data[old_parent]


def merge_betas(data: dict[str, Any], defaults: Iterable[float]) -> None:
    """``optim.beta1``/``optim.beta2`` (the layout before config_version 2) as ``optim.betas`` in
    place, the one not given taking its default."""
    optim = data.get("optim")
    if not isinstance(optim, dict) or not ({"beta1", "beta2"} & set(optim)):
        return
    if "betas" in optim:
        raise ConfigError("both optim.beta1/beta2 (the layout before config_version 2) and optim.betas are set; "
                          "keep optim.betas")
    b1, b2 = defaults
    optim["betas"] = [optim.pop("beta1", b1), optim.pop("beta2", b2)]


def _strip_optional(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Convert a YAML value to the field's declared type, recursing into nested dataclasses."""
    tp = _strip_optional(tp)
    if value is None:
        return None
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping for {tp.__name__}, got {value!r}")
        return from_dict(tp, value, where=where)
    origin = typing.get_origin(tp)
    if origin in (list, tuple) and isinstance(value, (list, tuple)):
        args = typing.get_args(tp)
        inner = args[0] if args else Any
        items = [_coerce(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin is dict and isinstance(value, Mapping):
        args = typing.get_args(tp)
        inner = args[1] if len(args) == 2 else Any
        return {k: _coerce(v, inner, f"{where}.{k}") for k, v in value.items()}
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str):
        # YAML 1.1 reads "1e-4" (no dot) as a string; accept it as the number it obviously is
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"{where}: expected float, got {value!r}") from None
    if tp is str and isinstance(value, bool):
        # YAML 1.1 reads an unquoted off/no/false (on/yes/true) as a boolean; for a text option
        # the user meant the word (``amp: off``), so it becomes "off" ("on"), which the option's
        # own validation then accepts or refuses with its list of choices
        return "on" if value else "off"
    if tp is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if tp in (int, float, str, bool) and (not isinstance(value, tp) or (tp is int and isinstance(value, bool))):
        raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r}")
    return value


def from_dict(cls: type[T], data: Mapping[str, Any], where: str = "") -> T:
    """Build dataclass ``cls`` from a mapping; unknown keys raise ConfigError."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(
            f"{where or cls.__name__}: unknown option(s) {', '.join(unknown)}; "
            f"valid options are {', '.join(sorted(names))}"
        )
    kwargs = {k: _coerce(v, hints[k], f"{where or cls.__name__}.{k}") for k, v in data.items()}
    return cls(**kwargs)


def to_dict(cfg: Any) -> dict[str, Any]:
    """Plain-dict view of a dataclass config (tuples become lists so YAML stays readable)."""

    def plain(v: Any) -> Any:
        if dataclasses.is_dataclass(v):
            return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(cfg)


def read_yaml(path: str | os.PathLike) -> dict[str, Any]:
    """The mapping in the YAML file ``path`` (empty file: ``{}``); a missing file, a syntax error or
    a top level that is not a mapping is a ConfigError naming the file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file not found: {p}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ConfigError(f"{p}: not valid YAML{at}: {getattr(exc, 'problem', None) or exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: the top level must be a mapping of options")
    return data


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` with dotted ``overrides`` (``{"optim.lr_g": 1e-4}``) set; they win."""
    out = copy.deepcopy(dict(data))
    for key, value in overrides.items():
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return out


def load_config(cls: type[T], path: str | os.PathLike | None = None,
                overrides: Mapping[str, Any] | None = None) -> T:
    """Load ``cls`` from a YAML file (``None``: defaults) and apply dotted overrides.

    For a model's config use :func:`vc.registry.load_model_config`, which also picks the model
    and migrates older layouts; this is for configs of one fixed class (features, ...).
    """
    data = read_yaml(path) if path is not None else {}
    return from_dict(cls, apply_overrides(data, overrides or {}))


def save_config(cfg: Any, path: str | os.PathLike) -> None:
    """Write a config as YAML atomically."""
    atomic_write_text(path, yaml.safe_dump(to_dict(cfg), sort_keys=False, allow_unicode=True))


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` command-line overrides (dotted keys); values are parsed as YAML (numbers,
    lists, null), so every CLI accepts the same syntax as the config files."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {item!r} is not KEY=VALUE")
        out[key.strip()] = yaml.safe_load(value)
    return out
