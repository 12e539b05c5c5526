"""Loss logging: running means written to CSV (always) and TensorBoard (when installed).

Values are accumulated as detached tensors and only turned into Python floats when a row is
written, so logging every loss adds no per-step device synchronisation on a GPU.
"""
from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Any, Mapping

import torch

from vc.fileio import atomic_write_text

log = logging.getLogger(__name__)


class MetricLogger:
    """Accumulates named scalars and writes their means as one CSV row per ``flush``.

    The CSV header grows when a new name appears (the file is rewritten once, atomically), so
    phases that run only every n-th step (WGAN's generator) still get their own columns.
    """

    def __init__(self, log_dir: str | Path, enabled: bool = True, csv_name: str = "train.csv"):
        self.enabled = enabled
        self.path = Path(log_dir) / csv_name
        self._sums: dict[str, Any] = {}
        self._counts: dict[str, int] = {}
        self._columns: list[str] = ["step"]
        self._tb = None
        if not enabled:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.is_file():
            with self.path.open(newline="", encoding="utf-8") as f:
                header = next(csv.reader(f), None)
            if header:
                self._columns = header
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            log.debug("tensorboard is not installed; logging to CSV only")
        else:
            self._tb = SummaryWriter(log_dir=str(self.path.parent / "tensorboard"))

    def add(self, values: Mapping[str, float | torch.Tensor]) -> None:
        """Add one observation of each named scalar."""
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                value = value.detach().float().reshape(())
            self._sums[key] = self._sums[key] + value if key in self._sums else value
            self._counts[key] = self._counts.get(key, 0) + 1

    def flush(self, step: int) -> dict[str, float]:
        """Write the means since the last flush as the row for ``step`` and return them."""
        means = {k: float(v) / self._counts[k] for k, v in self._sums.items()}
        self._sums.clear()
        self._counts.clear()
        if not self.enabled or not means:
            return means
        new = [k for k in means if k not in self._columns]
        if new:
            self._columns = self._columns + new
            self._rewrite(self._read_rows())
        write_header = not self.path.is_file() or self.path.stat().st_size == 0
        with self.path.open("a", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=self._columns)
            if write_header:
                writer.writeheader()
            writer.writerow({"step": step, **{k: f"{v:.6g}" for k, v in means.items()}})
        if self._tb is not None:
            for key, value in means.items():
                self._tb.add_scalar(key, value, step)
        return means

    def truncate_after(self, step: int) -> None:
        """Drop rows logged after ``step`` (a run that crashed after its last checkpoint)."""
        if not self.enabled or not self.path.is_file():
            return
        rows = self._read_rows()
        kept = [r for r in rows if int(r["step"]) <= step]
        if len(kept) != len(rows):
            log.info("%s: dropping %d rows logged after step %d", self.path, len(rows) - len(kept), step)
            self._rewrite(kept)

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()

    def _read_rows(self) -> list[dict[str, str]]:
        if not self.path.is_file():
            return []
        with self.path.open(newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))

    def _rewrite(self, rows: list[dict[str, str]]) -> None:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self._columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.path, buf.getvalue())
