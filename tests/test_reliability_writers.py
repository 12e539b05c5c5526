"""Reliability of the jobs that write folders: one writer per folder, workers that end with their
parent, resume that verifies what it skips, paths kept inside their folder, Ctrl-C reported in
one line."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

import numpy as np
import pytest
import soundfile as sf
import yaml

from vc.convert.batch import run_batch
from vc.convert.manifest import ManifestError, ManifestRow, read_manifest, write_manifest
from vc.workers import session_processes
from vc.convert.synthetic import TINY_NET, random_bundle, speaker_waves, write_data_dir
from vc.data import DataDir
from vc.errors import VCError
from vc.features import FeatureConfig
from vc.fileio import FolderBusyError, folder_lock

from test_train_fixtures import make_dump, tiny_config

REPO = Path(__file__).resolve().parents[1]
SR = 16000
SPEAKERS = {"spkA": 110.0, "spkB": 160.0, "spkC": 220.0}

HOLDER = """
import sys, time
from vc.fileio import folder_lock
with folder_lock(sys.argv[1], sys.argv[2], shard=None if sys.argv[3] == "-" else int(sys.argv[3])):
    print("held", flush=True)
    time.sleep(300)
"""


@contextlib.contextmanager
def held(folder: Path, what: str = "vc-train", shard: int | None = None) -> Iterator[subprocess.Popen]:
    """Another process holding the writer lock of ``folder`` (killed at the end)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder), what, "-" if shard is None else str(shard)],
                            stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


