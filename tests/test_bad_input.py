"""Bad input is refused before any work: exit 1, the JSON path (or flag), the value and what is
allowed; never a traceback, never silent acceptance (the cases the hardening issue measured)."""
import copy
import json
import os
from pathlib import Path

import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_core.cli import main
from jaxfne_core.config import load_config
from jaxfne_core.errors import ConfigError, JaxfneError

ROOT = Path(__file__).resolve().parent.parent
V1 = json.loads((ROOT / "examples" / "v1_laminar_column.jcfg.json").read_text())
OMISSION = json.loads((ROOT / "examples" / "omission_column.jcfg.json").read_text())
FV = json.loads((ROOT / "examples" / "v1_column_layered_conductivity.jcfg.json").read_text())


def mutate(base, path, value):
    cfg = copy.deepcopy(base)
    node = cfg
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return cfg


# (case id, config, text the message must hold: the path)
CASES = [
    ("modes empty", mutate(V1, ["probe", "modes"], []), "$.probe.modes"),
    ("gate threshold string", mutate(V1, ["objective", "terms", 1, "threshold"], "200"), "$.objective.terms[1].threshold"),
    ("reversed window", mutate(V1, ["objective", "terms", 0, "time_window_ms"], [100, 50]), "time_window_ms"),
    ("contact slice reversed", mutate(V1, ["objective", "terms", 0, "contacts"], [8, 2]), "contacts"),
    ("negative noise per population", mutate(V1, ["emitter", "noise_sigma_by_population"], {"E": -1.0}),
     "$.emitter.noise_sigma_by_population"),
    ("huge receptor offset", mutate(V1, ["source", "offset_um"], {"AMPA": 1e9}), "$.source.offset_um"),
    ("huge receptor tau", mutate(V1, ["source", "tau_ms"], {"AMPA": 1e300}), "$.source.tau_ms"),
    ("sigma 1e300", mutate(V1, ["field", "sigma_S_per_m"], 1e300), "$.field.sigma_S_per_m"),
    ("sigma 1e-300", mutate(V1, ["field", "sigma_S_per_m"], 1e-300), "$.field.sigma_S_per_m"),
    ("grid step 1e6 um", mutate(FV, ["field", "dz_um"], 1e6), "$.field.dz_um"),
    ("grid step 1e-4 um", mutate(FV, ["field", "dz_um"], 1e-4), "$.field.dz_um"),
    ("probe outside the column", mutate(V1, ["probe", "top_um"], 1e5), "$.probe.top_um"),
    ("one-contact CSD", mutate(V1, ["probe", "n_contacts"], 1), "$.probe.n_contacts"),
    ("sample interval mismatch", mutate(V1, ["probe", "sample_interval_ms"], 0.3), "sample"),
    ("sample interval 1e308 (found by fuzzing)", mutate(OMISSION, ["probe", "sample_interval_ms"], 1e308),
     "$.probe.sample_interval_ms"),
    ("seed float", mutate(V1, ["simulation", "seed"], 1.5), "$.simulation.seed"),
    ("seed negative", mutate(V1, ["simulation", "seed"], -1), "$.simulation.seed"),
    ("n float", mutate(V1, ["network", "n"], 400.0), "$.network.n"),
    ("thickness absurd", mutate(V1, ["network", "thickness_um"], 1e12), "$.network.thickness_um"),
    ("unknown key", mutate(V1, ["probe", "spacing"], 10), "$.probe.spacing"),
    ("lone surrogate", mutate(V1, ["network", "name"], "V\ud8001"), "$.network.name"),
    ("overlapping layers", mutate(OMISSION, ["network", "layers", 1, "top_um"],
                                  OMISSION["network"]["layers"][0]["bottom_um"] - 50), "$.network.layers"),
    ("unknown layer cell type", mutate(OMISSION, ["network", "layers", 0, "populations"], {"Q": 10}), "$.network"),
]


@pytest.mark.parametrize("case,cfg,where", CASES, ids=[c[0] for c in CASES])
def test_bad_config_is_refused_by_validate_and_run(case, cfg, where, tmp_path, capsys):
    path = tmp_path / "bad.jcfg.json"
    path.write_text(json.dumps(cfg, ensure_ascii=True))
    assert main(["validate", str(path)]) == 1, case
    err = capsys.readouterr().err
    assert where in err and "Traceback" not in err, err
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--no-figures"]) == 1, case
    assert not out.exists()


