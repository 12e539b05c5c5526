"""Layout ``xbmu-amdo31``: the XBMU-AMDO31 Amdo Tibetan corpus (OpenSLR 133).

On disk: ``data/wav/{train,dev,test}/<speaker>/<prefix>-<key>.wav`` and one transcript file
``data/transcript/transcript_clean.txt`` with lines ``<key> <Tibetan text>``. The transcript is
looked up by ``<key>`` (the stem after its first ``-``, as the corpus's Kaldi recipe does), then
by the whole stem, then by the part after the last ``-``. The text is kept exactly as written
(Tibetan script, tsheg and inner spacing untouched); only the line end is removed.

utt id = ``<speaker>_<key>``, or ``<key>`` when it already starts with ``<speaker>_``/``<speaker>-``,
where ``<key>`` is always the stem after its first ``-`` (whichever way the transcript is keyed),
so that byte-sorted files group each speaker's utterances (Kaldi convention).
"""
from __future__ import annotations

import logging
from pathlib import Path

from tqdm import tqdm

from vc.data.corpora.common import CorpusError, Utterance, list_audio, make_utt_id, sanitize_id

log = logging.getLogger(__name__)

SUBSETS = ("train", "dev", "test")
TRANSCRIPT = Path("transcript") / "transcript_clean.txt"


def locate(root: Path) -> Path:
    """The corpus ``data/`` folder: ``root/data`` or ``root`` itself when it is that folder."""
    for data in (root / "data", root):
        if (data / "wav").is_dir():
            return data
    raise CorpusError(f"{root}: not an XBMU-AMDO31 corpus: looked for data/wav/{{{','.join(SUBSETS)}}}/<speaker>/*.wav "
                      f"and data/{TRANSCRIPT.as_posix()} (in {root} or {root / 'data'})")


def read_transcripts(path: Path) -> dict[str, str]:
    """``<key> <text>`` lines; every malformed line is reported, with its number, at once."""
    problems: list[str] = []
    texts: dict[str, str] = {}
    for lineno, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8").rstrip("\r\n").lstrip("\ufeff")
        except UnicodeDecodeError as exc:
            problems.append(f"{path}:{lineno}: not valid UTF-8 (byte offset {exc.start})")
            continue
        if not line.strip():
            continue
        parts = line.strip().split(maxsplit=1)
        if len(parts) < 2:
            log.warning("%s:%d: key %r without text, ignored", path, lineno, parts[0])
            continue
        key = parts[0]
        text = line.strip()[len(key):].strip()
        if key in texts and texts[key] != text:
            problems.append(f"{path}:{lineno}: key {key!r} appears again with a different text")
        texts[key] = text
    if problems:
        raise CorpusError(problems)
    return texts


def transcript_key(stem: str, texts: dict[str, str]) -> str | None:
    """The transcript key of a file stem ``<prefix>-<key>`` (see module doc), or None."""
    candidates = [stem.split("-", 1)[1]] if "-" in stem else []
    candidates += [stem, stem.rsplit("-", 1)[-1]]
    return next((c for c in candidates if c in texts), None)


def utt_key(stem: str) -> str:
    """The part of the stem that names the utterance: after the first ``-`` when there is one."""
    return stem.split("-", 1)[1] if "-" in stem else stem


def find_utterances(root: Path, subsets: tuple[str, ...] = SUBSETS) -> list[Utterance]:
    """Utterances of the chosen subsets (default all three: VC wants every speaker)."""
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"{root}: not a directory")
    unknown = [s for s in subsets if s not in SUBSETS]
    if unknown:
        raise CorpusError(f"unknown subset(s) {', '.join(unknown)}; XBMU-AMDO31 has {', '.join(SUBSETS)}")
    data = locate(root)
    transcript = data / TRANSCRIPT
    if not transcript.is_file():
        raise CorpusError(f"{transcript}: transcript file not found")
    texts = read_transcripts(transcript)
    problems: list[str] = []
    utterances: list[Utterance] = []
    for subset in subsets:
        folder = data / "wav" / subset
        if not folder.is_dir():
            archive = folder.with_name(f"{subset}.tar.gz")
            hint = f" (extract {archive} first: tar -xzf {archive.name})" if archive.is_file() else ""
            problems.append(f"{folder}: subset folder not found{hint}")
            continue
        for spk_dir in tqdm(sorted(p for p in folder.iterdir() if p.is_dir()), desc=f"xbmu-amdo31 {subset}", unit="spk"):
            speaker = sanitize_id(spk_dir.name)
            for path in list_audio(spk_dir):
                key = transcript_key(path.stem, texts)
                utt = make_utt_id(speaker, utt_key(path.stem))
                utterances.append(Utterance(utt, speaker, path, texts.get(key) if key else None))
    if problems:
        raise CorpusError(problems)
    missing = sum(u.text is None for u in utterances)
    if missing:
        log.warning("%d of %d files have no transcript in %s (kept, absent from text)", missing, len(utterances), transcript)
    return utterances
