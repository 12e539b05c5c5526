"""stargan-vc: non-parallel many-to-many voice conversion (StarGAN-VC) and StarGAN image translation.

``from vc import Converter`` is the notebook entry point::

    conv = Converter.from_bundle("exp/demo")
    out, sr = conv.convert(wave, 16000, target="p225")

Names are imported lazily so that ``import vc`` stays instant (no torch, no WORLD) for tools
that only need a submodule.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {"Converter": "vc.convert.converter", "ConverterOptions": "vc.convert.converter"}

__all__ = ["Converter", "ConverterOptions", "__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))
