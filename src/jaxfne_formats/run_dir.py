"""A run folder's ``signals.npz``: every recorded array plus the geometry to read it again."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from jaxfne_core.errors import ConfigError
from jaxfne_core.signals import MODES, Signals
from ._context import rebuild_context


def signals_payload(signals: Signals) -> dict:
    """Arrays for ``signals.npz``: the recorded modes, ``time_ms``, cell and contact geometry,
    population names, units (JSON) and ``dt_ms``; :func:`load_run` reads them back."""
    ctx = signals.context.model
    out = {**signals.to_numpy(), "time_ms": signals.time_ms, "dt_ms": np.float64(signals.dt_ms),
           "units_json": np.array(json.dumps(signals.units, sort_keys=True)),
           "contact_positions_um": ctx.contact_positions_um, "cell_positions_um": ctx.cell_positions_um,
           "contact_depth_um": ctx.contact_positions_um[:, 2], "cell_depth_um": ctx.cell_positions_um[:, 2],
           "cell_population": np.asarray(ctx.population), "population_names": np.array(ctx.population_names),
           "claims_json": np.array(json.dumps({k: getattr(v, "value", v) for k, v in ctx.claims.items()},
                                              sort_keys=True))}
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
    modes = [m for m in MODES if m in data]
    dt = float(data["dt_ms"])
    ctx = rebuild_context([str(n) for n in data["population_names"]], data["cell_population"],
                          data["cell_positions_um"], data["contact_positions_um"],
                          json.loads(str(data["claims_json"])), data.get("source_positions_um"),
                          data.get("source_cell"), dt, data["time_ms"].shape[0])
    return Signals({m: data[m] for m in modes}, dt, json.loads(str(data["units_json"])), ctx)
