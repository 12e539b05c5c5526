"""Mel-cepstral distortion (MCD) in dB.

MCD numbers are only comparable when the variant is known (c0 or not, DTW or not, silence or
not: see docs/USERS "metrics whose variant is not stated"), so every score is reported with
:func:`mcd_variant` beside it. The variant here is the common one in VC papers:

    MCD = 10/ln10 * mean over aligned frames of sqrt(2 * sum_{d=1}^{D-1} (c_d - c'_d)^2)

with c0 (overall loudness) excluded, silent frames removed and a DTW alignment on c1..c(D-1).
"""
from __future__ import annotations

import math

import numpy as np

from vc.evaluate.align import DEFAULT_SILENCE_DB, Alignment, align

MCD_CONST = 10.0 / math.log(10.0) * math.sqrt(2.0)


def mcd_per_frame(ref_mcep: np.ndarray, conv_mcep: np.ndarray) -> np.ndarray:
    """Frame-by-frame distortion in dB of already-paired frames, c0 excluded."""
    ref_mcep = np.asarray(ref_mcep, dtype=np.float64)
    conv_mcep = np.asarray(conv_mcep, dtype=np.float64)
    if ref_mcep.shape != conv_mcep.shape or ref_mcep.ndim != 2:
        raise ValueError(f"paired mcep arrays must have equal (frames, dims) shapes, got {ref_mcep.shape} and {conv_mcep.shape}")
    diff = ref_mcep[:, 1:] - conv_mcep[:, 1:]
    return MCD_CONST * np.sqrt(np.sum(diff * diff, axis=1))


def mel_cepstral_distortion(ref_mcep: np.ndarray, conv_mcep: np.ndarray, alignment: Alignment | None = None, *,
                            silence_db: float | None = DEFAULT_SILENCE_DB, use_dtw: bool = True) -> float:
    """MCD in dB between a reference and a converted utterance (mean over the aligned frames).

    Pass the ``alignment`` when it has been computed already (it is shared with the F0 metrics);
    otherwise it is computed here with ``silence_db`` and ``use_dtw``.
    """
    if alignment is None:
        alignment = align(ref_mcep, conv_mcep, silence_db=silence_db, use_dtw=use_dtw)
    ref = np.asarray(ref_mcep)[alignment.ref]
    conv = np.asarray(conv_mcep)[alignment.conv]
    return float(np.mean(mcd_per_frame(ref, conv)))


def mcd_variant(mcep_dim: int, alpha: float, silence_db: float | None = DEFAULT_SILENCE_DB,
                use_dtw: bool = True) -> str:
    """The exact definition behind a reported MCD, e.g. for a table legend or a JSON field."""
    silence = (f"silence removed (frames more than {-silence_db:g} dB below the loudest frame's c0 level)"
               if silence_db is not None else "silence kept")
    timing = f"DTW-aligned (Euclidean on c1-c{mcep_dim - 1})" if use_dtw else "frame by frame (no DTW)"
    return (f"MCD [dB] = 10/ln10 * sqrt(2 * sum_d=1..{mcep_dim - 1} (c_d - c'_d)^2), mean over {timing} frames, "
            f"c0 excluded, alpha={alpha:g}, {silence}; then mean over utterances")
