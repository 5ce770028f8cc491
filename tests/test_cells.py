"""Morphologies and passive cables (jaxfne_cells): the cable's time constants against Rall's
closed form, the exact step against an ODE solver and against its own kernel (float64), the
cable source inside the simulation against a float64 NumPy recurrence, a cell's LFP against
an independent quadrature of the point-source potential over its segments, charge
conservation, and the dipole's sign reversal between distal and proximal input."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import jaxfne as jtfne
from jaxfne_cells.cable import compartmentalise, kernels
from jaxfne_cells.morphology import MORPHOLOGIES, _build, from_swc, l5_pyramidal
from jaxfne_cells.source import CableOptions, CableSource
from jaxfne_emitters.network_config import NetworkConfig
from jaxfne_emitters.synapses import ReceptorExponentialSource, ReceptorOptions


def cylinder(length_um=1000.0, diam_um=2.0):
    return _build("cylinder", [("soma", None, 0, length_um, diam_um, (0, 0, 1))], 1.0, 100.0, 1e-4, {})


def test_a_uniform_cable_has_rall_time_constants():
    """Sealed uniform cylinder (1 mm, 2 um, Ra 100 Ohm cm, Rm 10^4 Ohm cm^2, cm 1 uF/cm^2):
    the slowest mode is tau_m = Rm cm = 10 ms exactly at any resolution; the next is Rall's
    (1969) tau_1 = tau_m / (1 + (pi lambda / l)^2), lambda = sqrt(d Rm / (4 Ra)) = 707 um,
    approached at second order in the compartment length (error ratio 4 +- 0.3 per halving)."""
    lam = np.sqrt(2e-4 * 1e4 / (4 * 100.0)) * 1e4                    # um
    tau1 = 10.0 / (1 + (np.pi * lam / 1000.0) ** 2)
    errors = []
    for h in (100.0, 50.0, 25.0):
        a, _ = compartmentalise(cylinder(), h).system()
        taus = np.sort(-1.0 / np.linalg.eigvals(a).real)[::-1]
        assert taus[0] == pytest.approx(10.0, rel=1e-9)
        errors.append(abs(taus[1] - tau1))
    assert errors[0] / errors[1] == pytest.approx(4.0, abs=0.3) and errors[1] / errors[2] == pytest.approx(4.0, abs=0.3)
    assert errors[2] < 1e-3 * tau1


def test_the_exact_step_equals_an_ode_solution_and_its_kernel_in_float64():
    """L5 pyramidal cell (32 compartments), a random piecewise-constant current into three
    compartments for 40 steps of 0.1 ms: the step matrices give the LSODA solution (rtol
    1e-12) to 1e-9 relative, and the kernel convolution gives the stepped currents to 1e-12;
    every step's currents sum to zero (1e-12 of their size)."""
    cable = compartmentalise(l5_pyramidal())
    k, dt, steps = cable.n_compartments, 0.1, 40
    rng = np.random.default_rng(0)
    drive = np.zeros((steps, k))
    drive[:, [0, 5, k - 1]] = rng.normal(size=(steps, 3))
    phi, gamma = cable.step_matrices(dt)
    lap = cable.laplacian()
    v, stepped = np.zeros(k), []
    for n in range(steps):
        v = phi @ v + gamma @ drive[n]
        stepped.append(-lap @ v)
    stepped = np.array(stepped)
    a, b = cable.system()
    v_ode, y = [], np.zeros(k)
    for n in range(steps):
        y = solve_ivp(lambda t, x: a @ x + b @ drive[n], (0, dt), y, method="LSODA", rtol=1e-12, atol=1e-14).y[:, -1]
        v_ode.append(-lap @ y)
    np.testing.assert_allclose(stepped, np.array(v_ode), rtol=0, atol=1e-9 * np.abs(stepped).max())
    h = kernels(cable, dt, steps)
    convolved = np.array([sum(h[m] @ drive[n - m] for m in range(n + 1)) for n in range(steps)])
    np.testing.assert_allclose(convolved, stepped, rtol=0, atol=1e-12 * np.abs(stepped).max())
    assert np.abs(stepped.sum(axis=1)).max() <= 1e-12 * np.abs(stepped).max()


