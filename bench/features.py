"""Benchmark feature extraction: vc-extract against the bare pyworld + pysptk calls.

Measures, on the same files in the same run:
  * CPU seconds per second of audio of ``vc-extract --nj 1`` (the real command: audio loading
    and checks, WORLD analysis, batched mel-cepstrum, npz writing) and of a bare per-file loop
    of DIO+StoneMask, CheapTrick, D4C, per-frame pysptk.sp2mc and code_aperiodicity, both run
    as fresh Python processes so that both pay their interpreter start and imports;
  * the wall-clock speed-up from ``--nj 1`` to ``--nj 2`` (best of --repeats runs each);
  * the CPU time of ``vc-extract --nj 1 --no-aperiodicity`` (training-only features, no D4C)
    against the full analysis;
  * peak RSS of extraction on half of the files and on all of them (it should not grow).
With --nj 2 the workers are forked from multiprocessing's fork server, not from the measured
process, so their CPU time and memory are not in that row (hence "parent only").

Usage:
  python bench/features.py                      # ~60 s of egs/demo/data/train, else of generated audio
  python bench/features.py --data data/train --seconds 300 --repeats 3
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEMO_DATA = Path(__file__).resolve().parent.parent / "egs" / "demo" / "data" / "train"


def baseline_worker(wav_scp: str, sample_rate: int, fft_size: int, dim: int, alpha: float) -> None:
    """The bare per-frame analysis the toolkit replaces (run in its own process)."""
    import warnings

    warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
    import numpy as np
    import pysptk
    import pyworld
    import soundfile as sf
    import soxr

    for line in Path(wav_scp).read_text(encoding="utf-8").splitlines():
        _, path = line.split(" ", 1)
        x, sr = sf.read(path, dtype="float64", always_2d=True)
        x = x.mean(axis=1)
        if sr != sample_rate:
            x = soxr.resample(x, sr, sample_rate, quality="HQ")
        x = np.ascontiguousarray(x)
        f0, t = pyworld.dio(x, sample_rate, frame_period=5.0)
        f0 = pyworld.stonemask(x, f0, t, sample_rate)
        sp = pyworld.cheaptrick(x, f0, t, sample_rate, fft_size=fft_size)
        ap = pyworld.d4c(x, f0, t, sample_rate, fft_size=fft_size)
        mcep = np.stack([pysptk.sp2mc(frame, dim - 1, alpha) for frame in sp])
        bap = pyworld.code_aperiodicity(ap, sample_rate)
        assert len(mcep) == len(bap)


def run_measured(cmd: list[str]) -> tuple[float, float, float]:
    """(wall s, CPU s of the process and its children, peak RSS MiB of the largest process)."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def make_synthetic(root: Path, seconds: float) -> Path:
    """~``seconds`` of speech-like audio (2 speakers, 3 s utterances) and its data dir."""
    import soundfile as sf

    from vc.data import DataDir
    from vc.features.testsignal import speech_like

    wav_scp, utt2spk = {}, {}
    n = max(2, round(seconds / 3.0))
    for k in range(n):
        spk = ("low", "high")[k % 2]
        wave, _ = speech_like(3.0, 16000, (120.0, 220.0)[k % 2], vowels="aiue"[k % 4:] + "aiue"[: k % 4], seed=k)
        path = root / "wav" / f"{spk}_{k:03d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, wave, 16000)
        wav_scp[f"{spk}_{k:03d}"], utt2spk[f"{spk}_{k:03d}"] = str(path), spk
    DataDir(wav_scp, utt2spk).save(root / "data")
    return root / "data"


def take_seconds(data, seconds: float):
    """About ``seconds`` of audio: utterances taken round-robin over speakers (all if shorter)."""
    import soundfile as sf

    queues = {spk: list(utts) for spk, utts in data.spk2utt.items()}
    chosen, total = [], 0.0
    while total < seconds and any(queues.values()):
        for spk in sorted(queues):
            if queues[spk] and total < seconds:
                utt = queues[spk].pop(0)
                chosen.append(utt)
                total += sf.info(data.wav_scp[utt]).duration
    return data.subset(chosen)


