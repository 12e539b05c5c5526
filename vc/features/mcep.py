"""Batched mel-cepstral coding, numerically identical to pysptk.sp2mc / pysptk.mc2sp.

pysptk converts one frame at a time (log, IFFT, then SPTK's ``freqt`` recursion), which costs
more than the whole WORLD analysis. Every step is linear in the log-spectral domain, so the
whole chain is one matrix per (fft_size, dim, alpha). The matrices are built by pushing the
basis vectors through the *same* pysptk/NumPy steps that sp2mc/mc2sp use, which makes them
exact by construction (no re-derivation of SPTK's warping recursion to get wrong), and are
cached per process; converting an utterance is then a single matmul.
"""
from __future__ import annotations

import functools

import numpy as np


def _check_fft_size(fft_size: int) -> None:
    if fft_size < 4 or fft_size % 2:
        raise ValueError(f"fft_size must be an even number >= 4, got {fft_size}")


@functools.lru_cache(maxsize=16)
def sp2mc_matrix(fft_size: int, dim: int, alpha: float) -> np.ndarray:
    """(fft_size//2+1, dim) matrix mapping a log power spectrum to mel-cepstrum c0..c(dim-1).

    Row k is pysptk.sp2mc's result for the log spectrum e_k: ``irfft`` of e_k, c[0] halved,
    then ``freqt(c, dim-1, alpha)``.
    """
    import pysptk

    _check_fft_size(fft_size)
    bins = fft_size // 2 + 1
    if not 1 <= dim <= bins:
        raise ValueError(f"mel-cepstrum dimension must lie in 1..{bins} for fft_size {fft_size}, got {dim}")
    cep = np.fft.irfft(np.eye(bins), n=fft_size, axis=1)  # (bins, fft_size) real cepstra of e_k
    cep[:, 0] /= 2.0
    mat = np.stack([pysptk.freqt(row, dim - 1, alpha) for row in cep])
    mat.setflags(write=False)
    return mat


@functools.lru_cache(maxsize=16)
def mc2sp_matrix(fft_size: int, dim: int, alpha: float) -> np.ndarray:
    """(dim, fft_size//2+1) matrix mapping mel-cepstrum to the log power spectrum (pysptk.mc2sp).

    Row d is ``freqt(e_d, fft_size//2, -alpha)`` with c[0] doubled, mirrored to a symmetric
    cepstrum and taken through ``rfft(...).real``.
    """
    import pysptk

    _check_fft_size(fft_size)
    half = fft_size // 2
    if dim < 1:
        raise ValueError(f"mel-cepstrum dimension must be >= 1, got {dim}")
    cep = np.stack([pysptk.freqt(row, half, -alpha) for row in np.eye(dim)])  # (dim, half+1)
    cep[:, 0] *= 2.0
    sym = np.zeros((dim, fft_size))
    sym[:, : half + 1] = cep
    sym[:, half + 1 :] = cep[:, 1:half][:, ::-1]  # symc[-i] = c[i] for 1 <= i < half
    mat = np.fft.rfft(sym, axis=1).real
    mat.setflags(write=False)
    return mat


def sp_to_mcep(sp: np.ndarray, dim: int, alpha: float) -> np.ndarray:
    """(T, fft_size//2+1) power spectral envelope -> (T, dim) mel-cepstrum (float64)."""
    sp = np.asarray(sp, dtype=np.float64)
    if sp.ndim != 2:
        raise ValueError(f"expected a (frames, bins) spectrogram, got shape {sp.shape}")
    fft_size = 2 * (sp.shape[1] - 1)
    # CheapTrick never returns zeros; the floor only keeps log() finite for hand-made input.
    log_sp = np.log(np.maximum(sp, np.finfo(np.float64).tiny))
    return log_sp @ sp2mc_matrix(fft_size, int(dim), float(alpha))


def mcep_to_sp(mcep: np.ndarray, fft_size: int, alpha: float) -> np.ndarray:
    """(T, dim) mel-cepstrum -> (T, fft_size//2+1) power spectral envelope (float64)."""
    mcep = np.asarray(mcep, dtype=np.float64)
    if mcep.ndim != 2:
        raise ValueError(f"expected a (frames, dim) mel-cepstrum, got shape {mcep.shape}")
    return np.exp(mcep @ mc2sp_matrix(int(fft_size), mcep.shape[1], float(alpha)))