def one_cell(targets, morph="l5_pyramidal", n_inputs=20):
    src = {"targets": targets, "morphologies": {"E": morph},
           "inputs": [{"name": "drive", "kind": "poisson", "target": "E", "rate_hz": 50.0, "indegree": n_inputs,
                       "n_units": n_inputs, "weight": 0.05}]}
    cfg = (jtfne.configuration().network(n=1, p_connect=0.0, seed=0)
           .emitter("adex", fractions={"E": 1.0}, drive_default_nA=0.2)
           .source("cable", **src).field("line_source").probe(n_contacts=16, modes=["LFP", "sources"]))
    return jtfne.construct(cfg)


def test_one_cells_lfp_is_the_potential_of_its_segments():
    """A single L5 cell driven by a Poisson input: the recorded LFP equals an independent
    midpoint quadrature (400 points per segment) of the point-source potential
    I / (4 pi sigma r) over every segment of the recorded transmembrane currents (rtol 1e-3:
    the quadrature's error, the electrode being off the cell axis)."""
    model = one_cell({"drive": "distal"})
    s = model.simulate(jtfne.simulation(30.0, 0.1, 0))
    lfp, i_tm = np.asarray(s["LFP"], np.float64), np.asarray(s["sources"], np.float64)
    segs = model.pipeline.source.segments_um(model.circuit)
    contacts = model.probe_geometry.positions_um
    t = (np.arange(400) + 0.5) / 400
    points = segs[:, 0][:, None] + t[None, :, None] * (segs[:, 1] - segs[:, 0])[:, None]      # (S, 400, 3)
    dist = np.linalg.norm(contacts[:, None, None] - points[None], axis=-1)                     # (C, S, 400)
    assert dist.min() > 20.0
    matrix = (1.0 / dist).mean(axis=-1) / (4 * np.pi * 0.3) * 1e3           # nA / (S/m um) -> uV
    np.testing.assert_allclose(lfp, i_tm @ matrix.T, rtol=1e-3, atol=1e-3 * np.abs(lfp).max())
    assert np.abs(lfp).max() > 1e-3
    np.testing.assert_allclose(i_tm.sum(axis=1), 0.0, atol=1e-5 * np.abs(i_tm).max())


def test_distal_and_proximal_input_give_dipoles_of_opposite_sign():
    """hnn-core's check: input to the L5 tuft (distal) and to the basal and oblique dendrites
    (proximal) give current dipoles of opposite sign along the apical axis. In depth
    coordinates (positive down), distal input: sink above, return below -> P_depth > 0."""
    from jaxfne_analysis.reference import signals_dipole_moment
    sim = jtfne.simulation(40.0, 0.1, 0, warmup_ms=10.0)
    p = {t: signals_dipole_moment(one_cell({"drive": t}).simulate(sim))[:, -1, 2].mean()
         for t in ("distal", "proximal")}
    assert p["distal"] > 0 > p["proximal"], p
    assert min(abs(p["distal"]), abs(p["proximal"])) > 1.0, p               # nA um


def test_the_source_inside_the_scan_equals_a_float64_recurrence():
    """The cable source's step, fed the channel currents of receptor_exponential (same
    synapses), against Phi, Gamma and the area-weighted placement in float64 NumPy: float32
    agrees to 2e-4 of the largest current over 300 steps of a 12-cell circuit with layers."""
    from jaxfne_emitters.network_config import LayerConfig
    from jaxfne_emitters.izhikevich import IzhikevichEmitter
    network = NetworkConfig(n=12, p_connect=0.5, seed=1, layers=(LayerConfig("L23", 100.0, 400.0, {"E": 4, "PV": 2}),
                                                                 LayerConfig("L5", 900.0, 1300.0, {"E": 4, "PV": 2})))
    circuit = IzhikevichEmitter().build(network)
    cable = CableSource(CableOptions())
    plain = ReceptorExponentialSource(ReceptorOptions())
    dt, steps = 0.1, 300
    pc, pp = cable.init_params(circuit, dt), plain.init_params(circuit, dt)
    spikes = jnp.asarray(np.random.default_rng(2).random((steps, 12)) < 0.05)

    def run(source, params):
        def body(state, s):
            state, i_syn, tm = source.step(params, state, s)
            return state, (i_syn, tm)
        return jax.lax.scan(body, source.init_state(params), spikes)[1]
    (i_c, tm_c), (i_p, tm_p) = run(cable, pc), run(plain, pp)
    np.testing.assert_array_equal(np.asarray(i_c), np.asarray(i_p))           # the point neurons' input
    n = 12
    channel = -np.asarray(tm_p, np.float64)[:, n:].reshape(steps, -1, n)      # (T, C, N)
    targets = [name.split("@")[1] for name in cable.channels(circuit)[0]]
    ref = []
    for name, cab, cells in cable.cables(circuit):
        phi, gamma = cab.step_matrices(dt)
        place = np.stack([cab.group_weights(cab.morphology.groups.get(t, ("soma",))) if cab.morphology.n_sections > 1
                          else np.eye(1)[0] for t in targets])                 # (C, K)
        v, out = np.zeros((cells.size, cab.n_compartments)), []
        for k in range(steps):
            v = v @ phi.T + channel[k][:, cells].T @ place @ gamma.T
            out.append(v @ -cab.laplacian())
        ref.append(np.array(out).reshape(steps, -1))
    ref = np.concatenate(ref, axis=1)
    np.testing.assert_allclose(np.asarray(tm_c), ref, rtol=0, atol=2e-4 * np.abs(ref).max())
    assert {n for n, _, _ in cable.cables(circuit)} == {"l23_pyramidal", "l5_pyramidal", "point"}


