"""The spectrolaminar motif in silico: FLIP on the trial-averaged relative power of the
motif column (examples/spectrolaminar_motif_column.jcfg.json) for several seeds, under each
probe reference, with the two ablations (no deep SST -> pyramid inhibition; point cells with
the somatic return), the evoked CSD's earliest sink, and (``--variants population_kernel``)
the same column through the cable source's approximate population-kernel field.

    python benchmarks/motif.py [--seeds 1 2 3 4 5] [--json out.json]

Each seed changes the network's wiring and placement and the run's noise and input spikes.
"""
from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import numpy as np

import jaxfne as jtfne
from jaxfne_analysis.motif import event_times_ms, signals_motif_report

CONFIG = Path(__file__).resolve().parent.parent / "examples" / "spectrolaminar_motif_column.jcfg.json"
DEEP_SST = ("L5_SST", "L6_SST")
CABLE_ONLY = ("targets", "morphologies", "tuft_depth_um", "swc_files", "compartment_um")


def variant(cfg: dict, name: str) -> dict:
    """The full column, or one of its ablations."""
    cfg = copy.deepcopy(cfg)
    if name == "no_deep_sst_inhibition":
        cfg["network"]["pathways"] = [p for p in cfg["network"]["pathways"]
                                      if not (p["pre"] in DEEP_SST and p["post"].endswith("_E"))]
    elif name == "point_cells_somatic_return":
        cfg["source"] = {k: v for k, v in cfg["source"].items() if k not in CABLE_ONLY}
        cfg["source"]["kind"] = "receptor_exponential"
    elif name == "population_kernel":          # the same column through the approximate field scheme
        cfg["source"]["field_scheme"] = "population_kernel"
        cfg["probe"]["modes"] = [m for m in cfg["probe"]["modes"] if m not in ("dipole", "sources")]
    elif name != "full":
        raise ValueError(name)
    return cfg


def run(cfg: dict, seed: int) -> dict:
    cfg = copy.deepcopy(cfg)
    cfg["network"]["seed"] = seed
    cfg["simulation"]["seed"] = seed
    model = jtfne.construct(jtfne.config_from_dict(cfg))
    t = time.perf_counter()
    signals = model.simulate()
    elapsed = time.perf_counter() - t
    report = signals_motif_report(signals, event_times_ms(model.pipeline.source.options.inputs))
    return {"seed": seed, "run_s": round(elapsed, 1), **report.summary()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--variants", nargs="+", default=["full", "no_deep_sst_inhibition", "point_cells_somatic_return"])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    base = json.loads(CONFIG.read_text(encoding="utf-8"))
    rows = []
    print(f"{'variant':28s} {'seed':>4s}  {'infinity':>16s} {'common_average':>16s} {'bipolar':>16s}  earliest sink")
    for name in args.variants:
        for seed in args.seeds:
            r = run(variant(base, name), seed)
            rows.append({"variant": name, **r})
            cells = []
            for ref in ("infinity", "common_average", "bipolar"):
                f = r["references"][ref]
                cells.append(f"G {f['goodness']:+.2f} x {f['crossover_um'] or float('nan'):4.0f}" if f["found"] else "no motif")
            s = r.get("earliest_sink", {})
            sink = f"{s['depth_um']:.0f} um at {s['latency_ms']:.0f} ms" if s.get("depth_um") is not None else "-"
            print(f"{name:28s} {seed:4d}  " + " ".join(f"{c:>16s}" for c in cells) + f"  {sink}  ({r['run_s']} s)")
    for name in args.variants:
        mine = [r for r in rows if r["variant"] == name]
        for ref in ("infinity", "common_average", "bipolar"):
            up = [r for r in mine if r["references"][ref]["upright"]]
            g = [r["references"][ref]["goodness"] for r in up]
            print(f"{name}: {ref}: upright motif on {len(up)}/{len(mine)} seeds"
                  + (f", G {np.mean(g):.2f} (range {min(g):.2f}-{max(g):.2f})" if g else ""))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
