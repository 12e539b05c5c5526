"""vc-resynth: WORLD copy synthesis of extracted features (the vocoder's quality ceiling)."""
from __future__ import annotations

import argparse
import logging
import sys

from vc.cli.common import add_jobs_option, add_verbose_option, cap_jobs, positive_int, run_command

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
    add_jobs_option(p)
    p.add_argument("--utts", type=positive_int, help="only the first N utterances (sorted by id); default: all")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_verbose_option(p)
    return p


def _run(args: argparse.Namespace) -> None:
    args.nj = cap_jobs(args.nj)
    if args.nj > 1:
        from vc.features.parallel import start_worker_server

        start_worker_server(["vc.vocoder.resynth"])  # its imports overlap this process's
    from vc.vocoder.resynth import resynthesize_dump

    summary = resynthesize_dump(args.feats, args.out, nj=args.nj, max_utts=args.utts, progress=not args.no_progress)
    log.info("wrote %d wav(s) to %s; %d failed", len(summary.written), args.out, len(summary.failed))
    if summary.failed:
        sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    return run_command(build_parser(), _run, argv)


if __name__ == "__main__":
    main()
