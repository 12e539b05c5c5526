"""Train/dev/eval splits of a data dir that never let an evaluation sentence leak into training.

With ``by="sentence"`` all recordings of one sentence (by any speaker) go to the same split, so
the model is scored on sentences it never heard, and dev/eval take the sentences spoken by
the most speakers so that conversions have parallel references for MCD. ``by="utterance"``
is for corpora where every utterance is a different sentence.
"""
from __future__ import annotations

import logging
import random
import unicodedata
from collections import Counter

from vc.data.datadir import DataDir
from vc.errors import VCError

log = logging.getLogger(__name__)

SPLITS = ("train", "dev", "eval")


class SplitError(VCError, ValueError):
    """The requested split is impossible (too few sentences, a speaker would lose all training data, ...)."""


def sentence_key(text: str) -> str:
    """What makes two transcripts "the same sentence": NFKC, case-folded, without punctuation or spaces.

    Spaces go too because scripts differ in how they use them (Tibetan separates syllables with
    the tsheg, a punctuation mark, and transcribers vary between it and a space).
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith(("P", "Z", "C")) and not ch.isspace())


def default_mode(data: DataDir) -> str:
    """``sentence`` when every utterance has a transcript, else ``utterance``."""
    return "sentence" if data.text is not None and all(u in data.text for u in data.utts) else "utterance"


def _check_counts(n_dev: int, n_eval: int) -> None:
    if n_dev < 0 or n_eval < 0:
        raise SplitError(f"--dev and --eval must be >= 0, got {n_dev} and {n_eval}")


def split_by_sentence(data: DataDir, n_dev: int, n_eval: int, seed: int = 0) -> dict[str, DataDir]:
    """Hold out ``n_eval`` + ``n_dev`` sentences (not utterances); eval gets the most widely spoken.

    Sentences are ranked by how many speakers said them (ties in seeded random order) and taken
    greedily, skipping any sentence whose removal would leave a speaker with no training data.
    """
    _check_counts(n_dev, n_eval)
    untranscribed = [u for u in data.utts if data.text is None or u not in data.text]
    if untranscribed:
        raise SplitError(
            f"{len(untranscribed)} utterance(s) have no transcript (e.g. {untranscribed[0]}), so sentences cannot be "
            "kept apart; use --by utterance or prepare a subset of transcribed speakers"
        )
    assert data.text is not None
    groups: dict[str, list[str]] = {}
    for utt in data.utts:
        groups.setdefault(sentence_key(data.text[utt]), []).append(utt)
    needed = n_dev + n_eval
    if needed > len(groups) - 1:
        raise SplitError(f"asked for {n_eval} eval + {n_dev} dev sentences but the data has {len(groups)} distinct sentences "
                         "(at least one must stay for training)")
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    keys.sort(key=lambda k: -len({data.utt2spk[u] for u in groups[k]}))  # stable: ties keep the seeded order
    train_left = Counter(data.utt2spk[u] for u in data.utts)
    picked: list[str] = []
    for key in keys:
        if len(picked) == needed:
            break
        take = Counter(data.utt2spk[u] for u in groups[key])
        if all(train_left[s] > n for s, n in take.items()):
            picked.append(key)
            train_left.subtract(take)
    if len(picked) < needed:
        raise SplitError(f"only {len(picked)} sentences can be held out without leaving a speaker with no training "
                         f"data; asked for {needed} (lower --dev/--eval)")
    held = {"eval": picked[:n_eval], "dev": picked[n_eval:]}
    sets = {name: [u for k in held[name] for u in groups[k]] for name in ("dev", "eval")}
    held_utts = set(sets["dev"]) | set(sets["eval"])
    sets["train"] = [u for u in data.utts if u not in held_utts]
    for name in ("dev", "eval"):
        if held[name]:
            spk = [len({data.utt2spk[u] for u in groups[k]}) for k in held[name]]
            log.info("%s: %d sentences, %d utterances, %d to %d speakers per sentence",
                     name, len(held[name]), len(sets[name]), min(spk), max(spk))
    return {name: data.subset(sets[name]) for name in SPLITS}


def split_by_utterance(data: DataDir, n_dev: int, n_eval: int, seed: int = 0) -> dict[str, DataDir]:
    """Hold out ``n_eval`` + ``n_dev`` random utterances of every speaker.

    Each speaker's draw is seeded by ``(seed, speaker)``, so adding or removing a speaker does
    not change the split of the others.
    """
    _check_counts(n_dev, n_eval)
    short = [f"{s} ({len(u)})" for s, u in data.spk2utt.items() if len(u) <= n_dev + n_eval]
    if short:
        raise SplitError(f"speaker(s) with no utterance left for training after {n_eval} eval + {n_dev} dev per speaker: "
                         + ", ".join(short))
    sets: dict[str, list[str]] = {name: [] for name in SPLITS}
    for spk, utts in data.spk2utt.items():
        order = list(utts)
        random.Random(f"{seed}:{spk}").shuffle(order)
        sets["eval"] += order[:n_eval]
        sets["dev"] += order[n_eval:n_eval + n_dev]
        sets["train"] += order[n_eval + n_dev:]
    return {name: data.subset(sets[name]) for name in SPLITS}


def split(data: DataDir, n_dev: int, n_eval: int, *, by: str | None = None, seed: int = 0) -> dict[str, DataDir]:
    """``{"train", "dev", "eval"}`` data dirs; ``by`` None picks :func:`default_mode`."""
    mode = by or default_mode(data)
    if mode == "sentence":
        return split_by_sentence(data, n_dev, n_eval, seed)
    if mode == "utterance":
        return split_by_utterance(data, n_dev, n_eval, seed)
    raise SplitError(f"unknown split mode {mode!r}; use 'sentence' or 'utterance'")
