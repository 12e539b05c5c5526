"""vc-evaluate: objective scores of converted speech (MCD, F0, speaker similarity) + a listening page."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from vc.cli.common import add_jobs_option, add_verbose_option, cap_jobs, run_command
from vc.errors import VCError
from vc.evaluate.align import DEFAULT_SILENCE_DB
from vc.evaluate.pairs import NONE_LABEL, default_labels
from vc.evaluate.speaker import ENCODERS

log = logging.getLogger("vc-evaluate")


class InputError(VCError):
    """Input vc-evaluate cannot score (a manifest, data dir, model or file that does not fit):
    exit status 2, apart from 1 for a run in which some utterances could not be scored."""

    exit_code = 2

EXAMPLE = """\
examples:
  vc-evaluate --manifest exp/demo/converted/manifest.tsv --ref-data data/eval --model exp/demo
  vc-evaluate --manifest exp/m1/conv/manifest.tsv --label stargan \\
              --manifest exp/base/conv/manifest.tsv --label baseline \\
              --ref-data data/eval --model exp/m1 --out scores.json --page samples/ --nj 4
  vc-evaluate --results-md RESULTS.md exp/m1/scores.json      # a recipe's RESULTS.md from its scores

The reference of a converted utterance is the same sentence spoken by the target speaker in
--ref-data (matched by transcript, or by utterance-id suffix when there is no `text`). The
source utterance itself is also scored against it (system "none"): the no-conversion floor.
Exit status: 0 when every utterance was scored, 1 when some failed (still written), 2 on bad input.
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vc-evaluate",
        description=(
            "Score converted utterances listed in conversion manifests against reference recordings:\n"
            "MCD (DTW-aligned, c0 and silence excluded), modulation spectrum distance (MSD: trajectories\n"
            "smoothed in time), log-F0 RMSE in cents, F0 correlation, V/UV error,\n"
            "speaker similarity and speaker-ID; per source/target pair and overall, next to the\n"
            "no-conversion floor. Prints a table, writes JSON, optionally builds an HTML sample page."),
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", action="append", metavar="TSV",
                   help="manifest.tsv written by vc-convert (repeat to compare systems in one table)")
    p.add_argument("--label", action="append", metavar="NAME",
                   help="name of the system of each --manifest, in the same order (default: the manifest's folder name)")
    p.add_argument("--ref-data", metavar="DIR",
                   help="Kaldi data dir of reference recordings (targets' same-sentence utterances, speaker centroids)")
    p.add_argument("--src-data", metavar="DIR",
                   help="data dir holding the source utterances, if they are not in --ref-data (for the 'none' floor)")
    feats = p.add_mutually_exclusive_group()
    feats.add_argument("--model", metavar="DIR", help="model bundle exp/NAME whose feature settings to analyse with")
    feats.add_argument("--feats-conf", metavar="YAML", help="feature config YAML (FeatureConfig) to analyse with")
    p.add_argument("--out", metavar="JSON",
                   help="where to write the scores (default: scores.json next to the first manifest)")
    p.add_argument("--page", metavar="DIR", help="also write an HTML listening page DIR/index.html (self-contained)")
    p.add_argument("--page-max-rows", type=int, default=2, metavar="N",
                   help="utterances per source/target pair on the page (default: %(default)s)")
    p.add_argument("--speaker-encoder", default="resemblyzer", choices=[*ENCODERS, "none"],
                   help="speaker embedding model: resemblyzer (needs the [eval] extra), mfcc (a crude baseline), "
                        "or none (default: %(default)s)")
    p.add_argument("--silence-db", type=float, default=DEFAULT_SILENCE_DB, metavar="DB",
                   help="frames more than this far below the loudest frame (c0 level) are silence, left out of "
                        "MCD/F0 (default: %(default)s)")
    p.add_argument("--allow-outside-paths", action="store_true",
                   help="accept manifests that list files outside their own folder (absolute or ../ paths); "
                        "refused by default, so that a foreign manifest cannot make this read and publish any file")
    p.add_argument("--cache-dir", metavar="DIR", default=None,
                   help="cache of reference analyses and embeddings (default: $XDG_CACHE_HOME/stargan-vc/evaluate, "
                        "else ~/.cache/stargan-vc/evaluate)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    add_jobs_option(p, "parallel processes (default: 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_verbose_option(p)
    results = p.add_argument_group(
        "RESULTS.md mode", "vc-evaluate --results-md OUT.md SCORES.json [...]: render a recipe's RESULTS.md (the "
        "environment each file recorded, and its score tables) from scores files of vc-evaluate or "
        "vc-img-evaluate; nothing is scored")
    results.add_argument("--results-md", metavar="OUT.md", help="write RESULTS.md from the SCORES files")
    results.add_argument("scores", nargs="*", metavar="SCORES.json", help="scores files, one section each")
    return p


def _results_md(args: argparse.Namespace) -> int:
    """--results-md: RESULTS.md from scores files (vc/evaluate/results.py)."""
    from vc.evaluate.results import write_results

    write_results(args.results_md, args.scores)
    log.info("wrote %s from %s", args.results_md, ", ".join(args.scores))
    return 0


def _run(args: argparse.Namespace) -> int:
    if args.results_md or args.scores:
        if not (args.results_md and args.scores) or args.manifest:
            build_parser().error("RESULTS.md mode takes --results-md OUT.md and scores files, and no --manifest")
        return _results_md(args)
    if not args.manifest or not args.ref_data:
        build_parser().error("the following arguments are required: --manifest, --ref-data")
    if args.page_max_rows < 1:
        log.error("--page-max-rows must be >= 1, got %d", args.page_max_rows)
        return 2
    labels = args.label or default_labels(args.manifest)
    if len(labels) != len(args.manifest):
        log.error("give one --label per --manifest (%d manifest(s), %d label(s))", len(args.manifest), len(labels))
        return 2
    if len(set(labels)) != len(labels) or NONE_LABEL in labels:
        log.error("labels must be distinct and not %r (reserved for the no-conversion floor): %s",
                  NONE_LABEL, ", ".join(labels))
        return 2
    missing = [m for m in args.manifest if not Path(m).is_file()]
    if missing:
        log.error("manifest not found: %s", ", ".join(missing))
        return 2

    from vc.evaluate.cache import default_cache_dir
    from vc.evaluate.pipeline import evaluate_manifests
    from vc.evaluate.report import write_report
    from vc.evaluate.settings import resolve_feature_config

    try:
        features, source = resolve_feature_config(args.model, args.feats_conf)
        log.info("feature settings from %s: %s", source, features.to_json())
        cache = None if args.no_cache else (args.cache_dir or default_cache_dir())
        result = evaluate_manifests(
            dict(zip(labels, args.manifest)), args.ref_data, features=features, src_data=args.src_data,
            silence_db=args.silence_db, speaker_encoder=None if args.speaker_encoder == "none" else args.speaker_encoder,
            cache_dir=cache, nj=cap_jobs(args.nj), progress=not args.no_progress, feature_source=source,
            allow_outside_paths=args.allow_outside_paths)
    except VCError as exc:
        raise InputError(str(exc)) from exc
    except OSError as exc:
        raise InputError(str(exc)) from exc

    sys.stdout.write(result.table)
    sys.stdout.flush()
    out = Path(args.out) if args.out else Path(args.manifest[0]).parent / "scores.json"
    write_report(out, result.report)
    log.info("scores written to %s", out)
    if args.page:
        from vc.evaluate.page import build_sample_page

        index = build_sample_page(args.page, result, max_rows_per_pair=args.page_max_rows,
                                  progress=not args.no_progress)
        log.info("sample page written to %s", index)
    if result.failures:
        log.error("%d utterance(s) could not be scored; see 'error' in %s", len(result.failures), out)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), _run, argv)


if __name__ == "__main__":
    sys.exit(main())
