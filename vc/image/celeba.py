"""The CelebA on-disk layout: attribute list, evaluation partition, and a prepared copy.

CelebA ships ``img_align_celeba/`` plus ``list_attr_celeba.txt`` (first line: the image count;
second line: the attribute names; then ``<file> <+1/-1 ...>``) and ``list_eval_partition.txt``
(``<file> <0|1|2>`` for train/val/test). The toolkit reads this layout for CelebA itself and
writes it for everything it generates (the font set, prepared copies), so one loader serves all
attribute data sets. ``list_content.txt`` (``<file> <content id>``) is this toolkit's addition:
images sharing a content id show the same thing in different attributes (the same glyph in
different font styles), which gives translations an exact ground truth. A prepared copy also
holds ``prepare.json`` (the crop and size it was made with), so training reads it as is while
the bundle keeps the crop/resize that a new photo needs.
"""
from __future__ import annotations

import json
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from tqdm import tqdm

from vc.fileio import atomic_write_text
from vc.image.imageio import ImageError, load_prepared, save_image
from vc.errors import VCError

log = logging.getLogger(__name__)

IMAGE_DIR = "img_align_celeba"
ATTR_FILE = "list_attr_celeba.txt"
PARTITION_FILE = "list_eval_partition.txt"
CONTENT_FILE = "list_content.txt"
PREPARE_FILE = "prepare.json"
PARTITIONS = {"train": 0, "val": 1, "test": 2}


class LayoutError(VCError, ValueError):
    """A CelebA-layout file is missing or malformed (the message names the file and line)."""


@dataclass
class AttributeTable:
    """All rows of an attribute list: file names in file order and a 0/1 matrix."""

    files: list[str]
    names: list[str]
    values: np.ndarray  # (N, A) uint8, 1 = attribute present

    def select(self, attributes: Sequence[str], where: str = "") -> np.ndarray:
        """Columns for ``attributes`` in the given order; unknown names are an error."""
        missing = [a for a in attributes if a not in self.names]
        if missing:
            raise LayoutError(f"{where or 'attribute list'}: unknown attribute(s) {', '.join(missing)}; "
                              f"available: {' '.join(self.names)}")
        cols = [self.names.index(a) for a in attributes]
        return self.values[:, cols]


def read_attr_file(path: str | os.PathLike) -> AttributeTable:
    """Parse ``list_attr_celeba.txt``; values may be 1/-1 (CelebA) or 1/0."""
    path = Path(path)
    if not path.is_file():
        raise LayoutError(f"{path}: attribute list not found")
    lines = path.read_text(encoding="utf-8").splitlines()
    if len(lines) < 2:
        raise LayoutError(f"{path}: expected a count line and an attribute-name line")
    try:
        count = int(lines[0].strip())
    except ValueError:
        raise LayoutError(f"{path}:1: expected the image count, got {lines[0]!r}") from None
    names = lines[1].split()
    if not names:
        raise LayoutError(f"{path}:2: no attribute names")
    if len(set(names)) != len(names):
        raise LayoutError(f"{path}:2: duplicate attribute names")
    files: list[str] = []
    rows: list[list[int]] = []
    for lineno, line in enumerate(lines[2:], start=3):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != len(names) + 1:
            raise LayoutError(f"{path}:{lineno}: expected a file name and {len(names)} values, "
                              f"got {len(fields)} fields")
        try:
            vals = [int(v) for v in fields[1:]]
        except ValueError:
            raise LayoutError(f"{path}:{lineno}: attribute values must be 1, -1 or 0") from None
        if any(v not in (1, -1, 0) for v in vals):
            raise LayoutError(f"{path}:{lineno}: attribute values must be 1, -1 or 0")
        files.append(fields[0])
        rows.append([1 if v == 1 else 0 for v in vals])
    if len(files) != count:
        raise LayoutError(f"{path}: first line says {count} images but {len(files)} rows follow")
    if len(set(files)) != len(files):
        raise LayoutError(f"{path}: a file name is listed twice")
    values = np.asarray(rows, dtype=np.uint8).reshape(len(files), len(names))
    return AttributeTable(files, names, values)


def write_attr_file(path: str | os.PathLike, table: AttributeTable) -> None:
    """Write an attribute list in CelebA's exact format (1/-1 values)."""
    out = [str(len(table.files)), " ".join(table.names)]
    for name, row in zip(table.files, table.values):
        out.append(name + " " + " ".join("1" if v else "-1" for v in row))
    atomic_write_text(path, "\n".join(out) + "\n")


