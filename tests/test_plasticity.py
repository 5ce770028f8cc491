"""Plasticity (source option ``plasticity``): pair-based STDP (additive and multiplicative) and
inhibitory STDP (Vogels et al. 2011) on named pathways, updated inside the run's scan.

Checks: pair protocols through the source's own step equal the closed-form windows (both
signs, both weight dependences, float32: rtol 1e-4, the traces are products of float32
decays); in a running network the learned weights equal an independent NumPy computation from
the recorded spike times (direct sums of exponentials over every earlier partner, not traces);
iSTDP drives the excitatory rate to its target; learned weights continue a run; nothing is
plastic unless asked, and bad rules are refused by name."""
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_core.errors import ConfigError, UsageError

DT = 0.1


def two_cells(rule, pathway, populations, w0=0.5):
    layers = [{"name": "L1", "top_um": 100, "bottom_um": 300, "populations": populations}]
    pre, post = pathway.split("->")
    cfg = (jtfne.configuration().network(n=sum(populations.values()), layers=layers, connectivity="edge_list",
                                         pathways=[{"pre": pre, "post": post, "indegree": 1, "weight": w0}])
           .source("receptor_exponential", plasticity=[{"pathways": [pathway], **rule}])
           .probe(modes=["spikes"]).no_field().simulation(dt_ms=DT).build())
    return jtfne.construct(cfg)


def drive_source(model, trains, n_steps):
    """Step the model's source with given spikes: trains = {cell: [step, ...]} -> final weights."""
    src = model.pipeline.source
    params = model.params(DT)["source"]
    spikes = np.zeros((n_steps, model.n_cells), bool)
    for cell, steps in trains.items():
        spikes[steps, cell] = True

    def body(state, s):
        state, _, _ = src.step(params, state, s)
        return state, None
    state, _ = jax.lax.scan(body, src.init_state(params), jnp.asarray(spikes))
    # the step receives the previous step's spikes: one more step processes the last row
    state, _, _ = src.step(params, state, jnp.zeros(model.n_cells, bool))
    return np.asarray(src.final_weights(params, state, model.circuit.n_edges))


LAGS_MS = [-40.0, -20.0, -10.0, -5.0, -1.0, 1.0, 5.0, 10.0, 20.0, 40.0]


@pytest.mark.parametrize("dependence", ["additive", "multiplicative"])
def test_stdp_pair_protocol_equals_the_closed_form_window(dependence):
    w0, w_max, a_plus, a_minus, tau_p, tau_m = 0.5, 2.0, 0.01, 0.012, 16.8, 33.7
    rule = {"rule": "stdp", "w_max": w_max, "a_plus": a_plus, "a_minus": a_minus, "tau_plus_ms": tau_p,
            "tau_minus_ms": tau_m, "weight_dependence": dependence}
    model = two_cells(rule, "E->E", {"E": 2}, w0)
    c = model.circuit
    assert sorted(zip(c.pre.tolist(), c.post.tolist())) == [(0, 1), (1, 0)]
    for lag in LAGS_MS:
        k = int(round(lag / DT))
        t0 = 500
        w = drive_source(model, {0: [t0], 1: [t0 + k]}, t0 + 500)
        for e in range(2):
            start = abs(float(c.weight[e]))
            d = k * DT if c.pre[e] == 0 else -k * DT          # post time - pre time of this synapse
            if d > 0:
                change = a_plus * np.exp(-d / tau_p) * (w_max if dependence == "additive" else w_max - start)
            else:
                change = -a_minus * np.exp(d / tau_m) * (w_max if dependence == "additive" else start)
            np.testing.assert_allclose(abs(w[e]) - start, change, rtol=1e-4, err_msg=f"lag {lag} ms, edge {e}")


def test_istdp_pair_is_symmetric_and_each_pre_spike_costs_alpha():
    eta, tau, rho = 0.02, 20.0, 5.0
    alpha = 2 * rho / 1000 * tau
    model = two_cells({"rule": "istdp", "eta": eta, "tau_ms": tau, "target_rate_hz": rho}, "PV->E",
                      {"E": 1, "PV": 1}, 0.5)
    c = model.circuit
    pv, e = int(c.pre[0]), int(c.post[0])
    w0 = abs(float(c.weight[0]))
    for lag in LAGS_MS:
        k = int(round(lag / DT))
        w = drive_source(model, {pv: [500], e: [500 + k]}, 1000)
        np.testing.assert_allclose(abs(w[0]) - w0, eta * (np.exp(-abs(lag) / tau) - alpha), rtol=1e-4)
        assert np.sign(w[0]) == np.sign(c.weight[0])            # inhibitory stays inhibitory
    # a lone pre spike depresses by eta alpha; a lone post spike changes nothing
    np.testing.assert_allclose(abs(drive_source(model, {pv: [10]}, 100)[0]) - w0, -eta * alpha, rtol=1e-4)
    assert abs(drive_source(model, {e: [10]}, 100)[0]) == pytest.approx(w0, abs=0)


