"""Receipts (deterministic ids, strict JSON, no overwrite) and the command line."""
import json
import os
from pathlib import Path
import subprocess
import sys

import attrs
import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_core import receipts
from jaxfne_formats import load_run
from jaxfne_core.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "examples" / "v1_laminar_column.jcfg.json")


def test_same_config_and_seed_same_id_and_bit_identical_signals(small_cfg):
    sim = jtfne.simulation(30.0, 0.1, 5)
    ra, rb = (jtfne.construct(small_cfg) for _ in range(2))
    sa, sb = ra.simulate(sim), rb.simulate(sim)
    a, b = ra.run_receipt(sa), rb.run_receipt(sb)
    assert a.receipt_id == b.receipt_id and a.signals_sha256 == b.signals_sha256
    for k in sa.modes:
        np.testing.assert_array_equal(np.asarray(sa[k]), np.asarray(sb[k]))
    other = ra.run_receipt(ra.simulate(jtfne.simulation(30.0, 0.1, 6)))
    assert other.receipt_id != a.receipt_id
    changed = jtfne.construct(small_cfg.network(seed=4))
    assert changed.run_receipt(changed.simulate(sim)).receipt_id != a.receipt_id


def test_receipt_id_ignores_environment(monkeypatch, small_cfg):
    model = jtfne.construct(small_cfg)
    sig = model.simulate(jtfne.simulation(10.0))
    a = model.run_receipt(sig)
    monkeypatch.setattr(receipts, "environment_info", lambda: {"jax_version": "9.9", "devices": ["tpu"]})
    b = model.run_receipt(sig)
    assert a.receipt_id == b.receipt_id and a.environment != b.environment
    assert a.receipt_id == receipts.receipt_id(a.config, 0, a.package_version, a.stages)
    assert receipts.receipt_id(a.config, 0, "0.0.1", a.stages) != a.receipt_id   # package version counts


def test_tuned_values_change_the_id(small_cfg):
    from jaxfne_core.model import Model
    model = jtfne.construct(small_cfg)
    tuned = Model(model.pipeline, model.circuit, {"emitter.drive.E": 4.0})
    sim = jtfne.simulation(10.0)
    assert model.run_receipt(model.simulate(sim)).receipt_id != tuned.run_receipt(tuned.simulate(sim)).receipt_id


def test_save_receipt_is_strict_atomic_and_refuses_overwrite(tmp_path, small_cfg):
    model = jtfne.construct(small_cfg)
    r = model.run_receipt(model.simulate(jtfne.simulation(10.0)))
    path = jtfne.save_receipt(r, tmp_path / "r.json")
    assert json.loads(path.read_text())["receipt_id"] == r.receipt_id
    with pytest.raises(jtfne.OutputExistsError):
        jtfne.save_receipt(r, path)
    jtfne.save_receipt(r, path, overwrite=True)
    bad = attrs.evolve(r, signals_summary={"x": float("nan")})
    with pytest.raises(ValueError):
        jtfne.save_receipt(bad, tmp_path / "bad.json")
    assert not (tmp_path / "bad.json").exists() and len(list(tmp_path.iterdir())) == 1


def test_receipt_from_foreign_signals_is_refused(small_cfg):
    a, b = jtfne.construct(small_cfg), jtfne.construct(small_cfg)
    with pytest.raises(ValueError, match="this model"):
        a.run_receipt(b.simulate(jtfne.simulation(5.0)))