def test_swc_morphologies_and_depth_targets(tmp_path):
    """An SWC cell: sections run between its samples (soma centred on the root), and a depth
    target puts the input on the compartments in that depth range."""
    swc = tmp_path / "cell.swc"
    swc.write_text("# id type x y z r parent\n1 1 0 0 0 8 -1\n2 4 0 0 200 1.5 1\n3 4 0 0 400 1.0 2\n"
                   "4 3 0 0 -150 1.0 1\n")
    morph = from_swc(swc, "mine")
    ends = morph.section_endpoints()
    np.testing.assert_allclose(ends[1:, 1], [[0, 0, 200], [0, 0, 400], [0, 0, -150]])
    np.testing.assert_allclose(ends[2, 0], [0, 0, 200])
    assert set(morph.groups["apical"]) == {"apical_2", "apical_3"} and morph.groups["basal"] == ("basal_4",)
    cfg = (jtfne.configuration().network(n=1, p_connect=0.0).emitter("adex", fractions={"E": 1.0})
           .source("cable", morphologies={"E": "mine"}, swc_files={"mine": str(swc)}, targets={"AMPA": "depth:0-10000"})
           .field("line_source").probe(n_contacts=8))
    model = jtfne.construct(cfg)
    segs = model.pipeline.source.segments_um(model.circuit)
    soma_depth = model.circuit.positions_um[0, 2]
    np.testing.assert_allclose(segs[:, :, 2].min(), soma_depth - 400.0)
    depth_model = one_cell({"drive": "depth:0-300"})
    c, src = depth_model.circuit, depth_model.pipeline.source
    name, cab, cells = src.cables(c)[0]
    targets = [t.split("@")[1] for t in src.channels(c)[0]]
    place = src._placement(c, cab, cells, name, targets)
    depth = c.positions_um[0, 2] - cab.segments_um.mean(axis=1)[:, 2]
    row = place[0, targets.index("depth:0-300")]
    assert row.sum() == pytest.approx(1.0) and np.all(row[(depth < 0) | (depth > 300)] == 0) and row.max() > 0


@pytest.mark.parametrize("options,match", [
    ({"morphologies": {"E": "granule"}}, r"unknown morphology 'granule'; allowed: \['l23_pyramidal'"),
    ({"targets": {"nowhere": "distal"}}, r"\['nowhere'\] name no pathway, input or receptor"),
    ({"targets": {"AMPA": "axon"}}, r"has no section or group 'axon'"),
    ({"targets": {"AMPA": "depth:300-100"}}, r"need 0 <= top < bottom"),
    ({"offset_um": {"AMPA": 50.0}}, r"synaptic sites lie on the morphology"),
    ({"morphologies": {"Q": "point"}}, r"\['Q'\] match no population"),
])
def test_bad_cable_options_are_refused(options, match):
    with pytest.raises(jtfne.ConfigError, match=match):
        jtfne.construct(jtfne.configuration().network(n=20).emitter("adex").source("cable", **options)
                        .field("line_source"))


def test_every_builtin_morphology_is_a_connected_tree():
    for name, make in MORPHOLOGIES.items():
        cable = compartmentalise(make())
        lap = cable.laplacian()
        assert np.sum(np.abs(np.linalg.eigvalsh(lap)) <= 1e-9 * np.abs(lap).max()) == 1, name   # one component
        assert cable.segments_um.shape == (cable.n_compartments, 2, 3)
