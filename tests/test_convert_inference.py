"""The inference-time generator (vc.convert.inference) computes what the stored network computes."""
from __future__ import annotations

import pytest
import torch

from vc.config import from_dict
from vc.convert.inference import InferenceGenerator, prepare_for_inference
from vc.convert.synthetic import TINY_MODEL
from vc.models.stargan_vc import Generator, StarGANVCConfig


def _trained_like(cfg: dict) -> Generator:
    torch.manual_seed(0)
    g = Generator(from_dict(StarGANVCConfig, cfg)).eval()
    for m in g.modules():  # batch-norm statistics as after training, not a fresh layer's identity
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.3)
            m.running_var.uniform_(0.3, 3.0)
            m.weight.data.normal_(1, 0.2)
            m.bias.data.normal_(0, 0.2)
    return g


@pytest.mark.parametrize("arch", [TINY_MODEL, {}], ids=["tiny", "paper"])
@pytest.mark.parametrize("frames", [1, 37, 203])
def test_inference_generator_matches_the_stored_network(arch: dict, frames: int) -> None:
    g = _trained_like({"num_speakers": 3, "mcep_dim": 20, **arch})
    fast = prepare_for_inference(g, 3, 20)
    assert isinstance(fast, InferenceGenerator)
    x, code = torch.randn(2, 20, frames), torch.eye(3)[[0, 2]]
    with torch.no_grad():
        ref = g(x, code)
    out = fast(x, code)  # no autograd in the prepared copy, whatever the grad mode
    assert out.shape == ref.shape == (2, 20, frames) and not out.requires_grad
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-4)


def test_unsupported_generators_run_as_stored() -> None:
    g = _trained_like({"num_speakers": 3, "mcep_dim": 20, "generator_norm": "instance", **TINY_MODEL})
    fast = prepare_for_inference(g, 3, 20)
    assert not isinstance(fast, InferenceGenerator)
    x, code = torch.randn(1, 20, 50), torch.eye(3)[[1]]
    with torch.no_grad():
        torch.testing.assert_close(fast(x, code), g(x, code), atol=1e-5, rtol=1e-4)
