"""Spike events: the indices of the cells that spiked, found in O(N / 32 + spikes) per step.

``jnp.nonzero(spikes, size=...)`` lowers to a cumulative sum over all N cells, which costs
about 120 us a step at N = 10^4 on a CPU (more than the rest of the network's step). Here
the spikes are packed into 32-bit words, a word's spikes are counted with ``popcount``, the
prefix sum runs over the N / 32 words only, and the q-th spike is found by a binary search
over the words followed by a five-level binary search for the set bit inside its word. The
list is ordered by word, then bit, not by cell index. Which cells spike does not depend on the
order, but float sums do: a batch keeps each trial's order as it is alone (trial-major list),
so a trial in a batch is bit-identical to the same trial run alone.

``SpikeEvents`` is computed once a step; ``indices(start, size)`` then gives any window of
the spike list (for chunked delivery), padded with ``n`` (a dummy row) past the last spike.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

WORD = 32


def words_for(n: int) -> int:
    """Number of 32-bit words that hold n spike bits."""
    return -(-n // WORD)


def pack_spikes(spikes):
    """(N,) bool -> (W,) uint32 with W = ceil(N / 32), column layout: bit b of word w is cell
    b W + w (packing reduces over the major axis, which vectorizes)."""
    n = spikes.shape[0]
    w = words_for(n)
    bits = jnp.pad(spikes.astype(jnp.uint32), (0, WORD * w - n)).reshape(WORD, w)
    return jnp.sum(bits << jnp.arange(WORD, dtype=jnp.uint32)[:, None], axis=0, dtype=jnp.uint32)


def unpack_spikes(words, n: int):
    """(..., W) uint32 -> (..., n) bool, the inverse of :func:`pack_spikes`."""
    bits = (words[..., None, :] >> jnp.arange(WORD, dtype=jnp.uint32)[:, None]) & jnp.uint32(1)
    return bits.reshape(*words.shape[:-1], -1)[..., :n].astype(bool)


class SpikeEvents:
    """The spikes of one step as a list: ``count`` and windows of ``indices``.

    spikes (T N,) may hold ``trials`` = T trials back to back: each trial is packed on its own
    and the list is trial 0's spikes, then trial 1's, each in the order it has alone, so the
    additions that deliver a trial's spikes happen in the same order in a batch as in a
    single run (float sums bit-identical)."""

    def __init__(self, spikes, trials: int = 1):
        self.n = spikes.shape[0]
        self.trials = trials
        self.per_trial = self.n // trials
        self.words_per_trial = words_for(self.per_trial)
        self.words = jax.vmap(pack_spikes)(spikes.reshape(trials, self.per_trial)).reshape(-1)
        counts = jax.lax.population_count(self.words).astype(jnp.int32)
        self.inclusive = jnp.cumsum(counts)
        self.exclusive = self.inclusive - counts
        self.count = self.inclusive[-1]

    def indices(self, start, size: int):
        """(size,) int32 indices into spikes of list entries start .. start + size - 1
        (trial-major; within a trial by word, then bit); ``n`` where the list has ended."""
        q = start + jnp.arange(size, dtype=jnp.int32)
        w = jnp.searchsorted(self.inclusive, q, side="right", method="scan_unrolled")
        w = jnp.minimum(w, self.words.shape[0] - 1)
        x = self.words[w]
        rank = q - self.exclusive[w]          # which set bit of word w
        bit = jnp.zeros_like(q)
        for width in (16, 8, 4, 2, 1):
            low = jax.lax.population_count(x & np.uint32((1 << width) - 1)).astype(jnp.int32)
            skip = rank >= low
            rank = jnp.where(skip, rank - low, rank)
            x = jnp.where(skip, x >> width, x)
            bit = jnp.where(skip, bit + width, bit)
        trial, local = w // self.words_per_trial, w % self.words_per_trial
        cell = trial * self.per_trial + bit * self.words_per_trial + local
        return jnp.where(q < self.count, cell, self.n)