def test_bounds_hold():
    model = two_cells({"rule": "stdp", "w_max": 0.6, "a_plus": 0.5, "a_minus": 0.5}, "E->E", {"E": 2}, 0.5)
    up = drive_source(model, {0: list(range(10, 2000, 40)), 1: list(range(12, 2000, 40))}, 2000)
    assert np.isclose(abs(up[model.circuit.pre == 0][0]), 0.6)     # potentiated to w_max, not past it
    assert np.isclose(abs(up[model.circuit.pre == 1][0]), 0.0)     # depressed to 0, not past it


def network(dependence="additive", a=0.002, modes=("spikes", "weights"), n_e=40, plastic=True, seed=0,
            connectivity="event"):
    layers = [{"name": "L23", "top_um": 100, "bottom_um": 500, "populations": {"E": n_e, "PV": 10}}]
    rules = [{"rule": "stdp", "pathways": ["E->E"], "w_max": 50.0, "a_plus": a, "a_minus": a * 1.05,
              "weight_dependence": dependence, "record": 1000}] if plastic else None
    cfg = (jtfne.configuration().network(n=n_e + 10, layers=layers, connectivity=connectivity, seed=seed,
                                         pathways=[{"pre": "E", "post": "E", "p": 0.2, "weight": 1.0},
                                                   {"pre": "PV", "post": "E", "p": 0.3}])
           .emitter(noise_sigma=6.0).source("receptor_exponential", plasticity=rules)
           .probe(modes=list(modes)).no_field().simulation(duration_ms=300.0, dt_ms=DT, seed=seed).build())
    return jtfne.construct(cfg)


def spike_steps(raster):
    """cell -> sorted steps at which the source processed its spikes (all but the last row)."""
    r = np.asarray(raster)[:-1]
    return [np.nonzero(r[:, i])[0] for i in range(r.shape[1])]


def reference_weights(circuit, edges, steps, w_max, a_plus, a_minus, tau_p, tau_m, dependence):
    """Independent NumPy STDP: each spike, in time order, pairs with every earlier partner spike
    through a direct sum of exponentials of the time differences (float64)."""
    w = np.abs(circuit.weight[edges]).astype(np.float64)
    pre, post = circuit.pre[edges], circuit.post[edges]
    events = sorted({int(s) for c in set(pre) | set(post) for s in steps[c]})
    for t in events:
        new = w.copy()
        for j, (i, k) in enumerate(zip(pre, post)):
            if t in set(steps[k].tolist()):       # post spike: potentiation from earlier pre spikes
                earlier = steps[i][steps[i] < t]
                x = np.exp(-(t - earlier) * DT / tau_p).sum()
                new[j] += a_plus * x * (w_max if dependence == "additive" else w_max - w[j])
            if t in set(steps[i].tolist()):       # pre spike: depression from earlier post spikes
                earlier = steps[k][steps[k] < t]
                y = np.exp(-(t - earlier) * DT / tau_m).sum()
                new[j] -= a_minus * y * (w_max if dependence == "additive" else w[j])
        w = np.clip(new, 0.0, w_max)
    return w


@pytest.mark.parametrize("dependence,connectivity", [("additive", "event"), ("multiplicative", "event"),
                                                     ("multiplicative", "edge_list")])
def test_network_weights_equal_an_independent_numpy_stdp_of_its_spikes(dependence, connectivity):
    """Event connectivity updates only the spiking cells' synapses; edge_list every synapse."""
    model = network(dependence, connectivity=connectivity)
    signals, state = model.simulate_with_state()
    c = model.circuit
    plastic = np.nonzero(c.edge_pathway == 0)[0]
    steps = spike_steps(signals["spikes"])
    assert sum(s.size for s in steps) > 300
    w = model.final_weights(state)
    fixed = np.setdiff1d(np.arange(c.n_edges), plastic)
    np.testing.assert_array_equal(w[fixed], c.weight[fixed])                # PV->E does not learn
    # a sample of synapses whose endpoints both spiked (the reference is O(events x edges))
    both = [e for e in plastic if steps[c.pre[e]].size and steps[c.post[e]].size][:40]
    ref = reference_weights(c, np.array(both), steps, 50.0, 0.002, 0.0021, 16.8, 33.7, dependence)
    assert np.max(np.abs(ref - np.abs(c.weight[both]))) > 1e-3               # they did learn
    # float32 state against float64: each of ~100s of updates of weights ~1 rounds by ~6e-8
    np.testing.assert_allclose(np.abs(w[both]), ref, rtol=1e-4, atol=2e-5)
    # the weights recording samples the same synapses: its last row is the state before the last step
    cols = model.weight_synapses
    assert signals["weights"].shape == (signals.n_steps, cols.size) and set(both) & set(cols.tolist())


