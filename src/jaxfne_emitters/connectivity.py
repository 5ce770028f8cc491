"""Random connectivity as an explicit edge list (pre, post, signed weight), sorted by post."""
from __future__ import annotations

from typing import Optional

import numpy as np

from jaxfne_core.errors import ConfigError
from jaxfne_core.memory import check_fits

DENSE_DRAW_MAX_N = 4096
AUTO_DENSE_MIN_DENSITY = 0.05          # edges / N^2 from which dense beats the edge list (float spikes)
AUTO_DENSE_MAX_BYTES = 64 * 2**20      # ... while two channels' matrices stay this small


def resolve_connectivity(choice: str, n: int, n_edges: Optional[int] = None, float_spikes: bool = False) -> str:
    """``auto`` -> the fastest delivery for this network, measured on a 2-core CPU (p = 0.1):

    - bool spikes: ``event`` at every size. It tied dense at N = 50 and beat it 1.5x at 100
      and 5x at 1000 (0.13 s against 0.66 s for 1 s of activity), and beats the edge list by
      far more: its work is N / 32 + spikes x fan-out, theirs N^2 and edges.
    - float (surrogate-gradient) spikes, which event delivery cannot take: ``dense`` where
      the density edges / N^2 is at least 5% and two channels' (N, N) matrices fit in 64 MiB
      (dense 0.66 s against the edge list's 3.3 s at N = 1000, 9.0 s against 13.2 s at 2000),
      else ``edge_list`` (its cost follows the edges, not N^2). Without ``n_edges`` the
      density is taken as 1.
    """
    if choice != "auto":
        return choice
    if not float_spikes:
        return "event"
    dense_enough = n_edges is None or n_edges >= AUTO_DENSE_MIN_DENSITY * n * n
    small_enough = 2 * 4 * n * n <= AUTO_DENSE_MAX_BYTES
    return "dense" if dense_enough and small_enough else "edge_list"


def event_chunk(n: int) -> int:
    """Spikes handled per chunk of event-driven delivery: a power of two near n / 1000 (about
    the spikes of one 0.1 ms step at 10 Hz), 8..512. On a 2-core CPU, 8-16 at 10^4 were about
    20% faster than 32-64 in isolation; at 10^5, 32-256 differed by less than the machine's
    noise."""
    return int(max(8, min(512, 2 ** int(np.ceil(np.log2(max(1.0, n * 1e-3)))))))


def outgoing_table(pre, target, weight, n: int, dummy: int):
    """ELL by presynaptic cell: (n + 1, kmax) targets and weights. Row n (the padding row of
    spike lists) and the unused slots have weight 0 and point at ``dummy + slot``, a scratch
    region of kmax entries after the real targets: spreading them keeps padded updates off a
    single address (repeated adds to one address serialize a scatter). Returns (tgt, wt)."""
    order = np.argsort(pre, kind="stable")
    p, t, w = pre[order], target[order], weight[order]
    counts = np.bincount(p, minlength=n)
    kmax = max(int(counts.max()) if counts.size else 0, 1)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    slot = np.arange(p.size) - starts[p]
    tgt = np.tile(dummy + np.arange(kmax, dtype=np.int32), (n + 1, 1))
    wt = np.zeros((n + 1, kmax), np.float32)
    tgt[p, slot] = t
    wt[p, slot] = w
    return tgt, wt


def row_channels(pre, edge_channel, n: int):
    """(n,) the channel of each presynaptic cell's synapses (0 for cells without any); raises
    ValueError when a cell's synapses use several channels (event delivery scales a cell's
    whole row by one channel gain)."""
    first = np.zeros(n, np.int64)
    first[pre[::-1]] = edge_channel[::-1]          # the channel of each cell's first edge
    mixed = np.nonzero(first[pre] != edge_channel)[0]
    if mixed.size:
        raise ConfigError(f"presynaptic cell {int(pre[mixed[0]])} has synapses in several channels; "
                         f"event connectivity needs one channel per presynaptic cell")
    return first


def random_edges(excitatory: np.ndarray, p: float, w_exc: float, w_inh: float,
                 rng: np.random.Generator, group=None, p_between=None):
    """Each ordered pair i != j is connected with probability p (exact Bernoulli draws up to
    4096 cells; above that, each cell draws Binomial(N-1, p) presynaptic partners with
    replacement, like the canonical benchmark). Weight magnitude ~ U(0, w_max) of the
    presynaptic sign: +w_exc for excitatory, -w_inh for inhibitory cells (native units).
    With ``group`` (N,) (e.g. the layer of each cell), pairs in different groups connect with
    probability ``p_between`` instead. Returns int32 pre, int32 post, float32 weight.
    """
    n = excitatory.size
    group = np.zeros(n, int) if group is None else np.asarray(group)
    p_between = p if p_between is None else p_between
    expected = float(n) * (n - 1) * max(p, p_between)
    # each edge: pre, post (int64 while drawn), weight and its bound (float64), sort order
    check_fits(int(expected * 40) + (n * n if n <= DENSE_DRAW_MAX_N else 0) * 9,
               f"drawing ~{expected:.3g} synapses (n = {n}, p_connect = {max(p, p_between)})",
               "lower network.p_connect (or p_between_layers) or network.n")
    if n <= DENSE_DRAW_MAX_N:
        prob = np.where(group[:, None] == group[None, :], p, p_between)
        mask = rng.random((n, n)) < prob      # mask[post, pre]
        np.fill_diagonal(mask, False)
        post, pre = np.nonzero(mask)
    else:
        posts, pres = [], []
        for g in np.unique(group):
            members, others = np.nonzero(group == g)[0], np.nonzero(group != g)[0]
            k_in = rng.binomial(members.size - 1, p, size=members.size)
            post_in = np.repeat(members, k_in)
            slot = rng.integers(0, members.size - 1, size=post_in.size)
            own = np.searchsorted(members, post_in)
            pres.append(members[slot + (slot >= own)])          # skip self
            posts.append(post_in)
            if others.size:
                k_out = rng.binomial(others.size, p_between, size=members.size)
                posts.append(np.repeat(members, k_out))
                pres.append(others[rng.integers(0, others.size, size=k_out.sum())])
        post, pre = np.concatenate(posts), np.concatenate(pres)
        order = np.argsort(post, kind="stable")
        post, pre = post[order], pre[order]
    w_max = np.where(excitatory[pre], w_exc, -w_inh)
    weight = (w_max * rng.random(pre.size)).astype(np.float32)
    return pre.astype(np.int32), post.astype(np.int32), weight
