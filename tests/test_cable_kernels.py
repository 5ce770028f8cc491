"""The cable source's population-kernel field scheme against its exact per-cell scheme.

With bins so small that every kernel group holds one cell, the scheme is the per-cell cable
written per group: the LFP must agree to float32 round-off (1e-5 of its range). With the
default 50 um depth and radial bins it is an approximation (cells of a bin seen through their
mean field matrix); on this 200-cell column its LFP correlates above 0.99 with the exact one
at every contact (0.9966 measured), and the spikes are the same (the field does not act back).
"""
from __future__ import annotations

import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_core.errors import ConfigError


def _cfg(modes=("spikes", "LFP", "CSD"), **source):
    return (jtfne.configuration().network(kind="cortical_column", n=200, seed=3)
            .emitter(family="izhikevich", preset="cortical_eig")
            .source("cable", synapse_model="conductance", weights_at_mV=-65.0, calibration_nA_per_native=0.1,
                    calibration_provenance="test scale", **source)
            .field(kind="line_source").probe(modes=list(modes))
            .simulation(duration_ms=100.0, dt_ms=0.1).build())


@pytest.fixture(scope="module")
def exact():
    return jtfne.construct(_cfg()).simulate()


@pytest.mark.parametrize("targets", [None, {"AMPA": "depth:0-700"}])
def test_one_cell_per_group_equals_the_per_cell_cable(exact, targets):
    """Both projected paths: one placement per group (its cells' currents summed by segment)
    and, with depth targets, one placement per member (gathered)."""
    extra = {} if targets is None else {"targets": targets}
    if targets is not None:
        exact = jtfne.construct(_cfg(**extra)).simulate()
    model = jtfne.construct(_cfg(field_scheme="population_kernel", kernel_depth_bin_um=1e-3, **extra))
    groups = [int(np.asarray(p["group"]).max()) + 1 for p in model.params(0.1)["source"]["cable"]]
    assert sum(groups) == model.n_cells                           # every cell its own group
    projection = model.params(0.1)["projection"]
    assert ("members" in projection) == (targets is not None) and ("cell_group" in projection) == (targets is None)
    sig = model.simulate()
    assert np.array_equal(np.asarray(sig["spikes"]), np.asarray(exact["spikes"]))
    for mode in ("LFP", "CSD"):
        a, b = np.asarray(exact[mode], np.float64), np.asarray(sig[mode], np.float64)
        assert np.abs(a - b).max() <= 1e-5 * np.abs(a).max(), mode


def test_default_bins_approximate_the_per_cell_field(exact):
    model = jtfne.construct(_cfg(field_scheme="population_kernel"))
    n_groups = sum(int(np.asarray(p["group"]).max()) + 1 for p in model.params(0.1)["source"]["cable"])
    assert n_groups < model.n_cells / 2
    sig = model.simulate()
    a, b = np.asarray(exact["LFP"], np.float64), np.asarray(sig["LFP"], np.float64)
    corr = [np.corrcoef(a[:, c], b[:, c])[0, 1] for c in range(a.shape[1])]
    assert min(corr) > 0.99
    assert np.sqrt(((a - b) ** 2).mean() / (a ** 2).mean()) < 0.1


def test_population_kernel_refuses_per_source_modes_and_stray_options():
    with pytest.raises(ConfigError, match=r"\['dipole', 'sources'\] need each source's current"):
        jtfne.construct(_cfg(modes=("LFP", "sources", "dipole"), field_scheme="population_kernel"))
    with pytest.raises(ConfigError, match="kernel_depth_bin_um.*applies to field_scheme 'population_kernel'"):
        _cfg(kernel_depth_bin_um=20.0)
    with pytest.raises(ConfigError, match="field_scheme"):
        _cfg(field_scheme="mean_field")
