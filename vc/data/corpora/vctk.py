"""Layout ``vctk``: CSTR VCTK Corpus, release 0.80 or 0.92, detected from what is on disk.

- 0.80: ``wav48/pXXX/pXXX_NNN.wav``
- 0.92: ``wav48_silence_trimmed/pXXX/pXXX_NNN_mic1.flac`` (and ``_mic2``; one mic is chosen)

Both: transcripts in ``txt/pXXX/pXXX_NNN.txt``; utt id ``pXXX_NNN`` (the mic suffix is dropped
so that ids are the same in both releases). Utterances without a transcript (all of p315 in
0.80, a few files in 0.92) are kept: they are absent from ``text`` only.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path

from tqdm import tqdm

from vc.data.corpora.common import CorpusError, Utterance, list_audio, make_utt_id, read_text_file, sanitize_id

log = logging.getLogger(__name__)

RELEASES = {"0.92": "wav48_silence_trimmed", "0.80": "wav48"}
MICS = ("mic1", "mic2")
_MIC_STEM = re.compile(r"(?P<utt>.+)_(?P<mic>mic\d+)")


def detect(root: Path) -> tuple[str, Path]:
    """(release, corpus dir): ``root`` itself or a folder just inside it (e.g. ``VCTK-Corpus/``)."""
    for base in [root] + sorted(p for p in root.iterdir() if p.is_dir()):
        for release, wav_dir in RELEASES.items():
            if (base / wav_dir).is_dir():
                return release, base
    raise CorpusError(
        f"{root}: not a VCTK corpus: looked for wav48_silence_trimmed/ (release 0.92) or wav48/ "
        f"(release 0.80), with txt/, in {root} and the folders directly inside it"
    )


def find_utterances(root: Path, mic: str = "mic1") -> list[Utterance]:
    """All utterances of the release found under ``root``; ``mic`` applies to release 0.92 only."""
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"{root}: not a directory")
    if mic not in MICS:
        raise CorpusError(f"unknown microphone {mic!r}; VCTK 0.92 has {', '.join(MICS)}")
    release, base = detect(root)
    wav_root, txt_root = base / RELEASES[release], base / "txt"
    log.info("VCTK release %s at %s%s", release, base, f" ({mic})" if release == "0.92" else "")
    if not txt_root.is_dir():
        log.warning("%s: no txt/ folder, the data dir will have no transcripts", base)
    problems: list[str] = []
    utterances: list[Utterance] = []
    for spk_dir in tqdm(sorted(p for p in wav_root.iterdir() if p.is_dir()), desc="VCTK speakers", unit="spk"):
        speaker = sanitize_id(spk_dir.name)
        for path in list_audio(spk_dir):
            stem = path.stem
            if release == "0.92":
                match = _MIC_STEM.fullmatch(stem)
                if match is None or match["mic"] != mic:
                    continue
                stem = match["utt"]
            txt = txt_root / spk_dir.name / f"{stem}.txt"
            text = read_text_file(txt, problems) if txt.is_file() else None
            utterances.append(Utterance(make_utt_id(speaker, stem), speaker, path, text))
    if problems:
        raise CorpusError(problems)
    if not utterances:
        raise CorpusError(f"{wav_root}: no audio files found" + (f" for {mic}" if release == "0.92" else ""))
    untranscribed = sum(u.text is None for u in utterances)
    if untranscribed:
        log.info("%d of %d utterances have no transcript (kept, absent from text)", untranscribed, len(utterances))
    return utterances
