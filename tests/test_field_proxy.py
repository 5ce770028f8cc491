"""Laminar proxy field: equals an independent NumPy version; gauge and boundary computed."""
import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_core.stages import ProbeGeometry
from jaxfne_fields.laminar_proxy import LaminarProxyField, LaminarProxyOptions


def numpy_proxy(z_src, currents, z_contacts, width, gauge, boundary):
    """Independent implementation, one contact at a time, for (T, S) currents."""
    lfp = np.zeros((currents.shape[0], z_contacts.size))
    for c, zc in enumerate(z_contacts):
        w = np.exp(-0.5 * ((zc - z_src) / width) ** 2)
        lfp[:, c] = currents @ w / w.sum()
    if gauge == "mean_zero":
        lfp = lfp - lfp.mean(axis=1, keepdims=True)
    h = z_contacts[1] - z_contacts[0]
    if boundary == "mean_zero_neumann":
        padded = np.concatenate([lfp[:, :1], lfp, lfp[:, -1:]], axis=1)
    else:
        padded = np.pad(lfp, ((0, 0), (1, 1)))
    csd = -(padded[:, 2:] - 2 * padded[:, 1:-1] + padded[:, :-2]) / h**2
    return lfp, csd


@pytest.mark.parametrize("gauge", ["mean_zero", "none"])
@pytest.mark.parametrize("boundary", ["mean_zero_neumann", "dirichlet_zero"])
def test_simulated_proxy_equals_numpy(small_cfg, gauge, boundary):
    model = jtfne.construct(small_cfg.field(gauge=gauge, boundary=boundary, width_um=120.0))
    sig = model.simulate(jtfne.simulation(30.0, 0.1, 0))
    lfp, csd = numpy_proxy(model.source_positions_um[:, 2], np.asarray(sig["sources"], np.float64),
                           model.contact_positions_um[:, 2], 120.0, gauge, boundary)
    scale = np.abs(lfp).max()
    np.testing.assert_allclose(sig["LFP"], lfp, atol=1e-5 * scale)       # float32 matvec round-off
    np.testing.assert_allclose(sig["CSD"], csd, atol=1e-5 * np.abs(csd).max())


def test_gauge_and_neumann_invariants_hold_and_are_reported(small_cfg):
    model = jtfne.construct(small_cfg)
    sig = model.simulate(jtfne.simulation(30.0, 0.1, 0))
    lfp, csd = np.asarray(sig["LFP"], np.float64), np.asarray(sig["CSD"], np.float64)
    assert np.abs(lfp.mean(axis=1)).max() < 1e-6 * np.abs(lfp).max()
    assert np.abs(csd.sum(axis=1)).max() < 1e-5 * np.abs(csd).max()
    diag = model.run_receipt(sig).field_diagnostics
    assert diag["gauge_holds"] is True and diag["neumann_net_zero_holds"] is True


def test_diagnostics_detect_a_broken_gauge():
    field = LaminarProxyField(LaminarProxyOptions())
    lfp = np.random.default_rng(0).normal(size=(50, 8)) + 3.0
    diag = field.diagnostics(lfp, -lfp)
    assert diag["gauge_holds"] is False and diag["neumann_net_zero_holds"] is False


def test_adding_a_constant_to_the_gauge_leaves_csd_unchanged_with_neumann():
    field = LaminarProxyField(LaminarProxyOptions(gauge="none"))
    src = np.stack([np.zeros(20), np.zeros(20), np.linspace(0, 1000, 20)], 1)
    contacts = ProbeGeometry.single_shank(np.stack([np.zeros(6), np.zeros(6), 100 + 150.0 * np.arange(6)], 1), 150.0)
    lfp_op, csd_op = field.matrices(src, contacts, 1000.0)
    # the Neumann second difference annihilates constants: CSD ignores the gauge
    gauged = LaminarProxyField(LaminarProxyOptions(gauge="mean_zero")).matrices(src, contacts, 1000.0)[1]
    np.testing.assert_allclose(csd_op, gauged, atol=1e-12)


def test_multi_shank_gauge_and_csd_act_per_shank():
    cfg = (jtfne.configuration().network(n=40, seed=1)
           .probe("multi_shank", shanks=[[-50.0, 0.0], [50.0, 0.0]], n_contacts=6, spacing_um=200.0,
                  modes=["LFP", "CSD", "sources"]))
    model = jtfne.construct(cfg)
    sig = model.simulate(jtfne.simulation(20.0, 0.1, 0))
    lfp, csd = np.asarray(sig["LFP"], np.float64), np.asarray(sig["CSD"], np.float64)
    for shank in (slice(0, 6), slice(6, 12)):
        assert np.abs(lfp[:, shank].mean(axis=1)).max() < 1e-5 * np.abs(lfp).max()
        assert np.abs(csd[:, shank].sum(axis=1)).max() < 1e-5 * np.abs(csd).max() * 6
    # the depth-only proxy sees two identical shanks
    np.testing.assert_allclose(lfp[:, :6], lfp[:, 6:], atol=1e-6 * np.abs(lfp).max())


def test_tilted_probe_geometry():
    model = jtfne.construct(jtfne.configuration().network(n=5)
                            .probe(n_contacts=4, spacing_um=100.0, top_um=100.0, tilt_deg=60.0))
    pos = model.contact_positions_um
    np.testing.assert_allclose(pos[:, 0], 100.0 * np.arange(4) * np.sin(np.deg2rad(60)), atol=1e-9)
    np.testing.assert_allclose(pos[:, 2], 100.0 + 50.0 * np.arange(4), atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(np.diff(pos, axis=0), axis=1), 100.0)


def test_proxy_units_are_labelled_relative(small_cfg):
    model = jtfne.construct(small_cfg)
    assert model.units()["LFP"].startswith("relative") and "uV" not in model.units()["LFP"]
