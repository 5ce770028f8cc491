"""The Jaxley bridge: detailed cells drive a laminar probe through the line-source field.

Checks against independent computations: Kirchhoff per cell (sum of membrane currents), the
membrane equation of a passive cell (C dV/dt + leak - injection, from Jaxley's own states), the
branch-point voltages Jaxley solves for, and the LFP as a direct NumPy line-source sum.
"""
import subprocess
import sys
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfne as jtfne

jaxley = pytest.importorskip("jaxley")

from jaxfne_bridges import cable  # noqa: E402


def y_cell():
    """Soma plus a dendrite that forks into two: one branch point, passive everywhere."""
    from jaxley.channels import HH
    comp = jaxley.Compartment()
    cell = jaxley.Cell([jaxley.Branch(comp, ncomp=1), jaxley.Branch(comp, ncomp=4),
                        jaxley.Branch(comp, ncomp=3), jaxley.Branch(comp, ncomp=3)], parents=[-1, 0, 1, 1])
    cell.branch(0).set("radius", 8.0)
    cell.branch(0).set("length", 16.0)
    cell.branch(1).set("radius", 1.5)
    cell.branch(2).set("radius", 0.8)
    cell.branch(3).set("radius", 0.6)
    cell.branch(1).set("length", 40.0)
    cell.insert(HH())
    cell.set("HH_gNa", 0.0)
    cell.set("HH_gK", 0.0)
    cell.xyzr = [np.array([[0, -8, 0, 8], [0, 8, 0, 8]], float),
                 np.array([[0, 8, 0, 1.5], [0, 168, 0, 1.5]], float),
                 np.array([[0, 168, 0, .8], [-60, 228, 0, .8]], float),
                 np.array([[0, 168, 0, .6], [60, 228, 20, .6]], float)]
    return cell


@pytest.fixture
def y_cell_module(monkeypatch):
    mod = types.ModuleType("_jaxfne_test_cells")
    mod.y_cell = y_cell
    monkeypatch.setitem(sys.modules, "_jaxfne_test_cells", mod)
    return "_jaxfne_test_cells:y_cell"


def _column(morphology="ball_and_stick", n=1, drive=0.4, duration=20.0, **emitter):
    return (jtfne.configuration().network(n=n, radius_um=40.0, seed=1)
            .emitter("jaxley", morphology=morphology, drive_nA=drive, **emitter)
            .source("compartments").field("line_source", sigma_S_per_m=0.3)
            .probe("laminar", n_contacts=16, spacing_um=100.0, modes=["spikes", "V_m", "LFP", "sources"])
            .simulation(duration_ms=duration, dt_ms=0.025))


def test_jaxley_bridge_is_registered(registry):
    assert registry.get("emitter", "jaxley").plugin == "jaxley"
    assert registry.get("source", "compartments").plugin == "jaxley"


