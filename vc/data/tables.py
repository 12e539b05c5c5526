"""Kaldi-style two-column tables (``<key> <rest of line>``): parsing with line-numbered problems.

Parsing never stops at the first fault: every problem is collected as ``file:line: problem``
so that a user fixes a broken data dir in one pass instead of one error per run.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from vc.fileio import atomic_write_text
from vc.errors import VCError

_LINE = re.compile(r"(\S+)(?:[ \t]+(.*))?")


class DataDirError(VCError, ValueError):
    """A data dir or table is broken; the message lists every problem, one per line."""

    def __init__(self, problems: list[str], header: str | None = None) -> None:
        self.problems = list(problems)
        lines = ([header] if header else []) + self.problems
        super().__init__("\n".join(lines))


def id_problem(kind: str, value: str) -> str | None:
    """Why ``value`` is not a valid utterance/speaker id, or None if it is.

    Ids become file names (``dump/<set>/<utt>.npz``) and whitespace-separated fields, hence no
    whitespace and no ``/``.
    """
    if not value:
        return f"empty {kind} id"
    if re.search(r"\s", value):
        return f"{kind} id {value!r} contains whitespace"
    if "/" in value:
        return f"{kind} id {value!r} contains '/'"
    return None


@dataclass
class Table:
    """A parsed table: ``entries`` in file order, the line of each key, and the problems found."""

    path: str
    entries: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def where(self, key: str) -> str:
        """``file:line`` of ``key`` for problem messages."""
        return f"{self.path}:{self.lines[key]}" if key in self.lines else f"{self.path} ({key!r})"


def parse_table(path: str | os.PathLike, *, key_kind: str = "utterance", allow_empty_value: bool = False) -> Table:
    """Read ``path`` as ``<key> <value>`` lines; the value is the rest of the line (may hold spaces).

    Reports undecodable (non-UTF-8) lines, lines without a value, invalid or duplicate keys,
    and keys out of byte order (Kaldi tools require ``LC_ALL=C sort``).
    """
    path = Path(path)
    table = Table(str(path))
    previous: str | None = None
    raw_lines = path.read_bytes().split(b"\n")
    if raw_lines[-1] == b"":
        raw_lines.pop()  # the final newline (or an empty file)
    for lineno, raw_line in enumerate(raw_lines, start=1):
        where = f"{path}:{lineno}"
        try:
            line = raw_line.decode("utf-8")
        except UnicodeDecodeError as exc:
            table.problems.append(f"{where}: not valid UTF-8 (byte 0x{raw_line[exc.start]:02x} at column {exc.start + 1})")
            continue
        line = line.rstrip()
        if line.startswith("\ufeff") and lineno == 1:
            line = line[1:]  # a BOM from a Windows editor
        if not line:
            table.problems.append(f"{where}: empty line")
            continue
        if line[0].isspace():
            table.problems.append(f"{where}: line starts with whitespace")
            continue
        match = _LINE.fullmatch(line)
        assert match is not None  # a non-empty line without leading space always matches
        key, value = match.group(1), match.group(2) or ""
        if not value and not allow_empty_value:
            table.problems.append(f"{where}: {key_kind} {key!r} has no value")
            continue
        bad = id_problem(key_kind, key)
        if bad:
            table.problems.append(f"{where}: {bad}")
            continue
        if key in table.entries:
            table.problems.append(f"{where}: duplicate {key_kind} {key!r} (first on line {table.lines[key]})")
            continue
        if previous is not None and key < previous:
            table.problems.append(f"{where}: not sorted: {key!r} after {previous!r} (sort with LC_ALL=C sort)")
        previous = key
        table.entries[key] = value
        table.lines[key] = lineno
    return table


def read_scp(path: str | os.PathLike) -> dict[str, str]:
    """Read a ``<key> <value>`` file (``wav.scp``, ``feats.scp``, ``utt2spk``, ``text``).

    Raises :class:`DataDirError` listing every problem, or ``FileNotFoundError``.
    """
    table = parse_table(path)
    if table.problems:
        raise DataDirError(table.problems)
    return table.entries


def format_table(mapping: dict[str, str], name: str = "<table>") -> str:
    """Sorted ``<key> <value>\\n`` text; raises :class:`DataDirError` for unwritable entries."""
    problems = []
    for key, value in mapping.items():
        bad = id_problem("key", key)
        if bad:
            problems.append(f"{name}: {bad}")
        if "\n" in value or "\r" in value:
            problems.append(f"{name}: value of {key!r} contains a line break")
        elif not value.strip():
            problems.append(f"{name}: value of {key!r} is empty")
    if problems:
        raise DataDirError(problems)
    return "".join(f"{key} {mapping[key]}\n" for key in sorted(mapping))


def write_scp(path: str | os.PathLike, mapping: dict[str, str]) -> None:
    """Write ``mapping`` sorted by key (byte order), atomically, UTF-8."""
    atomic_write_text(path, format_table(mapping, str(path)))
