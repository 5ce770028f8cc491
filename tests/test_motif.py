"""The spectrolaminar motif in silico (examples/spectrolaminar_motif_column.jcfg.json) and the
pieces it rests on: trial cutting and trial-averaged power (Parseval), the evoked CSD's
earliest sink, the in-scan dipole signal against the dipole of recorded sources, and
pyramidal cells fitted to the pia (tuft_depth_um)."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_analysis.motif import (earliest_sink, epochs, event_times_ms, motif_report, signals_motif_report,
                                   trial_power)
from jaxfne_analysis.reference import signals_dipole_moment
from jaxfne_cells.morphology import apical_reach_um, l5_pyramidal, point, with_apical_reach
from jaxfne_core.errors import ConfigError
from jaxfne_formats import to_xarray

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "spectrolaminar_motif_column.jcfg.json"


def test_trial_power_integrates_to_the_variance_of_a_sine():
    """Parseval: a 40 Hz sine of amplitude 3 has variance 4.5; the one-sided PSD integrates to
    it (Hann leakage stays inside the sum; 1% for the window's edges)."""
    dt = 0.5
    t = np.arange(1000) * dt
    x = 3.0 * np.sin(2 * np.pi * 40.0 * t / 1000.0)[None, :, None] * np.ones((4, 1, 2))
    f, p = trial_power(x, dt)
    assert p.shape == (2, f.size)
    assert np.sum(p[0]) * (f[1] - f[0]) == pytest.approx(4.5, rel=0.01)
    assert f[np.argmax(p[0])] == pytest.approx(40.0)


def test_epochs_start_at_the_first_row_after_each_volley():
    """Row k covers (t0 + k dt, t0 + (k + 1) dt]; a volley at e opens its trial on the first
    row that starts at or after e; trials that leave the recording are dropped."""
    dt, t0 = 1.0, 200.0
    x = (t0 + (np.arange(1000) + 1) * dt)[:, None]            # each row holds its end time
    out = epochs(x, dt, t0, [450.0, 950.5, 1150.0], 0.0, 100.0)
    assert out.shape == (2, 100, 1)                          # 1150 + 100 > 1200: dropped
    assert out[:, 0, 0].tolist() == [451.0, 952.0]
    base = epochs(x, dt, t0, [450.0], -50.0, 60.0)
    assert base[0, 0, 0] == 401.0 and base.shape == (1, 60, 1)
    with pytest.raises(ConfigError, match="no volley"):
        epochs(x, dt, t0, [5000.0], 0.0, 100.0)


def test_earliest_sink_is_the_first_contact_below_threshold():
    csd = np.zeros((100, 12))
    csd[30:, 5] = -1.0              # a sink at channel 5 from 3.1 ms (rows of 0.1 ms)
    csd[10:, 9] = -0.2              # an earlier but sub-threshold dip
    csd[60:, 2] = -5.0              # a later, larger sink
    s = earliest_sink(csd, 0.1, np.arange(12) * 100.0 + 100.0, baseline_sd=0.1, window_ms=10.0)
    assert (s.channel, s.depth_um, s.latency_ms) == (5, 600.0, pytest.approx(3.1))
    none = earliest_sink(np.zeros((100, 4)), 0.1, np.arange(4.0), baseline_sd=0.1)
    assert none.depth_um is None and none.threshold == pytest.approx(0.3)


def test_motif_report_of_a_synthetic_column():
    """Coherent alpha-beta growing with depth and gamma falling with it, in noise: FLIP finds
    the upright motif monopolar and bipolar (the gradients of monotonic profiles keep their
    order), its crossover between the two; the common average of one coherent profile is
    V-shaped (its mean is subtracted), so it is not asserted there."""
    rng = np.random.default_rng(0)
    dt, n, c = 1.0, 3000, 16
    t = np.arange(n) * dt / 1000.0
    depth = np.arange(c) * 100.0 + 100.0
    deep, sup = (depth / 1600.0) ** 2, ((1700.0 - depth) / 1600.0) ** 2
    alpha = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) for f in range(10, 20, 2))
    gamma = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) for f in range(76, 150, 2))
    lfp = alpha[:, None] * deep + 0.3 * gamma[:, None] * sup + 0.05 * rng.standard_normal((n, c))
    rep = motif_report(lfp, dt, 0.0, depth, np.arange(0.0, 2500.0, 500.0), 500.0)
    assert rep.n_trials == 5
    for ref in ("infinity", "bipolar"):
        assert rep.flip[ref].upright, ref
    assert set(rep.flip) == {"infinity", "common_average", "bipolar"}
    assert 400.0 <= rep.crossover_um["infinity"] <= 1100.0


def test_event_times_of_evoked_and_rhythmic_inputs():
    from jaxfne_emitters.inputs import InputSpec
    specs = [InputSpec(name="a", kind="evoked", times_ms=[300.0, 100.0]),
             InputSpec(name="b", kind="rhythmic", start_ms=50.0, stop_ms=260.0, interval_ms=100.0),
             InputSpec(name="c", kind="poisson", rate_hz=5.0)]
    assert event_times_ms(specs).tolist() == [50.0, 100.0, 150.0, 250.0, 300.0]


