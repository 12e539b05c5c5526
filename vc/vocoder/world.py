"""WORLD synthesis from stored features: the exact inverse of :func:`vc.features.analyze`'s coding."""
from __future__ import annotations

import numpy as np

from vc.features._deps import pyworld
from vc.features.config import FeatureConfig
from vc.features.mcep import mcep_to_sp
from vc.features.world import decode_aperiodicity


def synthesize(f0: np.ndarray, mcep: np.ndarray, bap: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """Waveform (float64, ``cfg.sample_rate``) from F0, mel-cepstrum and band aperiodicity.

    The envelope is decoded with the batched inverse of the mel-cepstral coding and the
    aperiodicity with the batched form of WORLD's band decoding, both at the config's FFT size and
    all-pass constant, so features made with other settings must not be passed here.
    """
    cfg = cfg.resolved()
    f0 = np.ascontiguousarray(f0, dtype=np.float64)
    mcep = np.asarray(mcep, dtype=np.float64)
    bap = np.ascontiguousarray(bap, dtype=np.float64)
    if f0.ndim != 1 or mcep.ndim != 2 or bap.ndim != 2 or not len(f0) == len(mcep) == len(bap):
        raise ValueError(f"need f0 (T,), mcep (T, D), bap (T, B) with equal T; got {f0.shape}, {mcep.shape}, {bap.shape}")
    if mcep.shape[1] != cfg.mcep_dim:
        raise ValueError(f"mcep has {mcep.shape[1]} coefficients but the config says mcep_dim={cfg.mcep_dim}")
    bands = pyworld.get_num_aperiodicities(cfg.sample_rate)
    if bap.shape[1] == 0:
        raise ValueError("these features carry no aperiodicity (extracted with vc-extract --no-aperiodicity, "
                         "for training only); extract them again without that option to synthesize them")
    if bap.shape[1] != bands:
        raise ValueError(f"bap has {bap.shape[1]} bands but {cfg.sample_rate} Hz needs {bands}")
    if len(f0) == 0:
        raise ValueError("cannot synthesize zero frames")
    if not (np.isfinite(f0).all() and np.isfinite(mcep).all() and np.isfinite(bap).all()):
        raise ValueError("features contain NaN or infinite values")
    f0 = np.maximum(f0, 0.0)  # a converted contour may dip below 0 Hz; WORLD reads <=0 as unvoiced
    sp = np.ascontiguousarray(mcep_to_sp(mcep, cfg.fft_size, cfg.alpha))
    ap = decode_aperiodicity(bap, cfg.sample_rate, cfg.fft_size)
    return pyworld.synthesize(f0, sp, ap, cfg.sample_rate, frame_period=cfg.frame_period)
