"""One logging set-up for every command-line tool."""
from __future__ import annotations

import logging
import os


def setup_logging(verbose: bool = False) -> None:
    """Log to stderr with timestamps; ``VC_LOG_LEVEL`` or ``--verbose`` raise the detail."""
    level = logging.DEBUG if verbose else getattr(logging, os.environ.get("VC_LOG_LEVEL", "INFO").upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