def test_apical_reach_scaling():
    """hnn-core's L5 cell is 1.9 mm tall; fitted to 900 um its apical sections shrink by one
    factor, the soma, basal dendrites and diameters stay; a point cell has nothing to fit."""
    cell = l5_pyramidal()
    short = with_apical_reach(cell, 900.0)
    assert apical_reach_um(cell) == pytest.approx(1906.5)
    assert apical_reach_um(short) == pytest.approx(900.0)
    apical = np.isin(np.asarray(cell.names), cell.groups["apical"])
    ratio = short.length_um / cell.length_um
    assert np.allclose(ratio[~apical], 1.0) and np.allclose(ratio[apical], ratio[apical][0])
    assert np.array_equal(short.diam_um, cell.diam_um)
    with pytest.raises(ConfigError, match="no apical tree"):
        with_apical_reach(point(), 500.0)
    with pytest.raises(ConfigError, match="does not clear its soma"):
        with_apical_reach(cell, 10.0)


def _small_cable_column(**source):
    return (jtfne.configuration().network(kind="cortical_column", n=60, seed=3)
            .emitter(family="izhikevich", preset="cortical_eig")
            .source("cable", **source).field(kind="line_source").probe(modes=["spikes", "LFP", "dipole", "sources"])
            .simulation(duration_ms=60.0, dt_ms=0.1).build())


def test_tuft_depth_fits_each_population_to_the_pia():
    model = jtfne.construct(_small_cable_column(tuft_depth_um={"E": 60.0}))
    src, c = model.pipeline.source, model.circuit
    for _, cab, cells in src.cables(c):
        if cab.morphology.name.endswith("pyramidal"):
            pops = np.unique(c.population[cells])
            assert pops.size == 1                       # one fitted cable per population
            top = c.positions_um[cells, 2].mean() - cab.segments_um[:, :, 2].max()
            assert top == pytest.approx(60.0, abs=1e-3)       # the reach is kept to 1 nm
    with pytest.raises(ConfigError, match=r"tuft_depth_um.*\['Q'\] match no population"):
        jtfne.construct(_small_cable_column(tuft_depth_um={"Q": 60.0}))
    with pytest.raises(ConfigError, match="not above its mean soma depth"):
        jtfne.construct(_small_cable_column(tuft_depth_um={"E": 5000.0}))


def test_dipole_signal_equals_the_dipole_of_the_recorded_sources():
    """The in-scan ``dipole`` (sources @ a fixed matrix) against
    ``signals_dipole_moment`` of the recorded sources in float64 (float32 round-off)."""
    model = jtfne.construct(_small_cable_column())
    sig = model.simulate()
    d = np.asarray(sig["dipole"], np.float64)
    ref = signals_dipole_moment(sig)
    assert d.shape == ref.shape == (600, len(model.circuit.population_names) + 1, 3)
    assert np.abs(d - ref).max() <= 1e-5 * np.abs(ref).max()
    assert np.allclose(d[:, :-1].sum(axis=1), d[:, -1], rtol=1e-5, atol=1e-6 * np.abs(d).max())
    assert sig.units["dipole"] == "native*um" == sig.units["sources"] + "*um"     # uncalibrated
    ds = to_xarray(sig)
    assert ds["dipole"].dims == ("time", "dipole_population", "component")
    assert list(ds["dipole_population"].values)[-1] == "total" and list(ds["component"].values) == ["x", "y", "depth"]


def _motif(cfg, seed=1):
    cfg = copy.deepcopy(cfg)
    cfg["network"]["seed"] = cfg["simulation"]["seed"] = seed
    model = jtfne.construct(jtfne.config_from_dict(cfg))
    sig = model.simulate()
    return signals_motif_report(sig, event_times_ms(model.pipeline.source.options.inputs))


def test_the_motif_column_shows_the_motif_and_loses_it_without_the_deep_generator():
    """One seed of benchmarks/motif.py (which runs five and both ablations): the upright motif
    under the monopolar, common-average and bipolar references, the crossover at the L2/3-L4
    border, the first sink after the volley in L4; without the deep SST -> pyramid inhibition
    (the alpha-beta generator) FLIP finds no motif."""
    cfg = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    rep = _motif(cfg)
    assert rep.n_trials == 6
    for ref in ("infinity", "common_average", "bipolar"):
        assert rep.flip[ref].upright, (ref, rep.flip[ref])
    assert 600.0 <= rep.crossover_um["infinity"] <= 900.0
    assert 750.0 <= rep.sink.depth_um <= 1050.0 and rep.sink.latency_ms <= 10.0
    n_pop = 11                                            # 4 layers' populations; then the total
    assert rep.evoked_dipole.shape == rep.evoked_csd.shape[:1] + (n_pop + 1,) == (550, 12)
    assert np.allclose(rep.evoked_dipole[:, :-1].sum(axis=1), rep.evoked_dipole[:, -1],
                       atol=1e-4 * np.abs(rep.evoked_dipole).max())
    assert rep.evoked_time_ms[50] == 1.0                  # the first row after the volley ends 1 ms on
    ablated = copy.deepcopy(cfg)
    ablated["network"]["pathways"] = [p for p in cfg["network"]["pathways"]
                                      if not (p["pre"] in ("L5_SST", "L6_SST") and p["post"].endswith("_E"))]
    assert not _motif(ablated).flip["infinity"].found


def test_jaxfne_run_writes_the_motif_figure_and_summary(tmp_path):
    out = tmp_path / "motif"
    proc = subprocess.run([sys.executable, "-m", "jaxfne_core", "run", str(EXAMPLE), "--out", str(out),
                           "--duration-ms", "1500"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["motif"]["n_trials"] == 2
    assert summary["units"]["dipole"] == "nA*um" and summary["units"]["LFP"] == "uV"
    assert set(summary["motif"]["references"]) == {"infinity", "common_average", "bipolar"}
    for name in ("laminar_motif.png", "dipole.png", "relative_power.png", "csd.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG", name
