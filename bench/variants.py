"""What the training benchmarks share: one process per variant, and a table of ratios.

Each variant runs in its own process (peak memory and OpenMP settings are per process); the
worker prints one JSON line with at least ``variant``, ``it_s``, ``cpu_s_per_it``, ``peak_mb``
and ``threads``, and the table reports every variant against the plain ``eager`` step measured
in the same run. :func:`time_trainer` is that worker's measurement, for any ``vc.gan.Trainer``.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Mapping, Sequence


def time_trainer(trainer: Any, variant: str, warmup: int, steps: int) -> dict:
    """Set ``trainer`` up, run ``warmup`` untimed steps, then time ``steps`` steps: the worker's
    JSON record (steps/s, CPU seconds per step, peak memory, threads, parameters).

    The ``no_handoff`` variant turns the task's D-to-G fake hand-off off (``vc.gan.FakeHandoff``):
    the step as it was before it, G run again in the G phase."""
    import torch

    trainer.setup()
    if variant == "no_handoff":
        trainer.task.handoff.enabled = False
    for step in range(1, warmup + 1):
        trainer.train_step(step)
    t0, c0 = time.perf_counter(), time.process_time()
    for step in range(warmup + 1, warmup + steps + 1):
        trainer.train_step(step)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"variant": variant, "it_s": steps / wall, "cpu_s_per_it": cpu / steps,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "threads": torch.get_num_threads(),
            "params": sum(p.numel() for m in trainer.nets.values() for p in m.parameters())}


def variant_names(parser: argparse.ArgumentParser, text: str, known: Sequence[str]) -> list[str]:
    """The comma list ``text`` checked against ``known`` (a parser error otherwise), ``eager`` first
    if it was left out: every table needs its baseline."""
    names = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [v for v in names if v not in known]
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {', '.join(known)}")
    return names if "eager" in names else ["eager", *names]


def run_variants(script: str | os.PathLike, names: Sequence[str], worker_args: Sequence[str],
                 envs: Mapping[str, Mapping[str, str]] | None = None) -> list[dict]:
    """Run ``script --worker NAME worker_args...`` for each name; returns the parsed JSON lines."""
    results = []
    for name in names:
        cmd = [sys.executable, str(script), "--worker", name, *worker_args]
        env = {**os.environ, **((envs or {}).get(name, {}))}
        run = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if run.returncode != 0:
            err = run.stderr.strip().splitlines()
            print(f"{name}: failed\n{err[-1] if err else ''}", flush=True)
            continue
        r = json.loads(run.stdout.strip().splitlines()[-1])
        results.append(r)
        print(f"{name:>14}: {r['it_s']:.3f} it/s  {r['cpu_s_per_it']:.3f} cpu-s/it  peak {r['peak_mb']:.0f} MB  "
              f"threads {r['threads']}", flush=True)
    return results


def print_ratios(results: list[dict], intro: str, out: str | os.PathLike | None = None) -> None:
    """The table of it/s against the eager variant's; also saved as JSON to ``out`` if given."""
    base = next((r for r in results if r["variant"] == "eager"), None)
    print(f"\n{intro}")
    print(f"{'variant':>14} {'it/s':>8} {'vs eager':>9} {'peak MB':>8}")
    for r in results:
        ratio = r["it_s"] / base["it_s"] if base else float("nan")
        print(f"{r['variant']:>14} {r['it_s']:>8.3f} {ratio:>8.2f}x {r['peak_mb']:>8.0f}")
    if out:
        Path(out).write_text(json.dumps(results, indent=1))
