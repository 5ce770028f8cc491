"""Brian2 (cpp_standalone) run of the LIF or AdEx canonical network (point_models.py): the shared
workload's edge list, the equations and numbers of point_models.py, one RESULT line as the
shared peers print (../../../shared/bench/bench_brian2.py is the Izhikevich original).

Usage: python brian2_point_models.py --model lif|adex --N 10000 [--threads 2] [--reps 2]
       [--bench-dir ../../../shared/bench] [--cache /tmp/perf/brian2_cache]
run_s is the binary's own network-run time (device._last_run_time), compile excluded, as in
bench_brian2.py. Needs Brian2 (../shared/bench/setup.sh makes its environment).
"""
import argparse
import os
import resource
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from point_models import MODELS  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True, choices=sorted(MODELS))
ap.add_argument("--N", type=int, default=1000)
ap.add_argument("--T", type=float, default=1000.0)
ap.add_argument("--reps", type=int, default=2)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--bench-dir", default=os.path.join(HERE, "..", "..", "..", "shared", "bench"))
ap.add_argument("--cache", default="/tmp/perf/brian2_cache")
args = ap.parse_args()
sys.path.insert(0, os.path.abspath(args.bench_dir))
import workload as W  # noqa: E402
import brian2 as b2  # noqa: E402
from brian2 import ms, prefs  # noqa: E402

b2.BrianLogger.log_level_error()
tm = W.Timer()
N, P = args.N, MODELS[args.model]
NE = W.n_exc(N)
pre, post, w = W.edges(N, args.seed)
outdir = os.path.join(args.cache, f"standalone_{args.model}_N{N}_t{args.threads}")
b2.set_device("cpp_standalone", directory=outdir, build_on_run=False)
prefs.devices.cpp_standalone.openmp_threads = args.threads
b2.defaultclock.dt = W.DT * ms
b2.seed(args.seed)
# dimensionless state in jaxfne's units (mV, nA, uS, nF, ms): the same numbers as the emitters
common = "dI/dt = -I/tau_syn : 1\nnoise = sigma*sqrt(1.0/dt_ms)*randn() : 1 (constant over dt)\n" \
         "drive : 1 (constant)\nsigma : 1 (constant)\n"
if args.model == "lif":
    eqs = "dv/dt = (EL - v + I + drive + noise)/tau_m : 1 (unless refractory)\n" + common
    ns = {"EL": P["e_l_mV"], "tau_m": P["tau_m_ms"] * ms}
    G = b2.NeuronGroup(N, eqs, threshold=f"v >= {P['v_th_mV']}", reset=f"v = {P['v_reset_mV']}",
                       refractory=P["t_ref_ms"] * ms, method="exponential_euler",
                       namespace={**ns, "tau_syn": W.TAU_SYN * ms, "dt_ms": W.DT})
else:
    eqs = ("dv/dt = (-gl*(v - EL) + gl*DT*exp((v - VT)/DT) - w + I + drive + noise)/C/ms : 1\n"
           "dw/dt = (a*(v - EL) - w)/tau_w : 1\n") + common
    ns = {"gl": P["g_l_nS"] * 1e-3, "C": P["c_pF"] * 1e-3, "EL": P["e_l_mV"], "VT": P["v_t_mV"],
          "DT": P["delta_t_mV"], "a": P["a_nS"] * 1e-3, "tau_w": P["tau_w_ms"] * ms}
    peak = P["v_t_mV"] + 5 * P["delta_t_mV"]
    G = b2.NeuronGroup(N, eqs, threshold=f"v >= {peak}", reset=f"v = {P['v_r_mV']}; w += {P['b_nA']}",
                       method="euler", namespace={**ns, "tau_syn": W.TAU_SYN * ms, "dt_ms": W.DT})
G.drive = np.r_[np.full(NE, P["drive"]["E"]), np.full(N - NE, P["drive"]["I"])]
G.sigma = np.r_[np.full(NE, P["sigma"]["E"]), np.full(N - NE, P["sigma"]["I"])]
G.v = P["v0_mV"]
S = b2.Synapses(G, G, "w_syn : 1 (constant)", on_pre="I_post += w_syn")
S.connect(i=pre, j=post)
S.w_syn = w * P["weight"]
mon = b2.SpikeMonitor(G, record=False)
net = b2.Network(G, S, mon)
build_s = tm.lap()
net.run(args.T * ms)
dev = b2.get_device()
dev.build(directory=outdir, compile=True, run=False, with_output=False)
compile_s = tm.lap()
runs, walls, cpu = [], [], []
for r in range(args.reps):
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    dev.run(directory=outdir, with_output=False, run_args=None)
    walls.append(time.perf_counter() - t0)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append((ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime))
    runs.append(float(dev._last_run_time))
counts = np.asarray(mon.count[:])
T_s = args.T / 1000.0
W.report(tool="brian2", model=args.model, variant=f"standalone_t{args.threads}", N=N, T_ms=args.T,
         brian2=b2.__version__, build_s=build_s, compile_s=compile_s, run_s=float(np.median(runs)), runs=runs,
         run_wall_s=float(np.median(walls)), cpu_s=float(np.median(cpu)), spikes=int(counts.sum()),
         rate_e=float(counts[:NE].sum() / NE / T_s), rate_i=float(counts[NE:].sum() / (N - NE) / T_s))
