"""Paradigms, stimulus drives, layered columns, trial batches and the task run."""
import json

import attrs
import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_core.cli import main
from jaxfne_tasks.paradigm import Paradigm, global_local_oddball, standard_visual_omission
from jaxfne_tasks.stimulus import drive_inputs

LAYERS = [{"name": "L23", "top_um": 100.0, "bottom_um": 600.0, "populations": {"E": 20, "PV": 5}},
          {"name": "L4", "top_um": 600.0, "bottom_um": 900.0, "populations": {"E": 15, "PV": 5}},
          {"name": "L56", "top_um": 900.0, "bottom_um": 1500.0, "populations": {"E": 10, "SST": 5}}]
FF = {"name": "ff", "events": ["p1", "p2", "p3", "p4"], "targets": ["L4"], "amplitude": 10.0}


def layered(**task):
    return (jtfne.configuration().network(n=60, layers=LAYERS, p_between_layers=0.02)
            .task("standard_visual_omission", **{"drives": [FF], **task})
            .probe(sample_interval_ms=1.0, modes=["spikes", "LFP", "CSD"]))


def test_omission_paradigm_matches_the_reference():
    p = standard_visual_omission()
    assert p.condition_names() == ["AAAB", "AXAB", "AAXB", "AAAX", "BBBA", "BXBA", "BBXA", "BBBX",
                                   "RRRR", "RXRR", "RRXR", "RRRX"]
    assert len(p.omission_conditions()) == 9
    assert p.event_codes == {"fx": 10, "p1": 101, "p2": 103, "p3": 105, "p4": 107, "rw": 96}
    assert p.analysis_windows == {"baseline": (-500.0, 0.0), "event": (0.0, 500.0), "post_event": (500.0, 1000.0)}
    assert p.condition_of_number(37).name == "RRXR" and p.condition_of_number(44).name == "RRRX"
    assert p.condition("AXAB").omission_position == 2 and p.condition("AXAB").event("p2").omitted
    onsets = {e.name: e.onset_ms - p.condition("AAAB").event("fx").onset_ms for e in p.condition("AAAB").events}
    assert onsets == {"fx": 0, "p1": 100, "p2": 200, "p3": 300, "p4": 400, "rw": 500}   # trial time
    assert Paradigm.from_dict(json.loads(json.dumps(p.to_dict(), allow_nan=False))) == p
    assert len(global_local_oddball().conditions) == 4


def test_omitted_events_inject_nothing_and_fixation_only_if_asked():
    p = standard_visual_omission()
    cfg = jtfne.configuration().task("standard_visual_omission", drives=[FF]).build().task
    full = drive_inputs(cfg.drives, p.condition("AAAB"), p, 20000, 0.1)[:, 0]
    omit = drive_inputs(cfg.drives, p.condition("AXAB"), p, 20000, 0.1)[:, 0]
    t = np.arange(20000) * 0.1
    p2 = (t >= 1100) & (t < 1150)                              # prestim 1000 + onset 100, 50 ms
    assert np.all(full[p2] == 10.0) and np.all(omit[p2] == 0.0)
    assert full.sum() * 0.1 == pytest.approx(4 * 50 * 10.0, rel=1e-3)   # 4 stimuli x 50 ms x 10
    assert np.all(full[(t >= 900) & (t < 1000)] == 0.0)         # fixation not driven
    fx = attrs.evolve(cfg.drives[0], events=("fx",), duration_ms=20.0)
    assert drive_inputs((fx,), p.condition("AAAB"), p, 20000, 0.1)[:, 0].sum() * 0.1 == pytest.approx(200.0, rel=1e-3)


def test_layers_place_cells_and_name_populations():
    model = jtfne.construct(layered())
    c = model.circuit
    assert c.population_names == ("L23_E", "L23_PV", "L4_E", "L4_PV", "L56_E", "L56_SST")
    depth = c.positions_um[:, 2]
    for i, name in enumerate(c.population_names):
        layer = next(la for la in LAYERS if la["name"] == name.split("_")[0])
        assert np.all((depth[c.population == i] >= layer["top_um"]) & (depth[c.population == i] <= layer["bottom_um"]))
    with pytest.raises(jtfne.ConfigError, match="n = 64 but the layers hold 60"):
        jtfne.configuration().network(n=64, layers=LAYERS)
    with pytest.raises(jtfne.ConfigError, match="match no population"):
        jtfne.construct(layered(drives=[{**FF, "targets": ["L1"]}])).run_trials()


