"""One training step of any ``vc.gan`` task, with or without the D-to-G fake hand-off (tests only)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch

from vc.gan import GanTask, Trainer


def one_step(make_task: Callable[[], GanTask], cfg, out_dir: Path, handoff: bool, step: int = 1,
             generator: str = "G") -> tuple[dict[str, float], dict[str, list[torch.Tensor]], int]:
    """Run every phase due at ``step`` on one batch from a fresh, seeded trainer; returns the logged
    terms, every network's parameters afterwards, and how many times ``generator`` ran forward."""
    torch.manual_seed(0)
    task = make_task()
    trainer = Trainer(task, cfg, out_dir, device="cpu", progress=False, seed=0)
    trainer.setup()
    task.handoff.enabled = handoff
    calls: list[int] = []
    trainer.nets[generator].register_forward_hook(lambda *a: calls.append(1))
    logs: dict[str, float] = {}
    for s in range(1, step + 1):
        batch = task.next_batch(s)
        calls.clear()
        logs = {}
        for phase in trainer.phases:
            if s % phase.every == 0:
                logs.update({k: float(v) for k, v in trainer._run_phase(phase, batch, s).items()})
        assert not task.handoff.holding  # taken by the G phase, or never kept
    params = {k: [p.detach().clone() for p in m.parameters()] for k, m in trainer.nets.items()}
    return logs, params, len(calls)


def assert_same_step(a: tuple, b: tuple) -> None:
    """Two ``one_step`` results agree in every logged term and every parameter."""
    import pytest

    assert a[0].keys() == b[0].keys()
    for k in a[0]:
        assert a[0][k] == pytest.approx(b[0][k], rel=1e-5, abs=1e-6), k
    for name in a[1]:
        for x, y in zip(a[1][name], b[1][name]):
            torch.testing.assert_close(x, y, rtol=1e-4, atol=1e-6, msg=name)
