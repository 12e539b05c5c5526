"""The one base class of the errors a user can cause.

Every mistake that lies in what the user gave (a file, an option, a config, a model folder) is
raised as a subclass of :class:`VCError` whose message is one line naming the thing and the
reason. The command-line front ends catch this one class (``vc.cli.common.run_command``), print
the message without a traceback (``-v`` shows it) and exit with :attr:`VCError.exit_code`; the
Python API lets it propagate, so a caller can catch it the same way.
"""
from __future__ import annotations


class VCError(Exception):
    """A user-facing error; the message says what is wrong and with which file or option."""

    exit_code: int = 1
