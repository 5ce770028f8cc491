"""The mixed emitter: one point-neuron model per cell class in one network. Each class's cells
follow their model exactly as in a network of that model alone (bit for bit, through the
gather and scatter), the classes interact through the shared synapses, and mismatched units or
incomplete model tables are refused."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_emitters.network_config import LayerConfig, NetworkConfig
from jaxfne_emitters.adex import AdExEmitter, AdExOptions
from jaxfne_emitters.hh import HHEmitter, HHOptions
from jaxfne_emitters.mixed import MixedEmitter, MixedOptions

CLASSES = {"E": "excitatory", "PV": "inhibitory"}
WB = {"variant": "wang_buzsaki", "area_um2": 10_000.0, "drive": {"PV": 0.12}}
LAYERS = (LayerConfig("L23", 100.0, 500.0, {"E": 6, "PV": 3}), LayerConfig("L5", 500.0, 900.0, {"E": 5, "PV": 2}))


def run_emitter(emitter, network, currents, dt):
    """Spikes and V (T, N) of ``emitter``'s cells under ``currents`` (T, N), no synapses, no noise."""
    circuit = emitter.build(network)
    emitter = emitter.bind(circuit)
    params = emitter.init_params(circuit)
    state, key = emitter.init_state(params), jax.random.key(0)

    def body(state, x):
        state, spikes, v = emitter.step(params, state, x, key, dt)
        return state, (spikes, v)
    _, (spikes, v) = jax.lax.scan(body, state, jnp.asarray(currents, jnp.float32))
    return circuit, np.asarray(spikes), np.asarray(v)


