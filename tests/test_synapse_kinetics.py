"""Delays, rise times and conductance synapses (jaxfne_emitters.kinetics), each against an
independent reference: exact arrival steps, closed-form charges, the integrating-factor
solution of a conductance PSP, and Jahr & Stevens' (1990) formula."""
import attrs
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate

import jaxfne as jtfne
from jaxfne_core.errors import ConfigError
from jaxfne_core.stages import Circuit, StepInputs
from jaxfne_emitters.kinetics import nmda_block
from jaxfne_emitters.lif import LIFEmitter, LIFOptions
from jaxfne_emitters.synapses import (CustomReceptor, ExponentialOptions, ExponentialSource,
                                      ReceptorExponentialSource, ReceptorOptions)
from jaxfne_testing import synthetic_circuit

PATHS = ("event", "edge_list", "dense")


def star_circuit(connectivity, delay_ms, weight=(1.0, 0.5, -2.0, 0.25)):
    """Four cells, four edges (0->1, 0->2, 1->2, 3->0; cell 1 inhibitory) with given delays."""
    pre, post = np.array([0, 0, 1, 3], np.int32), np.array([1, 2, 2, 0], np.int32)
    exc = np.array([True, False, True, True])
    return Circuit(("E", "I"), (~exc).astype(np.int32), np.zeros((4, 3)), exc, pre, post,
                   np.asarray(weight, np.float32), connectivity, 1000.0,
                   delay_ms=None if delay_ms is None else np.asarray(delay_ms, float))


def run_source(source, circuit, spikes, dt=0.1, v=None):
    """Step ``source`` over the (T, N) spike raster: -> synaptic currents (T, N), transmembrane (T, S)."""
    params = source.init_params(circuit, dt)
    inputs = StepInputs(v=None if v is None else jnp.asarray(v, jnp.float32))

    def body(state, s):
        state, i_syn, i_tm = source.step(params, state, s, inputs)
        return state, (i_syn, i_tm)
    _, (i_syn, i_tm) = jax.lax.scan(body, source.init_state(params), jnp.asarray(spikes))
    return np.asarray(i_syn, np.float64), np.asarray(i_tm, np.float64)


@pytest.mark.parametrize("connectivity", PATHS)
def test_a_spike_arrives_exactly_d_steps_later_with_the_charge_of_one_step_delay(connectivity):
    """Step k's input holds the spikes of step k - 1; an edge of d steps must first change
    its target's current at step (k - 1) + d, and deliver the charge it delivers undelayed."""
    dt, steps = 0.1, 2000          # 200 ms: the 5 ms kernels' tails are gone by the end
    delays = np.array([0.3, 1.0, 0.1, 2.0])                        # 3, 10, 1, 20 steps
    spikes = np.zeros((steps, 4), bool)
    spikes[5, [0, 1, 3]] = True
    delayed, _ = run_source(ExponentialSource(), star_circuit(connectivity, delays), spikes, dt)
    prompt, _ = run_source(ExponentialSource(), star_circuit(connectivity, None), spikes, dt)
    emitted = 4                                                      # the spikes fed at step 5
    first = lambda x: int(np.nonzero(np.abs(x) > 0)[0][0])
    assert first(delayed[:, 1]) == emitted + 3
    assert first(delayed[:, 0]) == emitted + 20
    # cell 2 gets 0->2 (10 steps) and 1->2 (1 step): the inhibitory one first, alone
    assert first(delayed[:, 2]) == emitted + 1 and delayed[emitted + 1, 2] == pytest.approx(-2.0)
    assert np.all(delayed[emitted + 1:emitted + 10, 2] < 0) and delayed[emitted + 10, 2] > delayed[emitted + 9, 2]
    # a delay shifts the current in time and changes nothing else: same charge per cell
    np.testing.assert_allclose(delayed[:, :2].sum(0) * dt, prompt[:, :2].sum(0) * dt, rtol=1e-5)
    np.testing.assert_allclose(delayed[emitted + 3:, 1], prompt[emitted + 1:steps - 2, 1], rtol=1e-6)