def test_weights_record_and_continue_a_run():
    model = network()
    signals, state = model.simulate_with_state()
    assert signals.units["weights"] == "native"
    w = model.final_weights(state)
    again = model.with_weights(w)
    np.testing.assert_array_equal(again.params(DT)["source"]["w"][:model.circuit.n_edges], w)
    rec = np.asarray(again.simulate()["weights"])
    # the next run starts where the last ended (first row: after one more step's update)
    np.testing.assert_allclose(rec[0], np.abs(w[model.weight_synapses]), atol=2e-3)
    with pytest.raises(UsageError, match="one per edge"):
        model.with_weights(w[:-1])


def test_plasticity_is_off_unless_asked_and_the_plain_run_is_unchanged():
    fixed = network(plastic=False, modes=("spikes",))
    with pytest.raises(UsageError, match="no plastic synapses"):
        fixed.final_weights(fixed.simulate_with_state()[1])
    # rate-zero learning: the plastic path delivers exactly what the fixed one does
    frozen = network(a=0.0, modes=("spikes",))
    assert frozen.simulate().digest() == network(plastic=False, modes=("spikes",), connectivity="edge_list").simulate().digest()


def test_bad_rules_are_refused_by_name():
    with pytest.raises(ConfigError, match="weights"):
        network(plastic=False)                                  # 'weights' without a plastic source
    layers = [{"name": "L23", "top_um": 100, "bottom_um": 500, "populations": {"E": 20, "PV": 5}}]
    base = (jtfne.configuration().network(n=25, layers=layers, pathways=[{"pre": "E", "post": "E", "p": 0.2}])
            .probe(modes=["spikes"]).no_field())
    cases = [({"rule": "stdp", "pathways": ["E->PV"], "w_max": 1.0}, "not pathways of the network"),
             ({"rule": "stdp", "pathways": ["E->E"]}, "w_max"),
             ({"rule": "istdp", "pathways": ["E->E"], "a_plus": 0.1}, "do not apply to rule 'istdp'"),
             ({"rule": "hebb", "pathways": ["E->E"]}, "allowed: 'stdp', 'istdp'"),
             ({"rule": "stdp", "pathways": ["E->E"], "w_max": 1e-6}, "largest starting")]
    for rule, message in cases:
        with pytest.raises(ConfigError, match=message):
            jtfne.construct(base.source("receptor_exponential", plasticity=[rule]).build()).params(DT)
    no_paths = (jtfne.configuration().network(n=25, layers=layers).probe(modes=["spikes"]).no_field()
                .source("receptor_exponential", plasticity=[{"rule": "istdp", "pathways": ["E->E"]}]).build())
    with pytest.raises(ConfigError, match="declares none"):
        jtfne.construct(no_paths).params(DT)


def istdp_column(target_hz, plastic=True, seed=0):
    """80 E cells driven to ~28 Hz, 20 PV cells; PV->E learns under iSTDP (eta 2 native/pair)."""
    layers = [{"name": "L23", "top_um": 100, "bottom_um": 500, "populations": {"E": 80, "PV": 20}}]
    rules = [{"rule": "istdp", "pathways": ["PV->E"], "eta": 2.0, "target_rate_hz": target_hz}] if plastic else None
    cfg = (jtfne.configuration().network(n=100, layers=layers, connectivity="event", seed=seed, pathways=[
        {"pre": "E", "post": "E", "p": 0.1, "weight": 0.5}, {"pre": "E", "post": "PV", "p": 0.3, "weight": 0.5},
        {"pre": "PV", "post": "E", "p": 0.5, "weight": 0.3}])
        .emitter(noise_sigma=4.0, drive={"E": 12.0, "PV": 3.0}).source("receptor_exponential", plasticity=rules)
        .probe(modes=["spikes"], sample_interval_ms=1.0).no_field()
        .simulation(duration_ms=6000.0, dt_ms=DT, seed=seed).build())
    return jtfne.construct(cfg)


def late_e_rate_hz(model, last_ms=2000):
    spikes = np.asarray(model.simulate()["spikes"])            # (ms, cells) counts
    e = model.circuit.population == model.circuit.population_names.index("L23_E")
    return spikes[-last_ms:, e].sum() / e.sum() / (last_ms / 1000)


