"""Image data: CelebA-layout files, a fake CelebA tree, folder-per-domain trees, batch streams."""
import numpy as np
import pytest
import torch
from PIL import Image

from vc.image import celeba
from vc.image.config import ImageDataConfig
from vc.image.datasets import BatchStream, DataError, build_dataset, label_space
from vc.image.imageio import ImageError, load_tensor

NAMES = ["5_o_Clock_Shadow", "Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young"]


def fake_celeba(root, n=12, size=(24, 30)):
    """A CelebA-shaped tree: img_align_celeba/*.jpg (w x h, not square, like 178x218) + the lists.

    Image i has a solid colour encoding i, so tests can tell which file a tensor came from.
    """
    rng = np.random.default_rng(0)
    (root / "img_align_celeba").mkdir(parents=True)
    lines = [str(n), " ".join(NAMES) + " "]  # CelebA's header line ends with a space
    for i in range(n):
        name = f"{i + 1:06d}.jpg"
        Image.new("RGB", size, (10 * i, 100, 200)).save(root / "img_align_celeba" / name, quality=95)
        hair = [0, 0, 0]
        hair[i % 3] = 1
        vals = [int(rng.integers(0, 2))] + hair + [i % 2, int(i < 6)]
        lines.append(name + "  " + " ".join(f"{1 if v else -1:2d}" for v in vals))
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    (root / "list_eval_partition.txt").write_text("".join(f"{i + 1:06d}.jpg {0 if i < 8 else 2}\n" for i in range(n)))
    return root


def data_cfg(root, **kw):
    base = dict(root=str(root), crop_size=20, image_size=16, test_count=4, hflip=False)
    base.update(kw)
    return ImageDataConfig(**base)


def test_attr_file_round_trip(tmp_path):
    root = fake_celeba(tmp_path / "celeba")
    table = celeba.read_attr_file(root / "list_attr_celeba.txt")
    assert table.names == NAMES and len(table.files) == 12
    celeba.write_attr_file(tmp_path / "copy.txt", table)
    again = celeba.read_attr_file(tmp_path / "copy.txt")
    assert again.files == table.files and np.array_equal(again.values, table.values)


@pytest.mark.parametrize("mutate, message", [
    (lambda lines: ["13"] + lines[1:], "first line says 13 images but 12 rows follow"),
    (lambda lines: lines[:2] + [lines[2] + " 1"] + lines[3:], r":3: expected a file name and 6 values"),
    (lambda lines: lines[:3] + [lines[3].replace("-1", "x", 1).replace(" 1", " x", 1)] + lines[4:],
     r":4: attribute values must be"),
])
def test_malformed_attr_file_names_file_and_line(tmp_path, mutate, message):
    root = fake_celeba(tmp_path / "celeba")
    path = root / "list_attr_celeba.txt"
    path.write_text("\n".join(mutate(path.read_text().splitlines())) + "\n")
    with pytest.raises(celeba.LayoutError, match=message):
        celeba.read_attr_file(path)


def test_celeba_first_n_split_crop_and_labels(tmp_path):
    root = fake_celeba(tmp_path / "celeba")
    test = build_dataset(data_cfg(root), "test")
    train = build_dataset(data_cfg(root), "train")
    assert [p.name for p in test.paths] == [f"{i:06d}.jpg" for i in range(1, 5)]  # the first 4 images
    assert len(train) == 8
    x, y = test[1]
    assert x.shape == (3, 16, 16) and x.min() >= -1 and x.max() <= 1
    assert abs(float(x[0].mean()) - (10 / 127.5 - 1)) < 0.02  # image 2's red channel, bicubic-resized
    assert y.tolist() == [0, 1, 0, 1, 1]  # Black_Hair (i % 3 == 1), Male (odd), Young (i < 6)
    assert label_space(data_cfg(root)).group_names == ("Hair",)


def test_partition_split_and_unknown_attributes(tmp_path):
    root = fake_celeba(tmp_path / "celeba")
    test = build_dataset(data_cfg(root, split="partition"), "test")
    assert [p.name for p in test.paths] == [f"{i:06d}.jpg" for i in range(9, 13)]
    with pytest.raises(celeba.LayoutError, match="unknown attribute.*Gray_Hair"):
        build_dataset(data_cfg(root, attributes=["Gray_Hair", "Male"], exclusive_groups=[]), "train")


