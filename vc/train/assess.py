"""Held-out assessment of a trained bundle with its own speaker classifier C.

Prints two accuracies over fixed, non-overlapping segments of a held-out dump:
* ``real``: C's speaker decision on real segments (is C a trustworthy judge?);
* ``converted-as-target``: C's decision on G's conversion of every segment to every other
  speaker, counted correct when it names the *target* (does G change the speaker?).

usage: python -m vc.train.assess --exp exp/NAME --feats dump/dev [--stats STATS] [--device auto]
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import torch

from vc.logutil import setup_logging

log = logging.getLogger("vc.train.assess")


def assess(exp: str | os.PathLike, feats: str | os.PathLike, stats_path: str | os.PathLike | None = None,
           device: str = "auto", checkpoint: str | os.PathLike | None = None,
           max_segments: int | None = None) -> dict[str, float]:
    """Accuracies of C on held-out real segments and on conversions judged against the target."""
    from vc.features import SpeakerStats
    from vc.gan.runtime import DistInfo, resolve_device
    from vc.train.bundle import STATS, BundleError, load_networks, read_speakers
    from vc.train.data import SpeakerCorpus
    from vc.train.task import held_out_accuracy

    exp = Path(exp)
    dev = resolve_device(device, DistInfo())
    nets, cfg = load_networks(exp, ("G", "C"), dev, checkpoint)
    stats = SpeakerStats.load(stats_path or exp / STATS)
    if list(stats.speakers) != read_speakers(exp):
        raise BundleError(f"{stats_path}: speakers differ from the model's ({exp / 'speakers.json'})")
    seg = cfg.data.segment_frames
    corpus = SpeakerCorpus.load(feats, stats, min_frames=seg, pad_mode=cfg.data.pad_mode, strict=False,
                                progress=False)
    result = held_out_accuracy(nets["G"], nets["C"], corpus, seg, max_segments, dev)
    result["utterances"] = float(len(corpus.utts))
    return result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m vc.train.assess",
        description="Accuracy of the bundle's classifier C on held-out real segments and on G's conversions "
                    "(classified as their target speaker).",
        epilog="example:\n  python -m vc.train.assess --exp exp/stargan_vc --feats dump/dev",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exp", required=True, help="model bundle written by vc-train")
    p.add_argument("--feats", required=True, help="held-out feature dump (feats.scp, utt2spk)")
    p.add_argument("--stats", help="statistics to normalise with (default: the bundle's stats.npz)")
    p.add_argument("--checkpoint", help="checkpoint file (default: the bundle's latest)")
    p.add_argument("--max-segments", type=int, help="use at most this many segments (seeded subset)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument("-v", "--verbose", action="store_true")
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    from vc.features import FeatureFileError, StatsError
    from vc.gan import CheckpointError
    from vc.train.bundle import BundleError
    from vc.train.data import TrainDataError

    try:
        with torch.inference_mode():
            r = assess(args.exp, args.feats, args.stats, args.device, args.checkpoint, args.max_segments)
    except (BundleError, CheckpointError, FeatureFileError, StatsError, TrainDataError, ValueError) as e:
        log.error("%s", e)
        sys.exit(1)
    if args.json:
        print(json.dumps(r))
        return
    print(f"segments: {int(r['segments'])} from {int(r['utterances'])} utterances of {args.feats}")
    print(f"C accuracy on held-out real segments:          {100 * r['acc_real']:.1f}%")
    print(f"C accuracy on conversions (as target speaker): {100 * r['acc_converted']:.1f}%")


if __name__ == "__main__":
    main()
