"""jaxfne's LIF and AdEx canonical networks against Brian2 cpp_standalone (2 threads) running the
same equations on the same edges, side by side in alternating rounds; then the cost of plasticity
(pair STDP on every RS->* synapse, iSTDP on every FS->* synapse) on the Izhikevich network.

Usage: python benchmarks/neuron_models.py [--N 10000 100000] [--rounds 2] [--models lif,adex]
       [--plasticity-N 10000] [--no-plasticity]
Needs the Brian2 environment of ../shared/bench/setup.sh (VENV_BRIAN2, default /tmp/perf/venv_brian2).
The equations and numbers of both tools are those of benchmarks/peers/point_models.py; Brian2's
script is benchmarks/peers/brian2_point_models.py. Times are median run times (compile excluded;
Brian2's is its binary's internal network-run time), rates the mean over all cells.
"""
import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from variants import BENCH, PY_BRIAN2, result_line  # noqa: E402


def commands(n, model):
    brian2 = [PY_BRIAN2, os.path.join(HERE, "peers", "brian2_point_models.py"), "--model", model,
              "--threads", "2", "--N", str(n), "--reps", "2", "--bench-dir", BENCH]
    jaxfne = [sys.executable, os.path.join(HERE, "canonical.py"), "--result", "--sample-ms", "1000", "--reps", "2",
              "--n", str(n), "--model", model, "--bench-dir", BENCH]
    return {"brian2": brian2, "jaxfne": jaxfne}


def plasticity_command(n, rule):
    return [sys.executable, os.path.join(HERE, "canonical.py"), "--result", "--sample-ms", "1000", "--reps", "2",
            "--n", str(n), "--plasticity", rule, "--bench-dir", BENCH]


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--N", type=int, nargs="+", default=[10000, 100000])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--models", default="lif,adex")
    ap.add_argument("--plasticity-N", type=int, nargs="+", default=[10000])
    ap.add_argument("--no-plasticity", action="store_true")
    args = ap.parse_args(argv)
    models = args.models.split(",")
    results = {}
    for r in range(args.rounds):
        for n in args.N:
            for m in models:
                for tool, cmd in commands(n, m).items():
                    res = result_line(cmd)
                    results.setdefault((n, m, tool), []).append(res)
                    print(f"# round {r} N={n} {m} {tool}: run_s {res['run_s']:.3f} rate {res['rate_hz']:.3f} Hz",
                          file=sys.stderr, flush=True)
        if not args.no_plasticity:
            for n in args.plasticity_N:
                for rule in ("none", "stdp", "istdp"):
                    res = result_line(plasticity_command(n, rule))
                    results.setdefault((n, rule, "plasticity"), []).append(res)
                    print(f"# round {r} N={n} plasticity {rule}: run_s {res['run_s']:.3f}", file=sys.stderr,
                          flush=True)
    print("| N | model | Brian2 run (s) | jaxfne run (s) | jaxfne / Brian2 | rate Brian2 (Hz) | rate jaxfne (Hz) |")
    print("|---|---|---|---|---|---|---|")
    for n in args.N:
        for m in models:
            b, j = results[(n, m, "brian2")], results[(n, m, "jaxfne")]
            tb = statistics.median(x["run_s"] for x in b)
            tj = statistics.median(x["run_s"] for x in j)
            print(f"| {n} | {m} | {tb:.2f} | {tj:.2f} | {tj / tb:.2f}x | {b[-1]['rate_hz']:.2f} | "
                  f"{j[-1]['rate_hz']:.2f} |")
    if args.no_plasticity:
        return
    print()
    print("| N | Izhikevich network | jaxfne run (s) | cost over fixed weights |")
    print("|---|---|---|---|")
    for n in args.plasticity_N:
        base = statistics.median(x["run_s"] for x in results[(n, "none", "plasticity")])
        for rule in ("none", "stdp", "istdp"):
            t = statistics.median(x["run_s"] for x in results[(n, rule, "plasticity")])
            print(f"| {n} | {rule} | {t:.2f} | {t / base:.2f}x |")


if __name__ == "__main__":
    main()
