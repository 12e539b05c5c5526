"""The image recipes: CelebA data preparation on a fake tree, and (slow) every stage end to end."""
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from PIL import Image
from test_image_data import fake_celeba

REPO = Path(__file__).resolve().parents[1]
CELEBA_RUN = REPO / "egs" / "celeba" / "run.sh"


def run_recipe(script, tmp_path, *args):
    env = dict(os.environ, stage_log_dir=str(tmp_path / "logs"),
               PATH=f"{Path(os.sys.executable).parent}:{os.environ['PATH']}")
    return subprocess.run(["bash", str(script), *map(str, args)], env=env, capture_output=True, text=True,
                          timeout=600)


def test_celeba_recipe_prepares_a_fake_tree(tmp_path):
    root = fake_celeba(tmp_path / "CelebA")
    out = tmp_path / "data"
    proc = run_recipe(CELEBA_RUN, tmp_path, "--celeba_root", root, "--data", out, "--stop_stage", 0,
                      "--image_size", 16, "--crop_size", 20, "--test_count", 4, "--nj", 2)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert Image.open(out / "img_align_celeba" / "000012.png").size == (16, 16)
    assert (out / "list_eval_partition.txt").read_text().splitlines()[3:5] == ["000004.png 2", "000005.png 0"]
    again = run_recipe(CELEBA_RUN, tmp_path, "--celeba_root", root, "--data", out, "--stop_stage", 0,
                       "--image_size", 16, "--crop_size", 20, "--test_count", 4)
    assert again.returncode == 0 and "is up to date" in again.stdout


def test_celeba_recipe_needs_the_corpus_folder(tmp_path):
    proc = run_recipe(CELEBA_RUN, tmp_path, "--data", tmp_path / "data", "--stop_stage", 0)
    assert proc.returncode != 0 and "needs --celeba_root" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_celeba_recipe_all_stages_on_a_fake_tree(tmp_path):
    root = fake_celeba(tmp_path / "CelebA", n=16)
    conf = yaml.safe_load((REPO / "egs" / "celeba" / "conf" / "train.yaml").read_text())
    conf["data"].update(image_size=16, crop_size=20, num_workers=0)
    conf["net"] = {"g_conv_dim": 8, "g_repeat_num": 1, "d_conv_dim": 8, "d_repeat_num": 2}
    conf["data"]["batch_size"] = 4
    conf["trainer"] = {"max_steps": 2, "log_every": 1, "checkpoint_every": 2}
    conf["evaluation"] = {"conv_dim": 4, "repeat_num": 2, "steps": 2, "batch_size": 4}
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(conf))
    exp = tmp_path / "exp"
    proc = run_recipe(CELEBA_RUN, tmp_path, "--celeba_root", root, "--data", tmp_path / "data",
                      "--image_size", 16, "--crop_size", 20, "--test_count", 4, "--conf", tmp_path / "train.yaml",
                      "--exp", exp, "--grid_rows", 2, "--eval_limit", 0, "--device", "cpu")
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    assert Image.open(exp / "grid.png").size == (16 * 10, 16 * 3)
    result = json.loads((exp / "eval.json").read_text())
    assert result["num_images"] == 4 and "identity" in result["methods"]
    assert "identity" in (exp / "eval.txt").read_text()
