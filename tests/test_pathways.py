"""Pathway connectivity (network.pathways): requested in-degrees and probabilities per pair,
weight distributions, receptors and delays per pathway, per-pathway gains, and a saved
network that reloads bit-identically."""
import json
import subprocess
import sys

import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_core.errors import ConfigError

LAYERS = [{"name": "L23", "top_um": 100, "bottom_um": 500, "populations": {"E": 120, "PV": 30}},
          {"name": "L4", "top_um": 500, "bottom_um": 800, "populations": {"E": 120, "PV": 30}}]
N = 300


def column(pathways, connectivity="event", source=("receptor_exponential", {}), seed=0, emitter=None, **network):
    cfg = (jtfne.configuration().network(n=N, layers=LAYERS, pathways=pathways, connectivity=connectivity,
                                         seed=seed, **network)
           .emitter(noise_sigma=5.0, **(emitter or {})).source(source[0], **source[1]).probe(modes=["spikes", "V_m"]).no_field().build())
    return jtfne.construct(cfg)


def members(circuit, name):
    idx = [i for i, n in enumerate(circuit.population_names) if n == name or n.rsplit("_", 1)[-1] == name]
    return np.nonzero(np.isin(circuit.population, idx))[0]


def test_indegree_is_exact_per_postsynaptic_cell_without_self_or_repeated_partners():
    m = column([{"pre": "L4_E", "post": "L23_E", "indegree": 25},
                {"pre": "E", "post": "PV", "indegree": 40, "weight": 0.5}])
    c = m.circuit
    for k, (pre, post, kin) in enumerate([("L4_E", "L23_E", 25), ("E", "PV", 40)]):
        mine = c.edge_pathway == k
        counts = np.bincount(c.post[mine], minlength=c.n_cells)
        assert np.all(counts[members(c, post)] == kin)
        assert counts.sum() == kin * members(c, post).size
        assert np.all(np.isin(c.pre[mine], members(c, pre)))
        pairs = c.pre[mine].astype(np.int64) * N + c.post[mine]
        assert np.unique(pairs).size == pairs.size and not np.any(c.pre[mine] == c.post[mine])


def test_probability_per_pair_and_its_lateral_fall_off():
    """Edge counts are Binomial(pairs, p): asserted within 4 SD (a correct draw fails 6e-5 of
    the time; a 10% error in p, 6+ SD at these sizes, fails always)."""
    p, sigma = 0.15, 60.0
    m = column([{"pre": "E", "post": "E", "p": p}, {"pre": "PV", "post": "E", "p": 0.5, "lateral_sigma_um": sigma}])
    c = m.circuit
    e = members(c, "E")
    pairs = e.size * (e.size - 1)
    count = np.sum(c.edge_pathway == 0)
    assert abs(count - p * pairs) < 4 * np.sqrt(pairs * p * (1 - p))
    # lateral: expected count = sum over PV->E pairs of 0.5 exp(-r^2 / 2 sigma^2)
    pv = members(c, "PV")
    r2 = ((c.positions_um[pv, None, :2] - c.positions_um[None, e, :2]) ** 2).sum(-1)
    prob = 0.5 * np.exp(-r2 / (2 * sigma**2))
    got = np.sum(c.edge_pathway == 1)
    assert abs(got - prob.sum()) < 4 * np.sqrt((prob * (1 - prob)).sum())
    mine = c.edge_pathway == 1
    r_edges = np.hypot(*(c.positions_um[c.pre[mine], :2] - c.positions_um[c.post[mine], :2]).T)
    assert np.mean(r_edges) < np.mean(np.sqrt(r2))            # partners are nearer than chance


@pytest.mark.parametrize("dist,mean,sd", [("uniform", 0.5, 1 / np.sqrt(12)), ("constant", 1.0, 0.0),
                                          ("normal", 1.0, 0.2), ("lognormal", 1.0, 0.5)])
