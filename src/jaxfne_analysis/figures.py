"""Figures of a run (needs matplotlib: ``pip install jaxfne[plot]``): spike raster by depth and
population, LFP traces by contact, CSD heat map. Returns PNG bytes."""
from __future__ import annotations

import io

import numpy as np

from jaxfne_core.errors import MissingExtraError

from .motif import run_motif_report


def _plt():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtraError("figures need matplotlib: pip install jaxfne[plot]") from None
    return plt


def pretty_units(units: str) -> str:
    """jaxfne's ASCII unit strings as printed units (uV -> µV, uA/mm^3 -> µA/mm³)."""
    return units.replace("uA/mm^3", "µA/mm³").replace("uV", "µV")


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
    ax.set(xlabel="time (ms)", ylabel="soma depth (µm)", title="spikes by depth and population")
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
    unit = pretty_units(signals.units.get("LFP", ""))
    x_bar = signals.time_ms[-1] * 1.02
    ax.plot([x_bar, x_bar], [z[0], z[0] + 0.8 * gap], color="tab:red", lw=2)   # scale bar
    ax.text(x_bar, z[0] + 0.4 * gap, f" {scale:.3g}\n {unit}", color="tab:red", va="center", fontsize=8)
    ax.set(xlabel="time (ms)", ylabel="contact depth (µm)",
           title=f"LFP by contact (positive up), red bar = {scale:.3g} {unit}")
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
    fig.colorbar(im, ax=ax, label=f"CSD [{pretty_units(signals.units.get('CSD', ''))}] (red: source, blue: sink)")
    ax.set(xlabel="time (ms)", ylabel="contact depth (µm)", title="current source density")
    return _png(fig)


def weights_png(signals) -> bytes:
    """Recorded plastic weights over time: median and 10-90% band, with a few synapses."""
    plt = _plt()
    w = np.asarray(signals["weights"], np.float64)
    t = signals.time_ms
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for k in np.linspace(0, w.shape[1] - 1, min(8, w.shape[1])).round().astype(int):
        ax.plot(t, w[:, k], lw=0.5, color="0.7")
    lo, mid, hi = np.percentile(w, [10, 50, 90], axis=1)
    ax.fill_between(t, lo, hi, alpha=0.3, label="10-90%")
    ax.plot(t, mid, lw=1.5, label="median")
    ax.set(xlabel="time (ms)", ylabel=f"|weight| ({pretty_units(signals.units.get('weights', 'native'))})",
           title=f"plastic synapses ({w.shape[1]} recorded)")
    ax.legend(loc="best", fontsize=8)
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


def run_figures(signals, events_ms=None, motif=None) -> dict:
    """name -> PNG bytes for every figure the recorded modes allow; with a motif report
    (``motif``, or computed from volley times ``events_ms`` in ms), the motif figure too."""
    out = {}
    if "dipole" in signals:
        out["dipole.png"] = dipole_png(signals)
    report = motif if motif is not None else run_motif_report(signals, events_ms)
    if report is not None:
        out["laminar_motif.png"] = motif_png(report, list(signals.context.model.population_names) + ["total"],
                                             pretty_units(signals.units.get("dipole", "")).replace("*um", " µm"))
    if "spikes" in signals:
        out["raster.png"] = raster_png(signals)
    if "LFP" in signals:
        out["lfp.png"] = lfp_png(signals)
    if "CSD" in signals:
        out["csd.png"] = csd_png(signals)
    if "weights" in signals and signals["weights"].shape[-1]:
        out["weights.png"] = weights_png(signals)
    if "LFP" in signals and signals.duration_ms >= MIN_SPECTRUM_MS and signals["LFP"].shape[-1] >= 3:
        out["relative_power.png"] = run_relative_power_png(signals)
    return out


MIN_SPECTRUM_MS = 250.0     # shorter runs give too coarse a spectrum for a power map