RAW = {
    "duplicate key hiding dt_ms": ('{"simulation": {"dt_ms": -1, "dt_ms": 0.1}}', "$.simulation.dt_ms"),
    "1e400 in drive": ('{"emitter": {"kind": "izhikevich", "drive": {"E": 1e400}}}', "overflows"),
    "NaN": ('{"simulation": {"duration_ms": NaN}}', "NaN is not allowed"),
    "deep nesting": ("[" * 100000 + "]" * 100000, "nested deeper"),
    "not JSON": ('{"network": ', "not valid JSON"),
}


@pytest.mark.parametrize("case", sorted(RAW))
def test_bad_config_text_is_refused(case, tmp_path, capsys):
    text, where = RAW[case]
    path = tmp_path / "bad.jcfg.json"
    path.write_text(text)
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert where in err and "Traceback" not in err, err


def test_config_files_that_are_not_files(tmp_path, capsys):
    (tmp_path / "latin1.jcfg.json").write_bytes('{"network": {"name": "Gr\xfc\xdfe"}}'.encode("latin-1"))
    loop = tmp_path / "loop.jcfg.json"
    os.symlink(loop, loop)
    for path in (tmp_path, tmp_path / "latin1.jcfg.json", loop, tmp_path / "absent.jcfg.json"):
        assert main(["validate", str(path)]) == 1, path
    err = capsys.readouterr().err
    assert "is a folder" in err and "not UTF-8" in err and "cannot be read" in err and "no such file" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("flags,where", [(["--duration-ms", "-5"], "--duration-ms"),
                                         (["--duration-ms", "nan"], "--duration-ms"),
                                         (["--duration-ms", "20.05"], "--duration-ms"),
                                         (["--seed", "-1"], "--seed"), (["--seed", "1.5"], "--seed")])
def test_bad_command_line_values(flags, where, tmp_path, capsys):
    code = main(["run", str(ROOT / "examples" / "minimal_column.jcfg.json"), "--out", str(tmp_path / "o"), *flags])
    assert code == 1
    err = capsys.readouterr().err
    assert where in err and "Traceback" not in err


def test_python_api_checks_types_at_the_boundary():
    model = jtfne.construct(jtfne.configuration().network(n=np.int64(20)).probe(n_contacts=np.int32(4)))
    assert model.n_cells == 20
    sim = jtfne.simulation(np.float32(5.0), 0.1, np.uint32(3))
    assert sim.seed == 3 and type(sim.seed) is int
    for bad in (dict(seed=1.5), dict(seed=-1), dict(duration_ms=float("nan")), dict(duration_ms=20.05)):
        with pytest.raises(ConfigError):
            jtfne.simulation(**{"duration_ms": 10.0, **bad})
    for seeds, where in (([0.5], "seeds[0]"), ("01", "seeds"), ([], "seeds"), ([-1], "seeds[0]"),
                         ([True], "seeds[0]"), (5, "seeds")):
        with pytest.raises(ConfigError, match=where.replace("[", r"\[")):
            model.simulate_batch(jtfne.simulation(5.0), seeds=seeds)
    batch = model.simulate_batch(jtfne.simulation(5.0), seeds=np.array([1, 2]))
    assert np.asarray(batch["spikes"]).shape[0] == 2
    with pytest.raises(ConfigError, match="modes"):
        jtfne.configuration().probe(modes=[])
    with pytest.raises(JaxfneError):
        model.simulate("100 ms")
    with pytest.raises(JaxfneError):
        jtfne.construct({"network": "not a section"})


def test_questionable_geometry_is_a_receipt_warning(tmp_path):
    cfg = mutate(V1, ["probe", "top_um"], -500.0)           # the top contacts sit above the pia
    cfg["network"]["n"] = 40
    path = tmp_path / "c.jcfg.json"
    path.write_text(json.dumps(cfg))
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--duration-ms", "5", "--no-figures"]) == 0
    receipt = json.loads((tmp_path / "o" / "receipt.json").read_text())
    assert any("outside the column" in w for w in receipt["warnings"])
    assert load_config(path).probe.options.top_um == -500.0


