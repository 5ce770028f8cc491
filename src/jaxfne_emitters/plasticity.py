"""Synaptic plasticity on chosen pathways: pair-based STDP with traces and inhibitory STDP
(Vogels et al. 2011), updated inside the simulation's ``lax.scan``.

A rule acts on the synapses of the network pathways it names (``network.pathways``; input
synapses stay fixed). Each plastic synapse keeps its sign and a magnitude m = |w| in native
weight units (the units of ``Circuit.weight``), bounded to [0, w_max].

Traces (one per rule): a presynaptic trace x_i and a postsynaptic trace y_j per cell, each
decaying as exp(-dt / tau) per step and incremented by 1 when its cell spikes. Spike time is
the emission step at the soma (axonal delays do not shift the window). In each step the
traces decay, the weights are updated from the traces as they stand (so a pre and a post
spike of the same step do not pair), then this step's spikes are added to the traces. For one
pre spike at t_pre and one post spike at t_post = t_pre + dt_lag this gives exactly:

- ``stdp``, ``additive``:        dt_lag > 0: +a_plus w_max exp(-dt_lag / tau_plus);
                                 dt_lag < 0: -a_minus w_max exp(dt_lag / tau_minus)
- ``stdp``, ``multiplicative``:  +a_plus (w_max - m) exp(-dt_lag / tau_plus) and
                                 -a_minus m exp(dt_lag / tau_minus)  (m before the update;
                                 van Rossum et al. 2000: soft bounds)
- ``istdp`` (Vogels et al. 2011): every pre spike m += eta (y_j - alpha) and every post spike
                                 m += eta x_i with alpha = 2 rho_0 tau: a pair gives
                                 eta (exp(-|dt_lag| / tau) - alpha); the postsynaptic rate is
                                 driven toward rho_0 = ``target_rate_hz``.

With several spikes the traces sum every earlier partner (all-to-all pairing). Cost: O(E_k)
per step for the E_k synapses of rule k (a gather of two traces, a scatter of weights), on
top of the delivery.
"""
from __future__ import annotations

from typing import Optional

import attrs
import jax.numpy as jnp
import numpy as np

from jaxfne_core.errors import ConfigError
from jaxfne_core.validators import FieldValueError, number, one_of, optional

RULES = ("stdp", "istdp")
#: rule -> the options it reads (the others must stay unset)
READS = {"stdp": ("tau_plus_ms", "tau_minus_ms", "a_plus", "a_minus", "weight_dependence"),
         "istdp": ("tau_ms", "eta", "target_rate_hz")}


@attrs.frozen(kw_only=True)
class PlasticityRule:
    """One plasticity rule. rule: ``stdp`` (pair-based, traces tau_plus_ms / tau_minus_ms,
    amplitudes a_plus / a_minus as fractions of w_max (additive) or of the distance to the
    bound (multiplicative), ``weight_dependence`` ``additive`` or ``multiplicative``) or
    ``istdp`` (Vogels et al. 2011: symmetric window tau_ms, learning rate eta in native weight
    units per pairing, target postsynaptic rate target_rate_hz). pathways: names of network
    pathways (``pre->post``) whose synapses learn. w_max: upper bound of |w| (native weight
    units; required by stdp; istdp: None = unbounded above). record: how many of its synapses
    the ``weights`` recording mode samples (evenly spaced among them)."""

    rule: str = attrs.field(validator=one_of(*RULES))
    pathways: tuple[str, ...] = attrs.field(converter=tuple)
    w_max: Optional[float] = attrs.field(default=None, validator=optional(number(0, lo_open=True)))
    tau_plus_ms: float = attrs.field(default=16.8, validator=number(0, 10_000, lo_open=True))
    tau_minus_ms: float = attrs.field(default=33.7, validator=number(0, 10_000, lo_open=True))
    a_plus: float = attrs.field(default=0.01, validator=number(0, 1))
    a_minus: float = attrs.field(default=0.0105, validator=number(0, 1))
    weight_dependence: str = attrs.field(default="additive", validator=one_of("additive", "multiplicative"))
    tau_ms: float = attrs.field(default=20.0, validator=number(0, 10_000, lo_open=True))
    eta: float = attrs.field(default=0.01, validator=number(0, 1e6))
    target_rate_hz: float = attrs.field(default=5.0, validator=number(0, 1000))
    record: int = attrs.field(default=100, validator=number(0, 10**7))

    def __attrs_post_init__(self):
        if not self.pathways or not all(isinstance(p, str) and p for p in self.pathways):
            raise FieldValueError("pathways", f"a plasticity rule names the network pathways it acts on "
                                  f"('pre->post'), got {self.pathways!r}")
        fields = attrs.fields_dict(type(self))
        other = [n for r, names in READS.items() if r != self.rule for n in names]
        unused = [n for n in other if getattr(self, n) != fields[n].default]
        if unused:
            raise FieldValueError(unused[0], f"{unused} do not apply to rule {self.rule!r}; it reads "
                                  f"{list(READS[self.rule])} (and pathways, w_max, record)")
        if self.rule == "stdp" and self.w_max is None:
            raise FieldValueError("w_max", "rule 'stdp' needs its bound w_max (> 0, native weight units)")


