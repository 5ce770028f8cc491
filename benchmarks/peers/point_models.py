"""LIF and AdEx versions of the shared canonical network (../shared/bench/workload.py): the
same explicit edge list (workload.edges: in-degree 100, 80 E / 20 I sources, w_E ~ U(0, 1),
w_I ~ -U(0, 2)), exponential current synapses tau 5 ms with one step of delay, Gaussian noise
redrawn every step, dt 0.1 ms, 1,000 ms; only the neuron model and the weight unit change.
Imported by brian2_point_models.py (Brian2) and ../canonical.py --model (jaxfne), so both
run exactly these numbers.

LIF (jaxfne ``lif``; Brian2 ``exponential_euler``, exact for this linear equation with the
input held over the step, as jaxfne's update):
    tau_m dV/dt = E_L - V + I + drive + noise   (mV; I: synaptic, R times the current)
    V >= V_th -> V = V_reset, held for t_ref
AdEx (jaxfne ``adex``; Brian2 ``euler``, jaxfne's forward Euler), Brette & Gerstner 2005
standard set, currents in nA:
    C dV/dt = -g_L (V - E_L) + g_L D_T exp((V - V_T) / D_T) - w + I + drive + noise
    tau_w dw/dt = a (V - E_L) - w;   V >= V_T + 5 D_T -> V = V_r, w += b
Noise: per-step SD sigma sqrt(1 ms / dt) of the input (mV for LIF, nA for AdEx), as both
emitters define it. Weights: workload weight x ``weight`` (mV for LIF, nA for AdEx). Drives and
noise are chosen so both run near the Izhikevich workload's rate (about 9 Hz at N = 2,000 in
jaxfne); the peers' rates in the same run are the check that the equations are the same.
"""

LIF = {"tau_m_ms": 20.0, "e_l_mV": -70.0, "v_th_mV": -50.0, "v_reset_mV": -65.0, "t_ref_ms": 2.0,
       "drive": {"E": 15.0, "I": 15.0}, "sigma": {"E": 20.0, "I": 20.0}, "weight": 1.0, "v0_mV": -70.0}
ADEX = {"c_pF": 281.0, "g_l_nS": 30.0, "e_l_mV": -70.6, "v_t_mV": -50.4, "delta_t_mV": 2.0, "tau_w_ms": 144.0,
        "a_nS": 4.0, "b_nA": 0.0805, "v_r_mV": -70.6, "drive": {"E": 0.55, "I": 0.55}, "sigma": {"E": 0.5, "I": 0.5},
        "weight": 0.05, "v0_mV": -70.6}
MODELS = {"lif": LIF, "adex": ADEX}
