"""Benchmark conversion speed: Converter.convert against bare WORLD analysis + synthesis.

Measures, in one run:
  * on ONE core (torch, OpenMP and BLAS limited to one thread): the time of
    ``Converter.convert`` on a 5 s and a 30 s utterance, split into analysis (resampling check,
    WORLD analysis, mel-cepstral coding, source statistics), network (log-F0 transform and G on
    the normalised mel-cepstrum) and synthesis (mel-cepstral decoding, WORLD synthesis), against
    the bare pyworld analysis + synthesis of the same audio with the same settings
    (DIO+StoneMask or Harvest, CheapTrick, D4C, synthesize): the ratio (target <= 1.25x);
  * batch throughput of ``vc-convert --data ... --nj 1`` and ``--nj 2`` run as fresh processes
    (so both pay interpreter start, imports and model loading), alternated so that a change in
    the machine's speed biases neither: the speed-up (target >= 1.7x).

Without --model, a bundle with random weights of the DEFAULT model size and real statistics of
generated speech-like audio is built, so the network cost is the real one. One-core times are
CPU seconds of the (single-threaded) process: equal to wall time on an idle core, and not
inflated when other jobs share the machine. The nj speed-up is wall time and needs 2 idle cores.
Loading the Converter raises glibc's memory thresholds for the whole process
(vc/features/heap.py), so the bare WORLD runs timed beside it reuse freed memory as well.

What to expect: the paper-size generator costs about 1.2 GMAC per second of audio (a 36 x 200
frames/s image through 10 gated convolutions); run at a good fraction of one core's fp32 peak
that is still 25-35 % of DIO-based WORLD analysis + synthesis, which is most of the distance
between conversion and bare WORLD. On a CPU with native bf16 dot products (AMX matrix units,
or AVX512-BF16) the default precision ("auto") runs G in bfloat16, 1.7-3x faster; the fp32
network time is then measured too ("net fp32" column), so both arithmetics are compared in the
same run. With --f0-method harvest (a slower, better F0 tracker) WORLD itself costs several
times more and the network's share shrinks accordingly. A cloud VM's speed can be bimodal (on the one this was written on, some runs
and some stretches of one run were 1.5x slower, and up to 3x in the matrix units): the best of
several repeats is the machine's own speed, the paired ratios show the spread.

Usage:
  python bench/convert_speed.py                       # random-weight default-size bundle
  python bench/convert_speed.py --model exp/demo --repeats 5
  python bench/convert_speed.py --train-config egs/demo/conf/train.yaml   # the demo's (half-width) size
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy/torch start their thread pools: one core

import argparse  # noqa: E402
import logging  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable  # noqa: E402

import numpy as np  # noqa: E402


def round_times(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """CPU time of each function in each of ``repeats`` rounds that call them in turn.

    Everything here runs on one thread, so the process's CPU time is the wall time it would
    take on an idle core, and unlike wall time it is not inflated by other processes sharing
    the machine; the best of several runs drops cache and frequency disturbances, and taking
    turns keeps a slow drift of the machine's speed from biasing one measurement against another
    (and lets a ratio be taken within each round, between measurements seconds apart).
    """
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t = time.process_time()
            fn()
            times[k].append(time.process_time() - t)
    return times


def bare_analysis(wave: np.ndarray, cfg) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """WORLD analysis with no coding, no statistics: F0, spectral envelope, aperiodicity."""
    import pyworld

    sr = cfg.sample_rate
    if cfg.f0_method == "harvest":
        f0, t = pyworld.harvest(wave, sr, f0_floor=cfg.f0_floor, f0_ceil=cfg.f0_ceil, frame_period=cfg.frame_period)
    else:
        f0, t = pyworld.dio(wave, sr, f0_floor=cfg.f0_floor, f0_ceil=cfg.f0_ceil, frame_period=cfg.frame_period)
        f0 = pyworld.stonemask(wave, f0, t, sr)
    sp = pyworld.cheaptrick(wave, f0, t, sr, fft_size=cfg.fft_size)
    ap = pyworld.d4c(wave, f0, t, sr, fft_size=cfg.fft_size)
    return f0, sp, ap


def bare_synthesis(f0: np.ndarray, sp: np.ndarray, ap: np.ndarray, cfg) -> np.ndarray:
    import pyworld

    return pyworld.synthesize(f0, sp, ap, cfg.sample_rate, frame_period=cfg.frame_period)


def build_bundle(root: Path, sample_rate: int, f0_method: str = "dio", net: dict | None = None) -> Path:
    from vc.convert.synthetic import random_bundle, speaker_waves
    from vc.features import FeatureConfig

    waves = speaker_waves({"low": 110.0, "mid": 160.0, "high": 230.0, "higher": 280.0}, sample_rate,
                          utts=3, duration=3.0)
    return random_bundle(root / "exp" / "random_default", waves,
                         FeatureConfig(sample_rate=sample_rate, f0_method=f0_method), net=net)


def measure_one_core(model: Path, durations: list[float], repeats: int,
                     precision: str = "auto") -> tuple[list[dict], int, str]:
    """Time the stages on one thread. The input's speaker is unseen (statistics estimated from it,
    the any-to-many path) and the target is the model speaker whose mean F0 is closest to the
    input's: WORLD synthesis costs one pulse per period, so converting to a much higher voice
    costs more synthesis time for a reason that is not overhead."""
    import torch

    from vc.convert.converter import Converter
    from vc.features.testsignal import speech_like
    from vc.vocoder import synthesize

    torch.set_num_threads(1)
    conv = Converter.from_bundle(model, precision=precision)
    resolved = conv.describe()["precision"]
    # The fp32 network beside a lower-precision one, in the same rounds: the gain is measured here.
    fp32 = conv if resolved == "fp32" else Converter.from_bundle(model, precision="fp32")
    cfg = conv.feature_config
    f0_mean = 140.0
    target = conv.speakers[int(np.argmin(np.abs(conv.stats.lf0_mean - np.log(f0_mean))))]
    rows = []
    for dur in durations:
        wave, _ = speech_like(dur, cfg.sample_rate, f0_mean, vowels="aiueaiue", seed=int(dur))
        conv.convert(wave, cfg.sample_rate, target)  # warm-up: caches, allocator, lazy imports
        world = bare_analysis(wave, cfg)
        analysis = conv.analyze(wave, cfg.sample_rate)
        feats = conv.convert_features(analysis, target)
        fns = {"bare_an": lambda: bare_analysis(wave, cfg),
               "bare_syn": lambda: bare_synthesis(*world, cfg),
               "total": lambda: conv.convert(wave, cfg.sample_rate, target),
               "analysis": lambda: conv.analyze(wave, cfg.sample_rate),
               "network": lambda: conv.convert_features(analysis, target),
               "synthesis": lambda: synthesize(feats.f0, feats.mcep, feats.bap, cfg)}
        if fp32 is not conv:
            fp32.convert_features(analysis, target)  # warm-up
            fns["network_fp32"] = lambda: fp32.convert_features(analysis, target)
        rounds = round_times(fns, repeats)
        t = {k: min(v) for k, v in rounds.items()}
        # Conversion against the bare WORLD run just before it, round by round: a change in the
        # machine's speed between rounds cancels out of these ratios.
        paired = [tot / (an + syn) for tot, an, syn in zip(rounds["total"], rounds["bare_an"], rounds["bare_syn"])]
        bare_an, bare_syn, total = t["bare_an"], t["bare_syn"], t["total"]
        t_an, t_net, t_syn = t["analysis"], t["network"], t["synthesis"]
        rows.append({"audio": len(wave) / cfg.sample_rate, "analysis": t_an, "network": t_net, "synthesis": t_syn,
                     "total": total, "bare_an": bare_an, "bare_syn": bare_syn, "bare": bare_an + bare_syn,
                     "network_fp32": t.get("network_fp32", t_net), "paired": paired,
                     "target": target, "target_f0": float(np.exp(conv.stats.lf0_mean[conv.stats.index(target)]))})
    return rows, sum(p.numel() for p in conv.generator.parameters()), resolved


def make_data(root: Path, sample_rate: int, utts: int, seconds: float) -> tuple[Path, float]:
    import soundfile as sf

    from vc.data import DataDir
    from vc.features.testsignal import speech_like

    wav_scp, utt2spk = {}, {}
    for k in range(utts):
        spk = ("bench_a", "bench_b")[k % 2]  # speakers the model does not know: statistics from the input
        wave, _ = speech_like(seconds, sample_rate, (120.0, 220.0)[k % 2], vowels="aiue"[k % 4:] + "aiue"[:k % 4],
                              seed=k)
        path = root / "wav" / f"{spk}_{k:03d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), wave, sample_rate)
        wav_scp[path.stem], utt2spk[path.stem] = str(path), spk
    DataDir(wav_scp, utt2spk).save(root / "data")
    return root / "data", utts * seconds


def run_batch_once(model: Path, data: Path, work: Path, targets: str, nj: int, precision: str = "auto") -> float:
    """Wall time of the real command into a fresh output folder."""
    out = work / f"out_nj{nj}"
    cmd = [sys.executable, "-m", "vc.cli.convert", "--model", str(model), "--data", str(data),
           "--targets", targets, "--outdir", str(out), "--nj", str(nj), "--no-progress",
           "--precision", precision]
    t = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONWARNINGS="ignore"))
    elapsed = time.perf_counter() - t
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stderr}")
    shutil.rmtree(out)
    return elapsed


def measure_batch(model: Path, data: Path, work: Path, targets: str, repeats: int,
                  precision: str = "auto") -> dict[int, list[float]]:
    """Wall times of ``--nj 1`` and ``--nj 2``, alternated (1, 2, 1, 2...) so that a change in the
    machine's speed during the measurement (other jobs, a noisy host) biases neither side."""
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(repeats):
        for nj in (1, 2):
            times[nj].append(run_batch_once(model, data, work, targets, nj, precision))
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="model bundle (default: random weights, default model size)")
    p.add_argument("--sample-rate", type=int, default=16000, help="rate of the generated bundle (default 16000)")
    p.add_argument("--train-config", help="take the generated bundle's architecture from this StarGAN-VC training "
                   "YAML's net section (e.g. egs/demo/conf/train.yaml); default: the default model size")
    p.add_argument("--f0-method", default="dio", choices=["dio", "harvest"],
                   help="F0 tracker of the generated bundle (default dio)")
    p.add_argument("--repeats", type=int, default=3, help="runs per timing; the best is kept (default 3)")
    p.add_argument("--durations", default="5,30", help="utterance lengths in seconds (default 5,30)")
    p.add_argument("--batch-utts", type=int, default=64,
                   help="utterances in the batch test (default 64: enough that the serial process start-up, "
                   "~2-3 s, does not hide the throughput of the workers)")
    p.add_argument("--batch-seconds", type=float, default=6.0, help="length of each (default 6 s)")
    p.add_argument("--skip-batch", action="store_true", help="only the one-core measurement")
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"],
                   help="generator arithmetic, as vc-convert --precision (default auto: bf16 where the CPU has "
                   "AMX or AVX512-BF16, else fp32)")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)

    work = Path(tempfile.mkdtemp(prefix="bench_convert_"))
    try:
        if args.model:
            model = Path(args.model)
        else:
            t = time.perf_counter()
            arch = None
            if args.train_config:
                from vc.config import to_dict
                from vc.registry import VOICE, load_model_config

                arch = to_dict(load_model_config(args.train_config, VOICE)[1].net)
            model = build_bundle(work, args.sample_rate, args.f0_method, arch)
            print(f"built a random-weight bundle of the default model size in {time.perf_counter() - t:.1f} s: {model}")
        from vc.voice.bundle import load_bundle_config, read_speakers

        cfg = load_bundle_config(model)[1]
        load_before = os.getloadavg()[0]
        durations = [float(d) for d in args.durations.split(",")]
        rows, n_params, resolved = measure_one_core(model, durations, args.repeats, args.precision)
        load_after = os.getloadavg()[0]
        print(f"model: {model} ({cfg.model}, {cfg.net.num_speakers} speakers, mcep_dim {cfg.net.mcep_dim}, "
              f"G {n_params / 1e6:.2f} M parameters, {resolved} (--precision {args.precision})), "
              f"features {cfg.features}")
        print("\none core (torch.set_num_threads(1), OMP/MKL/OPENBLAS_NUM_THREADS=1): CPU seconds, best of "
              f"{args.repeats} rounds that run each measurement in turn "
              f"(load average {load_before:.1f} before, {load_after:.1f} after)")
        print(f"input: speech-like, mean F0 140 Hz, unseen speaker; target {rows[0]['target']} "
              f"(mean F0 {rows[0]['target_f0']:.0f} Hz)")
        print(f"{'audio':>6} | {'analysis':>8} {'network':>8} {'synthesis':>9} {'convert':>8} {'RTF':>6} | "
              f"{'WORLD an.':>9} {'WORLD syn.':>10} {'WORLD':>7} | {'ratio':>6} {'paired':>6} "
              f"{'(range)':>11} | {'net fp32':>8}")
        for r in rows:
            print(f"{r['audio']:6.1f} | {r['analysis']:8.3f} {r['network']:8.3f} {r['synthesis']:9.3f} "
                  f"{r['total']:8.3f} {r['total'] / r['audio']:6.3f} | {r['bare_an']:9.3f} {r['bare_syn']:10.3f} "
                  f"{r['bare']:7.3f} | {r['total'] / r['bare']:5.2f}x {np.median(r['paired']):5.2f}x "
                  f"({min(r['paired']):.2f}-{max(r['paired']):.2f}) | {r['network_fp32']:8.3f}")
        print(f"(convert = Converter.convert end to end ({resolved}), its three parts timed separately; WORLD = bare "
              "pyworld analysis + synthesis of the same audio; ratio = best convert / best WORLD, paired = median "
              "over rounds of convert / WORLD of the same round (target <= 1.25x); net fp32 = the network part "
              "in float32)")

        if not args.skip_batch:
            sr = int(cfg.features["sample_rate"])
            data, seconds = make_data(work, sr, args.batch_utts, args.batch_seconds)
            targets = read_speakers(model)[-1]
            load_before = os.getloadavg()[0]
            times = measure_batch(model, data, work, targets, max(1, args.repeats - 1), args.precision)
            t1, t2 = min(times[1]), min(times[2])
            print(f"\nbatch: vc-convert --data ({args.batch_utts} x {args.batch_seconds:g} s, to target {targets}, "
                  "unseen source speakers), wall clock incl. start-up, best of "
                  f"{max(1, args.repeats - 1)} (runs alternated 1, 2, 1, 2...; load average before: {load_before:.1f})")
            for nj, best in ((1, t1), (2, t2)):
                print(f"  --nj {nj}: {best:7.2f} s  ({seconds / best:6.2f} s of audio per s; all runs: "
                      f"{', '.join(f'{t:.2f}' for t in times[nj])})")
            print(f"  speed-up: {t1 / t2:.2f}x (target >= 1.7x; needs 2 idle cores: this machine has "
                  f"{os.cpu_count()} and load average {os.getloadavg()[0]:.1f})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
