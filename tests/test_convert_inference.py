"""The inference-time generator (vc.convert.inference) computes what the stored network computes."""
from __future__ import annotations

import pytest
import torch

from vc.config import from_dict
from vc.convert.inference import InferenceGenerator, prepare_for_inference
from vc.convert.synthetic import TINY_NET
from vc.stargan_vc.config import StarGANVCNetConfig
from vc.stargan_vc.networks import Generator, speaker_code


def _trained_like(cfg: dict) -> Generator:
    torch.manual_seed(0)
    g = Generator(from_dict(StarGANVCNetConfig, cfg)).eval()
    for m in g.modules():  # batch-norm statistics as after training, not a fresh layer's identity
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.3)
            m.running_var.uniform_(0.3, 3.0)
            m.weight.data.normal_(1, 0.2)
            m.bias.data.normal_(0, 0.2)
    return g


ARCHS = [TINY_NET, {}, {**TINY_NET, "generator_voicing": True}, {"generator_voicing": True},
         {**TINY_NET, "generator_voicing": True, "conditioning": "source_target"}]
ARCH_IDS = ["tiny", "paper", "tiny-voicing", "paper-voicing", "tiny-voicing-source-target"]


def _codes(arch: dict) -> torch.Tensor:
    """Codes of two conversions (1 -> 0 and 0 -> 2 of 3 speakers) as the architecture reads them."""
    return speaker_code(arch.get("conditioning", "target"), torch.tensor([1, 0]), torch.tensor([0, 2]), 3)


def _voicing(frames: int) -> torch.Tensor:
    """Two utterances' voicing: runs of voiced and unvoiced frames, different in each."""
    t = torch.arange(frames)
    return torch.stack([(t // 7) % 2, (t // 3 + 1) % 2]).float()


@pytest.mark.parametrize("arch", ARCHS, ids=ARCH_IDS)
@pytest.mark.parametrize("frames", [1, 37, 203])
def test_inference_generator_matches_the_stored_network(arch: dict, frames: int) -> None:
    g = _trained_like({"num_speakers": 3, "mcep_dim": 20, **arch})
    fast = prepare_for_inference(g, 3, 20)
    assert isinstance(fast, InferenceGenerator)
    x, code, voiced = torch.randn(2, 20, frames), _codes(arch), _voicing(frames)
    with torch.no_grad():
        ref = g(x, code, voiced)
    out = fast(x, code, voiced)  # no autograd in the prepared copy, whatever the grad mode
    assert out.shape == ref.shape == (2, 20, frames) and not out.requires_grad
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-4)


def test_unsupported_generators_run_as_stored() -> None:
    g = _trained_like({"num_speakers": 3, "mcep_dim": 20, "generator_norm": "instance", **TINY_NET})
    fast = prepare_for_inference(g, 3, 20)
    assert not isinstance(fast, InferenceGenerator)
    x, code = torch.randn(1, 20, 50), torch.eye(3)[[1]]
    with torch.no_grad():
        torch.testing.assert_close(fast(x, code), g(x, code), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("arch", ARCHS, ids=ARCH_IDS)
def test_bf16_copy_is_cast_once_and_close_to_the_stored_network(arch: dict) -> None:
    from vc.convert.inference import CastGenerator

    g = _trained_like({"num_speakers": 3, "mcep_dim": 20, **arch})
    fast = prepare_for_inference(g, 3, 20, dtype=torch.bfloat16)
    assert isinstance(fast, CastGenerator) and isinstance(fast.generator, InferenceGenerator)
    assert {p.dtype for p in fast.parameters()} == {torch.bfloat16}
    x, code, voiced = torch.randn(2, 20, 121), _codes(arch), _voicing(121)
    with torch.no_grad():
        ref = g(x, code, voiced)
    out = fast(x, code, voiced)
    assert out.dtype == torch.float32 and out.shape == ref.shape  # G's float32 interface kept
    err = (out - ref).abs().max() / (1 + ref.abs().max())
    assert 0 < err < 0.05  # bfloat16 rounding, not a different function


@pytest.mark.parametrize("kernel,stride,padding", [((4, 8), (2, 2), (1, 3)), ((4, 4), (2, 2), (1, 1)),
                                                    ((6, 6), (2, 2), (2, 2)), ((9, 5), (9, 1), (0, 2)),
                                                    ((5, 5), (3, 3), (1, 1))])
def test_subpixel_phases_compute_the_transposed_convolution(kernel: tuple, stride: tuple, padding: tuple) -> None:
    import torch.nn.functional as F

    from vc.convert.inference import subpixel_phases

    torch.manual_seed(1)
    deconv = torch.nn.ConvTranspose2d(5, 7, kernel, stride, padding)
    x = torch.randn(2, 5, 6, 9)
    with torch.no_grad():
        ref = deconv(x)
        out = torch.full_like(ref, float("nan"))  # every output pixel must be written by one phase
        for ph in subpixel_phases(deconv):
            (ch, cw) = ph.crop
            out[:, :, ph.rh::stride[0], ph.rw::stride[1]] = F.conv2d(
                x, ph.weight, deconv.bias, padding=ph.padding)[:, :, ch:ch + 6, cw:cw + 9]
    assert out.shape == (2, 7, 6 * stride[0], 9 * stride[1])
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_subpixel_phases_refuse_what_they_cannot_compute() -> None:
    from vc.convert.inference import subpixel_phases

    assert subpixel_phases(torch.nn.ConvTranspose2d(3, 4, (3, 5), 1, (1, 2))) is None  # stride 1: a plain conv
    assert subpixel_phases(torch.nn.ConvTranspose2d(3, 4, 3, 2, 0)) is None  # output not exactly 2x the input
    assert subpixel_phases(torch.nn.ConvTranspose2d(3, 4, 4, 2, 1, output_padding=1)) is None


@pytest.mark.parametrize("half", [16, 48], ids=["split", "glu"])
@pytest.mark.parametrize("crop", [None, (1, 2)])
def test_gated_convolution_in_bf16_is_glu_of_the_convolution(half: int, crop: tuple | None) -> None:
    """Narrow gates run as two convolutions (sigmoid in place), wide ones through GLU: either
    way ``GLU(conv(h))`` with the values bf16 gives for it."""
    import torch.nn.functional as F

    torch.manual_seed(2)
    g = prepare_for_inference(_trained_like({"num_speakers": 3, "mcep_dim": 20}), 3, 20, dtype=torch.bfloat16)
    fast = g.generator
    h = torch.randn(2, 5, 12, 30).to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
    weight = (torch.randn(2 * half, 5, 3, 4) / 6).to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
    bias = torch.randn(2 * half).to(torch.bfloat16)
    y = F.conv2d(h, weight, bias, (1, 2), (1, 1))
    if crop is not None:
        y = y[:, :, crop[0]:crop[0] + 8, crop[1]:crop[1] + 9]
    out = torch.full((2, half, *y.shape[2:]), float("nan"), dtype=torch.bfloat16)
    fast._gated_conv(h, weight, bias, (1, 2), (1, 1), out, crop)
    torch.testing.assert_close(out, F.glu(y, dim=1), atol=0.01, rtol=0.01)