def plasticity_plan(rules, circuit, dt_ms: float) -> Optional[dict]:
    """Static arrays of the rules on ``circuit`` (None without rules): per rule its synapses
    (indices into the circuit's edges), their endpoints and signs, trace decays and constants.
    Refuses pathways the circuit does not declare, and synapses claimed by two rules."""
    if not rules:
        return None
    names = [p.name for p in circuit.pathways]
    if circuit.edge_pathway is None or not names:
        raise ConfigError([("$.source.plasticity", "plasticity acts on declared pathways, but the network "
                            "declares none; allowed: network.pathways with names 'pre->post'")])
    owner = np.full(circuit.n_edges, -1, np.int64)
    plan = []
    for k, r in enumerate(rules):
        unknown = [p for p in r.pathways if p not in names]
        if unknown:
            raise ConfigError([(f"$.source.plasticity[{k}].pathways", f"{unknown} are not pathways of the "
                                f"network; allowed: {names}")])
        chosen = np.isin(circuit.edge_pathway, [names.index(p) for p in r.pathways])
        idx = np.nonzero(chosen)[0]
        twice = idx[owner[idx] >= 0]
        if twice.size:
            raise ConfigError([(f"$.source.plasticity[{k}].pathways", f"pathway "
                                f"{names[int(circuit.edge_pathway[twice[0]])]!r} already learns under rule "
                                f"{int(owner[twice[0]])}; allowed: each pathway in one rule")])
        owner[idx] = k
        w = circuit.weight[idx]
        sign = np.where(w != 0, np.sign(w), np.where(circuit.excitatory[circuit.pre[idx]], 1.0, -1.0))
        if r.w_max is not None and np.any(np.abs(w) > r.w_max):
            raise ConfigError([(f"$.source.plasticity[{k}].w_max", f"{r.w_max} is below the largest starting "
                                f"|weight| {float(np.abs(w).max()):.6g} of its synapses; allowed: w_max >= that")])
        taus = (r.tau_plus_ms, r.tau_minus_ms) if r.rule == "stdp" else (r.tau_ms, r.tau_ms)
        rec = np.unique(np.linspace(0, idx.size - 1, min(r.record, idx.size)).round().astype(np.int64)) \
            if idx.size and r.record else np.zeros(0, np.int64)
        plan.append({"edges": idx, "sign": sign.astype(np.float32), "decay": np.exp(-dt_ms / np.array(taus)),
                     "record": rec})
    return {"rules": plan, "owner": owner}


def plasticity_params(rules, plan, circuit) -> dict:
    """The plan as JAX arrays (pytree of params)."""
    out = []
    for r, p in zip(rules, plan["rules"]):
        idx = p["edges"]
        f32 = lambda x: jnp.asarray(x, jnp.float32)
        consts = {"w_max": f32(np.inf if r.w_max is None else r.w_max)}
        if r.rule == "stdp":
            consts.update(a_plus=f32(r.a_plus), a_minus=f32(r.a_minus))
        else:
            consts.update(eta=f32(r.eta), alpha=f32(2.0 * r.target_rate_hz / 1000.0 * r.tau_ms))
        out.append({"edges": jnp.asarray(idx, jnp.int32), "pre": jnp.asarray(circuit.pre[idx], jnp.int32),
                    "post": jnp.asarray(circuit.post[idx], jnp.int32), "sign": jnp.asarray(p["sign"]),
                    "decay_pre": f32(p["decay"][0]), "decay_post": f32(p["decay"][1]),
                    "record": jnp.asarray(idx[p["record"]], jnp.int32), **consts})
    return {"rules": out}


def initial_traces(params, n_cells: int) -> list:
    """Per rule: zero pre and post traces (N,)."""
    return [{"x": jnp.zeros((n_cells,), jnp.float32), "y": jnp.zeros((n_cells,), jnp.float32)}
            for _ in params["rules"]]


def plasticity_step(rules, params, traces, w, spikes):
    """One step of every rule: ``spikes`` (N,) the previous step's spikes (bool or float), ``w``
    (E,) signed weights of all synapses (the network's first). -> (traces, w)."""
    s = spikes.astype(jnp.float32)
    new = []
    for r, p, tr in zip(rules, params["rules"], traces):
        x, y = tr["x"] * p["decay_pre"], tr["y"] * p["decay_post"]
        idx = p["edges"]
        m = jnp.abs(w[idx])
        s_pre, s_post = s[p["pre"]], s[p["post"]]
        if r.rule == "stdp":
            pot, dep = s_post * x[p["pre"]], s_pre * y[p["post"]]
            if r.weight_dependence == "additive":
                m = m + p["w_max"] * (p["a_plus"] * pot - p["a_minus"] * dep)
            else:
                m = m + p["a_plus"] * (p["w_max"] - m) * pot - p["a_minus"] * m * dep
        else:
            m = m + p["eta"] * (s_pre * (y[p["post"]] - p["alpha"]) + s_post * x[p["pre"]])
        m = jnp.clip(m, 0.0, p["w_max"])
        w = w.at[idx].set(p["sign"] * m)
        new.append({"x": x + s, "y": y + s})
    return new, w


def recorded_weights(params, w):
    """(K,) |w| of the synapses the rules record, rule by rule."""
    parts = [jnp.abs(w[p["record"]]) for p in params["rules"]]
    return jnp.concatenate(parts) if parts else jnp.zeros((0,), jnp.float32)