def test_missing_and_unreadable_images_are_named(tmp_path):
    root = fake_celeba(tmp_path / "celeba")
    (root / "img_align_celeba" / "000003.jpg").unlink()
    with pytest.raises(DataError, match="missing, e.g. 000003.jpg"):
        build_dataset(data_cfg(root), "test")
    (root / "img_align_celeba" / "000003.jpg").write_bytes(b"not an image")
    ds = build_dataset(data_cfg(root), "test")
    with pytest.raises(ImageError, match="000003.jpg: cannot read image"):
        ds.image(2)


def test_prepare_writes_a_cropped_copy_and_never_touches_the_source(tmp_path):
    root = fake_celeba(tmp_path / "celeba")
    before = {p.name: p.read_bytes() for p in (root / "img_align_celeba").iterdir()}
    out = tmp_path / "prepared"
    table = celeba.prepare_attribute_corpus(root, out, crop_size=20, image_size=16, test_count=3)
    assert table.files[0] == "000001.png" and celeba.is_prepared(out)
    assert Image.open(out / "img_align_celeba" / "000001.png").size == (16, 16)
    part = celeba.read_partition_file(out / "list_eval_partition.txt")
    assert [part[f] for f in table.files[:4]] == [2, 2, 2, 0]
    ds = build_dataset(data_cfg(out, split="partition"), "test")  # the config keeps the original crop
    assert len(ds) == 3 and ds.crop_size == 0
    # same pixels as preparing on the fly from the source
    direct = build_dataset(data_cfg(root), "test")
    assert torch.allclose(ds.image(0), direct.image(0), atol=2 / 127.5)
    assert before == {p.name: p.read_bytes() for p in (root / "img_align_celeba").iterdir()}
    with pytest.raises(celeba.LayoutError, match="must not overwrite"):
        celeba.prepare_attribute_corpus(root, root, crop_size=20, image_size=16, test_count=3)
    with pytest.raises(DataError, match="prepared with crop_size=20, image_size=16"):
        build_dataset(data_cfg(out, image_size=8, split="partition"), "test")
    with pytest.raises(celeba.LayoutError, match="was prepared with"):
        celeba.prepare_attribute_corpus(root, out, crop_size=20, image_size=8, test_count=3)


def fake_folders(root, domains=("cat", "dog", "wild"), n=5):
    for k, d in enumerate(domains):
        (root / d).mkdir(parents=True)
        for i in range(n):
            Image.new("RGB", (20, 20), (50 * k, 10 * i, 0)).save(root / d / f"img{i}.png")
        (root / d / "notes.txt").write_text("not an image")
    return root


def test_folder_layout_is_single_label_with_per_domain_hold_out(tmp_path):
    root = fake_folders(tmp_path / "afhq")
    cfg = ImageDataConfig(layout="folders", root=str(root), attributes=[], exclusive_groups=[], crop_size=0,
                          image_size=16, test_count=2)
    train, test = build_dataset(cfg, "train"), build_dataset(cfg, "test")
    assert train.space.names == ("cat", "dog", "wild") and train.space.single_label
    assert len(train) == 9 and len(test) == 6
    assert [p.name for p in test.paths[:2]] == ["img0.png", "img1.png"]
    assert train.class_indices().tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_folder_layout_with_a_separate_test_tree_and_errors(tmp_path):
    root = fake_folders(tmp_path / "train")
    val = fake_folders(tmp_path / "val", n=2)
    cfg = ImageDataConfig(layout="folders", root=str(root), test_root=str(val), attributes=["dog", "cat"],
                          exclusive_groups=[], crop_size=0, image_size=16)
    assert len(build_dataset(cfg, "train")) == 10 and len(build_dataset(cfg, "test")) == 4
    assert build_dataset(cfg, "test").space.names == ("dog", "cat")
    with pytest.raises(DataError, match="bird: domain folder not found"):
        build_dataset(ImageDataConfig(layout="folders", root=str(root), attributes=["cat", "bird"],
                                      exclusive_groups=[], test_count=1), "train")


