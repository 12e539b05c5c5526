"""Which reference each converted file is scored against.

A converted utterance is compared with the *same sentence* spoken by the target speaker, found
in the reference data dir by transcript (normalised so that case, punctuation and spacing do
not matter, in any script), or, for corpora without transcripts, by the utterance-id suffix
that parallel corpora share (``p225_001`` <-> ``p226_001``). Without such a reference the item
is non-parallel: MCD and F0 are skipped for it, speaker metrics are still computed.
"""
from __future__ import annotations

import logging
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from vc.convert.manifest import read_manifest
from vc.data import DataDir

log = logging.getLogger(__name__)

NONE_LABEL = "none"  # the "no conversion" floor: the source utterance scored as if converted
MATCH_TEXT, MATCH_SUFFIX, MATCH_NONE = "text", "utt-suffix", "none"
_SEPARATORS = "_-."


@dataclass(frozen=True)
class EvalItem:
    """One audio file to score as the output of ``system`` for (utt, src_spk -> tgt_spk)."""

    system: str
    utt: str
    src_spk: str
    tgt_spk: str
    path: str  # the converted file (the source file itself for the "none" system)
    ref_utt: str | None  # same sentence by tgt_spk in the reference data, if any
    ref_path: str | None
    match: str  # how ref_utt was found: "text", "utt-suffix" or "none"
    text: str | None  # the source utterance's transcript, for display

    @property
    def parallel(self) -> bool:
        return self.ref_path is not None


def normalize_text(text: str) -> str:
    """Transcript key for sentence matching: NFKC, case-folded, punctuation and spacing removed.

    Punctuation (any Unicode P* category, e.g. the Tibetan tsheg and shad) becomes a space
    before spaces are collapsed, so only the words themselves have to agree.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(" " if unicodedata.category(ch).startswith(("P", "Z", "C")) else ch for ch in text)
    return " ".join(text.split())


def utt_suffix(utt: str, speaker: str) -> str:
    """The part of an utterance id that names the sentence rather than the speaker.

    ``p225_001`` of speaker ``p225`` -> ``001``; an id that does not start with its speaker
    loses everything up to its first separator (``_``, ``-`` or ``.``), if it has one.
    """
    if utt.startswith(speaker) and len(utt) > len(speaker) and utt[len(speaker)] in _SEPARATORS:
        return utt[len(speaker):].lstrip(_SEPARATORS)
    parts = re.split(f"[{re.escape(_SEPARATORS)}]", utt, maxsplit=1)
    return parts[1] if len(parts) == 2 and parts[1] else utt


class ReferenceIndex:
    """Looks up, for a source utterance and a target speaker, the parallel reference utterance."""

    def __init__(self, ref: DataDir, src: DataDir | None = None) -> None:
        self.ref = ref
        self.src = src
        self._by_text: dict[tuple[str, str], list[str]] = {}
        self._by_suffix: dict[tuple[str, str], list[str]] = {}
        for utt in ref.utts:
            spk = ref.utt2spk[utt]
            if ref.text and utt in ref.text:
                self._by_text.setdefault((spk, normalize_text(ref.text[utt])), []).append(utt)
            self._by_suffix.setdefault((spk, utt_suffix(utt, spk)), []).append(utt)

    def source_text(self, utt: str) -> str | None:
        """The transcript of source utterance ``utt`` (from --src-data first, then --ref-data)."""
        for data in (self.src, self.ref):
            if data is not None and data.text and utt in data.text:
                return data.text[utt]
        return None

    def source_path(self, utt: str) -> str | None:
        """The audio of source utterance ``utt`` (from --src-data first, then --ref-data)."""
        for data in (self.src, self.ref):
            if data is not None and utt in data.wav_scp:
                return data.wav_scp[utt]
        return None

    def find(self, utt: str, src_spk: str, tgt_spk: str) -> tuple[str | None, str]:
        """(reference utterance id or None, how it was matched)."""
        text = self.source_text(utt)
        if text is not None and self.ref.text:
            found = self._by_text.get((tgt_spk, normalize_text(text)), [])
            return (found[0], MATCH_TEXT) if found else (None, MATCH_NONE)
        found = self._by_suffix.get((tgt_spk, utt_suffix(utt, src_spk)), [])
        return (found[0], MATCH_SUFFIX) if found else (None, MATCH_NONE)


def default_labels(manifests: list[str | os.PathLike]) -> list[str]:
    """A label per manifest from its folder name (``exp/m1/converted/manifest.tsv`` -> ``converted``),
    made unique with a counter; used when --label is not given."""
    labels: list[str] = []
    for m in manifests:
        p = Path(m).resolve()
        base = p.parent.name or p.stem
        label, k = base, 2
        while label in labels or label == NONE_LABEL:
            label, k = f"{base}{k}", k + 1
        labels.append(label)
    return labels


def build_items(manifests: dict[str, str | os.PathLike], index: ReferenceIndex, *,
                floor: bool = True, allow_outside: bool = False) -> tuple[list[EvalItem], list[str]]:
    """Items for every manifest row, plus one "none" item per distinct (utt, src, tgt).

    Returns the items and a list of warnings (e.g. source utterances whose audio is unknown,
    so that no floor can be computed for them).
    """
    if NONE_LABEL in manifests:
        raise ValueError(f"label {NONE_LABEL!r} is reserved for the no-conversion floor; choose another --label")
    items: list[EvalItem] = []
    seen: dict[tuple[str, str, str], None] = {}
    warnings: list[str] = []
    no_audio: list[str] = []
    unknown_targets: set[str] = set()
    ref_speakers = set(index.ref.utt2spk.values())
    for label, manifest in manifests.items():
        rows = read_manifest(manifest, allow_outside=allow_outside)
        if not rows:
            warnings.append(f"{manifest}: manifest lists no converted files")
        for row in rows:
            known_spk = (index.src.utt2spk.get(row.utt) if index.src else None) or index.ref.utt2spk.get(row.utt)
            if known_spk is not None and known_spk != row.src_spk:
                warnings.append(f"{manifest}: {row.utt}: manifest says source speaker {row.src_spk!r}, "
                                f"the data dir says {known_spk!r}")
            if row.tgt_spk not in ref_speakers:
                unknown_targets.add(row.tgt_spk)
            ref_utt, how = index.find(row.utt, row.src_spk, row.tgt_spk)
            common = dict(utt=row.utt, src_spk=row.src_spk, tgt_spk=row.tgt_spk, ref_utt=ref_utt,
                          ref_path=index.ref.wav_scp[ref_utt] if ref_utt else None, match=how,
                          text=index.source_text(row.utt))
            items.append(EvalItem(system=label, path=row.path, **common))
            key = (row.utt, row.src_spk, row.tgt_spk)
            if floor and key not in seen:
                seen[key] = None
                src_path = index.source_path(row.utt)
                if src_path is None:
                    no_audio.append(row.utt)
                else:
                    items.append(EvalItem(system=NONE_LABEL, path=src_path, **common))
    if unknown_targets:
        warnings.append(f"target speaker(s) {', '.join(sorted(unknown_targets))} have no utterance in the reference "
                        "data: no reference, no centroid (speaker similarity undefined, speaker-ID counted wrong)")
    if no_audio:
        uniq = sorted(set(no_audio))
        warnings.append(f"no-conversion floor skipped for {len(uniq)} source utterance(s) whose audio is in neither "
                        f"--ref-data nor --src-data: {' '.join(uniq[:5])}{' ...' if len(uniq) > 5 else ''}")
    return items, warnings
