"""The template plugin: discovered through its entry point, conformant, used in a pipeline, and
checked against the closed-form LIF firing rate."""
import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_testing import check_entry


def test_installed_plugin_is_discovered_through_its_entry_point():
    registry = jtfne.default_registry()
    assert "template_lif" in registry.names("emitter"), (
        "install the template: pip install -e examples/jaxfne-plugin-template (the README's test command does)")
    entry = registry.get("emitter", "template_lif")
    assert entry.plugin == "lif" and entry.distribution == "jaxfne-lif"


def test_conformance():
    check_entry(jtfne.default_registry().get("emitter", "template_lif"))


def test_lif_drives_a_calibrated_column_to_microvolts():
    cfg = (jtfne.configuration().network(n=60, p_connect=0.1, seed=1)
           .emitter("template_lif", drive=24.0)
           .source("exponential", calibration_nA_per_native=0.1, calibration_provenance="template test")
           .field("line_source").probe(n_contacts=8, spacing_um=150.0, modes=["spikes", "LFP"])
           .simulation(duration_ms=200.0))
    model = jtfne.construct(cfg)
    signals = model.simulate()
    assert signals.units["LFP"] == "uV" and np.abs(np.asarray(signals["LFP"])).max() > 0
    assert 1.0 < signals.summary()["signals"]["spikes"]["mean_rate_hz"] < 200.0


@pytest.mark.parametrize("drive", [22.0, 30.0, 45.0])
def test_single_neuron_rate_matches_the_closed_form(drive):
    """Period T = tau ln((v_rest + I - v_reset) / (v_rest + I - v_thresh)); the discrete
    reset adds at most one step per spike, hence the tolerance."""
    cfg = (jtfne.configuration().network(n=1, p_connect=0.0)
           .emitter("template_lif", drive=drive, noise_sigma=0.0, excitatory_fraction=1.0)
           .probe(modes=["spikes"]).simulation(duration_ms=2000.0, dt_ms=0.01))
    spikes = np.asarray(jtfne.construct(cfg).simulate()["spikes"])[:, 0]
    period = 20.0 * np.log((-70.0 + drive + 65.0) / (-70.0 + drive + 50.0))
    times = np.flatnonzero(spikes) * 0.01
    measured = np.diff(times).mean()
    assert measured == pytest.approx(period, abs=0.011)
