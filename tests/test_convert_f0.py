"""Log-Gaussian F0 transform: the formula, unvoiced frames, pitch shift and estimation."""
from __future__ import annotations

import numpy as np
import pytest

from vc.convert.f0 import MIN_LF0_STD, LogF0Stats, convert_f0


def test_convert_f0_matches_direct_formula() -> None:
    rng = np.random.default_rng(0)
    f0 = rng.uniform(80, 300, size=200).astype(np.float32)
    f0[rng.random(200) < 0.3] = 0.0
    src, tgt = LogF0Stats(np.log(120.0), 0.2), LogF0Stats(np.log(220.0), 0.15)
    out = convert_f0(f0, src, tgt)
    voiced = f0 > 0
    expected = np.exp((np.log(f0[voiced].astype(np.float64)) - src.mean) / src.std * tgt.std + tgt.mean)
    np.testing.assert_allclose(out[voiced], expected, rtol=1e-6)
    assert np.all(out[~voiced] == 0.0)
    assert out.dtype == f0.dtype and out.shape == f0.shape


def test_convert_f0_scale_multiplies_converted_f0() -> None:
    f0 = np.array([0.0, 100.0, 150.0, 0.0, 200.0])
    src, tgt = LogF0Stats(np.log(140.0), 0.3), LogF0Stats(np.log(180.0), 0.2)
    np.testing.assert_allclose(convert_f0(f0, src, tgt, scale=2.0), 2.0 * convert_f0(f0, src, tgt))
    with pytest.raises(ValueError, match="scale"):
        convert_f0(f0, src, tgt, scale=0.0)


def test_identity_when_statistics_are_equal() -> None:
    f0 = np.array([0.0, 101.0, 173.0])
    stats = LogF0Stats(np.log(150.0), 0.25)
    np.testing.assert_allclose(convert_f0(f0, stats, stats), f0)


def test_estimate_uses_voiced_frames_and_floors_std() -> None:
    f0 = np.array([0.0, 100.0, 200.0, 0.0])
    est = LogF0Stats.estimate(f0)
    assert est is not None
    assert est.mean == pytest.approx(np.mean(np.log([100.0, 200.0])))
    assert est.std == pytest.approx(np.std(np.log([100.0, 200.0])))
    assert LogF0Stats.estimate(np.zeros(10)) is None
    assert LogF0Stats.estimate(np.full(10, 120.0)).std == MIN_LF0_STD