def _read_pairs(path: Path, what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2:
            raise LayoutError(f"{path}:{lineno}: expected '<file> <{what}>'")
        if fields[0] in pairs:
            raise LayoutError(f"{path}:{lineno}: {fields[0]} listed twice")
        pairs[fields[0]] = fields[1]
    return pairs


def read_partition_file(path: str | os.PathLike) -> dict[str, int]:
    """Parse ``list_eval_partition.txt`` into ``{file: 0|1|2}``."""
    path = Path(path)
    if not path.is_file():
        raise LayoutError(f"{path}: partition list not found")
    out: dict[str, int] = {}
    for name, value in _read_pairs(path, "0|1|2").items():
        if value not in ("0", "1", "2"):
            raise LayoutError(f"{path}: partition of {name} must be 0, 1 or 2, got {value!r}")
        out[name] = int(value)
    return out


def write_partition_file(path: str | os.PathLike, partition: Mapping[str, int]) -> None:
    atomic_write_text(path, "".join(f"{f} {p}\n" for f, p in partition.items()))


def read_content_file(path: str | os.PathLike) -> dict[str, str]:
    """Parse ``list_content.txt`` into ``{file: content id}``."""
    path = Path(path)
    if not path.is_file():
        raise LayoutError(f"{path}: content list not found")
    return _read_pairs(path, "content id")


def write_content_file(path: str | os.PathLike, content: Mapping[str, str]) -> None:
    atomic_write_text(path, "".join(f"{f} {c}\n" for f, c in content.items()))


def first_n_partition(files: Sequence[str], test_count: int) -> dict[str, int]:
    """StarGAN's CelebA split: the first ``test_count`` images (file order) are the test set."""
    if test_count < 0 or test_count >= len(files):
        raise LayoutError(f"test_count={test_count} must be >= 0 and below the {len(files)} images")
    return {f: (PARTITIONS["test"] if i < test_count else PARTITIONS["train"]) for i, f in enumerate(files)}


# ------------------------------------------------------------------- prepared copies
def _prepare_one(args: tuple[str, str, int, int, int]) -> str | None:
    src, dst, crop_size, image_size, channels = args
    if Path(dst).is_file():
        return None
    try:
        img = load_prepared(src, channels, crop_size, image_size)
    except ImageError as exc:
        return str(exc)
    save_image(img, dst)
    return None


def prepare_attribute_corpus(root: str | os.PathLike, out: str | os.PathLike, *, crop_size: int,
                             image_size: int, channels: int = 3, test_count: int = 2000,
                             use_partition_file: bool = False, limit: int = 0, nj: int = 1) -> AttributeTable:
    """Check a CelebA-layout corpus and write a cropped, resized PNG copy in the same layout.

    Cropping and resizing once (instead of at every epoch) keeps data loading cheap on CPUs.
    Already written images are skipped, so an interrupted run resumes. The split is the
    source's ``list_eval_partition.txt`` when ``use_partition_file`` is set, else StarGAN's
    first-``test_count`` rule; either way it is written to ``out`` so training reads it.
    Unreadable or missing images are an error naming the files; nothing is silently dropped.
    """
    root, out = Path(root), Path(out)
    if root.resolve() == out.resolve():
        raise LayoutError(f"{out}: the prepared copy must not overwrite the source corpus")
    table = read_attr_file(root / ATTR_FILE)
    if limit:
        table = AttributeTable(table.files[:limit], table.names, table.values[:limit])
    missing = [f for f in table.files if not (root / IMAGE_DIR / f).is_file()]
    if missing:
        raise LayoutError(f"{root / IMAGE_DIR}: {len(missing)} listed image(s) missing, e.g. {', '.join(missing[:5])}")
    if use_partition_file:
        full = read_partition_file(root / PARTITION_FILE)
        lost = [f for f in table.files if f not in full]
        if lost:
            raise LayoutError(f"{root / PARTITION_FILE}: no partition for {len(lost)} image(s), e.g. {lost[0]}")
        partition = {f: full[f] for f in table.files}
    else:
        partition = first_n_partition(table.files, test_count)
    settings = {"crop_size": crop_size, "image_size": image_size, "channels": channels}
    # recorded before the first image, so an interrupted copy is only resumed with the same settings
    if read_prepare_file(out) not in (None, settings):
        raise LayoutError(f"{out / PREPARE_FILE}: {out} was prepared with {read_prepare_file(out)}, not {settings}; "
                          "remove it or prepare into another folder")
    atomic_write_text(out / PREPARE_FILE, json.dumps(settings) + "\n")
    dst_names = [str(Path(f).with_suffix(".png")) for f in table.files]
    jobs = [(str(root / IMAGE_DIR / f), str(out / IMAGE_DIR / d), crop_size, image_size, channels)
            for f, d in zip(table.files, dst_names)]
    (out / IMAGE_DIR).mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with tqdm(total=len(jobs), desc="prepare", unit="img") as bar:
        if nj > 1:
            with ProcessPoolExecutor(nj) as pool:
                for err in pool.map(_prepare_one, jobs, chunksize=64):
                    errors.extend([err] if err else [])
                    bar.update()
        else:
            for job in jobs:
                err = _prepare_one(job)
                errors.extend([err] if err else [])
                bar.update()
    if errors:
        raise LayoutError(f"{len(errors)} image(s) could not be read: " + "; ".join(errors[:5]))
    prepared = AttributeTable(dst_names, table.names, table.values)
    write_partition_file(out / PARTITION_FILE, dict(zip(dst_names, partition.values())))
    content = root / CONTENT_FILE
    if content.is_file():
        ids = read_content_file(content)
        write_content_file(out / CONTENT_FILE, {d: ids[f] for f, d in zip(table.files, dst_names) if f in ids})
    write_attr_file(out / ATTR_FILE, prepared)  # written last: its presence marks a complete copy
    log.info("prepared %d images in %s", len(dst_names), out)
    return prepared


def read_prepare_file(root: str | os.PathLike) -> dict[str, int] | None:
    """How a prepared copy was cropped and resized (None for original, unprepared data)."""
    path = Path(root) / PREPARE_FILE
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return {k: int(info[k]) for k in ("crop_size", "image_size", "channels")}
    except (ValueError, KeyError, TypeError) as exc:
        raise LayoutError(f"{path}: malformed ({exc})") from exc


def is_prepared(out: str | os.PathLike) -> bool:
    """A prepared copy is complete once its attribute list exists (it is written last)."""
    return (Path(out) / ATTR_FILE).is_file()

