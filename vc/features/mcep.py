"""Batched mel-cepstral coding, numerically identical to pysptk.sp2mc / pysptk.mc2sp.

pysptk converts one frame at a time (log, IFFT, then SPTK's ``freqt`` recursion), which costs
more than the whole WORLD analysis. Every step is linear in the log-spectral domain, so the
whole chain is one matrix per (fft_size, dim, alpha), cached per process; converting an
utterance is then a single matmul. tests/test_mcep.py checks both directions against pysptk.
"""
from __future__ import annotations

import functools

import numpy as np


def _check_fft_size(fft_size: int) -> None:
    if fft_size < 4 or fft_size % 2:
        raise ValueError(f"fft_size must be an even number >= 4, got {fft_size}")


def freqt_matrix(in_len: int, out_order: int, alpha: float) -> np.ndarray:
    """(in_len, out_order+1) matrix of SPTK's ``freqt`` (frequency warping of a cepstrum).

    ``freqt`` feeds the input from its last coefficient to its first through a fixed linear
    recursion in which the input enters only the 0th state; with zero input one step is
    ``g <- A g``, so the response to the unit impulse at position k is ``A^k e_0``: row k.
    Building the rows by matrix powers costs milliseconds where calling pysptk.freqt on every
    basis vector costs 0.1-0.4 s per process.
    """
    m2 = out_order
    b = 1.0 - alpha * alpha
    # A = one zero-input step of the recursion, applied to every basis state at once
    d = np.eye(m2 + 1)
    g = np.zeros_like(d)
    g[0] = alpha * d[0]
    if m2 >= 1:
        g[1] = b * d[0] + alpha * d[1]
    for j in range(2, m2 + 1):
        g[j] = d[j - 1] + alpha * (d[j] - g[j - 1])
    step = g  # g = step @ d for a state d
    rows = np.zeros((in_len, m2 + 1))
    state = np.zeros(m2 + 1)
    state[0] = 1.0
    for k in range(in_len):
        if np.abs(state).max() < 1e-250:
            # The impulse response decays like |alpha|^k; stop before it turns subnormal, which
            # would change nothing but make every later matmul with these rows ~20x slower.
            break
        rows[k] = state
        state = step @ state
    return rows


@functools.lru_cache(maxsize=16)
def sp2mc_matrix(fft_size: int, dim: int, alpha: float) -> np.ndarray:
    """(fft_size//2+1, dim) matrix mapping a log power spectrum to mel-cepstrum c0..c(dim-1).

    As pysptk.sp2mc: real cepstrum by ``irfft``, c[0] halved, then ``freqt(c, dim-1, alpha)``.
    """
    _check_fft_size(fft_size)
    bins = fft_size // 2 + 1
    if not 1 <= dim <= bins:
        raise ValueError(f"mel-cepstrum dimension must lie in 1..{bins} for fft_size {fft_size}, got {dim}")
    cep = np.fft.irfft(np.eye(bins), n=fft_size, axis=1)  # (bins, fft_size): cepstra of the e_k
    cep[:, 0] /= 2.0
    mat = cep @ freqt_matrix(fft_size, dim - 1, alpha)
    mat.setflags(write=False)
    return mat


@functools.lru_cache(maxsize=16)
def mc2sp_matrix(fft_size: int, dim: int, alpha: float) -> np.ndarray:
    """(dim, fft_size//2+1) matrix mapping mel-cepstrum to the log power spectrum.

    As pysptk.mc2sp: ``freqt(mc, fft_size//2, -alpha)``, c[0] doubled, mirrored to a
    symmetric cepstrum, ``rfft(...).real``.
    """
    _check_fft_size(fft_size)
    half = fft_size // 2
    if dim < 1:
        raise ValueError(f"mel-cepstrum dimension must be >= 1, got {dim}")
    cep = freqt_matrix(dim, half, -alpha)  # (dim, half+1)
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
