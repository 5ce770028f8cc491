"""Figures of a run (needs matplotlib: ``pip install jaxfne[plot]``): spike raster by depth and
population, LFP traces by contact, CSD heat map. Returns PNG bytes."""
from __future__ import annotations

import io

import numpy as np

from .errors import MissingExtraError


def _plt():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtraError("figures need matplotlib: pip install jaxfne[plot]") from None
    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    _plt().close(fig)
    return buf.getvalue()


def raster_png(signals) -> bytes:
    plt = _plt()
    ctx = signals.context.model
    spikes = np.asarray(signals["spikes"])
    t, cell = np.nonzero(spikes)
    depth = ctx.cell_positions_um[:, 2]
    fig, ax = plt.subplots(figsize=(8, 4))
    for i, name in enumerate(ctx.population_names):
        sel = ctx.population[cell] == i
        ax.scatter(signals.time_ms[t[sel]], depth[cell[sel]], s=2, label=name)
    ax.set(xlabel="time (ms)", ylabel="soma depth (um)", title="spikes by depth and population")
    ax.invert_yaxis()
    ax.legend(loc="upper right", markerscale=4, fontsize=8)
    return _png(fig)


def lfp_png(signals) -> bytes:
    plt = _plt()
    lfp = np.asarray(signals["LFP"], np.float64)
    z = signals.context.model.contact_positions_um[:, 2]
    scale = np.abs(lfp).max() or 1.0
    gap = np.diff(z).mean() if z.size > 1 else 1.0
    fig, ax = plt.subplots(figsize=(8, 5))
    for c in range(lfp.shape[1]):
        ax.plot(signals.time_ms, z[c] - 0.8 * gap * lfp[:, c] / scale, lw=0.8, color="k")
    ax.set(xlabel="time (ms)", ylabel="contact depth (um)",
           title=f"LFP by contact [{signals.units.get('LFP', '')}], max |LFP| = {scale:.3g}")
    ax.invert_yaxis()
    return _png(fig)


def csd_png(signals) -> bytes:
    plt = _plt()
    csd = np.asarray(signals["CSD"], np.float64)
    z = signals.context.model.contact_positions_um[:, 2]
    lim = float(np.percentile(np.abs(csd), 99.5)) or 1.0  # robust to the onset transient
    fig, ax = plt.subplots(figsize=(8, 4))
    im = ax.imshow(csd.T, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim,
                   extent=[0, signals.duration_ms, z[-1], z[0]])
    fig.colorbar(im, ax=ax, label=f"CSD [{signals.units.get('CSD', '')}] (red: source, blue: sink)")
    ax.set(xlabel="time (ms)", ylabel="contact depth (um)", title="current source density")
    return _png(fig)


def tune_history_png(report) -> bytes:
    """Every candidate's loss and the best so far, against evaluations."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4))
    n, xs, ys, best = 0, [], [], []
    for h in report.history:
        for loss in h["losses"]:
            n += 1
            if loss is not None and np.isfinite(loss):
                xs.append(n)
                ys.append(loss)
        best.append((n, h["best_loss"]))
    ax.scatter(xs, ys, s=6, alpha=0.4, label="candidates")
    ax.step(*zip(*best), where="post", color="k", label="best so far")
    ax.set(xlabel="evaluations", ylabel="loss", title=f"{report.optimizer}: {report.initial_loss:.4g} -> {report.best_loss:.4g}")
    if min(ys or [0]) > 0:
        ax.set_yscale("log")
    ax.legend()
    return _png(fig)


def run_figures(signals) -> dict:
    """name -> PNG bytes for every figure the recorded modes allow."""
    out = {}
    if "spikes" in signals:
        out["raster.png"] = raster_png(signals)
    if "LFP" in signals:
        out["lfp.png"] = lfp_png(signals)
    if "CSD" in signals:
        out["csd.png"] = csd_png(signals)
    return out
