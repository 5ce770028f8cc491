"""Pathway connectivity: edges drawn per (pre -> post) population pair from
``NetworkConfig.pathways`` (:class:`jaxfne_emitters.network_config.PathwayConfig`), with per-pathway
probability or in-degree, weight distribution, receptor, delay and lateral distance
dependence; and the per-edge delays of networks without pathways.

Draws (all from the network's generator, in pathway order, so a network is a function of
its configuration and seed):
- ``p``: each ordered pair (i != j) independently, with probability p exp(-r^2 / 2 sigma^2)
  at lateral distance r when lateral_sigma_um is set (exact Bernoulli draws in blocks of
  postsynaptic cells, memory O(block x pool)).
- ``indegree`` K: every postsynaptic cell gets K distinct presynaptic partners (no self),
  uniformly or with weights exp(-r^2 / 2 sigma^2) (Efraimidis-Spirakis keys: sampling
  without replacement proportional to the weights). K above the pool size is refused.
"""
from __future__ import annotations

import numpy as np

from jaxfne_core.errors import ConfigError
from jaxfne_core.memory import check_fits
from jaxfne_core.stages import Pathway

BLOCK_ENTRIES = 2**24        # pair draws per block (postsynaptic cells x pool)


def members(spec: str, names, population, class_of) -> np.ndarray:
    """Indices of the cells a pathway end names: a population, a class or ``*``."""
    if spec == "*":
        return np.arange(population.size)
    chosen = [i for i, n in enumerate(names) if n == spec or class_of(n) == spec]
    if not chosen:
        return None
    return np.nonzero(np.isin(population, chosen))[0]


def _lateral_weight(pos, post_idx, pre_idx, sigma):
    if sigma is None:
        return None
    d2 = ((pos[post_idx, None, :2] - pos[None, pre_idx, :2]) ** 2).sum(-1)
    return np.exp(-d2 / (2.0 * sigma * sigma))


def _draw_pairs(spec, pre_idx, post_idx, pos, rng):
    """-> (pre, post) int64 arrays of one pathway's edges, sorted by post."""
    block = max(1, BLOCK_ENTRIES // max(1, pre_idx.size))
    pres, posts = [], []
    for start in range(0, post_idx.size, block):
        post_b = post_idx[start:start + block]
        self_pair = post_b[:, None] == pre_idx[None, :]
        lateral = _lateral_weight(pos, post_b, pre_idx, spec.lateral_sigma_um)
        if spec.p is not None:
            prob = spec.p if lateral is None else spec.p * lateral
            mask = (rng.random((post_b.size, pre_idx.size)) < prob) & ~self_pair
            r, c = np.nonzero(mask)
        else:
            k = spec.indegree
            pool = pre_idx.size - self_pair.any(axis=1)
            if k > pool.min(initial=k):
                raise ConfigError([("$.network.pathways", f"pathway {spec.name!r}: indegree {k} exceeds the "
                                    f"{int(pool.min())} possible presynaptic partners; allowed: up to that")])
            keys = np.log(rng.random((post_b.size, pre_idx.size)))          # Efraimidis-Spirakis
            if lateral is not None:
                keys = keys / np.maximum(lateral, 1e-300)
            keys[self_pair] = -np.inf
            r = np.repeat(np.arange(post_b.size), k)
            c = np.argpartition(-keys, k - 1, axis=1)[:, :k].ravel() if k else np.zeros(0, np.int64)
        posts.append(post_b[r])
        pres.append(pre_idx[c])
    return np.concatenate(pres), np.concatenate(posts)


def draw_weights(spec, size, rng) -> np.ndarray:
    """(size,) weight magnitudes >= 0 of a pathway (native)."""
    if spec.weight_dist == "uniform":
        return spec.weight * rng.random(size)
    if spec.weight_dist == "constant":
        return np.full(size, spec.weight)
    if spec.weight_dist == "normal":
        return np.maximum(rng.normal(spec.weight, spec.weight_sd, size), 0.0)
    sigma2 = np.log1p((spec.weight_sd / spec.weight) ** 2)              # lognormal with that mean and SD
    return rng.lognormal(np.log(spec.weight) - 0.5 * sigma2, np.sqrt(sigma2), size)


def draw_delays(delay_ms, spread_ms, size, rng):
    """(size,) delays in ms uniform in delay_ms +- spread_ms, or None (one step) without
    delay_ms."""
    if delay_ms is None:
        return None
    if spread_ms == 0:
        return np.full(size, float(delay_ms))
    return rng.uniform(delay_ms - spread_ms, delay_ms + spread_ms, size)


def pathway_edges(network, names, population, positions, excitatory, class_of, rng):
    """All pathways' edges: -> (pre int32, post int32, signed weight float32, delay_ms float64
    or None, edge_pathway int32, pathways tuple of :class:`Pathway`), sorted by post."""
    parts = []
    for i, spec in enumerate(network.pathways):
        ends = {}
        for end in ("pre", "post"):
            ends[end] = members(getattr(spec, end), names, population, class_of)
            if ends[end] is None:
                allowed = sorted(set(names) | {class_of(n) for n in names}) + ["*"]
                raise ConfigError([(f"$.network.pathways[{i}].{end}", f"{getattr(spec, end)!r} names no population; "
                                    f"allowed: {allowed}")])
        expected = ends["post"].size * (spec.indegree if spec.p is None else spec.p * ends["pre"].size)
        check_fits(int(expected * 40), f"drawing ~{expected:.3g} synapses of pathway {spec.name!r}")
        pre, post = _draw_pairs(spec, ends["pre"], ends["post"], positions, rng)
        w = draw_weights(spec, pre.size, rng) * np.where(excitatory[pre], 1.0, -1.0)
        delay = spec.delay_ms if spec.delay_ms is not None else network.delay_ms
        spread = spec.delay_spread_ms if spec.delay_ms is not None else network.delay_spread_ms
        d = draw_delays(delay, spread, pre.size, rng)
        parts.append((pre, post, w, d, np.full(pre.size, i)))
    pre, post, w, which = (np.concatenate([p[k] for p in parts]) for k in (0, 1, 2, 4))
    delay = None
    if any(p[3] is not None for p in parts):        # NaN: the default delay of one step
        delay = np.concatenate([p[3] if p[3] is not None else np.full(p[0].size, np.nan) for p in parts])
    order = np.argsort(post, kind="stable")
    info = tuple(Pathway(s.name, s.receptor) for s in network.pathways)
    delay = None if delay is None else delay[order]
    return (pre[order].astype(np.int32), post[order].astype(np.int32), w[order].astype(np.float32),
            delay, which[order].astype(np.int32), info)
