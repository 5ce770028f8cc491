"""The simulation engine: one pure ``lax.scan`` over time composing emitter, source, field, probe.

``make_runner`` returns ``run(params, key, carry, t0, inputs) -> (carry, outputs)`` for a fixed
number of steps; params is the pytree ``{"emitter", "source", "field", "drive"}`` passed as an
argument (never closed over), so new parameter values or seeds reuse the compiled function.
``inputs`` (steps, K) are the time courses of K stimulus drives; ``params["drive"]["W"]``
(K, N) spreads them over the cells (native current). Per-step random keys are
``fold_in(key, global_step)``, so chunking a run does not change its result. With
``record_every`` k > 1 one sample is recorded per k steps: spike counts, and means of the
continuous signals.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

FIELD_MODES = ("LFP", "CSD")


def initial_carry(stages, params, n_cells: int):
    emitter, source = stages["emitter"], stages["source"]
    return {
        "emitter": emitter.init_state(params["emitter"]),
        "source": source.init_state(params["source"]),
        "spikes": jnp.zeros((n_cells,), emitter.spike_dtype),
        # first non-finite step (-1: none) and the cell where it happened
        "bad_step": jnp.asarray(-1, jnp.int32),
        "bad_cell": jnp.asarray(-1, jnp.int32),
    }


def make_runner(stages, modes, n_steps: int, dt_ms: float, record_every: int = 1):
    """Build the pure chunk runner for ``n_steps`` steps of ``dt_ms`` recording ``modes``."""
    emitter, source, field = stages["emitter"], stages["source"], stages.get("field")
    modes = tuple(modes)
    need_field = any(m in FIELD_MODES for m in modes)
    dt = float(dt_ms)
    k = int(record_every)
    if n_steps % k:
        raise ValueError(f"{n_steps} steps do not split into records of {k} steps")

    def step(params, key, carry, t, drive_t):
        drive = drive_t @ params["drive"]["W"]
        step_key = jax.random.fold_in(key, t)
        if source.reads_membrane:
            # detailed cells: the emitter steps first; its compartments' currents are the sources
            em_state, spikes, v = emitter.step(params["emitter"], carry["emitter"], drive, step_key, dt)
            membrane = emitter.membrane_currents(params["emitter"], em_state)
            src_state, _, i_tm = source.step(params["source"], carry["source"], spikes, membrane)
        else:
            src_state, i_syn, i_tm = source.step(params["source"], carry["source"], carry["spikes"])
            em_state, spikes, v = emitter.step(params["emitter"], carry["emitter"], i_syn + drive,
                                               step_key, dt)
        finite = jnp.isfinite(v)
        newly_bad = (carry["bad_step"] < 0) & ~jnp.all(finite)
        bad_step = jnp.where(newly_bad, t, carry["bad_step"]).astype(jnp.int32)
        bad_cell = jnp.where(newly_bad, jnp.argmin(finite), carry["bad_cell"]).astype(jnp.int32)
        out = {}
        if "spikes" in modes:
            out["spikes"] = spikes
        if "V_m" in modes:
            out["V_m"] = v
        if "sources" in modes:
            out["sources"] = i_tm
        if need_field:
            f = field.apply(params["field"], i_tm)
            for m in FIELD_MODES:
                if m in modes:
                    out[m] = f[m]
        carry = {"emitter": em_state, "source": src_state, "spikes": spikes,
                 "bad_step": bad_step, "bad_cell": bad_cell}
        return carry, out

    def body(params, key):
        return lambda c, x: step(params, key, c, x[0], x[1])

    def reduce(mode, values):
        return values.astype(jnp.float32).sum(axis=0) if mode == "spikes" else values.mean(axis=0)

    def run(params, key, carry, t0, inputs):
        ts = t0 + jnp.arange(n_steps, dtype=jnp.int32)
        if k == 1:
            return lax.scan(body(params, key), carry, (ts, inputs))
        blocks = (ts.reshape(n_steps // k, k), inputs.reshape(n_steps // k, k, inputs.shape[-1]))

        def block(c, xb):
            c, outs = lax.scan(body(params, key), c, xb)
            return c, {m: reduce(m, v) for m, v in outs.items()}
        return lax.scan(block, carry, blocks)

    return run
