#!/usr/bin/env python3
"""How faithfully the F0 of converted audio survives re-analysis, for the model and the baseline.

Why: stage 5 scores log-F0 RMSE of converted speech against the target's reference, which mixes
three things: the F0 transform (the same for the model and the statistical baseline), the
alignment, and the re-analysis of resynthesized audio. This script isolates the last one: it
compares the F0 each system fed the vocoder (the source F0 after the log-Gaussian transform,
recomputed here) with the F0 the evaluation's own extractor finds in the written file, frame by
frame (conversion keeps the source's timing, so no alignment is needed).

Example (after stage 4 of ``egs/demo/run.sh``)::

    python egs/demo/local/f0_reanalysis.py --exp egs/demo/exp/stargan_vc --data egs/demo/data/eval
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vc.audio import load_audio
from vc.convert.converter import Converter
from vc.convert.manifest import read_manifest
from vc.data import DataDir
from vc.evaluate.align import align, nonsilent_frames
from vc.evaluate.f0_metrics import f0_scores
from vc.evaluate.pairs import ReferenceIndex
from vc.evaluate.scoring import spectral_features
from vc.features.mcep import mcep_to_sp

#: Upper edge of the band whose share of the envelope's energy is printed for unvoiced frames.
LOW_BAND_HZ = 700.0

SYSTEMS = {"stargan-vc": "convert", "baseline": "convert_baseline"}


def low_band_share_db(mcep: np.ndarray, conv: Converter) -> np.ndarray:
    """Per frame, 10 log10 of the envelope's energy below LOW_BAND_HZ over its total energy."""
    cfg = conv.feature_config.resolved()
    sp = mcep_to_sp(np.asarray(mcep, dtype=np.float64), cfg.fft_size, cfg.alpha)
    low = np.arange(sp.shape[1]) * cfg.sample_rate / cfg.fft_size < LOW_BAND_HZ
    return 10.0 * np.log10(sp[:, low].sum(axis=1) / sp.sum(axis=1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exp", required=True, help="model bundle with convert/ and convert_baseline/ (stage 4)")
    p.add_argument("--data", required=True, help="Kaldi data dir of the converted evaluation set")
    p.add_argument("--ref-data", help="Kaldi data dir of the references (parallel sentences): also score log-F0 "
                   "RMSE as stage 5 does, as found and without the spurious voicing")
    p.add_argument("--set", default="eval", help="name of the converted set under convert*/ (default: eval)")
    p.add_argument("--limit", type=int, default=0, help="first N conversions only (default: all)")
    args = p.parse_args()

    exp = Path(args.exp)
    conv = Converter.from_bundle(exp)
    data = DataDir.load(args.data)
    refs = ReferenceIndex(DataDir.load(args.ref_data)) if args.ref_data else None
    # every system's own manifest, keyed by conversion, so neither relies on the other's file names
    outputs = {system: {(r.utt, r.tgt_spk): r.path for r in read_manifest(exp / folder / args.set / "manifest.tsv")}
               for system, folder in SYSTEMS.items()}
    rows = read_manifest(exp / SYSTEMS["stargan-vc"] / args.set / "manifest.tsv")
    rows = rows[:args.limit] if args.limit else rows
    cents: dict[str, list[np.ndarray]] = {k: [] for k in SYSTEMS}
    counts = {k: np.zeros(3) for k in SYSTEMS}  # frames, voicing lost, spurious voicing
    scored: dict[str, list[tuple[float, float]]] = {k: [] for k in SYSTEMS}
    low_share: dict[str, list[np.ndarray]] = {"G": [], "statistical mapping": [], "source": []}
    for row in tqdm(rows, desc="re-analyse", unit="utt"):
        analysis = conv.analyze(load_audio(data.wav_scp[row.utt], conv.sample_rate), conv.sample_rate, row.src_spk,
                                name=row.utt)
        converted = conv.convert_features(analysis, row.tgt_spk)
        intended = converted.f0
        unvoiced = intended == 0
        spoken = np.zeros_like(unvoiced)
        spoken[nonsilent_frames(analysis.features.mcep)] = True  # the frames scoring keeps (not silence)
        envelopes = {"G": converted.mcep, "statistical mapping": conv.statistical_mapping(analysis, row.tgt_spk),
                     "source": analysis.features.mcep}
        for name, mcep in envelopes.items():
            low_share[name].append(low_band_share_db(mcep[unvoiced & spoken], conv))
        ref = None
        if refs is not None:
            ref_utt, _ = refs.find(row.utt, row.src_spk, row.tgt_spk)
            if ref_utt is not None:
                ref = spectral_features(load_audio(refs.ref.wav_scp[ref_utt], conv.sample_rate), conv.feature_config,
                                        row.tgt_spk)
        for system in SYSTEMS:
            wave = load_audio(outputs[system][row.utt, row.tgt_spk], conv.sample_rate)
            found, mcep = spectral_features(wave, conv.feature_config, row.tgt_spk)  # as vc-evaluate analyses it
            n = min(len(found), len(intended))
            a, b = intended[:n], found[:n]
            both = (a > 0) & (b > 0)
            cents[system].append(1200.0 * np.log2(b[both] / a[both]))
            counts[system] += [n, np.sum((a > 0) & (b == 0)), np.sum((a == 0) & (b > 0))]
            if ref is not None:
                path = align(ref[1], mcep)
                clean = found.copy()
                clean[:n][a == 0] = 0.0
                scored[system].append((f0_scores(ref[0], found, path).rmse_cents,
                                       f0_scores(ref[0], clean, path).rmse_cents))
    print(f"{len(rows)} conversions; F0 found in the output vs the F0 given to the vocoder")
    print(f"{'system':12s} {'frames':>7s} {'RMSE[cent]':>10s} {'|d|>100c[%]':>11s} {'V/UV[%]':>8s} "
          f"{'lost[%]':>8s} {'spurious[%]':>11s}")
    for system in SYSTEMS:
        d = np.concatenate(cents[system])
        frames, lost, spurious = counts[system]
        print(f"{system:12s} {len(d):7d} {np.sqrt(np.mean(d ** 2)):10.1f} {100 * np.mean(np.abs(d) > 100):11.2f} "
              f"{100 * (lost + spurious) / frames:8.2f} {100 * lost / frames:8.2f} {100 * spurious / frames:11.2f}")
    print(f"\nnon-silent frames given to the vocoder as unvoiced ({sum(map(len, low_share['G']))}): energy "
          f"below {LOW_BAND_HZ:g} Hz in the envelope [dB of the total]")
    for name, shares in low_share.items():
        v = np.concatenate(shares)
        print(f"  {name:20s} median {np.median(v):6.2f}  mean {np.mean(v):6.2f}")
    if refs is not None:
        print("\nlog-F0 RMSE [cent] as stage 5 scores it (mean over conversions with a reference): as found / "
              "spurious voicing removed")
        for system in SYSTEMS:
            v = np.array(scored[system], dtype=float)
            print(f"  {system:12s} {np.nanmean(v[:, 0]):6.1f} / {np.nanmean(v[:, 1]):6.1f}   ({len(v)} conversions)")


if __name__ == "__main__":
    main()
