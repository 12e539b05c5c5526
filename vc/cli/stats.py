"""vc-stats: per-speaker log-F0 and mel-cepstrum statistics of an extracted data set."""
from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

from vc.cli.common import add_verbose_option, run_command

log = logging.getLogger("vc-stats")

EPILOG = """\
For each speaker: mean and standard deviation of natural-log F0 over voiced frames, and of
every mel-cepstral coefficient over all frames (one streaming pass, float64). The result
(docs/formats.md, stats.npz) normalizes training data and drives the F0 transform.

example:
  vc-stats --data data/train --feats dump/train                # writes dump/train/stats.npz
  vc-stats --data data/train --feats dump/train --out exp/stats.npz
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vc-stats",
        description="Compute per-speaker normalization statistics from vc-extract features.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", required=True, help="data dir (its utt2spk assigns utterances to speakers)")
    p.add_argument("--feats", required=True, help="feature dump written by vc-extract (with feats.scp)")
    p.add_argument("--out", help="output stats file (default: FEATS/stats.npz)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_verbose_option(p)
    return p


def _run(args: argparse.Namespace) -> None:
    from vc.data import DataDir
    from vc.features import read_feats_scp
    from vc.features.stats import stats_from_files

    out = Path(args.out) if args.out else Path(args.feats) / "stats.npz"
    data = DataDir.load(args.data)
    feats = read_feats_scp(args.feats)
    lacking = [u for u in data.utts if u not in feats]
    if lacking:
        log.warning("%d of %d utterance(s) of %s have no features (failed extraction? see %s/failed.txt): %s%s",
                    len(lacking), len(data.utts), args.data, args.feats, ", ".join(lacking[:5]),
                    " ..." if len(lacking) > 5 else "")
    used = {u: feats[u] for u in data.utts if u in feats}
    stats = stats_from_files(used, data.utt2spk, data.speakers, progress=not args.no_progress)
    stats.save(out)
    for i, spk in enumerate(stats.speakers):
        log.info("%s: %d frames (%d voiced), log-F0 %.3f +- %.3f (%.0f Hz)", spk, stats.num_frames[i],
                 stats.num_voiced[i], stats.lf0_mean[i], stats.lf0_std[i], math.exp(stats.lf0_mean[i]))
    log.info("wrote %s (%d speakers)", out, len(stats.speakers))


def main(argv: list[str] | None = None) -> None:
    return run_command(build_parser(), _run, argv)


if __name__ == "__main__":
    main()
