"""Held-out assessment of a voice model with its own speaker classifier, and validation samples.

Two accuracies over fixed, non-overlapping segments of a held-out dump (what ``vc-assess``
prints and what training logs at every sample step):

* ``real``: C's speaker decision on real segments (is C a trustworthy judge?);
* ``converted-as-target``: C's decision on G's conversion of every segment to every other
  speaker, counted correct when it names the *target* (does G change the speaker?).

:func:`write_samples` converts a few held-out utterances to audio for listening. Both take the
model's conversion as a function, so any voice model with a speaker classifier can use them.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from vc.features import SpeakerStats, load_features
from vc.voice.data import SpeakerCorpus, fixed_segments, list_dump

log = logging.getLogger(__name__)

#: ``convert(x, source, target, voiced)``: normalised segments ``(B, Q, N)`` of speakers
#: ``source`` converted to ``target`` (``(B,)``), with the frames' voicing ``(B, N)``.
SegmentConversion = Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]

#: ``convert_mcep(mcep, source, target, voiced)``: one utterance's MCEP ``(T, Q)`` converted
#: from speaker index ``source`` to ``target`` and de-normalised with the target's statistics.
UtteranceConversion = Callable[[np.ndarray, int, int, np.ndarray], np.ndarray]


@torch.no_grad()
def held_out_accuracy(convert: SegmentConversion, classify: Callable[[Tensor], Tensor], corpus: SpeakerCorpus,
                      segment: int, max_segments: int | None, device: torch.device,
                      batch_size: int = 32) -> dict[str, float]:
    """C's accuracy on real segments, and on G's conversions of them to every other speaker
    scored against the *target* speaker. Both are over fixed, non-overlapping segments.

    ``classify`` returns per-segment logits ``(B, K, S)``, aggregated as the product of the
    per-segment probabilities."""
    x, spk, voiced = fixed_segments(corpus, segment, max_segments)
    k = len(corpus.speakers)
    real_ok = conv_ok = conv_n = 0
    for i in range(0, len(x), batch_size):
        xb, sb, vb = (t[i:i + batch_size].to(device) for t in (x, spk, voiced))
        real_ok += int((classify(xb).float().log_softmax(1).sum(-1).argmax(1) == sb).sum())
        for shift in range(1, k):
            tgt = (sb + shift) % k
            fake = convert(xb, sb, tgt, vb)
            conv_ok += int((classify(fake).float().log_softmax(1).sum(-1).argmax(1) == tgt).sum())
            conv_n += len(tgt)
    n = max(len(x), 1)
    return {"acc_real": real_ok / n, "acc_converted": conv_ok / max(conv_n, 1), "segments": float(len(x))}


def write_samples(convert_mcep: UtteranceConversion, corpus: SpeakerCorpus, stats: SpeakerStats, dump_dir: Path,
                  out_dir: Path, num: int) -> list[Path]:
    """Convert ``num`` utterances (spread over speakers) to another speaker and write WAVs.

    MCEP through ``convert_mcep``, log-Gaussian F0 conversion, the source's band aperiodicity,
    WORLD synthesis.
    """
    from vc.audio import write_audio
    from vc.convert.f0 import LogF0Stats, convert_f0
    from vc.vocoder import synthesize

    items = {u.utt: u for u in list_dump(dump_dir, stats.speakers, strict=False)}
    k = len(stats.speakers)
    # round-robin over speakers so every speaker appears once before any appears twice
    by_spk: dict[int, list[int]] = {}
    for i, s in enumerate(corpus.utt_speaker.tolist()):
        by_spk.setdefault(s, []).append(i)
    order = [lst[j] for j in range(max(map(len, by_spk.values()))) for lst in by_spk.values() if j < len(lst)]
    written = []
    for n, i in enumerate(order[:num]):
        utt = corpus.utts[i]
        src = int(corpus.utt_speaker[i])
        tgt = (src + 1 + n % (k - 1)) % k
        feats, fcfg = load_features(items[utt].path)
        if not feats.has_aperiodicity:
            log.warning("%s: features without aperiodicity (vc-extract --no-aperiodicity) cannot be synthesized; "
                        "no audio samples (give vc-train --dev-feats extracted with it)", dump_dir)
            break
        mcep = convert_mcep(feats.mcep, src, tgt, feats.voiced)
        f0 = convert_f0(feats.f0, LogF0Stats(float(stats.lf0_mean[src]), float(stats.lf0_std[src])),
                        LogF0Stats(float(stats.lf0_mean[tgt]), float(stats.lf0_std[tgt])))
        wave = synthesize(f0, mcep.astype(np.float64), feats.bap, fcfg)
        path = out_dir / f"{utt}_to_{stats.speakers[tgt]}.wav"
        write_audio(path, wave, fcfg.sample_rate)
        written.append(path)
    return written


def assess(exp: str | os.PathLike, feats: str | os.PathLike, stats_path: str | os.PathLike | None = None,
           device: str = "auto", checkpoint: str | os.PathLike | None = None,
           max_segments: int | None = None) -> dict[str, float]:
    """Accuracies of a bundle's C on held-out real segments and on conversions judged against the
    target (any voice model with a classifier C; the model's loader comes from the registry)."""
    from vc.gan.runtime import DistInfo, resolve_device
    from vc.voice.bundle import STATS, BundleError, load_voice_bundle
    from vc.gan.runtime import check_device

    exp = Path(exp)
    check_device(device, "--device")
    dev = resolve_device(device, DistInfo())
    bundle = load_voice_bundle(exp, dev, nets=("G", "C"), checkpoint=checkpoint)
    stats = SpeakerStats.load(stats_path or exp / STATS)
    if list(stats.speakers) != bundle.speakers:
        raise BundleError(f"{stats_path}: speakers differ from the model's ({exp / 'speakers.json'})")
    seg = bundle.config.data.segment_frames
    corpus = SpeakerCorpus.load(feats, stats, min_frames=seg, pad_mode=bundle.config.data.pad_mode, strict=False,
                                progress=False)
    result = held_out_accuracy(bundle.convert_segments, bundle.classify, corpus, seg, max_segments, dev)
    result["utterances"] = float(len(corpus.utts))
    return result
