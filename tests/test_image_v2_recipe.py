"""StarGAN v2 recipes: AFHQ preparation on a fake tree, option parsing, and the target check."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
AFHQ_RUN = REPO / "egs" / "afhq" / "run.sh"
FONTS_RUN = REPO / "egs" / "fonts_v2" / "run.sh"


def run_recipe(script: Path, tmp_path: Path, *args, **env_vars: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, stage_log_dir=str(tmp_path / "logs"), **env_vars,
               PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    return subprocess.run(["bash", str(script), *map(str, args)], env=env, capture_output=True, text=True,
                          timeout=300)


def fake_afhq(root: Path, domains=("cat", "dog", "wild"), n: int = 3) -> Path:
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for d in domains:
            (root / split / d).mkdir(parents=True)
            for i in range(n):
                arr = rng.integers(0, 256, size=(24, 24, 3), dtype=np.uint8)
                Image.fromarray(arr).save(root / split / d / f"flickr_{d}_{i:06d}.jpg")
    return root


def test_afhq_recipe_prepares_a_fake_tree(tmp_path: Path) -> None:
    root = fake_afhq(tmp_path / "afhq")
    out = tmp_path / "data"
    proc = run_recipe(AFHQ_RUN, tmp_path, "--afhq_root", root, "--data", out, "--image_size", 16, "--stop_stage", 0)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    made = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert len(made) == 2 * 3 * 3 and "val/wild/flickr_wild_000002.png" in made
    assert Image.open(out / "train" / "dog" / "flickr_dog_000001.png").size == (16, 16)
    assert sorted(p.name for p in (root / "train" / "cat").iterdir())[0].endswith(".jpg")  # source untouched
    again = run_recipe(AFHQ_RUN, tmp_path, "--afhq_root", root, "--data", out, "--image_size", 16, "--stop_stage", 0)
    assert again.returncode == 0 and "(0 new)" in again.stdout + again.stderr


def test_afhq_recipe_reports_a_bad_tree(tmp_path: Path) -> None:
    root = fake_afhq(tmp_path / "afhq", n=1)
    (root / "val" / "wild" / "flickr_wild_000000.jpg").unlink()
    proc = run_recipe(AFHQ_RUN, tmp_path, "--afhq_root", root, "--data", tmp_path / "data", "--stop_stage", 0)
    assert proc.returncode != 0 and "val/wild: no images" in proc.stdout + proc.stderr
    proc = run_recipe(AFHQ_RUN, tmp_path, "--data", tmp_path / "data", "--stop_stage", 0)
    assert proc.returncode != 0 and "needs --afhq_root" in proc.stdout + proc.stderr
    proc = run_recipe(AFHQ_RUN, tmp_path, "--afhq_root", root, "--data", root / "copy", "--stop_stage", 0)
    assert proc.returncode != 0 and "inside --afhq_root" in proc.stdout + proc.stderr


def test_fonts_v2_recipe_options_and_targets(tmp_path: Path) -> None:
    proc = run_recipe(FONTS_RUN, tmp_path, "--help")
    assert proc.returncode == 0 and "--grid_num" in proc.stdout
    assert run_recipe(FONTS_RUN, tmp_path, "--no_such_option", 1).returncode != 0
    result = {"step": 10, "domain_accuracy": {"latent": 0.95, "reference": 0.85},
              "style_transfer": {"Bold": 0.9, "Oblique": 0.5}, "diversity_l1": {"latent": 0.05, "reference": 0.04},
              "content_l1": {"latent": {"output": 0.04, "input": 0.05}, "reference": {"output": 0.07, "input": 0.06}}}
    path = tmp_path / "eval.json"
    path.write_text(json.dumps(result))
    check = [sys.executable, str(REPO / "recipes" / "check_targets.py"),
             str(REPO / "egs" / "fonts_v2" / "local" / "targets.yaml"), str(path)]
    proc = subprocess.run(check, capture_output=True, text=True)
    assert proc.returncode == 0 and "some targets missed" in proc.stdout
    lines = {ln.split("  ")[1].strip(): ln for ln in proc.stdout.splitlines() if ln.startswith("  ")}
    assert lines["domain accuracy, latent-guided"].endswith("met")
    assert lines["domain accuracy, reference-guided"].endswith("MISSED")
    assert lines["reference Oblique transferred"].endswith("MISSED")
    assert lines["glyph kept, latent: L1 to it < input's"].endswith("met")
    assert lines["glyph kept, reference: L1 to it < input's"].endswith("MISSED")  # the glyph was lost
    assert subprocess.run(check + ["--strict"], capture_output=True, text=True).returncode == 1


def test_fonts_v2_recipe_trains_the_judges_beside_the_model(tmp_path: Path) -> None:
    """Stage 1 trains the evaluation judges on the core the model leaves idle (when there is one)."""
    import yaml
    from test_image_v2 import tiny_cfg

    from vc.config import save_config
    from vc.image.classifier import CLASSIFIER_DIR, is_trained

    render = tmp_path / "render.yaml"
    render.write_text(yaml.safe_dump({"image_size": 16, "glyphs": "ABCDEab", "test_glyphs": "Ab",
                                      "min_family_distance": 0.0}))
    data, conf = tmp_path / "fonts16", tmp_path / "stargan_v2.yaml"
    cfg = tiny_cfg(data)
    save_config(cfg, conf)
    common = ["--render_conf", render, "--data", data, "--conf", conf, "--device", "cpu", "--stop_stage", 1]
    # an exported thread limit (for the jobs) does not hide the second core
    proc = run_recipe(FONTS_RUN, tmp_path, *common, "--exp", tmp_path / "exp", OMP_NUM_THREADS="1")
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    assert (tmp_path / "exp" / "checkpoints" / "latest").is_file()
    if len(os.sched_getaffinity(0)) >= 2:  # what nproc counts
        assert is_trained(tmp_path / "exp" / CLASSIFIER_DIR, cfg.evaluation)
        assert (tmp_path / "logs" / "train" / "exp.judges.log").is_file()
    proc = run_recipe(FONTS_RUN, tmp_path, *common, "--stage", 1, "--exp", tmp_path / "solo", "--parallel_judges", "false")
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    assert not (tmp_path / "solo" / CLASSIFIER_DIR).exists()  # left to the evaluation stage
