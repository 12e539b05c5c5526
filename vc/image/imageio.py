"""Image files to tensors and back, with the few transforms StarGAN needs.

torchvision does not work with the pinned torch, so the handful of transforms the image branch
uses (center crop, resize, flip, [-1, 1] scaling) are written here on top of Pillow and numpy.
Training, translation and evaluation all call :func:`preprocess`, so an image is prepared the
same way at every stage.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from vc.fileio import atomic_path
from vc.errors import VCError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


class ImageError(VCError, ValueError):
    """An image file cannot be read or does not fit the model (the message names the file)."""


def image_files(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """The image files ``paths`` name: files as given, folders as their images (sorted); a missing
    path or a folder without images is an ImageError."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise ImageError(f"{p}: no images ({', '.join(IMAGE_SUFFIXES)})")
            out += found
        elif p.is_file():
            out.append(p)
        else:
            raise ImageError(f"{p}: no such image or folder")
    return out


def load_image(path: str | os.PathLike, channels: int = 3) -> Image.Image:
    """Open an image as RGB (``channels=3``) or grayscale (``channels=1``)."""
    if channels not in (1, 3):
        raise ImageError(f"channels must be 1 or 3, got {channels}")
    try:
        with Image.open(path) as img:
            return img.convert("RGB" if channels == 3 else "L")
    except (OSError, UnidentifiedImageError) as exc:
        raise ImageError(f"{path}: cannot read image ({exc})") from exc


def center_crop(img: Image.Image, size: int) -> Image.Image:
    """Square crop around the centre (CelebA's aligned faces use 178)."""
    w, h = img.size
    if size > min(w, h):
        raise ImageError(f"cannot crop {size}x{size} from a {w}x{h} image")
    left, top = (w - size) // 2, (h - size) // 2
    return img.crop((left, top, left + size, top + size))


def preprocess(img: Image.Image, crop_size: int, image_size: int) -> Image.Image:
    """Center-crop (0 = no crop) then resize to ``image_size`` squared."""
    if crop_size:
        img = center_crop(img, crop_size)
    if img.size != (image_size, image_size):
        img = img.resize((image_size, image_size), Image.Resampling.BICUBIC)
    return img


def to_tensor(img: Image.Image) -> torch.Tensor:
    """PIL image -> float tensor (C, H, W) in [-1, 1] (the range of G's tanh output)."""
    arr = np.asarray(img, dtype=np.float32)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return torch.from_numpy(arr.transpose(2, 0, 1).copy()).div_(127.5).sub_(1.0)


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """(C, H, W) tensor in [-1, 1] -> (H, W, C) or (H, W) uint8 array."""
    arr = ((x.detach().float().clamp(-1, 1) + 1.0) * 127.5).round().byte().cpu().numpy().transpose(1, 2, 0)
    return arr[:, :, 0] if arr.shape[2] == 1 else arr


def to_pil(x: torch.Tensor) -> Image.Image:
    return Image.fromarray(to_uint8(x))


def save_image(img: Image.Image | torch.Tensor, path: str | os.PathLike) -> None:
    """Write an image atomically; the format follows the file suffix."""
    if isinstance(img, torch.Tensor):
        img = to_pil(img)
    path = Path(path)
    with atomic_path(path) as tmp:
        img.save(tmp, format=Image.registered_extensions().get(path.suffix.lower(), "PNG"))


def load_prepared(path: str | os.PathLike, channels: int, crop_size: int, image_size: int) -> Image.Image:
    """Read and preprocess one file; every error names the file."""
    img = load_image(path, channels)
    try:
        return preprocess(img, crop_size, image_size)
    except ImageError as exc:
        raise ImageError(f"{path}: {exc}") from exc


def load_tensor(path: str | os.PathLike, channels: int, crop_size: int, image_size: int) -> torch.Tensor:
    """One call for the whole input path: file -> preprocessed (C, H, W) tensor in [-1, 1]."""
    return to_tensor(load_prepared(path, channels, crop_size, image_size))
