"""Synaptic plasticity on chosen pathways: pair-based STDP with traces and inhibitory STDP
(Vogels et al. 2011), updated inside the simulation's ``lax.scan``.

A rule acts on the synapses of the network pathways it names (``network.pathways``; input
synapses stay fixed). Each plastic synapse keeps its sign and a magnitude m = |w| in native
weight units (the units of ``Circuit.weight``), bounded to [0, w_max].

Traces (one per rule): a presynaptic trace x_i and a postsynaptic trace y_j per cell, each
decaying as exp(-dt / tau) per step and incremented by 1 when its cell spikes. Spike time is
the emission step at the soma (axonal delays do not shift the window). In each step the
traces decay, the weights are updated from the traces as they stand (so a pre and a post
spike of the same step do not pair), then this step's spikes are added to the traces and
delivered with the updated weights (as NEST's stdp_synapse sends a spike with the weight after
its update). For one
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

With several spikes the traces sum every earlier partner (all-to-all pairing).

Two paths with one update formula (:func:`new_magnitude`), equal to the bit: with event
connectivity and bool spikes, only the synapses of the cells that spiked are touched
(:func:`plasticity_events`: O(N / 32 + spikes x plastic fan-out) a step, as Brian2's on_pre /
on_post); otherwise (dense or edge-list connectivity, float surrogate spikes) every plastic
synapse is updated each step (:func:`plasticity_step`, O(E_plastic)).
"""
from __future__ import annotations

from typing import Optional

import attrs
import jax
import jax.numpy as jnp
import numpy as np

from jaxfne_core.errors import ConfigError
from jaxfne_core.validators import FieldValueError, number, one_of, optional

from .connectivity import event_chunk
from .events import SpikeEvents

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


def ell_rows(keys, values, n: int, pad, spread: bool = True) -> np.ndarray:
    """(n + 1, kmax) int32: row k lists ``values`` of the entries whose key is k, in stable
    order; unused slots and the padding row n hold ``pad + slot`` (``spread``) or ``pad``."""
    order = np.argsort(keys, kind="stable")
    k, v = keys[order], values[order]
    counts = np.bincount(k, minlength=n)
    kmax = max(int(counts.max()) if counts.size else 0, 1)
    slot = np.arange(k.size) - np.r_[0, np.cumsum(counts)[:-1]][k]
    table = np.tile(pad + (np.arange(kmax, dtype=np.int64) if spread else np.zeros(kmax, np.int64)), (n + 1, 1))
    table[k, slot] = v
    return table.astype(np.int32)


def table_positions(pre, n_pre: int, kmax: int) -> np.ndarray:
    """(E,) where each synapse sits in the (n_pre + 1, kmax) outgoing table of
    :func:`connectivity.outgoing_table` (same stable order), flattened: pre kmax + slot."""
    order = np.argsort(pre, kind="stable")
    p = pre[order]
    counts = np.bincount(p, minlength=n_pre)
    slot = np.arange(p.size) - np.r_[0, np.cumsum(counts)[:-1]][p]
    pos = np.empty(pre.size, np.int64)
    pos[order] = p.astype(np.int64) * kmax + slot
    return pos


def plasticity_params(rules, plan, circuit, positions=None, size: Optional[int] = None) -> dict:
    """The plan as JAX arrays (pytree of params). Without ``positions`` the weights are the
    source's edge-ordered vector (network edges first). With them (event connectivity) the
    weights sit in the outgoing table's layout: synapse e at ``positions[e]`` of a flat vector
    of ``size`` entries plus scratch, so a spiking cell's synapses are contiguous; then per
    rule each cell's outgoing synapses (``out_pos``, ``out_post``, ``out_sign``) and incoming
    ones (``in_pos``, ``in_pre``, ``in_sign``), padded with scratch entries and cell N."""
    n = circuit.n_cells
    where = (lambda e: e) if positions is None else (lambda e: positions[e])
    out = []
    for r, p in zip(rules, plan["rules"]):
        idx = p["edges"]
        f32 = lambda x: jnp.asarray(x, jnp.float32)
        consts = {"w_max": f32(np.inf if r.w_max is None else r.w_max)}
        if r.rule == "stdp":
            consts.update(a_plus=f32(r.a_plus), a_minus=f32(r.a_minus))
        else:
            consts.update(eta=f32(r.eta), alpha=f32(2.0 * r.target_rate_hz / 1000.0 * r.tau_ms))
        pre, post, sign = circuit.pre[idx], circuit.post[idx], p["sign"].astype(np.int64)
        entry = {"edges": jnp.asarray(where(idx), jnp.int32), "pre": jnp.asarray(pre, jnp.int32),
                 "post": jnp.asarray(post, jnp.int32), "sign": jnp.asarray(p["sign"]),
                 "decay_pre": f32(p["decay"][0]), "decay_post": f32(p["decay"][1]),
                 "record": jnp.asarray(where(idx[p["record"]]), jnp.int32), **consts}
        if positions is not None:
            at = where(idx)
            entry.update(out_pos=ell_rows(pre, at, n, size), out_post=ell_rows(pre, post, n, n, False),
                         out_sign=ell_rows(pre, sign, n, 0, False),
                         in_pos=ell_rows(post, at, n, size), in_pre=ell_rows(post, pre, n, n, False),
                         in_sign=ell_rows(post, sign, n, 0, False))
            entry = {k: jnp.asarray(v) for k, v in entry.items()}
        out.append(entry)
    params = {"rules": out}
    if positions is not None:
        width = max([int(e[k].shape[1]) for e in out for k in ("out_pos", "in_pos")] + [1])
        # (size, 0): no bytes, its shape says the table's size (static under jit)
        params.update(edge_pos=jnp.asarray(positions, jnp.int32), table=jnp.zeros((size, 0), jnp.float32),
                      scratch=jnp.zeros((width,), jnp.float32))
    return params


