"""StarGAN-VC networks and objective: shapes for any length/height, config errors, gradient flow."""
from __future__ import annotations

import copy
import dataclasses

import pytest
import torch

from vc.config import ConfigError, from_dict
from vc.gan import one_hot
from vc.stargan_vc.config import StarGANVCConfig, StarGANVCNetConfig
from vc.stargan_vc.networks import build_stargan_vc, generator_conditioning, speaker_code

from test_train_fixtures import TINY_NET


def _cfg(q: int, k: int = 3, tiny: bool = False) -> StarGANVCNetConfig:
    base = {"num_speakers": k, "mcep_dim": q, **(TINY_NET if tiny else {})}
    return from_dict(StarGANVCNetConfig, base)


@pytest.mark.parametrize("q", [36, 24])
@pytest.mark.parametrize("n", [37, 128, 301])
def test_paper_networks_any_length(q, n):
    torch.manual_seed(0)
    nets = build_stargan_vc(_cfg(q, k=4))
    x = torch.randn(2, q, n)
    code = one_hot(torch.tensor([1, 3]), 4)
    with torch.no_grad():
        y = nets["G"](x, code)
        d = nets["D"](x, code)
        c = nets["C"](x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    assert d.shape == (2, -(-n // 8))          # one logit per 8-frame patch (three stride-2 layers)
    assert c.shape == (2, 4, -(-n // 32))       # per-segment speaker logits


def test_odd_height_and_short_input():
    g = build_stargan_vc(_cfg(25, tiny=True))["G"].eval()  # conversion: eval mode, batch of one
    x = torch.randn(1, 25, 3)
    assert g(x, one_hot(torch.tensor([0]), 3)).shape == (1, 25, 3)


@pytest.mark.parametrize("net", ["D", "G"])
def test_voicing_conditioned_networks(net: str):
    torch.manual_seed(0)
    cfg = _cfg(24, tiny=True)
    setattr(cfg, {"D": "discriminator_voicing", "G": "generator_voicing"}[net], True)
    m = build_stargan_vc(cfg)[net].eval()
    x, code = torch.randn(2, 24, 61), one_hot(torch.tensor([0, 2]), 3)
    voiced = (torch.arange(61) % 10 < 6).float().expand(2, 61)
    with torch.no_grad():
        out = m(x, code, voiced)
        assert out.shape == {"D": (2, -(-61 // 2)), "G": (2, 24, 61)}[net]  # the tiny D halves time once
        assert not torch.allclose(out, m(x, code, 1.0 - voiced))  # the output depends on the voicing
    with pytest.raises(ValueError, match="needs voicing"):
        m(x, code)
    with pytest.raises(ValueError, match="needs voicing"):
        m(x, code, voiced[:, :60])
    # the paper's networks ignore the argument
    plain = build_stargan_vc(_cfg(24, tiny=True))[net].eval()
    with torch.no_grad():
        assert torch.equal(plain(x, code), plain(x, code, voiced))


def test_speaker_code_for_each_conditioning():
    src, tgt = torch.tensor([0, 2]), torch.tensor([1, 0])
    assert torch.equal(speaker_code("target", src, tgt, 3), one_hot(tgt, 3))
    assert torch.equal(speaker_code("target", None, tgt, 3), one_hot(tgt, 3))  # the source is not read
    pair = speaker_code("source_target", src, tgt, 3)
    assert torch.equal(pair, torch.cat([one_hot(src, 3), one_hot(tgt, 3)], 1))
    unseen = speaker_code("source_target", None, tgt, 3)  # a speaker the model never saw
    assert torch.allclose(unseen[:, :3], torch.full((2, 3), 1 / 3)) and torch.equal(unseen[:, 3:], one_hot(tgt, 3))
    with pytest.raises(ValueError, match="conditioning"):
        speaker_code("pair", src, tgt, 3)
    with pytest.raises(ConfigError, match="net.conditioning"):
        StarGANVCNetConfig(num_speakers=3, mcep_dim=24, conditioning="pair")


@pytest.mark.parametrize("net", ["D", "G"])
def test_source_target_conditioned_networks(net: str):
    """StarGAN-VC2's conditioning: G and D read a (source, target) code of width 2K, and what
    they return depends on the source half as well as on the target half."""
    torch.manual_seed(0)
    cfg = _cfg(24, tiny=True)
    cfg.conditioning = "source_target"
    assert cfg.code_dim() == 6
    m = build_stargan_vc(cfg)[net].eval()
    x, tgt = torch.randn(2, 24, 40), torch.tensor([1, 2])
    with torch.no_grad():
        out = m(x, speaker_code("source_target", torch.tensor([0, 0]), tgt, 3))
        other = m(x, speaker_code("source_target", torch.tensor([2, 1]), tgt, 3))
        unseen = m(x, speaker_code("source_target", None, tgt, 3))
    assert out.shape == {"D": (2, 20), "G": (2, 24, 40)}[net] and torch.isfinite(unseen).all()
    assert not torch.allclose(out, other)
    if net == "G":
        assert generator_conditioning(m) == "source_target"
        with pytest.raises(RuntimeError):  # a target-only code does not fit
            m(x, one_hot(tgt, 3))


def test_generator_sees_voicing_at_each_decoder_resolution():
    cfg = StarGANVCNetConfig(num_speakers=3, mcep_dim=36, generator_voicing=True)  # the paper's G: time / 4
    g = build_stargan_vc(cfg)["G"]
    code = one_hot(torch.tensor([1]), 3)
    voiced = torch.tensor([[1, 1, 0, 0, 1, 0, 1, 1, 1, 0]], dtype=torch.float32)  # 10 frames, padded to 12
    conds = g.decoder_conditions(code, voiced, 10)
    assert [c.shape[-1] for c in conds] == [3, 3, 3, 6, 12]
    for c in conds:
        assert c.shape[:3] == (1, 4, 1) and torch.equal(c[0, :3, 0], code[0, :, None].expand(3, c.shape[-1]))
    padded = torch.cat([voiced[0], voiced[0, -1:].expand(2)])  # edge-padded like the MCEPs
    torch.testing.assert_close(conds[0][0, 3, 0], padded.view(3, 4).mean(1))  # fraction voiced per position
    torch.testing.assert_close(conds[3][0, 3, 0], padded.view(6, 2).mean(1))
    assert torch.equal(conds[4][0, 3, 0], padded)


def test_generator_depends_on_target_code():
    torch.manual_seed(0)
    g = build_stargan_vc(_cfg(24, tiny=True))["G"].eval()
    x = torch.randn(1, 24, 64)
    with torch.no_grad():
        a, b = g(x, one_hot(torch.tensor([0]), 3)), g(x, one_hot(torch.tensor([1]), 3))
    assert not torch.allclose(a, b)


def test_bad_architectures_are_refused_when_the_config_is_made():
    with pytest.raises(ConfigError, match="num_speakers"):
        StarGANVCNetConfig(num_speakers=1, mcep_dim=36)
    with pytest.raises(ConfigError, match="classifier_band"):
        StarGANVCNetConfig(num_speakers=3, mcep_dim=6)
    good = _cfg(24, tiny=True)
    generator = copy.deepcopy(good.generator)
    generator[1].kernel = [3, 8]  # stride 2 with an odd kernel cannot halve exactly
    unresolved = dataclasses.replace(good, num_speakers=None, mcep_dim=None, generator=generator)  # sizes unknown
    with pytest.raises(ConfigError, match=r"net.generator\[1\]: height kernel 3 and stride 2"):
        dataclasses.replace(unresolved, num_speakers=3, mcep_dim=24)  # planned once the sizes are known
    discriminator = copy.deepcopy(good.discriminator)
    discriminator[-1].channels = 2
    with pytest.raises(ConfigError, match="1 channel"):
        dataclasses.replace(good, discriminator=discriminator)
    with pytest.raises(ConfigError, match="must be set before the networks are built"):
        build_stargan_vc(StarGANVCNetConfig())


def test_net_config_round_trip_through_the_model_config():
    cfg = from_dict(StarGANVCConfig, {"net": {"generator_norm": "instance", **TINY_NET}})
    assert cfg.net.generator[0].kernel == [3, 9] and cfg.net.generator[-1].kernel == [None, 5]


def _repeats_taps(conv: torch.nn.ConvTranspose2d) -> bool:
    """True when, along both strided axes, every kernel tap equals the first tap of its stride group."""
    (sh, sw), w = conv.stride, conv.weight
    return torch.equal(w, w[:, :, ::sh, ::sw].repeat_interleave(sh, 2).repeat_interleave(sw, 3))


def test_generator_upsampling_init_is_configurable():
    def transposed(G):
        return [m for m in G.decoder.modules() if isinstance(m, torch.nn.ConvTranspose2d) and m.stride == (2, 2)]

    nets = build_stargan_vc(from_dict(StarGANVCNetConfig, {"num_speakers": 3, "mcep_dim": 36, "upsample_init": "nearest"}))
    assert len(transposed(nets["G"])) == 2 and all(_repeats_taps(m) for m in transposed(nets["G"]))
    expand = nets["G"].decoder[0].conv  # one row -> the mel-cepstral rows (kernel == stride): untouched
    assert expand.stride[0] == expand.kernel_size[0] > 1
    assert not torch.equal(expand.weight[:, :, 0], expand.weight[:, :, 1])
    assert not any(_repeats_taps(m) for m in transposed(build_stargan_vc(_cfg(36))["G"]))
    with pytest.raises(ValueError, match="upsample_init"):
        build_stargan_vc(from_dict(StarGANVCNetConfig, {"num_speakers": 3, "mcep_dim": 36, "upsample_init": "bicubic"}))


def test_classifier_band_null_means_every_row_from_lo():
    torch.manual_seed(0)
    for mcep_dim in (24, 40):
        cfg = _cfg(mcep_dim, tiny=True)
        cfg.classifier_band = [0, None]
        c = build_stargan_vc(cfg)["C"].eval()
        assert (c.lo, c.hi) == (0, mcep_dim)
        y = torch.randn(2, mcep_dim, 64)
        with torch.no_grad():
            base = c(y)
            y[:, -1] += 5.0  # the last row is seen
            assert not torch.allclose(c(y), base)
    with pytest.raises(ConfigError, match="only hi may be null"):
        dataclasses.replace(_cfg(24, tiny=True), classifier_band=[None, 8])
    loaded = from_dict(StarGANVCConfig, {"net": {"classifier_band": [2, None], **TINY_NET}})
    assert loaded.net.classifier_band == [2, None]
