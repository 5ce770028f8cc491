"""What the field with morphologies costs: the motif column scaled to ~10,000 cells (four
morphology classes: L2/3 and L5 pyramidal cells, L4 stellate cells, point interneurons; 16
contacts, line-source field), run with and without the field.

    python benchmarks/cable_field_cost.py [--scale 11] [--t-ms 500] [--reps 2]

Rows (run time after compile, median of --reps alternating rounds; field_share = 1 - the cable source's run
without a field / its run with it; share_vs_point_synapses = 1 - the point-synapse run / it):
- ``no field``: the same network, synapses and inputs (``receptor_exponential``), spikes only;
- ``cable, no field``: the cable source's synapses (one channel per receptor and target: the
  price of placing synapses by pathway), no field;
- ``cable per_cell``: every cell's passive cable stepped exactly, every compartment a source;
- ``cable population_kernel``: one cable per population, depth bin and radial bin, driven
  by its cells' summed currents (``kernel_depth_bin_um`` 50 um), with the error of its LFP
  against ``per_cell`` over the same run (per-contact correlation, relative RMS).
Population sizes scale by --scale and connection probabilities by 1 / scale (in-degrees kept).
"""
from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path

import numpy as np

import jaxfne as jtfne

CONFIG = Path(__file__).resolve().parent.parent / "examples" / "spectrolaminar_motif_column.jcfg.json"
CABLE_ONLY = ("targets", "morphologies", "tuft_depth_um", "swc_files", "compartment_um", "field_scheme",
              "kernel_depth_bin_um")


def scaled(cfg: dict, scale: int, t_ms: float) -> dict:
    cfg = copy.deepcopy(cfg)
    for layer in cfg["network"]["layers"]:
        layer["populations"] = {k: v * scale for k, v in layer["populations"].items()}
    cfg["network"]["n"] = sum(sum(layer["populations"].values()) for layer in cfg["network"]["layers"])
    for p in cfg["network"]["pathways"]:
        if p.get("p") is not None:
            p["p"] = p["p"] / scale
    cfg["simulation"].update(duration_ms=t_ms, warmup_ms=0.0)
    for spec in cfg["source"]["inputs"]:
        if spec.get("stop_ms") is not None:
            spec["stop_ms"] = min(spec["stop_ms"], t_ms)
        if spec.get("start_ms") is not None and spec["start_ms"] >= t_ms:
            spec["start_ms"] = 0.0
    return cfg


def variant(cfg: dict, name: str) -> dict:
    cfg = copy.deepcopy(cfg)
    if name == "cable, no field":              # the same source (its synapses by target), no field
        cfg["source"]["field_scheme"] = "population_kernel"
        cfg.pop("field")
        cfg["probe"]["modes"] = ["spikes"]
        return cfg
    if name == "no field":
        cfg["source"] = {k: v for k, v in cfg["source"].items() if k not in CABLE_ONLY}
        cfg["source"]["kind"] = "receptor_exponential"
        cfg.pop("field")
        cfg["probe"]["modes"] = ["spikes"]
        return cfg
    cfg["probe"]["modes"] = ["spikes", "LFP"]
    cfg["probe"].pop("sample_interval_ms", None)
    cfg["source"]["field_scheme"] = name.split()[-1]
    return cfg


def compiled(cfg: dict):
    """The model, compiled and run once (its signals)."""
    model = jtfne.construct(jtfne.config_from_dict(cfg))
    sig = model.simulate(progress=False)
    np.asarray(sig["spikes"])
    return model, sig


def one_run(model) -> float:
    t0 = time.perf_counter()
    sig = model.simulate(progress=False)
    for a in sig.arrays.values():
        np.asarray(a)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=11)
    ap.add_argument("--t-ms", type=float, default=500.0)
    ap.add_argument("--reps", type=int, default=5, help="rounds; each round runs every variant once, in turn")
    ap.add_argument("--skip-per-cell", action="store_true", help="leave out the exact per-cell run")
    args = ap.parse_args(argv)
    cfg = scaled(json.loads(CONFIG.read_text(encoding="utf-8")), args.scale, args.t_ms)
    names = ["no field", "cable, no field", "cable population_kernel"] + ([] if args.skip_per_cell
                                                                          else ["cable per_cell"])
    models, lfp = {}, {}
    for name in names:
        models[name], sig = compiled(variant(cfg, name))
        if "LFP" in sig:
            lfp[name] = np.asarray(sig["LFP"], np.float64)
    times = {name: [] for name in names}
    for _ in range(args.reps):                    # alternating rounds: slow drifts hit every variant alike
        for name in names:
            times[name].append(one_run(models[name]))
    out = {name: statistics.median(t) for name, t in times.items()}
    for name in names:
        t, model = out[name], models[name]
        row = {"variant": name, "cells": model.n_cells, "sources": int(model.source_positions_um.shape[0]),
               "t_ms": args.t_ms, "run_s": round(t, 3), "rounds": args.reps,
               "share_vs_point_synapses": round(max(t - out["no field"], 0.0) / t, 3)}
        if name.startswith("cable ") and name != "cable, no field":
            row["field_share"] = round(max(t - out["cable, no field"], 0.0) / t, 3)
            paired = [1 - a / b for a, b in zip(times["cable, no field"], times[name])]
            row["field_share_paired_median"] = round(statistics.median(paired), 3)
        if name == "cable per_cell" and "cable population_kernel" in lfp:
            a, b = lfp["cable per_cell"], lfp["cable population_kernel"]
            row["kernel_min_contact_corr"] = round(min(np.corrcoef(a[:, c], b[:, c])[0, 1] for c in range(a.shape[1])), 4)
            row["kernel_rel_rms"] = round(float(np.sqrt(((a - b) ** 2).mean() / (a ** 2).mean())), 4)
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
