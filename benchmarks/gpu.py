"""GPU figures in one prepared run: the canonical network at 1e4, 1e5 and 1e6 cells, batched
trials against sequential runs, and the V1 example column with its field.

Usage: python benchmarks/gpu.py RESULTS_DIR [--quick] [--budget-s 480]
Each measurement runs in a fresh process (so one size's memory and compile cache do not leak
into the next) and prints one JSON line, which is also appended to RESULTS_DIR/gpu.jsonl;
RESULTS_DIR/gpu_env.json records the device, JAX and the XLA flags. ``--quick`` runs the same
steps at small sizes (N = 1e3 / 1e4, B = 4, 100 ms) to check the script on a CPU in a minute.
Steps that would start after ``--budget-s`` seconds are skipped and said so, so a lease is
never overrun; the order puts the headline figures first.

On the GPU machine (nothing can be installed there; its python3 has JAX with CUDA, numpy,
scipy, pluggy, attrs, tqdm but no cattrs, and ../shared does not travel):
``bash benchmarks/gpu.sh RESULTS_DIR`` installs jaxfne without dependencies plus the cattrs
wheel carried in ``.gpu_carry/``, then runs this script with the peers' workload from
``.gpu_carry/bench``. Prepare here, then carry ``.gpu_carry``::

    pip download --no-deps -d .gpu_carry cattrs && cp -r ../shared/bench .gpu_carry/bench
"""
import argparse
import json
import os
from pathlib import Path
import subprocess
import sys
import time

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

FULL = {"canonical_n": [10_000, 100_000, 1_000_000], "trials_n": [1_000, 10_000], "trials_b": 32,
        "t_ms": 1000.0, "column_ms": 1000.0}
QUICK = {"canonical_n": [1_000, 10_000], "trials_n": [1_000], "trials_b": 4, "t_ms": 100.0, "column_ms": 100.0}

COLUMN = r"""
import json, sys, time
import numpy as np, jax
import jaxfne as jtfne
from jaxfne_core.config import load_config
cfg = load_config(sys.argv[1]); t_ms = float(sys.argv[2])
t0 = time.perf_counter(); model = jtfne.construct(cfg); build = time.perf_counter() - t0
def run(seed):
    t0 = time.perf_counter()
    s = model.simulate(jtfne.simulation(t_ms, cfg.simulation.dt_ms, seed), progress=False)
    np.asarray(s["LFP"]); return time.perf_counter() - t0, s
first, _ = run(0)
runs = [run(1 + r) for r in range(3)]
run_s = float(np.median([r[0] for r in runs])); s = runs[-1][1]
spikes = np.asarray(s["spikes"])
print(json.dumps({"step": "v1_column", "n": model.n_cells, "t_ms": t_ms, "build_s": round(build, 3),
                  "first_call_s": round(first, 3), "run_s": round(run_s, 3),
                  "realtime_factor": round(run_s / (t_ms / 1000), 4),
                  "rate_hz": round(float(spikes.sum()) / model.n_cells / (t_ms / 1000), 3),
                  "lfp_units": s.units.get("LFP"), "device": str(jax.devices()[0].device_kind)}))
"""


def environment() -> dict:
    code = ("import json, os, jax; print(json.dumps({'jax': jax.__version__, 'backend': jax.default_backend(), "
            "'devices': [str(d.device_kind) for d in jax.devices()], 'xla_flags': os.environ.get('XLA_FLAGS', '')}))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    info = json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else {"error": r.stderr[-2000:]}
    try:
        smi = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20)
        info["nvidia_smi"] = smi.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        info["nvidia_smi"] = None
    info["cpu_count"] = os.cpu_count()
    return info


def steps(sizes, bench_dir):
    """(name, argv) of every measurement, headline first."""
    canon = [sys.executable, str(HERE / "canonical.py"), "--bench-dir", bench_dir, "--sample-ms", str(sizes["t_ms"]), "--t-ms", str(sizes["t_ms"])]
    out = [(f"canonical_n{n}", canon + ["--n", str(n), "--reps", "2" if n < 1_000_000 else "1"])
           for n in sizes["canonical_n"]]
    out += [(f"trials_n{n}_b{sizes['trials_b']}", canon + ["--n", str(n), "--trials", str(sizes["trials_b"]), "--reps", "2"])
            for n in sizes["trials_n"]]
    out.append(("v1_column", [sys.executable, "-c", COLUMN, str(ROOT / "examples" / "v1_laminar_column.jcfg.json"),
                              str(sizes["column_ms"])]))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results_dir")
    ap.add_argument("--quick", action="store_true", help="small sizes, to check the script on a CPU")
    ap.add_argument("--budget-s", type=float, default=480.0, help="start no step after this many seconds")
    ap.add_argument("--step-timeout-s", type=float, default=300.0)
    ap.add_argument("--bench-dir", default=os.environ.get("JAXFNE_BENCH_DIR", str(ROOT.parent / "shared" / "bench")),
                    help="the peers' benchmark folder (workload.py)")
    args = ap.parse_args(argv)
    results = Path(args.results_dir)
    results.mkdir(parents=True, exist_ok=True)
    log = results / "gpu.jsonl"
    env = environment()
    (results / "gpu_env.json").write_text(json.dumps(env, indent=2) + "\n")
    print(json.dumps({"step": "environment", **env}), flush=True)
    start = time.perf_counter()
    failed = 0
    for name, cmd in steps(QUICK if args.quick else FULL, args.bench_dir):
        elapsed = time.perf_counter() - start
        if elapsed > args.budget_s:
            row = {"step": name, "skipped": f"budget of {args.budget_s:.0f} s spent ({elapsed:.0f} s)"}
        else:
            t0 = time.perf_counter()
            try:
                r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                                   timeout=min(args.step_timeout_s, args.budget_s - elapsed + 60))
                lines = [ln for ln in r.stdout.strip().splitlines() if ln.startswith("{")]
                if r.returncode == 0 and lines:
                    row = {"step": name, **json.loads(lines[-1])}
                else:
                    row = {"step": name, "error": f"exit {r.returncode}", "stderr_tail": r.stderr[-1500:]}
            except subprocess.TimeoutExpired:
                row = {"step": name, "error": "timed out"}
            row["wall_s"] = round(time.perf_counter() - t0, 2)
        failed += "error" in row
        line = json.dumps(row)
        print(line, flush=True)
        with open(log, "a", encoding="utf-8") as f:
            f.write(line + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