def _wait_until(cond, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def _reap_session(proc: subprocess.Popen) -> None:
    for pid in session_processes(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait()


# ---------------------------------------------------------------------------- the lock itself
def test_second_writer_is_refused_naming_the_holder_and_a_killed_holder_frees_the_folder(tmp_path) -> None:
    exp = tmp_path / "exp"
    with held(exp, "vc-train") as holder:
        with pytest.raises(FolderBusyError, match=rf"vc-train \(PID {holder.pid}, since ") as refused:
            with folder_lock(exp, "vc-train"):
                pass
        assert "\n" not in str(refused.value) and str(exp) in str(refused.value)
        holder.kill()  # SIGKILL: no clean-up runs, the kernel drops the lock
        holder.wait()
        with folder_lock(exp, "vc-train"):
            assert (exp / ".lock").read_text().split("\t")[:2] == [str(os.getpid()), "vc-train"]
            with folder_lock(exp, "vc-train"):  # reentrant within a process (runner, then training loop)
                pass
            assert (exp / ".lock").is_file()
    assert not (exp / ".lock").exists()  # released: the folder is left as it was
    with folder_lock(tmp_path / "new" / "folder", "x"):
        assert (tmp_path / "new" / "folder").is_dir()
    assert not (tmp_path / "new" / "folder").exists()  # created for the lock, left empty: removed


def test_shards_of_one_job_share_the_folder_and_keep_whole_writers_out(tmp_path) -> None:
    out = tmp_path / "out"
    with held(out, "vc-convert shard 1/2", shard=1) as shard1:
        with folder_lock(out, "vc-convert shard 2/2", shard=2):  # side by side
            pass
        with pytest.raises(FolderBusyError, match=rf"shard 1/2 \(PID {shard1.pid}"):
            with folder_lock(out, "vc-convert shard 1/2", shard=1):
                pass
        with pytest.raises(FolderBusyError, match=rf"shard 1/2 \(PID {shard1.pid}"):  # --merge, unsharded run
            with folder_lock(out, "vc-convert --merge"):
                pass
    with held(out, "vc-convert") as whole:
        with pytest.raises(FolderBusyError, match=rf"vc-convert \(PID {whole.pid}"):
            with folder_lock(out, "vc-convert shard 2/2", shard=2):
                pass


# ---------------------------------------------------------------------------- every writer takes it
@pytest.fixture(scope="module")
def voice(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny random bundle and data dirs of 3 speakers x 2, 8 and 8 (longer) utterances."""
    root = tmp_path_factory.mktemp("writers")
    bundle = random_bundle(root / "exp" / "tiny", speaker_waves(SPEAKERS, SR, utts=2, duration=0.5),
                           FeatureConfig(sample_rate=SR, mcep_dim=24), net=TINY_NET)
    out = {"root": root, "bundle": bundle}
    for name, n, duration in (("small", 2, 0.4), ("big", 8, 1.0), ("long", 8, 3.0)):
        write_data_dir(speaker_waves(SPEAKERS, SR, utts=n, duration=duration, seed=7), SR, root / f"wav_{name}",
                       root / name, utt="{spk}_u{i:02d}")
        out[name] = root / name
    return out


def test_batch_conversion_and_extraction_refuse_a_busy_folder(voice, tmp_path) -> None:
    from vc.features.extract import extract_dir, merge_shards

    out = tmp_path / "conv"
    with held(out, "vc-convert"):
        with pytest.raises(FolderBusyError, match="vc-convert"):
            run_batch(voice["bundle"], voice["small"], out, progress=False)
        assert [p.name for p in out.iterdir()] == [".lock"]  # nothing written beside the holder
    with held(out, "vc-convert shard 1/2", shard=1):
        part = run_batch(voice["bundle"], voice["small"], out, num_shards=2, shard=2, progress=False)
        assert part.converted > 0 and not part.failures
        from vc.convert.batch import merge_shards as merge_conversions

        with pytest.raises(FolderBusyError, match="shard 1/2"):
            merge_conversions(voice["bundle"], voice["small"], out)

    dump = tmp_path / "dump"
    data = DataDir.load(voice["small"])
    with held(dump, "vc-extract"):
        with pytest.raises(FolderBusyError, match="vc-extract"):
            extract_dir(data, dump, FeatureConfig(), progress=False)
    with held(dump, "vc-extract shard 2/2", shard=2):
        assert extract_dir(data, dump, FeatureConfig(), num_shards=2, shard=1, progress=False).extracted > 0
        with pytest.raises(FolderBusyError, match="shard 2/2"):
            merge_shards(data, dump, FeatureConfig())


def test_two_training_runs_on_one_exp(tmp_path) -> None:
    """A real vc-train holds its --exp; a second one is refused with the first's PID and leaves the
    bundle's config alone."""
    feats, stats = make_dump(tmp_path / "dump", utts_per_speaker=2)
    conf = tmp_path / "train.yaml"
    conf.write_text(yaml.safe_dump(tiny_config(trainer={"max_steps": 100000, "checkpoint_every": 100000})))
    exp = tmp_path / "exp"
    cmd = [sys.executable, "-m", "vc.cli.train", "--config", str(conf), "--feats", str(feats), "--stats", str(stats),
           "--exp", str(exp), "--device", "cpu", "--no-progress"]
    first = subprocess.Popen([*cmd, "--seed", "1"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait_until(lambda: (exp / "config.yaml").is_file() or first.poll() is not None, 120)
        assert first.poll() is None, "the first run ended early"
        config = (exp / "config.yaml").read_bytes()
        second = subprocess.run([*cmd, "--seed", "7", "-o", "optim.lr_g=0.01", "--resume"], cwd=REPO,
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 1, second.stderr
        refusal = [line for line in second.stderr.splitlines() if "ERROR" in line]
        assert len(refusal) == 1 and f"vc-train (PID {first.pid}, since" in refusal[0], second.stderr
        assert "Traceback" not in second.stderr
        assert (exp / "config.yaml").read_bytes() == config  # run B wrote nothing
    finally:
        first.kill()
        first.wait()
    with folder_lock(exp, "vc-train"):  # the killed run left nothing that blocks a rerun
        pass


def test_image_training_takes_the_lock_of_its_exp(tmp_path) -> None:
    from vc.image.bundle import fit
    from vc.stargan.config import StarGANConfig
    from vc.stargan.train import train as train_stargan

    exp = tmp_path / "img"
    with held(exp, "vc-img-train") as holder:
        with pytest.raises(FolderBusyError, match=f"PID {holder.pid}"):
            train_stargan(StarGANConfig(), exp, progress=False)  # before the data or the bundle files
        cfg = SimpleNamespace(trainer=None, device="cpu", seed=0)
        with pytest.raises(FolderBusyError, match=f"PID {holder.pid}"):
            fit(None, cfg, exp, progress=False)
        assert [p.name for p in exp.iterdir()] == [".lock"]  # the holder's; the refused run wrote nothing


# ---------------------------------------------------------------------------- workers end with their parent
POOL_SCRIPTS = {
    "extract": "import time\nfrom vc.features.parallel import imap_jobs\n"
               "for _ in imap_jobs(time.sleep, [60.0] * 4, 2, progress=False): pass\n",
    "evaluate": "import time\nfrom vc.evaluate.parallel import WorkerPool\n"
                "with WorkerPool(2, progress=False) as pool:\n"
                "    pool.map(time.sleep, [60.0] * 4, desc='x', on_crash=lambda t, e: None)\n",
}


@pytest.mark.parametrize("pool", sorted(POOL_SCRIPTS))
def test_sigkilled_parent_takes_its_pool_workers_along(pool) -> None:
    """The worker pools of vc-extract and vc-evaluate: a SIGKILLed parent leaves no worker behind."""
    proc = subprocess.Popen([sys.executable, "-c", POOL_SCRIPTS[pool]], cwd=REPO, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # parent + 2 workers (+ the fork server for extraction), all started and at work
        assert _wait_until(lambda: len(session_processes(proc.pid)) >= 3 + (pool == "extract"), 60)
        time.sleep(1.0)
        proc.kill()
        proc.wait()
        assert _wait_until(lambda: not session_processes(proc.pid), 10), f"left running: {session_processes(proc.pid)}"
    finally:
        _reap_session(proc)


def _convert_cmd(voice, out: Path, nj: int = 2, data: str = "big") -> list[str]:
    return [sys.executable, "-m", "vc.cli.convert", "--model", str(voice["bundle"]), "--data", str(voice[data]),
            "--targets", "all", "--outdir", str(out), "--nj", str(nj), "--no-progress"]


def _outputs(out: Path) -> list[Path]:
    return sorted(p for p in out.glob("wav/*/*.wav") if not p.name.startswith("."))


def test_sigkilled_batch_conversion_takes_its_workers_along(voice, tmp_path) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen(_convert_cmd(voice, out, data="long"), cwd=REPO, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait_until(lambda: len(_outputs(out)) >= 4 or proc.poll() is not None, 120)
        assert proc.poll() is None, "finished before it could be killed"
        proc.kill()
        proc.wait()
        assert _wait_until(lambda: not session_processes(proc.pid), 2), f"left running: {session_processes(proc.pid)}"
        left = len(_outputs(out))
        time.sleep(1.0)
        assert len(_outputs(out)) == left < 48  # nothing writes there any more
    finally:
        _reap_session(proc)


def test_ctrl_c_during_batch_conversion_says_how_far_it_got(voice, tmp_path) -> None:
    out = tmp_path / "out"
    proc = subprocess.Popen(_convert_cmd(voice, out), cwd=REPO, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_until(lambda: len(_outputs(out)) >= 4 or proc.poll() is not None, 120)
        assert proc.poll() is None, "finished before it could be interrupted"
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
        line = [ln for ln in err.splitlines() if "interrupted" in ln]
        assert len(line) == 1 and "of 48 conversion(s) done" in line[0] and "run the same command again" in line[0]
        assert _wait_until(lambda: not session_processes(proc.pid), 10)
    finally:
        _reap_session(proc)
    done = len(_outputs(out))
    rerun = subprocess.run(_convert_cmd(voice, out), cwd=REPO, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert len(read_manifest(out / "manifest.tsv")) == 48 and f"skipped {done}" in rerun.stderr


# ---------------------------------------------------------------------------- resume verifies what it skips
def test_resume_converts_again_an_output_cut_short(voice, tmp_path, caplog) -> None:
    out = tmp_path / "out"
    first = run_batch(voice["bundle"], voice["small"], out, targets="spkB", progress=False)
    assert first.converted == 4
    victim = out / "wav" / "spkB" / "spkA_u00_to_spkB.wav"
    whole = victim.read_bytes()
    victim.write_bytes(whole[:3000])  # header intact, data cut short, as a copy interrupted midway
    assert sf.info(str(victim)).frames > 0  # soundfile alone reads it as a (shorter) valid file
    caplog.set_level("WARNING")
    again = run_batch(voice["bundle"], voice["small"], out, targets="spkB", progress=False)
    assert (again.converted, again.skipped) == (1, 3)
    assert "cut short" in caplog.text and "spkA_u00_to_spkB.wav" in caplog.text
    assert victim.read_bytes() == whole


def test_extraction_resume_recomputes_a_truncated_feature_file(voice, tmp_path) -> None:
    from vc.features.extract import extract_dir

    data = DataDir.load(voice["small"])
    dump = tmp_path / "dump"
    extract_dir(data, dump, FeatureConfig(), progress=False)
    victim = dump / f"{data.utts[0]}.npz"
    whole = np.load(victim)["mcep"]
    victim.write_bytes(victim.read_bytes()[:-100])
    summary = extract_dir(data, dump, FeatureConfig(), progress=False)
    assert (summary.extracted, summary.skipped) == (1, len(data.utts) - 1)
    np.testing.assert_array_equal(np.load(victim)["mcep"], whole)


# ---------------------------------------------------------------------------- paths stay inside their folder
def test_manifest_paths_outside_their_folder_are_refused(tmp_path) -> None:
    (tmp_path / "conv" / "wav").mkdir(parents=True)
    manifest = tmp_path / "conv" / "manifest.tsv"
    for bad in ("/etc/passwd", "../secret.wav", "wav/../../secret.wav"):
        manifest.write_text(f"utt\tsrc_spk\ttgt_spk\tpath\nu1\ta\tb\twav/ok.wav\nu2\ta\tb\t{bad}\n")
        with pytest.raises(ManifestError, match=r"manifest.tsv:3: .* lies outside"):
            read_manifest(manifest)
        rows = read_manifest(manifest, allow_outside=True)
        assert rows[1].path == str((manifest.parent / bad).resolve())
    # an output folder whose wav/ links to another disk still lists its files inside it
    (tmp_path / "disk").mkdir()
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "wav").symlink_to(tmp_path / "disk")
    write_manifest(tmp_path / "linked" / "manifest.tsv",
                   [ManifestRow("u1", "a", "b", str(tmp_path / "linked" / "wav" / "u1.wav"))])
    assert "\twav/u1.wav" in (tmp_path / "linked" / "manifest.tsv").read_text()
    assert len(read_manifest(tmp_path / "linked" / "manifest.tsv")) == 1


def test_vc_evaluate_refuses_a_manifest_pointing_outside_unless_allowed(voice, tmp_path, caplog) -> None:
    from vc.cli.evaluate import main as evaluate_main

    manifest = tmp_path / "conv" / "manifest.tsv"
    manifest.parent.mkdir()
    manifest.write_text("utt\tsrc_spk\ttgt_spk\tpath\nspkA_u00\tspkA\tspkB\t/etc/passwd\n")
    args = ["--manifest", str(manifest), "--ref-data", str(voice["small"]), "--speaker-encoder", "none",
            "--no-cache", "--no-progress", "--out", str(tmp_path / "scores.json"), "--page", str(tmp_path / "page")]
    caplog.set_level("INFO")
    assert _exit_code(evaluate_main, args) == 2
    assert "/etc/passwd" in caplog.text and "outside" in caplog.text and "--allow-outside-paths" in caplog.text
    assert not (tmp_path / "scores.json").exists() and not (tmp_path / "page").exists()
    caplog.clear()
    code = _exit_code(evaluate_main, [*args, "--allow-outside-paths"])
    assert "lies outside" not in caplog.text
    assert code == 1  # allowed: read, and then it fails as audio, listed as an utterance not scored
    assert json.loads((tmp_path / "scores.json").read_text())


def _exit_code(main, args) -> int:
    try:
        return int(main(args) or 0)
    except SystemExit as exc:
        return int(exc.code or 0)


def test_latest_checkpoint_outside_its_bundle_is_refused(voice, tmp_path) -> None:
    import shutil

    from vc.convert.converter import Converter
    from vc.gan.checkpoint import CheckpointError, CheckpointManager

    bundle = tmp_path / "bundle"
    shutil.copytree(voice["bundle"], bundle)
    outside = tmp_path / "elsewhere.pt"
    shutil.copy(bundle / "checkpoints" / "step_00000000.pt", outside)
    for name in ("../../elsewhere.pt", str(outside), "..", "sub/step_00000000.pt"):
        (bundle / "checkpoints" / "latest").write_text(name + "\n")
        with pytest.raises(CheckpointError, match="latest: names .* not a file in"):
            CheckpointManager(bundle / "checkpoints").latest()
        with pytest.raises(VCError, match="latest: names .* not a file in"):
            Converter.from_bundle(bundle)
    (bundle / "checkpoints" / "latest").write_text("step_00000000.pt\n")
    assert CheckpointManager(bundle / "checkpoints").latest() == bundle / "checkpoints" / "step_00000000.pt"


# ---------------------------------------------------------------------------- resumed training, byte for byte
def test_resumed_training_writes_the_same_checkpoint_file(tmp_path) -> None:
    """The final checkpoint of a resumed run is byte-identical to an uninterrupted run's (equal
    tensors alone are not enough for sha256sum to compare runs)."""
    import torch

    from vc.config import from_dict
    from vc.stargan_vc.config import StarGANVCConfig
    from vc.stargan_vc.train import train

    feats, stats = make_dump(tmp_path / "dump", utts_per_speaker=2)
    cfg = from_dict(StarGANVCConfig, tiny_config(trainer={"max_steps": 4, "checkpoint_every": 2}))
    train(cfg, feats, stats, tmp_path / "straight", device="cpu", progress=False)
    train(cfg, feats, stats, tmp_path / "resumed", device="cpu", until=2, progress=False)
    train(cfg, feats, stats, tmp_path / "resumed", device="cpu", resume=True, progress=False)
    final = "checkpoints/step_00000004.pt"
    assert (tmp_path / "straight" / final).read_bytes() == (tmp_path / "resumed" / final).read_bytes()
    state = torch.load(tmp_path / "resumed" / final, weights_only=True)
    assert hasattr(state["nets"]["G"], "_metadata")  # the modules' state-dict versions are kept


def test_an_output_folder_that_is_a_file_is_one_line(tmp_path) -> None:
    from vc.fileio import OutputFolderError

    (tmp_path / "taken").write_text("x")
    with pytest.raises(OutputFolderError, match="exists and is not a folder"):
        with folder_lock(tmp_path / "taken", "vc-extract"):
            pass


@pytest.mark.slow
def test_fault_injection_bench_finds_every_rerun_complete_and_identical() -> None:
    """bench/fault_injection.py with 2 kills per command (the full run uses 10)."""
    run = subprocess.run([sys.executable, "bench/fault_injection.py", "--kills", "2", "--seed", "1"], cwd=REPO,
                         capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert "all reruns complete and identical" in run.stdout
