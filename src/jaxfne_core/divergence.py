"""Where a run diverged: the first cell whose V_m became non-finite, searched lazily.

The engine checks one reduction a step (is the sum of v finite?) and searches for the cell
only on the step where a run first diverges. In a single run ``lax.cond`` keeps the search
lazy; under ``jax.vmap`` a plain cond becomes a select that searches every trial on every
step (about 20% of a batched step at N = 1k), so :func:`update_bad_cell` carries a batching
rule that keeps one cond for the whole batch.
"""
from __future__ import annotations

import jax.numpy as jnp
from jax import lax
from jax.custom_batching import custom_vmap


def first_nonfinite(v):
    """Index of the first non-finite entry along the last axis of v (..., N): int32 (...),
    N where every entry is finite."""
    n = v.shape[-1]
    index = lax.broadcasted_iota(jnp.int32, v.shape, v.ndim - 1)
    return jnp.min(jnp.where(jnp.isfinite(v), n, index), axis=-1)


def update_bad_cell(newly_bad, v, previous):
    """``first_nonfinite(v)`` where ``newly_bad``, else ``previous``; newly_bad bool (...),
    v (..., N), previous int32 (...). The search runs only when some entry is newly bad.
    An integer result: v's gradient is stopped, so runs under ``jax.grad`` pass through."""
    return _update_bad_cell(newly_bad, lax.stop_gradient(v), previous)


@custom_vmap
def _update_bad_cell(newly_bad, v, previous):
    return lax.cond(jnp.any(newly_bad), lambda: jnp.where(newly_bad, first_nonfinite(v), previous),
                    lambda: previous)


@_update_bad_cell.def_vmap
def _update_bad_cell_batched(axis_size, in_batched, newly_bad, v, previous):
    lead = lambda x, b: x if b else jnp.broadcast_to(x, (axis_size,) + x.shape)
    return _update_bad_cell(*(lead(x, b) for x, b in zip((newly_bad, v, previous), in_batched))), True
