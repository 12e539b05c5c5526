"""Conversion: the Converter (a loaded model bundle that converts waveforms) and batch conversion.

Submodules are imported on demand: ``vc.convert.f0`` and ``vc.convert.discovery`` are light,
``vc.convert.converter`` pulls in WORLD, and torch is only imported when a bundle is loaded.
"""
from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Converter": "vc.convert.converter",
    "ConverterOptions": "vc.convert.converter",
    "ConversionError": "vc.convert.converter",
    "UnknownSpeakerError": "vc.convert.converter",
    "run_batch": "vc.convert.batch",
    "resolve_model": "vc.convert.discovery",
    "ModelNotFoundError": "vc.convert.discovery",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vc.convert' has no attribute {name!r}")