def test_weight_distributions_have_the_requested_moments_and_the_presynaptic_sign(dist, mean, sd):
    m = column([{"pre": "E", "post": "*", "p": 0.2, "weight": 1.0, "weight_dist": dist,
                 "weight_sd": 0.0 if dist in ("uniform", "constant") else sd},
                {"pre": "PV", "post": "E", "p": 0.2, "weight": 2.0, "weight_dist": "constant"}])
    c = m.circuit
    w = c.weight[c.edge_pathway == 0].astype(np.float64)
    assert np.all(w >= 0) and np.all(c.weight[c.edge_pathway == 1] == -2.0)
    se = sd / np.sqrt(w.size)
    assert abs(w.mean() - mean) < 5 * se + 1e-6
    if sd:
        assert w.std() == pytest.approx(sd, rel=0.1)


def test_delays_per_pathway_and_the_network_default():
    m = column([{"pre": "E", "post": "E", "p": 0.1, "delay_ms": 2.0, "delay_spread_ms": 0.5},
                {"pre": "PV", "post": "E", "p": 0.1}], delay_ms=1.0)
    c = m.circuit
    d0, d1 = c.delay_ms[c.edge_pathway == 0], c.delay_ms[c.edge_pathway == 1]
    assert 1.5 <= d0.min() and d0.max() <= 2.5 and d0.std() > 0.2
    assert np.all(d1 == 1.0)
    # without any delay the circuit keeps the default of one step
    assert column([{"pre": "E", "post": "E", "p": 0.1}]).circuit.delay_ms is None


def test_a_pathway_receptor_sets_the_channel_of_its_synapses():
    m = column([{"pre": "L4_E", "post": "L23_E", "p": 0.2, "receptor": "NMDA"},
                {"pre": "E", "post": "PV", "p": 0.2}])
    src, c = m.pipeline.source, m.circuit
    names, _, _, _, edge_channel = src.channels(c)
    assert names == ("AMPA", "GABA_A", "NMDA")            # GABA_A: the PV cells' default (no edges here)
    np.testing.assert_array_equal(np.array(names)[edge_channel], np.where(c.edge_pathway == 0, "NMDA", "AMPA"))
    params = m.params(0.1)
    assert isinstance(params["source"]["state0"], dict)       # L4 E cells use two channels: kinetic path
    assert np.asarray(m.simulate(jtfne.simulation(20.0))["spikes"]).sum() > 0


@pytest.mark.parametrize("pathway,message", [
    ({"pre": "L5_E", "post": "E", "p": 0.1}, r"pathways\[0\]\.pre.*'L5_E' names no population; allowed: \['E', "),
    ({"pre": "PV", "post": "E", "p": 0.1, "receptor": "AMPA"}, "receptor 'AMPA'.*inhibitory cells"),
    ({"pre": "E", "post": "E", "indegree": 500}, "indegree 500 exceeds the 239 possible"),
])
def test_bad_pathways_are_refused_naming_the_pathway(pathway, message):
    with pytest.raises(ConfigError, match=message):
        column([pathway]).params(0.1)


def test_pathway_fields_are_validated():
    with pytest.raises(ConfigError, match="exactly one of 'p' and 'indegree'"):
        column([{"pre": "E", "post": "E", "p": 0.1, "indegree": 3}])
    with pytest.raises(ConfigError, match="weight_sd applies to 'normal' and 'lognormal'"):
        column([{"pre": "E", "post": "E", "p": 0.1, "weight_sd": 0.2}])
    with pytest.raises(ConfigError, match="p_between_layers"):
        column([{"pre": "E", "post": "E", "p": 0.1}], p_between_layers=0.1)
    with pytest.raises(ConfigError, match="one excitatory and one inhibitory channel"):
        column([{"pre": "E", "post": "E", "p": 0.1, "receptor": "NMDA"}], source=("exponential", {})).params(0.1)