def run_relative_power_png(signals) -> bytes:
    """Relative LFP power by contact and frequency of one run, with its FLIP analysis."""
    from jaxfne_analysis.spectral import flip, laminar_spectrum, relative_power
    z = signals.context.model.contact_positions_um[:, 2]
    freqs, power = laminar_spectrum(signals["LFP"], signals.dt_ms)
    rel = relative_power(power)
    spacing = float(np.mean(np.diff(z))) if z.size > 1 else 1.0
    return relative_power_png(freqs, rel, z, flip(rel, freqs, spacing),
                              title=f"relative LFP power ({signals.duration_ms:g} ms)")


def relative_power_png(freqs, rel, depths_um, flip_result, title="") -> bytes:
    """Relative power map (contacts x frequency) with the alpha-beta and gamma profiles."""
    plt = _plt()
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4.5), gridspec_kw={"width_ratios": [3, 1]}, sharey=True)
    sel = freqs <= 150
    im = ax.pcolormesh(freqs[sel], depths_um, rel[:, sel], shading="nearest", cmap="viridis", vmin=0, vmax=1)
    fig.colorbar(im, ax=ax, label="relative power")
    ax.set(xlabel="frequency (Hz)", ylabel="contact depth (µm)", title=title or "relative LFP power")
    from jaxfne_analysis.spectral import band_profile
    for band, label in ((flip_result.alpha_beta_band, "alpha-beta"), (flip_result.gamma_band, "gamma")):
        bx.plot(band_profile(rel, freqs, band), depths_um, marker="o", label=f"{label} {band[0]:g}-{band[1]:g} Hz")
    if flip_result.found and flip_result.crossover_channel is not None:
        cross = float(np.interp(flip_result.crossover_channel, np.arange(depths_um.size), depths_um))
        for a in (ax, bx):
            a.axhline(cross, color="w" if a is ax else "k", ls="--", lw=1)
        bx.set_title(f"FLIP: crossover {cross:.0f} µm, G = {flip_result.goodness:.2f}", fontsize=9)
    elif flip_result.found:
        bx.set_title(f"FLIP: G = {flip_result.goodness:.2f}, no crossover", fontsize=9)
    else:
        bx.set_title("FLIP: no motif found", fontsize=9)
    bx.set(xlabel="relative power")
    bx.legend(fontsize=7, loc="lower right")
    ax.invert_yaxis()
    return _png(fig)


def condition_csd_png(results, max_conditions=12) -> bytes:
    """Trial-averaged CSD per condition, aligned on the alignment event."""
    plt = _plt()
    names = results.conditions[:max_conditions]
    cols = min(4, len(names))
    rows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False, sharex=True, sharey=True)
    csd = results.arrays["CSD"].mean(axis=1)                  # (conditions, T, C)
    t = results.aligned_time_ms
    lo, hi = results.paradigm.analysis_windows.get("baseline", (t[0], 0.0))
    base = (t >= lo) & (t < hi)
    if base.any():                                            # evoked CSD: remove the tonic baseline
        csd = csd - csd[:, base].mean(axis=1, keepdims=True)
    lim = float(np.percentile(np.abs(csd), 99.5)) or 1.0
    depth = results.contact_depths_um
    for ax, name, c in zip(axes.ravel(), names, csd):
        ax.imshow(c.T, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim,
                  extent=[t[0], t[-1], depth[-1], depth[0]])
        ax.set_title(name, fontsize=9)
    for ax in axes.ravel()[len(names):]:
        ax.axis("off")
    fig.supxlabel(f"time from {results.paradigm.align_event} (ms)")
    fig.supylabel("depth (µm)")
    fig.suptitle(f"trial-averaged CSD minus baseline [{pretty_units(results.units.get('CSD', ''))}] "
                 "(red: source, blue: sink)", fontsize=10)
    return _png(fig)


