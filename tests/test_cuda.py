"""The CUDA paths: training (bf16 autocast), exact resume, GPU conversion and the image tasks.

CI has no GPU, so these are skipped there; they run wherever ``torch.cuda.is_available()``
(the GPU check before a release). Each one compares the GPU result with the CPU result of the
same computation, so a device mix-up (a tensor left on the CPU, a statistic moved twice) fails
here rather than in a user's first GPU run.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from vc.config import from_dict
from vc.convert.converter import Converter
from vc.convert.synthetic import TINY_NET, random_bundle, speaker_waves
from vc.features import FeatureConfig
from vc.features.testsignal import speech_like
from vc.stargan_vc.config import StarGANVCConfig
from vc.stargan_vc.train import train

from test_train_fixtures import make_dump, tiny_config

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _rows(exp: Path) -> list[dict[str, str]]:
    with open(exp / "logs" / "train.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_voice_training_and_resume_on_cuda(tmp_path: Path) -> None:
    feats, stats = make_dump(tmp_path / "dump", utts_per_speaker=4)
    cfg = from_dict(StarGANVCConfig, tiny_config(trainer={"max_steps": 6, "checkpoint_every": 3, "log_every": 1}))
    train(cfg, feats, stats, tmp_path / "straight", device="cuda", progress=False)
    train(cfg, feats, stats, tmp_path / "resumed", device="cuda", until=3, progress=False)
    train(cfg, feats, stats, tmp_path / "resumed", device="cuda", resume=True, progress=False)
    straight, resumed = _rows(tmp_path / "straight"), _rows(tmp_path / "resumed")
    assert len(straight) == 6 and [r["step"] for r in resumed] == [r["step"] for r in straight]
    for row in straight:
        assert all(math.isfinite(float(v)) for k, v in row.items() if k not in ("step", "time") and v)
    a = torch.load(tmp_path / "straight/checkpoints/step_00000006.pt", weights_only=True, map_location="cpu")
    b = torch.load(tmp_path / "resumed/checkpoints/step_00000006.pt", weights_only=True, map_location="cpu")
    for name, tensor in a["nets"]["G"].items():  # cuDNN may pick other kernels after a restart
        torch.testing.assert_close(b["nets"]["G"][name], tensor, rtol=1e-3, atol=1e-4, msg=name)


def test_gpu_conversion_matches_cpu(tmp_path: Path) -> None:
    sr = 16000
    bundle = random_bundle(tmp_path / "exp" / "tiny", speaker_waves({"low": 110.0, "high": 220.0}, sr),
                           FeatureConfig(sample_rate=sr, mcep_dim=24), net=TINY_NET)
    wave, _ = speech_like(2.0, sr, 150.0, seed=1)
    # fp32 on both: the comparison is about the device, not auto's bf16 on a CPU with AMX
    cpu, _ = Converter.from_bundle(bundle, device="cpu", precision="fp32").convert(wave, sr, "high", source="low")
    gpu, gsr = Converter.from_bundle(bundle, device="cuda", precision="fp32").convert(wave, sr, "high", source="low")
    assert gsr == sr and len(gpu) == len(cpu) == len(wave) and np.isfinite(gpu).all()
    assert np.corrcoef(cpu, gpu)[0, 1] > 0.999


def _image_config(root: Path, model: str) -> Path:
    from vc.image import fonts

    data = root / "fonts"
    fonts.render_font_set(data, fonts.FontRenderConfig(image_size=16, glyphs="GbQЖ", test_glyphs="Ж"))
    common = {"data": {"layout": "attributes", "root": str(data), "attributes": list(fonts.ATTRIBUTES),
                       "exclusive_groups": [list(g) for g in fonts.EXCLUSIVE_GROUPS], "split": "partition",
                       "crop_size": 0, "image_size": 16, "channels": 1, "hflip": False, "batch_size": 4},
              "trainer": {"max_steps": 4, "log_every": 1, "checkpoint_every": 2, "sample_every": 0}}
    if model == "stargan_v2":
        cfg = dict(common, model="stargan_v2", config_version=2, domains=["Sans", "Serif", "Mono"],
                   net={"dim_in": 8, "max_conv_dim": 16, "style_dim": 8, "latent_dim": 4, "mapping_hidden": 16})
    else:
        cfg = dict(common, model="stargan", config_version=2,
                   net={"g_conv_dim": 8, "g_repeat_num": 1, "d_conv_dim": 8, "d_repeat_num": 3})
    conf = root / f"{model}.yaml"
    conf.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return conf


@pytest.mark.parametrize("model", ["stargan", "stargan_v2"])
def test_image_training_runs_on_cuda(tmp_path: Path, model: str) -> None:
    from vc.cli import img_train

    conf = _image_config(tmp_path, model)
    img_train.main(["--config", str(conf), "--exp", str(tmp_path / "exp"), "--device", "cuda", "--no-progress"])
    rows = _rows(tmp_path / "exp")
    assert len(rows) == 4
    for row in rows:
        assert all(math.isfinite(float(v)) for k, v in row.items() if k not in ("step", "time") and v)
