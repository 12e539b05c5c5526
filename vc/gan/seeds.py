"""One rule for the seeds of a run's random streams.

A run has one seed. Each random stream of each process derives its own from it with
:func:`stream_seed`, so that streams do not repeat each other and the ranks of a distributed
run do not draw the same data:

- stream 0 (:data:`PROCESS`): the process-wide RNGs that initialise the networks, and the voice
  models' segment sampler (a NumPy generator of its own);
- stream 1 (:data:`AUGMENT`): the image models' augmentation shifts and target labels, kept apart
  from the network initialisation so that they do not depend on how many numbers it consumed.

Rank 0 of stream ``k`` gets ``seed * 7919**k``; rank ``r`` adds ``r`` times :data:`RANK_STRIDE`, a
prime below 2**32 (NumPy's legacy seeding takes the seed modulo 2**32), so that the ranks of one
run never share a seed, and within one run with a seed in [1, RANK_STRIDE) no two streams of any
ranks do. (Seed 0 gives every stream the same seed.)
"""
from __future__ import annotations

STREAM_PRIME = 7919
RANK_STRIDE = 1_000_003

PROCESS = 0
AUGMENT = 1


def stream_seed(seed: int, stream: int = PROCESS, rank: int = 0) -> int:
    """The seed of random stream ``stream`` on distributed rank ``rank`` of a run seeded ``seed``."""
    if seed < 0 or stream < 0 or rank < 0:
        raise ValueError(f"seed, stream and rank must be >= 0, got {seed}, {stream}, {rank}")
    return seed * STREAM_PRIME ** stream + rank * RANK_STRIDE