def test_the_three_paths_deliver_delayed_spikes_identically():
    circuit = synthetic_circuit(n=30)
    rng = np.random.default_rng(4)
    delays = rng.integers(1, 60, circuit.n_edges) * 0.1
    spikes = rng.random((300, 30)) < 0.05
    out = {}
    for path in PATHS:
        c = Circuit(circuit.population_names, circuit.population, circuit.positions_um, circuit.excitatory,
                    circuit.pre, circuit.post, circuit.weight, path, circuit.thickness_um, delay_ms=delays)
        out[path] = run_source(ReceptorExponentialSource(), c, spikes)
    for path in ("edge_list", "dense"):
        np.testing.assert_allclose(out[path][0], out["event"][0], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(out[path][1], out["event"][1], rtol=1e-5, atol=1e-5)
    # each cell's transmembrane currents still sum to zero
    s = out["event"][1].reshape(300, -1, 30).sum(axis=1)
    np.testing.assert_allclose(s, 0.0, atol=1e-4)


def test_delays_below_one_step_are_refused_with_the_field_named():
    with pytest.raises(ConfigError, match="delay_ms.*at least one step"):
        ExponentialSource().init_params(star_circuit("event", [0.02, 1, 1, 1]), 0.1)


@pytest.mark.parametrize("normalisation", ["peak", "charge"])
@pytest.mark.parametrize("connectivity", ["event", "dense"])
def test_dual_exponential_kernels_deliver_the_stated_peak_or_charge(normalisation, connectivity):
    """Peak normalisation: max g = w; charge: integral g dt = w tau_decay. The discrete sums
    differ from the integrals by O(dt^2 / tau_rise) (the O(dt) terms of the two exponentials
    cancel): at dt = 0.025 ms and rise 1 ms about 1e-4, so rtol 2e-3 (peak: the sampled
    maximum sits within dt of the true one, error O(dt^2) as well)."""
    dt, w, tau, rise = 0.025, 1.5, 5.0, 1.0
    spikes = np.zeros((8000, 4), bool)
    spikes[0, 0] = True
    source = ExponentialSource(ExponentialOptions(tau_ms=tau, rise_ms=rise, normalisation=normalisation))
    i_syn, _ = run_source(source, star_circuit(connectivity, None, weight=(w, 0, 0, 0)), spikes, dt)
    g = i_syn[:, 1]
    t_peak = rise * tau / (tau - rise) * np.log(tau / rise)
    assert g[0] == pytest.approx(0.0, abs=1e-6) or g[0] < 0.05 * w    # a rise, no jump
    assert np.argmax(g) * dt == pytest.approx(t_peak, abs=dt)
    if normalisation == "peak":
        assert g.max() == pytest.approx(w, rel=2e-3)
    else:
        assert g.sum() * dt == pytest.approx(w * tau, rel=2e-3)


def test_conductance_at_the_reference_potential_equals_the_current_synapse():
    """|w| is the current a conductance drives at weights_at_mV: with V held there the two
    models give the same currents (exc reversal 0, inh -80 mV)."""
    spikes = np.random.default_rng(1).random((200, 4)) < 0.1
    current, _ = run_source(ExponentialSource(), star_circuit("event", [0.5, 0.2, 0.1, 1.0]), spikes)
    cond_source = ExponentialSource(ExponentialOptions(synapse_model="conductance", weights_at_mV=-65.0))
    cond, _ = run_source(cond_source, star_circuit("event", [0.5, 0.2, 0.1, 1.0]), spikes, v=np.full(4, -65.0))
    np.testing.assert_allclose(cond, current, rtol=1e-5, atol=1e-6)
    # at the excitatory reversal potential no excitatory current flows, inhibition doubles ...
    at_zero, _ = run_source(cond_source, star_circuit("event", [0.5, 0.2, 0.1, 1.0]), spikes, v=np.zeros(4))
    assert np.all(at_zero[:, 1] == 0) and np.all(at_zero[:, 0] == 0)   # cells 0, 1 get excitation only


def test_nmda_block_is_jahr_and_stevens():
    v = np.linspace(-100, 40, 29)
    for mg in (0.0, 1.0, 2.0):
        expected = 1.0 / (1.0 + mg / 3.57 * np.exp(-0.062 * v))
        np.testing.assert_allclose(np.asarray(nmda_block(jnp.asarray(v), mg)), expected, rtol=1e-6)
    # through the source: NMDA current = g (0 - V) B(V); AMPA unblocked
    circuit = Circuit(("E",), np.zeros(2, np.int32), np.zeros((2, 3)), np.array([True, True]),
                      np.array([0], np.int32), np.array([1], np.int32), np.array([1.0], np.float32), "event", 1000.0)
    spikes = np.zeros((10, 2), bool)
    spikes[0, 0] = True
    for receptor, blocked in (("NMDA", True), ("AMPA", False)):
        src = ReceptorExponentialSource(ReceptorOptions(synapse_model="conductance", receptor_by_population={"E": receptor}))
        for v0 in (-80.0, -40.0):
            i_syn, _ = run_source(src, circuit, spikes, v=np.full(2, v0))
            g = 1.0 / 65.0                                             # |w| / |E - (-65)|
            block = 1.0 / (1.0 + 1.0 / 3.57 * np.exp(-0.062 * v0)) if blocked else 1.0
            assert i_syn[0, 1] == pytest.approx(g * (0.0 - v0) * block, rel=1e-5)


def conductance_psp(dt, t_end=30.0, g0=0.2, tau_s=5.0, tau_m=20.0, e_l=-70.0, e_syn=0.0):
    """V(t) of a passive LIF cell hit by one conductance synapse at t = 0, from jaxfne's source
    and emitter stepped together (the synapse reads V at each step's start)."""
    n_steps = int(round(t_end / dt))
    w = g0 * abs(e_syn - (-65.0))                    # weight = current at -65 mV
    circuit = Circuit(("E",), np.zeros(2, np.int32), np.zeros((2, 3)), np.array([True, True]),
                      np.array([0], np.int32), np.array([1], np.int32), np.array([w], np.float32), "event", 1000.0)
    src = ExponentialSource(ExponentialOptions(tau_ms=tau_s, synapse_model="conductance", exc_reversal_mV=e_syn))
    em = LIFEmitter(LIFOptions(tau_m_ms=tau_m, e_l_mV=e_l, v_th_mV=40.0, v_reset_mV=-80.0, v_init_mV=e_l,
                               classes={"E": "excitatory"}, fractions={"E": 1.0}))
    sp, ep = src.init_params(circuit, dt), em.init_params(circuit)
    spikes = jnp.zeros((n_steps, 2), bool).at[0, 0].set(True)

    def body(carry, s):
        ss, es = carry
        ss, i_syn, _ = src.step(sp, ss, s, StepInputs(v=es["v"]))
        es, _, v = em.step(ep, es, i_syn, None, dt, noise=None)
        return (ss, es), v[1]
    _, v = jax.lax.scan(body, (src.init_state(sp), em.init_state(ep)), spikes)
    return np.asarray(v, np.float64)


def psp_closed_form(t, g0=0.2, tau_s=5.0, tau_m=20.0, e_l=-70.0, e_syn=0.0):
    """tau_m dV/dt = -(V - E_L) + g(t) (E_syn - V), g = g0 exp(-t / tau_s), V(0) = E_L: linear
    in V, so V(t) = exp(-P(t)) [E_L + int_0^t exp(P(s)) (E_L + g(s) E_syn) / tau_m ds] with
    P(t) = (t + g0 tau_s (1 - exp(-t / tau_s))) / tau_m (integrating factor; the integral by
    adaptive quadrature to 1e-12)."""
    P = lambda x: (x + g0 * tau_s * (1 - np.exp(-x / tau_s))) / tau_m
    f = lambda s: np.exp(P(s)) * (e_l + g0 * np.exp(-s / tau_s) * e_syn) / tau_m
    return np.array([np.exp(-P(x)) * (e_l + scipy.integrate.quad(f, 0.0, x, epsabs=1e-12, epsrel=1e-12)[0])
                     for x in t])


def test_a_conductance_psp_matches_the_closed_form_at_first_order():
    """The synapse reads V at each step's start and the LIF step holds the input for the step
    (exponential Euler): error O(dt). Output k is V at (k + 1) dt. Measured: max |error|
    0.0087 / 0.0043 / 0.0023 mV at dt = 0.04 / 0.02 / 0.01 ms on a 2.2 mV PSP; asserted: a
    ratio of 2 +- 0.25 per halving (float32 rounding, ~1e-5 mV, bends the last one to 1.9)
    and below 0.003 mV at 0.01 ms."""
    errors = []
    for dt in (0.04, 0.02, 0.01):
        v = conductance_psp(dt)
        every = int(round(0.5 / dt))                    # compare every 0.5 ms
        t = (np.arange(v.size) + 1) * dt
        errors.append(np.max(np.abs(v[::every] - psp_closed_form(t[::every]))))
        assert v.max() - (-70.0) == pytest.approx(2.16, abs=0.02)      # a sizeable PSP
    assert errors[0] / errors[1] == pytest.approx(2.0, abs=0.25)
    assert errors[1] / errors[2] == pytest.approx(2.0, abs=0.25)
    assert errors[2] < 0.003


def test_conductance_needs_reversal_potentials_and_rise_below_decay():
    circuit = star_circuit("event", None)
    custom = ReceptorOptions(custom_receptors={"X": CustomReceptor(tau_ms=3.0, excitatory=True)},
                             receptor_by_population={"E": "X"}, synapse_model="conductance")
    with pytest.raises(ConfigError, match=r"reversal potential for channel\(s\) \['X'\]"):
        ReceptorExponentialSource(custom).init_params(circuit, 0.1)
    with pytest.raises(ConfigError, match="rise_ms.*below the decay"):
        ExponentialSource(ExponentialOptions(tau_ms=2.0, rise_ms=2.0)).init_params(circuit, 0.1)


@pytest.mark.parametrize("options", [ExponentialOptions(synapse_model="conductance", inh_reversal_mV=-70.0),
                                     ReceptorOptions(synapse_model="conductance", reversal_mV={"GABA_A": -75.0},
                                                     mg_mM=2.0)])
def test_conductance_only_options_are_refused_with_current_synapses(options):
    """Reversal potentials, weights_at_mV and mg_mM do nothing to current synapses: refused."""
    changed = {k: v for k, v in attrs.asdict(options, recurse=False).items()
               if k in type(options).CONDUCTANCE_ONLY and v != attrs.fields_dict(type(options))[k].default}
    assert changed
    with pytest.raises(ConfigError, match="only apply to conductance synapses"):
        attrs.evolve(options, synapse_model="current")


def delayed_conductance_model(connectivity="event"):
    cfg = (jtfne.configuration().network(n=60, p_connect=0.2, connectivity=connectivity)
           .emitter(noise_sigma=4.0).source("receptor_exponential", synapse_model="conductance",
                                            rise_ms={"AMPA": 0.5}).probe(modes=["spikes", "V_m"]).no_field().build())
    from jaxfne_core.assemble import assemble
    from jaxfne_core.model import Model
    base = jtfne.construct(cfg)
    c = base.circuit
    delays = np.random.default_rng(0).integers(1, 40, c.n_edges) * 0.1
    circuit = Circuit(c.population_names, c.population, c.positions_um, c.excitatory, c.pre, c.post, c.weight,
                      connectivity, c.thickness_um, delay_ms=delays)
    return Model(assemble(cfg), circuit)


def test_a_delayed_conductance_trial_in_a_batch_equals_the_trial_alone():
    """The ring buffer's batching rule: each trial keeps its own ring and cursor."""
    model = delayed_conductance_model()
    sim = jtfne.simulation(40.0, 0.1, 0)
    batch = model.simulate_batch(sim, seeds=[3, 7])
    alone = model.simulate(jtfne.simulation(40.0, 0.1, 7))
    assert np.asarray(alone["spikes"]).sum() > 0
    for mode in ("spikes", "V_m"):
        np.testing.assert_allclose(np.asarray(batch[mode])[1], np.asarray(alone[mode]), rtol=1e-5, atol=1e-4)
