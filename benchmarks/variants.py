"""jaxfne against Brian2 cpp_standalone (2 threads) on the shared canonical workload and its
``--delays`` / ``--conductance`` variants, side by side in alternating rounds.

Usage: python benchmarks/variants.py [--N 10000 100000] [--rounds 2] [--variants plain,delays,conductance,both]
Needs the Brian2 environment of ../shared/bench/setup.sh (VENV_BRIAN2, default /tmp/perf/venv_brian2).
Each round runs, for every N and variant, Brian2 then jaxfne (one process each; jaxfne records
spike counts per cell over the run, --sample-ms 1000, as Brian2's SpikeMonitor(record=False)
does). Prints one table: median run time of each (compile excluded; Brian2's is its binary's
internal network-run time), the ratio jaxfne / Brian2, and the mean rates (all, E, I) of both
with their relative difference.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.environ.get("BENCH_DIR", os.path.join(HERE, "..", "..", "shared", "bench"))
PY_BRIAN2 = os.path.join(os.environ.get("VENV_BRIAN2", "/tmp/perf/venv_brian2"), "bin", "python")
FLAGS = {"plain": [], "delays": ["--delays"], "conductance": ["--conductance"],
         "both": ["--delays", "--conductance"]}


def result_line(cmd):
    """Run ``cmd``; -> the dict of its ``RESULT {json}`` line."""
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    lines = [l for l in out.splitlines() if l.startswith("RESULT ")]
    if not lines:
        raise RuntimeError(f"no RESULT line from {' '.join(cmd)}:\n{out[-2000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def commands(n, variant):
    brian2 = [PY_BRIAN2, os.path.join(BENCH, "bench_brian2.py"), "--mode", "standalone", "--threads", "2",
              "--N", str(n), "--reps", "2"] + FLAGS[variant]
    jaxfne = [sys.executable, os.path.join(HERE, "canonical.py"), "--result", "--sample-ms", "1000", "--reps", "2",
              "--n", str(n), "--bench-dir", BENCH] + FLAGS[variant]
    return {"brian2": brian2, "jaxfne": jaxfne}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--N", type=int, nargs="+", default=[10000, 100000])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--variants", default="plain,delays,conductance,both")
    args = ap.parse_args(argv)
    variants = args.variants.split(",")
    results = {}
    for r in range(args.rounds):
        for n in args.N:
            for v in variants:
                for tool, cmd in commands(n, v).items():
                    res = result_line(cmd)
                    results.setdefault((n, v, tool), []).append(res)
                    print(f"# round {r} N={n} {v} {tool}: run_s {res['run_s']:.3f} rate {res['rate_hz']:.3f} Hz",
                          file=sys.stderr, flush=True)
    print("| N | variant | Brian2 run (s) | jaxfne run (s) | jaxfne / Brian2 | rate Brian2 (Hz, E / I) | "
          "rate jaxfne (Hz, E / I) | rate difference |")
    print("|---|---|---|---|---|---|---|---|")
    for n in args.N:
        for v in variants:
            b, j = results[(n, v, "brian2")], results[(n, v, "jaxfne")]
            tb = statistics.median(x["run_s"] for x in b)
            tj = statistics.median(x["run_s"] for x in j)
            rb, rj = b[-1], j[-1]
            diff = (rj["rate_hz"] - rb["rate_hz"]) / rb["rate_hz"]
            print(f"| {n} | {v} | {tb:.2f} | {tj:.2f} | {tj / tb:.2f}x | {rb['rate_hz']:.2f} ({rb['rate_e']:.2f} / "
                  f"{rb['rate_i']:.2f}) | {rj['rate_hz']:.2f} ({rj['rate_e']:.2f} / {rj['rate_i']:.2f}) | "
                  f"{100 * diff:+.1f}% |")


if __name__ == "__main__":
    main()
