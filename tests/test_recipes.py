"""Recipe plumbing: Kaldi-style option parsing, stage selection and logs, the local and Slurm job
runners, and stage 0 of the recipes on small generated corpora (run in copies of the recipe
folders, so the checkout's egs/ stays clean)."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
RECIPES = REPO / "recipes"
BASH = shutil.which("bash")

pytestmark = pytest.mark.skipif(BASH is None, reason="recipes are bash scripts; bash is not installed")


def run_bash(script: Path | str, *args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([BASH, str(script), *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120)


def write_script(path: Path, body: str) -> Path:
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ parse_options.sh

OPTIONS_RECIPE = f"""
    #!/usr/bin/env bash
    set -euo pipefail
    stage=0          # first stage to run
    stop_stage=5     # last stage to run
    a_b=x            # an option with an underscore
    flag=false       # a boolean
    empty=           # empty by default
    help_message="Usage: r.sh [options] -- a test recipe"
    . {RECIPES}/parse_options.sh
    not_an_option=1
    echo "stage=$stage stop_stage=$stop_stage a_b=$a_b flag=$flag empty=$empty rest=$*"
"""


@pytest.fixture
def options_recipe(tmp_path: Path) -> Path:
    return write_script(tmp_path / "r.sh", OPTIONS_RECIPE)


def test_options_both_forms_and_dashes(options_recipe, tmp_path):
    res = run_bash(options_recipe, "--stage", "2", "--a-b=c d", "--stop-stage=3", "--empty", "", "pos1", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "stage=2 stop_stage=3 a_b=c d flag=false empty= rest=pos1"


def test_options_defaults_kept(options_recipe, tmp_path):
    res = run_bash(options_recipe, cwd=tmp_path)
    assert res.stdout.strip() == "stage=0 stop_stage=5 a_b=x flag=false empty= rest="


@pytest.mark.parametrize("args, message", [
    (["--nope", "1"], "unknown option --nope"),
    (["--not_an_option", "2"], "unknown option --not_an_option"),  # declared after sourcing
    (["--PATH", "/x"], "unknown option --PATH"),                    # set, but not declared
    (["--stage"], "option --stage needs a value"),
    (["--flag", "yes"], "option --flag takes true or false, got 'yes'"),
])
def test_options_errors(options_recipe, tmp_path, args, message):
    res = run_bash(options_recipe, *args, cwd=tmp_path)
    assert res.returncode == 1
    assert message in res.stderr and "--help" in res.stderr
    assert res.stdout == ""  # the recipe body never ran


def test_options_help_lists_declared_options_with_defaults(options_recipe, tmp_path):
    res = run_bash(options_recipe, "--stage", "3", "--help", cwd=tmp_path)
    assert res.returncode == 0 and res.stdout.startswith("Usage: r.sh [options] -- a test recipe")
    lines = res.stdout.splitlines()
    stage_line = next(line for line in lines if line.strip().startswith("--stage "))
    assert "first stage to run" in stage_line and "[default: '0']" in stage_line  # the default, not 3
    assert any(line.strip().startswith("--a_b ") and "an option with an underscore" in line for line in lines)
    assert not any("not_an_option" in line or "help_message" in line for line in lines)


def test_options_config_file_then_command_line(options_recipe, tmp_path):
    (tmp_path / "c.conf").write_text("# comment\nstage=7\nflag=true\n", encoding="utf-8")
    res = run_bash(options_recipe, "--stop_stage", "9", "--config", "c.conf", "--stage", "1", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("stage=1 stop_stage=9 a_b=x flag=true ")  # command line wins over the file
    (tmp_path / "bad.conf").write_text("stage=1\nnot_an_option=3\n", encoding="utf-8")
    res = run_bash(options_recipe, "--config=bad.conf", cwd=tmp_path)
    assert res.returncode == 1 and "bad.conf:2: unknown option 'not_an_option'" in res.stderr


@pytest.mark.parametrize("recipe", ["demo", "vctk", "tibetan"])
def test_every_recipe_declares_the_common_options(recipe):
    res = run_bash(REPO / "egs" / recipe / "run.sh", "--help", cwd=REPO)
    assert res.returncode == 0, res.stderr
    declared = {line.split()[0] for line in res.stdout.splitlines() if line.startswith("  --")}
    assert {"--stage", "--stop_stage", "--nj", "--exp", "--conf"} <= declared
    res = run_bash(REPO / "egs" / recipe / "run.sh", "--stage", "0", "--no_such_option", "1", cwd=REPO)
    assert res.returncode == 1 and "unknown option --no_such_option" in res.stderr


@pytest.mark.parametrize("recipe", sorted(p.parent.name for p in (REPO / "egs").glob("*/run.sh")))
def test_every_recipe_has_help(recipe):
    res = run_bash(REPO / "egs" / recipe / "run.sh", "--help", cwd=REPO)
    assert res.returncode == 0 and "--stage " in res.stdout, res.stderr


def test_one_cmd_sh_whose_resources_a_recipe_can_override(tmp_path):
    assert not list(REPO.glob("egs/*/cmd.sh"))  # every run.sh sources recipes/cmd.sh
    script = write_script(tmp_path / "c.sh", f"""
        : "${{train_slurm:=--gpu 1 --time 24:00:00}}"
        . {RECIPES}/cmd.sh
        echo "$extract_cmd|$train_cmd"
    """)
    res = run_bash(script, cwd=tmp_path)
    assert res.stdout.strip() == "../../recipes/run_local.sh|../../recipes/run_local.sh"
    res = run_bash(script, cwd=tmp_path, env={"VC_CMD_BACKEND": "slurm"})
    assert res.stdout.strip() == ("../../recipes/run_slurm.sh --mem 2G --time 1:00:00|"
                                  "../../recipes/run_slurm.sh --gpu 1 --time 24:00:00")
    res = run_bash(script, cwd=tmp_path, env={"VC_CMD_BACKEND": "pbs"})
    assert res.returncode == 1 and "must be local or slurm" in res.stderr


# ------------------------------------------------------------------------------ stages.sh

STAGES_RECIPE = f"""
    #!/usr/bin/env bash
    set -euo pipefail
    stage=0        # first stage
    stop_stage=5   # last stage
    fail_at=-1     # stage that fails
    . {RECIPES}/parse_options.sh
    . {RECIPES}/stages.sh
    work() {{
      echo "working in stage $1"
      echo "$1" >> ran.txt
      if [ "$1" = "$fail_at" ]; then false; fi
      echo "after the failing command of stage $1"
    }}
    for n in 0 1 2 3 4 5; do run_stage $n "stage number $n" work $n; done
