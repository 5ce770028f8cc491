"""Probe modes, contact geometry, readouts, objectives and reports."""
import json

import jax.numpy as jnp
import numpy as np
import pytest

import jaxfne as jtfne


@pytest.fixture(scope="module")
def run():
    cfg = (jtfne.configuration().network(n=40, seed=2)
           .probe(n_contacts=8, spacing_um=150.0, top_um=200.0, modes=["spikes", "V_m", "LFP", "CSD"]))
    model = jtfne.construct(cfg)
    return model, model.simulate(jtfne.simulation(100.0, 0.1, 1))


def test_contacts_in_um(run):
    model, _ = run
    np.testing.assert_allclose(model.contact_positions_um[:, 2], 200.0 + 150.0 * np.arange(8))
    centred = jtfne.construct(jtfne.configuration().network(n=5).probe(n_contacts=3, spacing_um=100.0))
    np.testing.assert_allclose(centred.contact_positions_um[:, 2], [700.0, 800.0, 900.0])


def test_missing_mode_is_refused_with_its_name(run):
    """The core model refuses a readout of an unrecorded mode; the facade's model re-simulates
    the sources (tests/test_reference_page.py), the one mode the reference computed from any probe."""
    import jaxfne_core
    model, sig = run
    core = jaxfne_core.Model(model.pipeline, model.circuit)
    with pytest.raises(jtfne.MissingSignalError, match="'sources' was not recorded"):
        core.compute_readout(sig, [jtfne.readout_spec("s", "source_abs_mean")])
    with pytest.raises(jtfne.MissingSignalError, match="'sources' was not recorded"):
        jtfne.compute_readout(sig, [jtfne.readout_spec("s", "source_abs_mean")], model.registry)


def test_readouts_equal_numpy_with_windows_and_contacts(run):
    model, sig = run
    spikes, vm = np.asarray(sig["spikes"]), np.asarray(sig["V_m"], np.float64)
    lfp = np.asarray(sig["LFP"], np.float64)
    r = model.compute_readout(sig, [
        jtfne.readout_spec("rate", "spike_rate_hz", time_window_ms=(20.0, 70.0)),
        jtfne.readout_spec("count", "spike_count_total"),
        jtfne.readout_spec("vm", "mean_V_m"),
        jtfne.readout_spec("lfp", "lfp_abs_mean", contacts=(2, 5), time_window_ms=(0.0, 50.0)),
    ])
    assert r["rate"].value == pytest.approx(spikes[200:700].sum() / 40 / 0.05, rel=1e-5)
    assert r["count"].value == spikes.sum()
    assert r["vm"].value == pytest.approx(vm.mean(), rel=1e-5) and r["vm"].units == "mV"
    assert r["lfp"].value == pytest.approx(np.abs(lfp[:500, 2:5]).mean(), rel=1e-4)
    json.dumps(r.to_dict(), allow_nan=False)


def test_bad_windows_are_refused(run):
    model, sig = run
    with pytest.raises(jtfne.ConfigError, match="outside the recorded run"):
        model.compute_readout(sig, [jtfne.readout_spec("r", "spike_rate_hz", time_window_ms=(50, 500))])
    with pytest.raises(jtfne.ConfigError, match="contact slice applies"):
        model.compute_readout(sig, [jtfne.readout_spec("r", "spike_rate_hz", contacts=(0, 2))])
    with pytest.raises(jtfne.UnknownStageError, match="available objectives"):
        model.compute_readout(sig, [jtfne.readout_spec("r", "gamma_power")])


def test_objective_report(run):
    model, sig = run
    rate = float(np.asarray(sig["spikes"]).sum() / 40 / 0.1)
    obj = (jtfne.objective("o")
           .loss("rate_loss", target=20.0, weight=2.0, metric="spike_rate_hz_mean")
           .regularizer("vm_reg", target=-65.0, weight=0.1, metric="mean_V_m")
           .gate("rate_gate", threshold=200.0, criterion="below", metric="spike_rate_hz_mean")
           .gate("rate_low", threshold=rate + 1, criterion="above", metric="spike_rate_hz_mean")
           .gate("in", threshold=(rate - 1, rate + 1), criterion="in_range", metric="spike_rate_hz")
           .gate("eq", threshold=rate, criterion="equal", metric="spike_rate_hz", tolerance=1e-3))
    rep = model.evaluate(sig, obj, readout_specs=[jtfne.readout_spec("rate", "spike_rate_hz")])
    assert rep.losses["rate_loss"] == pytest.approx(2.0 * (rate - 20.0) ** 2, rel=1e-4)
    vm = float(np.asarray(sig["V_m"], np.float64).mean())
    assert rep.regularizers["vm_reg"] == pytest.approx(0.1 * (vm + 65.0) ** 2, rel=1e-3)
    assert rep.gates["rate_gate"]["passed"] and not rep.gates["rate_low"]["passed"]
    assert rep.gates["in"]["passed"] and rep.gates["eq"]["passed"]
    assert rep["all_gates_pass"] is False
    assert rep["physical_amplitude_claim_allowed"] is False
    assert rep.total_loss == pytest.approx(rep.losses["rate_loss"] + rep.regularizers["vm_reg"], rel=1e-6)
    json.dumps(rep.to_dict(), allow_nan=False)
    # the pure-JAX loss used by tuning agrees with the report
    assert float(obj.total_loss(sig, model.registry)) == pytest.approx(rep.total_loss, rel=1e-4)


