"""vc-train: train a StarGAN-VC model bundle from extracted features and speaker statistics."""
from __future__ import annotations

import argparse
import logging
import os
import sys

from vc.logutil import setup_logging

log = logging.getLogger("vc-train")

EPILOG = """\
Trains G (converter), D (real/fake per patch) and C (speaker classifier) on random fixed-length
MCEP segments normalised with each speaker's statistics, and writes the model bundle:
  EXP/config.yaml  EXP/speakers.json  EXP/stats.npz  EXP/checkpoints/  EXP/logs/train.csv
  EXP/samples/step_N/*.wav  (converted validation utterances)
On CUDA it trains with bf16 autocast; on the CPU it uses every core. Under torchrun it trains
with DistributedDataParallel (rank 0 writes).

examples:
  vc-train --config conf/train.yaml --feats dump/train --stats dump/train/stats.npz --exp exp/demo
  vc-train --config conf/train.yaml --feats dump/train --stats dump/train/stats.npz --exp exp/demo --resume
  torchrun --nproc_per_node 4 -m vc.cli.train --config conf/train.yaml --feats dump/train \\
      --stats dump/train/stats.npz --exp exp/big
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vc-train", description="Train a StarGAN-VC voice conversion model.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="training config YAML (default: built-in defaults)")
    p.add_argument("--feats", required=True, help="training feature dump (feats.scp, utt2spk, <utt>.npz)")
    p.add_argument("--stats", required=True, help="speaker statistics from vc-stats (defines the speakers)")
    p.add_argument("--exp", required=True, help="output model bundle directory")
    p.add_argument("--dev-feats", help="held-out feature dump for samples and accuracies (default: training data)")
    p.add_argument("--max-steps", type=int, help="override schedule.max_steps")
    p.add_argument("--seed", type=int, help="override seed")
    p.add_argument("--resume", action="store_true", help="continue from EXP/checkpoints/latest")
    p.add_argument("--device", default="auto", help="auto (CUDA if available, else CPU), cpu, cuda or cuda:N")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override any config option, e.g. --set optim.lr_g=1e-4 (YAML value syntax)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def _overrides(args: argparse.Namespace) -> dict:
    from vc.config import parse_overrides

    out = parse_overrides(args.set)
    if args.max_steps is not None:
        out["schedule.max_steps"] = args.max_steps
    if args.seed is not None:
        out["seed"] = args.seed
    return out


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    if int(os.environ.get("RANK", "0")) != 0:  # torchrun: one copy of the progress messages is enough
        logging.getLogger().setLevel(logging.WARNING)
    from vc.config import ConfigError
    from vc.features import FeatureFileError, StatsError
    from vc.gan import CheckpointError, NonFiniteLossError
    from vc.train.bundle import BundleError
    from vc.train.config import load_train_config
    from vc.train.data import TrainDataError
    from vc.train.run import train

    try:
        cfg = load_train_config(args.config, _overrides(args))
        train(cfg, args.feats, args.stats, args.exp, dev_feats=args.dev_feats, resume=args.resume,
              device=args.device, progress=not args.no_progress)
    except NonFiniteLossError as e:
        log.error("%s", e)
        sys.exit(2)
    except (ConfigError, FeatureFileError, StatsError, TrainDataError, BundleError, CheckpointError,
            FileExistsError, ValueError) as e:
        log.error("%s", e)
        sys.exit(1)


if __name__ == "__main__":
    main()