def test_a_probe_far_from_the_cells_is_warned_about_from_the_circuit_itself():
    """The lateral check measures the cells the emitter built (not a network option): a shank
    600 um beyond the farthest cell is warned about, one 400 um beyond is not."""
    def model(x_um):
        return jtfne.construct(jtfne.configuration().network(n=40, radius_um=100.0)
                               .probe("multi_shank", shanks=[[0.0, 0.0], [x_um, 0.0]], n_contacts=4).build())
    near = model(0.0)
    extent = float(np.hypot(*near.circuit.positions_um[:, :2].T).max())
    assert 0 < extent <= 100.0
    far = [w for w in model(extent + 600.0).warnings if "beyond the farthest cell" in w]
    assert len(far) == 1 and far[0].startswith("4 contacts") and f"({extent:.0f} um)" in far[0]
    assert not [w for w in model(extent + 400.0).warnings if "beyond the farthest cell" in w]


def _runaway_config(tmp_path, **emitter):
    cfg = copy.deepcopy(V1)
    cfg["network"]["n"] = 40
    cfg["emitter"].update(emitter)
    path = tmp_path / "runaway.jcfg.json"
    path.write_text(json.dumps(cfg))
    return path


@pytest.mark.parametrize("emitter", [{"noise_sigma": 1e30}, {"drive": {"E": -1e38, "PV": -1e38, "SST": -1e38}},
                                     {"drive": {"E": 1e30}}])
def test_runaway_runs_are_reported_and_can_be_made_an_error(emitter, tmp_path, capsys):
    path = _runaway_config(tmp_path, **emitter)
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--duration-ms", "10", "--no-figures"]) == 0
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert any(w.startswith("runaway activity") for w in summary["warnings"])
    assert main(["run", str(path), "--out", str(tmp_path / "o2"), "--duration-ms", "10", "--no-figures",
                 "--fail-on-runaway"]) == 2
    assert not (tmp_path / "o2").exists() and "Traceback" not in capsys.readouterr().err


def test_non_finite_field_output_names_stage_time_and_contact():
    cfg = (jtfne.configuration().network(n=64, weight_exc=3e38)
           .source("exponential", calibration_nA_per_native=0.1, calibration_provenance="test")
           .field("line_source").probe(n_contacts=8))
    with pytest.raises(jtfne.SimulationDivergedError, match=r"field 'line_source': (LFP|CSD) became non-finite "
                       r"at t = [\d.]+ ms \(sample \d+\) on contact \d+ \(depth [\d.]+ um\)"):
        jtfne.construct(cfg).simulate(jtfne.simulation(50.0))


@pytest.mark.parametrize("network,field", [({"n": 200_000, "p_connect": 0.1}, None),
                                           ({"n": 2_000_000, "p_connect": 0.1, "connectivity": "dense"}, None),
                                           ({"n": 40}, "fv")])
def test_allocations_that_cannot_fit_are_refused_first(network, field, monkeypatch):
    from jaxfne_core import memory
    monkeypatch.setattr(memory, "available_bytes", lambda: 2 * 2**30)        # a 2 GiB machine
    cfg = jtfne.configuration().network(**network)
    if field == "fv":
        cfg = (cfg.source("exponential", calibration_nA_per_native=0.1, calibration_provenance="test")
               .field("laminar_fv", dz_um=0.05))
    with pytest.raises(jtfne.InsufficientMemoryError, match=r"needs [\d.]+ GiB, but 2.00 GiB is available"):
        jtfne.construct(cfg).params(0.1)


def test_a_non_finite_objective_value_is_named_in_the_report():
    from jaxfne_core.signals import Signals
    model = jtfne.construct(jtfne.configuration().network(n=30).probe(n_contacts=4, modes=["spikes", "LFP"]))
    sig = model.simulate(jtfne.simulation(20.0))
    lfp = np.asarray(sig["LFP"]).copy()
    lfp[3, 1] = np.nan                                     # signals from elsewhere (a file, a plugin)
    broken = Signals({**sig.arrays, "LFP": lfp}, sig.dt_ms, sig.units, sig.context)
    obj = (jtfne.objective().loss("lfp", target=1.0, metric="lfp_abs_mean")
           .loss("rate", target=5.0, metric="spike_rate_hz"))
    report = model.evaluate(broken, obj)
    assert report.evaluation_status == "non_finite" and len(report.problems) == 1
    assert "objective term 'lfp' (loss, metric 'lfp_abs_mean')" in report.problems[0]
    assert json.loads(json.dumps(report.to_dict()))["problems"] == list(report.problems)
    assert model.evaluate(sig, obj).evaluation_status == "computed"