"""


@pytest.fixture
def stages_recipe(tmp_path: Path) -> Path:
    return write_script(tmp_path / "s.sh", STAGES_RECIPE)


def test_stage_selection_logs_and_summary(stages_recipe, tmp_path):
    res = run_bash(stages_recipe, "--stage", "2", "--stop_stage", "3", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "ran.txt").read_text().split() == ["2", "3"]
    log2 = (tmp_path / "exp/logs/stage2.log").read_text()
    assert "==== stage 2: stage number 2" in log2 and "working in stage 2" in log2 and "stage 2 done in" in log2
    assert "# options: stage=2 stop_stage=3 fail_at=-1" in log2
    assert not (tmp_path / "exp/logs/stage1.log").exists() and not (tmp_path / "exp/logs/stage4.log").exists()
    summary = res.stdout[res.stdout.index("Stage timing"):]
    assert "stage number 2" in summary and "stage number 3" in summary and "total" in summary
    assert "stage number 4" not in summary


def test_failing_stage_stops_the_recipe(stages_recipe, tmp_path):
    res = run_bash(stages_recipe, "--fail_at", "1", cwd=tmp_path)
    assert res.returncode == 1
    assert (tmp_path / "ran.txt").read_text().split() == ["0", "1"]  # stage 2 never started
    assert "stage 1 FAILED (exit 1)" in res.stderr
    log1 = (tmp_path / "exp/logs/stage1.log").read_text()
    assert "working in stage 1" in log1 and "after the failing command" not in log1  # set -e inside the stage
    assert "FAILED" in res.stdout[res.stdout.index("Stage timing"):]


def test_stamps_follow_their_inputs(tmp_path):
    script = write_script(tmp_path / "st.sh", f"""
        #!/usr/bin/env bash
        set -euo pipefail
        stage=0
        stop_stage=0
        . {RECIPES}/parse_options.sh
        . {RECIPES}/stages.sh
        if stamp_ok d/.done key in.txt; then echo skip; else echo work; stamp_write d/.done key in.txt; fi
    """)
    (tmp_path / "in.txt").write_text("a\n")
    outputs = []
    for change in (None, None, "b\n", None):
        if change:
            (tmp_path / "in.txt").write_text(change)
        outputs.append(run_bash(script, cwd=tmp_path).stdout.split()[0])
    assert outputs == ["work", "skip", "work", "skip"]


# ------------------------------------------------------------------------------ job runners

def test_run_local_substitutes_job_and_reports_failures(tmp_path):
    res = run_bash(RECIPES / "run_local.sh", "JOB=1:3", "log dir/x.JOB.log",
                   "bash", "-c", 'echo "job JOB got $0"; [ JOB != 2 ]', "arg with spaces JOB", cwd=tmp_path)
    assert res.returncode == 1
    assert "1 of 3 jobs failed (JOB=2)" in res.stderr and "log dir/x.2.log" in res.stderr
    for i in (1, 2, 3):
        log = (tmp_path / f"log dir/x.{i}.log").read_text()
        assert f"job {i} got arg with spaces {i}" in log
        assert log.rstrip().splitlines()[-1].startswith(f"# Ended (code {0 if i != 2 else 1})")
    res = run_bash(RECIPES / "run_local.sh", "--max-jobs-run", "1", "JOB=1:2", "log/y.JOB.log", "echo", "out JOB", cwd=tmp_path)
    assert res.returncode == 0 and "\nout 2\n" in (tmp_path / "log/y.2.log").read_text()


def test_run_local_single_job_and_bad_log_name(tmp_path):
    res = run_bash(RECIPES / "run_local.sh", "log/one.log", "echo", "visible", cwd=tmp_path)
    assert res.returncode == 0 and "visible" in res.stdout  # a single job is shown as well as logged
    assert "visible" in (tmp_path / "log/one.log").read_text()
    res = run_bash(RECIPES / "run_local.sh", "JOB=1:2", "log/shared.log", "true", cwd=tmp_path)
    assert res.returncode == 2 and "must contain JOB" in res.stderr


FAKE_SBATCH = """
    #!/usr/bin/env bash
    # Records its command line, then runs the batch script once per array task, as Slurm would.
    printf '%s\\n' "$@" > "$FAKE_SBATCH_RECORD"
    array=""
    for a in "$@"; do case $a in --array=*) array=${a#--array=}; array=${array%%%*} ;; esac; done
    script=${@: -1}
    echo 4242
    rc=0
    for ((t = ${array%-*}; t <= ${array#*-}; t++)); do
      SLURM_ARRAY_TASK_ID=$t SLURM_JOB_ID=4242 bash "$script" || { r=$?; [ $r -gt $rc ] && rc=$r; }
    done
    exit $rc
"""


def test_run_slurm_submits_an_array_and_checks_every_task(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sbatch = write_script(bin_dir / "sbatch", FAKE_SBATCH)
    sbatch.chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_SBATCH_RECORD": str(tmp_path / "record")}
    res = run_bash(RECIPES / "run_slurm.sh", "--mem", "2G", "--gpu", "1", "--time", "1:00:00", "--max-jobs-run", "2",
                   "JOB=1:3", "log/extract.JOB.log", "bash", "-c", 'echo "task JOB $0"; [ JOB != 3 ]', "a b JOB",
                   cwd=tmp_path, env=env)
    argv = (tmp_path / "record").read_text().splitlines()
    assert argv[:3] == ["--wait", "--parsable", "--job-name=extract"]
    assert {"--array=1-3%2", "--mem=2G", "--gres=gpu:1", "--time=1:00:00",
            "--output=log/q/extract.%A_%a.out"} <= set(argv)
    assert argv[-1] == "log/q/extract.sh"
    script = (tmp_path / "log/q/extract.sh").read_text()
    assert "SLURM_ARRAY_TASK_ID" in script and f"cd {tmp_path}" in script
    for i in (1, 2):
        assert f"task {i} a b {i}" in (tmp_path / f"log/extract.{i}.log").read_text()
    assert res.returncode == 1 and "1 of 3 tasks failed or did not finish (JOB=3)" in res.stderr


def test_run_slurm_single_job(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    write_script(bin_dir / "sbatch", FAKE_SBATCH.replace("array=\"\"", "array=\"1-1\"")).chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_SBATCH_RECORD": str(tmp_path / "record")}
    res = run_bash(RECIPES / "run_slurm.sh", "log/train.log", "echo", "trained", cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    argv = (tmp_path / "record").read_text().splitlines()
    assert not any(a.startswith("--array") for a in argv)
    assert "trained" in (tmp_path / "log/train.log").read_text()


# ------------------------------------------------------------------------------ recipes, stage 0

def copy_recipe(name: str, dest: Path) -> Path:
    """A copy of egs/<name> and recipes/ under dest, so stage outputs land in tmp."""
    ignore = shutil.ignore_patterns("data", "dump", "exp", "corpus", "downloads")
    shutil.copytree(REPO / "egs" / name, dest / "egs" / name, ignore=ignore)
    shutil.copytree(RECIPES, dest / "recipes")
    return dest / "egs" / name


def tool_env() -> dict[str, str]:
    """PATH with this interpreter's bin first: the vc-* console scripts of the environment under test."""
    return {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


needs_preparers = pytest.mark.skipif(
    importlib.util.find_spec("vc.data.corpora") is None
    or shutil.which("vc-prepare-data", path=tool_env()["PATH"]) is None,
    reason="vc-prepare-data and its corpus preparers (vc.data.corpora) are not installed",
)


def tone(seconds: float, sr: int, f0: float) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return 0.3 * np.sin(2 * np.pi * f0 * t)


def read_table(path: Path) -> dict[str, str]:
    return dict(line.split(maxsplit=1) for line in path.read_text(encoding="utf-8").splitlines())


@needs_preparers
def test_vctk_stage0_on_a_fake_release(tmp_path):
    speakers = ["p225", "p228", "p229", "p230", "p226", "p227", "p232", "p237"]
    root = tmp_path / "VCTK-Corpus-0.92"
    for k, spk in enumerate(speakers + ["p999"]):  # p999 is not in conf/speakers.txt
        (root / "wav48_silence_trimmed" / spk).mkdir(parents=True)
        (root / "txt" / spk).mkdir(parents=True)
        for n in range(1, 26):  # 001-022 read by everyone, 023-025 this speaker's own
            text = f"Shared sentence number {n}." if n <= 22 else f"Own sentence {n} of {spk}."
            sf.write(root / "wav48_silence_trimmed" / spk / f"{spk}_{n:03d}_mic1.flac", tone(0.3, 48000, 100 + 10 * k), 48000)
            (root / "txt" / spk / f"{spk}_{n:03d}.txt").write_text(text + "\n", encoding="utf-8")
    recipe = copy_recipe("vctk", tmp_path / "repo")
    res = run_bash(recipe / "run.sh", "--stage", "0", "--stop_stage", "0", "--vctk_root", str(root),
                   cwd=tmp_path, env=tool_env())
    assert res.returncode == 0, res.stdout + res.stderr
    data = recipe / "data"
    spk_in = {s for d in ("train", "dev", "eval") for s in read_table(data / d / "utt2spk").values()}
    assert spk_in == set(speakers)
    eval_text = read_table(data / "eval" / "text")
    assert len(set(eval_text.values())) == 15 and all(t.startswith("Shared") for t in eval_text.values())
    assert len(eval_text) == 15 * len(speakers)  # every eval sentence by every speaker: parallel references
    assert not set(eval_text.values()) & set(read_table(data / "train" / "text").values())
    assert (recipe / "exp/logs/stage0.log").is_file()
    again = run_bash(recipe / "run.sh", "--stage", "0", "--stop_stage", "0", "--vctk_root", str(root),
                     cwd=tmp_path, env=tool_env())
    assert again.returncode == 0 and "up to date" in again.stdout


@needs_preparers
def test_tibetan_stage0_keeps_the_largest_speakers(tmp_path):
    root = tmp_path / "corpus"
    for spk, count in {"spkA": 20, "spkB": 18, "spkC": 12}.items():
        (root / spk).mkdir(parents=True)
        for n in range(count):
            sf.write(root / spk / f"{spk}_{n:03d}.wav", tone(0.3, 16000, 120 + n), 16000)
            (root / spk / f"{spk}_{n:03d}.txt").write_text(f"ཀ་ཁ {spk} {n}\n", encoding="utf-8")
    recipe = copy_recipe("tibetan", tmp_path / "repo")
    res = run_bash(recipe / "run.sh", "--stop_stage", "0", "--corpus_root", str(root), "--layout", "speaker-dirs",
                   "--num_speakers", "2", "--dev_utts", "2", "--eval_utts", "3", cwd=tmp_path, env=tool_env())
    assert res.returncode == 0, res.stdout + res.stderr
    eval_spk = list(read_table(recipe / "data/eval/utt2spk").values())
    assert sorted(set(eval_spk)) == ["spkA", "spkB"] and len(eval_spk) == 2 * 3
    assert len(read_table(recipe / "data/train/utt2spk")) == (20 - 5) + (18 - 5)


@needs_preparers
@pytest.mark.skipif(shutil.which("flite") is None, reason="flite is not installed (apt-get install flite)")
def test_demo_stage0_small_corpus(tmp_path):
    recipe = copy_recipe("demo", tmp_path / "repo")
    res = run_bash(recipe / "run.sh", "--stop_stage", "0", "--voices", "slt,rms", "--num_sentences", "8",
                   "--dev_sentences", "2", "--eval_sentences", "2", "--nj", "2", cwd=tmp_path, env=tool_env())
    assert res.returncode == 0, res.stdout + res.stderr
    eval_text = read_table(recipe / "data/eval/text")
    assert len(eval_text) == 4 and len(set(eval_text.values())) == 2
    assert len(read_table(recipe / "data/train/wav.scp")) == 8
    assert len(list((recipe / "corpus" / "slt").glob("*.wav"))) == 8


# ------------------------------------------------------------------------------ stages 1-5 (recipes/vc_stages.sh)

FAKE_TOOL = """
    #!/usr/bin/env bash
    # Stand-in for the vc-* commands: records its command line and writes the files the next
    # stage reads, so the recipe's own logic (shards, merges, resume, skipping) is what is tested.
    name=$(basename "$0")
    echo "$name $*" >> "$FAKE_RECORD"
    get() { local want=$1; shift; while [ $# -gt 0 ]; do [ "$1" = "$want" ] && { echo "$2"; return; }; shift; done; }
    has() { local want=$1; shift; for a; do [ "$a" = "$want" ] && return 0; done; return 1; }
    case $name in
      vc-extract)
        has --shard "$@" || { mkdir -p "$(get --out "$@")"; cp "$(get --data "$@")/wav.scp" "$(get --out "$@")/feats.scp"; } ;;
      vc-stats) echo stats > "$(get --out "$@")" ;;
      vc-train)
        exp=$(get --exp "$@"); mkdir -p "$exp/checkpoints"
        echo "step_$(get --max-steps "$@").pt" > "$exp/checkpoints/latest"; echo s > "$exp/stats.npz" ;;
      vc-convert)
        has --shard "$@" || { mkdir -p "$(get --outdir "$@")"; echo "utt src tgt path" > "$(get --outdir "$@")/manifest.tsv"; } ;;
      vc-evaluate)
        if has --results-md "$@"; then echo "# RESULTS" > "$(get --results-md "$@")"
        else echo '{}' > "$(get --out "$@")"; echo "the score table"; fi ;;
    esac
"""


def fake_tools(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    tool = write_script(bin_dir / "fake-tool", FAKE_TOOL)
    tool.chmod(0o755)
    for name in ("vc-prepare-data", "vc-extract", "vc-stats", "vc-train", "vc-convert", "vc-evaluate"):
        (bin_dir / name).symlink_to(tool)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_RECORD": str(tmp_path / "calls.txt")}


def calls(tmp_path: Path) -> list[str]:
    record = tmp_path / "calls.txt"
    lines = record.read_text().splitlines() if record.exists() else []
    record.unlink(missing_ok=True)
    return lines


def demo_with_data_dirs(tmp_path: Path) -> Path:
    """A copy of the demo recipe whose stage 0 is done: one utterance in each data dir."""
    recipe = copy_recipe("demo", tmp_path / "repo")
    for name in ("train", "dev", "eval"):
        (recipe / "data" / name).mkdir(parents=True)
        (recipe / "data" / name / "wav.scp").write_text(f"{name}_u1 /x/{name}_u1.wav\n")
    return recipe


def test_stages_1_to_5_commands_skip_and_resume(tmp_path):
    recipe = demo_with_data_dirs(tmp_path)
    env = fake_tools(tmp_path)
    args = ("--stage", "1", "--nj", "3", "--max_steps", "7", "--exp", "exp/m")
    res = run_bash(recipe / "run.sh", *args, cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    made = calls(tmp_path)
    for name in ("train", "dev", "eval"):
        shards = [c for c in made if c.startswith(f"vc-extract --data data/{name} ") and "--shard" in c]
        assert sorted(c.split("--shard ")[1].split()[0] for c in shards) == ["1", "2", "3"]
        assert all("--num-shards 3" in c and "--conf conf/feats.yaml" in c for c in shards)
        # training reads no aperiodicity: its set is analysed without D4C (shards and merge alike)
        opt = " --no-aperiodicity" if name == "train" else ""
        assert all(("--no-aperiodicity" in c) == (name == "train") for c in shards)
        assert f"vc-extract --data data/{name} --out dump/{name} --conf conf/feats.yaml{opt} --merge" in made
    assert "vc-stats --data data/train --feats dump/train --out dump/train/stats.npz --no-progress" in made
    train = [c for c in made if c.startswith("vc-train")]
    assert len(train) == 1 and "--max-steps 7" in train[0] and "--dev-feats dump/dev" in train[0]
    assert "--resume" not in train[0] and "--exp exp/m" in train[0]
    convert = [c for c in made if c.startswith("vc-convert")]
    assert len(convert) == 8  # (3 shards + merge) x (model, baseline)
    assert sum("--baseline stats" in c for c in convert) == 4
    assert any("--outdir exp/m/convert_baseline/eval" in c and "--merge" in c for c in convert)
    evaluate = [c for c in made if c.startswith("vc-evaluate")][0]
    assert "--manifest exp/m/convert/eval/manifest.tsv" in evaluate
    assert "--manifest exp/m/convert_baseline/eval/manifest.tsv" in evaluate
    assert "the score table" in res.stdout and (recipe / "exp/m/scores.txt").read_text() == "the score table\n"
    assert "vc-evaluate --results-md exp/m/RESULTS.md exp/m/scores.json" in made  # after the scores
    assert (recipe / "exp/m/RESULTS.md").read_text() == "# RESULTS\n"
    assert (recipe / "exp/logs/extract/train.3.log").is_file()

    # a rerun finds every stage done and runs nothing
    res = run_bash(recipe / "run.sh", *args, cwd=tmp_path, env=env)
    assert res.returncode == 0 and calls(tmp_path) == []
    # more training steps: the training stamp no longer matches, training resumes from its checkpoint,
    # and the conversions and scores that depend on the model are made again
    res = run_bash(recipe / "run.sh", *args[:-4], "--max_steps", "9", "--exp", "exp/m", cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    made = calls(tmp_path)
    assert [c for c in made if c.startswith("vc-train")][0].endswith("--max-steps 9 --resume")
    assert not any(c.startswith(("vc-extract", "vc-stats")) for c in made)
    assert sum(c.startswith("vc-convert") for c in made) == 8 and sum(c.startswith("vc-evaluate --manifest") for c in made) == 1


def test_train_seed_changes_training_only(tmp_path):
    recipe = demo_with_data_dirs(tmp_path)
    env = fake_tools(tmp_path)
    args = ("--stage", "1", "--max_steps", "7", "--exp", "exp/m")
    assert run_bash(recipe / "run.sh", *args, cwd=tmp_path, env=env).returncode == 0
    train = [c for c in calls(tmp_path) if c.startswith("vc-train")]
    assert len(train) == 1 and " --seed 1 " in f"{train[0]} "  # the recipe's seed by default
    res = run_bash(recipe / "run.sh", *args, "--train_seed", "4", cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    made = calls(tmp_path)
    train = [c for c in made if c.startswith("vc-train")]
    assert len(train) == 1 and " --seed 4 " in f"{train[0]} "
    assert not any(c.startswith(("vc-extract", "vc-stats")) for c in made)  # same features, same split


# ------------------------------------------------------------------------------ recipes/check_targets.py

def test_check_targets_reads_each_recipes_targets_file(tmp_path):
    result = {"step": 5, "methods": {"stargan": {"accuracy": {"Sans": 0.95, "Bold": 0.85}, "l1": 0.044},
                                     "identity": {"accuracy": {"Sans": 0.5, "Bold": 0.5}, "l1": 0.0559}}}
    path = tmp_path / "eval.json"
    path.write_text(json.dumps(result))
    check = [sys.executable, str(RECIPES / "check_targets.py"), str(REPO / "egs/fonts/local/targets.yaml"), str(path)]
    res = subprocess.run(check, capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.splitlines()[0] == "targets (step 5):"
    lines = {ln.split("  ")[1].strip(): ln for ln in res.stdout.splitlines() if ln.startswith("  ")}
    assert lines["accuracy Sans"].endswith("met") and lines["accuracy Bold"].endswith("MISSED")
    assert "0.787 (<= 0.800)  met" in lines["L1 to the truth / identity's L1"]
    assert "some targets missed" in res.stdout
    assert subprocess.run(check + ["--strict"], capture_output=True, text=True).returncode == 1
    del result["methods"]["stargan"]["l1"]  # no ground truth: the L1 target is left out
    result["methods"]["stargan"]["accuracy"]["Bold"] = 0.95
    path.write_text(json.dumps(result))
    res = subprocess.run(check + ["--strict"], capture_output=True, text=True)
    assert res.returncode == 0 and "L1" not in res.stdout and "all targets met" in res.stdout
