"""The projected field readout (per-presynaptic-cell rows, O(spikes x contacts) a step) gives
the same LFP and CSD as applying the field to the transmembrane currents every step."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_bridges.compartments import CompartmentSource
from jaxfne_core.errors import UsageError
from jaxfne_core.model import Model
from jaxfne_core.stages import ProjectingSource
from jaxfne_fields.laminar_proxy import LaminarProxyField

SIM = jtfne.simulation(150.0, 0.1, 2)


def model(field, modes, receptors=False, surrogate=None):
    b = (jtfne.configuration().network(n=300, p_connect=0.1, seed=4, connectivity="event")
         .emitter(preset="cortical_eig", surrogate_slope=surrogate)
         .probe(n_contacts=8, spacing_um=100.0, modes=modes))
    kw = dict(calibration_nA_per_native=0.2, calibration_provenance="test scale")
    b = b.source("receptor_exponential", **kw) if receptors else b.source("exponential", **kw)
    return jtfne.construct(b.field(field) if field != "laminar_proxy" else b)


def compare(a, b):
    for m in ("LFP", "CSD"):
        x, y = np.asarray(a[m], np.float64), np.asarray(b[m], np.float64)
        assert np.abs(x - y).max() <= 1e-4 * np.abs(y).max(), m


@pytest.mark.parametrize("field,receptors", [("point_source", False), ("line_source", True), ("laminar_proxy", False)])
def test_projected_equals_applied(field, receptors):
    fast = model(field, ["spikes", "LFP", "CSD"], receptors)
    slow = model(field, ["spikes", "LFP", "CSD", "sources"], receptors)    # sources: no projection
    assert "projection" in fast.params(0.1) and "projection" not in slow.params(0.1)
    a, b = fast.simulate(SIM), slow.simulate(SIM)
    np.testing.assert_array_equal(np.asarray(a["spikes"]), np.asarray(b["spikes"]))
    assert np.asarray(b["spikes"]).sum() > 100
    compare(a, b)


def test_projected_equals_applied_with_tuned_gains_and_time_constants():
    values = {"source.gain_exc": 1.6, "source.gain_inh": 0.7, "source.tau_ms.exc": 3.0,
              "source.calibration_nA_per_native": 0.35, "source.gain_from.PV": 1.3}
    fast, slow = (model("point_source", modes) for modes in (["spikes", "LFP", "CSD"], ["spikes", "LFP", "CSD", "sources"]))
    fast, slow = (Model(m.pipeline, m.circuit, tuned=values) for m in (fast, slow))
    compare(fast.simulate(SIM), slow.simulate(SIM))


def test_projected_with_surrogate_float_spikes_and_batches():
    fast = model("point_source", ["spikes", "LFP", "CSD"], surrogate=1.0)
    slow = model("point_source", ["spikes", "LFP", "CSD", "sources"], surrogate=1.0)
    compare(fast.simulate_batch(SIM, seeds=[0, 1]), slow.simulate_batch(SIM, seeds=[0, 1]))


def test_default_readout_matrix_is_the_field_operator():
    """Field.readout_matrix's default (reverse-mode rows of apply) equals the stored matrix."""
    m = model("laminar_proxy", ["LFP"])
    field = m.pipeline.field
    params = m.params(0.1)["field"]
    n_sources = m.source_positions_um.shape[0]
    default = super(LaminarProxyField, field).readout_matrix(params, n_sources)
    np.testing.assert_allclose(default, field.readout_matrix(params, n_sources), rtol=1e-6, atol=1e-9)
    i = jax.random.normal(jax.random.key(0), (n_sources,))
    f = field.apply(params, i)
    np.testing.assert_allclose(default @ np.asarray(i), np.concatenate([f["LFP"], f["CSD"]]), rtol=1e-4, atol=1e-4)
    assert isinstance(field, LaminarProxyField) and jnp.asarray(default).shape[0] == 2 * 8


def test_sources_without_a_projection_refuse_the_projected_step():
    source = CompartmentSource()
    assert not isinstance(source, ProjectingSource) and not hasattr(source, "step_projected")
    with pytest.raises(UsageError, match="reads the emitter's membrane currents"):
        source.step({}, (), None)


@pytest.mark.parametrize("mode", ["LFP", "CSD"])
def test_one_recorded_mode_projects_only_its_rows(mode):
    fast = model("point_source", ["spikes", mode])
    both = model("point_source", ["spikes", "LFP", "CSD"])
    rows = fast.params(0.1)["projection"]["rows"].shape[1]
    assert rows == 8 and both.params(0.1)["projection"]["rows"].shape[1] == 16      # 8 contacts
    a, b = fast.simulate(SIM), both.simulate(SIM)
    assert set(a.arrays) == {"spikes", mode}
    x, y = np.asarray(a[mode], np.float64), np.asarray(b[mode], np.float64)
    assert np.abs(x - y).max() <= 1e-5 * np.abs(y).max()
