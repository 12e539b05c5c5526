"""What every command-line front end shares: the option vocabulary and the one error handler.

- ``-o/--set KEY=VALUE`` (repeatable) overrides any config option with a dotted key, the value
  parsed as YAML; :func:`add_override_option` adds it, with old spellings kept as aliases that
  warn.
- ``-v/--verbose``: debug logging, and the traceback of an error.
- :func:`run_command` parses the arguments, sets up logging and runs the command's body; a
  :class:`~vc.errors.VCError` (any user mistake) becomes one line on stderr and the error's exit
  code, Ctrl-C exit code 130, both without a traceback unless ``-v`` was given.
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Any, Callable, Sequence

from vc.cores import cpu_cores
from vc.errors import VCError
from vc.logutil import setup_logging

log = logging.getLogger("vc")


class _DeprecatedAlias(argparse._AppendAction):
    """An old spelling of an option: it still works, with a warning naming the new one."""

    def __init__(self, *args: Any, new: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.new = new

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(f"{parser.prog}: warning: {option_string} is an old spelling of {self.new}; use {self.new}",
              file=sys.stderr)
        super().__call__(parser, namespace, values, option_string)


def add_override_option(parser: argparse.ArgumentParser, *, example: str = "trainer.max_steps=500",
                        old: Sequence[str] = ()) -> None:
    """``-o/--set KEY=VALUE`` into ``args.overrides`` (a list); ``old`` spellings warn."""
    parser.add_argument("-o", "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help=f"override a config option by its dotted key, e.g. -o {example} "
                             "(YAML value syntax; repeatable)")
    for spelling in old:
        parser.add_argument(spelling, dest="overrides", action=_DeprecatedAlias, new="-o/--set",
                            metavar="KEY=VALUE", help=argparse.SUPPRESS)


def positive_int(text: str) -> int:
    """An argparse ``type`` for counts that must be >= 1 (``--nj``, ``--utts``, ...): argparse then
    refuses 0 or -3 itself, with the option's name, before any work starts."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def add_jobs_option(parser: Any, help: str = "parallel worker processes (default: 1)") -> None:
    """``--nj N``: how many worker processes (>= 1); :func:`cap_jobs` then limits it to the cores."""
    parser.add_argument("--nj", type=positive_int, default=1, metavar="N",
                        help=help + "; at most the usable cores (more is capped, with a notice)")


def cap_jobs(nj: int, option: str = "--nj") -> int:
    """``nj`` limited to :func:`vc.cores.cpu_cores`, with a notice when it was more: CPU-bound worker
    processes beyond the cores only take turns on them, and each costs its own start-up and
    memory, so more of them is slower than as many as there are cores."""
    cores = cpu_cores()
    if nj > cores:
        log.warning("%s %d: this process may use %d core(s); running %d worker process(es) instead (more "
                    "than the cores would only take turns on them)", option, nj, cores, cores)
        return cores
    return nj


def add_verbose_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="debug logging, and the traceback of an error")


def run_command(parser: argparse.ArgumentParser, body: Callable[[argparse.Namespace], Any],
                argv: Sequence[str] | None = None) -> Any:
    """Parse ``argv``, set up logging and run ``body(args)``; user errors end the process with one
    line and a non-zero exit code (see the module docstring)."""
    args = parser.parse_args(argv)
    verbose = bool(getattr(args, "verbose", False))
    setup_logging(verbose)
    try:
        return body(args)
    except VCError as exc:
        if verbose:
            log.exception("%s", exc)
        else:
            log.error("%s", exc)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        if verbose:
            log.exception("interrupted")
        else:
            log.error("interrupted")
        raise SystemExit(130) from None
