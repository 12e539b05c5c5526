"""Training speed of StarGAN-VC on the CPU: iterations/s and peak memory, eager vs speed-ups.

Every variant runs in its own process (peak memory and OpenMP settings are per process) on the
same synthetic feature dump, through the real ``vc.gan.Trainer`` step (D, C and G phases with
all loss terms), and is reported as a ratio against the plain eager step measured in the same
run. A speed-up earns a place in the default path only at >= 1.1x.

usage:
  python bench/train_speed.py                                  # paper-size model, batch 8 x 128
  python bench/train_speed.py --config egs/demo/conf/train.yaml --steps 20
  python bench/train_speed.py --variants eager,threads1,fused  # a subset
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from variants import print_ratios, run_variants, time_trainer, variant_names

# name -> (trainer overrides, extra environment)
VARIANTS: dict[str, tuple[dict, dict]] = {
    "eager": ({}, {}),
    "no_handoff": ({}, {}),  # G made again in the G phase (bench/variants.py)
    "threads1": ({"trainer.cpu_threads": 1}, {}),
    "omp_passive": ({}, {"OMP_WAIT_POLICY": "PASSIVE"}),
    "foreach_adam": ({"trainer.adam_impl": "foreach"}, {}),
    "fused_adam": ({"trainer.adam_impl": "fused"}, {}),
    "channels_last": ({"trainer.channels_last": True}, {}),
    "compile": ({"trainer.compile": True}, {}),
    "bf16": ({"trainer.amp": "bf16"}, {}),
}


def make_dump(root: Path, speakers: int, utts: int, frames: int, mcep_dim: int) -> tuple[Path, Path]:
    """A synthetic dump in the docs/formats.md layout (values shaped like normalised MCEPs)."""
    import numpy as np

    from vc.data import write_scp
    from vc.features import FeatureConfig, Features, SpeakerStats, save_features

    rng = np.random.default_rng(0)
    cfg = FeatureConfig(mcep_dim=mcep_dim).resolved()
    scp, u2s, items = {}, {}, []
    for s in range(speakers):
        for u in range(utts):
            mcep = np.cumsum(rng.normal(0, 0.1, (frames, mcep_dim)), axis=0) + rng.normal(0, 1, mcep_dim)
            f = Features(f0=np.full(frames, 120.0), mcep=mcep, bap=np.full((frames, 1), -20.0))
            utt = f"s{s}_{u:03d}"
            save_features(root / f"{utt}.npz", f, cfg)
            scp[utt], u2s[utt] = f"{utt}.npz", f"s{s}"
            items.append((f"s{s}", f))
    write_scp(root / "feats.scp", scp)
    write_scp(root / "utt2spk", u2s)
    SpeakerStats.from_features(items, cfg).save(root / "stats.npz")
    return root, root / "stats.npz"


def worker(args: argparse.Namespace) -> None:
    """Time ``args.steps`` training steps after ``args.warmup``; print one JSON line."""
    from vc.features import SpeakerStats
    from vc.gan import Trainer
    from vc.registry import VOICE, load_model_config
    from vc.stargan_vc.bundle import resolve_config
    from vc.stargan_vc.task import StarGANVCTask

    overrides = dict(VARIANTS[args.variant][0])
    overrides.update({"data.batch_size": args.batch, "data.segment_frames": args.frames,
                      "trainer.max_steps": args.warmup + args.steps})
    _, cfg = load_model_config(args.config, VOICE, overrides)
    stats = SpeakerStats.load(args.stats)
    cfg = resolve_config(cfg, stats)
    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(StarGANVCTask(cfg, args.feats, stats, progress=False), cfg.trainer, out,
                          device="cpu", progress=False)
        record = time_trainer(trainer, args.variant, args.warmup, args.steps)
    print(json.dumps(record))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="training config (default: built-in defaults = the paper's widths)")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--frames", type=int, default=128)
    p.add_argument("--steps", type=int, default=10, help="timed steps per variant")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first (compilation, allocator)")
    p.add_argument("--variants", default=",".join(VARIANTS), help=f"comma list of {', '.join(VARIANTS)}")
    p.add_argument("--out", help="also write the results as JSON here")
    p.add_argument("--worker", dest="variant", help=argparse.SUPPRESS)
    p.add_argument("--feats", help=argparse.SUPPRESS)
    p.add_argument("--stats", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.variant:
        worker(args)
        return
    names = variant_names(p, args.variants, list(VARIANTS))
    with tempfile.TemporaryDirectory() as tmp:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from vc.registry import VOICE, load_model_config

        mcep_dim = 36
        feats, stats = make_dump(Path(tmp), speakers=4, utts=6, frames=600, mcep_dim=mcep_dim)
        load_model_config(args.config, VOICE)  # validate before spawning workers
        worker_args = ["--feats", str(feats), "--stats", str(stats), "--batch", str(args.batch),
                       "--frames", str(args.frames), "--steps", str(args.steps), "--warmup", str(args.warmup)]
        worker_args += ["--config", args.config] if args.config else []
        results = run_variants(__file__, names, worker_args, {n: VARIANTS[n][1] for n in names})
    params = results[0]["params"] if results else "?"
    print_ratios(results, f"config {args.config or 'defaults'}, batch {args.batch} x {args.frames} frames, "
                 f"{params} parameters, {os.cpu_count()} CPUs", args.out)


if __name__ == "__main__":
    main()