def test_validate_checks_the_task(tmp_path, capsys):
    bad = jtfne.config_to_dict(layered(drives=[{**FF, "events": ["p9"]}]).build())
    path = tmp_path / "bad.jcfg.json"
    path.write_text(json.dumps(bad))
    assert main(["validate", str(path)]) == 1
    assert "$.task.drives[0].events: ['p9'] are not events" in capsys.readouterr().err


def test_trial_batch_shapes_drive_and_omission():
    model = jtfne.construct(layered(conditions=["AAAB", "AXAB"], trials_per_condition=2))
    r = model.run_trials()
    assert r.arrays["LFP"].shape == (2, 2, 2000, 16) and r.dt_ms == 1.0 and r.failures == []
    l4 = np.isin(model.circuit.population, [2, 3])
    counts = [r.arrays["spikes"][i][..., l4].sum(axis=(0, 2)).reshape(20, 100).sum(axis=1) for i in range(2)]
    assert counts[0][11] > 2 * counts[0][9]                     # p2 drives L4 in AAAB ...
    assert counts[1][11] < 0.5 * counts[0][11]                  # ... and not in AXAB (omitted)


def test_trials_equal_sequential_runs():
    """Each trial run alone equals its run in a batch of one, bit for bit (same key, inputs and
    compiled code); larger batches change XLA's vectorisation, so they agree to float32
    round-off at first and statistically after chaotic divergence."""
    model = jtfne.construct(layered(conditions=["AAAB", "AXAB"], trials_per_condition=2, trial_ms=400.0))
    one_by_one = model.run_trials(attrs.evolve(model.config.task, chunk_size=1))
    for ci, c in enumerate(("AAAB", "AXAB")):
        for k in range(2):
            alone = model.simulate_trial(c, k)
            for mode in ("spikes", "LFP"):
                np.testing.assert_array_equal(alone[mode], one_by_one.arrays[mode][ci, k])
    batched = model.run_trials()
    np.testing.assert_allclose(batched.arrays["LFP"][:, :, :5], one_by_one.arrays["LFP"][:, :, :5], rtol=1e-3, atol=1e-3)
    rate = lambda r: r.arrays["spikes"].mean()
    assert rate(batched) == pytest.approx(rate(one_by_one), rel=0.1)


def test_a_failed_trial_is_reported_and_others_kept():
    from jaxfne_core.model import Model
    model = jtfne.construct(layered(conditions=["AAAB"], trials_per_condition=2, trial_ms=100.0))
    broken = Model(model.pipeline, model.circuit, {"emitter.drive.L4_E": float("nan")})
    r = broken.run_trials()
    assert len(r.failures) == 2 and r.failures[0]["population"] == "L4_E"
    healthy = jtfne.construct(layered(conditions=["AAAB"], trials_per_condition=2, trial_ms=100.0)).run_trials()
    assert healthy.failures == []


def test_task_run_writes_conditions_spectra_flip_and_figures(tmp_path):
    cfg = jtfne.config_to_dict(layered(conditions=["AAAB", "AXAB"], trials_per_condition=2).build())
    path = tmp_path / "task.jcfg.json"
    path.write_text(json.dumps(cfg))
    out = tmp_path / "run"
    assert main(["run", str(path), "--out", str(out)]) == 0
    files = {p.name for p in out.iterdir()}
    assert {"receipt.json", "summary.json", "spectral.json", "conditions"} <= files
    data = np.load(out / "conditions" / "AXAB.npz")
    assert data["LFP"].shape == (2, 2000, 16) and data["population_rate_hz"].shape == (2, 2000, 6)
    spectral = json.loads((out / "spectral.json").read_text())
    assert "found" in spectral["flip"] and len(spectral["relative_power"]) == 16
    assert main(["run", str(path), "--out", str(tmp_path / "x"), "--duration-ms", "50"]) == 1   # not silently ignored
    pytest.importorskip("matplotlib")
    assert {"relative_power.png", "csd_by_condition.png"} <= files