def test_duplicate_term_names_refused():
    with pytest.raises(ValueError, match="used twice"):
        jtfne.objective().loss("a", 1.0, metric="mean_V_m").loss("a", 2.0, metric="mean_V_m")


def test_readouts_of_a_batch_give_one_value_per_trial():
    model = jtfne.construct(jtfne.configuration().network(n=20).probe(modes=["spikes"]))
    sim = jtfne.simulation(50.0, 0.1, 0)
    batch = model.simulate_batch(sim, seeds=[1, 2, 3])
    r = model.compute_readout(batch, [jtfne.readout_spec("rate", "spike_rate_hz")])
    single = [model.compute_readout(model.simulate(jtfne.simulation(50.0, 0.1, s)),
                                    [jtfne.readout_spec("rate", "spike_rate_hz")])["rate"].value for s in (1, 2, 3)]
    assert r["rate"].value == pytest.approx(single, rel=1e-6)
    json.dumps(r.to_dict(), allow_nan=False)


def test_sampled_recording_equals_the_raster_reduced_per_interval():
    """Record blocks sum their outputs as the steps run: counts and means over each 1 ms equal
    the every-step raster reduced afterwards (the noise is keyed by step, so both runs see the
    same draws although their noise blocks differ: 10 steps against 16)."""
    base = (jtfne.configuration().network(n=120, p_connect=0.1, seed=2, connectivity="event")
            .source("exponential", calibration_nA_per_native=0.1, calibration_provenance="test")
            .field("point_source"))
    sim = jtfne.simulation(40.0, 0.1, 3)
    raw = jtfne.construct(base.probe(modes=["spikes", "V_m", "LFP"])).simulate(sim)
    per_ms = jtfne.construct(base.probe(modes=["spikes", "V_m", "LFP"], sample_interval_ms=1.0)).simulate(sim)
    spikes = np.asarray(raw["spikes"], np.float32)
    assert spikes.sum() > 20
    np.testing.assert_array_equal(np.asarray(per_ms["spikes"]), spikes.reshape(40, 10, -1).sum(axis=1))
    for m in ("V_m", "LFP"):
        x = np.asarray(raw[m], np.float64)
        np.testing.assert_allclose(np.asarray(per_ms[m]), x.reshape(40, 10, -1).mean(axis=1),
                                   rtol=1e-5, atol=1e-5 * np.abs(x).max())


@pytest.mark.parametrize("run", ["simulate", "simulate_batch"])
def test_a_duration_that_is_not_whole_records_names_the_fields(run):
    model = jtfne.construct(jtfne.configuration().network(n=40, seed=1).no_field()
                            .probe(modes=["spikes"], sample_interval_ms=2.0))
    with pytest.raises(jtfne.ConfigError, match=r"duration_ms.*5.0 ms is not a whole number of recorded "
                                                r"samples of 2.0 ms \(probe.sample_interval_ms\)"):
        getattr(model, run)(jtfne.simulation(5.0, 0.1, 0))


def test_spike_metrics_sum_bool_and_float_rasters_alike():
    from jaxfne_objectives.reductions import count, rate_hz
    rng = np.random.default_rng(4)
    raster = rng.random((3, 500, 70)) < 0.02                        # (trials, steps, cells)
    expected = raster.sum(axis=(1, 2))
    for x in (raster, raster.astype(np.float32)):
        np.testing.assert_array_equal(np.asarray(count(jnp.asarray(x), 0.1)), expected)
        np.testing.assert_allclose(np.asarray(rate_hz(jnp.asarray(x), 0.1)), expected / (500 * 70) * 1e4,
                                   rtol=1e-6)


