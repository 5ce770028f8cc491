"""Probe references (common average, contact, bipolar) and current dipole moments."""
import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_analysis.flip import flip
from jaxfne_analysis.reference import dipole_moment, reference_depths_um, rereference, signals_dipole_moment
from jaxfne_analysis.spectral import laminar_spectrum, relative_power
from jaxfne_core.errors import ConfigError
from jaxfne_fields.csd import standard_csd


def test_references_are_the_stated_linear_maps():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(3, 50, 8))
    np.testing.assert_array_equal(rereference(v), v)
    car = rereference(v, "common_average")
    np.testing.assert_allclose(car.sum(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(rereference(v, "contact:2")[..., 2], 0.0)
    np.testing.assert_allclose(rereference(v, "bipolar"), v[..., 1:] - v[..., :-1])
    assert reference_depths_um([0, 100, 200], "bipolar").tolist() == [50.0, 150.0]
    # a common reference leaves the standard CSD (a second difference) unchanged
    for ref in ("common_average", "contact:5"):
        np.testing.assert_allclose(standard_csd(rereference(v, ref), 100.0), standard_csd(v, 100.0), atol=1e-10)
    for bad in ("laplacian", "contact:9", "contact:x"):
        with pytest.raises(ConfigError, match="reference"):
            rereference(v, bad)


def test_a_dipole_moment_is_sum_of_current_times_position_and_origin_free():
    """Two cells, each a sink 200 um above its soma and the return at the soma: p = I (r_site -
    r_soma) per cell, the same wherever the origin is."""
    i = np.array([[-1.0, -2.0, 1.0, 2.0]])                      # (T=1, S): sites then somata
    pos = np.array([[0, 0, 300.0], [50, 0, 500.0], [0, 0, 500.0], [50, 0, 700.0]])
    cell, population = np.array([0, 1, 0, 1]), np.array([0, 1])
    p = dipole_moment(i, pos, cell, population, 2)
    np.testing.assert_allclose(p[0, 0], [0, 0, 200.0])          # -1 nA at 300 + 1 nA at 500 (depth grows down)
    np.testing.assert_allclose(p[0, 1], [0, 0, 400.0])
    np.testing.assert_allclose(p[0, 2], p[0, 0] + p[0, 1])
    np.testing.assert_allclose(dipole_moment(i, pos + [10, -20, 30], cell, population, 2), p)


def test_model_signals_give_dipoles_and_referenced_flip():
    cfg = (jtfne.configuration().network(n=60, p_connect=0.1).emitter(noise_sigma=4.0)
           .source("exponential", calibration_nA_per_native=0.1, calibration_provenance="test scale")
           .field("point_source").probe(n_contacts=16, spacing_um=100.0, modes=["sources", "LFP"]))
    model = jtfne.construct(cfg)
    s = model.simulate(jtfne.simulation(60.0, 0.1, 0))
    d = signals_dipole_moment(s)
    assert d.shape == (600, len(model.circuit.population_names) + 1, 3)
    expected = np.asarray(s["sources"], np.float64) @ model.source_positions_um
    np.testing.assert_allclose(d[:, -1], expected, rtol=1e-6, atol=1e-6)
    f, p = laminar_spectrum(rereference(s["LFP"], "bipolar"), 0.1)
    r = flip(relative_power(p), f, 100.0)                       # runs on 15 bipolar channels
    assert p.shape[0] == 15 and (r.goodness is not None) == r.found


@pytest.mark.parametrize("reference", ["common_average", "contact:3"])
def test_probe_reference_equals_the_analysis_rereference_and_keeps_the_csd(reference):
    """probe.reference re-references the recorded LFP exactly as
    jaxfne_analysis.reference.rereference does on the monopolar recording; the CSD is
    unchanged; the receipt's configuration records the reference."""
    import jaxfne as jtfne
    from jaxfne_analysis.reference import rereference
    sim = jtfne.simulation(50.0, 0.1, 0)

    def run(ref):
        cfg = (jtfne.configuration().network(n=60, seed=2).field("line_source")
               .probe(modes=["spikes", "LFP", "CSD"], n_contacts=8, reference=ref))
        model = jtfne.construct(cfg)
        return model, model.simulate(sim)
    _, mono = run("infinity")
    model, refd = run(reference)
    expected = rereference(np.asarray(mono["LFP"], np.float64), reference)
    got = np.asarray(refd["LFP"], np.float64)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())
    np.testing.assert_array_equal(np.asarray(refd["CSD"]), np.asarray(mono["CSD"]))
    assert model.run_receipt(refd).config["probe"]["reference"] == reference


def test_probe_reference_refuses_what_it_cannot_record():
    import jaxfne as jtfne
    with pytest.raises(jtfne.ConfigError, match="rereference"):
        jtfne.configuration().probe(reference="bipolar")
    with pytest.raises(jtfne.ConfigError, match="allowed: 'infinity'"):
        jtfne.configuration().probe(reference="average")
    model = jtfne.construct(jtfne.configuration().network(n=20).field("point_source")
                            .probe(n_contacts=4, reference="contact:9"))
    with pytest.raises(jtfne.ConfigError, match=r"contact:0 \.\. contact:3"):
        model.simulate(jtfne.simulation(10.0))