def test_batch_stream_is_a_pure_function_of_the_step(tmp_path):
    root = fake_celeba(tmp_path / "celeba")
    ds = build_dataset(data_cfg(root, hflip=True), "train")
    a, b = BatchStream(ds, 3, seed=5), BatchStream(ds, 3, seed=5)
    assert a.per_epoch == 2
    first = [a.batch(s)[2].tolist() for s in (1, 2, 3, 4)]
    assert len(set(first[0] + first[1])) == 6  # one epoch draws distinct images
    x4, _, _ = b.batch(4)  # jump straight to step 4, as a resumed run does
    assert torch.equal(x4, a.batch(4)[0]) and b.batch(4)[2].tolist() == first[3]
    assert first[:2] != first[2:]  # a new epoch, a new order
    with pytest.raises(DataError, match="fewer than one batch"):
        BatchStream(ds, 9, seed=0)


def test_load_tensor_rejects_crops_larger_than_the_image(tmp_path):
    Image.new("RGB", (10, 12)).save(tmp_path / "small.png")
    with pytest.raises(ImageError, match=r"small.png: cannot crop 20x20 from a 10x12 image"):
        load_tensor(tmp_path / "small.png", 3, 20, 16)


def test_classifier_shifts_move_images_without_wrapping_around():
    from vc.gan import random_shift

    x = torch.zeros(6, 1, 8, 8)
    x[:, :, 3:5, 3:5] = 1.0
    shifted = random_shift(x, 2, torch.Generator().manual_seed(0))
    assert shifted.shape == x.shape
    assert torch.equal(shifted.sum((1, 2, 3)), x.sum((1, 2, 3)))  # the square stays whole inside
    assert not all(torch.equal(s, x[0]) for s in shifted)
    again = random_shift(x, 2, torch.Generator().manual_seed(0))
    assert torch.equal(shifted, again)


def test_random_blur_spreads_ink_without_losing_it():
    from vc.gan import random_blur

    x = torch.zeros(8, 2, 16, 16)
    x[:, :, 7, 7] = 1.0  # a point, far enough from the edges that none of it leaks out
    assert random_blur(x, 0.0, torch.Generator().manual_seed(0)) is x
    blurred = random_blur(x, 1.0, torch.Generator().manual_seed(0))
    assert blurred.shape == x.shape
    torch.testing.assert_close(blurred.sum((2, 3)), x.sum((2, 3)))
    peaks = blurred[:, 0, 7, 7]
    assert bool((peaks <= 1.0).all()) and bool((peaks < 0.9).any())
    assert len(set(peaks.tolist())) >= 6  # one sigma per image (a tiny one leaves the point almost whole)
    torch.testing.assert_close(blurred[:, 0], blurred[:, 1])  # and the same one for all its channels
    torch.testing.assert_close(blurred, random_blur(x, 1.0, torch.Generator().manual_seed(0)))
    from vc.gan import gaussian_blur
    torch.testing.assert_close(gaussian_blur(x, [0.0] * 8), x)
    with pytest.raises(ValueError, match="3 sigmas for 8 images"):
        gaussian_blur(x, [1.0, 1.0, 1.0])
    flat = torch.full((2, 1, 6, 6), 0.3)
    torch.testing.assert_close(random_blur(flat, 2.0, torch.Generator().manual_seed(1)), flat)  # edges replicated


def test_step_shift_is_a_function_of_seed_step_and_salt():
    from vc.gan import step_shift

    x = torch.rand(4, 1, 16, 16)
    assert step_shift(x, 0.01, seed=0, step=1) is x  # rounds to 0 px: no shift at all
    a = step_shift(x, 0.125, seed=0, step=1, salt=1)
    assert torch.equal(a, step_shift(x, 0.125, seed=0, step=1, salt=1))
    assert not torch.equal(a, step_shift(x, 0.125, seed=0, step=1, salt=2))
    assert not torch.equal(a, step_shift(x, 0.125, seed=1, step=1, salt=1))
    with pytest.raises(ValueError, match="salt"):
        step_shift(x, 0.125, seed=0, step=1, salt=4)


def test_batch_stream_with_loader_workers_draws_the_same_batches(tmp_path):
    root = fake_celeba(tmp_path / "celeba")
    ds = build_dataset(data_cfg(root, hflip=True), "train")
    plain, workers = BatchStream(ds, 3, seed=2), BatchStream(ds, 3, seed=2, num_workers=1)
    for step in (1, 2, 3, 7, 8):  # including a jump, as after a resume
        a, b = plain.batch(step), workers.batch(step)
        assert all(torch.equal(u, v) for u, v in zip(a, b))
