"""Volume-conductor kernels against closed forms, independent quadrature and invariants."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import erf

import jaxfne as jtfne
from jaxfne_fields import kernels

SIGMA = 0.3


def test_point_source_closed_form_and_clamp():
    src = np.array([[0.0, 0.0, 0.0]])
    obs = np.array([[100.0, 0.0, 0.0], [0.0, 0.0, 2.0]])
    m = kernels.point_source(src, obs, SIGMA, r_min_um=5.0)
    assert m[0, 0] == pytest.approx(2.6526, rel=1e-4)          # FACTS: 1 nA at 100 um
    assert m[1, 0] == pytest.approx(1e3 / (4 * math.pi * SIGMA * 5.0), rel=1e-12)  # clamped to 5 um


def test_anisotropic_point_source():
    sx, sy, sz = 0.2, 0.3, 0.5
    src = np.zeros((1, 3))
    obs = np.array([[100.0, 0, 0], [0, 100.0, 0], [0, 0, 100.0]])
    m = kernels.point_source(src, obs, np.array([sx, sy, sz]), 1.0)[:, 0]
    expect = [1e3 / (4 * math.pi * math.sqrt(sy * sz) * 100), 1e3 / (4 * math.pi * math.sqrt(sx * sz) * 100),
              1e3 / (4 * math.pi * math.sqrt(sx * sy) * 100)]
    np.testing.assert_allclose(m, expect, rtol=1e-12)
    iso = kernels.point_source(src, obs, np.array([SIGMA] * 3), 1.0)
    np.testing.assert_allclose(iso, kernels.point_source(src, obs, SIGMA, 1.0), rtol=1e-12)


@pytest.mark.parametrize("sigma", [SIGMA, np.array([0.2, 0.3, 0.5])])
def test_reciprocity_of_point_sources(sigma):
    rng = np.random.default_rng(0)
    a, b = rng.normal(scale=200, size=(7, 3)), rng.normal(scale=200, size=(5, 3))
    np.testing.assert_allclose(kernels.point_source(a, b, sigma, 1.0),
                               kernels.point_source(b, a, sigma, 1.0).T, rtol=1e-12)


def test_superposition_is_linear_in_currents():
    rng = np.random.default_rng(1)
    src, obs = rng.normal(scale=300, size=(9, 3)), rng.normal(scale=300, size=(4, 3))
    m = kernels.point_source(src, obs, SIGMA, 1.0)
    i1, i2 = rng.normal(size=9), rng.normal(size=9)
    one_by_one = sum(kernels.point_source(src[k:k + 1], obs, SIGMA, 1.0)[:, 0] * (2 * i1[k] - i2[k]) for k in range(9))
    np.testing.assert_allclose(m @ (2 * i1 - i2), one_by_one, rtol=1e-10, atol=1e-12)


def test_dipole_far_field_falls_as_inverse_square():
    src = np.array([[0, 0, -50.0], [0, 0, 50.0]])
    currents = np.array([-1.0, 1.0])                       # p = 100 nA um along +z
    obs = np.array([[0, 0, 1000.0], [0, 0, 2000.0], [0, 0, 4000.0]])
    phi = kernels.point_source(src, obs, SIGMA, 1.0) @ currents
    far = 1e3 * 100.0 / (4 * math.pi * SIGMA * np.array([1000.0, 2000.0, 4000.0]) ** 2)
    assert far[0] == pytest.approx(0.02653, rel=1e-3)       # FACTS value (dipole approximation)
    np.testing.assert_allclose(phi, far, rtol=3e-3)          # exact pair vs dipole term: O((d/r)^2)
    assert phi[0] / phi[1] == pytest.approx(4.0, rel=2e-3)


def test_gaussian_blob_by_superposed_shells():
    """Point sources on spherical shells weighted by a Gaussian's radial mass reproduce
    phi = I / (4 pi sigma r) erf(r / (sqrt 2 s)) (FACTS: 4.062960 uV at 25 um, 2.531889 at 100)."""
    s = 50.0
    k = np.arange(600)
    golden = math.pi * (3 - math.sqrt(5))
    zk = 1 - 2 * (k + 0.5) / 600
    sphere = np.stack([np.sqrt(1 - zk**2) * np.cos(golden * k), np.sqrt(1 - zk**2) * np.sin(golden * k), zk], 1)
    nodes, weights = np.polynomial.legendre.leggauss(160)
    a = 0.5 * 8 * s * (nodes + 1)
    mass = 0.5 * 8 * s * weights * np.sqrt(2 / math.pi) * a**2 / s**3 * np.exp(-a**2 / (2 * s**2))
    pts = (a[:, None, None] * sphere[None]).reshape(-1, 3)
    cur = np.repeat(mass / 600, 600)
    obs = np.array([[25.0, 3.0, 7.0], [100.0, -4.0, 2.0]])
    obs = obs / np.linalg.norm(obs, axis=1, keepdims=True) * np.array([[25.0], [100.0]])
    phi = kernels.point_source(pts, obs, SIGMA, 1e-6) @ cur
    r = np.array([25.0, 100.0])
    exact = 1e3 / (4 * math.pi * SIGMA * r) * erf(r / (math.sqrt(2) * s))
    np.testing.assert_allclose(exact, [4.062960, 2.531889], rtol=1e-6)
    np.testing.assert_allclose(phi, exact, rtol=2e-3)       # shell and angular quadrature error


def test_line_source_equals_integrated_points():
    start, end = np.array([[0.0, 0, 0]]), np.array([[0.0, 0, 200.0]])
    obs = np.array([[30.0, 0, 100.0], [10.0, 5.0, -80.0], [0.0, 20.0, 450.0], [500.0, 0, 0], [3.0, 0, 150.0]])
    line = kernels.line_source(start, end, obs, SIGMA, 1.0)[:, 0]
    t = (np.arange(20000) + 0.5) / 20000
    pts = start + t[:, None] * (end - start)
    pts_sum = kernels.point_source(pts, obs, SIGMA, 1e-9).mean(axis=1)
    np.testing.assert_allclose(line, pts_sum, rtol=1e-5)
    # zero length falls back to a point; far away it looks like a point
    assert kernels.line_source(start, start, obs[:1], SIGMA, 1.0)[0, 0] == pytest.approx(
        kernels.point_source(start, obs[:1], SIGMA, 1.0)[0, 0])
    far = np.array([[5000.0, 0, 100.0]])
    assert kernels.line_source(start, end, far, SIGMA, 1.0)[0, 0] == pytest.approx(
        kernels.point_source(np.array([[0, 0, 100.0]]), far, SIGMA, 1.0)[0, 0], rel=1e-4)


def test_line_source_clamps_perpendicular_distance():
    start, end = np.array([[0.0, 0, 0]]), np.array([[0.0, 0, 100.0]])
    on_axis = kernels.line_source(start, end, np.array([[0.0, 0, 50.0]]), SIGMA, 2.0)
    at_radius = kernels.line_source(start, end, np.array([[2.0, 0, 50.0]]), SIGMA, 2.0)
    assert np.isfinite(on_axis).all() and on_axis[0, 0] == pytest.approx(at_radius[0, 0])


@pytest.mark.parametrize("dz", [0.0, 40.0, 300.0, -120.0])
def test_disc_on_axis_equals_integrated_points(dz):
    radius = 250.0
    nodes, weights = np.polynomial.legendre.leggauss(400)
    rho = 0.5 * radius * (nodes + 1)
    w = 0.5 * radius * weights * 2 * rho / radius**2            # ring of radius rho carries 2 rho d rho / R^2
    pts = np.stack([rho, np.zeros_like(rho), np.zeros_like(rho)], 1)
    phi_pts = kernels.point_source(pts, np.array([[0.0, 0.0, dz]]), SIGMA, 1e-9) @ w
    disc = kernels.disc_source(np.array([0.0]), np.array([dz]), SIGMA, radius)[0, 0]
    assert disc == pytest.approx(phi_pts[0], rel=1e-6)
    assert disc == pytest.approx(1e3 / (2 * SIGMA * math.pi * radius**2) * (math.hypot(dz, radius) - abs(dz)))


def test_grad_flows_through_kernels_to_source_positions(x64):
    obs = jnp.array([[0.0, 0.0, 500.0]])

    def phi(z):
        src = jnp.stack([jnp.zeros(1), jnp.zeros(1), z], axis=1)
        return kernels.point_source(src, obs, SIGMA, 1.0, xp=jnp)[0, 0]
    z = jnp.array([100.0])
    g = jax.grad(lambda z: phi(z))(z)
    expect = 1e3 / (4 * math.pi * SIGMA) / 400.0**2            # d/dz of 1/(500 - z)
    assert float(g[0]) == pytest.approx(expect, rel=1e-10)


def test_grad_flows_through_the_field_to_the_source_calibration():
    cfg = (jtfne.configuration().network(n=30, seed=2)
           .source(calibration_nA_per_native=0.05, calibration_provenance="test value")
           .field("point_source").probe(n_contacts=6, spacing_um=200.0, modes=["LFP"]))
    model = jtfne.construct(cfg)
    sim = jtfne.simulation(20.0, 0.1, 0)
    full = model.full_run(sim)
    params = model.params(0.1)
    key = jax.random.key(0)

    def loss(c):
        p = model.apply_tunables(params, {"source.calibration_nA_per_native": c})
        return jnp.sum(full(p, key)[1]["LFP"] ** 2)
    c = jnp.float32(0.05)
    value, grad = jax.value_and_grad(loss)(c)
    assert float(value) > 0
    assert float(grad) == pytest.approx(2.0 * float(value) / 0.05, rel=1e-3)   # LFP is linear in c


def test_physical_amplitude_needs_calibrated_sources():
    base = jtfne.configuration().network(n=20).field("line_source")
    native = jtfne.construct(base)
    assert native.truth["physical_amplitude_claim_allowed"] is False
    assert native.units()["LFP"].startswith("relative")
    calibrated = jtfne.construct(base.source(calibration_nA_per_native=0.1, calibration_provenance="assumed"))
    assert calibrated.truth["physical_amplitude_claim_allowed"] is True
    assert calibrated.units()["LFP"] == "uV" and calibrated.units()["CSD"] == "uA/mm^3"
    obj = jtfne.objective("amp").loss("lfp", 5.0, metric="lfp_abs_mean", units="uV")
    jtfne.construct(base.source(calibration_nA_per_native=0.1, calibration_provenance="assumed").objective(obj))
    with pytest.raises(jtfne.IncompatibleStagesError, match="field 'line_source' provides amplitude = 'relative'"):
        jtfne.construct(base.objective(obj))


def test_simulated_field_equals_kernel_sum(small_cfg):
    model = jtfne.construct(small_cfg.field("line_source", segment_length_um=80.0, r_min_um=2.0))
    sig = model.simulate(jtfne.simulation(20.0, 0.1, 0))
    src = model.source_positions_um
    half = np.array([0, 0, 40.0])
    m = kernels.line_source(src - half, src + half, model.contact_positions_um, SIGMA, 2.0)
    expect = np.asarray(sig["sources"], np.float64) @ m.T
    np.testing.assert_allclose(sig["LFP"], expect, atol=2e-6 * np.abs(expect).max())


@pytest.mark.parametrize("modes", [["spikes", "LFP", "CSD"], ["LFP", "CSD", "sources"]],
                         ids=["projected", "direct"])
def test_conductivity_scale_is_a_tunable_equal_to_building_the_field_at_that_conductivity(modes):
    """field.sigma_scale = 2 on sigma 0.3 S/m gives the LFP of a field built at 0.6 S/m (the
    potential ~ 1/sigma) and leaves the CSD unchanged (sigma x curvature), in both readout
    paths; cmaes recovers the scale from an LFP amplitude target."""
    import jaxfne as jtfne
    sim = jtfne.simulation(50.0, 0.1, 0)

    def model(sigma):
        return jtfne.construct(jtfne.configuration().network(n=60, seed=1)
                               .field("point_source", sigma_S_per_m=sigma).probe(modes=modes, n_contacts=8))
    base = model(0.3)
    assert base.tunables()["field.sigma_scale"] == (1.0, 0.1, 10.0, "log")
    scaled = base.with_tuned({"field.sigma_scale": 2.0}).simulate(sim)
    built = model(0.6).simulate(sim)
    ref = np.asarray(built["LFP"], np.float64)
    np.testing.assert_allclose(np.asarray(scaled["LFP"], np.float64), ref, rtol=1e-5, atol=1e-6 * np.abs(ref).max())
    np.testing.assert_allclose(np.asarray(scaled["CSD"]), np.asarray(base.simulate(sim)["CSD"]), rtol=1e-6)
    if modes[0] == "spikes":
        target = float(np.abs(ref).mean())
        obj = jtfne.objective("amp").loss("lfp", target=target, metric="lfp_abs_mean")
        _, rep = base.tune(obj, "cmaes", max_evaluations=60, tunables=["field.sigma_scale"], sim=sim)
        assert rep.best["field.sigma_scale"] == pytest.approx(2.0, rel=0.02)
