"""The shared canonical Izhikevich workload (../shared/bench/workload.py) through jaxfne's API.

Usage: python benchmarks/canonical.py --n 1000 [--t-ms 1000] [--field none|proxy|volume]
       [--trials 1] [--reps 1] [--result] [--delays] [--conductance] [--model izhikevich|lif|adex]
       [--plasticity none|stdp|istdp] [--bench-dir ../shared/bench]
The network is the peers' one: the same explicit edge list (workload.edges), 80% RS / 20% FS in
index blocks, exponential current synapses tau 5 ms (one step of delay), noise SD 5 (E) / 2 (I)
per ms^0.5, dt 0.1 ms; a 32-contact probe (50 um pitch) records LFP with --field.
Prints one JSON line: n, t_ms, build_s (edges, tables, field operator), compile_s (tracing,
lowering and XLA compilation, timed ahead of time), run_s (median of --reps runs after the
first), rate_hz, syn_events_per_s, peak_rss_mb, xla_flags; with --trials B > 1 also the trials per second of one vmapped batch of B runs and
of sequential runs, and their ratio. --result prints it as the peers' ``RESULT {json}`` line
(with N, T_ms, spikes), so ../shared/bench/run_all.py can run it in rounds with them:
  python ../shared/bench/run_all.py --N 10000 --extra 'jaxfne=.venv/bin/python benchmarks/canonical.py --result'
"""
import argparse
import json
import os
import resource
import sys
import time

import jax
import numpy as np

import jaxfne as jtfne
from jaxfne_core.assemble import assemble
from jaxfne_core.model import Model
from jaxfne_core.stages import Pathway
from jaxfne_workflows.xla_tuning import use_wide_vectors

use_wide_vectors()          # before the first computation: XLA reads its flags then

DEFAULT_BENCH_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "bench")


