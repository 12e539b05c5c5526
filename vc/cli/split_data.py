"""vc-split-data: split a data dir into train/dev/eval without sentence leakage."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from vc.cli.common import add_verbose_option, run_command
from vc.data import DataDir
from vc.data.split import SPLITS, SplitError, default_mode, split

log = logging.getLogger("vc.split_data")

EXAMPLES = """\
modes:
  sentence   (default when every utterance has a transcript) the same sentence, by any speaker,
             always lands in one split; --dev/--eval count SENTENCES; dev/eval take the sentences
             spoken by the most speakers, so converted eval utterances have parallel references
  utterance  --dev/--eval count UTTERANCES PER SPEAKER, drawn at random

examples:
  vc-split-data --data data/all --out-dir data --dev 5 --eval 10
  vc-split-data --data data/all --out-dir data --dev 2 --eval 5 --by utterance --seed 1
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vc-split-data",
        description="Split a data dir into <out-dir>/train, <out-dir>/dev and <out-dir>/eval. "
        "Deterministic for a given --seed; every speaker keeps training data.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", required=True, type=Path, help="data dir to split (read only)")
    parser.add_argument("--out-dir", required=True, type=Path, help="where train/, dev/ and eval/ are written")
    parser.add_argument("--dev", required=True, type=int, help="dev size (sentences, or utterances per speaker)")
    parser.add_argument("--eval", required=True, type=int, help="eval size (sentences, or utterances per speaker)")
    parser.add_argument("--by", choices=("sentence", "utterance"), help="split unit (default: see below)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    add_verbose_option(parser)
    return parser


def _run(args: argparse.Namespace) -> None:
    data = DataDir.load(args.data)
    outputs = {name: args.out_dir / name for name in SPLITS}
    clash = [str(p) for p in outputs.values() if p.resolve() == args.data.resolve()]
    if clash:
        raise SplitError(f"{clash[0]}: output would overwrite the input data dir; choose another --out-dir")
    mode = args.by or default_mode(data)
    log.info("splitting %s by %s (seed %d)", args.data, mode, args.seed)
    sets = split(data, args.dev, args.eval, by=mode, seed=args.seed)
    for name, subset in sets.items():
        subset.save(outputs[name])
        log.info("wrote %s: %d utterances, %d speakers", outputs[name], len(subset), len(subset.speakers))


def main(argv: list[str] | None = None) -> None:
    return run_command(build_parser(), _run, argv)


if __name__ == "__main__":
    main()
