"""vc-extract: WORLD features (F0, mel-cepstrum, band aperiodicity) for every utterance of a data dir."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from vc.cli.common import add_jobs_option, add_override_option, add_verbose_option, cap_jobs, run_command
from vc.config import load_config, parse_overrides

log = logging.getLogger("vc-extract")

EPILOG = """\
outputs (see docs/formats.md):
  OUT/<utt>.npz     float32 f0 (T,), mcep (T, D), bap (T, B) + the settings as JSON
                    (B = 0 with --no-aperiodicity: features for training only)
  OUT/feats.scp     <utt> <path to npz> for every utterance extracted
  OUT/failed.txt    <utt><TAB><reason> for every utterance that could not be analysed
  OUT/utt2spk       copy of the data dir's

A rerun skips utterances whose npz exists with the same settings, so an interrupted run
resumes where it stopped. Features made with other settings are never overwritten: the run
stops and asks for another --out (or for the old files to be deleted).

example:
  vc-extract --data data/train --out dump/train --conf conf/feats.yaml --nj 4

cluster (e.g. a Slurm array job): each task extracts one shard and writes feats.<i>.scp and
failed.<i>.txt; one merge step (same --conf) then writes feats.scp and failed.txt for the set:
  jid=$(sbatch --parsable --array=1-16 --wrap 'vc-extract --data data/train --out dump/train \\
      --conf conf/feats.yaml --num-shards 16 --shard $SLURM_ARRAY_TASK_ID --no-progress')
  sbatch --dependency=afterok:$jid --wrap \\
      'vc-extract --data data/train --out dump/train --conf conf/feats.yaml --merge'
(an un-sharded run instead of --merge also merges, and retries the failed utterances; a merge
that finds utterances neither extracted nor failed names them and exits 1.)

exit status: 0 on success; 1 when more than --max-fail-fraction of the utterances failed,
when --merge finds unfinished shards, or on bad input/settings.
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vc-extract",
        description="Analyse every utterance of a Kaldi data dir with WORLD (DIO+StoneMask or Harvest, "
        "CheapTrick, D4C) and store F0, mel-cepstrum and band aperiodicity, one npz per utterance.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", required=True, help="data dir with wav.scp and utt2spk")
    p.add_argument("--out", required=True, help="output dir (e.g. dump/train)")
    p.add_argument("--conf", help="feature config YAML (FeatureConfig fields); defaults if omitted")
    add_override_option(p, example="f0_method=harvest", old=("--override",))
    add_jobs_option(p)
    p.add_argument("--num-shards", type=int, default=1, help="split the data dir into this many shards")
    p.add_argument("--shard", type=int, help="which shard to extract (1-based, as Slurm/Kaldi JOB ids)")
    p.add_argument("--merge", action="store_true",
                   help="after sharded runs: write feats.scp/failed.txt for the whole set, computing nothing")
    p.add_argument("--max-fail-fraction", type=float, default=0.05,
                   help="exit non-zero when more than this fraction of utterances failed (default: 0.05)")
    p.add_argument("--no-aperiodicity", action="store_true",
                   help="skip D4C (about half of the analysis time) for features that only train a model: "
                   "bap is stored with no bands, and such features cannot be synthesized (give the same "
                   "option to --merge)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_verbose_option(p)
    return p


def _run(args: argparse.Namespace) -> None:
    if args.num_shards < 1 or (args.num_shards > 1) != (args.shard is not None):
        build_parser().error("--num-shards N > 1 and --shard i go together")
    if args.shard is not None and not 1 <= args.shard <= args.num_shards:
        build_parser().error(f"--shard must lie in 1..{args.num_shards}")
    if args.merge and args.shard is not None:
        build_parser().error("--merge runs once after all shards, without --shard")
    if Path(args.out).resolve() == Path(args.data).resolve():
        build_parser().error("--out must differ from --data (the data dir is input and is never written)")
    if not 0.0 <= args.max_fail_fraction <= 1.0:
        build_parser().error("--max-fail-fraction must lie in [0, 1]")
    args.nj = cap_jobs(args.nj)

    if args.nj > 1 and not args.merge:
        from vc.features.parallel import start_worker_server

        # the workers' server imports numpy/pyworld while this process imports its own below
        start_worker_server(["vc.features.extract"])

    # deferred so that --help is instant
    from vc.data import DataDir
    from vc.features import FeatureConfig
    from vc.features.extract import ExtractionError, extract_dir, index_names, merge_shards

    cfg = load_config(FeatureConfig, args.conf, parse_overrides(args.overrides)).resolved()
    data = DataDir.load(args.data)
    if not data.utts:
        raise ExtractionError(f"{args.data}: the data dir holds no utterances (its wav.scp is empty); "
                              "nothing to extract")
    log.info("settings: %s", cfg.to_json())
    if args.merge:
        summary = merge_shards(data, args.out, cfg, aperiodicity=not args.no_aperiodicity)
    else:
        summary = extract_dir(data, args.out, cfg, nj=args.nj, num_shards=args.num_shards, shard=args.shard,
                              progress=not args.no_progress, aperiodicity=not args.no_aperiodicity)
    where = f"shard {args.shard}/{args.num_shards}" if args.shard else args.data
    log.info("%s: %s", where, summary.describe())
    failed_list = Path(args.out) / index_names(args.num_shards, args.shard)[1]
    if summary.failed:
        shown = list(summary.failed.items())[:10]
        log.warning("failed utterances (all listed in %s):\n%s", failed_list,
                    "\n".join(f"  {u}: {r}" for u, r in shown) + ("\n  ..." if len(summary.failed) > 10 else ""))
    if summary.failed_fraction > args.max_fail_fraction:
        log.error("%d of %d utterance(s) failed (%.1f%% > --max-fail-fraction %.1f%%); the reasons are in %s",
                  len(summary.failed), summary.total, 100 * summary.failed_fraction, 100 * args.max_fail_fraction,
                  failed_list)
        sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    return run_command(build_parser(), _run, argv)


if __name__ == "__main__":
    main()
