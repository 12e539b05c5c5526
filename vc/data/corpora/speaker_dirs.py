"""Layout ``speaker-dirs``: ``<root>/<speaker>/<stem>.<audio ext>`` with optional ``<stem>.txt``.

The generic layout for a user's own recordings: one folder per speaker, any audio format
libsndfile reads, and an optional transcript next to each file.
"""
from __future__ import annotations

import logging
from pathlib import Path

from vc.audio import AUDIO_EXTENSIONS
from vc.data.corpora.common import CorpusError, Utterance, list_audio, make_utt_id, read_text_file, sanitize_id

log = logging.getLogger(__name__)


def find_utterances(root: Path) -> list[Utterance]:
    """Every audio file one level below ``root``; the folder name is the speaker.

    utt id = ``<speaker>_<stem>`` unless the stem already starts with ``<speaker>_`` or
    ``<speaker>-`` (see :func:`make_utt_id`); whitespace in names becomes ``_``.
    """
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"{root}: not a directory")
    problems: list[str] = []
    utterances: list[Utterance] = []
    speaker_dirs: dict[str, Path] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        speaker = sanitize_id(folder.name)
        if speaker in speaker_dirs:
            problems.append(f"{folder}: speaker id {speaker!r} is also used by {speaker_dirs[speaker]}; rename one folder")
            continue
        files = list_audio(folder)
        if not files:
            log.info("%s: no audio files, skipped", folder)
            continue
        speaker_dirs[speaker] = folder
        for path in files:
            txt = path.with_suffix(".txt")
            text = read_text_file(txt, problems) if txt.is_file() else None
            utterances.append(Utterance(make_utt_id(speaker, path.stem), speaker, path, text))
    if problems:
        raise CorpusError(problems)
    if not utterances:
        loose = list_audio(root)
        hint = f" ({len(loose)} audio files lie directly in it: put each speaker's files in its own folder)" if loose else ""
        raise CorpusError(
            f"{root}: no audio found in <root>/<speaker>/ (extensions: {', '.join(sorted(AUDIO_EXTENSIONS))}){hint}"
        )
    return utterances
