"""How many CPU cores this process may use, without importing torch (the light front ends and the
environment record need the count too)."""
from __future__ import annotations

import os


def cpu_cores() -> int:
    """Cores this process may run on (respects taskset/cgroup affinity, unlike ``os.cpu_count``)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
