"""1-D laminar finite volumes: exact series resistance, second-order convergence, invariants."""
import math

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad

import jaxfne as jtfne
from jaxfne_core.claims import ChargeConservation, check_chain
from jaxfne_fields.laminar_1d import fv_matrix, sigma_profile, solve_neumann_1d


def test_fv_operator_is_symmetric_with_constants_as_null_space():
    sigma = np.linspace(0.1, 0.5, 30)
    a = fv_matrix(sigma, 10.0)
    np.testing.assert_allclose(a, a.T)
    np.testing.assert_allclose(a @ np.ones(30), 0.0, atol=1e-14)
    eig = np.linalg.eigvalsh(a)
    assert abs(eig[0]) < 1e-12 and eig[1] > 1e-6                    # exactly one zero mode


def test_prefix_sum_solution_solves_the_fv_system_and_reports_the_violation():
    rng = np.random.default_rng(0)
    sigma = rng.uniform(0.1, 0.6, 40)
    q = rng.normal(size=40)
    phi, violation = solve_neumann_1d(q, sigma, 5.0)
    assert violation == pytest.approx(q.mean())
    np.testing.assert_allclose(fv_matrix(sigma, 5.0) @ phi, 1e3 * (q - q.mean()), atol=1e-9)
    assert abs(phi.mean()) < 1e-14 * np.abs(phi).max()            # mean-zero gauge (round-off)


def test_two_layer_series_resistance():
    """+I into the top cell, -I out of the bottom: the potential drop is J (L1/s1 + L2/s2)."""
    n, dz, s1, s2, area = 100, 10.0, 0.4, 0.1, 1e4
    sigma = np.where(np.arange(n) < 50, s1, s2)
    q = np.zeros(n)
    q[0], q[-1] = 1.0 / (area * dz), -1.0 / (area * dz)              # 1 nA over the column area
    phi, violation = solve_neumann_1d(q, sigma, dz)
    assert violation == 0.0
    j = 1.0 / area                                                  # nA/um^2 between the ends
    l1, l2 = 49.5 * dz, 49.5 * dz                                   # centre of cell 0 to centre of cell n-1
    expect = 1e3 * j * (l1 / s1 + l2 / s2)
    assert phi[0] - phi[-1] == pytest.approx(expect, rel=1e-12)


def _cosine_problem(n, dtype=np.float64, xp=np):
    length = 1000.0
    sig = lambda z: 0.2 + 0.1 * z / length
    qf = lambda z: math.cos(math.pi * z / length) * 1e-6           # nA/um^3, integrates to zero
    z = (np.arange(n) + 0.5) * length / n
    q = np.cos(np.pi * z / length) * 1e-6
    phi, _ = solve_neumann_1d(xp.asarray(q, dtype), xp.asarray(sig(z), dtype), length / n, xp=xp)
    # exact: J(z) = int_0^z q, phi(z) = -1e3 int_0^z J / sigma, then the gauge of the grid mean
    jz = lambda t: length / math.pi * math.sin(math.pi * t / length) * 1e-6
    exact = np.array([-1e3 * quad(lambda t: jz(t) / sig(t), 0, zi)[0] for zi in z])
    return np.asarray(phi, np.float64), exact - exact.mean()


def test_second_order_convergence_on_a_cosine_source_with_varying_sigma():
    ns = [25, 50, 100, 200]
    errs = []
    for n in ns:
        phi, exact = _cosine_problem(n)
        errs.append(np.abs(phi - exact).max() / np.abs(exact).max())
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all((orders > 1.9) & (orders < 2.1)), (errs, orders)


def test_float32_jax_solve_matches_float64():
    phi32, _ = _cosine_problem(200, np.float32, jnp)
    phi64, _ = _cosine_problem(200)
    assert np.abs(phi32 - phi64).max() < 1e-5 * np.abs(phi64).max()


def test_layers_profile():
    s = sigma_profile(np.array([0.0, 150.0, 400.0, 900.0]), 0.3, [(100.0, 0.5), (800.0, 0.2)])
    np.testing.assert_allclose(s, [0.3, 0.5, 0.5, 0.2])


def test_laminar_fv_requires_charge_conservation():
    from jaxfne_fields.volume_conductor import LaminarFVField, LaminarFVOptions
    field = LaminarFVField(LaminarFVOptions())
    _, problems = check_chain([("source 'leaky'", {"charge_conservation": ChargeConservation.NOT_CONSERVED}, {}),
                               (field.label, field.provides, field.requires())])
    assert len(problems) == 1 and "field 'laminar_fv' requires charge_conservation" in str(problems[0])


def test_laminar_fv_field_with_layers_runs_and_depends_on_sigma(small_cfg):
    sim = jtfne.simulation(20.0, 0.1, 0)
    a = jtfne.construct(small_cfg.field("laminar_fv")).simulate(sim)
    b = jtfne.construct(small_cfg.field("laminar_fv", layers=[[500.0, 0.1]])).simulate(sim)
    assert not np.allclose(a["LFP"], b["LFP"])
    # with uniform sigma a bigger column area spreads the same current thinner: phi ~ 1/area
    c = jtfne.construct(small_cfg.field("laminar_fv", radius_um=1000.0)).simulate(sim)
    np.testing.assert_allclose(np.asarray(c["LFP"]) * 4, a["LFP"], rtol=1e-4, atol=1e-6 * np.abs(a["LFP"]).max())
