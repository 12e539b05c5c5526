"""Keeping the source's pauses quiet in converted speech.

StarGAN-VC's generator sees a pause as a few very low values of c0 (the log gain) among loud
speech frames, and gives them back too loud: on the demo corpus the 10th-percentile frame of a
conversion sat 6-11 dB higher, relative to the utterance's loudest frame, than in the target
speaker's own recordings, while the median frame was within 0-4 dB
(``egs/demo/local/pause_levels.py``). The pauses then carry audible noise, and the F0 tracker run on
the output finds spurious voicing in them (the demo's log-F0 RMSE and V/UV error came out above
the statistical baseline's although both systems synthesise the same F0 track).

The statistical mapping of c0 (the source's c0 z-normalised with the source's statistics and
de-normalised with the target's) keeps the source's dynamics, so it says where the pauses are and
how quiet they should be. In the frames it puts more than ``threshold_db`` below the utterance's
loudest frame, the converted c0 is lowered to it (never raised); speech frames keep the
generator's c0, which carries speaker cues (replacing c0 everywhere cost speaker-ID accuracy).
"""
from __future__ import annotations

import math

import numpy as np

#: dB per unit of c0: c0 is the natural log of an amplitude gain (1 neper = 20 / ln 10 dB).
DB_PER_NEPER = 20.0 / math.log(10.0)


def limit_pause_level(c0: np.ndarray, mapped_c0: np.ndarray, threshold_db: float) -> np.ndarray:
    """``c0`` with the frames that ``mapped_c0`` has as pauses lowered to ``mapped_c0``.

    A frame is a pause when ``mapped_c0`` is more than ``threshold_db`` below its loudest frame;
    ``threshold_db <= 0`` turns the rule off. Both arguments are ``(T,)`` c0 tracks.
    """
    c0 = np.asarray(c0)
    mapped_c0 = np.asarray(mapped_c0)
    if c0.shape != mapped_c0.shape:
        raise ValueError(f"c0 tracks of different shapes: {c0.shape} and {mapped_c0.shape}")
    if threshold_db <= 0 or c0.size == 0:
        return c0.copy()
    pause = mapped_c0 < mapped_c0.max() - threshold_db / DB_PER_NEPER
    return np.where(pause, np.minimum(c0, mapped_c0), c0).astype(c0.dtype, copy=False)
