"""vc-train: train a voice conversion model bundle from extracted features and speaker statistics."""
from __future__ import annotations

import argparse
import logging
import os
from typing import Any

from vc.cli.common import add_override_option, add_verbose_option, run_command
from vc.registry import VOICE, models_help

log = logging.getLogger("vc-train")

EPILOG = """\
The config's top-level 'model:' picks the model (default: stargan_vc); its sections are net,
optim, loss, data, trainer and validation (docs: the model's config module). StarGAN-VC trains G
(converter), D (real/fake per patch) and C (speaker classifier) on random fixed-length MCEP
segments normalised with each speaker's statistics, and writes the model bundle:
  EXP/config.yaml  EXP/speakers.json  EXP/stats.npz  EXP/checkpoints/  EXP/logs/train.csv
  EXP/samples/step_N/*.wav  (converted validation utterances)
On CUDA it trains with bf16 autocast; on the CPU it uses every core (-o trainer.cpu_threads=N
to change). Under torchrun it trains with DistributedDataParallel (rank 0 writes).

examples:
  vc-train --config conf/train.yaml --feats dump/train --stats dump/train/stats.npz --exp exp/demo
  vc-train --config conf/train.yaml --feats dump/train --stats dump/train/stats.npz --exp exp/demo --resume
  vc-train --config conf/train.yaml ... -o optim.lr_g=1e-4 -o trainer.cpu_threads=1
  torchrun --nproc_per_node 4 -m vc.cli.train --config conf/train.yaml --feats dump/train \\
      --stats dump/train/stats.npz --exp exp/big

"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vc-train", description="Train a voice conversion model (StarGAN-VC, ...).",
                                epilog=EPILOG + models_help(VOICE),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="training config YAML (default: the built-in defaults of stargan_vc)")
    p.add_argument("--feats", required=True, help="training feature dump (feats.scp, utt2spk, <utt>.npz)")
    p.add_argument("--stats", required=True, help="speaker statistics from vc-stats (defines the speakers)")
    p.add_argument("--exp", required=True, help="output model bundle directory")
    p.add_argument("--dev-feats", help="held-out feature dump for samples and accuracies (default: training data)")
    p.add_argument("--max-steps", type=int, help="override trainer.max_steps")
    p.add_argument("--seed", type=int, help="override seed")
    p.add_argument("--resume", action="store_true", help="continue from EXP/checkpoints/latest")
    p.add_argument("--device", help="override device: auto (CUDA if available, else CPU), cpu, cuda or cuda:N")
    add_override_option(p, example="optim.lr_g=1e-4", old=("--override",))
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_verbose_option(p)
    return p


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The dotted config overrides of the command line: ``-o/--set`` and the dedicated flags."""
    from vc.config import parse_overrides

    out = parse_overrides(args.overrides)
    if args.max_steps is not None:
        out["trainer.max_steps"] = args.max_steps
    if args.seed is not None:
        out["seed"] = args.seed
    if args.device is not None:
        out["device"] = args.device
    return out


def _run(args: argparse.Namespace) -> None:
    if int(os.environ.get("RANK", "0")) != 0:  # torchrun: one copy of the progress messages is enough
        logging.getLogger().setLevel(logging.WARNING)
    from vc.registry import load_model_config

    entry, cfg = load_model_config(args.config, VOICE, overrides(args))
    log.info("model %s (%s)", entry.name, args.config or "the default config")
    entry.resolve("train")(cfg, args.feats, args.stats, args.exp, dev_feats=args.dev_feats, resume=args.resume,
                           progress=not args.no_progress)


def main(argv: list[str] | None = None) -> None:
    return run_command(build_parser(), _run, argv)


if __name__ == "__main__":
    main()
