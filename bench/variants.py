"""What the training benchmarks share: one process per variant, and a table of ratios.

Each variant runs in its own process (peak memory and OpenMP settings are per process); the
worker prints one JSON line with at least ``variant``, ``it_s``, ``cpu_s_per_it``, ``peak_mb``
and ``threads``, and the table reports every variant against the plain ``eager`` step measured
in the same run.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Mapping, Sequence


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
