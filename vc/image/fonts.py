"""A multi-attribute image set the toolkit renders itself: glyphs in 12 DejaVu font styles.

CelebA is large, needs a download and has no ground truth for a translation (nobody has the
photo of the same person with blond hair). The font set is the measurable stand-in: three
families (Sans, Serif, Mono; mutually exclusive, like hair colour) x bold (binary, like gender)
x oblique (binary, like age) = 12 styles, and since every glyph can be drawn in every style,
every translation has an exact target image. The fonts ship with matplotlib, so nothing is
downloaded.

Only glyphs that carry their labels are kept. DejaVu Sans Mono is DejaVu Sans redrawn on a fixed
advance, so many glyphs (all ten digits, ``E``, ``L``, ``T``, ``s``, ``c``...) render the same in
both families, pixel for pixel at small sizes: a family label there is noise that no classifier can
learn or judge, and a translation "to Mono" of such a glyph is already correct unchanged. A glyph is
kept when every pair of families differs by at least ``min_family_distance`` (mean absolute
difference in [0, 1]) in every weight/slant style at the rendered size; Greek and Cyrillic letters,
which DejaVu draws in all 12 styles, make up for the dropped ones. A training glyph that renders like
a held-out one (Cyrillic ``П`` and Greek ``Π``) is dropped too, so nothing held out leaks into
training. What was dropped, and why, is recorded in ``fonts.json``.

Rendering is deterministic: each glyph is drawn 4x supersampled, its ink box is centred on the
canvas (the same rule for every style, so styles differ only in the strokes) and the canvas is
box-filtered down. Optional jittered variants (scale, shift) and colours are drawn from a
seeded generator per *content* (glyph x variant) and shared by all 12 styles of that content.

The output is a CelebA-layout folder (``img_align_celeba/*.png``, ``list_attr_celeba.txt``,
``list_eval_partition.txt`` with the held-out glyphs as the test partition, and
``list_content.txt`` linking the 12 renderings of each content), so training reads it through
the very loader used for CelebA, and evaluation finds each translation's ground truth.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import string
from dataclasses import dataclass, replace
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from tqdm import tqdm

from vc.config import ConfigError, to_dict
from vc.errors import VCError
from vc.fileio import atomic_write_text
from vc.image import celeba
from vc.image.imageio import save_image

log = logging.getLogger(__name__)

FAMILIES = ("Sans", "Serif", "Mono")
ATTRIBUTES = ("Sans", "Serif", "Mono", "Bold", "Oblique")
EXCLUSIVE_GROUPS = (("Sans", "Serif", "Mono"),)
_FILE_STEMS = {"Sans": "DejaVuSans", "Serif": "DejaVuSerif", "Mono": "DejaVuSansMono"}
_SLANT_WORD = {"Sans": "Oblique", "Serif": "Italic", "Mono": "Oblique"}
MANIFEST = "fonts.json"
LATIN = string.ascii_uppercase + string.ascii_lowercase + string.digits
GREEK = "ΓΔΘΛΞΠΣΦΨΩαβγδεζηθικλμνξπρστυφχψω"
CYRILLIC = "БГДЖЗИЙЛПФЦЧШЩЪЫЬЭЮЯбвгдежзийклмнптфцчшщъыьэюя"
DUPLICATE_DISTANCE = 0.004  # two glyphs closer than this in every style are the same drawing
SUPERSAMPLE = 4


@dataclass
class FontRenderConfig:
    """What to render. Sizes are fractions of ``image_size`` so one setting fits every size."""

    image_size: int = 64
    glyphs: str = LATIN + GREEK + CYRILLIC
    # held out of training: never seen by G, D or the evaluation classifier's training
    test_glyphs: str = "GKbhmwδψΩБЖЮд"  # judgeable at 16-48 px
    # drop glyphs whose families render alike (see the module docstring); 0 keeps every glyph
    min_family_distance: float = 0.01
    variants: int = 1  # renderings per glyph; variant 0 is centred at the nominal size
    jitter_scale: float = 0.1  # variants > 0: font size x U(1 - s, 1 + s)
    jitter_shift: float = 0.06  # variants > 0: shift of U(-s, s) x image_size on each axis
    font_scale: float = 0.6  # font size / image_size
    color: bool = False  # False: black on white grayscale; True: a random colour pair per content
    seed: int = 0

    def __post_init__(self) -> None:
        if len(set(self.glyphs)) != len(self.glyphs) or any(c.isspace() for c in self.glyphs):
            raise ConfigError("glyphs must be distinct, non-space characters")
        unknown = sorted(set(self.test_glyphs) - set(self.glyphs))
        if unknown:
            raise ConfigError(f"test_glyphs {''.join(unknown)!r} are not in glyphs")
        if len(self.test_glyphs) >= len(self.glyphs):
            raise ConfigError("test_glyphs: at least one glyph must remain for training")
        if self.variants < 1:
            raise ConfigError(f"variants must be >= 1, got {self.variants}")
        if self.image_size < 8:
            raise ConfigError(f"image_size must be >= 8, got {self.image_size}")
        if not 0.0 <= self.min_family_distance < 1.0:
            raise ConfigError(f"min_family_distance must be in [0, 1), got {self.min_family_distance}")


class FontError(VCError, ValueError):
    """The font set cannot be rendered as configured (or not here)."""


class FontSetExistsError(FontError, FileExistsError):
    """The output folder holds a font set rendered with other settings."""


@dataclass(frozen=True)
class Style:
    family: str
    bold: bool
    oblique: bool

    @property
    def name(self) -> str:
        return f"{self.family}{'-Bold' if self.bold else ''}{'-Oblique' if self.oblique else ''}"

    def attributes(self) -> list[int]:
        return [int(self.family == f) for f in FAMILIES] + [int(self.bold), int(self.oblique)]

    def font_file(self) -> Path:
        suffix = ("Bold" if self.bold else "") + (_SLANT_WORD[self.family] if self.oblique else "")
        return font_dir() / f"{_FILE_STEMS[self.family]}{'-' + suffix if suffix else ''}.ttf"


STYLES = tuple(Style(f, b, o) for f in FAMILIES for b in (False, True) for o in (False, True))


def font_dir() -> Path:
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def check_fonts() -> None:
    """Fail early, naming the file, if this matplotlib lacks one of the 12 DejaVu styles."""
    missing = [str(s.font_file()) for s in STYLES if not s.font_file().is_file()]
    if missing:
        raise FontError(f"DejaVu font file(s) not found: {', '.join(missing)}")


def content_id(glyph: str, variant: int) -> str:
    """File-system-safe id (code point, so 'a' and 'A' differ on case-insensitive disks)."""
    return f"u{ord(glyph):04x}v{variant}"


def _content_params(cfg: FontRenderConfig, glyph: str, variant: int) -> tuple[float, float, float, tuple, tuple]:
    """Scale, shifts and colours of one content, fixed by (seed, glyph, variant) alone."""
    digest = hashlib.sha256(f"{cfg.seed}:{ord(glyph)}:{variant}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    scale, dx, dy = 1.0, 0.0, 0.0
    if variant > 0:
        scale = 1.0 + rng.uniform(-cfg.jitter_scale, cfg.jitter_scale)
        dx, dy = rng.uniform(-cfg.jitter_shift, cfg.jitter_shift, size=2) * cfg.image_size
    fg, bg = (0, 0, 0), (255, 255, 255)
    if cfg.color:
        fg = tuple(int(v) for v in rng.integers(0, 110, size=3))
        bg = tuple(int(v) for v in rng.integers(150, 256, size=3))
    return scale, float(dx), float(dy), fg, bg


def render_glyph(glyph: str, style: Style, cfg: FontRenderConfig, variant: int = 0) -> Image.Image:
    """Render one glyph in one style ('L' image, or 'RGB' when ``cfg.color``)."""
    scale, dx, dy, fg, bg = _content_params(cfg, glyph, variant)
    big = cfg.image_size * SUPERSAMPLE
    font = ImageFont.truetype(str(style.font_file()), max(1, round(cfg.font_scale * scale * big)))
    left, top, right, bottom = font.getbbox(glyph)
    pad = big // 4
    ink = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 0)
    ImageDraw.Draw(ink).text((pad - left, pad - top), glyph, font=font, fill=255)
    box = ink.getbbox()
    if box is None:
        raise FontError(f"glyph {glyph!r} draws nothing in {style.font_file().name}")
    ink = ink.crop(box)
    x = round((big - ink.width) / 2 + dx * SUPERSAMPLE)
    y = round((big - ink.height) / 2 + dy * SUPERSAMPLE)
    if x < 0 or y < 0 or x + ink.width > big or y + ink.height > big:
        raise FontError(f"glyph {glyph!r} in {style.name} does not fit a {cfg.image_size}px canvas; "
                         "lower font_scale or jitter")
    mask = Image.new("L", (big, big), 0)
    mask.paste(ink, (x, y))
    mask = mask.reduce(SUPERSAMPLE)
    if not cfg.color:
        return Image.eval(mask, lambda v: 255 - v)
    return Image.composite(Image.new("RGB", mask.size, fg), Image.new("RGB", mask.size, bg), mask)


def _style_images(glyph: str, cfg: FontRenderConfig) -> dict[Style, np.ndarray]:
    gray = replace(cfg, color=False)
    return {s: np.asarray(render_glyph(glyph, s, gray), dtype=np.float32) / 255.0 for s in STYLES}


def family_distance(images: dict[Style, np.ndarray]) -> float:
    """Smallest mean absolute difference between two families of one glyph, over the weight/slant
    styles: how visible the family label is where it is least visible."""
    return min(float(np.abs(images[Style(a, b, o)] - images[Style(c, b, o)]).mean())
               for i, a in enumerate(FAMILIES) for c in FAMILIES[i + 1:]
               for b in (False, True) for o in (False, True))


def select_glyphs(cfg: FontRenderConfig) -> tuple[str, dict[str, str]]:
    """The glyphs to render and, for each dropped one, why (see the module docstring).

    Held-out glyphs are examined first, so a training glyph that duplicates one of them is the one
    dropped. A held-out glyph whose families look alike is an error, not a silent change of the
    test set.
    """
    ordered = list(cfg.test_glyphs) + [g for g in cfg.glyphs if g not in cfg.test_glyphs]
    kept: dict[str, dict[Style, np.ndarray]] = {}
    dropped: dict[str, str] = {}
    for glyph in ordered:
        images = _style_images(glyph, cfg)
        dist = family_distance(images)
        if dist < cfg.min_family_distance:
            dropped[glyph] = f"families differ by {dist:.4f} < min_family_distance"
            continue
        twin = next((k for k, other in kept.items()
                     if max(float(np.abs(images[s] - other[s]).mean()) for s in STYLES) < DUPLICATE_DISTANCE), None)
        if twin is not None:
            dropped[glyph] = f"renders like {twin!r}"
            continue
        kept[glyph] = images
    bad_test = {g: dropped[g] for g in cfg.test_glyphs if g in dropped}
    if bad_test:
        raise FontError("held-out glyphs that cannot be judged: "
                         + "; ".join(f"{g!r}: {why}" for g, why in bad_test.items())
                         + "; choose other test_glyphs or lower min_family_distance")
    chosen = "".join(g for g in cfg.glyphs if g in kept)
    if len(chosen) <= len(cfg.test_glyphs):
        raise FontError(f"no training glyph left after dropping {len(dropped)} of {len(cfg.glyphs)}; "
                         "lower min_family_distance or add glyphs")
    if dropped:
        log.info("dropped %d of %d glyphs whose labels the pixels do not show: %s",
                 len(dropped), len(cfg.glyphs), "".join(dropped))
    return chosen, dropped


def render_font_set(out: str | os.PathLike, cfg: FontRenderConfig) -> int:
    """Render the font set into ``out`` (CelebA layout); returns the number of images.

    A folder already rendered with the same settings is left as it is; one rendered with other
    settings is an error rather than being overwritten.
    """
    check_fonts()
    out = Path(out)
    old = json.loads((out / MANIFEST).read_text(encoding="utf-8")) if (out / MANIFEST).is_file() else None
    if old is not None and old.get("render") == to_dict(cfg) and celeba.is_prepared(out):
        log.info("font set already rendered in %s", out)  # (without selecting the glyphs again)
        return len(celeba.read_attr_file(out / celeba.ATTR_FILE).files)
    glyphs, dropped = select_glyphs(cfg)
    manifest = {"render": to_dict(cfg), "attributes": list(ATTRIBUTES),
                "exclusive_groups": [list(g) for g in EXCLUSIVE_GROUPS],
                "glyphs": glyphs, "dropped": dropped}
    # the manifest is written before the first image, so even an interrupted render is never
    # resumed with other settings (its images would silently mix with the new ones)
    if old is not None and old != manifest or old is None and (out / celeba.IMAGE_DIR).is_dir():
        raise FontSetExistsError(f"{out} holds a different or unknown font set ({out / MANIFEST}); "
                              "remove it or render into another folder")
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    files, rows, partition, content = [], [], {}, {}
    jobs = [(g, v, s) for g in glyphs for v in range(cfg.variants) for s in STYLES]
    for glyph, variant, style in tqdm(jobs, desc="render", unit="img"):
        cid = content_id(glyph, variant)
        name = f"{cid}_{style.name}.png"
        path = out / celeba.IMAGE_DIR / name
        if not path.is_file():  # resume an interrupted render
            save_image(render_glyph(glyph, style, cfg, variant), path)
        files.append(name)
        rows.append(style.attributes())
        partition[name] = celeba.PARTITIONS["test" if glyph in cfg.test_glyphs else "train"]
        content[name] = cid
    celeba.write_partition_file(out / celeba.PARTITION_FILE, partition)
    celeba.write_content_file(out / celeba.CONTENT_FILE, content)
    table = celeba.AttributeTable(files, list(ATTRIBUTES), np.asarray(rows, dtype=np.uint8))
    celeba.write_attr_file(out / celeba.ATTR_FILE, table)  # last: marks the set complete
    log.info("rendered %d images (%d glyphs x %d variants x %d styles) in %s",
             len(files), len(glyphs), cfg.variants, len(STYLES), out)
    return len(files)