def parse_args(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", "--N", dest="n", type=int, default=1000)
    ap.add_argument("--t-ms", "--T", dest="t_ms", type=float, default=1000.0)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--result", action="store_true", help="print the peers' RESULT line")
    ap.add_argument("--sample-ms", type=float, default=None,
                    help="probe sample interval (ms): spike counts per interval, reduced on the fly "
                         "(default: every step, a full raster); the peers record counts over the run")
    ap.add_argument("--field", default="none", choices=["none", "proxy", "volume"])
    ap.add_argument("--trials", type=int, default=1)
    ap.add_argument("--connectivity", default="event", choices=["event", "edge_list", "dense"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--delays", action="store_true",
                    help="per-edge delays 1-5 ms (workload.edge_delay_steps), the shared variant")
    ap.add_argument("--conductance", action="store_true",
                    help="exponential conductances, reversal 0 / -80 mV, jump at -65 mV as with currents")
    ap.add_argument("--model", default="izhikevich", choices=["izhikevich", "lif", "adex"],
                    help="neuron model: the workload's Izhikevich cells, or the LIF / AdEx versions of "
                         "benchmarks/peers/point_models.py (same edges, weights scaled)")
    ap.add_argument("--plasticity", default="none", choices=["none", "stdp", "istdp"],
                    help="learning on the network's synapses: 'stdp' (additive, a_plus 1e-3) on the E synapses, "
                         "'istdp' (target 5 Hz, eta 1e-3) on the I synapses; the cost of plasticity")
    ap.add_argument("--bench-dir", default=DEFAULT_BENCH_DIR)
    return ap.parse_args(argv)


def load_workload(bench_dir=DEFAULT_BENCH_DIR):
    """The peers' ``workload`` module (edge list, constants, RESULT reporting)."""
    path = os.path.abspath(bench_dir)
    if path not in sys.path:
        sys.path.insert(0, path)
    import workload
    return workload


def point_model_emitter(model):
    """(emitter kind, options, weight scale) of benchmarks/peers/point_models.py's ``model``."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
    from point_models import MODELS
    p = dict(MODELS[model])
    drive, sigma, scale, v0 = p.pop("drive"), p.pop("sigma"), p.pop("weight"), p.pop("v0_mV")
    opts = {**p, "classes": {"RS": "excitatory", "FS": "inhibitory"}, "fractions": {"RS": 0.8, "FS": 0.2},
            "drive": {"RS": drive["E"], "FS": drive["I"]}, "noise_sigma_by_population": {"RS": sigma["E"], "FS": sigma["I"]},
            "v_init_mV": v0}
    return model, opts, scale


def canonical_model(n, field="none", seed=0, connectivity="event", sample_ms=None, bench_dir=DEFAULT_BENCH_DIR,
                    delays=False, conductance=False, model="izhikevich", plasticity="none"):
    """The canonical network as a jaxfne Model (probe: spikes, and LFP with a field); with
    ``delays`` / ``conductance`` the shared variants (workload.py's docstring); ``model``
    ``lif`` / ``adex``: the same edges on those neurons (benchmarks/peers/point_models.py)."""
    W = load_workload(bench_dir)
    pre, post, w = W.edges(n, seed)
    emitter = ("izhikevich", {"preset": "RS_FS", "noise_sigma_by_population": {"RS": 5.0, "FS": 2.0}}, 1.0)
    if model != "izhikevich":
        emitter = point_model_emitter(model)
    w = (w * emitter[2]).astype(np.float32)
    n_exc = W.n_exc(n)
    population = np.r_[np.zeros(n_exc, np.int32), np.ones(n - n_exc, np.int32)]
    rng = np.random.default_rng(seed)
    positions = np.stack([rng.uniform(-100, 100, n), rng.uniform(-100, 100, n), rng.uniform(0, 1600, n)], 1)
    modes = ["spikes"] + (["LFP"] if field != "none" else [])
    rules = {"none": None,
             "stdp": [{"rule": "stdp", "pathways": ["RS->*"], "w_max": 2.0 * W.WE_MAX * emitter[2], "a_plus": 1e-3,
                       "a_minus": 1.05e-3}],
             "istdp": [{"rule": "istdp", "pathways": ["FS->*"], "eta": 1e-3 * emitter[2], "target_rate_hz": 5.0}]}[plasticity]
    # the workload's conductance jump w G_SCALE = w / |E - V0| is weights_at_mV = V0
    synapse = ({"synapse_model": "conductance", "exc_reversal_mV": W.E_EXC, "inh_reversal_mV": W.E_INH,
                "weights_at_mV": W.V0} if conductance else {})
    b = (jtfne.configuration().network(name="canonical", n=n, connectivity=connectivity, p_connect=0.0)
         .emitter(emitter[0], **emitter[1])
         .source("exponential", tau_ms=W.TAU_SYN, **synapse, plasticity=rules)
         .probe(n_contacts=32, spacing_um=50.0, modes=modes, sample_interval_ms=sample_ms))
    if field == "none":
        b = b.no_field()
    elif field == "volume":
        cal = {} if model == "adex" else {"calibration_nA_per_native": 0.1, "calibration_provenance": "benchmark scale"}
        b = b.source("exponential", tau_ms=W.TAU_SYN, **synapse, **cal, plasticity=rules).field("point_source")
    circuit = jtfne.Circuit(("RS", "FS"), population, positions, population == 0, pre, post, w,
                            connectivity, 1600.0,
                            delay_ms=W.edge_delay_steps(n, seed) * W.DT if delays else None,
                            **({} if plasticity == "none" else
                               {"pathways": (Pathway("RS->*"), Pathway("FS->*")),
                                "edge_pathway": (pre >= n_exc).astype(np.int32)}))
    return Model(assemble(b.build()), circuit)


def aot_compile_seconds(model, sim):
    """Tracing, lowering and XLA compilation of the whole-run function, timed ahead of time
    (the first call's compile; its run time varies too much on a noisy machine to subtract)."""
    from jaxfne_core.engine import initial_carry
    params = model.params(sim.dt_ms)
    carry = initial_carry(model.stages, params, model.n_cells)
    t0 = time.perf_counter()
    model.runner(sim.n_steps, sim.dt_ms).lower(params, jax.random.key(0), carry, jax.numpy.int32(0),
                                                 jax.numpy.zeros((sim.n_steps, 0), jax.numpy.float32)).compile()
    return time.perf_counter() - t0


if __name__ == "__main__":
    args = parse_args()
    W = load_workload(args.bench_dir)
    t0 = time.perf_counter()
    model = canonical_model(args.n, args.field, args.seed, args.connectivity, args.sample_ms, args.bench_dir,
                            args.delays, args.conductance, args.model, args.plasticity)
    sim = jtfne.simulation(args.t_ms, W.DT, args.seed)
    jax.block_until_ready(model.params(sim.dt_ms))     # connectivity tables, field operator
    build_s = time.perf_counter() - t0
    compile_s = aot_compile_seconds(model, sim)
    t0 = time.perf_counter()
    np.asarray(model.simulate(sim, progress=False)["spikes"])
    first = time.perf_counter() - t0
    runs, cpu = [], []
    for r in range(max(1, args.reps)):
        t0, c0 = time.perf_counter(), time.process_time()
        spikes = np.asarray(model.simulate(jtfne.simulation(args.t_ms, W.DT, args.seed + 1 + r),
                                           progress=False)["spikes"])
        runs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    run_s = float(np.median(runs))
    total = int(spikes.sum())
    n_e = W.n_exc(args.n)
    per_cell = spikes.sum(axis=0)
    out = {"tool": "jaxfne", "model": args.model, "plasticity": args.plasticity, "n": args.n, "delays": args.delays, "conductance": args.conductance, "t_ms": args.t_ms, "field": args.field, "connectivity": args.connectivity,
           "sample_ms": args.sample_ms,
           "build_s": round(build_s, 3), "compile_s": round(compile_s, 3),
           "first_call_minus_run_s": round(first - runs[0], 3), "run_s": round(run_s, 3),
           "runs": [round(x, 3) for x in runs], "cpu_s": round(float(np.median(cpu)), 3),
           "rate_hz": round(total / args.n / (args.t_ms / 1000.0), 3),
           "rate_e": round(float(per_cell[:n_e].sum()) / n_e / (args.t_ms / 1000.0), 3),
           "rate_i": round(float(per_cell[n_e:].sum()) / (args.n - n_e) / (args.t_ms / 1000.0), 3),
           "syn_events_per_s": round(total * W.K / run_s),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
           "jax": jax.__version__, "device": str(jax.devices()[0].device_kind),
           "xla_flags": os.environ.get("XLA_FLAGS", "")}
    if args.trials > 1:
        seeds = range(100, 100 + args.trials)
        np.asarray(model.simulate_batch(sim, seeds=seeds)["spikes"])          # compile
        t0 = time.perf_counter()
        np.asarray(model.simulate_batch(sim, seeds=seeds)["spikes"])
        batch_s = time.perf_counter() - t0
        out.update(trials=args.trials, trials_per_s=round(args.trials / batch_s, 3),
                   trials_per_s_sequential=round(1.0 / run_s, 3), batch_speedup=round(run_s * args.trials / batch_s, 2))
    if args.result:
        out.update(N=args.n, T_ms=args.t_ms, spikes=total)
        W.report(**out)
    else:
        print(json.dumps(out), flush=True)
