"""Time one Adam step over a training config's networks: torch's per-tensor loop vs foreach vs fused.

One Adam over the config's real networks (StarGAN-VC or StarGAN v2, built as their tasks build
them) is stepped with fixed random gradients; every variant is timed in the same
process, interleaved round by round, and reported against the loop (``trainer.adam_impl: single``).
The optimizer step alone is timed, so the numbers do not drift with the rest of the training step.

usage:
  python bench/adam_step.py --config egs/fonts_v2/conf/stargan_v2.yaml
  python bench/adam_step.py --config egs/demo/conf/train.yaml --rounds 50
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMPLS = ("single", "foreach", "fused")


def build_networks(config: str) -> tuple[dict, int]:
    """The config's networks (CPU) and its CPU thread setting; the model is the one the config's
    top-level ``model:`` names (``vc.registry``; a config of the layout before config_version 2
    with a ``schedule:`` section is StarGAN-VC's)."""
    sys.path.insert(0, str(ROOT))
    import dataclasses

    from vc.config import read_yaml
    from vc.registry import config_from_mapping, get

    data = read_yaml(config)
    name = data.get("model") if isinstance(data.get("model"), str) else (
        "stargan_vc" if "schedule" in data else "stargan")
    entry = get(name)
    if entry.name == "stargan":
        raise SystemExit("StarGAN (v1) configs need their data set's label space; give a StarGAN-VC or v2 config")
    _, cfg = config_from_mapping(data, entry.family, where=config)
    if entry.name == "stargan_v2":
        from vc.stargan_v2.task import build_networks as build_v2

        return build_v2(cfg, len(cfg.domains)), cfg.trainer.cpu_threads
    from vc.stargan_vc.networks import build_stargan_vc

    return build_stargan_vc(dataclasses.replace(cfg.net, num_speakers=4, mcep_dim=36)), cfg.trainer.cpu_threads


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="a StarGAN-VC or StarGAN v2 training config")
    p.add_argument("--rounds", type=int, default=100, help="timed steps per variant (interleaved)")
    args = p.parse_args()
    import torch

    nets, threads = build_networks(args.config)
    torch.set_num_threads(threads or torch.get_num_threads())
    params = [q for m in nets.values() for q in m.parameters() if q.requires_grad]
    g = torch.Generator().manual_seed(0)
    grads = [torch.randn(q.shape, generator=g) * 1e-3 for q in params]
    opts = {}
    for impl in IMPLS:
        copies = [q.detach().clone().requires_grad_(True) for q in params]
        for c, gr in zip(copies, grads):
            c.grad = gr.clone()
        kw = {"single": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}[impl]
        opts[impl] = torch.optim.Adam(copies, lr=1e-4, weight_decay=1e-4, **kw)
        opts[impl].step()  # state allocated outside the timing
    times: dict[str, list[float]] = {impl: [] for impl in IMPLS}
    for _ in range(args.rounds):
        for impl in IMPLS:
            t = time.perf_counter()
            opts[impl].step()
            times[impl].append(time.perf_counter() - t)
    base = statistics.median(times["single"])
    print(f"config {args.config}: {len(params)} tensors, {sum(q.numel() for q in params)} parameters, "
          f"{torch.get_num_threads()} thread(s); median of {args.rounds} steps")
    for impl in IMPLS:
        med = statistics.median(times[impl])
        print(f"{impl:>8}: {1000 * med:7.2f} ms per step   {base / med:5.2f}x the loop")


if __name__ == "__main__":
    main()
