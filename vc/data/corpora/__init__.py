"""Corpus preparers: each walks one on-disk layout and yields utterances for a data dir.

``LAYOUTS`` maps the ``vc-prepare-data --layout`` name to the module function; adding a corpus
means adding one small module and one line here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from vc.data.corpora import speaker_dirs, vctk, xbmu_amdo31
from vc.data.corpora.common import CorpusError, Utterance, check_audio_headers, select_speakers, to_datadir
from vc.data.datadir import DataDir

LAYOUTS: dict[str, Callable[..., list[Utterance]]] = {
    "speaker-dirs": speaker_dirs.find_utterances,
    "vctk": vctk.find_utterances,
    "xbmu-amdo31": xbmu_amdo31.find_utterances,
}


def prepare(
    layout: str,
    root: str | Path,
    *,
    speakers: list[str] | None = None,
    num_speakers: int | None = None,
    check_audio: bool = False,
    **options: Any,
) -> DataDir:
    """A validated data dir for the corpus at ``root`` (see each layout module for its options).

    ``check_audio`` reads every selected file's header and raises one error listing all
    unreadable or empty files.
    """
    if layout not in LAYOUTS:
        raise CorpusError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
    data = to_datadir(LAYOUTS[layout](Path(root), **options))
    data = select_speakers(data, speakers, num_speakers)
    if check_audio:
        problems = check_audio_headers(data)
        if problems:
            raise CorpusError(problems + [f"{len(problems)} unreadable audio file(s); fix or remove them"])
    return data


__all__ = ["LAYOUTS", "CorpusError", "Utterance", "check_audio_headers", "prepare", "select_speakers", "to_datadir"]
