"""The evaluation judge is an ensemble of classifiers that differ only in their seed."""
import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from vc.gan import CheckpointError
from vc.image import fonts
from vc.image.classifier import (CLASSIFIER_DIR, JudgeEnsemble, is_trained, load_classifier, member_dir, member_logits,
                                 train_classifier)
from vc.image.config import EvalClassifierConfig, ImageDataConfig
from vc.image.datasets import BatchStream, build_dataset
from vc.stargan.config import StarGANConfig, StarGANNetConfig
from vc.config import ConfigError, save_config


@pytest.fixture(scope="module")
def data_cfg(tmp_path_factory) -> ImageDataConfig:
    root = tmp_path_factory.mktemp("fonts")
    fonts.render_font_set(root, fonts.FontRenderConfig(image_size=16, glyphs="AbQ7", test_glyphs="7",
                                                       min_family_distance=0.0))
    return ImageDataConfig(layout="attributes", root=str(root), attributes=list(fonts.ATTRIBUTES),
                           exclusive_groups=[list(g) for g in fonts.EXCLUSIVE_GROUPS], split="partition",
                           crop_size=0, image_size=16, channels=1, hflip=False, preload=True)


@pytest.fixture(scope="module")
def train_set(data_cfg):
    return build_dataset(data_cfg, "train")


def _cfg(judges: int) -> EvalClassifierConfig:
    return EvalClassifierConfig(conv_dim=4, repeat_num=2, steps=3, batch_size=4, judges=judges)


def test_judges_cli_trains_them_from_a_stargan_config_alone(data_cfg, tmp_path: Path) -> None:
    from vc.cli import img_judges

    conf = tmp_path / "train.yaml"
    save_config(StarGANConfig(data=data_cfg, net=StarGANNetConfig(d_repeat_num=2), evaluation=_cfg(2), device="cpu"), conf)
    img_judges.main(["--config", str(conf), "--exp", str(tmp_path / "exp"), "-o", "evaluation.steps=2"])
    assert is_trained(tmp_path / "exp" / CLASSIFIER_DIR, replace(_cfg(2), steps=2))
    assert not is_trained(tmp_path / "exp" / CLASSIFIER_DIR, _cfg(2))  # the override reached the judges


def test_members_differ_by_seed_and_the_ensemble_reads_their_mean(train_set, tmp_path: Path) -> None:
    out = tmp_path / "judge"
    paths = train_classifier(out, train_set, _cfg(2), device="cpu", seed=5)
    assert [p.parent.parent for p in paths] == [out, out / "member1"]
    assert is_trained(out, _cfg(2)) and not is_trained(out, _cfg(3))
    judge = load_classifier(out, train_set.space)
    assert isinstance(judge, JudgeEnsemble) and len(judge.members) == 2
    w0, w1 = (m.head.weight for m in judge.members)
    assert not torch.equal(w0, w1)  # seeds 5 and 6, not one network twice
    x = torch.stack([train_set[i][0] for i in range(6)])
    each = member_logits(judge, x)
    assert each.shape == (2, 6, train_set.space.dim)
    torch.testing.assert_close(judge(x), each.mean(dim=0))


def test_a_missing_member_is_trained_and_the_others_are_kept(train_set, tmp_path: Path) -> None:
    out = tmp_path / "judge"
    train_classifier(out, train_set, _cfg(2), device="cpu")
    first = (out / "checkpoints" / "latest").read_text()
    kept = (out / "checkpoints" / first.strip()).stat().st_mtime_ns
    for f in (member_dir(out, 1) / "checkpoints").iterdir():
        f.unlink()
    assert not is_trained(out, _cfg(2))
    with pytest.raises(CheckpointError, match="member1"):
        load_classifier(out, train_set.space)
    train_classifier(out, train_set, _cfg(2), device="cpu")
    assert is_trained(out, _cfg(2))
    assert (out / "checkpoints" / first.strip()).stat().st_mtime_ns == kept  # member 0 not retrained
    assert len(load_classifier(out, train_set.space).members) == 2


def test_judges_trained_with_other_settings_are_not_reused(train_set, tmp_path: Path) -> None:
    out = tmp_path / "judge"
    train_classifier(out, train_set, _cfg(2), device="cpu")
    wider = replace(_cfg(2), conv_dim=8)
    assert is_trained(out, _cfg(2)) and is_trained(out, replace(_cfg(2), max_combos=3))  # scoring only
    assert not is_trained(out, wider)
    with pytest.raises(CheckpointError, match="conv_dim 4 vs 8"):  # never a silent mix of old and new judges
        train_classifier(out, train_set, wider, device="cpu")
    assert not is_trained(out, replace(_cfg(2), steps=5))  # more steps: the same judges, trained on
    train_classifier(out, train_set, replace(_cfg(2), steps=5), device="cpu")
    assert is_trained(out, replace(_cfg(2), steps=5))


def test_a_judge_written_before_ensembles_loads_as_one_member(train_set, tmp_path: Path) -> None:
    out = tmp_path / "judge"
    train_classifier(out, train_set, _cfg(1), device="cpu")
    meta = json.loads((out / "classifier.json").read_text())
    del meta["config"]["judges"]  # the description as single-judge bundles wrote it
    (out / "classifier.json").write_text(json.dumps(meta))
    assert len(load_classifier(out, train_set.space).members) == 1
    assert len(load_classifier(out, train_set.space, judges=3).members) == 1  # what it has, e.g. to guess domains
    # asked for three judges, the old bundle gains members 1 and 2, and says so
    train_classifier(out, train_set, _cfg(3), device="cpu")
    assert len(load_classifier(out, train_set.space).members) == 3


def test_judges_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="judges"):
        EvalClassifierConfig(judges=0)
    with pytest.raises(ConfigError, match="max_blur"):
        EvalClassifierConfig(max_blur=-0.5)


def test_blur_is_drawn_after_the_shifts_so_judges_without_it_train_as_before(train_set) -> None:
    from vc.gan import TrainContext, random_shift
    from vc.gan.runtime import DistInfo
    from vc.image.classifier import ClassifierTask

    def batch(cfg: EvalClassifierConfig) -> torch.Tensor:
        task = ClassifierTask(train_set, cfg)
        task.setup(TrainContext(torch.device("cpu"), DistInfo(), 3, Path(".")))
        return task.next_batch(7)[0]

    plain = batch(EvalClassifierConfig(batch_size=4))
    raw = BatchStream(train_set, 4, 3).batch(7)[0]
    torch.testing.assert_close(plain, random_shift(raw, 1, torch.Generator().manual_seed(3 * 1_000_003 + 7)))
    blurred = batch(EvalClassifierConfig(batch_size=4, max_blur=1.0))
    assert not torch.equal(blurred, plain)
    torch.testing.assert_close(blurred.sum((1, 2, 3)), plain.sum((1, 2, 3)), atol=0.5, rtol=0.05)


def test_a_config_asking_for_fewer_judges_than_the_folder_holds_is_obeyed(train_set, tmp_path: Path) -> None:
    out = tmp_path / "judge"
    train_classifier(out, train_set, _cfg(2), device="cpu")
    assert is_trained(out, _cfg(1))  # member 0 is all that one judge needs
    assert len(load_classifier(out, train_set.space, judges=1).members) == 1
    assert len(load_classifier(out, train_set.space).members) == 2  # unasked: what the folder describes
