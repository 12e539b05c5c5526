"""Where training runs: device choice, mixed precision, distributed set-up, RNG state.

``torchrun`` sets ``WORLD_SIZE``/``RANK``/``LOCAL_RANK``; when ``WORLD_SIZE > 1`` the process
group is initialised here (NCCL on CUDA, Gloo on CPU) so the same command line trains on one
process or many without code changes.
"""
from __future__ import annotations

import logging
import os
import random
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, ContextManager

import numpy as np
import torch
import torch.distributed as dist

from vc.config import ConfigError, device_problem
from vc.cores import cpu_cores

log = logging.getLogger(__name__)

AMP_MODES = ("auto", "native", "bf16", "fp16", "off")

#: CPU features (``torch.cpu.get_capabilities()``) with native bfloat16 dot products: AMX tiles
#: (Intel Xeon since Sapphire Rapids) and AVX512-BF16 (Intel Cooper Lake, AMD Zen 4 and later).
#: Without them oneDNN emulates bf16, slower than fp32.
BF16_CPU_FEATURES = ("amx_bf16", "avx512_bf16")


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 dot products in hardware (:data:`BF16_CPU_FEATURES`)."""
    capabilities = getattr(torch.cpu, "get_capabilities", None)  # torch >= 2.6; older ones: False
    if capabilities is None:
        return False
    features = capabilities()
    return any(features.get(name, False) for name in BF16_CPU_FEATURES)


@dataclass(frozen=True)
class DistInfo:
    """This process's place in a (possibly single-process) job."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        """Only the main process writes files and shows progress."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def launched_as_main() -> bool:
    """Whether ``torchrun`` (or nothing) started this process as rank 0: usable before the
    process group exists, e.g. to let only one process write a bundle's files."""
    return int(os.environ.get("RANK", "0")) == 0


def init_distributed(device_kind: str) -> DistInfo:
    """Join the ``torchrun`` process group if there is one; otherwise a single-process DistInfo."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    info = DistInfo(int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0")), world)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device_kind == "cuda" else "gloo")
    return info


def check_device(spec: str, name: str = "device") -> str:
    """``spec`` made concrete before any work starts: ``auto`` -> ``cuda`` when torch sees a GPU,
    else ``cpu``; a spelling that is no device, or a CUDA device torch cannot see, is a
    ConfigError naming ``name`` (the option or config key)."""
    problem = device_problem(name, spec)
    if problem:
        raise ConfigError(problem)
    if spec == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if spec.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"{name} {spec!r}: torch {torch.__version__} sees no CUDA device; use cpu or auto")
    return spec


def resolve_device(spec: str, info: DistInfo, cpu_threads: int = 0) -> torch.device:
    """``auto`` -> the local CUDA device when there is one, else the CPU with all its cores.

    On the CPU, ``cpu_threads`` > 0 fixes the number of intra-op threads; 0 shares this
    process's cores among the local ``torchrun`` processes.
    """
    spec = check_device(spec)
    if spec.startswith("cuda"):
        device = torch.device(spec if ":" in spec else f"cuda:{info.local_rank}")
        torch.cuda.set_device(device)
        return device
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(info.world_size)))
    threads = cpu_threads or max(1, cpu_cores() // max(1, local_world))
    torch.set_num_threads(threads)
    _warn_if_busy(threads)
    return torch.device("cpu")


def _warn_if_busy(threads: int) -> None:
    """Several intra-op threads on cores that other processes keep busy make every step wait for
    the slowest thread (measured: 5x slower on 2 busy cores); say so instead of silently crawling."""
    try:
        load = os.getloadavg()[0]
    except OSError:  # not available on this platform
        return
    if threads > 1 and load >= cpu_cores():
        log.warning("the CPU is busy (load average %.1f on %d cores): training with %d threads may be much "
                    "slower than with 1; set trainer.cpu_threads: 1 (-o trainer.cpu_threads=1) if steps are slow",
                    load, cpu_cores(), threads)


def resolve_amp(mode: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype: ``auto`` is bf16 on CUDA cards that support it, off on the CPU;
    ``native`` is also bf16 on a CPU that has bf16 dot products in hardware (where a network of
    wide convolutions trains ~1.5x faster; small ones can be slower, hence not the default).

    bf16 keeps fp32's exponent range, so it needs no loss scaling and does not overflow into the
    NaNs that fp16 defaults cause in several peer implementations.
    """
    if mode not in AMP_MODES:
        raise ValueError(f"amp must be one of {', '.join(AMP_MODES)}, got {mode!r}")
    if mode == "native" and device.type == "cpu":
        return torch.bfloat16 if cpu_has_native_bf16() else None
    if mode == "off" or (mode == "auto" and device.type != "cuda"):
        return None
    if mode in ("auto", "native", "bf16"):
        if device.type == "cuda" and not torch.cuda.is_bf16_supported():
            if mode == "bf16":
                raise RuntimeError("amp=bf16 requested but this GPU does not support bfloat16")
            return None
        return torch.bfloat16
    if device.type != "cuda":
        raise RuntimeError("amp=fp16 needs a CUDA device")
    return torch.float16


def autocast(device: torch.device, dtype: torch.dtype | None) -> ContextManager[Any]:
    """An autocast context for ``dtype``, or a no-op when mixed precision is off."""
    if dtype is None:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def get_rng_state() -> dict[str, Any]:
    """Global RNG states in a form ``torch.load(weights_only=True)`` accepts (no ndarrays)."""
    np_state = np.random.get_state(legacy=False)
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {
            "bit_generator": np_state["bit_generator"],
            "key": torch.from_numpy(np_state["state"]["key"].astype(np.int64)),
            "pos": int(np_state["state"]["pos"]),
            "has_gauss": int(np_state["has_gauss"]),
            "gauss": float(np_state["gauss"]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Inverse of ``get_rng_state``.

    The states may arrive on the training device (a checkpoint is loaded with
    ``map_location=device``); the generators take CPU byte tensors, so each is moved back first.
    """
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    npy = state["numpy"]
    np.random.set_state({
        "bit_generator": npy["bit_generator"],
        "state": {"key": npy["key"].cpu().numpy().astype(np.uint32), "pos": npy["pos"]},
        "has_gauss": npy["has_gauss"],
        "gauss": npy["gauss"],
    })
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
