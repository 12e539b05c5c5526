"""The ``device`` option of the voice models and commands, checked before any work starts."""
from __future__ import annotations

from vc.config import ConfigError

DEVICES = ("auto", "cpu", "cuda")


def device_problem(name: str, value: str) -> str | None:
    """The message for a device string that is not auto, cpu, cuda or cuda:N (None when it is)."""
    if value in DEVICES or (value.startswith("cuda:") and value[5:].isdigit()):
        return None
    return f"{name} must be auto, cpu, cuda or cuda:N, got {value!r}"


def check_device(value: str, name: str = "device") -> None:
    """Refuse a malformed device, and a CUDA device on a machine where torch sees none, with a
    ConfigError naming the option."""
    problem = device_problem(name, value)
    if problem:
        raise ConfigError(problem)
    if value.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"{name} {value!r}: torch {torch.__version__} sees no CUDA device; use cpu or auto")
