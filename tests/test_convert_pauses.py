"""The pause rule of conversion: frames the statistical c0 mapping has as pauses stay that quiet."""
from __future__ import annotations

import numpy as np
import pytest

from vc.convert.pauses import DB_PER_NEPER, limit_pause_level


def test_pauses_are_lowered_to_the_mapping_and_speech_is_kept() -> None:
    mapped = np.array([-9.0, -8.0, -1.0, 0.0, -0.5, -7.0], dtype=np.float32)  # loudest frame: 0.0
    conv = np.array([-5.0, -9.5, -3.0, 0.2, -0.4, -4.0], dtype=np.float32)
    out = limit_pause_level(conv, mapped, threshold_db=26.0)  # pause: below -26 dB = -2.99 nepers
    np.testing.assert_array_equal(out, np.array([-9.0, -9.5, -3.0, 0.2, -0.4, -7.0], dtype=np.float32))
    assert out.dtype == conv.dtype
    np.testing.assert_array_equal(conv, np.array([-5.0, -9.5, -3.0, 0.2, -0.4, -4.0], dtype=np.float32))


def test_threshold_is_in_db_of_amplitude() -> None:
    assert DB_PER_NEPER == pytest.approx(8.685889638)
    mapped = np.array([0.0, -2.0, -4.0])
    conv = np.zeros(3)
    # 20 dB = 2.30 nepers: only the -4.0 frame is a pause; 10 dB = 1.15: both quiet frames are
    np.testing.assert_array_equal(limit_pause_level(conv, mapped, 20.0), [0.0, 0.0, -4.0])
    np.testing.assert_array_equal(limit_pause_level(conv, mapped, 10.0), [0.0, -2.0, -4.0])


def test_zero_threshold_turns_the_rule_off_and_shapes_must_match() -> None:
    conv, mapped = np.array([1.0, 2.0]), np.array([-50.0, 0.0])
    np.testing.assert_array_equal(limit_pause_level(conv, mapped, 0.0), conv)
    assert limit_pause_level(np.zeros(0), np.zeros(0), 26.0).size == 0
    with pytest.raises(ValueError, match="shapes"):
        limit_pause_level(np.zeros(3), np.zeros(4), 26.0)