def test_first_sink_depth_equals_numpy_and_tracks_an_early_sink(run):
    """A synthetic CSD with a sink starting at contact 5 (sample 30) before contact 2 (sample
    60): the metric finds contact 5's depth, as an independent NumPy computation does; inside
    jit and vmap too."""
    import jax
    from jaxfne_core.signals import Signals
    model, sig = run
    z = model.contact_positions_um[:, 2]
    csd = np.zeros((200, z.size), np.float32)
    csd[30:80, 5] = -0.9
    csd[60:120, 2] = -2.0
    csd[10:20, 1] = 0.5                                    # a source first: ignored
    metric = model.registry.get("objective", "csd_first_sink_depth_um").value

    def numpy_depth(c):
        thr = 0.5 * c.min()
        onset = [np.nonzero(c[:, k] <= thr)[0][0] if np.any(c[:, k] <= thr) else c.shape[0] for k in range(c.shape[1])]
        return z[int(np.argmin(onset))]
    assert numpy_depth(csd) == z[2]                       # half the minimum (-1) excludes contact 5's -0.9
    assert float(metric(Signals({"CSD": jnp_array(csd)}, 0.1, {}, sig.context))) == pytest.approx(z[2])
    csd[30:80, 5] = -1.5
    assert numpy_depth(csd) == z[5]
    value = lambda c: metric(Signals({"CSD": c}, 0.1, {}, sig.context))
    assert float(value(jnp_array(csd))) == pytest.approx(z[5])
    batch = jax.jit(jax.vmap(value))(jnp_array(np.stack([csd, np.abs(csd)])))
    assert float(batch[0]) == pytest.approx(z[5]) and np.isnan(float(batch[1]))


def jnp_array(x):
    import jax.numpy as jnp
    return jnp.asarray(x)


def test_population_readouts_equal_numpy_and_refuse_what_they_cannot_select():
    """population= selects a population's, a layer's or a class's columns of spikes and V_m
    (V_m also when the probe records a subset of cells); other modes and unknown names are
    refused with the allowed names."""
    cfg = (jtfne.configuration().network(n=40, layers=[
        {"name": "L23", "top_um": 100, "bottom_um": 700, "populations": {"E": 16, "PV": 4}},
        {"name": "L4", "top_um": 700, "bottom_um": 1100, "populations": {"E": 16, "PV": 4}}])
        .probe(modes=["spikes", "V_m", "LFP"], n_contacts=8, v_m_cells=["PV", "L4_E"]))
    model = jtfne.construct(cfg)
    sig = model.simulate(jtfne.simulation(100.0, 0.1, 1))
    c = model.circuit
    pop_of = np.array([c.population_names[i] for i in c.population])
    spikes, vm = np.asarray(sig["spikes"], np.float64), np.asarray(sig["V_m"], np.float64)
    rec = model.v_m_cells
    r = model.compute_readout(sig, [jtfne.readout_spec("e", "spike_rate_hz", population="E"),
                                    jtfne.readout_spec("l4e", "spike_count", population="L4_E"),
                                    jtfne.readout_spec("vm_pv", "mean_V_m", population="PV")])
    is_e = np.char.endswith(pop_of.astype(str), "_E")
    assert r["e"].value == pytest.approx(spikes[:, is_e].sum() / is_e.sum() / 0.1, rel=1e-6)
    assert r["l4e"].value == spikes[:, pop_of == "L4_E"].sum()
    assert r["vm_pv"].value == pytest.approx(vm[:, np.char.endswith(pop_of[rec].astype(str), "_PV")].mean(), rel=1e-5)
    with pytest.raises(jtfne.ConfigError, match="allowed: E, L23, L23_E"):
        model.compute_readout(sig, [jtfne.readout_spec("x", "spike_rate_hz", population="L5")])
    with pytest.raises(jtfne.ConfigError, match="not 'LFP'"):
        model.compute_readout(sig, [jtfne.readout_spec("x", "lfp_abs_mean", population="E")])
    with pytest.raises(jtfne.ConfigError, match="none of its cells is recorded"):
        model.compute_readout(sig, [jtfne.readout_spec("x", "mean_V_m", population="L23_E")])
    obj = jtfne.objective("o").loss("e", target=5.0, metric="spike_rate_hz", population="E")
    assert obj.losses[0]["population"] == "E"
    assert model.evaluate(sig, obj).values["e"] == pytest.approx(r["e"].value, rel=1e-6)