@pytest.mark.parametrize("layers", [None, LAYERS], ids=["mixed_cells", "layers"])
def test_each_class_steps_exactly_as_its_model_alone(layers):
    """AdEx E cells and Wang-Buzsaki PV cells in one network equal, bit for bit, the same cells
    of an AdEx-only and an HH-only network built on the same network config, under per-cell
    step currents; with layers the classes interleave, so the scatter back into network order
    is exercised."""
    network = NetworkConfig(n=16, p_connect=0.0, layers=layers, seed=3)
    dt, steps = 0.025, 4000
    rng = np.random.default_rng(0)
    currents = np.zeros((steps, 16))
    currents[steps // 4:] = rng.uniform(0.0, 1.2, 16)             # a step at 25 ms, a different one per cell
    mixed = MixedEmitter(MixedOptions(classes=CLASSES, fractions={"E": 0.75, "PV": 0.25},
                                      models={"E": {"model": "adex", "options": {"drive": {"E": 0.2}}},
                                              "PV": {"model": "hh", "options": WB}}))
    circuit, spikes, v = run_emitter(mixed, network, currents, dt)
    names = circuit.population_names
    is_e = np.array([names[p].endswith("E") for p in circuit.population])
    fractions = {"E": 0.75, "PV": 0.25}
    for model, of_e in ((AdExEmitter(AdExOptions(classes=CLASSES, fractions=fractions, drive={"E": 0.2})), True),
                        (HHEmitter(HHOptions(classes=CLASSES, fractions=fractions, **WB)), False)):
        # the reference network draws its own placement: its k-th cell of a class gets the
        # current of the mixed network's k-th cell of that class
        ref_circuit = model.build(network)
        ref_is_e = np.array([ref_circuit.population_names[p].endswith("E") for p in ref_circuit.population])
        own, ref_own = (is_e, ref_is_e) if of_e else (~is_e, ~ref_is_e)
        ref_currents = np.zeros_like(currents)
        ref_currents[:, ref_own] = currents[:, own]
        _, s_ref, v_ref = run_emitter(model, network, ref_currents, dt)
        np.testing.assert_array_equal(spikes[:, own], s_ref[:, ref_own])
        np.testing.assert_array_equal(v[:, own], v_ref[:, ref_own])
    assert spikes[:, is_e].any() and spikes[:, ~is_e].any()
    if layers is not None:
        assert mixed.bind(circuit).order is not None                 # classes interleave by layer


def network_model(drive_e, n=160, seed=0):
    models = {"E": {"model": "adex", "options": {"drive": {"E": drive_e}, "noise_sigma": 0.1,
                                                 "v_init_spread_mV": 5.0}},
              "PV": {"model": "hh", "options": {**WB, "drive": {"PV": 0.05}, "noise_sigma": 0.02}}}
    cfg = (jtfne.configuration().network(n=n, p_connect=0.1, weight_exc=0.3, weight_inh=0.6, seed=seed)
           .emitter("mixed", classes=CLASSES, fractions={"E": 0.8, "PV": 0.2}, models=models)
           .source("receptor_exponential").field("line_source").probe(n_contacts=8))
    return jtfne.construct(cfg)


def test_classes_interact_through_the_synapses_in_uV():
    """Driving the AdEx pyramidal cells harder raises the rate of the HH interneurons they
    contact (the interneurons' own drive is unchanged); both models give nA, so the LFP is in
    uV without a declared scale; a batch trial equals the same trial alone."""
    sim = jtfne.simulation(200.0, 0.025, seed=0, warmup_ms=50.0)
    rates = {}
    for drive in (0.6, 0.9):
        model = network_model(drive)
        s = model.simulate(sim)
        spikes, c = np.asarray(s["spikes"]), model.circuit
        pv = c.population == c.population_names.index("PV")
        rates[drive] = (spikes[:, ~pv].mean() / 0.025e-3, spikes[:, pv].mean() / 0.025e-3)
    assert model.units()["LFP"] == "uV" and np.isfinite(np.asarray(s["LFP"])).all()
    assert rates[0.9][0] > rates[0.6][0] + 1.0 and rates[0.9][1] > rates[0.6][1] + 1.0, rates
    v0 = np.asarray(model.params(0.025)["emitter"]["E"]["v0"])
    assert np.all(np.abs(v0 + 70.6) <= 5.0) and v0.std() > 2.0          # AdEx's own spread
    batch = model.simulate_batch(sim, seeds=[0, 1])
    np.testing.assert_array_equal(np.asarray(batch["spikes"])[0], np.asarray(s["spikes"]))


def test_tunables_are_the_models_own_routed_to_their_class():
    model = network_model(0.6)
    names = model.emitter.tunables(model.circuit)
    assert {"drive.E", "drive.PV", "E.noise_sigma", "PV.noise_sigma"} <= set(names)
    params = model.params(0.025)["emitter"]
    out = model.emitter.apply_tunables(params, {"drive.E": jnp.float32(1.5), "PV.noise_sigma": jnp.float32(0.3)},
                                       model.circuit)
    assert np.all(np.asarray(out["E"]["drive"]) == np.float32(1.5))
    np.testing.assert_array_equal(np.asarray(out["PV"]["drive"]), np.asarray(params["PV"]["drive"]))
    assert np.all(np.asarray(out["PV"]["noise_sigma"]) == np.float32(0.3))
    np.testing.assert_array_equal(np.asarray(out["E"]["noise_sigma"]), np.asarray(params["E"]["noise_sigma"]))


@pytest.mark.parametrize("models,match", [
    ({"E": {"model": "lif"}, "I": {"model": "adex"}}, r"different units"),
    ({"E": {"model": "adex"}}, r"without one \['I'\]"),
    ({"E": {"model": "adex"}, "I": {"model": "izhikevich"}}, r"unknown model 'izhikevich'; allowed: \['adex', 'hh', 'lif'\]"),
    ({"E": {"model": "adex"}, "I": {"model": "hh", "options": {"classes": {"I": "inhibitory"}}}},
     r"sets \['classes'\]"),
    ({"E": {"model": "adex"}, "I": {"model": "hh", "options": {"variant": "cortical"}}}, r"models\.I\.options\.variant"),
])
def test_bad_model_tables_are_refused(models, match):
    with pytest.raises(jtfne.ConfigError, match=match):
        jtfne.construct(jtfne.configuration().network(n=20).emitter("mixed", models=models))
