"""The rendered font-style set: 12 styles, deterministic, CelebA layout, held-out glyphs."""
import json

import numpy as np
import pytest
from PIL import Image

from vc.image import celeba, fonts
from vc.image.config import ImageDataConfig
from vc.image.datasets import build_dataset

CFG = fonts.FontRenderConfig(image_size=16, glyphs="GbQЖ", test_glyphs="Ж", variants=2)


def test_all_twelve_styles_have_a_font_file_and_distinct_attributes():
    fonts.check_fonts()
    assert len(fonts.STYLES) == 12
    assert len({tuple(s.attributes()) for s in fonts.STYLES}) == 12
    assert {s.font_file().name for s in fonts.STYLES} >= {"DejaVuSerif-BoldItalic.ttf", "DejaVuSansMono-Oblique.ttf"}
    for s in fonts.STYLES:
        assert sum(s.attributes()[:3]) == 1  # exactly one family


def test_rendering_is_deterministic_and_styles_differ():
    style = fonts.Style("Serif", True, True)
    a = np.asarray(fonts.render_glyph("Q", style, CFG, variant=1))
    b = np.asarray(fonts.render_glyph("Q", style, CFG, variant=1))
    assert a.shape == (16, 16) and np.array_equal(a, b)
    plain = np.asarray(fonts.render_glyph("Q", fonts.Style("Serif", False, False), CFG))
    assert not np.array_equal(a, plain)
    assert a.min() < 100 and a[0].min() > 200  # ink in the middle, white border rows


def test_glyph_is_centred_by_its_ink_box():
    img = np.asarray(fonts.render_glyph("b", fonts.Style("Sans", False, False), fonts.FontRenderConfig(image_size=64)))
    ys, xs = np.nonzero(img < 128)
    assert abs((xs.min() + xs.max()) / 2 - 31.5) <= 1.0
    assert abs((ys.min() + ys.max()) / 2 - 31.5) <= 1.0


def test_colour_variants_share_colours_across_styles():
    cfg = fonts.FontRenderConfig(image_size=16, color=True, seed=3)
    a = fonts.render_glyph("A", fonts.Style("Sans", False, False), cfg)
    b = fonts.render_glyph("A", fonts.Style("Mono", True, False), cfg)
    assert a.mode == "RGB" and a.getpixel((0, 0)) == b.getpixel((0, 0))


def test_render_writes_the_celeba_layout_read_by_the_common_loader(tmp_path):
    out = tmp_path / "fonts"
    assert fonts.render_font_set(out, CFG) == 4 * 2 * 12
    table = celeba.read_attr_file(out / "list_attr_celeba.txt")
    assert table.names == list(fonts.ATTRIBUTES)
    part = celeba.read_partition_file(out / "list_eval_partition.txt")
    assert sum(v == 2 for v in part.values()) == 1 * 2 * 12  # the held-out glyph, all variants and styles
    first = Image.open(out / "img_align_celeba" / table.files[0])
    assert first.size == (16, 16)
    data = ImageDataConfig(root=str(out), attributes=list(fonts.ATTRIBUTES),
                           exclusive_groups=[list(g) for g in fonts.EXCLUSIVE_GROUPS], split="partition",
                           crop_size=0, image_size=16, channels=1, hflip=False)
    test = build_dataset(data, "test")
    assert len(test) == 24 and all(c.startswith("u0416") for c in test.content_ids)
    gt = test.ground_truth_index()
    assert len(gt) == 24  # each (content, style) is one image: every translation has a ground truth
    # a second render with the same settings keeps the files; other settings are refused
    mtime = (out / "list_attr_celeba.txt").stat().st_mtime_ns
    fonts.render_font_set(out, CFG)
    assert (out / "list_attr_celeba.txt").stat().st_mtime_ns == mtime
    with pytest.raises(FileExistsError, match="different or unknown font set"):
        fonts.render_font_set(out, fonts.FontRenderConfig(image_size=16, glyphs="GbQЖ", test_glyphs="G"))


def test_glyphs_whose_families_look_alike_and_twins_of_held_out_glyphs_are_dropped(tmp_path):
    cfg = fonts.FontRenderConfig(image_size=32, glyphs="G17ΠПE", test_glyphs="Π")
    kept, dropped = fonts.select_glyphs(cfg)
    assert kept == "GΠ"  # DejaVu Sans Mono shares the digits and E with Sans; П is drawn as Π
    assert dropped["П"] == "renders like 'Π'" and "min_family_distance" in dropped["1"]
    assert set(dropped) == set("17ПE")
    fonts.render_font_set(tmp_path / "f", cfg)
    manifest = json.loads((tmp_path / "f" / fonts.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["glyphs"] == "GΠ" and set(manifest["dropped"]) == set("17ПE")
    assert len(celeba.read_attr_file(tmp_path / "f" / "list_attr_celeba.txt").files) == 2 * 12
    with pytest.raises(ValueError, match="held-out glyphs that cannot be judged: '7'"):
        fonts.select_glyphs(fonts.FontRenderConfig(image_size=32, glyphs="G7", test_glyphs="7"))
    everything = fonts.FontRenderConfig(image_size=32, glyphs="G17", test_glyphs="7", min_family_distance=0.0)
    assert fonts.select_glyphs(everything) == ("G17", {})


def test_default_set_keeps_every_held_out_glyph_at_recipe_sizes():
    for size in (16, 32):
        kept, _ = fonts.select_glyphs(fonts.FontRenderConfig(image_size=size))
        assert set(fonts.FontRenderConfig.test_glyphs) < set(kept) and len(kept) > 60


def test_bad_render_settings_are_refused(tmp_path):
    with pytest.raises(ValueError, match="not in glyphs"):
        fonts.render_font_set(tmp_path, fonts.FontRenderConfig(glyphs="AB", test_glyphs="Z"))
    with pytest.raises(ValueError, match="does not fit"):
        fonts.render_glyph("W", fonts.Style("Serif", True, True), fonts.FontRenderConfig(image_size=16, font_scale=1.5))


def test_an_interrupted_render_is_not_resumed_with_other_settings(tmp_path):
    out = tmp_path / "fonts"
    fonts.render_font_set(out, CFG)
    (out / "list_attr_celeba.txt").unlink()  # as if stopped before the end
    fonts.render_font_set(out, CFG)  # same settings: resumes and completes
    assert (out / "list_attr_celeba.txt").is_file()
    (out / "list_attr_celeba.txt").unlink()
    with pytest.raises(FileExistsError, match="different or unknown font set"):
        fonts.render_font_set(out, fonts.FontRenderConfig(image_size=24, glyphs="GbQЖ", test_glyphs="Ж", variants=2))
