"""How different are the outputs for one input? (StarGAN v2's diversity scores.)

The score is the mean distance over all pairs of outputs generated for the same input
(different latent codes or references), averaged over inputs. Two distances:

* L1 in pixel space on the [0, 1] scale (always available; the paper's simplest stand-in).
* LPIPS (Zhang et al. 2018), the paper's metric, only when the ``lpips`` package is importable
  and both its linear-layer weights and the backbone's ImageNet weights are already on disk.
  Nothing is ever downloaded: otherwise the score is reported unavailable with the reason.

A deterministic translator (StarGAN v1 for a fixed target label) scores exactly 0.
"""
from __future__ import annotations

import importlib.util
import itertools
import logging
from pathlib import Path
from typing import Callable

import torch
from torch import Tensor

log = logging.getLogger(__name__)

# torchvision's file names of the backbone weights LPIPS loads through torch.hub
LPIPS_BACKBONE_FILES = {"alex": "alexnet-owt-7be5be79.pth", "vgg": "vgg16-397923af.pth",
                        "squeeze": "squeezenet1_1-b8a52dc0.pth"}


def _pairs(k: int) -> list[tuple[int, int]]:
    if k < 2:
        raise ValueError(f"diversity needs at least two outputs per input, got {k}")
    return list(itertools.combinations(range(k), 2))


def mean_pairwise_l1(outputs: Tensor) -> Tensor:
    """``outputs`` (N inputs, K outputs, C, H, W) in [-1, 1] -> mean L1 over pairs on the [0, 1] scale."""
    pairs = _pairs(outputs.shape[1])
    d = [(outputs[:, i] - outputs[:, j]).abs().flatten(1).mean(1) / 2.0 for i, j in pairs]
    return torch.stack(d, dim=1).mean()


def mean_pairwise(outputs: Tensor, distance: Callable[[Tensor, Tensor], Tensor]) -> Tensor:
    """Like :func:`mean_pairwise_l1` with any batched distance ``(N, C, H, W) x2 -> (N,)``."""
    return torch.stack([distance(outputs[:, i], outputs[:, j]).flatten() for i, j in _pairs(outputs.shape[1])],
                       dim=1).mean()


def lpips_status(net: str = "alex") -> tuple[bool, str]:
    """Whether LPIPS can run offline here, and why not when it cannot."""
    if net not in LPIPS_BACKBONE_FILES:
        raise ValueError(f"LPIPS network must be one of {', '.join(LPIPS_BACKBONE_FILES)}, got {net!r}")
    spec = importlib.util.find_spec("lpips")
    if spec is None or spec.origin is None:
        return False, "the lpips package is not installed"
    lin = Path(spec.origin).parent / "weights" / "v0.1" / f"{net}.pth"
    if not lin.is_file():
        return False, f"LPIPS linear weights not found at {lin}"
    backbone = Path(torch.hub.get_dir()) / "checkpoints" / LPIPS_BACKBONE_FILES[net]
    if not backbone.is_file():
        return False, f"{net} backbone weights not found at {backbone} (never downloaded by this toolkit)"
    return True, "available"


class LpipsDistance:
    """LPIPS as a batched distance on images in [-1, 1] (its own input convention).

    Construct only after :func:`lpips_status` said yes: with the weights in torch.hub's cache,
    ``lpips.LPIPS`` loads them from disk instead of downloading.
    """

    def __init__(self, net: str = "alex", device: torch.device | str = "cpu"):
        ok, why = lpips_status(net)
        if not ok:
            raise RuntimeError(f"LPIPS unavailable: {why}")
        import lpips  # noqa: PLC0415 - optional dependency, checked above

        self.model = lpips.LPIPS(net=net, verbose=False).to(device).eval()
        self.device = torch.device(device)

    @torch.no_grad()
    def __call__(self, a: Tensor, b: Tensor) -> Tensor:
        rgb = (lambda t: t.expand(-1, 3, -1, -1) if t.shape[1] == 1 else t)
        return self.model(rgb(a).to(self.device), rgb(b).to(self.device)).flatten().cpu()


def load_lpips(net: str = "alex", device: torch.device | str = "cpu") -> tuple[LpipsDistance | None, str]:
    """(distance, "available") or (None, reason); logs the reason once."""
    ok, why = lpips_status(net)
    if not ok:
        log.info("LPIPS diversity not computed: %s", why)
        return None, why
    return LpipsDistance(net, device), why
