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
from vc.features.world import extract_f0

SYSTEMS = {"stargan-vc": "convert", "baseline": "convert_baseline"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exp", required=True, help="model bundle with convert/ and convert_baseline/ (stage 4)")
    p.add_argument("--data", required=True, help="Kaldi data dir of the converted evaluation set")
    p.add_argument("--set", default="eval", help="name of the converted set under convert*/ (default: eval)")
    p.add_argument("--limit", type=int, default=0, help="first N conversions only (default: all)")
    args = p.parse_args()

    exp = Path(args.exp)
    conv = Converter.from_bundle(exp)
    data = DataDir.load(args.data)
    # every system's own manifest, keyed by conversion, so neither relies on the other's file names
    outputs = {system: {(r.utt, r.tgt_spk): r.path for r in read_manifest(exp / folder / args.set / "manifest.tsv")}
               for system, folder in SYSTEMS.items()}
    rows = read_manifest(exp / SYSTEMS["stargan-vc"] / args.set / "manifest.tsv")
    rows = rows[:args.limit] if args.limit else rows
    cents: dict[str, list[np.ndarray]] = {k: [] for k in SYSTEMS}
    vuv: dict[str, list[float]] = {k: [] for k in SYSTEMS}
    for row in tqdm(rows, desc="re-analyse", unit="utt"):
        analysis = conv.analyze(load_audio(data.wav_scp[row.utt], conv.sample_rate), conv.sample_rate, row.src_spk,
                                name=row.utt)
        intended = conv.convert_features(analysis, row.tgt_spk).f0
        for system in SYSTEMS:
            wave = load_audio(outputs[system][row.utt, row.tgt_spk], conv.sample_rate)
            found, _ = extract_f0(wave, conv.feature_config, row.tgt_spk)  # as vc-evaluate analyses a conversion
            n = min(len(found), len(intended))
            a, b = intended[:n], found[:n]
            both = (a > 0) & (b > 0)
            cents[system].append(1200.0 * np.log2(b[both] / a[both]))
            vuv[system].append(float(np.mean((a > 0) != (b > 0))))
    print(f"{len(rows)} conversions; F0 found in the output vs the F0 given to the vocoder")
    print(f"{'system':12s} {'frames':>7s} {'RMSE[cent]':>10s} {'|d|>100c[%]':>11s} {'V/UV[%]':>8s}")
    for system in SYSTEMS:
        d = np.concatenate(cents[system])
        print(f"{system:12s} {len(d):7d} {np.sqrt(np.mean(d ** 2)):10.1f} {100 * np.mean(np.abs(d) > 100):11.2f} "
              f"{100 * np.mean(vuv[system]):8.2f}")


if __name__ == "__main__":
    main()
