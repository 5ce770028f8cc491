"""Claim checking at assembly and truth labels derived from claims."""
import pytest

import jaxfne as jtfne
from jaxfne_core.claims import (Amplitude, ChargeConservation, FieldSolver, SourceCalibration,
                                check_chain, physical_amplitude_allowed, truth_labels)


def uv_objective():
    return jtfne.objective("physical").loss("lfp", target=50.0, metric="lfp_abs_mean", units="uV")


def test_uv_objective_on_proxy_field_is_refused_naming_both_stages():
    cfg = jtfne.configuration().network(n=20).objective(uv_objective())
    with pytest.raises(jtfne.IncompatibleStagesError) as e:
        jtfne.construct(cfg)
    msg = str(e.value)
    assert "objective 'physical' requires amplitude = 'uV'" in msg
    assert "field 'laminar_proxy' provides amplitude = 'relative'" in msg


def test_uv_objective_refused_at_evaluate_too():
    model = jtfne.construct(jtfne.configuration().network(n=20))
    sig = model.simulate(jtfne.simulation(duration_ms=5.0))
    with pytest.raises(jtfne.IncompatibleStagesError, match="field 'laminar_proxy'"):
        model.evaluate(sig, uv_objective())


def test_all_problems_are_reported_at_once():
    obj = (jtfne.objective("o").loss("lfp", 1.0, metric="lfp_abs_mean", units="uV")
           .loss("x", 1.0, metric="no_such_metric"))
    cfg = (jtfne.configuration().network(n=20).no_field().probe(modes=["spikes", "LFP"]).objective(obj))
    with pytest.raises(jtfne.IncompatibleStagesError) as e:
        jtfne.construct(cfg)
    msg = str(e.value)
    assert "no field stage" in msg                       # probe mode without a field
    assert "requires amplitude" in msg and "no upstream stage" in msg
    assert "unknown objective 'no_such_metric'" in msg
    assert len(e.value.problems) == 3


def test_metric_mode_must_be_recorded():
    obj = jtfne.objective("o").loss("csd", 1.0, metric="csd_abs_mean")
    cfg = jtfne.configuration().network(n=20).probe(modes=["spikes"]).objective(obj)
    with pytest.raises(jtfne.IncompatibleStagesError, match="needs probe mode 'CSD'"):
        jtfne.construct(cfg)


def test_truth_labels_follow_the_claims():
    proxy = {"source_calibration": SourceCalibration.NATIVE,
             "charge_conservation": ChargeConservation.CONSERVED,
             "field_solver": FieldSolver.PROXY, "amplitude": Amplitude.RELATIVE}
    t = truth_labels(proxy)
    assert t["field_solver_status"] == "laminar_proxy_no_pde"
    assert t["source_projection_mode"] == "proxy_no_field_solve"
    assert t["field_claim_level"] == "proxy_readout_only"
    assert t["source_calibration_status"] == "uncalibrated_izhikevich_native_current"
    assert t["physical_amplitude_claim_allowed"] is False
    physical = {**proxy, "source_calibration": SourceCalibration.NANOAMPERE,
                "field_solver": FieldSolver.VOLUME_CONDUCTOR, "amplitude": Amplitude.MICROVOLT}
    assert physical_amplitude_allowed(physical)
    assert truth_labels(physical)["physical_amplitude_claim_allowed"] is True
    assert truth_labels(physical)["field_solver_status"] == "volume_conductor_solved"
    # any one missing ingredient forbids a physical amplitude
    for claim, value in [("source_calibration", SourceCalibration.NATIVE),
                         ("charge_conservation", ChargeConservation.NOT_CONSERVED),
                         ("field_solver", FieldSolver.PROXY)]:
        assert not physical_amplitude_allowed({**physical, claim: value})


def test_model_truth_is_derived_from_its_stages():
    model = jtfne.construct(jtfne.configuration().network(n=20))
    assert model.truth == truth_labels(model.claims)
    assert model.claims["charge_conservation"] is ChargeConservation.CONSERVED


def test_check_chain_rejects_untyped_claims():
    with pytest.raises(TypeError):
        check_chain([("x", {"amplitude": "uV"}, {})])


def test_an_emitter_in_nA_behind_a_calibrated_source_is_refused_naming_both():
    """Calibration is declared once in the chain: an emitter whose currents are already nA
    cannot be scaled again by the source (8.24 uV silently became 0.824 uV before)."""
    from jaxfne_core.assemble import assemble
    from jaxfne_core.plugins import load_registry, make_plugin_manager
    from jaxfne_emitters.izhikevich import IzhikevichEmitter

    class PhysicalEmitter(IzhikevichEmitter):
        name = "physical_izh"

        def provides(self, upstream):
            return {"source_calibration": SourceCalibration.NANOAMPERE}

    class Plugin:
        @jtfne.hookimpl
        def jaxfne_register_emitters(self, registry):
            registry.add(PhysicalEmitter)

    reg = load_registry(make_plugin_manager(plugins=[("physical", Plugin())]))
    calibrated = (jtfne.configuration(registry=reg).network(n=20).emitter("physical_izh")
                  .source("exponential", calibration_nA_per_native=0.1, calibration_provenance="test"))
    with pytest.raises(jtfne.IncompatibleStagesError) as e:
        assemble(calibrated.build(), reg)
    assert ("source 'exponential' requires source_calibration = 'native'" in str(e.value)
            and "emitter 'physical_izh' provides source_calibration = 'nA'" in str(e.value))
    assemble(calibrated.emitter("izhikevich").build(), reg)                  # native: fine
    assemble(calibrated.source("exponential").build(), reg)                  # no second scale: fine
