#!/usr/bin/env python3
"""Paired difference of one metric between two systems of a ``vc-evaluate`` scores.json.

Why: the stage-5 table gives each system's mean; whether two means really differ is a question
about the per-utterance differences (the same source utterance converted to the same target by
both systems), whose mean and standard error this prints.

Example (after stage 5 of ``egs/demo/run.sh``)::

    python egs/demo/local/paired_diff.py --scores egs/demo/exp/stargan_vc/scores.json \\
        --system stargan-vc --against baseline --metric f0_rmse_cents
"""
from __future__ import annotations

import argparse
import json
import math

import numpy as np


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scores", required=True, help="scores.json written by vc-evaluate")
    p.add_argument("--system", required=True, help="system label (as in the table)")
    p.add_argument("--against", required=True, help="the other system's label")
    p.add_argument("--metric", default="f0_rmse_cents",
                   help="per-utterance key: mcd_db, msd_db, f0_rmse_cents, f0_corr, vuv_error, spk_cos")
    args = p.parse_args()

    with open(args.scores, encoding="utf-8") as fh:
        report = json.load(fh)
    values: dict[str, dict[tuple[str, str], float]] = {}
    for row in report["utterances"]:
        v = row.get(args.metric)
        if v is not None and not row.get("error"):
            values.setdefault(row["system"], {})[(row["utt"], row["tgt_spk"])] = float(v)
    for name in (args.system, args.against):
        if name not in values:
            raise SystemExit(f"{args.scores}: no {args.metric} scores for system {name!r}; "
                             f"systems with it: {', '.join(sorted(values))}")
    keys = sorted(set(values[args.system]) & set(values[args.against]))
    if len(keys) < 2:
        raise SystemExit(f"fewer than 2 utterances scored for both {args.system} and {args.against}")
    diff = np.array([values[args.system][k] - values[args.against][k] for k in keys])
    se = float(diff.std(ddof=1) / math.sqrt(len(diff)))
    print(f"{args.metric}: {args.system} - {args.against} = {diff.mean():+.2f} +- {se:.2f} "
          f"(mean +- standard error over {len(diff)} paired utterances)")


if __name__ == "__main__":
    main()
