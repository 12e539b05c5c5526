"""StarGAN networks and the Figure-4 grid layout."""
import numpy as np
import pytest
import torch

from vc.config import ConfigError
from vc.image.grid import figure4, tile
from vc.image.imageio import to_uint8
from vc.image.labels import LabelSpace
from vc.stargan.config import StarGANNetConfig
from vc.stargan.networks import Discriminator, Generator


@pytest.mark.parametrize("channels, size, down", [(3, 32, 2), (1, 16, 1)])
def test_generator_keeps_the_image_shape_and_range(channels, size, down):
    G = Generator(c_dim=5, channels=channels, conv_dim=8, repeat_num=2, downsample=down)
    x = torch.rand(2, channels, size, size) * 2 - 1
    y = G(x, torch.tensor([[1, 0, 0, 1, 0], [0, 0, 1, 0, 1]], dtype=torch.float32))
    assert y.shape == x.shape and y.abs().max() <= 1


def test_generator_output_depends_on_the_label():
    torch.manual_seed(0)
    G = Generator(c_dim=3, channels=3, conv_dim=8, repeat_num=1)
    x = torch.rand(1, 3, 16, 16)
    assert not torch.allclose(G(x, torch.tensor([[1.0, 0, 0]])), G(x, torch.tensor([[0.0, 1, 0]])))


def test_generator_skip_starts_silent_and_feeds_the_stem_to_the_last_convolution():
    torch.manual_seed(0)
    G = Generator(c_dim=2, channels=1, conv_dim=4, repeat_num=1, downsample=1, skip=True)
    last = G.main[-2]
    assert last.in_channels == 2 * 4  # decoder output + full-resolution stem
    assert not last.weight[:, 4:].any()  # starts as the paper's G: the skip is learned
    x, c = torch.rand(2, 1, 16, 16) * 2 - 1, torch.tensor([[1.0, 0], [0, 1]])
    assert G(x, c).shape == x.shape
    assert G.correlate_with_input_(x, c, min_corr=0.99, max_draws=2)  # redraws keep the skip silent
    assert not last.weight[:, 4:].any()
    with torch.no_grad():
        last.weight[:, 4:] = torch.randn_like(last.weight[:, 4:])
        last.weight[:, :4] = 0  # silence the decoder half: the output comes through the skip alone
    y = G(x, c)
    assert y.abs().max() > 0
    stem = G.main[:3](torch.cat([x, c[:, :, None, None].expand(-1, -1, 16, 16)], 1))
    torch.testing.assert_close(y, torch.tanh(torch.nn.functional.conv2d(stem, last.weight[:, 4:], padding=3)))
    plain = Generator(c_dim=2, channels=1, conv_dim=4, repeat_num=1, downsample=1)
    assert plain.main[-2].in_channels == 4
    assert set(plain.state_dict()) == set(G.state_dict())  # same names: one loader for both


def test_discriminator_is_a_patchgan_with_an_attribute_head():
    D = Discriminator(c_dim=5, image_size=32, channels=3, conv_dim=8, repeat_num=3)
    src, cls = D(torch.rand(4, 3, 32, 32))
    assert src.shape == (4, 1, 4, 4)  # one score per patch
    assert cls.shape == (4, 5)
    with pytest.raises(ValueError, match="divisible by 2\\*\\*d_repeat_num"):
        Discriminator(c_dim=5, image_size=24, conv_dim=8, repeat_num=4)
    with pytest.raises(ValueError, match="built for 32px"):
        D(torch.rand(1, 3, 16, 16))


def test_generator_rejects_sizes_it_cannot_downsample():
    with pytest.raises(ValueError, match="not divisible"):
        Generator(c_dim=2, conv_dim=4, repeat_num=1)(torch.rand(1, 3, 18, 18), torch.zeros(1, 2))


