"""The simulation engine: one pure ``lax.scan`` over time composing emitter, source, field, probe.

``make_runner`` returns ``run(params, key, carry, t0, inputs) -> (carry, outputs)`` for a fixed
number of steps; params is the pytree ``{"emitter", "source", "field", "drive"}`` passed as an
argument (never closed over), so new parameter values or seeds reuse the compiled function.
``inputs`` (steps, K) are the time courses of K stimulus drives; ``params["drive"]["W"]``
(K, N) spreads them over the cells (native current). Per-step random keys are
``fold_in(key, global_step)``, so chunking a run does not change its result. With
``record_every`` k > 1 one sample is recorded per k steps: spike counts, and means of the
continuous signals, summed in the carry as the steps run (memory per record O(N), not O(k N)).

Emitters that declare ``noise_shape`` get their standard-normal draws generated for blocks of
up to ``NOISE_BLOCK`` steps at once (one vectorized pass of the counter-based generator of
:mod:`jaxfne_core.rng`, keyed by the global step, so blocks and chunks do not change the
numbers) and passed to ``step(..., noise=)``. Generated inside the step, the draws would be
re-fused into every consumer of the membrane update on a CPU, costing several times more.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from .divergence import update_bad_cell
from .rng import counter_normal
from .signals import CONTACT_MODES
from .stages import MembraneSource, StepInputs

FIELD_MODES = CONTACT_MODES
NOISE_BLOCK = 16            # steps of emitter noise generated at once (memory: B x noise size)
NOISE_STREAM = 0x6E6F6973   # folds the run key into the noise stream, apart from step keys


def projected_modes(modes) -> tuple:
    """The field modes a source's projection carries: the recorded ones among LFP and CSD
    (its rows are the field's readout rows of these modes only; see ``Model``)."""
    return tuple(m for m in FIELD_MODES if m in modes)


def noise_block_size(n_steps: int) -> int:
    """The largest divisor of ``n_steps`` that is at most ``NOISE_BLOCK``."""
    return max(b for b in range(1, min(NOISE_BLOCK, n_steps) + 1) if n_steps % b == 0)


def initial_carry(stages, params, n_cells: int):
    emitter, source = stages["emitter"], stages["source"]
    carry = {
        "emitter": emitter.init_state(params["emitter"]),
        "source": source.init_state(params["source"]),
        "spikes": jnp.zeros((n_cells,), emitter.spike_dtype),
        # first non-finite step (-1: none) and the cell where it happened
        "bad_step": jnp.asarray(-1, jnp.int32),
        "bad_cell": jnp.asarray(-1, jnp.int32),
    }
    if "projection" in params:                   # the source projects the field itself
        carry["projected"] = jnp.zeros_like(params["projection"]["state0"])
    return carry


def make_runner(stages, modes, n_steps: int, dt_ms: float, record_every: int = 1):
    """Build the pure chunk runner for ``n_steps`` steps of ``dt_ms`` recording ``modes``."""
    emitter, source, field = stages["emitter"], stages["source"], stages.get("field")
    modes = tuple(modes)
    need_field = any(m in FIELD_MODES for m in modes)
    field_modes = projected_modes(modes)
    dt = float(dt_ms)
    k = int(record_every)
    if n_steps % k:
        raise ValueError(f"{n_steps} steps do not split into records of {k} steps")

    def step(params, key, carry, t, drive_t, noise_t=None):
        drive = drive_t @ params["drive"]["W"]
        step_key = jax.random.fold_in(key, t)
        noise = {} if noise_t is None else {"noise": noise_t}
        if isinstance(source, MembraneSource):
            # detailed cells: the emitter steps first; its compartments' currents are the sources
            em_state, spikes, v = emitter.step(params["emitter"], carry["emitter"], drive, step_key, dt, **noise)
            membrane = emitter.membrane_currents(params["emitter"], em_state)
            src_state, i_tm = source.step_membrane(params["source"], carry["source"], spikes, membrane)
        else:
            v_pre = emitter.membrane_potential(carry["emitter"]) if source.needs_voltage else None
            inputs = StepInputs(v_pre, t, key, drive_t)       # unused entries cost nothing under jit
            if "projection" in params:
                src_state, projected, i_syn, values = source.step_projected(
                    params["source"], params["projection"], carry["source"], carry["projected"], carry["spikes"],
                    inputs)
            else:
                src_state, i_syn, i_tm = source.step(params["source"], carry["source"], carry["spikes"], inputs)
            em_state, spikes, v = emitter.step(params["emitter"], carry["emitter"], i_syn + drive,
                                               step_key, dt, **noise)
        # any non-finite v: v * 0 is 0 for every finite v and NaN otherwise, so the sum cannot
        # overflow on large finite potentials (a plain sum of v did at |v| ~ 1e38)
        newly_bad = (carry["bad_step"] < 0) & ~jnp.isfinite(jnp.sum(v * 0))
        bad_step = jnp.where(newly_bad, t, carry["bad_step"]).astype(jnp.int32)
        bad_cell = update_bad_cell(newly_bad, v, carry["bad_cell"])        # searched on that step only
        out = {}
        if "spikes" in modes:
            out["spikes"] = spikes
        if "V_m" in modes:
            out["V_m"] = v[params["record"]["V_m"]] if "V_m" in params.get("record", {}) else v
        if "sources" in modes:
            out["sources"] = i_tm
        if "dipole" in modes:
            out["dipole"] = (i_tm @ params["record"]["dipole"]).reshape(-1, 3)
        if "weights" in modes:
            out["weights"] = source.recorded_weights(params["source"], src_state)
        if need_field:
            if "projection" in params:
                f = field.split_readout(values) if len(field_modes) == 2 else {field_modes[0]: values}
            else:
                f = field.apply(params["field"], i_tm)
            gain = params.get("readout_gain", {})       # field tunables (e.g. a conductivity scale)
            for m in FIELD_MODES:
                if m in modes:
                    out[m] = f[m] * gain[m] if m in gain else f[m]
            if "LFP" in out and "lfp_reference" in params:     # the probe's reference
                out["LFP"] = out["LFP"] - jnp.dot(params["lfp_reference"], out["LFP"])
        carry = {"emitter": em_state, "source": src_state, "spikes": spikes,
                 "bad_step": bad_step, "bad_cell": bad_cell,
                 **({"projected": projected} if "projection" in params else {})}
        return carry, out

    def body(params, key, accumulate=False):
        if not accumulate:
            return lambda c, x: step(params, key, c, *x)

        def add(ca, x):           # record blocks: sum the outputs into the carry, keep no steps
            c, acc = ca
            c, out = step(params, key, c, *x)
            return (c, {m: acc[m] + out[m].astype(jnp.float32) for m in acc}), None
        return add

    def scan_steps(params, key, carry, ts, inputs, acc=None):
        """Run the steps ``ts`` (L,); noise, if the emitter wants it, in blocks of B steps.
        With ``acc`` (mode -> zeros), outputs are summed into it instead of stacked."""
        shape = emitter.noise_shape(params["emitter"])
        init = carry if acc is None else (carry, acc)
        if shape is None:
            return lax.scan(body(params, key, acc is not None), init, (ts, inputs))
        length = ts.shape[0]
        b = noise_block_size(length)
        noise_key = jax.random.fold_in(key, NOISE_STREAM)

        def block(c, xb):
            tb, ib = xb
            z = jax.vmap(lambda t: counter_normal(jax.random.fold_in(noise_key, t), shape))(tb)
            return lax.scan(body(params, key, acc is not None), c, (tb, ib, z))
        out, ys = lax.scan(block, init, (ts.reshape(length // b, b), inputs.reshape(length // b, b, -1)))
        if acc is not None:
            return out, None
        return out, jax.tree.map(lambda x: x.reshape(length, *x.shape[2:]), ys)

    def run(params, key, carry, t0, inputs):
        ts = t0 + jnp.arange(n_steps, dtype=jnp.int32)
        if k == 1:
            return scan_steps(params, key, carry, ts, inputs)
        blocks = (ts.reshape(n_steps // k, k), inputs.reshape(n_steps // k, k, inputs.shape[-1]))
        shape = emitter.noise_shape(params["emitter"])
        noise = () if shape is None else (jnp.zeros(shape),)
        shapes = jax.eval_shape(lambda: step(params, key, carry, ts[0], inputs[0], *noise)[1])
        zeros = {m: jnp.zeros(v.shape, jnp.float32) for m, v in shapes.items()}

        def block(c, xb):          # spike counts and means of the continuous signals, per record
            (c, sums), _ = scan_steps(params, key, c, *xb, acc=zeros)
            return c, {m: v if m == "spikes" else v / k for m, v in sums.items()}
        return lax.scan(block, carry, blocks)

    return run