def test_cli_run_writes_receipt_signals_summary(tmp_path):
    out = tmp_path / "run"
    assert main(["run", EXAMPLE, "--out", str(out), "--duration-ms", "50", "--no-figures"]) == 0
    receipt = json.loads((out / "receipt.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    data = np.load(out / "signals.npz")
    assert receipt["receipt_id"] == summary["receipt_id"]
    assert data["LFP"].shape == (500, 16) and "spikes" not in data          # spike times, not the raster
    assert data["spike_cells"].shape == data["spike_times_ms"].shape and data["spike_times_ms"].max() <= 50.0
    assert load_run(out)["spikes"].shape == (500, 400)
    assert receipt["simulation"]["duration_ms"] == 50.0
    assert receipt["truth"]["field_solver_status"] == "volume_conductor_solved"
    assert receipt["truth"]["physical_amplitude_claim_allowed"] is True
    assert summary["units"]["LFP"] == "uV" and summary["units"]["CSD"] == "uA/mm^3"
    assert "C_m = 100 pF" in receipt["config"]["source"]["calibration_provenance"]
    # a second run into the same folder is refused, then allowed with --overwrite
    assert main(["run", EXAMPLE, "--out", str(out), "--duration-ms", "50", "--no-figures"]) == 1
    assert main(["run", EXAMPLE, "--out", str(out), "--duration-ms", "50", "--no-figures",
                 "--overwrite"]) == 0
    again = json.loads((out / "receipt.json").read_text())
    assert again["receipt_id"] == receipt["receipt_id"] and again["signals_sha256"] == receipt["signals_sha256"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]   # no staging left behind


def test_cli_run_writes_figures(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "runs" / "fig"          # parents are created
    assert main(["run", EXAMPLE, "--out", str(out), "--duration-ms", "20"]) == 0
    for name in ("raster.png", "lfp.png", "csd.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_run_nwb_then_plot_and_export_the_folder(tmp_path):
    from jaxfne_formats import load_run, read_nwb, validate_nwb
    out = tmp_path / "run"
    assert main(["run", EXAMPLE, "--out", str(out), "--duration-ms", "300", "--nwb"]) == 0
    for name in ("signals.nwb", "raster.png", "lfp.png", "csd.png", "relative_power.png"):
        assert (out / name).stat().st_size > 1000, name
    assert validate_nwb(out / "signals.nwb") == []
    from_folder = load_run(out)
    np.testing.assert_array_equal(read_nwb(out / "signals.nwb")["LFP"], from_folder["LFP"])
    figs = tmp_path / "figs"
    assert main(["plot", str(out), "--out", str(figs)]) == 0
    assert sorted(p.name for p in figs.iterdir()) == [".jaxfne-output.json", "csd.png", "lfp.png", "raster.png",
                                                      "relative_power.png"]
    assert main(["export", str(out), "--nwb", str(tmp_path / "again.nwb")]) == 0
    assert validate_nwb(tmp_path / "again.nwb") == []
    assert main(["plot", str(tmp_path / "nothing-here")]) == 1


def test_cli_validate(tmp_path, capsys):
    assert main(["validate", EXAMPLE]) == 0
    bad = json.loads(open(EXAMPLE).read())
    bad["emitter"]["preset"] = "cortical"
    bad["probe"]["spacing"] = 10
    f = tmp_path / "bad.jcfg.json"
    f.write_text(json.dumps(bad))
    assert main(["validate", str(f)]) == 1
    err = capsys.readouterr().err
    assert "$.emitter.preset: 'cortical' is not allowed" in err and "$.probe.spacing: unknown key" in err


def test_missing_config_file_is_a_clear_error(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.jcfg.json"), "--out", str(tmp_path / "o")]) == 1
    assert main(["validate", str(tmp_path / "nope.jcfg.json")]) == 1
    assert "nope.jcfg.json: no such file" in capsys.readouterr().err


def test_console_script_entry_point():
    out = subprocess.run([sys.executable, "-m", "jaxfne_core", "validate", EXAMPLE],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "valid" in out.stdout


@pytest.mark.parametrize("path", sorted(str(p) for p in ROOT.glob("examples/*.jcfg.json")))
def test_every_example_validates_and_assembles(path):
    assert main(["validate", path]) == 0


def test_cli_tune_writes_report_receipt_and_history(tmp_path):
    out = tmp_path / "tuned"
    args = ["tune", EXAMPLE, "--out", str(out), "--optimizer", "agsdr", "--steps", "2",
            "--tunables", "emitter.drive.E", "--bounds", "emitter.drive.E:2:8", "--option", "population=3",
            "--no-progress"]
    assert main(args) == 0
    report = json.loads((out / "tune_report.json").read_text())
    receipt = json.loads((out / "receipt.json").read_text())
    assert report["optimizer"] == "agsdr" and report["n_evaluations"] == 1 + 2 * 3
    assert report["lower"] == [2.0] and report["options"]["population"] == 3
    assert receipt["config"]["tuned_parameters"]["emitter.drive.E"] == pytest.approx(report["best"]["emitter.drive.E"])
    assert main(args) == 1                                    # refuses to overwrite
    assert main(["tune", EXAMPLE, "--out", str(tmp_path / "x"), "--option", "population"]) == 1


def test_cli_and_python_api_give_bit_identical_signals(tmp_path):
    """A fresh ``jaxfne run`` process and the Python API agree to the bit (same receipt id and
    signals hash): the CLI no longer applies the vector-width hint unasked."""
    out = tmp_path / "cli"
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAXFNE_XLA_TUNING")}
    subprocess.run([sys.executable, "-m", "jaxfne_core", "run", EXAMPLE, "--out", str(out), "--duration-ms", "50",
                    "--seed", "4", "--no-figures"], check=True, capture_output=True, env=env)
    code = (f"import json, jaxfne as j; from jaxfne_core.config import load_config; "
            f"m = j.construct(load_config({EXAMPLE!r})); s = m.simulate(j.simulation(50.0, 0.1, 4)); "
            f"r = m.run_receipt(s); print(json.dumps([r.receipt_id, r.signals_sha256]))")
    api = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                                    env=env).stdout.strip().splitlines()[-1])
    receipt = json.loads((out / "receipt.json").read_text())
    assert [receipt["receipt_id"], receipt["signals_sha256"]] == api
    assert "xla_cpu_prefer_vector_width" not in receipt["environment"]["xla_flags"]
