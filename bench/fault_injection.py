"""Faults, injected: SIGKILL vc-extract, vc-train and batch vc-convert at random moments, rerun them.

On small synthetic data it makes itself (3 speakers of speech-like audio, a tiny network, a few
dozen training steps), it first runs the chain once without interruption:

    vc-extract --nj 2  ->  vc-stats  ->  vc-train  ->  vc-convert --data ... --nj 2

timing each stage. Then, for each of the three stages, ``--kills`` times: start the stage in a
fresh folder (training: with ``--resume``), SIGKILL its main process at a random moment (a third
of them during start-up, before its first output; the others once it has written a random number
of its outputs), check that no worker process of it is left behind, rerun it to the end and
compare with the uninterrupted run:

* vc-extract: every utterance's features bit-identical (each array of each npz), the same index;
* vc-train --resume: the final checkpoint byte-identical (one thread, as the reference);
* vc-convert: the manifest complete and identical, every wav whole (as long as its header says)
  and byte-identical to the uninterrupted run's.

A rerun that is refused (the killed job's folder lock must be gone with it), fails, or differs
is counted and printed; the exit status is 1 if anything went wrong. Run time: a few minutes
on two cores (each trial pays interpreter start-up and the torch import).

    python bench/fault_injection.py [--kills 10] [--seed 0] [--workdir DIR]
"""
from __future__ import annotations

import argparse
import contextlib
import filecmp
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from vc.convert.batch import is_complete  # noqa: E402
from vc.convert.manifest import read_manifest  # noqa: E402
from vc.convert.synthetic import TINY_TRAIN_NET, speaker_waves  # noqa: E402
from vc.workers import session_processes  # noqa: E402
from vc.data import DataDir, read_scp  # noqa: E402

SR = 16000
SPEAKERS = {"spkA": 110.0, "spkB": 160.0, "spkC": 220.0}
FEATS = {"sample_rate": SR, "mcep_dim": 24}
TRAIN = {
    "net": TINY_TRAIN_NET,
    "data": {"segment_frames": 32, "batch_size": 4},
    "trainer": {"max_steps": 40, "log_every": 4, "checkpoint_every": 4, "keep_checkpoints": 2, "cpu_threads": 1,
                "sample_every": 0},
    "validation": {"num_utterances": 1, "max_segments": 8},
    "seed": 3,
}


def cli(name: str, *args: str | Path) -> list[str]:
    return [sys.executable, "-m", f"vc.cli.{name}", *map(str, args)]


