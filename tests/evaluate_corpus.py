"""A tiny parallel corpus of synthetic speakers for the evaluation tests.

A "speaker" is a vocal-tract length and an F0: the speech-like test signal is rendered at a
scaled sample rate and played at the corpus rate, which moves every formant (so mel-cepstra
differ between speakers) and changes the duration (so DTW has work to do). A "sentence" is
a vowel sequence. Converted files are simulated by rendering the *target* speaker with a
different noise seed and a slightly wrong F0, i.e. a good but imperfect conversion.
"""
from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import soundfile as sf

from vc.convert.manifest import ManifestRow, write_manifest
from vc.data import DataDir
from vc.features.testsignal import speech_like

SR = 16000
SPEAKERS = {"spkA": (1.00, 120.0), "spkB": (1.18, 210.0)}  # (formant scale, mean F0)
SENTENCES = {"s01": ("aiu", "a i u"), "s02": ("eau", "e a u")}


def voice(speaker: str, sentence: str, *, seed: int = 0, f0_scale: float = 1.0, duration: float = 0.6) -> np.ndarray:
    scale, f0 = SPEAKERS[speaker]
    vowels = SENTENCES[sentence][0]
    # render at SR/scale and play at SR: formants * scale, duration / scale
    wave, _ = speech_like(duration, int(round(SR / scale)), f0 * f0_scale / scale, vowels=vowels, seed=seed)
    return wave


def make_corpus(root: Path, *, with_text: bool = True, text_style: str = "plain", utt_fmt: str = "{spk}_{sent}",
                texts: dict[str, str] | None = None) -> Path:
    """Write ``root/data/ref`` (every speaker says every sentence) and return the data dir path.

    ``utt_fmt`` names utterances; ``texts`` overrides the transcript of a sentence.
    """
    wav_scp, utt2spk, text = {}, {}, {}
    for spk in SPEAKERS:
        for sent, (_, words) in SENTENCES.items():
            utt = utt_fmt.format(spk=spk, sent=sent)
            path = root / "wav" / spk / f"{sent}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, voice(spk, sent, seed=zlib.crc32(utt.encode()) % 1000), SR)
            wav_scp[utt], utt2spk[utt] = str(path), spk
            # a different spelling per speaker: matching must normalise case/punctuation
            words = (texts or {}).get(sent, words)
            text[utt] = words.upper() + "." if (text_style == "messy" and spk == "spkB") else words
    data = root / "data" / "ref"
    DataDir(wav_scp=wav_scp, utt2spk=utt2spk, text=text if with_text else None).save(data)
    return data


def make_conversions(root: Path, name: str, *, quality: float = 0.03, pairs=(("spkA", "spkB"), ("spkB", "spkA")),
                     seed: int = 7, utt_fmt: str = "{spk}_{sent}") -> Path:
    """Simulated conversions of every sentence for ``pairs``; returns the manifest path.

    ``quality`` is the relative F0 error of the simulated conversion (0 = exact F0).
    """
    out = root / name
    rows = []
    for src, tgt in pairs:
        for sent in SENTENCES:
            utt = utt_fmt.format(spk=src, sent=sent)
            path = out / "wav" / f"{utt}-{tgt}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, voice(tgt, sent, seed=seed, f0_scale=1.0 + quality), SR)
            rows.append(ManifestRow(utt, src, tgt, str(path)))
    manifest = out / "manifest.tsv"
    write_manifest(manifest, rows)
    return manifest
