"""The reference package's canonical snippet runs unchanged, and every option in it acts."""
import numpy as np
import pytest

import jaxfne as jtfne


def canonical():
    cfg = (
        jtfne.configuration()
        .network(name="V1", kind="cortical_column", n=64)
        .emitter(family="izhikevich", preset="cortical_eig")
        .field(domain="laminar_column", conductivity="proxy", boundary="mean_zero_neumann", gauge="mean_zero")
        .probe(name="laminar_probe", modes=["spikes", "V_m", "CSD", "LFP"])
    )
    model = jtfne.construct(cfg)
    sim = jtfne.simulation(duration_ms=100.0, dt_ms=0.1, seed=0)
    signals = model.simulate(sim)
    receipt = model.run_receipt(signals)
    readout = model.compute_readout(signals, [
        jtfne.readout_spec("rate", "spike_rate_hz"),
        jtfne.readout_spec("csd", "csd_abs_mean"),
    ])
    return cfg, model, signals, receipt, readout


def test_canonical_snippet_runs_and_values_are_consistent():
    cfg, model, signals, receipt, readout = canonical()
    assert signals["spikes"].shape == (1000, 64) and signals["LFP"].shape == (1000, 16)
    spikes = np.asarray(signals["spikes"])
    assert readout["rate"].value == pytest.approx(spikes.sum() / 64 / 0.1, rel=1e-5)
    assert readout["rate"].units == "Hz"
    assert readout["csd"].value == pytest.approx(np.abs(np.asarray(signals["CSD"], np.float64)).mean(), rel=1e-4)
    assert 0 < readout["rate"].value < 200
    assert len(receipt.receipt_id) == 16
    assert receipt.truth["field_solver_status"] == "laminar_proxy_no_pde"
    assert receipt.truth["physical_amplitude_claim_allowed"] is False
    assert receipt.field_diagnostics["gauge_holds"] and receipt.field_diagnostics["neumann_net_zero_holds"]


def test_every_option_of_the_snippet_acts():
    base = jtfne.configuration().network(name="V1", kind="cortical_column", n=64)
    sim = jtfne.simulation(duration_ms=20.0, dt_ms=0.1, seed=0)
    # n acts
    assert jtfne.construct(base).n_cells == 64
    # preset acts: a different preset gives different cell types
    eig = jtfne.construct(base.emitter(family="izhikevich", preset="cortical_eig"))
    rs = jtfne.construct(base.emitter(family="izhikevich", preset="RS"))
    assert eig.circuit.population_names == ("E", "PV", "SST") and rs.circuit.population_names == ("RS",)
    # boundary and gauge act on the recorded signals
    def field_of(**kw):
        m = jtfne.construct(base.field(**kw))
        return m.simulate(sim)
    a = field_of(boundary="mean_zero_neumann", gauge="mean_zero")
    b = field_of(boundary="dirichlet_zero", gauge="mean_zero")
    c = field_of(boundary="mean_zero_neumann", gauge="none")
    assert not np.allclose(a["CSD"], b["CSD"])
    assert np.abs(np.asarray(a["LFP"]).mean(axis=1)).max() < 1e-5 * np.abs(np.asarray(a["LFP"])).max()
    assert np.abs(np.asarray(c["LFP"]).mean(axis=1)).max() > 1e-3 * np.abs(np.asarray(c["LFP"])).max()
    # modes act: only the requested ones are recorded
    only = jtfne.construct(base.probe(name="laminar_probe", modes=["spikes"])).simulate(sim)
    assert only.modes == ("spikes",)
    # name is recorded in the configuration
    assert jtfne.construct(base).config.network.name == "V1"


@pytest.mark.parametrize("section,kwargs,path", [
    ("network", {"kind": "hippocampus"}, "$.network.kind"),
    ("emitter", {"family": "izhikevich", "preset": "cortical"}, "$.emitter.preset"),
    ("field", {"conductivity": 0.3}, "$.field.conductivity"),
    ("field", {"domain": "sphere"}, "$.field.domain"),
    ("probe", {"modes": ["EEG"]}, "$.probe.modes"),
])
def test_options_outside_what_is_built_are_refused(section, kwargs, path):
    with pytest.raises(jtfne.ConfigError) as e:
        getattr(jtfne.configuration(), section)(**kwargs)
    assert path in str(e.value)