def reference(cmd: list[str], what: str, progress: Callable[[Path], int], out: Path) -> tuple[float, float, int]:
    """Run ``cmd`` to the end, watching its progress; ``(wall time, time of its first output, outputs
    at the end)``. A failure stops the whole benchmark."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    first = None
    while proc.poll() is None:
        if first is None and progress(out) > 0:
            first = time.perf_counter() - t0
        time.sleep(0.01)
    total = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{what} failed (exit {proc.returncode}):\n{proc.stderr.read()[-3000:]}")
    proc.stderr.close()
    return total, first if first is not None else total, progress(out)


@dataclass
class Tally:
    name: str
    kills: int = 0            # kills that landed while the job ran
    early: int = 0            # ... of which before it had written any output
    missed: int = 0           # the job had finished before its kill moment (not counted as a kill)
    orphans: int = 0          # worker processes still alive 5 s after their parent was killed
    reruns_ok: int = 0
    identical: int = 0
    problems: list[str] = field(default_factory=list)

    def line(self, what: str) -> str:
        return (f"{self.name:<10} {self.kills} kills ({self.early} before its first output, "
                f"{self.kills - self.early} mid-work; {self.missed} more came after it had finished), "
                f"{self.reruns_ok}/{self.kills} reruns completed, {self.identical}/{self.kills} {what}, "
                f"{self.orphans} orphaned worker(s)")


def inject(tally: Tally, kills: int, rng: random.Random, first: float, final: int,
           start: Callable[[Path], list[str]], progress: Callable[[Path], int],
           rerun: Callable[[Path], list[str]], check: Callable[[Path], str | None], root: Path) -> None:
    """``kills`` trials: start, SIGKILL at a random moment, check for orphans, rerun, check.

    A third of the kills fall at a random time before the job's first output (start-up, lock,
    model loading), the others once it has made a random number of its ``final`` outputs."""
    trial = 0
    while tally.kills < kills and trial < 3 * kills:
        trial += 1
        out = root / f"{tally.name}_{trial:02d}"
        proc = subprocess.Popen(start(out), cwd=REPO, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if final < 2 or rng.random() < 1 / 3:
            time.sleep(rng.uniform(0.05, 1.0) * first)
        else:
            wanted = rng.randint(1, final - 1)
            while proc.poll() is None and progress(out) < wanted:
                time.sleep(0.005)
        if proc.poll() is not None:
            tally.missed += 1
            continue
        had_output = progress(out) > 0
        proc.kill()  # the main process only, as the OOM killer or a lost node would
        proc.wait()
        tally.kills += 1
        tally.early += not had_output
        deadline = time.monotonic() + 5.0
        while session_processes(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = session_processes(proc.pid)
        if left:
            tally.orphans += len(left)
            tally.problems.append(f"{out.name}: {len(left)} process(es) outlived their parent")
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        done = subprocess.run(rerun(out), cwd=REPO, capture_output=True, text=True)
        if done.returncode != 0:
            tally.problems.append(f"{out.name}: rerun exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}")
            continue
        tally.reruns_ok += 1
        problem = check(out)
        if problem:
            tally.problems.append(f"{out.name}: {problem}")
        else:
            tally.identical += 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=10, help="kills per command (default: 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the kill moments (default: 0)")
    p.add_argument("--workdir", help="keep everything in this (new) folder instead of a temp dir")
    args = p.parse_args()
    rng = random.Random(args.seed)
    with contextlib.ExitStack() as stack:
        if args.workdir:
            root = Path(args.workdir)
            root.mkdir(parents=True, exist_ok=False)
        else:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vc-faults-")))
        return _bench(root, args.kills, rng)


def _bench(root: Path, kills: int, rng: random.Random) -> int:
    t_start = time.perf_counter()
    # ------------------------------------------------------------------ data and the uninterrupted chain
    wav_scp, utt2spk = {}, {}
    for spk, waves in speaker_waves(SPEAKERS, SR, utts=4, duration=1.0, seed=5).items():
        for i, w in enumerate(waves):
            utt = f"{spk}_{i:02d}"
            path = root / "wav" / f"{utt}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(str(path), w, SR)
            wav_scp[utt], utt2spk[utt] = str(path), spk
    data = root / "data"
    DataDir(wav_scp, utt2spk).save(data)
    (root / "feats.yaml").write_text(yaml.safe_dump(FEATS))
    (root / "train.yaml").write_text(yaml.safe_dump(TRAIN))

    def npz_count(out: Path) -> int:
        return len(list(out.glob("[!.]*.npz")))

    def steps_saved(exp: Path) -> int:  # checkpoints written so far (only the newest few are kept)
        try:
            return int((exp / "checkpoints" / "latest").read_text().strip()[5:13]) // TRAIN["trainer"]["checkpoint_every"]
        except (OSError, ValueError):
            return 0

    def wav_count(out: Path) -> int:
        return len(list(out.glob("wav/*/[!.]*.wav")))

    def extract(out: Path) -> list[str]:
        return cli("extract", "--data", data, "--out", out, "--conf", root / "feats.yaml", "--nj", "2",
                   "--no-progress")

    ref_dump = root / "ref_dump"
    t_extract, first_extract, n_extract = reference(extract(ref_dump), "the reference vc-extract", npz_count, ref_dump)
    reference(cli("stats", "--data", data, "--feats", ref_dump), "vc-stats", lambda _: 0, ref_dump)
    stats = ref_dump / "stats.npz"

    def train(exp: Path) -> list[str]:
        return cli("train", "--config", root / "train.yaml", "--feats", ref_dump, "--stats", stats, "--exp", exp,
                   "--device", "cpu", "--no-progress", "--resume")

    ref_exp = root / "ref_exp"
    t_train, first_train, n_train = reference(train(ref_exp), "the reference vc-train", steps_saved, ref_exp)
    final = f"step_{TRAIN['trainer']['max_steps']:08d}.pt"

    def convert(out: Path) -> list[str]:
        return cli("convert", "--model", ref_exp, "--data", data, "--targets", "all", "--outdir", out, "--nj", "2",
                   "--no-progress")

    ref_conv = root / "ref_conv"
    t_convert, first_convert, n_convert = reference(convert(ref_conv), "the reference vc-convert", wav_count, ref_conv)
    ref_rows = read_manifest(ref_conv / "manifest.tsv")
    print(f"uninterrupted: vc-extract {t_extract:.1f} s ({len(wav_scp)} utterances), vc-train {t_train:.1f} s "
          f"({TRAIN['trainer']['max_steps']} steps), vc-convert {t_convert:.1f} s ({len(ref_rows)} files)", flush=True)

    # ------------------------------------------------------------------ checks against the reference
    def same_features(out: Path) -> str | None:
        if sorted(read_scp(out / "feats.scp")) != sorted(read_scp(ref_dump / "feats.scp")):
            return "feats.scp lists other utterances"
        if (out / "failed.txt").exists():
            return "failed.txt exists"
        for utt in wav_scp:
            with np.load(ref_dump / f"{utt}.npz") as a, np.load(out / f"{utt}.npz") as b:
                if sorted(a.files) != sorted(b.files):
                    return f"{utt}.npz holds {sorted(b.files)}"
                for key in a.files:
                    if a[key].dtype != b[key].dtype or a[key].tobytes() != b[key].tobytes():
                        return f"{utt}.npz: {key} differs"
        return None

    def same_checkpoint(exp: Path) -> str | None:
        if (exp / "checkpoints" / "latest").read_text().strip() != final:
            return "did not reach the final step"
        if not filecmp.cmp(exp / "checkpoints" / final, ref_exp / "checkpoints" / final, shallow=False):
            return f"{final} differs from the uninterrupted run's"
        return None

    def same_conversions(out: Path) -> str | None:
        if (out / "manifest.tsv").read_bytes() != (ref_conv / "manifest.tsv").read_bytes():
            return "manifest.tsv differs"
        for row in read_manifest(out / "manifest.tsv"):
            path = Path(row.path)
            if not is_complete(path):
                return f"{path.name} is not whole"
            wave, sr = sf.read(str(path))
            if sr != SR or not len(wave) or not np.isfinite(wave).all():
                return f"{path.name} is not valid audio"
            if path.read_bytes() != (ref_conv / path.relative_to(out)).read_bytes():
                return f"{path.name} differs from the uninterrupted run's"
        return None

    tallies = []
    for tally, first, final_count, start, count, check, what in (
            (Tally("vc-extract"), first_extract, n_extract, extract, npz_count, same_features,
             "bit-identical feature sets"),
            (Tally("vc-train"), first_train, n_train, train, steps_saved, same_checkpoint,
             "final checkpoints byte-identical"),
            (Tally("vc-convert"), first_convert, n_convert, convert, wav_count, same_conversions,
             "complete sets of valid audio, byte-identical")):
        inject(tally, kills, rng, first, final_count, start, count, start, check, root)
        tallies.append((tally, what))
        print(tally.line(what), flush=True)
        for problem in tally.problems:
            print(f"  problem: {problem}", flush=True)
    bad = sum(len(t.problems) + (t.kills < kills) for t, _ in tallies)
    print(f"total {time.perf_counter() - t_start:.0f} s; {'all reruns complete and identical' if not bad else f'{bad} problem(s)'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
