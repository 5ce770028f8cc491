"""Izhikevich emitter: checked against an independent NumPy integration and invariants."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_core.model import Model
from jaxfne_emitters.presets import CELL_TYPES


def numpy_izhikevich(a, b, c, d, current, dt, t_ms, v0=-65.0, v_peak=30.0):
    """Independent float64 forward-Euler integration of one cell; returns spike step indices."""
    v, u = v0, b * v0
    spikes = []
    for k in range(int(round(t_ms / dt))):
        v_new = v + dt * (0.04 * v * v + 5 * v + 140 - u + current)
        u = u + dt * a * (b * v - u)
        if v_new >= v_peak:
            spikes.append(k)
            v_new, u = c, u + d
        v = v_new
    return np.array(spikes)


def single_cell_model(cell_type, current):
    cfg = (jtfne.configuration().network(n=1, p_connect=0.0)
           .emitter(preset=cell_type, drive={cell_type: current}, noise_sigma=0.0)
           .no_field().probe(modes=["spikes", "V_m"]))
    return jtfne.construct(cfg)


@pytest.mark.parametrize("cell_type,current", [("RS", 10.0), ("RS", 5.0), ("FS", 10.0),
                                                ("IB", 10.0), ("CH", 10.0), ("LTS", 10.0)])
def test_single_cell_rate_matches_numpy(cell_type, current):
    t_ms, dt = 1000.0, 0.1
    sig = single_cell_model(cell_type, current).simulate(jtfne.simulation(t_ms, dt, 0))
    jax_spikes = np.nonzero(np.asarray(sig["spikes"])[:, 0])[0]
    p = CELL_TYPES[cell_type]
    ref = numpy_izhikevich(p.a, p.b, p.c, p.d, current, dt, t_ms)
    assert ref.size > 5
    # float32 vs float64 round-off can move a spike by a step; the count agrees within one
    assert abs(jax_spikes.size - ref.size) <= 1, (jax_spikes.size, ref.size)
    n = min(jax_spikes.size, ref.size, 5)
    assert np.abs(jax_spikes[:n] - ref[:n]).max() <= 2


def test_firing_types_order_as_published():
    """FS fires faster than RS under the same step current (Izhikevich 2003, Fig. 2)."""
    rate = {t: float(np.asarray(single_cell_model(t, 10.0).simulate(jtfne.simulation(500.0))["spikes"]).sum())
            for t in ("RS", "FS")}
    assert rate["FS"] > 1.5 * rate["RS"]


def test_noise_diffusion_is_independent_of_dt():
    """Summed noise increments of v over 1 ms have variance sigma^2 * 1 ms at any dt."""
    model = single_cell_model("RS", 0.0)
    emitter = model.pipeline.emitter
    params = model.params(0.1)
    params = {**params["emitter"], "noise_sigma": jnp.full((1,), 3.0)}
    quiet = {**params, "noise_sigma": jnp.zeros((1,))}
    state = emitter.init_state(params)
    for dt in (0.1, 0.025):
        steps = int(round(1.0 / dt))

        def increment(key):
            keys = jax.random.split(key, steps)
            noisy = jax.vmap(lambda k: emitter.step(params, state, jnp.zeros(1), k, dt)[2])(keys)
            clean = emitter.step(quiet, state, jnp.zeros(1), keys[0], dt)[2]
            return jnp.sum(noisy - clean)
        inc = jax.vmap(increment)(jax.random.split(jax.random.key(1), 4000))
        var = float(jnp.var(inc))
        assert var == pytest.approx(9.0, rel=0.1), (dt, var)   # sampling error of 4000 draws ~ 2.2%


def test_cell_types_are_interleaved_in_depth():
    model = jtfne.construct(jtfne.configuration().network(n=1000, p_connect=0.01))
    c = model.circuit
    depth = c.positions_um[:, 2]
    for i, name in enumerate(c.population_names):
        mean_depth = depth[c.population == i].mean()
        assert abs(mean_depth - 800.0) < 0.15 * 1600.0, (name, mean_depth)
    assert np.count_nonzero(np.diff(c.population)) > 100   # not contiguous blocks
    counts = np.bincount(c.population)
    assert counts.tolist() == [800, 100, 100]


def test_same_seed_bit_identical_and_other_seed_differs(small_cfg):
    model = jtfne.construct(small_cfg)
    sim = jtfne.simulation(50.0, 0.1, 7)
    a, b = model.simulate(sim), jtfne.construct(small_cfg).simulate(sim)
    assert a.digest() == b.digest()
    c = model.simulate(jtfne.simulation(50.0, 0.1, 8))
    assert c.digest() != a.digest()


def test_second_call_with_new_seed_does_not_recompile(small_cfg):
    model = jtfne.construct(small_cfg)
    model.simulate(jtfne.simulation(20.0, 0.1, 1))
    model.simulate(jtfne.simulation(20.0, 0.1, 2))
    (fn,) = model.compiled.values()
    assert fn._cache_size() == 1


def test_progress_chunks_give_identical_results(small_cfg):
    model = jtfne.construct(small_cfg)
    sim = jtfne.simulation(30.0, 0.1, 4)
    assert model.simulate(sim, progress=True).digest() == model.simulate(sim, progress=False).digest()


def test_batch_equals_sequential(small_cfg):
    model = jtfne.construct(small_cfg)
    sim = jtfne.simulation(20.0, 0.1, 0)
    batch = model.simulate_batch(sim, seeds=[3, 5])
    for i, seed in enumerate([3, 5]):
        one = model.simulate(jtfne.simulation(20.0, 0.1, seed))
        np.testing.assert_array_equal(np.asarray(batch["spikes"])[i], np.asarray(one["spikes"]))
        # vmap changes XLA's fusion; 1-ulp float32 differences grow on the quadratic upswing
        np.testing.assert_allclose(np.asarray(batch["V_m"])[i], np.asarray(one["V_m"]), rtol=1e-3, atol=1e-3)


def test_divergence_names_where_and_when(small_cfg):
    model = jtfne.construct(small_cfg)
    broken = Model(model.pipeline, model.circuit, tuned={"emitter.drive.PV": float("nan")})
    with pytest.raises(jtfne.SimulationDivergedError) as e:
        broken.simulate(jtfne.simulation(10.0, 0.1, 0))
    msg = str(e.value)
    assert "t = 0.1 ms (step 0)" in msg and "population PV" in msg and "depth" in msg


def test_dense_edge_list_and_event_simulations_agree(small_cfg):
    sim = jtfne.simulation(100.0, 0.1, 0)
    dense = jtfne.construct(small_cfg.network(connectivity="dense")).simulate(sim)
    for kind in ("edge_list", "event"):
        other = jtfne.construct(small_cfg.network(connectivity=kind)).simulate(sim)
        # same network, same noise: identical until float summation order matters, same rate after
        early = slice(0, 100)
        np.testing.assert_array_equal(np.asarray(dense["spikes"])[early], np.asarray(other["spikes"])[early])
        rd, ro = (float(np.asarray(s["spikes"]).mean()) for s in (dense, other))
        assert ro == pytest.approx(rd, rel=0.15)


def test_a_run_that_would_not_fit_is_refused_before_allocation(small_cfg, monkeypatch):
    from jaxfne_core import memory
    model = jtfne.construct(small_cfg)
    monkeypatch.setattr(memory, "available_bytes", lambda: 10 * 2**20)        # pretend 10 MiB
    with pytest.raises(memory.InsufficientMemoryError, match=r"needs 0\.\d+ GiB, but 0\.01 GiB is available"):
        model.simulate(jtfne.simulation(2000.0, 0.1, 0))
    model.simulate(jtfne.simulation(5.0, 0.1, 0))                              # small runs still go
    with pytest.raises(memory.InsufficientMemoryError, match="a batch of 64 runs"):
        model.simulate_batch(jtfne.simulation(500.0, 0.1, 0), seeds=range(64))


def test_event_tables_that_would_not_fit_are_refused_before_they_are_built(monkeypatch):
    from jaxfne_core import memory
    cfg = jtfne.configuration().network(n=2000, p_connect=0.1, seed=1, connectivity="event").no_field().probe(modes=["spikes"])
    model = jtfne.construct(cfg)
    monkeypatch.setattr(memory, "available_bytes", lambda: 2 * 2**20)         # pretend 2 MiB
    with pytest.raises(memory.InsufficientMemoryError,
                       match=r"the event synapse table of 2000 cells .* needs 0\.\d+ GiB, but 0\.00 GiB"):
        model.params(0.1)
