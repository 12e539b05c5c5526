"""The conversion manifest (``manifest.tsv``) and failure list (``failed.tsv``).

The manifest is what evaluation and the sample page read, so it is sorted and free of run
details (no times, no absolute paths): two runs that produced the same files write the same
bytes, whatever the order the worker processes finished in, and the output folder can be moved
or copied to another machine. Paths are therefore stored relative to the manifest's folder;
:func:`read_manifest` resolves them.
"""
from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

from vc.fileio import atomic_write_text
from vc.errors import VCError

MANIFEST_HEADER = ("utt", "src_spk", "tgt_spk", "path")
FAILED_HEADER = ("utt", "tgt_spk", "reason")


class ManifestError(VCError, ValueError):
    """A manifest file that does not follow docs/formats.md."""


@dataclass(frozen=True, order=True)
class ManifestRow:
    """One converted file: ``path`` is absolute after :func:`read_manifest`."""

    utt: str
    src_spk: str
    tgt_spk: str
    path: str


def shard_suffix(num_shards: int | None, shard: int | None) -> str:
    """File-name tag of one shard's lists (``""`` for an unsharded run): ``.3`` as vc-extract's ``feats.3.scp``."""
    if not num_shards or num_shards == 1:
        return ""
    return f".{shard}"


def _tsv(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    buf = io.StringIO()
    # Fields never contain tabs or newlines (ids are whitespace-free; reasons are flattened).
    buf.write("\t".join(header) + "\n")
    for row in rows:
        buf.write("\t".join(row) + "\n")
    return buf.getvalue()


def write_manifest(path: str | os.PathLike, rows: list[ManifestRow]) -> None:
    """Write sorted rows atomically; each path is stored relative to ``path``'s folder.

    Paths are made relative as written, not with symbolic links resolved: an output folder
    whose ``wav/`` links to another disk still lists ``wav/...``, inside the folder.
    """
    path = Path(path)
    base = os.path.abspath(path.parent)
    out = sorted((r.utt, r.src_spk, r.tgt_spk, os.path.relpath(os.path.abspath(r.path), base)) for r in rows)
    atomic_write_text(path, _tsv(MANIFEST_HEADER, out))


def outside_folder(rel: str) -> bool:
    """Whether a manifest path leaves the manifest's folder: absolute, or climbing out with ``..``."""
    if os.path.isabs(rel) or Path(rel).drive:
        return True
    return os.path.normpath(rel).split(os.sep)[0] == os.pardir


def read_manifest(path: str | os.PathLike, *, allow_outside: bool = False) -> list[ManifestRow]:
    """Read a manifest, resolving each path against the manifest's folder.

    vc-convert lists only files inside the manifest's folder; an absolute or ``../`` path (a
    hand-edited or foreign manifest, which could make a scorer read and publish any file) is a
    :class:`ManifestError` unless ``allow_outside``.
    """
    path = Path(path)
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if tuple(header or ()) != MANIFEST_HEADER:
            raise ManifestError(f"{path}: header must be {chr(9).join(MANIFEST_HEADER)!r}, got {header!r}")
        rows = []
        for lineno, fields in enumerate(reader, start=2):
            if len(fields) != len(MANIFEST_HEADER):
                raise ManifestError(f"{path}:{lineno}: expected {len(MANIFEST_HEADER)} tab-separated fields, got {len(fields)}")
            utt, src, tgt, rel = fields
            if not allow_outside and outside_folder(rel):
                raise ManifestError(f"{path}:{lineno}: {rel!r} lies outside the manifest's folder; listed files must "
                                    "be inside it (vc-evaluate --allow-outside-paths accepts such a manifest)")
            rows.append(ManifestRow(utt, src, tgt, str((path.parent / rel).resolve())))
    return rows


def flatten_reason(reason: str) -> str:
    """One-line form of an error message for a TSV cell."""
    return " | ".join(part.strip() for part in str(reason).replace("\t", " ").splitlines() if part.strip())


def write_failed(path: str | os.PathLike, failures: list[tuple[str, str, str]]) -> None:
    """Write ``(utt, tgt_spk, reason)`` rows sorted, or remove a stale list when nothing failed.

    Removing it matters for resumed runs: a ``failed.tsv`` left from an earlier attempt whose
    failures have since been fixed would otherwise claim problems that no longer exist.
    """
    path = Path(path)
    if not failures:
        path.unlink(missing_ok=True)
        return
    rows = sorted((u, t, flatten_reason(r)) for u, t, r in failures)
    atomic_write_text(path, _tsv(FAILED_HEADER, rows))


def read_failed(path: str | os.PathLike) -> list[tuple[str, str, str]]:
    """``(utt, tgt_spk, reason)`` rows of a failure list (header skipped)."""
    rows = []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for lineno, line in enumerate(lines[1:], start=2):
        fields = line.split("\t", 2)
        if len(fields) != 3:
            raise ManifestError(f"{path}:{lineno}: expected utt, tgt_spk and reason separated by tabs")
        rows.append((fields[0], fields[1], fields[2]))
    return rows