def audio_seconds(data) -> float:
    import soundfile as sf

    return sum(sf.info(p).duration for p in data.wav_scp.values())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help=f"data dir (default: {DEMO_DATA} if present, else generated audio)")
    p.add_argument("--seconds", type=float, default=60.0,
                   help="seconds of audio to use: generated, or taken from the data dir (default 60)")
    p.add_argument("--conf", help="feature config YAML for vc-extract")
    p.add_argument("--repeats", type=int, default=2, help="runs per wall-clock measurement (best is kept)")
    p.add_argument("--baseline-worker", nargs=5, metavar=("SCP", "SR", "FFT", "DIM", "ALPHA"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.baseline_worker:
        scp, sr, fft, dim, alpha = args.baseline_worker
        baseline_worker(scp, int(sr), int(fft), int(dim), float(alpha))
        return

    from vc.config import load_config
    from vc.data import DataDir
    from vc.features import FeatureConfig

    cfg = load_config(FeatureConfig, args.conf).resolved()
    work = Path(tempfile.mkdtemp(prefix="bench_features_"))
    try:
        if args.data:
            data_dir = Path(args.data)
        elif DEMO_DATA.is_dir():
            data_dir = DEMO_DATA
        else:
            data_dir = make_synthetic(work, args.seconds)
        source = data_dir
        data = take_seconds(DataDir.load(source), args.seconds)
        data_dir = work / "subset"
        data.save(data_dir)
        secs = audio_seconds(data)
        half_dir = work / "half"
        data.subset(data.utts[: max(1, len(data.utts) // 2)]).save(half_dir)
        print(f"data: {source} ({len(data.utts)} utterances, {secs:.1f} s of audio); "
              f"settings: {cfg.sample_rate} Hz, fft {cfg.fft_size}, alpha {cfg.alpha}, {cfg.mcep_dim} dims; "
              f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

        py = sys.executable
        conf = ["--conf", args.conf] if args.conf else []

        def extract(nj: int, data_path: Path, tag: str, *extra: str) -> tuple[float, float, float]:
            out = work / f"dump_{tag}"
            shutil.rmtree(out, ignore_errors=True)
            return run_measured([py, "-m", "vc.cli.extract", "--data", str(data_path), "--out", str(out),
                                 "--nj", str(nj), "--no-progress", *conf, *extra])

        base_cmd = [py, __file__, "--baseline-worker", str(Path(data_dir) / "wav.scp"), str(cfg.sample_rate),
                    str(cfg.fft_size), str(cfg.mcep_dim), str(cfg.alpha)]
        base = min((run_measured(base_cmd) for _ in range(args.repeats)), key=lambda r: r[1])
        nj1 = [extract(1, data_dir, f"nj1_{i}") for i in range(args.repeats)]
        nj2 = [extract(2, data_dir, f"nj2_{i}") for i in range(args.repeats)]
        half = extract(1, half_dir, "half")
        lean = [extract(1, data_dir, f"lean_{i}", "--no-aperiodicity") for i in range(args.repeats)]
        imports_base = run_measured([py, "-c", "import warnings; warnings.simplefilter('ignore'); "
                                     "import numpy, pyworld, pysptk, soundfile, soxr"])
        imports_vc = run_measured([py, "-c", "import vc.cli.extract, vc.features.extract"])

        cpu1 = min(r[1] for r in nj1)
        wall1, wall2 = min(r[0] for r in nj1), min(r[0] for r in nj2)
        rows = [
            ("bare pyworld + per-frame pysptk", base[1] / secs, base[0], base[2]),
            ("vc-extract --nj 1", cpu1 / secs, wall1, max(r[2] for r in nj1)),
            ("vc-extract --nj 2 (parent only)", float("nan"), wall2, max(r[2] for r in nj2)),
            ("vc-extract --nj 1 --no-aperiodicity", min(r[1] for r in lean) / secs, min(r[0] for r in lean),
             max(r[2] for r in lean)),
            ("vc-extract --nj 1, half the files", half[1] / (secs * len(DataDir.load(half_dir).utts) / len(data.utts)),
             half[0], half[2]),
        ]
        print(f"\n{'run':<36} {'CPU s / audio s':>16} {'wall s':>8} {'peak RSS MiB':>13}")
        for name, cpu, wall, rss in rows:
            print(f"{name:<36} {cpu:>16.4f} {wall:>8.2f} {rss:>13.0f}")
        print(f"\nprocess start + imports (CPU s, included above): bare {imports_base[1]:.2f}, vc-extract {imports_vc[1]:.2f}")
        print(f"CPU ratio vc-extract --nj 1 / bare calls: {cpu1 / base[1]:.3f}x   (target <= 1.15x)")
        print(f"CPU ratio without process start:        "
              f"{(cpu1 - imports_vc[1]) / (base[1] - imports_base[1]):.3f}x")
        print(f"wall speed-up --nj 1 -> --nj 2: {wall1 / wall2:.2f}x   (target >= 1.7x on 2 idle cores)")
        print(f"CPU ratio --no-aperiodicity / full analysis: {min(r[1] for r in lean) / cpu1:.3f}x")
        print(f"peak RSS, half vs all files: {half[2]:.0f} vs {max(r[2] for r in nj1):.0f} MiB (flat = streaming)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
