"""Image data sets: CelebA-layout attribute lists and folder-per-domain trees.

Both layouts become the same thing, an :class:`ImageLabelDataset` of (image, label vector)
pairs with its :class:`~vc.image.labels.LabelSpace`, so the models, the trainer task, grids and
evaluation never ask which layout the data came from. A set rendered by the toolkit (the font
set) also carries *content ids*: the images of one content are the same thing in different
attributes, which is what evaluation needs to find a translation's ground truth.
"""
from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from vc.image import celeba
from vc.image.config import ImageDataConfig
from vc.image.imageio import IMAGE_SUFFIXES, load_tensor
from vc.image.labels import LabelSpace
from vc.errors import VCError

log = logging.getLogger(__name__)

SPLIT_NAMES = ("train", "test")


class DataError(VCError, ValueError):
    """The data on disk does not fit the config (the message names the path and the reason)."""


class ImageLabelDataset(Dataset):
    """(image (C, H, W) in [-1, 1], label (A,) float 0/1) pairs.

    ``hflip`` marks the set as one to augment with horizontal flips (done by ``BatchStream``).
    Images are read and preprocessed on access, or once up front with ``preload`` (small sets
    such as the font set, where decoding PNGs every step would dominate a CPU run).
    """

    def __init__(self, paths: Sequence[Path], labels: np.ndarray, space: LabelSpace, *, channels: int,
                 crop_size: int, image_size: int, hflip: bool = False, preload: bool = False,
                 content_ids: Sequence[str] | None = None):
        if len(paths) != len(labels):
            raise ValueError("paths and labels differ in length")
        if not len(paths):
            raise DataError("the data set is empty")
        self.paths = [Path(p) for p in paths]
        self.labels = torch.as_tensor(np.asarray(labels, dtype=np.float32))
        self.space = space
        self.channels, self.crop_size, self.image_size = channels, crop_size, image_size
        self.hflip = hflip
        self.content_ids = list(content_ids) if content_ids is not None else None
        self._cache: torch.Tensor | None = None
        if preload:
            self._cache = torch.stack([self._read(i) for i in tqdm(range(len(self)), desc="load images",
                                                                     unit="img", leave=False)])

    def __len__(self) -> int:
        return len(self.paths)

    def _read(self, index: int) -> torch.Tensor:
        return load_tensor(self.paths[index], self.channels, self.crop_size, self.image_size)

    def image(self, index: int) -> torch.Tensor:
        """The preprocessed image without augmentation."""
        return self._cache[index] if self._cache is not None else self._read(index)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Unaugmented (image, label); training batches come from :class:`BatchStream`."""
        return self.image(index), self.labels[index]

    def spread(self, n: int) -> list[int]:
        """``n`` indices evenly spread over the set (sample grids show varied images, not the
        first few, which in a sorted set are often one person or one glyph)."""
        n = min(n, len(self))
        return torch.linspace(0, len(self) - 1, n).round().long().tolist() if n > 1 else [0][:n]

    def class_indices(self) -> torch.Tensor:
        """Integer domain of each item (single-label sets: the target form of a CE loss)."""
        if not self.space.single_label:
            raise ValueError("class indices exist only for single-label (domain) data")
        return self.labels.argmax(dim=1)

    def ground_truth_index(self) -> dict[tuple[str, tuple[int, ...]], int]:
        """(content id, label tuple) -> item index, for sets with paired renderings."""
        if self.content_ids is None:
            raise DataError("this data set has no content ids (list_content.txt), so no ground truth")
        return {(c, tuple(int(v) for v in lab.tolist())): i
                for i, (c, lab) in enumerate(zip(self.content_ids, self.labels))}


def label_space(cfg: ImageDataConfig) -> LabelSpace:
    """The label space a config describes (folder domains are discovered when not listed)."""
    if cfg.layout == "folders":
        return LabelSpace.create(_domains(cfg), single_label=True)
    return LabelSpace.create(cfg.attributes, cfg.exclusive_groups, group_names=cfg.group_names)


def build_dataset(cfg: ImageDataConfig, split: str, root: str | os.PathLike | None = None,
                  augment: bool | None = None) -> ImageLabelDataset:
    """The ``train`` or ``test`` split of the data a config describes.

    ``root`` overrides ``cfg.root`` (evaluation on another copy of the data); augmentation
    (random flips) defaults to on for training only.
    """
    if split not in SPLIT_NAMES:
        raise ValueError(f"split must be one of {SPLIT_NAMES}, got {split!r}")
    if root is not None:
        cfg = dataclasses.replace(cfg, root=str(root))
    if not cfg.root:
        raise DataError("data.root is not set")
    if not Path(cfg.root).is_dir():
        raise DataError(f"{cfg.root}: data folder not found")
    space = label_space(cfg)
    if cfg.layout == "attributes":
        paths, labels, content = _attribute_split(cfg, split)
    else:
        paths, labels = _folder_split(cfg, space, split)
        content = None
    _check_exclusive(space, labels, paths)
    use_aug = (split == "train") if augment is None else augment
    log.info("%s split of %s: %d images", split, cfg.root, len(paths))
    return ImageLabelDataset(paths, labels, space, channels=cfg.channels, crop_size=_crop_on_load(cfg),
                             image_size=cfg.image_size, hflip=cfg.hflip and use_aug, preload=cfg.preload,
                             content_ids=content)


def _crop_on_load(cfg: ImageDataConfig) -> int:
    """The crop still to apply: none for a copy prepared with the config's crop and size.

    The config always states the crop for *original* images (what a new photo needs at
    translation time); a prepared copy made with other settings is an error, not a silent
    second crop.
    """
    prepared = celeba.read_prepare_file(cfg.root) if cfg.layout == "attributes" else None
    if prepared is None:
        return cfg.crop_size
    if (prepared["crop_size"], prepared["image_size"]) != (cfg.crop_size, cfg.image_size):
        raise DataError(f"{Path(cfg.root) / celeba.PREPARE_FILE}: prepared with crop_size={prepared['crop_size']}, "
                        f"image_size={prepared['image_size']}, but the config asks for crop_size={cfg.crop_size}, "
                        f"image_size={cfg.image_size}; prepare again or change data.crop_size/image_size")
    return 0


def _attribute_split(cfg: ImageDataConfig, split: str) -> tuple[list[Path], np.ndarray, list[str] | None]:
    root = Path(cfg.root)
    table = celeba.read_attr_file(root / celeba.ATTR_FILE)
    values = table.select(cfg.attributes, where=str(root / celeba.ATTR_FILE))
    if cfg.split == "partition":
        part = celeba.read_partition_file(root / celeba.PARTITION_FILE)
        lost = [f for f in table.files if f not in part]
        if lost:
            raise DataError(f"{root / celeba.PARTITION_FILE}: no partition for {len(lost)} image(s), e.g. {lost[0]}")
        # val (1) trains too: StarGAN uses a train/test split only
        want = [part[f] == celeba.PARTITIONS["test"] for f in table.files]
    else:
        want = [p == celeba.PARTITIONS["test"] for p in celeba.first_n_partition(table.files, cfg.test_count).values()]
    keep = [i for i, w in enumerate(want) if w == (split == "test")]
    if not keep:
        raise DataError(f"{root}: the {split} split is empty (split={cfg.split}, test_count={cfg.test_count})")
    files = [table.files[i] for i in keep]
    paths = [root / celeba.IMAGE_DIR / f for f in files]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise DataError(f"{root / celeba.IMAGE_DIR}: {len(missing)} listed image(s) missing, e.g. {missing[0].name}")
    content = None
    if (root / celeba.CONTENT_FILE).is_file():
        ids = celeba.read_content_file(root / celeba.CONTENT_FILE)
        content = [ids.get(f, "") for f in files]
    return paths, values[keep], content


def _domains(cfg: ImageDataConfig) -> list[str]:
    root = Path(cfg.root)
    if cfg.attributes:
        return list(cfg.attributes)
    if not root.is_dir():
        raise DataError(f"{root}: data folder not found")
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(found) < 2:
        raise DataError(f"{root}: a folder layout needs at least two domain sub-folders, found {found}")
    return found


def _list_images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise DataError(f"{folder}: domain folder not found")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise DataError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)})")
    return files


def _folder_split(cfg: ImageDataConfig, space: LabelSpace, split: str) -> tuple[list[Path], np.ndarray]:
    paths: list[Path] = []
    labels: list[int] = []
    for k, domain in enumerate(space.names):
        if cfg.test_root:
            files = _list_images(Path(cfg.test_root if split == "test" else cfg.root) / domain)
        else:
            files = _list_images(Path(cfg.root) / domain)
            if cfg.split == "partition":
                raise DataError("split=partition needs the attribute layout; use test_root or first_n for folders")
            if len(files) <= cfg.test_count:
                raise DataError(f"{Path(cfg.root) / domain}: {len(files)} images, not more than "
                                f"test_count={cfg.test_count} held out per domain")
            files = files[:cfg.test_count] if split == "test" else files[cfg.test_count:]
        paths += files
        labels += [k] * len(files)
    onehot = np.eye(space.dim, dtype=np.float32)[labels]
    return paths, onehot


def _check_exclusive(space: LabelSpace, labels: np.ndarray, paths: Sequence[Path]) -> None:
    """Warn (not fail) about rows with several members of a group: CelebA has a few."""
    for group in space.exclusive_groups:
        cols = [space.index(n) for n in group]
        multi = np.nonzero(np.asarray(labels)[:, cols].sum(axis=1) > 1)[0]
        if len(multi):
            log.warning("%d image(s) have more than one of %s set (e.g. %s); kept as labelled",
                        len(multi), "/".join(group), paths[int(multi[0])].name)


class BatchStream:
    """Training batches as a pure function of the step: resuming at step s draws what an
    uninterrupted run would have drawn, without saving any sampler state.

    Step s (1-based) is batch ``(s - 1) % per_epoch`` of epoch ``(s - 1) // per_epoch``; each
    epoch is a permutation drawn from ``seed`` and the epoch number (strided across DDP ranks so
    they see disjoint images), and flips are decided here too, not in loader workers, so they
    are reproducible as well. Images are read by a ``DataLoader`` when ``num_workers > 0``.
    """

    def __init__(self, dataset: ImageLabelDataset, batch_size: int, seed: int, *, rank: int = 0,
                 world_size: int = 1, num_workers: int = 0, device: torch.device | str = "cpu"):
        self.dataset, self.batch_size, self.seed = dataset, batch_size, seed
        self.rank, self.world_size, self.num_workers = rank, world_size, num_workers
        self.device = torch.device(device)
        self.per_epoch = len(dataset) // (batch_size * world_size)
        if self.per_epoch < 1:
            raise DataError(f"{len(dataset)} training images are fewer than one batch of {batch_size} "
                            f"x {world_size} process(es); lower optim.batch_size")
        self._iter = None
        self._next_step = -1
        self._epoch: tuple[int, torch.Tensor, torch.Tensor] | None = None

    def keys(self, step: int) -> list[tuple[int, bool]]:
        """(item index, flip) pairs of the batch for ``step``."""
        epoch, pos = divmod(step - 1, self.per_epoch)
        if self._epoch is None or self._epoch[0] != epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            perm = torch.randperm(len(self.dataset), generator=g)[self.rank::self.world_size]
            flips = torch.rand(len(self.dataset), generator=g)[self.rank::self.world_size] < 0.5
            self._epoch = (epoch, perm, flips)
        _, perm, flips = self._epoch
        sl = slice(pos * self.batch_size, (pos + 1) * self.batch_size)
        return [(int(i), bool(f) and self.dataset.hflip) for i, f in zip(perm[sl], flips[sl])]

    def _collate(self, keys: list[tuple[int, bool]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        xs = [self.dataset.image(i) for i, _ in keys]
        x = torch.stack([im.flip(-1) if f else im for im, (_, f) in zip(xs, keys)])
        idx = torch.tensor([i for i, _ in keys])
        return x, self.dataset.labels[idx], idx

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(images, labels, item indices) for ``step``, on the stream's device."""
        if self.num_workers <= 0:
            out = self._collate(self.keys(step))
        else:
            if self._iter is None or step != self._next_step:
                self._iter = iter(torch.utils.data.DataLoader(
                    _KeyedView(self), batch_sampler=_StepSampler(self, step), num_workers=self.num_workers,
                    collate_fn=self._collate, persistent_workers=False))
            out = next(self._iter)
            self._next_step = step + 1
        return tuple(t.to(self.device, non_blocking=True) for t in out)  # type: ignore[return-value]


class _KeyedView(Dataset):
    """Lets DataLoader workers decode images: item (index, flip) -> the key itself (decoding
    happens in ``collate_fn``, which runs in the worker)."""

    def __init__(self, stream: BatchStream):
        self.stream = stream

    def __len__(self) -> int:
        return len(self.stream.dataset)

    def __getitem__(self, key: tuple[int, bool]) -> tuple[int, bool]:
        return key


class _StepSampler(torch.utils.data.Sampler):
    def __init__(self, stream: BatchStream, start: int):
        self.stream, self.start = stream, start

    def __iter__(self):
        step = self.start
        while True:
            yield self.stream.keys(step)
            step += 1
