"""External inputs (source option ``inputs``): Poisson rates and Fano factor, time-varying
rates, evoked jitter, rhythmic bursts, given spike trains, and their delivery through the
synapses (exact arrival step, own transmembrane currents, gains, batches)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_core.errors import ConfigError
from jaxfne_core.stages import Circuit, StepInputs
from jaxfne_emitters.inputs import InputSpec, build_inputs, input_spikes
from jaxfne_emitters.pathways import draw_delays, draw_weights
from jaxfne_emitters.synapses import ExponentialOptions, ExponentialSource

DT = 0.1


def lone_cells(n):
    return Circuit(("E",), np.zeros(n, np.int32), np.zeros((n, 3)), np.ones(n, bool), np.zeros(0, np.int32),
                   np.zeros(0, np.int32), np.zeros(0, np.float32), "event", 1000.0)


def raster(spec, n_cells, steps, seed=0):
    """(steps, M) input spikes of ``spec`` wired onto ``n_cells`` lone cells."""
    arrays = build_inputs((spec,), lone_cells(n_cells), lambda p: p, draw_weights, draw_delays)
    gen = {k: jnp.asarray(v) for k, v in arrays.items() if k in ("poisson_unit", "profile_times", "profile_rates",
                                                                "timed_unit", "timed_mean_ms", "timed_sd_ms")}
    key = jax.random.key(seed)
    f = jax.jit(jax.vmap(lambda t: input_spikes(gen, arrays["n_units"], key, t, DT)))
    return np.asarray(f(jnp.arange(steps, dtype=jnp.int32)))


def test_poisson_units_have_the_requested_rate_and_a_fano_factor_of_one():
    """2000 units at 20 Hz for 1 s: the mean count is within 4 SE (SE = sqrt(20 / 2000) =
    0.1) of 20 and the Fano factor of the counts within 4 SE (sqrt(2 / 1999) = 0.032) of
    1 - p = 0.998 (Bernoulli steps). Power: a 3% rate error (6 SE) or a Fano factor of 1.2
    (6 SE), as bursty trains would give, fails almost always."""
    counts = raster(InputSpec(name="p", kind="poisson", rate_hz=20.0), 2000, 10_000).sum(axis=0)
    assert abs(counts.mean() - 20.0) < 4 * 0.1
    assert abs(counts.var(ddof=1) / counts.mean() - (1 - 20.0 * DT * 1e-3)) < 4 * 0.032


def test_a_windowed_and_a_piecewise_linear_rate():
    spikes = raster(InputSpec(name="w", kind="poisson", rate_hz=50.0, start_ms=100.0, stop_ms=300.0), 2000, 5000)
    per_ms = spikes.reshape(500, 10, -1).sum(axis=(1, 2)) / 2000 / 1e-3         # Hz per 1 ms bin
    assert per_ms[:99].max() == 0 and per_ms[301:].max() == 0
    assert abs(per_ms[100:300].mean() - 50.0) < 4 * np.sqrt(50.0 / (2000 * 0.2))
    ramp = raster(InputSpec(name="r", kind="poisson", rate_times_ms=[0.0, 400.0], rate_hz_profile=[0.0, 80.0]),
                  2000, 4000)
    halves = ramp.reshape(2, 2000, -1).sum(axis=(1, 2)) / 2000 / 0.2                # mean Hz in 0-200, 200-400
    assert abs(halves[0] - 20.0) < 4 * np.sqrt(20.0 / 400) and abs(halves[1] - 60.0) < 4 * np.sqrt(60.0 / 400)


def test_evoked_volleys_have_the_requested_time_and_jitter():
    """One spike per unit per volley at N(t, sd): mean within 4 SE (sd / sqrt(M)), SD within
    4 SE (sd / sqrt(2 M)) plus the rounding to 0.1 ms steps (variance + dt^2 / 12)."""
    m, sd = 3000, 3.0
    spikes = raster(InputSpec(name="e", kind="evoked", times_ms=[50.0, 150.0], jitter_ms=sd), m, 2500, seed=4)
    steps, units = np.nonzero(spikes)
    assert np.all(np.bincount(units, minlength=m) == 2)
    for lo, t0 in ((0, 50.0), (1000, 150.0)):
        times = steps[(steps >= lo) & (steps < lo + 1000)] * DT
        assert abs(times.mean() - t0) < 4 * sd / np.sqrt(m)
        assert abs(times.std() - np.sqrt(sd**2 + DT**2 / 12)) < 4 * sd / np.sqrt(2 * m)
    # another run key, other jitter; the same key, the same spikes
    assert not np.array_equal(spikes, raster(InputSpec(name="e", kind="evoked", times_ms=[50.0, 150.0], jitter_ms=sd),
                                             m, 2500, seed=5))


def test_rhythmic_bursts_and_given_spike_trains_fall_on_their_steps():
    spikes = raster(InputSpec(name="b", kind="rhythmic", start_ms=10.0, stop_ms=100.0, interval_ms=25.0,
                              burst_spikes=3, burst_isi_ms=2.0), 2, 1200)
    expected = sorted(round((s + b) / DT) for s in (10.0, 35.0, 60.0, 85.0) for b in (0.0, 2.0, 4.0))
    assert np.nonzero(spikes[:, 0])[0].tolist() == expected and np.array_equal(spikes[:, 0], spikes[:, 1])
    given = raster(InputSpec(name="g", kind="spike_times", n_units=3, indegree=1, units=[0, 2, 2],
                             times_ms=[1.0, 5.55, 20.0]), 4, 300)
    assert [np.nonzero(given[:, u])[0].tolist() for u in range(3)] == [[10], [], [56, 200]]


def test_an_input_spike_reaches_its_target_after_its_delay_through_the_synapse():
    """A given spike at 2.0 ms (step 20) with a 1.5 ms (15 step) delay first changes the
    target's current at step 35, and the input's synapse makes transmembrane currents that
    sum to zero per cell."""
    spec = InputSpec(name="g", kind="spike_times", target="*", units=[1], times_ms=[2.0], weight=2.0, delay_ms=1.5)
    src = ExponentialSource(ExponentialOptions(inputs=(spec,)))
    circuit = lone_cells(3)
    params = src.init_params(circuit, DT)
    key = jax.random.key(0)

    def body(state, t):
        state, i_syn, i_tm = src.step(params, state, jnp.zeros(3, bool), StepInputs(t=t, key=key))
        return state, (i_syn, i_tm)
    _, (i_syn, i_tm) = jax.lax.scan(body, src.init_state(params), jnp.arange(100, dtype=jnp.int32))
    i_syn, i_tm = np.asarray(i_syn), np.asarray(i_tm)
    assert np.nonzero(i_syn[:, 1])[0][0] == 35 and i_syn[35, 1] == pytest.approx(2.0)
    assert np.all(i_syn[:, [0, 2]] == 0)
    np.testing.assert_allclose(i_tm.reshape(100, -1, 3).sum(axis=1), 0.0, atol=1e-6)


LAYERS = [{"name": "L23", "top_um": 100, "bottom_um": 500, "populations": {"E": 80, "PV": 20}},
          {"name": "L4", "top_um": 500, "bottom_um": 800, "populations": {"E": 80, "PV": 20}}]


def column(inputs, **source):
    cfg = (jtfne.configuration().network(n=200, layers=LAYERS, p_connect=0.05)
           .emitter(noise_sigma=2.0, v_init_spread_mV=10.0)
           .source("receptor_exponential", inputs=inputs, **source).probe(modes=["spikes"]).no_field().build())
    return jtfne.construct(cfg)


THALAMUS = {"name": "thalamus", "kind": "poisson", "target": "L4", "rate_hz": 200.0, "start_ms": 50.0,
            "stop_ms": 70.0, "n_units": 40, "indegree": 10, "weight": 4.0, "delay_ms": 2.0}


def test_a_thalamic_volley_drives_its_target_layer_and_its_gain_is_tunable():
    m = column([THALAMUS])
    sim = jtfne.simulation(100.0, DT, 3)
    spikes = np.asarray(m.simulate(sim)["spikes"])
    c = m.circuit
    l4 = np.isin(c.population, [c.population_names.index(p) for p in ("L4_E", "L4_PV")])
    window = lambda s, cells: s[520:720, cells].sum()            # 52-72 ms: the volley plus its 2 ms delay
    assert window(spikes, l4) > 5 * max(1, spikes[200:400, l4].sum())
    silent = np.asarray(m.with_tuned({"source.gain_input.thalamus": 0.0}).simulate(sim)["spikes"])
    assert window(silent, l4) < window(spikes, l4) / 5
    batch = np.asarray(m.simulate_batch(jtfne.simulation(100.0, DT, 0), seeds=[9, 3])["spikes"])
    np.testing.assert_array_equal(batch[1], spikes)              # trial seed 3 in a batch = alone


@pytest.mark.parametrize("spec,message", [
    ({**THALAMUS, "target": "L5"}, r"target 'L5' names no population, class or layer; allowed: \['E', 'L23'"),
    ({**THALAMUS, "receptor": "GABA_A"}, "is excitatory but receptor 'GABA_A' is not"),
    ({**THALAMUS, "n_units": None}, "indegree 10 needs n_units"),
    ({"name": "x", "kind": "evoked", "target": "L4"}, "kind 'evoked' needs 'times_ms'"),
    ({**THALAMUS, "kind": "evoked", "times_ms": [50.0]}, r"\['rate_hz', 'start_ms', 'stop_ms'\] have no effect on a "
                                                        "'evoked' input"),
    ({**THALAMUS, "rate_times_ms": [0.0, 10.0], "rate_hz_profile": [0.0, 5.0]}, "a rate profile .* sets the whole rate"),
    ({**THALAMUS, "weight_sd": 1.0}, r"\['weight_sd'\] have no effect"),
])
def test_bad_inputs_are_refused_naming_the_input(spec, message):
    with pytest.raises(ConfigError, match=message):
        column([spec]).params(DT)


def test_the_example_column_runs_from_the_cli_with_its_thalamic_volley(tmp_path):
    """examples/ei_column_thalamic_volley.jcfg.json: L2/3, L4, L5 with a Poisson volley into
    L4 at 100-120 ms; the run folder holds spike times, the V_m of L4's E cells and the
    network. L4 fires at least 5x more in the volley than in the 50 ms before it."""
    import subprocess
    import sys
    from pathlib import Path
    from jaxfne_formats import load_run
    example = Path(__file__).resolve().parent.parent / "examples" / "ei_column_thalamic_volley.jcfg.json"
    out = tmp_path / "column"
    done = subprocess.run([sys.executable, "-m", "jaxfne_core", "run", str(example), "--out", str(out),
                           "--duration-ms", "150", "--no-figures"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with np.load(out / "signals.npz") as z:
        assert "spikes" not in z.files and z["spike_cells"].size > 0
        names = [str(n) for n in z["population_names"]]
        l4e = np.nonzero(z["cell_population"] == names.index("L4_E"))[0]
        np.testing.assert_array_equal(z["V_m_cells"], l4e)
        assert z["V_m"].shape == (1000, l4e.size)              # 50 -> 150 ms recorded (warmup 50 ms)
    signals = load_run(out)
    spikes, t = np.asarray(signals["spikes"]), signals.time_ms
    l4 = np.isin(signals.context.model.population, [names.index("L4_E"), names.index("L4_PV")])
    during = spikes[(t > 101.5) & (t <= 121.5)][:, l4].sum() / 20.0
    before = spikes[(t > 50.0) & (t <= 100.0)][:, l4].sum() / 50.0
    assert during > 5 * max(before, 0.1)
    assert (out / "network.npz").is_file()


def test_a_paradigm_drives_synaptic_inputs_and_omitted_events_send_nothing():
    """A task drive with delivery 'synaptic' injects no current; its time course (200 Hz during
    each stimulus) is the rate of the source's 'drive' input into L4. L4 then fires during the
    second stimulus of AAAB but not during the omitted one of AXAB; the first stimulus drives
    both. A run without the task's drives is refused."""
    import json
    from pathlib import Path
    import attrs
    from jaxfne_core.config import config_from_dict
    from jaxfne_tasks.stimulus import drive_matrix
    example = Path(__file__).resolve().parent.parent / "examples" / "omission_column.jcfg.json"
    d = json.loads(example.read_text())
    d["task"]["drives"][0].update({"delivery": "synaptic", "amplitude": 200.0})
    d["source"]["inputs"] = [{"name": "visual", "kind": "drive", "drive_index": 0, "target": "L4", "weight": 20.0,
                              "receptor": "AMPA", "delay_ms": 2.0}]
    cfg = config_from_dict(d)
    model = jtfne.construct(cfg)
    assert not drive_matrix(cfg.task.drives, model.circuit).any()
    r = model.run_trials(attrs.evolve(cfg.task, conditions=("AAAB", "AXAB"), trials_per_condition=1))
    c = model.circuit
    l4 = np.isin(c.population, [i for i, n in enumerate(c.population_names) if n.startswith("L4")])
    rate = lambda k, t0: r.arrays["spikes"][k, 0][(r.time_ms > t0) & (r.time_ms <= t0 + 50.0)][:, l4].sum()
    first, second, baseline = 1030.0, 1130.0, 1500.0       # prestim 1000 ms, 30 ms latency
    for k in (0, 1):
        assert rate(k, first) > 2 * rate(k, baseline)
    assert rate(0, second) > 2 * rate(0, baseline) and rate(1, second) < 1.5 * rate(1, baseline)
    with pytest.raises(ConfigError, match="uses task drive 0, but this run has 0 drives"):
        model.simulate(jtfne.simulation(10.0))
