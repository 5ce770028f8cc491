"""Signals in standard formats: run folders, xarray, NWB (schema-valid) and Neo round trips."""
import datetime

import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_formats import (from_neo, from_xarray, load_run, read_nwb, signals_payload, to_neo,
                                 to_xarray, validate_nwb, write_nwb)
from jaxfne_core.io import write_npz_atomic

ALL_MODES = ["spikes", "V_m", "LFP", "CSD", "sources"]


@pytest.fixture(scope="module")
def run():
    cfg = (jtfne.configuration().network(name="fmt", n=30, p_connect=0.1, seed=3)
           .probe(n_contacts=8, spacing_um=150.0, modes=ALL_MODES)
           .field("line_source").source("exponential", calibration_nA_per_native=0.1,
                                        calibration_provenance="test scale")
           .simulation(duration_ms=60.0, dt_ms=0.1, seed=2))
    model = jtfne.construct(cfg)
    signals = model.simulate()
    assert np.asarray(signals["spikes"]).sum() > 0
    return model, signals, model.run_receipt(signals)


def _same(a, b):
    assert sorted(a.arrays) == sorted(b.arrays)
    for k in a.arrays:
        x, y = np.asarray(a[k]), np.asarray(b[k])
        assert x.shape == y.shape, k
        np.testing.assert_array_equal(x.astype(y.dtype) if k == "spikes" else x, y, err_msg=k)
    assert a.dt_ms == b.dt_ms
    assert {k: a.units[k] for k in a.arrays} == {k: b.units[k] for k in a.arrays}
    ca, cb = a.context.model, b.context.model
    np.testing.assert_array_equal(ca.contact_positions_um, cb.contact_positions_um)
    np.testing.assert_array_equal(ca.cell_positions_um, cb.cell_positions_um)
    np.testing.assert_array_equal(ca.population, cb.population)
    assert tuple(ca.population_names) == tuple(cb.population_names)


def test_run_folder_round_trip(run, tmp_path):
    _, signals, _ = run
    write_npz_atomic(tmp_path / "signals.npz", signals_payload(signals))
    _same(signals, load_run(tmp_path))


def test_xarray_round_trip_with_dims_units_and_provenance(run):
    _, signals, receipt = run
    ds = to_xarray(signals, receipt)
    assert ds["LFP"].dims == ("time", "contact") and ds["spikes"].dims == ("time", "neuron")
    assert ds["LFP"].attrs["units"] == "uV" and ds["time"].attrs["units"] == "ms"
    assert receipt.receipt_id in ds.attrs["receipt_json"]
    np.testing.assert_allclose(ds["time"].values, signals.time_ms)
    _same(signals, from_xarray(ds))


def test_nwb_file_is_schema_valid_and_reads_back_the_same_arrays(run, tmp_path):
    _, signals, receipt = run
    path = tmp_path / "run.nwb"
    write_nwb(signals, path, receipt,
              session_start_time=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    assert validate_nwb(path) == []
    back = read_nwb(path)
    _same(signals, back)
    import pynwb
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        lfp = nwb.processing["ecephys"]["LFP"]["LFP"]
        assert lfp.conversion == 1e-6 and lfp.unit == "volts"       # uV stored, volts declared
        assert receipt.receipt_id in nwb.notes and len(nwb.units) == 30
    with pytest.raises(jtfne.OutputExistsError):
        write_nwb(signals, path, receipt)


def test_relative_lfp_is_not_written_as_volts(tmp_path):
    model = jtfne.construct(jtfne.configuration().network(n=20).probe(n_contacts=4, modes=["LFP"])
                            .simulation(duration_ms=10.0))
    signals = model.simulate()
    assert signals.units["LFP"] != "uV"
    write_nwb(signals, tmp_path / "rel.nwb")
    assert validate_nwb(tmp_path / "rel.nwb") == []
    import pynwb
    with pynwb.NWBHDF5IO(str(tmp_path / "rel.nwb"), "r") as io:
        nwb = io.read()
        assert "ecephys" not in nwb.processing and nwb.processing["jaxfne"]["LFP"].unit == signals.units["LFP"]
    _same(signals, read_nwb(tmp_path / "rel.nwb"))


def test_neo_round_trip(run):
    _, signals, receipt = run
    block = to_neo(signals, receipt)
    seg = block.segments[0]
    assert len(seg.spiketrains) == 30
    lfp = next(s for s in seg.analogsignals if s.name == "LFP")
    assert str(lfp.units.dimensionality) == "uV" and float(lfp.sampling_period.rescale("ms")) == 0.1
    _same(signals, from_neo(block))


def test_batched_signals_are_refused_with_a_clear_error(run):
    model, _, _ = run
    batch = model.simulate_batch(jtfne.simulation(duration_ms=5.0), seeds=[0, 1])
    for convert in (to_xarray, lambda s: write_nwb(s, "unused.nwb")):
        with pytest.raises(ValueError, match="one trial"):
            convert(batch)