def test_grid_is_rows_by_columns_tiles_plus_a_header():
    space = LabelSpace.create(["Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young"],
                              [["Black_Hair", "Blond_Hair", "Brown_Hair"]])
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    labels = torch.tensor([[1, 0, 0, 1, 1], [0, 1, 0, 0, 0], [0, 0, 0, 1, 0]], dtype=torch.float32)
    seen = []

    def fake_translate(images, target):
        seen.append(target.clone())
        return images.flip(-1)

    titles, columns = figure4(fake_translate, x, labels, space)
    assert titles[0] == "Input" and titles[-4:] == ["Hair+Male", "Hair+Young", "Male+Young", "Hair+Male+Young"]
    assert len(columns) == 1 + 5 + 4 and len(seen) == 9
    img = tile(columns, titles)
    assert img.size == (16 * 10, 16 * 4)  # (cols, rows + header) tiles
    assert tile(columns).size == (16 * 10, 16 * 3)
    # tile (row 1, column 2) holds image 1 of column 2, exactly
    crop = np.asarray(img.crop((2 * 16, 2 * 16, 3 * 16, 3 * 16)))
    assert np.array_equal(crop, to_uint8(columns[2][1]))


def test_generator_upsampling_init_removes_the_initial_checkerboard():
    def checkerboard(G):  # a constant map upsampled: any pixel-to-pixel variation is the layer's own
        (up,) = [m for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
        with torch.no_grad():
            y = up(torch.ones(1, up.in_channels, 8, 8))[..., 2:-2, 2:-2]
        return float(y.std(dim=(2, 3)).max())

    torch.manual_seed(0)
    default = Generator(c_dim=1, channels=3, conv_dim=8, repeat_num=1, downsample=1)
    torch.manual_seed(0)
    nearest = Generator(c_dim=1, channels=3, conv_dim=8, repeat_num=1, downsample=1, upsample_init="nearest")
    assert checkerboard(nearest) < 1e-5 < 1e-3 < checkerboard(default)
    with pytest.raises(ConfigError, match="g_upsample_init"):
        StarGANNetConfig(g_upsample_init="bilinear")


def test_generator_starts_positively_correlated_with_its_input():
    x = torch.ones(6, 1, 16, 16)  # glyph-like: paper with a few strokes of ink
    for i in range(6):
        x[i, :, 3 + i:9 + i, 4:7] = -1.0
        x[i, :, 5:7, 2 + i:12] = -1.0
    c = torch.eye(2)[[0, 1, 0, 1, 0, 1]]

    def corr(G):
        with torch.no_grad():
            y = G(x, c)
        return float(torch.corrcoef(torch.stack([x.flatten(), y.flatten()]))[0, 1])

    starts, negated = [], 0
    for seed in range(12):  # random inits draw either sign, some near zero
        torch.manual_seed(seed)
        G = Generator(c_dim=2, channels=1, conv_dim=8, repeat_num=1, downsample=1)
        before = corr(G)
        starts.append(before)
        with torch.no_grad():
            y = G(x, c)
        changed = G.correlate_with_input_(x, c, min_corr=0.05)
        assert changed == (before < 0.05)  # a clear positive start is left alone
        if before <= -0.05:  # a clear negative one is negated, nothing else
            negated += 1
            with torch.no_grad():
                assert torch.allclose(G(x, c), -y, atol=1e-6)  # exactly -G: tanh is odd
        assert corr(G) >= 0.05
        assert not G.correlate_with_input_(x, c, min_corr=0.05)  # idempotent
    assert min(starts) < 0 < max(starts) and negated > 0
    torch.manual_seed(0)
    a = Generator(c_dim=2, channels=1, conv_dim=8, repeat_num=1, downsample=1)
    a.correlate_with_input_(x, c, min_corr=0.3)
    torch.manual_seed(0)
    b = Generator(c_dim=2, channels=1, conv_dim=8, repeat_num=1, downsample=1)
    b.correlate_with_input_(x, c, min_corr=0.3)  # redraws are deterministic
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    with pytest.raises(ConfigError, match="g_output_sign"):
        StarGANNetConfig(g_output_sign="negative")
