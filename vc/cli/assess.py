"""vc-assess: held-out accuracies of a voice model bundle's own speaker classifier."""
from __future__ import annotations

import argparse
import json
import logging

from vc.cli.common import add_verbose_option, run_command
from vc.registry import VOICE, models_help

log = logging.getLogger("vc-assess")

EPILOG = """\
Prints two accuracies over fixed, non-overlapping segments of a held-out feature dump:
  real                 C's speaker decision on real segments (is C a trustworthy judge?)
  converted-as-target  C's decision on G's conversion of every segment to every other speaker,
                       counted correct when it names the target (does G change the speaker?)

example:
  vc-assess --exp exp/demo --feats dump/dev
  vc-assess --exp exp/demo --feats dump/dev --json

"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vc-assess",
        description="Accuracy of the bundle's classifier C on held-out real segments and on G's conversions "
                    "(classified as their target speaker).",
        epilog=EPILOG + models_help(VOICE), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exp", required=True, help="model bundle written by vc-train")
    p.add_argument("--feats", required=True, help="held-out feature dump (feats.scp, utt2spk)")
    p.add_argument("--stats", help="statistics to normalise with (default: the bundle's stats.npz)")
    p.add_argument("--checkpoint", help="checkpoint file (default: the bundle's latest)")
    p.add_argument("--max-segments", type=int, help="use at most this many segments (seeded subset)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: auto)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    add_verbose_option(p)
    return p


def _run(args: argparse.Namespace) -> None:
    import torch

    from vc.voice.assess import assess

    with torch.inference_mode():
        r = assess(args.exp, args.feats, args.stats, args.device, args.checkpoint, args.max_segments)
    if args.json:
        print(json.dumps(r))
        return
    print(f"segments: {int(r['segments'])} from {int(r['utterances'])} utterances of {args.feats}")
    print(f"C accuracy on held-out real segments:          {100 * r['acc_real']:.1f}%")
    print(f"C accuracy on conversions (as target speaker): {100 * r['acc_converted']:.1f}%")


def main(argv: list[str] | None = None) -> None:
    return run_command(build_parser(), _run, argv)


if __name__ == "__main__":
    main()
