"""A run folder's ``signals.npz``: every recorded array plus the geometry to read it again."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from jaxfne_core.errors import ConfigError
from jaxfne_core.signals import MODES, Signals
from ._context import rebuild_context


def spike_times(raster, time_ms):
    """(cells int32, times ms float64) of a (T, N) spike raster (bool, or counts per row: a
    row's count repeats its time), in time order, then cell order; times are the rows' ends."""
    counts = np.asarray(raster)
    rows, cells = np.nonzero(counts)
    repeat = counts[rows, cells].astype(np.int64)
    return np.repeat(cells, repeat).astype(np.int32), np.repeat(np.asarray(time_ms, np.float64)[rows], repeat)


def spike_raster(cells, times_ms, time_ms, n_cells, dtype):
    """The (T, N) raster of ``dtype`` back from spike times (the inverse of :func:`spike_times`)."""
    rows = np.searchsorted(np.asarray(time_ms), np.asarray(times_ms) - 1e-9)
    counts = np.zeros((len(time_ms), n_cells), np.int64)
    np.add.at(counts, (rows, np.asarray(cells, np.int64)), 1)
    return counts.astype(dtype)


def signals_payload(signals: Signals, raster: bool = False) -> dict:
    """Arrays for ``signals.npz``: the recorded modes, ``time_ms``, cell and contact geometry,
    population names, units (JSON) and ``dt_ms``; :func:`load_run` reads them back. Spikes
    are stored as spike times, ``spike_cells`` (int32) and ``spike_times_ms`` (the end of the
    step or sample they fall in), the dense (T, N) raster ``spikes`` only with ``raster``."""
    ctx = signals.context.model
    arrays = signals.to_numpy()
    if "spikes" in arrays:
        cells, times = spike_times(arrays["spikes"], signals.time_ms)
        arrays.update(spike_cells=cells, spike_times_ms=times, spike_raster_dtype=np.array(arrays["spikes"].dtype.str))
        if not raster:
            del arrays["spikes"]
    out = {**arrays, "time_ms": signals.time_ms, "dt_ms": np.float64(signals.dt_ms),
           "units_json": np.array(json.dumps(signals.units, sort_keys=True)),
           "contact_positions_um": ctx.contact_positions_um, "cell_positions_um": ctx.cell_positions_um,
           "contact_depth_um": ctx.contact_positions_um[:, 2], "cell_depth_um": ctx.cell_positions_um[:, 2],
           "cell_population": np.asarray(ctx.population), "population_names": np.array(ctx.population_names),
           "claims_json": np.array(json.dumps({k: getattr(v, "value", v) for k, v in ctx.claims.items()},
                                              sort_keys=True))}
    if ctx.v_m_cells is not None:
        out["V_m_cells"] = np.asarray(ctx.v_m_cells, np.int64)
    if ctx.source_positions_um is not None:
        out["source_positions_um"] = ctx.source_positions_um
        out["source_cell"] = ctx.source_cell
    return out


def load_run(run_dir) -> Signals:
    """Signals of a ``jaxfne run`` folder (its ``signals.npz``), with cell and contact geometry."""
    path = Path(run_dir) / "signals.npz"
    if not path.is_file():
        raise ConfigError([("run_dir", f"{str(run_dir)!r} has no signals.npz; allowed: a folder "
                            "written by 'jaxfne run'")])
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        missing = [k for k in ("dt_ms", "time_ms", "population_names", "cell_population", "cell_positions_um",
                               "contact_positions_um", "claims_json", "units_json") if k not in data]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ConfigError([("run_dir", f"{str(path)!r} cannot be read ({type(e).__name__}: {e}); allowed: "
                            "the signals.npz a jaxfne run wrote")]) from None
    if missing:
        raise ConfigError([("run_dir", f"{str(path)!r} lacks {', '.join(missing)}; allowed: the signals.npz "
                            "a jaxfne run wrote")])
    if "spikes" not in data and "spike_cells" in data:
        data["spikes"] = spike_raster(data["spike_cells"], data["spike_times_ms"], data["time_ms"],
                                      data["cell_population"].shape[0], np.dtype(str(data["spike_raster_dtype"])))
    modes = [m for m in MODES if m in data]
    dt = float(data["dt_ms"])
    t0 = round(float(data["time_ms"][0]) - dt, 9) if data["time_ms"].size else 0.0
    ctx = rebuild_context([str(n) for n in data["population_names"]], data["cell_population"],
                          data["cell_positions_um"], data["contact_positions_um"],
                          json.loads(str(data["claims_json"])), data.get("source_positions_um"),
                          data.get("source_cell"), dt, data["time_ms"].shape[0], data.get("V_m_cells"), t0)
    return Signals({m: data[m] for m in modes}, dt, json.loads(str(data["units_json"])), ctx, t0_ms=t0)
