"""vc-resynth: WORLD copy synthesis of extracted features (the vocoder's quality ceiling)."""
from __future__ import annotations

import argparse
import logging
import sys

from vc.logutil import setup_logging

log = logging.getLogger("vc-resynth")

EPILOG = """\
Writes OUT/<utt>.wav (atomically) plus OUT/wav.scp and OUT/utt2spk, so OUT is a data dir that
vc-evaluate can score against the originals. Exit status 1 if any utterance failed.

example:
  vc-resynth --feats dump/train --out exp/resynth/train --utts 20 --nj 4
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vc-resynth",
        description="Resynthesize utterances from their vc-extract features with the WORLD vocoder.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--feats", required=True, help="feature dump written by vc-extract (with feats.scp)")
    p.add_argument("--out", required=True, help="output dir for the wavs")
    p.add_argument("--nj", type=int, default=1, help="parallel worker processes (default: 1)")
    p.add_argument("--utts", type=int, help="only the first N utterances (sorted by id); default: all")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    if args.nj < 1:
        parser.error("--nj must be >= 1")
    if args.utts is not None and args.utts < 1:
        parser.error("--utts must be >= 1")
    if args.nj > 1:
        from vc.features.parallel import start_worker_server

        start_worker_server(["vc.vocoder.resynth"])  # its imports overlap this process's
    from vc.data import DataDirError
    from vc.features import FeatureFileError
    from vc.vocoder.resynth import resynthesize_dump

    try:
        summary = resynthesize_dump(args.feats, args.out, nj=args.nj, max_utts=args.utts, progress=not args.no_progress)
    except (DataDirError, FeatureFileError) as e:
        log.error("%s", e)
        sys.exit(1)
    log.info("wrote %d wav(s) to %s; %d failed", len(summary.written), args.out, len(summary.failed))
    if summary.failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
