"""Event delivery under vmap: trials folded into one spike list give each trial its own result,
with parameters shared, batched per trial, or batched in an outer batch only."""
from pathlib import Path

import attrs
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_core.config import load_config
from jaxfne_testing import synthetic_circuit
from jaxfne_emitters.synapses import ExponentialSource

N = 40


def two_steps(source, params, gain, spikes):
    """Synaptic current after delivering spikes[0], then spikes[1] (one decay in between)."""
    params = {**params, "gain_exc": gain}
    state = source.init_state(params)
    state, _, _ = source.step(params, state, spikes[0])
    return source.step(params, state, spikes[1])[1]


@pytest.fixture(scope="module")
def setup():
    source = ExponentialSource()
    base = synthetic_circuit(n=N, seed=3)
    event = source.init_params(attrs.evolve(base, connectivity="event"), 0.1)
    edges = source.init_params(attrs.evolve(base, connectivity="edge_list"), 0.1)
    rng = np.random.default_rng(0)
    spikes = jnp.asarray(rng.random((3, 4, 2, N)) < 0.3)          # (outer, inner, step, cell)
    gains = jnp.asarray([0.5, 1.0, 2.0], jnp.float32)
    reference = np.array([[two_steps(source, edges, gains[g], spikes[g, b]) for b in range(4)] for g in range(3)])
    return source, event, spikes, gains, reference


def test_trials_with_shared_parameters(setup):
    source, event, spikes, gains, reference = setup
    out = jax.jit(jax.vmap(lambda s: two_steps(source, event, gains[1], s)))(spikes[1])
    np.testing.assert_allclose(out, reference[1], rtol=1e-5, atol=1e-6)


def test_outer_batch_of_parameters_over_inner_batch_of_trials(setup):
    source, event, spikes, gains, reference = setup
    inner = jax.vmap(lambda g, s: two_steps(source, event, g, s), in_axes=(None, 0))
    out = jax.jit(jax.vmap(inner))(gains, spikes)
    np.testing.assert_allclose(out, reference, rtol=1e-5, atol=1e-6)


def test_parameters_batched_with_the_inner_trials(setup):
    source, event, spikes, gains, reference = setup
    g = jnp.broadcast_to(gains[:, None], (3, 4))
    inner = jax.vmap(lambda g, s: two_steps(source, event, g, s))
    out = jax.jit(jax.vmap(inner))(g, spikes)
    np.testing.assert_allclose(out, reference, rtol=1e-5, atol=1e-6)


def test_a_trial_in_a_batch_is_bit_identical_to_the_same_trial_alone():
    """Batched event delivery adds each trial's spikes in the order it has alone (the spike
    list is trial-major), so every recorded signal matches to the bit, not only the spikes."""
    cfg = load_config(Path(__file__).resolve().parent.parent / "examples" / "v1_laminar_column.jcfg.json")
    model = jtfne.construct(cfg)
    sim = jtfne.simulation(60.0, 0.1, 3)
    single = model.simulate(sim)
    batch = model.simulate_batch(sim, seeds=[5, 3, 9])
    for mode in single.modes:
        np.testing.assert_array_equal(np.asarray(batch[mode])[1], np.asarray(single[mode]), err_msg=mode)