def test_selecting_jaxley_without_it_names_the_extra():
    code = ("import sys; sys.modules['jaxley'] = None\n"
            "import importlib.util as u; u.find_spec = lambda name, *a: None if name == 'jaxley' else "
            "__import__('importlib.machinery').machinery.PathFinder.find_spec(name)\n"
            "import jaxfne as j\n"
            "try:\n    j.construct(j.configuration().emitter('jaxley').source('compartments'))\n"
            "except j.MissingExtraError as e:\n    print('MISSING', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "MISSING" in out.stdout and "pip install jaxfne[jaxley]" in out.stdout, out.stderr[-2000:]


def test_point_neuron_emitter_cannot_feed_the_compartment_source():
    with pytest.raises(jtfne.IncompatibleStagesError, match="membrane_current"):
        jtfne.construct(jtfne.configuration().source("compartments"))


def test_ball_and_stick_spikes_and_conserves_charge_per_cell():
    model = jtfne.construct(_column(n=2, duration=30.0))
    assert model.claims["amplitude"].value == "uV" and model.units()["LFP"] == "uV"
    sig = model.simulate()
    spikes = np.asarray(sig["spikes"]).sum(0)
    assert np.all(spikes >= 1), f"0.4 nA into an HH soma should fire: {spikes}"
    i_m = np.asarray(sig["sources"], np.float64)
    cell = model.circuit.compartments.cell
    per_cell = np.stack([i_m[:, cell == c].sum(1) for c in range(2)], 1)
    # float32 round-off of sums of O(1 nA) axial currents
    assert np.abs(per_cell).max() <= 1e-4 * np.abs(i_m).max()


def test_kirchhoff_holds_to_float64_roundoff_with_branch_points(y_cell_module, x64):
    model = jtfne.construct(_column(y_cell_module, n=1, drive=0.3, duration=5.0))
    em = model.emitter
    graph = em._built["graph"]
    assert graph.n_branchpoints == 2          # soma-dendrite junction and the fork
    rng = np.random.default_rng(0)
    v = jnp.asarray(rng.uniform(-80, 40, graph.comp_nodes.max() + 2))
    arrays = {k: jnp.asarray(a, jnp.float64 if a.dtype == jnp.float32 else a.dtype)
              for k, a in graph.arrays().items()}
    i_m = np.asarray(cable.membrane_currents(v, arrays, 2))
    assert abs(i_m.sum()) <= 1e-12 * np.abs(i_m).sum()


def test_membrane_currents_match_the_passive_membrane_equation(y_cell_module):
    """For a passive cell under backward Euler: I_m = area (c dV/dt + gL (V - EL)) - I_inj."""
    model = jtfne.construct(_column(y_cell_module, n=1, drive=0.2, duration=5.0))
    em = model.emitter
    params = model.params(0.025)["emitter"]
    state = em.init_state(params)
    soma = int(params["soma_nodes"][0])
    nodes = em._built["module"].nodes
    idx = nodes.index.to_numpy()
    area = nodes["area"].to_numpy()                     # um^2
    cap = nodes["capacitance"].to_numpy()               # uF/cm^2
    g_leak = nodes["HH_gLeak"].to_numpy()               # S/cm^2
    e_leak = nodes["HH_eLeak"].to_numpy()               # mV
    step = jax.jit(lambda s: em.step(params, s, jnp.zeros(1), None, 0.025)[0])
    for _ in range(40):
        new = step(state)
        v0 = np.asarray(state["jaxley"]["v"], np.float64)[idx]
        v1 = np.asarray(new["jaxley"]["v"], np.float64)[idx]
        # uA/cm^2 x um^2 x 1e-5 = nA
        expect = area * 1e-5 * (cap * (v1 - v0) / 0.025 + 1e3 * g_leak * (v1 - e_leak))
        expect[idx == soma] -= 0.2
        got = np.asarray(em.membrane_currents(params, new), np.float64)
        np.testing.assert_allclose(got, expect, atol=2e-3 * np.abs(expect).max())
        # branch point: Kirchhoff's voltage equals the one Jaxley solved for
        v_bp = np.asarray(cable.branchpoint_voltages(new["jaxley"]["v"], params["axial"], 2))
        bp_node = np.setdiff1d(np.arange(new["jaxley"]["v"].shape[0]), idx)
        np.testing.assert_allclose(v_bp, np.asarray(new["jaxley"]["v"])[bp_node], atol=1e-3)
        state = new


def _holt_line_potential(start, end, obs, sigma):
    """Independent float64 Holt (1998) line source: uV per nA (no distance clamp needed here)."""
    out = np.zeros((len(obs), len(start)))
    for j, (a0, b0) in enumerate(zip(start, end)):
        axis = b0 - a0
        length = np.linalg.norm(axis)
        u = axis / length
        for i, p in enumerate(obs):
            h = np.dot(p - a0, u) - length          # along the axis, from the end
            r2 = np.sum((p - a0) ** 2) - np.dot(p - a0, u) ** 2
            ell = h + length
            out[i, j] = 1e3 / (4 * np.pi * sigma * length) * np.log(
                (np.sqrt(h * h + r2) - h) / (np.sqrt(ell * ell + r2) - ell))
    return out


def test_single_cell_lfp_equals_a_direct_line_source_sum():
    model = jtfne.construct(_column(n=1, duration=15.0))
    sig = model.simulate()
    segs = model.circuit.compartments.segments_um
    # contacts sit at x = y = 0; the soma is scattered within 40 um: distances stay >> r_min
    phi = _holt_line_potential(segs[:, 0], segs[:, 1], model.contact_positions_um, 0.3)
    expect = np.asarray(sig["sources"], np.float64) @ phi.T
    lfp = np.asarray(sig["LFP"], np.float64)
    assert np.abs(expect).max() > 0.05, "a spiking ball-and-stick should give tens of nV at least"
    np.testing.assert_allclose(lfp, expect, atol=1e-4 * np.abs(expect).max())


def test_compartments_follow_the_morphology_and_point_to_the_pia():
    model = jtfne.construct(_column(n=3))
    comp = model.circuit.compartments
    assert comp.n_compartments == 3 * 13
    lengths = np.linalg.norm(comp.segments_um[:, 1] - comp.segments_um[:, 0], axis=1)
    np.testing.assert_allclose(np.sort(lengths)[:3], 20.0)                 # three somata
    np.testing.assert_allclose(lengths[lengths != 20.0], 50.0, rtol=1e-6)  # 600 um / 12
    top = comp.segments_um[:, :, 2].min()
    np.testing.assert_allclose(top, 900.0 - 10.0 - 600.0)


def test_bad_morphology_is_a_clear_error():
    with pytest.raises(jtfne.ConfigError, match="allowed: 'ball_and_stick'"):
        jtfne.construct(_column("pyramid"))
    with pytest.raises(jtfne.ConfigError, match="does not exist"):
        jtfne.construct(_column("missing.swc"))
    with pytest.raises(jtfne.ConfigError, match="only shape the ball_and_stick cell"):
        jtfne.construct(_column("missing.swc", dendrite_compartments=3))


def test_channel_conductances_are_tunable():
    from jaxfne_core.model import Model
    model = jtfne.construct(_column(n=1, duration=20.0))
    assert "emitter.scale.HH_gNa" in model.tunables()
    assert np.asarray(model.simulate()["spikes"]).sum() >= 1
    weak = Model(model.pipeline, model.circuit, tuned={"emitter.scale.HH_gNa": 0.1})
    assert np.asarray(weak.simulate()["spikes"]).sum() == 0, "a tenth of the sodium cannot spike"