def initial_weights(params, w):
    """The state's weight vector from the source's edge-ordered weights ``w`` (E_in,)."""
    if "edge_pos" not in params:
        return w
    flat = jnp.zeros((params["table"].shape[0],), jnp.float32).at[params["edge_pos"]].set(w[:params["edge_pos"].shape[0]])
    return jnp.concatenate([flat, params["scratch"]])


def edge_weights(params, w, n_edges: int):
    """(n_edges,) the first synapses' signed weights from the state's weight vector."""
    return w[params["edge_pos"][:n_edges]] if "edge_pos" in params else w[:n_edges]


def initial_traces(params, n_cells: int) -> list:
    """Per rule: zero pre and post traces (N,)."""
    return [{"x": jnp.zeros((n_cells,), jnp.float32), "y": jnp.zeros((n_cells,), jnp.float32)}
            for _ in params["rules"]]


def new_magnitude(rule, p, m, s_pre, s_post, x_pre, y_post):
    """|w| after one step from |w| = m, the pre and post spikes (0/1) of the step and the
    traces as they stand (decayed, before this step's spikes). The one formula of both paths."""
    if rule.rule == "stdp":
        pot, dep = s_post * x_pre, s_pre * y_post
        if rule.weight_dependence == "additive":
            m = m + p["w_max"] * (p["a_plus"] * pot - p["a_minus"] * dep)
        else:
            m = m + p["a_plus"] * (p["w_max"] - m) * pot - p["a_minus"] * m * dep
    else:
        m = m + p["eta"] * (s_pre * (y_post - p["alpha"]) + s_post * x_pre)
    return jnp.clip(m, 0.0, p["w_max"])


def plasticity_step(rules, params, traces, w, spikes):
    """One step of every rule, every plastic synapse (O(E_plastic); float spikes welcome):
    ``spikes`` (N,) the previous step's spikes, ``w`` the signed weight vector (network edges
    first). -> (traces, w)."""
    s = spikes.astype(jnp.float32)
    new = []
    for r, p, tr in zip(rules, params["rules"], traces):
        x, y = tr["x"] * p["decay_pre"], tr["y"] * p["decay_post"]
        idx = p["edges"]
        m = new_magnitude(r, p, jnp.abs(w[idx]), s[p["pre"]], s[p["post"]], x[p["pre"]], y[p["post"]])
        w = w.at[idx].set(p["sign"] * m)
        new.append({"x": x + s, "y": y + s})
    return new, w


def plasticity_events(rules, params, traces, w, spikes):
    """:func:`plasticity_step` touching only the synapses of this step's spiking cells
    (bool spikes; O(N / 32 + spikes x plastic fan-out); weights in the table layout of
    :func:`plasticity_params`): every plastic synapse out of a spiking cell (its depression,
    and its potentiation when the post cell spiked too) and every synapse into a spiking cell
    whose pre cell did not spike (the others are the first kind). Each synapse is updated at
    most once, by :func:`new_magnitude`, so the result equals the dense step exactly; both
    kinds go in one scatter per chunk of spiking cells."""
    n = spikes.shape[0]
    size = event_chunk(n)
    events = SpikeEvents(spikes)
    n_chunks = (events.count + size - 1) // size
    s = jnp.concatenate([spikes.astype(jnp.float32), jnp.zeros((1,), jnp.float32)])
    scratch = params["table"].shape[0]          # first scratch entry of the weight vector
    new = []
    for r, p, tr in zip(rules, params["rules"], traces):
        x = jnp.concatenate([tr["x"] * p["decay_pre"], jnp.zeros((1,), jnp.float32)])
        y = jnp.concatenate([tr["y"] * p["decay_post"], jnp.zeros((1,), jnp.float32)])

        def body(i, carry):
            # the cells come in the carry, found the iteration before (as event_delivery
            # does): computed in the body, XLA fuses the binary search of indices() into
            # every gather below, once per gathered element (several times slower)
            w, cells = carry
            mine_out = jnp.broadcast_to(cells[:, None], p["out_pos"][cells].shape).reshape(-1)
            mine_in = jnp.broadcast_to(cells[:, None], p["in_pos"][cells].shape).reshape(-1)
            pre = jnp.concatenate([mine_out, p["in_pre"][cells].reshape(-1)])
            post = jnp.concatenate([p["out_post"][cells].reshape(-1), mine_in])
            ids = jnp.concatenate([p["out_pos"][cells].reshape(-1), p["in_pos"][cells].reshape(-1)])
            sign = jnp.concatenate([p["out_sign"][cells].reshape(-1), p["in_sign"][cells].reshape(-1)])
            incoming = jnp.arange(ids.shape[0]) >= mine_out.shape[0]
            # an incoming synapse whose pre cell spiked is the outgoing one's: write it to scratch
            ids = jnp.where(incoming & (s[pre] > 0), scratch, ids)
            m_new = new_magnitude(r, p, jnp.abs(w[ids]), s[pre], s[post], x[pre], y[post])
            return w.at[ids].set(sign.astype(jnp.float32) * m_new), events.indices((i + 1) * size, size)
        w = jax.lax.fori_loop(0, n_chunks, body, (w, events.indices(0, size)))[0]
        new.append({"x": x[:n] + s[:n], "y": y[:n] + s[:n]})
    return new, w


def recorded_weights(params, w):
    """(K,) |w| of the synapses the rules record, rule by rule."""
    parts = [jnp.abs(w[p["record"]]) for p in params["rules"]]
    return jnp.concatenate(parts) if parts else jnp.zeros((0,), jnp.float32)
