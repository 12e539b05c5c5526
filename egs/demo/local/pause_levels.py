#!/usr/bin/env python3
"""How loud the quiet frames of converted speech are, against the target speaker's recordings.

Why: StarGAN-VC's generator returns pauses too loud (``vc/convert/pauses.py``); this measures
it. For every converted file and every reference recording it takes c0 (the log gain) as the
evaluation analyses it and prints the 2nd, 10th and 50th percentiles relative to the utterance's
loudest frame, in dB, averaged per target speaker.

Example (after stage 4 of ``egs/demo/run.sh``)::

    python egs/demo/local/pause_levels.py --exp egs/demo/exp/stargan_vc --data egs/demo/data/eval
    # the network without the pause rule, beside it:
    cd egs/demo && vc-convert --model exp/stargan_vc --data data/eval --targets all --precision fp32 \
        --pause-db 0 --outdir exp/stargan_vc/convert_nopause/eval --nj 2
    python local/pause_levels.py --exp exp/stargan_vc --data data/eval \
        --manifest nopause=exp/stargan_vc/convert_nopause/eval/manifest.tsv \
        --manifest stargan-vc=exp/stargan_vc/convert/eval/manifest.tsv
"""
from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vc.audio import load_audio
from vc.convert.manifest import read_manifest
from vc.convert.pauses import DB_PER_NEPER
from vc.data import DataDir
from vc.evaluate.scoring import spectral_features
from vc.evaluate.settings import feature_config_from_model

SYSTEMS = {"stargan-vc": "convert", "baseline": "convert_baseline"}
PERCENTILES = (2, 10, 50)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exp", required=True, help="model bundle with convert/ and convert_baseline/ (stage 4)")
    p.add_argument("--data", required=True, help="Kaldi data dir of the reference recordings")
    p.add_argument("--set", default="eval", help="name of the converted set under convert*/ (default: eval)")
    p.add_argument("--manifest", action="append", default=[], metavar="LABEL=TSV",
                   help="score these conversions instead of the exp's (repeatable), e.g. "
                   "nopause=exp/stargan_vc/convert_nopause/eval/manifest.tsv")
    args = p.parse_args()

    exp = Path(args.exp)
    cfg = feature_config_from_model(exp)

    def levels(path: str, speaker: str) -> np.ndarray:
        _, mcep = spectral_features(load_audio(path, cfg.sample_rate), cfg, speaker)
        c0 = mcep[:, 0]
        return (np.percentile(c0, PERCENTILES) - c0.max()) * DB_PER_NEPER

    table: dict[str, dict[str, list[np.ndarray]]] = defaultdict(lambda: defaultdict(list))
    data = DataDir.load(args.data)
    for utt, path in tqdm(sorted(data.wav_scp.items()), desc="references"):
        table["recordings"][data.utt2spk[utt]].append(levels(path, data.utt2spk[utt]))
    manifests = dict(m.split("=", 1) for m in args.manifest) if args.manifest else {
        system: exp / folder / args.set / "manifest.tsv" for system, folder in SYSTEMS.items()}
    for system, manifest in manifests.items():
        for row in tqdm(read_manifest(manifest), desc=system):
            table[system][row.tgt_spk].append(levels(row.path, row.tgt_spk))

    head = " / ".join(f"p{q}" for q in PERCENTILES)
    print(f"c0 percentiles ({head}) in dB relative to each utterance's loudest frame, mean per speaker")
    for speaker in sorted(table["recordings"]):
        cells = [f"{name}: " + " / ".join(f"{v:6.1f}" for v in np.mean(table[name][speaker], axis=0))
                 for name in ("recordings", *manifests) if table[name].get(speaker)]
        print(f"{speaker:>8}  " + "   ".join(cells))


if __name__ == "__main__":
    main()
