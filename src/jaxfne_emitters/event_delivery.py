"""Event-driven synaptic delivery, batched by flattening trials into one spike list.

``deliver(table, row_gain, spikes, state)`` adds the outgoing rows of the spiking cells into
the (decayed) synaptic state in place: work O(N / 32 + spikes x fan-out) a step. A source may
append entries to the rows (the exponential sources append each cell's projected field row,
so one gather and one scatter deliver both). Its inputs may hold T trials back to back
(spikes (T N,), row gains (T (N + 1),), states (T S,)): the spikes of all trials form one
list, a spike of trial b goes to trial b's block of the state. Under ``jax.vmap`` a custom
batching rule folds the batch into T this way, so B trials cost one loop over all their
spikes instead of B predicated loops (``vmap`` of a data-dependent loop runs every trial for
as many chunks as the busiest one needs and selects). Not differentiable (the loop length is
data-dependent): spikes are bool here; float (surrogate) spikes take the dense or edge-list
path.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.custom_batching import custom_vmap

from jaxfne_emitters.events import SpikeEvents

from .connectivity import event_chunk


def _deliver(table, row_gain, spikes, state, shift=None, weights=None):
    """Flat multi-trial implementation. table (N + 1, K, 2) int32 [target, weight bits] (K:
    fan-out slots, plus any entries a source appends, such as field rows): targets index a
    trial's block of the state, padded slots point at scratch entries that stay 0; row_gain
    (T (N + 1),), or (N + 1,) shared by the trials; spikes (T N,) bool; state (T S,): each
    trial's block of S entries (synaptic state, scratch, anything the table targets), added
    to in place. ``shift`` (scalar, or (T,) per trial): added to every target modulo the
    block size, for a ring buffer of delayed arrivals whose current slot rotates. ``weights``
    (one trial): the table's second column indexes this weight vector instead of holding the
    weight's bits (plastic synapses, whose weights live in the state)."""
    n, width = table.shape[0] - 1, table.shape[1]
    trials = spikes.shape[0] // n
    block = state.shape[0] // trials
    size = event_chunk(trials * n)
    events = SpikeEvents(spikes, trials)
    n_chunks = (events.count + size - 1) // size

    def body(i, carry):
        acc, flat, buf = carry                   # flat: (size,) spike indices found last time
        trial, row = flat // n, flat % n
        row = jnp.where(flat < trials * n, row, n)          # padding -> the zero row N
        buf = jax.lax.dynamic_update_slice(buf, table[row].reshape(size * width, 2), (0, 0))
        target = buf[:-1, 0]
        gain = row_gain[row] if row_gain.shape[0] == n + 1 else row_gain[trial * (n + 1) + row]
        raw = buf[:-1, 1]
        weight = (jax.lax.bitcast_convert_type(raw, jnp.float32) if weights is None else weights[raw]) \
            * jnp.repeat(gain, width)
        if shift is not None:          # rotate into the ring: (target + shift) mod block
            target = target + (shift if jnp.ndim(shift) == 0 else jnp.repeat(shift[trial], width))
            target = jnp.where(target >= block, target - block, target)
        acc = acc.at[target + jnp.repeat(trial * block, width)].add(weight, mode="promise_in_bounds")
        return acc, events.indices((i + 1) * size, size), buf

    init = (state, events.indices(0, size), jnp.zeros((size * width + 1, 2), jnp.int32))
    return jax.lax.fori_loop(0, n_chunks, body, init)[0]


@custom_vmap
def deliver(table, row_gain, spikes, state):
    """One trial: ``state`` (S,) plus the table rows (N + 1, K, 2) of the spiking cells, each
    entry times its row's gain; row_gain (N + 1,) with 0 at N; spikes (N,) bool."""
    return _deliver(table, row_gain, spikes, state)


@deliver.def_vmap
def _deliver_batched(axis_size, in_batched, table, row_gain, spikes, state):
    if in_batched[0]:                                  # batched tables: one trial at a time
        axes = [0 if b else None for b in in_batched]
        return jax.vmap(_deliver, in_axes=axes)(table, row_gain, spikes, state), True
    lead = lambda x, b: x if b else jnp.broadcast_to(x, (axis_size,) + x.shape)
    spikes, state = (lead(x, b) for x, b in zip((spikes, state), in_batched[2:4]))
    if in_batched[1]:                      # per trial; else shared by all trials, as it is
        n, inner = table.shape[0] - 1, spikes.shape[1] // (table.shape[0] - 1)
        if row_gain.shape[1] != inner * (n + 1):            # shared by an inner batch's trials
            row_gain = jnp.broadcast_to(row_gain[:, None], (axis_size, inner, n + 1))
        row_gain = row_gain.reshape(-1)
    return deliver(table, row_gain, spikes.reshape(-1), state.reshape(-1)).reshape(axis_size, -1), True


@custom_vmap
def deliver_ring(table, row_gain, spikes, ring, shift):
    """:func:`deliver` into a ring buffer of delayed arrivals: ``ring`` (D S,) holds D slots of
    S entries, the table's targets are ``(delay - 1) S + entry`` and ``shift`` (int32 scalar)
    is ``cursor x S``, the offset of the slot that arrives now; targets wrap modulo D S."""
    return _deliver(table, row_gain, spikes, ring, shift)


@deliver_ring.def_vmap
def _deliver_ring_batched(axis_size, in_batched, table, row_gain, spikes, ring, shift):
    if in_batched[0]:
        axes = [0 if b else None for b in in_batched]
        return jax.vmap(_deliver, in_axes=axes)(table, row_gain, spikes, ring, shift), True
    lead = lambda x, b: x if b else jnp.broadcast_to(x, (axis_size,) + x.shape)
    spikes, ring, shift = (lead(x, b) for x, b in zip((spikes, ring, shift), in_batched[2:5]))
    n, inner = table.shape[0] - 1, spikes.shape[1] // (table.shape[0] - 1)
    if in_batched[1]:
        if row_gain.shape[1] != inner * (n + 1):
            row_gain = jnp.broadcast_to(row_gain[:, None], (axis_size, inner, n + 1))
        row_gain = row_gain.reshape(-1)
    if shift.ndim == 1 and inner > 1:                     # one shift per outer trial
        shift = jnp.broadcast_to(shift[:, None], (axis_size, inner))
    out = deliver_ring(table, row_gain, spikes.reshape(-1), ring.reshape(-1), shift.reshape(-1))
    return out.reshape(axis_size, -1), True


def deliver_weights(table, row_gain, spikes, ring, shift, weights):
    """:func:`deliver_ring` for one trial whose table indexes ``weights`` (E + pad,), a weight
    vector held in the state (plastic synapses). Read only: a caller that also updates the
    weights should do so before (a write after this read makes XLA copy the whole vector to
    keep the read's operand alive). Under ``vmap`` it batches as a plain loop (every trial runs as many chunks as the
    busiest needs), so batches of plastic trials do not share one spike list."""
    return _deliver(table, row_gain, spikes, ring, shift, weights)
