"""Recording: V_m of a subset of cells, an unrecorded warmup, spikes stored as spike times,
and population names (cell classes listed, user classes mapped onto them)."""
import jax
import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_core.errors import ConfigError
from jaxfne_core.io import write_npz_atomic
from jaxfne_formats import load_run, signals_payload

LAYERS = [{"name": "L23", "top_um": 100, "bottom_um": 500, "populations": {"E": 40, "PV": 10}},
          {"name": "L4", "top_um": 500, "bottom_um": 800, "populations": {"E": 40, "PV": 10}}]


def model(sample_interval_ms=None, **probe):
    return jtfne.construct(jtfne.configuration().network(n=100, layers=LAYERS).emitter(v_init_spread_mV=10.0)
                           .probe(modes=["spikes", "V_m", "LFP"], sample_interval_ms=sample_interval_ms, **probe))


def test_v_m_of_a_subset_equals_those_columns_of_the_full_recording():
    full, part = model(), model(v_m_cells=["L4_PV", "L23", 7])
    c = part.circuit
    pops = [i for i, n in enumerate(c.population_names) if n == "L4_PV" or n.startswith("L23_")]
    expected = np.union1d(np.nonzero(np.isin(c.population, pops))[0], [7])
    np.testing.assert_array_equal(part.v_m_cells, expected)
    sim = jtfne.simulation(20.0, 0.1, 2)
    a, b = part.simulate(sim), full.simulate(sim)
    np.testing.assert_array_equal(np.asarray(a["V_m"]), np.asarray(b["V_m"])[:, expected])
    np.testing.assert_array_equal(np.asarray(a["LFP"]), np.asarray(b["LFP"]))
    batch = part.simulate_batch(sim, seeds=[2])
    np.testing.assert_array_equal(np.asarray(batch["V_m"])[0], np.asarray(a["V_m"]))


@pytest.mark.parametrize("selection,message", [(["L5"], "'L5' names no population, class or layer"),
                                                ([1000], "cell index 1000 is out of range")])
def test_bad_v_m_selections_are_refused(selection, message):
    with pytest.raises(ConfigError, match=message):
        model(v_m_cells=selection)


def test_warmup_is_simulated_but_neither_recorded_nor_measured():
    m = model()
    whole = m.simulate(jtfne.simulation(50.0, 0.1, 1))
    warm = m.simulate(jtfne.simulation(50.0, 0.1, 1, warmup_ms=20.0))
    for mode in ("spikes", "V_m", "LFP"):
        np.testing.assert_array_equal(np.asarray(warm[mode]), np.asarray(whole[mode])[200:])
    assert warm.time_ms[0] == pytest.approx(20.1) and warm.t0_ms == 20.0
    # Signals is a pytree: through a tree map (and jit) the rows keep their times
    mapped = jax.jit(lambda s: jax.tree.map(lambda x: x * 1, s))(warm)
    assert mapped.t0_ms == 20.0 and mapped.time_ms[0] == pytest.approx(20.1)
    r = m.compute_readout(warm, [jtfne.readout_spec("all", "spike_rate_hz"),
                                 jtfne.readout_spec("late", "spike_rate_hz", time_window_ms=(30.0, 50.0))])
    spikes = np.asarray(whole["spikes"])
    assert r["all"].value == pytest.approx(spikes[200:].sum() / 100 / 0.03, rel=1e-5)
    assert r["late"].value == pytest.approx(spikes[300:].sum() / 100 / 0.02, rel=1e-5)
    with pytest.raises(ConfigError, match="outside the recorded run"):
        m.compute_readout(warm, [jtfne.readout_spec("early", "spike_rate_hz", time_window_ms=(0.0, 10.0))])
    batch = m.simulate_batch(jtfne.simulation(50.0, 0.1, 0, warmup_ms=20.0), seeds=[1])
    np.testing.assert_array_equal(np.asarray(batch["V_m"])[0], np.asarray(warm["V_m"]))
    with pytest.raises(ConfigError, match="warmup_ms"):
        jtfne.simulation(50.0, 0.1, 0, warmup_ms=50.0)
    with pytest.raises(ConfigError, match="warmup_ms"):
        jtfne.simulation(50.0, 0.1, 0, warmup_ms=0.05)


@pytest.mark.parametrize("sample_interval_ms", [None, 1.0])
def test_spikes_are_stored_as_spike_times_and_read_back_exactly(tmp_path, sample_interval_ms):
    m = model(sample_interval_ms)
    s = m.simulate(jtfne.simulation(30.0, 0.1, 3, warmup_ms=10.0))
    write_npz_atomic(tmp_path / "signals.npz", signals_payload(s))
    with np.load(tmp_path / "signals.npz") as z:
        assert "spikes" not in z.files
        cells, times = z["spike_cells"], z["spike_times_ms"]
    raster = np.asarray(s["spikes"])
    assert cells.size == raster.sum() > 0 and np.all(np.diff(times) >= 0) and times.min() > 10.0
    back = load_run(tmp_path)
    np.testing.assert_array_equal(np.asarray(back["spikes"]), raster)
    assert back["spikes"].dtype == raster.dtype and back.t0_ms == 10.0
    write_npz_atomic(tmp_path / "r" / "signals.npz", signals_payload(s, raster=True))
    with np.load(tmp_path / "r" / "signals.npz") as z:
        np.testing.assert_array_equal(z["spikes"], raster)


def test_population_classes_are_listed_and_user_classes_map_onto_them():
    from jaxfne_workflows.options_doc import options_table
    from jaxfne_core.plugins import default_registry
    table = {r["name"]: r for r in options_table(default_registry(), "emitter")}
    assert table["izhikevich"]["cell_classes"]["PV"].startswith("inhibitory (default receptor GABA_A)")
    assert "excitatory" in table["lif"]["cell_classes"]["E"]
    layers = [{"name": "L4", "top_um": 500, "bottom_um": 800, "populations": {"Pyr": 40, "I": 10}}]
    with pytest.raises(ConfigError, match=r"unknown cell class.*'classes' option"):
        jtfne.construct(jtfne.configuration().network(n=50, layers=layers))
    m = jtfne.construct(jtfne.configuration().network(n=50, layers=layers)
                        .emitter(classes={"Pyr": "RS", "I": "FS"}, drive={"Pyr": 6.0}))
    c = m.circuit
    assert c.population_names == ("L4_Pyr", "L4_I")
    assert c.excitatory[c.population == 0].all() and not c.excitatory[c.population == 1].any()
    params = m.params(0.1)["emitter"]
    np.testing.assert_allclose(np.asarray(params["a"])[c.population == 1], 0.1)     # FS
    np.testing.assert_allclose(np.asarray(params["drive"])[c.population == 0], 6.0)
    with pytest.raises(ConfigError, match="classes"):
        jtfne.construct(jtfne.configuration().network(n=50, layers=layers).emitter(classes={"I": "XX"}))