@pytest.mark.parametrize("target", [5.0, 15.0])
def test_istdp_drives_the_excitatory_rate_to_its_target(target):
    """6 s of simulated time; the E rate over the last 2 s is within 1.5 Hz of the target
    (Vogels et al. 2011's fixed point), from ~28 Hz without plasticity."""
    assert late_e_rate_hz(istdp_column(target, plastic=False)) > 25.0
    assert abs(late_e_rate_hz(istdp_column(target)) - target) < 1.5


def test_a_trial_batch_learns_per_trial_as_each_trial_alone():
    model = network()
    batch = model.simulate_batch(seeds=[0, 1])["weights"]
    alone = model.simulate(jtfne.simulation(duration_ms=300.0, dt_ms=DT, seed=1))["weights"]
    np.testing.assert_array_equal(np.asarray(batch[1]), np.asarray(alone))
    assert not np.array_equal(np.asarray(batch[0]), np.asarray(batch[1]))


def test_jaxfne_run_saves_the_learned_network_and_continues_from_it(tmp_path):
    from jaxfne_core.cli import main
    from jaxfne_formats.circuit_io import load_circuit
    example = str(Path(__file__).resolve().parent.parent / "examples" / "istdp_balance.jcfg.json")
    assert main(["run", example, "--out", str(tmp_path / "a"), "--duration-ms", "500"]) == 0
    names = {p.name for p in (tmp_path / "a").iterdir()}
    assert {"network.npz", "network_learned.npz", "weights.png"} <= names
    start, learned = load_circuit(tmp_path / "a" / "network.npz"), load_circuit(tmp_path / "a" / "network_learned.npz")
    np.testing.assert_array_equal(start.pre, learned.pre)
    plastic = start.edge_pathway == [p.name for p in start.pathways].index("PV->E")
    assert np.all(np.abs(learned.weight[plastic]) > np.abs(start.weight[plastic]))       # inhibition grew
    np.testing.assert_array_equal(learned.weight[~plastic], start.weight[~plastic])
    with np.load(tmp_path / "a" / "signals.npz") as f:
        last = f["weights"][-1]
    assert main(["run", example, "--out", str(tmp_path / "b"), "--duration-ms", "100",
                 "--network", str(tmp_path / "a" / "network_learned.npz")]) == 0
    with np.load(tmp_path / "b" / "signals.npz") as f:
        first = f["weights"][0]
    # one recorded ms of further learning apart: at most a pairing or two (eta = 2), mostly none
    np.testing.assert_allclose(first, last, atol=4.0)
    assert np.median(np.abs(first - last)) < 0.1 < np.median(np.abs(last - np.abs(start.weight[plastic]).mean()))


@pytest.mark.parametrize("rule", [{"rule": "stdp", "pathways": ["E->E"], "w_max": 3.0, "a_plus": 0.05, "a_minus": 0.06,
                                   "weight_dependence": "multiplicative"},
                                  {"rule": "istdp", "pathways": ["PV->E"], "eta": 0.05, "w_max": 3.0}])
def test_event_driven_updates_equal_the_dense_step_to_the_bit(rule):
    """plasticity_events (spiking cells' synapses only) against plasticity_step (every synapse)
    on 200 steps of dense random spikes (often pre and post in the same step) and bounds hit."""
    from jaxfne_emitters.plasticity import initial_traces, plasticity_events, plasticity_step
    layers = [{"name": "L23", "top_um": 100, "bottom_um": 500, "populations": {"E": 60, "PV": 15}}]
    cfg = (jtfne.configuration().network(n=75, layers=layers, connectivity="event", pathways=[
        {"pre": "E", "post": "E", "p": 0.3}, {"pre": "PV", "post": "E", "p": 0.5}])
        .source("receptor_exponential", plasticity=[rule]).probe(modes=["spikes"]).no_field().build())
    model = jtfne.construct(cfg)
    src, params = model.pipeline.source, model.params(DT)["source"]
    rules, pp = src.options.plasticity, params["plasticity"]
    spikes = jax.random.bernoulli(jax.random.key(3), 0.2, (200, model.n_cells))
    w0, tr0 = src.init_state(params)["w"], initial_traces(pp, model.n_cells)

    def run(update):
        (tr, w), _ = jax.lax.scan(lambda c, s: (update(rules, pp, c[0], c[1], s), None), (tr0, w0), spikes)
        return np.asarray(w[:model.circuit.n_edges]), [np.asarray(t["x"]) for t in tr]
    (we, xe), (wd, xd) = run(plasticity_events), run(plasticity_step)
    assert np.abs(we - np.asarray(w0[:model.circuit.n_edges])).max() > 0.1
    np.testing.assert_array_equal(we, wd)
    np.testing.assert_array_equal(xe[0], xd[0])
