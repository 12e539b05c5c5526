"""Pieces every corpus preparer shares: the utterance record, id rules, transcripts, speaker choice.

A preparer's only job is to walk its corpus layout and yield :class:`Utterance` records; turning
them into a valid data dir (unique ids, absolute paths, speaker subsets) happens here once, so
all layouts follow the same rules and report problems the same way.
"""
from __future__ import annotations

import logging
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import soundfile as sf
from tqdm import tqdm

from vc.audio import AUDIO_EXTENSIONS
from vc.data.datadir import DataDir
from vc.errors import VCError

log = logging.getLogger(__name__)


class CorpusError(VCError, ValueError):
    """The corpus on disk cannot be prepared; the message lists every problem, one per line."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Utterance:
    """One audio file of the corpus, already mapped to data-dir ids."""

    utt: str
    speaker: str
    path: Path
    text: str | None = None


def sanitize_id(name: str) -> str:
    """Turn a folder or file name into an id: runs of whitespace and '/' become '_'.

    Data-dir fields are whitespace separated and ids become file names, so a folder called
    "John Smith" becomes the speaker ``John_Smith`` (collisions are caught by :func:`to_datadir`).
    """
    return re.sub(r"[\s/]+", "_", name.strip())


def make_utt_id(speaker: str, stem: str) -> str:
    """``<speaker>_<stem>``, or the stem itself when it already starts with ``<speaker>_`` or ``<speaker>-``.

    Prefixing the speaker makes ids unique across speakers that reuse file names (``001.wav``)
    and makes byte-sorted files group each speaker's utterances together, as Kaldi expects.
    """
    stem = sanitize_id(stem)
    if stem.startswith((f"{speaker}_", f"{speaker}-")):
        return stem
    return f"{speaker}_{stem}"


def normalize_whitespace(text: str) -> str:
    """Collapse all whitespace (line breaks included) to single spaces, trim the ends."""
    return " ".join(text.split())


def read_text_file(path: Path, problems: list[str]) -> str | None:
    """A transcript file as one whitespace-normalised line; None when empty or undecodable.

    Undecodable files are recorded in ``problems`` (not raised) so that one run reports all of them.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: transcript is not valid UTF-8 (byte offset {exc.start})")
        return None
    except OSError as exc:
        problems.append(f"{path}: cannot read transcript ({exc.strerror})")
        return None
    text = normalize_whitespace(text)
    if not text:
        log.warning("%s: empty transcript, utterance kept without text", path)
        return None
    return text


def list_audio(folder: Path) -> list[Path]:
    """Audio files directly in ``folder`` (extension known to libsndfile, any case), sorted.

    Hidden files are skipped: macOS leaves ``._name.wav`` resource forks next to real audio.
    """
    return sorted(
        p for p in folder.iterdir()
        if not p.name.startswith(".") and p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file()
    )


def to_datadir(utterances: Iterable[Utterance]) -> DataDir:
    """Build a data dir with absolute paths; duplicate utterance ids are an error naming every file.

    ``text`` is None when no utterance has a transcript, otherwise it holds the transcribed ones
    (Kaldi ``text`` has no empty lines, so untranscribed utterances are simply absent).
    """
    by_id: dict[str, list[Utterance]] = {}
    for u in utterances:
        by_id.setdefault(u.utt, []).append(u)
    dups = {k: v for k, v in by_id.items() if len(v) > 1}
    if dups:
        raise CorpusError(
            [f"utterance id {k!r} is used by {len(v)} files: " + ", ".join(str(u.path) for u in v) for k, v in sorted(dups.items())]
            + ["utterance ids must be unique: rename the files or remove the duplicates"]
        )
    if not by_id:
        raise CorpusError("no utterances found")
    items = [v[0] for v in by_id.values()]
    texts = {u.utt: u.text for u in items if u.text}
    data = DataDir(
        wav_scp={u.utt: os.path.abspath(u.path) for u in items},
        utt2spk={u.utt: u.speaker for u in items},
        text=texts if texts else None,
    )
    data.validate()
    return data


def select_speakers(data: DataDir, speakers: list[str] | None = None, num_speakers: int | None = None) -> DataDir:
    """Keep the named ``speakers`` or the ``num_speakers`` with most utterances (ties: by name).

    Unknown names are an error listing the available speakers, never silently ignored.
    """
    if speakers is not None and num_speakers is not None:
        raise CorpusError("give either a speaker list or a number of speakers, not both")
    available = data.speakers
    if speakers is not None:
        unknown = [s for s in speakers if s not in available]
        if unknown:
            raise CorpusError(f"unknown speaker(s): {', '.join(unknown)}; available: {', '.join(available)}")
        chosen = set(speakers)
    elif num_speakers is not None:
        if not 1 <= num_speakers <= len(available):
            raise CorpusError(f"--num-speakers must be between 1 and {len(available)} (speakers found), got {num_speakers}")
        counts = Counter(data.utt2spk.values())
        chosen = set(sorted(available, key=lambda s: (-counts[s], s))[:num_speakers])
    else:
        return data
    return data.subset(u for u in data.utts if data.utt2spk[u] in chosen)


def check_audio_headers(data: DataDir) -> list[str]:
    """``path: reason`` for every file whose header libsndfile cannot read or that has no samples.

    Reads headers only (seconds for a whole corpus), so a broken download is found at
    preparation time instead of halfway through feature extraction.
    """
    problems = []
    for utt in tqdm(data.utts, desc="checking audio headers", unit="file"):
        path = data.wav_scp[utt]
        try:
            info = sf.info(path)
        except (sf.SoundFileError, RuntimeError) as exc:
            problems.append(f"{path}: unreadable audio ({exc})")
            continue
        if info.frames == 0:
            problems.append(f"{path}: empty audio (0 samples)")
    return problems
