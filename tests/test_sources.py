"""Synaptic sources: closed-form charge per spike, dense == edge list, charge conservation."""
import attrs
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_core.stages import Circuit
from jaxfne_testing import synthetic_circuit
from jaxfne_emitters.synapses import (RECEPTORS, ExponentialSource, ReceptorExponentialSource,
                                      ReceptorOptions)


def two_cell_circuit(connectivity, pre_type="E", w=1.5):
    exc = pre_type in ("E", "RS")
    return Circuit(("E", "PV", "SST", "VIP") if pre_type in ("E", "PV", "SST", "VIP") else (pre_type,),
                   np.array([("E", "PV", "SST", "VIP").index(pre_type), 0], np.int32),
                   np.array([[0, 0, 800.0], [0, 0, 900.0]]), np.array([exc, True]),
                   np.array([0], np.int32), np.array([1], np.int32),
                   np.array([w if exc else -w], np.float32), connectivity, 1600.0)


def charge_after_spike(source, circuit, dt, steps):
    params = source.init_params(circuit, dt)
    state = source.init_state(params)
    spikes = jnp.zeros((steps, 2), bool).at[0, 0].set(True)

    def body(s, spk):
        s, i_syn, i_tm = source.step(params, s, spk)
        return s, (i_syn, i_tm)
    _, (i_syn, i_tm) = jax.lax.scan(body, state, spikes)
    return np.asarray(i_syn, np.float64), np.asarray(i_tm, np.float64)


@pytest.mark.parametrize("connectivity", ["dense", "edge_list"])
@pytest.mark.parametrize("pre,receptor", [("E", "AMPA"), ("E", "NMDA"), ("PV", "GABA_A"), ("SST", "GABA_B")])
def test_charge_per_spike_matches_closed_form(connectivity, pre, receptor):
    dt, w, steps = 0.1, 1.5, 2000
    tau = RECEPTORS[receptor][0]
    source = ReceptorExponentialSource(ReceptorOptions(receptor_by_population={pre: receptor}))
    i_syn, _ = charge_after_spike(source, two_cell_circuit(connectivity, pre, w), dt, steps)
    decay = np.exp(-dt / tau)
    # the spike of step 0 is delivered at step 0, then decays geometrically
    expected = np.sign(1 if RECEPTORS[receptor][2] else -1) * w * dt * (1 - decay**steps) / (1 - decay)
    assert i_syn[:, 1].sum() * dt == pytest.approx(expected, rel=1e-4)
    assert i_syn[1, 1] / i_syn[0, 1] == pytest.approx(decay, rel=1e-5)


def test_exponential_charge_is_w_tau_for_small_dt():
    source = ExponentialSource()
    i_syn, _ = charge_after_spike(source, two_cell_circuit("dense", "E", 2.0), 0.01, 20000)
    assert i_syn[:, 1].sum() * 0.01 == pytest.approx(2.0 * 5.0, rel=2e-3)   # w tau (+ O(dt/tau))


