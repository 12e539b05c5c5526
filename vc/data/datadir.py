"""The Kaldi data dir (``wav.scp``, ``utt2spk``, ``spk2utt``, ``text``): load, validate, save, split.

The data dir is the one contract between corpus preparation and the rest of the toolkit
(docs/formats.md), so it is checked strictly on the way in and written sorted and atomically
on the way out; a dir this class saved is always loadable by it and by Kaldi tools.
"""
from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from vc.data.tables import DataDirError, Table, format_table, id_problem, parse_table
from vc.fileio import atomic_write_text

log = logging.getLogger(__name__)

WAV_SCP, UTT2SPK, SPK2UTT, TEXT = "wav.scp", "utt2spk", "spk2utt", "text"


@dataclass
class DataDir:
    """Utterances (id -> audio path), their speakers and, optionally, transcripts.

    ``text`` is None when the dir has no ``text`` file; when present it may cover only some
    utterances (Kaldi ``text`` has no empty transcripts, so untranscribed ones are absent).
    """

    wav_scp: dict[str, str]
    utt2spk: dict[str, str]
    text: dict[str, str] | None = None
    # file:line of each entry when loaded from disk, so validation messages point at lines
    _tables: dict[str, Table] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def load(cls, path: str | os.PathLike, *, validate: bool = True, check_files: bool = False) -> "DataDir":
        """Read the dir at ``path``; with ``validate`` every problem is raised at once.

        ``spk2utt`` is optional on disk (it is derived from ``utt2spk``) but, when present, it
        must agree with ``utt2spk``.
        """
        path = Path(path)
        if not path.is_dir():
            raise DataDirError([f"{path}: not a directory"])
        tables: dict[str, Table] = {}
        problems: list[str] = []
        for name, kind, required in ((WAV_SCP, "utterance", True), (UTT2SPK, "utterance", True),
                                     (SPK2UTT, "speaker", False), (TEXT, "utterance", False)):
            file = path / name
            if not file.exists():
                if required:
                    problems.append(f"{file}: missing")
                continue
            tables[name] = parse_table(file, key_kind=kind)
        data = cls(
            wav_scp=tables[WAV_SCP].entries if WAV_SCP in tables else {},
            utt2spk=tables[UTT2SPK].entries if UTT2SPK in tables else {},
            text=tables[TEXT].entries if TEXT in tables else None,
            _tables=tables,
        )
        if validate:
            problems += data.problems(check_files=check_files)
            if problems:
                raise DataDirError(problems, header=f"{path}: invalid data dir ({len(problems)} problem(s)):")
        elif problems:
            raise DataDirError(problems)
        return data

    # ------------------------------------------------------------------ views
    @property
    def utts(self) -> list[str]:
        """Utterance ids in byte order (the order of the files on disk)."""
        return sorted(self.wav_scp)

    @property
    def speakers(self) -> list[str]:
        """Speaker ids in byte order."""
        return sorted(set(self.utt2spk.values()))

    @property
    def spk2utt(self) -> dict[str, list[str]]:
        """Speaker -> sorted utterance ids, derived from ``utt2spk``."""
        result: dict[str, list[str]] = {}
        for utt in sorted(self.utt2spk):
            result.setdefault(self.utt2spk[utt], []).append(utt)
        return dict(sorted(result.items()))

    def __len__(self) -> int:
        return len(self.wav_scp)

    # ------------------------------------------------------------- checking
    def _where(self, name: str, key: str) -> str:
        table = self._tables.get(name)
        return table.where(key) if table is not None else f"{name} ({key!r})"

    def problems(self, *, check_files: bool = False) -> list[str]:
        """Every problem of this dir as ``file:line: problem`` (empty list when valid)."""
        problems = [p for t in self._tables.values() for p in t.problems]
        if not self._tables:  # built in memory: check ids and values the parser would have
            for name, mapping, kind in ((WAV_SCP, self.wav_scp, "utterance"), (UTT2SPK, self.utt2spk, "utterance")):
                for key, value in mapping.items():
                    bad = id_problem(kind, key)
                    if bad:
                        problems.append(f"{name}: {bad}")
                    if not value.strip() or "\n" in value:
                        problems.append(f"{self._where(name, key)}: empty or multi-line value")
            for key, value in (self.text or {}).items():
                if not value.strip() or "\n" in value or "\r" in value:
                    problems.append(f"{self._where(TEXT, key)}: transcript must be one non-empty line")
        for utt, spk in self.utt2spk.items():
            bad = id_problem("speaker", spk)
            if bad:
                problems.append(f"{self._where(UTT2SPK, utt)}: {bad}")
        for utt in self.utts:
            if utt not in self.utt2spk:
                problems.append(f"{self._where(WAV_SCP, utt)}: utterance {utt!r} has no speaker in utt2spk")
        for utt in sorted(self.utt2spk):
            if utt not in self.wav_scp:
                problems.append(f"{self._where(UTT2SPK, utt)}: utterance {utt!r} is not in wav.scp")
        for utt in sorted(self.text or {}):
            if utt not in self.wav_scp:
                problems.append(f"{self._where(TEXT, utt)}: transcript for unknown utterance {utt!r} (not in wav.scp)")
        for utt, wav in self.wav_scp.items():
            if wav.rstrip().endswith("|"):
                problems.append(f"{self._where(WAV_SCP, utt)}: pipe commands are not supported, only file paths")
            elif check_files and not Path(wav).is_file():
                problems.append(f"{self._where(WAV_SCP, utt)}: audio file not found: {wav}")
        if SPK2UTT in self._tables:
            problems += self._spk2utt_problems(self._tables[SPK2UTT])
        return problems

    def _spk2utt_problems(self, table: Table) -> list[str]:
        """Differences between the spk2utt file and the one derived from utt2spk."""
        expected = self.spk2utt
        problems = []
        for spk, value in table.entries.items():
            listed = value.split()
            if spk not in expected:
                problems.append(f"{table.where(spk)}: speaker {spk!r} has no utterances in utt2spk")
                continue
            missing = sorted(set(expected[spk]) - set(listed))
            extra = sorted(set(listed) - set(expected[spk]))
            dups = sorted(u for u, n in Counter(listed).items() if n > 1)
            for what, utts in (("missing utterances of this speaker in utt2spk", missing),
                               ("utterances not mapped to this speaker in utt2spk", extra),
                               ("utterances listed twice", dups)):
                if utts:
                    problems.append(f"{table.where(spk)}: speaker {spk!r}: {what}: {' '.join(utts[:10])}"
                                    + (f" ... ({len(utts)} in all)" if len(utts) > 10 else ""))
        for spk in expected:
            if spk not in table.entries:
                problems.append(f"{table.path}: speaker {spk!r} of utt2spk is missing")
        return problems

    def validate(self, check_files: bool = False) -> None:
        """Raise :class:`DataDirError` listing every problem; ``check_files`` also stats each audio path."""
        problems = self.problems(check_files=check_files)
        if problems:
            raise DataDirError(problems, header=f"invalid data dir ({len(problems)} problem(s)):")

    # --------------------------------------------------------------- output
    def save(self, path: str | os.PathLike) -> None:
        """Write the dir (sorted, UTF-8, each file atomic); refuses to write an invalid dir.

        A stale ``text`` left in ``path`` by an earlier run is removed when this dir has no
        transcripts, since it would describe other utterances.
        """
        fresh = DataDir(dict(self.wav_scp), dict(self.utt2spk), None if self.text is None else dict(self.text))
        fresh.validate()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path / WAV_SCP, format_table(fresh.wav_scp, WAV_SCP))
        atomic_write_text(path / UTT2SPK, format_table(fresh.utt2spk, UTT2SPK))
        atomic_write_text(path / SPK2UTT, "".join(f"{s} {' '.join(u)}\n" for s, u in fresh.spk2utt.items()))
        if fresh.text is not None:
            atomic_write_text(path / TEXT, format_table(fresh.text, TEXT))
        elif (path / TEXT).exists():
            log.info("%s: removing stale text (this data dir has no transcripts)", path / TEXT)
            (path / TEXT).unlink()

    # ------------------------------------------------------------ selection
    def subset(self, utts: Iterable[str]) -> "DataDir":
        """A new dir with only ``utts`` (unknown ids are an error, not silently dropped)."""
        wanted = set(utts)
        unknown = sorted(wanted - set(self.wav_scp))
        if unknown:
            raise DataDirError([f"subset: unknown utterance {u!r}" for u in unknown])
        keep = [u for u in self.utts if u in wanted]
        text = None if self.text is None else {u: self.text[u] for u in keep if u in self.text}
        return DataDir({u: self.wav_scp[u] for u in keep}, {u: self.utt2spk[u] for u in keep if u in self.utt2spk}, text)

    def shard(self, num_shards: int, shard: int) -> "DataDir":
        """Shard ``shard`` (1-based, as Kaldi's ``JOB=1:N``) of ``num_shards`` contiguous blocks.

        Blocks of the sorted utterance list differ in size by at most one, so the union of all
        shards is the whole dir, each utterance is in exactly one, and the result depends only
        on the utterance ids (the same on every machine of an array job). With more shards
        than utterances the last shards are empty.
        """
        if num_shards < 1:
            raise ValueError(f"num_shards must be >= 1, got {num_shards}")
        if not 1 <= shard <= num_shards:
            raise ValueError(f"shard must be in 1..{num_shards} (1-based), got {shard}")
        utts = self.utts
        base, extra = divmod(len(utts), num_shards)  # the first `extra` shards get one more
        start = (shard - 1) * base + min(shard - 1, extra)
        stop = start + base + (1 if shard <= extra else 0)
        return self.subset(utts[start:stop])
