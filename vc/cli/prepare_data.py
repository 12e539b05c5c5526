"""vc-prepare-data: build a Kaldi data dir (wav.scp, utt2spk, spk2utt, text) from a corpus on disk."""
from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from vc.cli.common import add_verbose_option, run_command
from vc.data.corpora import LAYOUTS, CorpusError, prepare
from vc.data.corpora.vctk import MICS
from vc.data.corpora.xbmu_amdo31 import SUBSETS

log = logging.getLogger("vc.prepare_data")

EXAMPLES = """\
layouts:
  speaker-dirs  <root>/<speaker>/<stem>.{wav,flac,ogg,...} with optional <stem>.txt transcripts;
                utt id = <speaker>_<stem> (the stem alone if it already starts with <speaker>_ or <speaker>-)
  vctk          VCTK 0.80 (wav48/) or 0.92 (wav48_silence_trimmed/, --mic), detected; utt id pXXX_NNN
  xbmu-amdo31   data/wav/{train,dev,test}/<speaker>/<prefix>-<key>.wav + data/transcript/transcript_clean.txt

examples:
  vc-prepare-data --layout speaker-dirs --root ~/my_voices --out data/all
  vc-prepare-data --layout vctk --root corpus/VCTK-Corpus-0.92 --out data/all --num-speakers 4
  vc-prepare-data --layout vctk --root corpus/VCTK-Corpus --out data/all --speakers p225,p226,p231,p232
  vc-prepare-data --layout xbmu-amdo31 --root corpus/xbmu_amdo31 --out data/all --subsets train
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vc-prepare-data",
        description="Scan a speech corpus and write a Kaldi-style data dir (wav.scp, utt2spk, spk2utt, "
        "text) with absolute audio paths. Nothing in the corpus is modified.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--layout", required=True, choices=sorted(LAYOUTS), help="how the corpus is organised")
    parser.add_argument("--root", required=True, type=Path, help="corpus folder")
    parser.add_argument("--out", required=True, type=Path, help="data dir to write, e.g. data/all")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--speakers", help="comma-separated speaker ids to keep (default: all)")
    group.add_argument("--num-speakers", type=int, help="keep the N speakers with most utterances (ties: by name)")
    parser.add_argument("--mic", choices=MICS, help="vctk 0.92 only: microphone (default mic1)")
    parser.add_argument("--subsets", help=f"xbmu-amdo31 only: comma-separated subsets (default {','.join(SUBSETS)})")
    parser.add_argument("--check-audio", action="store_true",
                        help="read every audio header and stop with a list of unreadable/empty files")
    add_verbose_option(parser)
    return parser


def layout_options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict:
    """Options that belong to one layout; given with another layout they are an error, not ignored."""
    options: dict = {}
    if args.mic is not None:
        if args.layout != "vctk":
            parser.error("--mic applies to --layout vctk only")
        options["mic"] = args.mic
    if args.subsets is not None:
        if args.layout != "xbmu-amdo31":
            parser.error("--subsets applies to --layout xbmu-amdo31 only")
        options["subsets"] = tuple(s for s in args.subsets.split(",") if s)
    return options


def _run(args: argparse.Namespace) -> None:
    options = layout_options(args, build_parser())
    speakers = [s for s in args.speakers.split(",") if s] if args.speakers else None
    data = prepare(args.layout, args.root, speakers=speakers, num_speakers=args.num_speakers,
                   check_audio=args.check_audio, **options)
    out = os.path.abspath(args.out)
    inside = [p for p in data.wav_scp.values() if p.startswith(out + os.sep)]
    if inside or out == os.path.abspath(args.root):
        raise CorpusError(f"{args.out}: the output dir would be written into the corpus "
                          f"({inside[0] if inside else args.root}); choose another --out")
    data.save(args.out)
    n_text = len(data.text) if data.text else 0
    log.info("wrote %s: %d utterances, %d speakers, %d transcripts", args.out, len(data), len(data.speakers), n_text)


def main(argv: list[str] | None = None) -> None:
    return run_command(build_parser(), _run, argv)


if __name__ == "__main__":
    main()
