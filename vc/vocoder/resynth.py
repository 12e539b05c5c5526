"""Copy synthesis of a feature dump: what the vocoder alone makes of the analysed features.

Listening to (or scoring) copy synthesis sets the ceiling that any conversion can reach with
these analysis settings, and catches analysis problems (wrong F0 range, FFT size) before a
model is trained on them.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from vc.audio import write_audio
from vc.data import read_scp, write_scp
from vc.features.parallel import imap_jobs
from vc.features.storage import load_features, read_feats_scp
from vc.vocoder.world import synthesize

log = logging.getLogger(__name__)


@dataclass
class ResynthSummary:
    written: dict[str, str] = field(default_factory=dict)  # utt -> wav path
    failed: dict[str, str] = field(default_factory=dict)  # utt -> reason


def _resynth_one(task: tuple[str, str, str]) -> tuple[str, str | None]:
    utt, npz, wav = task
    try:
        feats, cfg = load_features(npz)
        wave = synthesize(feats.f0, feats.mcep, feats.bap, cfg)
        write_audio(wav, wave, cfg.sample_rate)
    except Exception as e:  # noqa: BLE001 - recorded per utterance and reported by the caller
        return utt, f"{npz}: {type(e).__name__}: {e}"
    return utt, None


def resynthesize_dump(feats_dir: str | os.PathLike, out_dir: str | os.PathLike, *, nj: int = 1,
                      max_utts: int | None = None, progress: bool = True) -> ResynthSummary:
    """Synthesize every (or the first ``max_utts``, by id) utterance of a dump into ``out_dir``.

    ``out_dir`` becomes a small data dir: ``<utt>.wav``, ``wav.scp`` and (if the dump has one)
    ``utt2spk``, so it can be scored or listened to like any other set.
    """
    feats = read_feats_scp(feats_dir)
    utts = sorted(feats)[:max_utts] if max_utts is not None else sorted(feats)
    out_dir = Path(out_dir).absolute()
    out_dir.mkdir(parents=True, exist_ok=True)
    tasks = [(u, str(feats[u]), str(out_dir / f"{u}.wav")) for u in utts]
    summary = ResynthSummary()
    for utt, reason in imap_jobs(_resynth_one, tasks, nj, desc="resynth", progress=progress):
        if reason is None:
            summary.written[utt] = str(out_dir / f"{utt}.wav")
        else:
            log.warning("failed: %s", reason)
            summary.failed[utt] = reason
    if summary.written:
        write_scp(out_dir / "wav.scp", summary.written)
        utt2spk_path = Path(feats_dir) / "utt2spk"
        if utt2spk_path.is_file():
            utt2spk = read_scp(utt2spk_path)
            write_scp(out_dir / "utt2spk", {u: utt2spk[u] for u in summary.written if u in utt2spk})
    return summary