def dipole_png(signals) -> bytes:
    """The depth component of each population's current dipole moment (and the total)."""
    plt = _plt()
    d = np.asarray(signals["dipole"], np.float64)            # (T, P + 1, 3)
    names = list(signals.context.model.population_names) + ["total"]
    fig, ax = plt.subplots(figsize=(8, 4))
    for p, name in enumerate(names):
        if np.abs(d[:, p, 2]).max() > 0:
            ax.plot(signals.time_ms, -d[:, p, 2], lw=1.6 if name == "total" else 0.8,
                    color="k" if name == "total" else None, label=name)
    unit = pretty_units(signals.units.get("dipole", "")).replace("*um", " µm")
    ax.set(xlabel="time (ms)", ylabel=f"dipole toward the pia [{unit}]",
           title="current dipole moment by population (positive: toward the pia)")
    ax.legend(fontsize=7, ncol=2)
    return _png(fig)


def motif_png(report, dipole_names=(), dipole_units="nA µm") -> bytes:
    """A motif report (:mod:`jaxfne_analysis.motif`): trial-averaged relative power with FLIP's
    profiles and crossover (monopolar when the report has it), the evoked CSD with its earliest
    sink, and the populations' evoked dipoles when the report has them."""
    plt = _plt()
    panels = 3 + (report.evoked_dipole is not None)
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 4.6))
    ref = "infinity" if "infinity" in report.flip else next(iter(report.flip))
    r, rel, z, f = report.flip[ref], report.relative[ref], report.depths_um[ref], report.freqs
    t, zc = report.evoked_time_ms, report.contact_depths_um
    sel = f <= 150
    im = axes[0].pcolormesh(f[sel], z, rel[:, sel], shading="nearest", cmap="viridis", vmin=0, vmax=1)
    fig.colorbar(im, ax=axes[0], label="relative power")
    axes[0].set(xlabel="frequency (Hz)", ylabel="depth (µm)",
                title=f"relative power, {report.n_trials} trials of {report.trial_ms:g} ms")
    for band, label in ((r.alpha_beta_band, "alpha-beta"), (r.gamma_band, "gamma")):
        cols = (f >= band[0]) & (f <= band[1])
        axes[1].plot(rel[:, cols].mean(axis=1), z, marker="o", label=f"{label} {band[0]:g}-{band[1]:g} Hz")
    cross = report.crossover_um[ref]
    text = "no motif" if not r.found else f"G = {r.goodness:.2f}" + (f", crossover {cross:.0f} µm" if cross else "")
    axes[1].set(xlabel="relative power", title=f"FLIP ({ref}): {text}")
    axes[1].legend(fontsize=7, loc="lower right")
    if report.evoked_csd is not None:
        c = report.evoked_csd
        lim = float(np.percentile(np.abs(c), 99.5)) or 1.0
        axes[2].imshow(c.T, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim, extent=[t[0], t[-1], zc[-1], zc[0]])
        s = report.sink
        if s is not None and s.depth_um is not None:
            axes[2].plot([s.latency_ms], [s.depth_um], "k*", ms=12, label=f"earliest sink {s.depth_um:.0f} µm, "
                         f"{s.latency_ms:.0f} ms")
            axes[2].legend(fontsize=7, loc="lower right")
    axes[2].set(xlabel="time from volley (ms)", title="evoked CSD (blue: sink)", xlim=(t[0], min(t[-1], 150.0)))
    for a in axes[:3]:
        if cross is not None:
            a.axhline(cross, color="w" if a is axes[0] else "k", ls="--", lw=1)
        a.set_ylim(max(z.max(), zc.max()) + 50, min(z.min(), zc.min()) - 50)
    if report.evoked_dipole is not None:
        ax = axes[3]
        for p, name in enumerate(dipole_names):
            ax.plot(t, -report.evoked_dipole[:, p], lw=1.6 if name == "total" else 0.8,
                    color="k" if name == "total" else None, label=name)
        ax.set(xlabel="time from volley (ms)", ylabel=f"dipole toward the pia [{dipole_units}]",
               title="evoked dipole", xlim=(t[0], min(t[-1], 150.0)))
        ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    return _png(fig)