@pytest.mark.parametrize("source", [ExponentialSource(), ReceptorExponentialSource()])
def test_dense_edge_list_and_event_deliver_the_same_charge(source):
    base = synthetic_circuit(n=30)
    # duplicate edges must accumulate identically in both backends
    pre = np.concatenate([base.pre, base.pre[:5]])
    post = np.concatenate([base.post, base.post[:5]])
    w = np.concatenate([base.weight, base.weight[:5]])
    dense = attrs.evolve(base, pre=pre, post=post, weight=w, connectivity="dense")
    others = [attrs.evolve(dense, connectivity=k) for k in ("edge_list", "event")]
    pd = source.init_params(dense, 0.1)
    po = [source.init_params(o, 0.1) for o in others]
    rng = np.random.default_rng(0)
    sd, so = source.init_state(pd), [source.init_state(p) for p in po]
    for step in range(20):
        spikes = jnp.asarray(rng.random(30) < (0.3 if step % 5 else 0.0))   # some steps without spikes
        sd, isd, tmd = source.step(pd, sd, spikes)
        for k, p in enumerate(po):
            so[k], ise, tme = source.step(p, so[k], spikes)
            np.testing.assert_allclose(isd, ise, rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(tmd, tme, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["exponential", "receptor_exponential"])
def test_each_cells_sources_sum_to_zero_in_a_run(small_cfg, kind):
    model = jtfne.construct(small_cfg.source(kind))
    sig = model.simulate(jtfne.simulation(50.0, 0.1, 0))
    tm = np.asarray(sig["sources"], np.float64)          # (T, S)
    cell_of = model.pipeline.source.cell_of_source(model.circuit)
    per_cell = np.zeros((tm.shape[0], model.n_cells))
    np.add.at(per_cell.T, cell_of, tm.T)
    assert np.abs(tm).max() > 0.1                          # there is synaptic activity
    assert np.abs(per_cell).max() <= 1e-6 * np.abs(tm).max() * 4


def test_sites_sit_above_the_soma_by_their_offset():
    circuit = synthetic_circuit(n=6)
    src = ExponentialSource()
    pos = src.positions_um(circuit)
    n = circuit.n_cells
    soma = circuit.positions_um[:, 2]
    np.testing.assert_allclose(pos[:n, 2], soma)
    np.testing.assert_allclose(pos[n:2 * n, 2], np.clip(soma - 150.0, 0, 1000.0))
    np.testing.assert_allclose(pos[2 * n:, 2], np.clip(soma - 50.0, 0, 1000.0))


def test_inward_synaptic_current_is_a_sink_at_the_synapse():
    _, i_tm = charge_after_spike(ExponentialSource(), two_cell_circuit("dense", "E", 1.0), 0.1, 5)
    n = 2
    soma, exc_site = i_tm[0, :n], i_tm[0, n:2 * n]
    assert exc_site[1] < 0 < soma[1]          # sink at the dendrite, return source at the soma


def test_receptor_sign_mismatch_is_refused():
    # the emitter declares which populations are excitatory, so the check runs when the model is
    # built (construct, and jaxfne validate), not when the source section alone is parsed
    with pytest.raises(jtfne.ConfigError, match="population 'E' is excitatory .* but receptor 'GABA_A' is not"):
        jtfne.construct(jtfne.configuration().network(n=20)
                        .source("receptor_exponential", receptor_by_population={"E": "GABA_A"}))


def test_point_neuron_emitters_have_no_membrane_currents():
    model = jtfne.construct(jtfne.configuration().network(n=5))
    em = model.pipeline.emitter
    with pytest.raises(NotImplementedError, match="has no compartments"):
        em.membrane_currents(model.params(0.1)["emitter"], em.init_state(model.params(0.1)["emitter"]))


@pytest.mark.parametrize("n,edges,float_spikes,expected", [
    (10, 50, False, "event"), (1000, 100_000, False, "event"), (100_000, 10**7, False, "event"),
    (1000, 100_000, True, "dense"),           # 10% dense, 8 MB of matrices
    (1000, 10_000, True, "edge_list"),        # 1%: the edge list does less work
    (5000, 2_500_000, True, "edge_list"),     # 10% but 200 MB of matrices
])
def test_auto_connectivity_picks_the_measured_fastest_path(n, edges, float_spikes, expected):
    from jaxfne_emitters.connectivity import resolve_connectivity
    assert resolve_connectivity("auto", n, edges, float_spikes) == expected
    for explicit in ("dense", "edge_list", "event"):
        assert resolve_connectivity(explicit, n, edges, float_spikes) == explicit


def test_a_built_network_resolves_auto_by_its_spikes():
    base = jtfne.configuration().network(n=300, p_connect=0.1, seed=0).no_field().probe(modes=["spikes"])
    assert jtfne.construct(base).circuit.connectivity == "event"
    assert jtfne.construct(base.emitter(surrogate_slope=5.0)).circuit.connectivity == "dense"
