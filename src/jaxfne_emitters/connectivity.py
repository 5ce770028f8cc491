"""Random connectivity as an explicit edge list (pre, post, signed weight), sorted by post."""
from __future__ import annotations

import numpy as np

DENSE_DRAW_MAX_N = 4096


def random_edges(excitatory: np.ndarray, p: float, w_exc: float, w_inh: float,
                 rng: np.random.Generator):
    """Each ordered pair i != j is connected with probability p (exact Bernoulli draws up to
    4096 cells; above that, each cell draws Binomial(N-1, p) presynaptic partners with
    replacement, like the canonical benchmark). Weight magnitude ~ U(0, w_max) of the
    presynaptic sign: +w_exc for excitatory, -w_inh for inhibitory cells (native units).
    Returns int32 pre, int32 post, float32 weight.
    """
    n = excitatory.size
    if n <= DENSE_DRAW_MAX_N:
        mask = rng.random((n, n)) < p         # mask[post, pre]
        np.fill_diagonal(mask, False)
        post, pre = np.nonzero(mask)
    else:
        k = rng.binomial(n - 1, p, size=n)
        post = np.repeat(np.arange(n), k)
        pre = rng.integers(0, n - 1, size=post.size)
        pre = pre + (pre >= post)             # skip self
    w_max = np.where(excitatory[pre], w_exc, -w_inh)
    weight = (w_max * rng.random(pre.size)).astype(np.float32)
    return pre.astype(np.int32), post.astype(np.int32), weight
