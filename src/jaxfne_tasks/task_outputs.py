"""What a task run writes: per-condition arrays, spectra with FLIP/vFLIP, figures, summary."""
from __future__ import annotations

import numpy as np

from jaxfne_core.errors import MissingExtraError
from jaxfne_core.io import to_json_text, write_npz_atomic
from jaxfne_analysis.spectral import flip, laminar_spectrum, relative_power, vflip


def population_rates_hz(spikes, population, n_populations, dt_ms):
    """(..., samples, cells) spike counts -> (..., samples, populations) mean rate in Hz."""
    return np.stack([spikes[..., population == i].mean(axis=-1) * 1000.0 / dt_ms
                     for i in range(n_populations)], axis=-1)


def spectral_summary(results):
    """Relative power map of the LFP over all trials and conditions, FLIP and vFLIP.
    Returns (JSON-safe dict, frequencies, relative power (C, F), FLIP result)."""
    freqs, power = laminar_spectrum(results.arrays["LFP"], results.dt_ms)
    rel = relative_power(power)
    z = results.contact_depths_um
    spacing = float(np.mean(np.diff(z))) if z.size > 1 else 1.0
    fr = flip(rel, freqs, spacing)
    return ({"frequencies_hz": freqs.tolist(), "relative_power": rel.tolist(), "contact_depth_um": z.tolist(),
             "lfp_units": results.units.get("LFP", ""), "flip": fr.to_dict(),
             "vflip": vflip(rel, freqs, spacing).to_dict()}, freqs, rel, fr)


def write_task_run(staging, model, results, receipt, figures=True):
    """Write everything into ``staging``; returns (files written, spectral summary or {})."""
    import sys

    from jaxfne_analysis.figures import condition_csd_png, relative_power_png
    written = ["receipt.json", "summary.json"]
    (staging / "conditions").mkdir()
    names = model.circuit.population_names
    for name in results.conditions:
        arrays = results.condition(name)
        extra = {}
        if "spikes" in arrays:
            extra["population_rate_hz"] = population_rates_hz(arrays.pop("spikes"), model.circuit.population,
                                                              len(names), results.dt_ms)
        write_npz_atomic(staging / "conditions" / f"{name}.npz",
                         {**arrays, **extra, "time_from_alignment_ms": results.aligned_time_ms,
                          "contact_depth_um": results.contact_depths_um})
    written.append(f"conditions/ ({len(results.conditions)} .npz)")
    spectral, freqs, rel, fr = spectral_summary(results) if "LFP" in results.arrays else ({}, None, None, None)
    if spectral:
        (staging / "spectral.json").write_text(to_json_text(spectral), encoding="utf-8")
        written.append("spectral.json")
    if figures:
        try:
            if spectral:
                (staging / "relative_power.png").write_bytes(relative_power_png(
                    freqs, rel, results.contact_depths_um, fr, f"relative LFP power, {results.paradigm.name}"))
                written.append("relative_power.png")
            if "CSD" in results.arrays:
                (staging / "csd_by_condition.png").write_bytes(condition_csd_png(results))
                written.append("csd_by_condition.png")
        except MissingExtraError as e:
            print(f"figures skipped: {e}", file=sys.stderr)
    (staging / "receipt.json").write_text(to_json_text(receipt.to_dict()), encoding="utf-8")
    summary = {"receipt_id": receipt.receipt_id, **results.summary(), "n_cells": model.n_cells,
               "populations": list(names), "truth": receipt.truth, "files": written,
               "flip": spectral.get("flip")}
    (staging / "summary.json").write_text(to_json_text(summary), encoding="utf-8")
    return written, spectral
