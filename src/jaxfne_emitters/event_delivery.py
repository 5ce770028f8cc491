"""Event-driven synaptic delivery, batched by flattening trials into one spike list.

``deliver(table, row_gain, spikes, state, ...)`` adds the outgoing rows of the spiking cells
into the (decayed) synaptic state in place: work O(N / 32 + spikes x fan-out) a step. Its
inputs may hold T trials back to back (spikes (T N,), row gains (T (N + 1),), states
(T (C N + kmax),)): the spikes of all trials form one list, a spike of trial b goes to trial
b's block of the state. Under ``jax.vmap`` a custom batching rule folds the
batch into T this way, so B trials cost one loop over all their spikes instead of B
predicated loops (``vmap`` of a data-dependent loop runs every trial for as many chunks as
the busiest one needs and selects). Not differentiable (the loop length is data-dependent):
spikes are bool here; float (surrogate) spikes take the dense or edge-list path.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax.custom_batching import custom_vmap

from jaxfne_core.events import SpikeEvents

from .connectivity import event_chunk


def _deliver(table, row_gain, spikes, state, field_rows, row_channel, n_channels: int):
    """Flat multi-trial implementation. table (N + 1, kmax, 2) int32 [target, weight bits],
    targets < C N real, C N + slot scratch; row_gain (T (N + 1),), or (N + 1,) shared by
    the trials; spikes (T N,) bool;
    state (T (C N + kmax),): each trial's synaptic state and scratch, added to in place;
    field_rows (N + 1, R) or None; row_channel (N + 1,) int32. Returns the state and the
    (T C, R) projected-field increments (or (T C, 1) zeros without field rows)."""
    n, kmax = table.shape[0] - 1, table.shape[1]
    c = n_channels
    trials = spikes.shape[0] // n
    block = c * n + kmax
    size = event_chunk(trials * n)
    events = SpikeEvents(spikes)
    n_chunks = (events.count + size - 1) // size
    r = 1 if field_rows is None else field_rows.shape[1]

    def body(i, carry):
        acc, field, flat, buf = carry            # flat: (size,) spike indices found last time
        trial, row = flat // n, flat % n
        row = jnp.where(flat < trials * n, row, n)          # padding -> the zero row N
        buf = jax.lax.dynamic_update_slice(buf, table[row].reshape(size * kmax, 2), (0, 0))
        target = buf[:-1, 0]
        gain = row_gain[row] if row_gain.shape[0] == n + 1 else row_gain[trial * (n + 1) + row]
        weight = jax.lax.bitcast_convert_type(buf[:-1, 1], jnp.float32) * jnp.repeat(gain, kmax)
        acc = acc.at[target + jnp.repeat(trial * block, kmax)].add(weight, mode="promise_in_bounds")
        if field_rows is not None:
            field = field.at[trial * c + row_channel[row]].add(gain[:, None] * field_rows[row])
        return acc, field, events.indices((i + 1) * size, size), buf

    init = (state, jnp.zeros((trials * c, r), jnp.float32),
            events.indices(0, size), jnp.zeros((size * kmax + 1, 2), jnp.int32))
    return jax.lax.fori_loop(0, n_chunks, body, init)[:2]


@functools.lru_cache(maxsize=None)
def _batched(n_channels: int, with_field: bool):
    """The custom-vmapped delivery for this static configuration."""

    def run(table, row_gain, spikes, state, field_rows, row_channel):
        return _deliver(table, row_gain, spikes, state, field_rows if with_field else None, row_channel, n_channels)

    fn = custom_vmap(run)

    @fn.def_vmap
    def rule(axis_size, in_batched, table, row_gain, spikes, state, field_rows, row_channel):
        if in_batched[0] or in_batched[4] or in_batched[5]:    # batched tables: one trial at a time
            axes = [0 if b else None for b in in_batched]
            out = jax.vmap(run, in_axes=axes)(table, row_gain, spikes, state, field_rows, row_channel)
            return out, (True, True)
        lead = lambda x, b: x if b else jnp.broadcast_to(x, (axis_size,) + x.shape)
        spikes, state = (lead(x, b) for x, b in zip((spikes, state), in_batched[2:4]))
        if in_batched[1]:                  # per trial; else shared by all trials, as it is
            n, inner = table.shape[0] - 1, spikes.shape[1] // (table.shape[0] - 1)
            if row_gain.shape[1] != inner * (n + 1):        # shared by an inner batch's trials
                row_gain = jnp.broadcast_to(row_gain[:, None], (axis_size, inner, n + 1))
            row_gain = row_gain.reshape(-1)
        state, field = fn(table, row_gain, spikes.reshape(-1), state.reshape(-1), field_rows, row_channel)
        return (state.reshape(axis_size, -1), field.reshape(axis_size, -1, field.shape[-1])), (True, True)

    return fn


def deliver(table, row_gain, spikes, state, row_channel, n_channels: int, field_rows=None):
    """One trial: ``state`` (C N + kmax,) plus the spikes' rows, and the (C, R) projected-field
    increments (None without ``field_rows``). row_gain (N + 1,) with 0 at N; row_channel
    (N + 1,)."""
    dummy = jnp.zeros((1, 1), jnp.float32) if field_rows is None else field_rows
    state, field = _batched(n_channels, field_rows is not None)(table, row_gain, spikes, state, dummy, row_channel)
    return state, (field if field_rows is not None else None)