@pytest.mark.parametrize("connectivity", ["event", "edge_list", "dense"])
def test_a_pathway_gain_equals_scaling_that_pathways_weights(connectivity):
    pathways = [{"pre": "E", "post": "*", "p": 0.1, "delay_ms": 1.0}, {"pre": "PV", "post": "E", "p": 0.2}]
    m = column(pathways, connectivity)
    c = m.circuit
    tuned = m.with_tuned({"source.gain_pathway.E->*": 1.7, "source.gain_pathway.PV->E": 0.0})
    scaled = jtfne.Circuit(c.population_names, c.population, c.positions_um, c.excitatory, c.pre, c.post,
                           (c.weight * np.where(c.edge_pathway == 0, np.float32(1.7), np.float32(0.0))).astype(np.float32),
                           c.connectivity, c.thickness_um, delay_ms=c.delay_ms)
    reference = jtfne.Model(m.pipeline, scaled)
    sim = jtfne.simulation(30.0, 0.1, 2)
    a, b = tuned.simulate(sim), reference.simulate(sim)
    np.testing.assert_allclose(np.asarray(a["V_m"]), np.asarray(b["V_m"]), rtol=1e-5, atol=1e-3)
    assert np.asarray(a["spikes"]).sum() != np.asarray(m.simulate(sim)["spikes"]).sum()


def test_a_saved_network_reloads_bit_identically(tmp_path):
    m = column([{"pre": "E", "post": "*", "p": 0.1, "delay_ms": 1.5, "delay_spread_ms": 1.0},
                {"pre": "PV", "post": "E", "indegree": 10, "receptor": "GABA_B"}],
               emitter={"v_init_spread_mV": 10.0})
    jtfne.save_circuit(tmp_path / "network.npz", m.circuit)
    c = jtfne.load_circuit(tmp_path / "network.npz")
    for k in ("population", "positions_um", "excitatory", "pre", "post", "weight", "delay_ms", "edge_pathway"):
        np.testing.assert_array_equal(getattr(c, k), getattr(m.circuit, k), err_msg=k)
    assert c.pathways == m.circuit.pathways and c.population_names == m.circuit.population_names
    np.testing.assert_array_equal(c.extra["v_init_mV"], m.circuit.extra["v_init_mV"])
    sim = jtfne.simulation(20.0, 0.1, 1)
    again = jtfne.Model(m.pipeline, c)
    for mode in ("spikes", "V_m"):
        np.testing.assert_array_equal(np.asarray(again.simulate(sim)[mode]), np.asarray(m.simulate(sim)[mode]))
    assert "network_sha256" in again.run_receipt(again.simulate(sim)).config


def test_jaxfne_run_saves_the_network_and_runs_it_again(tmp_path):
    cfg = (jtfne.configuration().network(n=N, layers=LAYERS, pathways=[{"pre": "E", "post": "*", "p": 0.1},
                                                                        {"pre": "PV", "post": "E", "p": 0.2}])
           .emitter(noise_sigma=5.0).probe(modes=["spikes"]).no_field().simulation(duration_ms=20.0))
    path = tmp_path / "c.jcfg.json"
    jtfne.save_config(cfg.build(), path)
    run = lambda *a: subprocess.run([sys.executable, "-m", "jaxfne_core", "run", str(path), "--no-figures", *a],
                                    capture_output=True, text=True)
    first = run("--out", str(tmp_path / "a"))
    assert first.returncode == 0, first.stderr
    again = run("--out", str(tmp_path / "b"), "--network", str(tmp_path / "a"))
    assert again.returncode == 0, again.stderr
    a, b = (np.load(tmp_path / x / "signals.npz") for x in ("a", "b"))
    assert a["spike_cells"].size > 0
    for k in ("spike_cells", "spike_times_ms"):
        np.testing.assert_array_equal(a[k], b[k])
    receipt = json.loads((tmp_path / "b" / "receipt.json").read_text())
    assert len(receipt["config"]["network_sha256"]) == 64
    bad = run("--out", str(tmp_path / "c"), "--network", str(tmp_path / "nothing.npz"))
    assert bad.returncode != 0 and "not a network.npz" in bad.stderr
